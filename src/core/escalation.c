/*
 * escalation.c: the escalation policy (../shared/spec/escalation.md, RCP
 * NEWS2 Chart 4, NHS England Martha's Rule 2024; decisions in
 * docs/escalation.md).
 *
 * Combines NEWS2, the AI risk, staff concern, Martha's Rule calls and a
 * doctor's revised escalation plan into one level with reasons, and runs the
 * per-patient alert state machine, observation schedule and daily question.
 *
 * Does not: read a clock, allocate, do I/O, store the Martha's Rule log or
 * the audit trail (the caller persists the actions and ack records it gets
 * back), or decide who is on the rota (it says the level and rota step).
 *
 * Invariants: sources combine by maximum; only an unexpired plan can change
 * the NEWS2-derived level and it changes nothing else; every new Martha's
 * Rule call produces its own alert; on error outputs are unchanged.
 */
#include "vigil/escalation.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "vigil/util.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))
#define MIN_MS (60 * 1000)

/* ------------------------------------------------------------------------ */
/* Names                                                                    */

static const char *const level_names[VIGIL_ESC_LEVEL_COUNT] = {
    "none", "ward", "urgent-ward", "urgent", "emergency",
};

static const char *const level_texts[VIGIL_ESC_LEVEL_COUNT] = {
    "routine monitoring",
    "registered nurse assesses",
    "registered nurse informs the medical team: urgent ward-based review",
    "urgent review by a clinician competent in acute illness",
    "emergency assessment by the critical-care outreach team",
};

const char *vigil_escalation_level_name(vigil_esc_level level)
{
    return (unsigned)level < VIGIL_ESC_LEVEL_COUNT ? level_names[level] : "?";
}

const char *vigil_escalation_level_text(vigil_esc_level level)
{
    return (unsigned)level < VIGIL_ESC_LEVEL_COUNT ? level_texts[level] : "?";
}

static const char *const reason_names[] = {
    [VIGIL_ESC_R_MARTHA] = "martha",
    [VIGIL_ESC_R_MARTHA_UNTRACKED] = "martha-untracked",
    [VIGIL_ESC_R_STAFF_CONCERN] = "staff-concern",
    [VIGIL_ESC_R_NEWS2] = "news2",
    [VIGIL_ESC_R_NEWS2_INCOMPLETE] = "news2-incomplete",
    [VIGIL_ESC_R_NEWS2_LAST_COMPLETE] = "news2-last-complete",
    [VIGIL_ESC_R_NEWS2_PARTIAL_PEAK] = "news2-partial-peak",
    [VIGIL_ESC_R_NEWS2_LATE] = "news2-late",
    [VIGIL_ESC_R_NEWS2_STALE] = "news2-stale",
    [VIGIL_ESC_R_NEWS2_ABSENT] = "news2-absent",
    [VIGIL_ESC_R_NEWS2_NOT_VALIDATED] = "news2-not-validated",
    [VIGIL_ESC_R_OBS_OVERDUE] = "obs-overdue",
    [VIGIL_ESC_R_PLAN_APPLIED] = "plan-applied",
    [VIGIL_ESC_R_PLAN_ABOVE_USUAL] = "plan-above-usual",
    [VIGIL_ESC_R_PLAN_NEEDS_COMPLETE_SET] = "plan-needs-complete-set",
    [VIGIL_ESC_R_PLAN_CONSCIOUSNESS] = "plan-consciousness",
    [VIGIL_ESC_R_PLAN_EXPIRED] = "plan-expired",
    [VIGIL_ESC_R_AI] = "ai",
    [VIGIL_ESC_R_AI_LOW_CONFIDENCE] = "ai-low-confidence",
    [VIGIL_ESC_R_AI_OPTED_OUT] = "ai-opted-out",
    [VIGIL_ESC_R_AI_ABSENT] = "ai-absent",
    [VIGIL_ESC_R_ALERT_UNACKED] = "alert-unacknowledged",
    [VIGIL_ESC_R_FEELS_WORSE] = "feels-worse",
    [VIGIL_ESC_R_FEELS_DUE] = "feels-question-due",
};
_Static_assert(N_OF(reason_names) == VIGIL_ESC_REASON_COUNT, "a reason has no name");

static const char *const reason_texts[] = {
    [VIGIL_ESC_R_MARTHA] = "a Martha's Rule call is open: critical-care outreach responds",
    [VIGIL_ESC_R_MARTHA_UNTRACKED] =
        ("a Martha's Rule call was alerted once but too many calls are open to repeat it: "
         "acknowledge the open calls"),
    [VIGIL_ESC_R_STAFF_CONCERN] =
        "a member of staff is worried about this patient: at least an urgent ward review",
    [VIGIL_ESC_R_NEWS2] = "the NEWS2 score of the latest observation set",
    [VIGIL_ESC_R_NEWS2_INCOMPLETE] =
        "the NEWS2 set is incomplete: its score is a lower bound; complete the set",
    [VIGIL_ESC_R_NEWS2_LAST_COMPLETE] =
        "the last complete NEWS2 set still applies: a newer partial set cannot lower it",
    [VIGIL_ESC_R_NEWS2_PARTIAL_PEAK] =
        "an earlier partial set since the last complete set scored higher: it still counts",
    [VIGIL_ESC_R_NEWS2_LATE] =
        "a set measured earlier arrived late: review it; newer complete observations stand",
    [VIGIL_ESC_R_NEWS2_STALE] = "the NEWS2 score is past its due time: stale, not current",
    [VIGIL_ESC_R_NEWS2_ABSENT] = "no NEWS2 observation set on record",
    [VIGIL_ESC_R_NEWS2_NOT_VALIDATED] =
        "NEWS2 is not validated for this patient (under 16 or pregnant): use clinical judgement",
    [VIGIL_ESC_R_OBS_OVERDUE] = "observations are overdue",
    [VIGIL_ESC_R_PLAN_APPLIED] = "a doctor's revised escalation plan sets the NEWS2 level",
    [VIGIL_ESC_R_PLAN_ABOVE_USUAL] =
        "NEWS2 is above the usual range in the revised escalation plan: the plan does not apply",
    [VIGIL_ESC_R_PLAN_NEEDS_COMPLETE_SET] =
        "the revised escalation plan applies only to a complete NEWS2 set",
    [VIGIL_ESC_R_PLAN_CONSCIOUSNESS] =
        "the revised escalation plan does not cover new confusion or reduced consciousness",
    [VIGIL_ESC_R_PLAN_EXPIRED] = "the revised escalation plan has expired: review it",
    [VIGIL_ESC_R_AI] = "the AI's calibrated risk of deterioration",
    [VIGIL_ESC_R_AI_LOW_CONFIDENCE] =
        "the AI is less sure than usual: this patient is outside the range it was trained on",
    [VIGIL_ESC_R_AI_OPTED_OUT] = "the patient opted out of AI scoring: NEWS2 and concerns only",
    [VIGIL_ESC_R_AI_ABSENT] = "no AI risk score",
    [VIGIL_ESC_R_ALERT_UNACKED] = "the alert has not been acknowledged",
    [VIGIL_ESC_R_FEELS_WORSE] = "the patient says they feel worse",
    [VIGIL_ESC_R_FEELS_DUE] = "ask the patient whether they feel better, the same or worse",
};
_Static_assert(N_OF(reason_texts) == VIGIL_ESC_REASON_COUNT, "a reason has no text");

const char *vigil_escalation_reason_name(vigil_esc_reason_code code)
{
    return (unsigned)code < VIGIL_ESC_REASON_COUNT ? reason_names[code] : "?";
}

const char *vigil_escalation_reason_text(vigil_esc_reason_code code)
{
    return (unsigned)code < VIGIL_ESC_REASON_COUNT ? reason_texts[code] : "?";
}

static const char *const action_names[VIGIL_ESC_ACT_KIND_COUNT] = {"alert", "realert", "close"};

const char *vigil_escalation_action_name(vigil_esc_action_kind kind)
{
    return (unsigned)kind < VIGIL_ESC_ACT_KIND_COUNT ? action_names[kind] : "?";
}

static const char *const ack_names[VIGIL_ESC_ACK_ACTION_COUNT] = {
    "none", "attending", "reviewed", "escalated", "declined",
};

const char *vigil_escalation_ack_action_name(vigil_esc_ack_action action)
{
    return (unsigned)action < VIGIL_ESC_ACK_ACTION_COUNT ? ack_names[action] : "?";
}

static const char *const caller_names[VIGIL_ESC_CALLER_COUNT] = {
    "patient",
    "family",
    "carer",
    "staff",
};

const char *vigil_escalation_caller_name(vigil_esc_caller caller)
{
    return (unsigned)caller < VIGIL_ESC_CALLER_COUNT ? caller_names[caller] : "?";
}

/* ------------------------------------------------------------------------ */
/* Configuration, init                                                      */

void vigil_escalation_config_init(vigil_escalation_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    for (int l = 0; l < VIGIL_ESC_LEVEL_COUNT; l++) {
        cfg->ai_threshold[l] = VIGIL_ESC_AI_OFF;
    }
    /* REQ ESC-REALERT: vigil defaults, set per site (docs/escalation.md) */
    cfg->realert_ms[VIGIL_ESC_WARD] = 60 * MIN_MS;
    cfg->realert_ms[VIGIL_ESC_URGENT_WARD] = 30 * MIN_MS;
    cfg->realert_ms[VIGIL_ESC_URGENT] = 15 * MIN_MS;
    cfg->realert_ms[VIGIL_ESC_EMERGENCY] = 5 * MIN_MS;
    cfg->rota_steps = 3;
    /* REQ ESC-OBS-DUE: RCP Chart 4 minimum monitoring frequency */
    cfg->obs_interval_ms[VIGIL_MON_12_HOURLY] = 12 * 60 * MIN_MS;
    cfg->obs_interval_ms[VIGIL_MON_4_6_HOURLY] = 4 * 60 * MIN_MS;
    cfg->obs_interval_ms[VIGIL_MON_HOURLY] = 60 * MIN_MS;
    cfg->obs_interval_ms[VIGIL_MON_CONTINUOUS] = 15 * MIN_MS;
    cfg->feels_interval_ms = 24 * 60 * MIN_MS;
}

static bool ai_threshold_active(double t)
{
    return t <= 1.0;
}

vigil_status vigil_escalation_config_check(const vigil_escalation_config *cfg, vigil_err *err)
{
    if (cfg == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, NULL, "no escalation config given");
    }
    double prev = 0.0;
    for (int l = VIGIL_ESC_WARD; l < VIGIL_ESC_LEVEL_COUNT; l++) {
        double t = cfg->ai_threshold[l];
        if (isnan(t) || t <= 0.0) {
            return vigil_err_set(err, VIGIL_ERR_ARG, "ai_threshold",
                                 "AI threshold for %s is %g: use (0, 1], or > 1 for off",
                                 level_names[l], t);
        }
        if (!ai_threshold_active(t)) {
            continue;
        }
        if (t < prev) {
            return vigil_err_set(err, VIGIL_ERR_ARG, "ai_threshold",
                                 "AI threshold for %s (%g) is below a lower level's (%g)",
                                 level_names[l], t, prev);
        }
        prev = t;
    }
    for (int l = VIGIL_ESC_WARD; l < VIGIL_ESC_LEVEL_COUNT; l++) {
        if (cfg->realert_ms[l] <= 0) {
            return vigil_err_set(err, VIGIL_ERR_ARG, "realert_ms",
                                 "repeat interval for %s must be > 0 ms", level_names[l]);
        }
    }
    if (cfg->rota_steps < 1 || cfg->rota_steps > 16) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "rota_steps", "rota_steps %u is not 1-16",
                             cfg->rota_steps);
    }
    for (int m = 0; m < VIGIL_MON_COUNT; m++) {
        if (cfg->obs_interval_ms[m] <= 0) {
            return vigil_err_set(err, VIGIL_ERR_ARG, "obs_interval_ms",
                                 "observation interval for %s must be > 0 ms",
                                 vigil_news2_monitoring_name((vigil_news2_monitoring)m));
        }
        if (m > 0 && cfg->obs_interval_ms[m] > cfg->obs_interval_ms[m - 1]) {
            return vigil_err_set(err, VIGIL_ERR_ARG, "obs_interval_ms",
                                 "observation interval for %s is longer than for %s",
                                 vigil_news2_monitoring_name((vigil_news2_monitoring)m),
                                 vigil_news2_monitoring_name((vigil_news2_monitoring)(m - 1)));
        }
    }
    if (cfg->feels_interval_ms <= 0) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "feels_interval_ms",
                             "feels_interval_ms must be > 0 ms");
    }
    return VIGIL_OK;
}

void vigil_escalation_inputs_init(vigil_escalation_inputs *in)
{
    memset(in, 0, sizeof *in);
    in->has_news2 = false;
    in->ai_status = VIGIL_ESC_AI_NONE;
    in->ai_risk = NAN;
    in->plan.present = false;
    in->feels = VIGIL_ESC_FEELS_UNKNOWN;
}

void vigil_escalation_state_init(vigil_escalation_state *st)
{
    memset(st, 0, sizeof *st);
    st->next_alert_id = 1;
}

/* A caller-filled text field: NUL-terminated inside its buffer, not blank. */
static bool text_ok(const char *s, size_t cap)
{
    return memchr(s, '\0', cap) != NULL && !vigil_str_blank(s);
}

vigil_status vigil_escalation_plan_check(const vigil_esc_plan *plan, vigil_err *err)
{
    if (plan == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "plan", "no plan given");
    }
    if (!text_ok(plan->by, sizeof plan->by)) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "plan.by",
                             "a revised escalation plan needs the doctor who recorded it");
    }
    if (!text_ok(plan->reason, sizeof plan->reason)) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "plan.reason",
                             "a revised escalation plan needs a reason");
    }
    if ((unsigned)plan->level >= VIGIL_ESC_LEVEL_COUNT) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "plan.level", "plan level %d is not a level",
                             (int)plan->level);
    }
    if (plan->news2_usual_max < 0 || plan->news2_usual_max > 20) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "plan.news2_usual_max",
                             "plan usual NEWS2 maximum %d is not 0-20", plan->news2_usual_max);
    }
    /* REQ ESC-PLAN-EXPIRES: every plan has a review time after it was made */
    if (plan->expires_ms <= plan->recorded_ms) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "plan.expires_ms",
                             "a revised escalation plan must expire after it was recorded");
    }
    return VIGIL_OK;
}

/* ------------------------------------------------------------------------ */
/* Level mapping                                                            */

vigil_esc_level vigil_escalation_level_from_news2(const vigil_news2 *news2)
{
    /* REQ ESC-NEWS2-MAP: RCP Chart 2 bands; the aggregate bands win over a
     * single 3 (REQ NEWS2-PRECEDENCE). */
    if (news2->total >= 7) {
        return VIGIL_ESC_EMERGENCY;
    }
    if (news2->total >= 5) {
        return VIGIL_ESC_URGENT;
    }
    if (news2->single_param_3) {
        return VIGIL_ESC_URGENT_WARD;
    }
    if (news2->total >= 1) {
        return VIGIL_ESC_WARD;
    }
    return VIGIL_ESC_NONE;
}

vigil_esc_level vigil_escalation_level_from_ai(const vigil_escalation_config *cfg, double p)
{
    /* REQ ESC-AI-THRESHOLDS */
    if (!isfinite(p)) {
        return VIGIL_ESC_NONE;
    }
    for (int l = VIGIL_ESC_LEVEL_COUNT - 1; l > VIGIL_ESC_NONE; l--) {
        double t = cfg->ai_threshold[l];
        if (ai_threshold_active(t) && p >= t) {
            return (vigil_esc_level)l;
        }
    }
    return VIGIL_ESC_NONE;
}

int64_t vigil_escalation_obs_interval_ms(const vigil_escalation_config *cfg,
                                         vigil_news2_monitoring mon)
{
    return (unsigned)mon < VIGIL_MON_COUNT ? cfg->obs_interval_ms[mon] : 0;
}

/* ------------------------------------------------------------------------ */
/* Time helpers: saturating, so no timestamp can overflow                   */

static int64_t add_ms(int64_t t, int64_t d)
{
    if (d > 0 && t > INT64_MAX - d) {
        return INT64_MAX;
    }
    return t + d;
}

/* now is at least d after then (d > 0). */
static bool elapsed_at_least(int64_t now, int64_t then, int64_t d)
{
    if (now < then) {
        return false;
    }
    return (uint64_t)now - (uint64_t)then >= (uint64_t)d;
}

/* Whole minutes from then to now (now >= then), clamped to int. */
static int minutes_between(int64_t then, int64_t now)
{
    uint64_t m = ((uint64_t)now - (uint64_t)then) / (uint64_t)MIN_MS;
    return m > (uint64_t)INT_MAX ? INT_MAX : (int)m;
}

static vigil_esc_level max_level(vigil_esc_level a, vigil_esc_level b)
{
    return a > b ? a : b;
}

/* ------------------------------------------------------------------------ */
/* Validation                                                               */

static vigil_status check_news2(bool has, const vigil_news2 *n, const char *field, vigil_err *err)
{
    if (has &&
        (n->total < 0 || n->total > 20 || (unsigned)n->monitoring >= VIGIL_MON_COUNT ||
         n->sub[VIGIL_NEWS2_ACVPU] < VIGIL_NEWS2_SUB_MISSING || n->sub[VIGIL_NEWS2_ACVPU] > 3)) {
        return vigil_err_set(err, VIGIL_ERR_ARG, field,
                             "NEWS2 result is not one vigil_news2_score made (total %d)", n->total);
    }
    return VIGIL_OK;
}

static vigil_status check_inputs(const vigil_escalation_inputs *in, vigil_err *err)
{
    vigil_status st = check_news2(in->has_news2, &in->news2, "news2", err);
    if (st == VIGIL_OK) {
        st = check_news2(in->has_news2_complete, &in->news2_complete, "news2_complete", err);
    }
    if (st == VIGIL_OK && in->has_news2_complete && !in->news2_complete.complete) {
        st = vigil_err_set(err, VIGIL_ERR_ARG, "news2_complete", "the set is not complete");
    }
    if (st == VIGIL_OK) {
        st = check_news2(in->has_news2_partial_peak, &in->news2_partial_peak, "news2_partial_peak",
                         err);
    }
    if (st == VIGIL_OK) {
        st = check_news2(in->has_news2_late, &in->news2_late, "news2_late", err);
    }
    if (st != VIGIL_OK) {
        return st;
    }
    if ((unsigned)in->ai_status >= VIGIL_ESC_AI_STATUS_COUNT) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "ai_status", "AI status %d is not known",
                             (int)in->ai_status);
    }
    if (in->ai_status != VIGIL_ESC_AI_NONE &&
        !(isfinite(in->ai_risk) && in->ai_risk >= 0.0 && in->ai_risk <= 1.0)) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "ai_risk",
                             "AI risk %g is not a probability in [0, 1]", in->ai_risk);
    }
    if (in->n_martha > VIGIL_ESC_MARTHA_MAX) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "martha", "%zu Martha's Rule calls given, max %d",
                             in->n_martha, VIGIL_ESC_MARTHA_MAX);
    }
    for (size_t i = 0; i < in->n_martha; i++) {
        if (in->martha[i].seq <= 0 || (unsigned)in->martha[i].caller >= VIGIL_ESC_CALLER_COUNT) {
            return vigil_err_set(err, VIGIL_ERR_ARG, "martha",
                                 "Martha's Rule call %zu needs seq > 0 and a known caller", i);
        }
    }
    if (in->plan.present) {
        vigil_status ps = vigil_escalation_plan_check(&in->plan, err);
        if (ps != VIGIL_OK) {
            return ps;
        }
    }
    if ((unsigned)in->feels >= VIGIL_ESC_FEELS_COUNT) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "feels", "answer %d is not better/same/worse",
                             (int)in->feels);
    }
    return VIGIL_OK;
}

static vigil_status check_state(const vigil_escalation_state *st, vigil_err *err)
{
    if (st->next_alert_id == 0 || st->n_martha > VIGIL_ESC_MARTHA_MAX ||
        (st->episode_open && (unsigned)st->episode.level >= VIGIL_ESC_LEVEL_COUNT) ||
        (st->has_complete_set && (unsigned)st->complete_monitoring >= VIGIL_MON_COUNT)) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "state",
                             "escalation state not initialised (vigil_escalation_state_init)");
    }
    return VIGIL_OK;
}

/* ------------------------------------------------------------------------ */
/* Reasons                                                                  */

/* A reason under construction: eff marks a source whose level counts
 * (so it may drive the final level). */
typedef struct reason_buf {
    vigil_esc_reason r[VIGIL_ESC_REASON_COUNT];
    bool eff[VIGIL_ESC_REASON_COUNT];
    size_t n;
} reason_buf;

static void add_reason(reason_buf *b, vigil_esc_reason_code code, vigil_esc_level level, bool eff,
                       int value, int value2)
{
    /* each code at most once, so the buffer cannot overflow */
    for (size_t i = 0; i < b->n; i++) {
        if (b->r[i].code == code) {
            return;
        }
    }
    vigil_esc_reason *r = &b->r[b->n];
    r->code = code;
    r->level = level;
    r->drives = false;
    r->value = value;
    r->value2 = value2;
    b->eff[b->n] = eff;
    b->n++;
}

/* Drivers first, then by level (highest first), then by code: the UI can
 * read the list top-down as "why". */
static bool reason_before(const vigil_esc_reason *a, const vigil_esc_reason *b)
{
    if (a->drives != b->drives) {
        return a->drives;
    }
    if (a->level != b->level) {
        return a->level > b->level;
    }
    return a->code < b->code;
}

static void finish_reasons(reason_buf *b, vigil_esc_level final, vigil_escalation_result *res)
{
    /* REQ ESC-REASONS */
    for (size_t i = 0; i < b->n; i++) {
        b->r[i].drives = b->eff[i] && final > VIGIL_ESC_NONE && b->r[i].level == final;
    }
    for (size_t i = 1; i < b->n; i++) {
        vigil_esc_reason x = b->r[i];
        size_t j = i;
        while (j > 0 && reason_before(&x, &b->r[j - 1])) {
            b->r[j] = b->r[j - 1];
            j--;
        }
        b->r[j] = x;
    }
    memcpy(res->reasons, b->r, b->n * sizeof b->r[0]);
    res->n_reasons = b->n;
}

/* ------------------------------------------------------------------------ */
/* Sources                                                                  */

/* Whole minutes from then to now, 0 when then is not before now. */
static int minutes_before(int64_t then, int64_t now)
{
    return then < now ? minutes_between(then, now) : 0;
}

/* The plan on a complete set n whose NEWS2-alone level is raw: when it
 * applies, *used becomes the plan's level. Adds the plan's reasons. */
static bool plan_on(const vigil_esc_plan *p, const vigil_news2 *n, vigil_esc_level raw,
                    vigil_esc_level *used, vigil_escalation_result *res, reason_buf *rb)
{
    if (n->sub[VIGIL_NEWS2_ACVPU] == 3) {
        /* REQ ESC-PLAN-NOT-CONSCIOUSNESS: new confusion is never usual */
        add_reason(rb, VIGIL_ESC_R_PLAN_CONSCIOUSNESS, VIGIL_ESC_NONE, false, 0, 0);
        return false;
    }
    if (n->total > p->news2_usual_max) {
        add_reason(rb, VIGIL_ESC_R_PLAN_ABOVE_USUAL, VIGIL_ESC_NONE, false, n->total,
                   p->news2_usual_max);
        return false;
    }
    /* REQ ESC-PLAN REQ ESC-PLAN-NEVER-OVERRIDES-CONCERN: replaces the
     * NEWS2-derived level only; concerns and the AI are separate terms */
    *used = p->level;
    res->plan_applied = true;
    add_reason(rb, VIGIL_ESC_R_PLAN_APPLIED, p->level, true, (int)raw, 0);
    return true;
}

/* An incomplete latest set: its lower bound counts as charted (no plan:
 * REQ ESC-PLAN-COMPLETE-ONLY), and so do the earlier sets it cannot
 * overrule (REQ ESC-PARTIAL-NEVER-LOWERS): the last complete set (with the
 * plan, if it applies to that set) and the highest partial set since. */
static vigil_esc_level news2_partial(const vigil_escalation_inputs *in, bool plan_in_force,
                                     vigil_escalation_result *res, reason_buf *rb)
{
    const vigil_news2 *n = &in->news2;
    vigil_esc_level used = res->news2_level;
    add_reason(rb, VIGIL_ESC_R_NEWS2, used, true, n->total, n->single_param_3 ? 1 : 0);
    if (in->has_news2_partial_peak) {
        const vigil_news2 *k = &in->news2_partial_peak;
        vigil_esc_level kl = vigil_escalation_level_from_news2(k);
        bool is_latest = in->news2_partial_peak_t_ms == in->news2_t_ms && k->total == n->total &&
                         kl == res->news2_level;
        res->news2_level = max_level(res->news2_level, kl);
        used = max_level(used, kl);
        if (!is_latest) { /* the same set as the latest says nothing new */
            add_reason(rb, VIGIL_ESC_R_NEWS2_PARTIAL_PEAK, kl, true, k->total,
                       minutes_before(in->news2_partial_peak_t_ms, in->news2_t_ms));
        }
    }
    if (in->has_news2_complete) {
        const vigil_news2 *c = &in->news2_complete;
        vigil_esc_level cl = vigil_escalation_level_from_news2(c);
        vigil_esc_level cu = cl;
        bool applied = plan_in_force && plan_on(&in->plan, c, cl, &cu, res, rb);
        res->news2_level = max_level(res->news2_level, cl);
        used = max_level(used, cu);
        add_reason(rb, VIGIL_ESC_R_NEWS2_LAST_COMPLETE, cl, !applied, c->total,
                   minutes_before(in->news2_complete_t_ms, in->news2_t_ms));
    } else if (plan_in_force) {
        add_reason(rb, VIGIL_ESC_R_PLAN_NEEDS_COMPLETE_SET, VIGIL_ESC_NONE, false, 0, 0);
    }
    return used;
}

/* NEWS2 and the plan: sets the NEWS2 source level (after any plan). */
static void assess_news2(const vigil_escalation_inputs *in, int64_t now_ms,
                         vigil_escalation_result *res, reason_buf *rb)
{
    const vigil_esc_plan *p = &in->plan;
    /* REQ ESC-PLAN-EXPIRES: in force strictly before expires_ms */
    bool plan_in_force = p->present && now_ms < p->expires_ms;
    if (p->present && !plan_in_force) {
        add_reason(rb, VIGIL_ESC_R_PLAN_EXPIRED, VIGIL_ESC_NONE, false,
                   minutes_between(p->expires_ms, now_ms), 0);
    }
    if (!in->has_news2) {
        res->news2_level = VIGIL_ESC_NONE;
        res->source_level[VIGIL_ESC_SRC_NEWS2] = VIGIL_ESC_NONE;
        add_reason(rb, VIGIL_ESC_R_NEWS2_ABSENT, VIGIL_ESC_NONE, false, 0, 0);
        return;
    }
    const vigil_news2 *n = &in->news2;
    /* REQ ESC-NEWS2-INCOMPLETE: an incomplete set counts at its lower bound */
    vigil_esc_level raw = vigil_escalation_level_from_news2(n);
    res->news2_level = raw;
    vigil_esc_level used = raw;
    if (n->flags & (VIGIL_NEWS2_FLAG_UNDER_16 | VIGIL_NEWS2_FLAG_PREGNANT)) {
        add_reason(rb, VIGIL_ESC_R_NEWS2_NOT_VALIDATED, VIGIL_ESC_NONE, false, (int)n->flags, 0);
    }
    if (in->has_news2_late) {
        /* REQ ESC-LATE-SET: shown with its own level, never filed unseen */
        add_reason(rb, VIGIL_ESC_R_NEWS2_LATE, vigil_escalation_level_from_news2(&in->news2_late),
                   false, in->news2_late.total,
                   minutes_before(in->news2_late_t_ms, in->news2_t_ms));
    }
    if (!n->complete) {
        res->news2_incomplete = true;
        add_reason(rb, VIGIL_ESC_R_NEWS2_INCOMPLETE, VIGIL_ESC_NONE, false, (int)n->missing,
                   n->total);
        res->source_level[VIGIL_ESC_SRC_NEWS2] = news2_partial(in, plan_in_force, res, rb);
        return;
    }
    bool plan_applies = plan_in_force && plan_on(p, n, raw, &used, res, rb);
    add_reason(rb, VIGIL_ESC_R_NEWS2, raw, !plan_applies, n->total, n->single_param_3 ? 1 : 0);
    res->source_level[VIGIL_ESC_SRC_NEWS2] = used;
}

static void assess_ai(const vigil_escalation_config *cfg, const vigil_escalation_inputs *in,
                      vigil_escalation_result *res, reason_buf *rb)
{
    res->source_level[VIGIL_ESC_SRC_AI] = VIGIL_ESC_NONE;
    if (in->ai_opted_out) {
        /* REQ ESC-OPTOUT: the AI input is removed, and the opt-out shown */
        res->ai_opted_out = true;
        add_reason(rb, VIGIL_ESC_R_AI_OPTED_OUT, VIGIL_ESC_NONE, false, 0, 0);
        return;
    }
    if (in->ai_status == VIGIL_ESC_AI_NONE) {
        add_reason(rb, VIGIL_ESC_R_AI_ABSENT, VIGIL_ESC_NONE, false, 0, 0);
        return;
    }
    /* REQ ESC-AI-NEVER-LOWERS: the AI is one more source under the maximum */
    vigil_esc_level l = vigil_escalation_level_from_ai(cfg, in->ai_risk);
    res->source_level[VIGIL_ESC_SRC_AI] = l;
    res->ai_used = true;
    add_reason(rb, VIGIL_ESC_R_AI, l, true, (int)floor(in->ai_risk * 1000.0 + 0.5), 0);
    if (in->ai_status == VIGIL_ESC_AI_LOW_CONFIDENCE) {
        /* REQ ESC-AI-LOW-CONFIDENCE: still counts (it can only raise), shown */
        res->ai_low_confidence = true;
        add_reason(rb, VIGIL_ESC_R_AI_LOW_CONFIDENCE, VIGIL_ESC_NONE, false, 0, 0);
    }
}

/* ------------------------------------------------------------------------ */
/* Alerts                                                                   */

static void push_action(vigil_escalation_result *res, vigil_esc_action_kind kind,
                        const vigil_esc_alert *a, bool superseded, bool untracked)
{
    vigil_esc_action *x = &res->actions[res->n_actions++];
    x->kind = kind;
    x->alert_id = a->id;
    x->alert_kind = a->kind;
    x->level = a->level;
    x->rota_step = a->rota_step;
    x->n_sent = a->n_sent;
    x->martha_seq = a->martha_seq;
    x->superseded = superseded;
    x->untracked = untracked;
}

static void new_alert(vigil_escalation_state *s, vigil_esc_alert *a, vigil_esc_alert_kind kind,
                      vigil_esc_level level, int64_t now_ms)
{
    memset(a, 0, sizeof *a);
    a->id = s->next_alert_id++;
    a->kind = kind;
    a->level = level;
    a->opened_ms = now_ms;
    a->last_sent_ms = now_ms;
    a->n_sent = 1;
    a->rota_step = 0;
    a->ack.action = VIGIL_ESC_ACK_NONE;
}

/* Repeat an unacknowledged alert once its interval has passed, one step up
 * the rota (REQ ESC-REALERT, REQ ESC-ROTA). */
static void maybe_realert(const vigil_escalation_config *cfg, vigil_esc_alert *a, int64_t now_ms,
                          vigil_escalation_result *res)
{
    if (a->ack.action != VIGIL_ESC_ACK_NONE ||
        !elapsed_at_least(now_ms, a->last_sent_ms, cfg->realert_ms[a->level])) {
        return;
    }
    a->last_sent_ms = now_ms;
    a->n_sent++;
    if (a->rota_step + 1 < cfg->rota_steps) {
        a->rota_step++;
    }
    push_action(res, VIGIL_ESC_ACT_REALERT, a, false, false);
}

/* Each new Martha's Rule call gets its own alert, in seq order; repeats
 * for open calls. Returns how many new calls could not be tracked. */
static int step_martha(const vigil_escalation_config *cfg, vigil_escalation_state *s,
                       const vigil_escalation_inputs *in, int64_t now_ms,
                       vigil_escalation_result *res)
{
    /* REQ ESC-MARTHA REQ ESC-MARTHA-NOT-MERGED: never suppressed, never merged */
    size_t n_before = s->n_martha;
    int64_t seen = s->martha_last_seq;
    int untracked = 0;
    for (;;) {
        /* the smallest unseen seq: handles unsorted input and duplicates */
        const vigil_esc_martha_call *next = NULL;
        for (size_t i = 0; i < in->n_martha; i++) {
            const vigil_esc_martha_call *c = &in->martha[i];
            if (c->seq > seen && (next == NULL || c->seq < next->seq)) {
                next = c;
            }
        }
        if (next == NULL) {
            break;
        }
        seen = next->seq;
        vigil_esc_alert a;
        new_alert(s, &a, VIGIL_ESC_ALERT_MARTHA, VIGIL_ESC_EMERGENCY, now_ms);
        a.martha_seq = next->seq;
        a.caller = next->caller;
        bool tracked = s->n_martha < VIGIL_ESC_MARTHA_MAX;
        if (tracked) {
            s->martha[s->n_martha++] = a;
        } else {
            untracked++;
        }
        push_action(res, VIGIL_ESC_ACT_ALERT, &a, false, !tracked);
    }
    s->martha_last_seq = seen;
    for (size_t i = 0; i < n_before; i++) {
        maybe_realert(cfg, &s->martha[i], now_ms, res);
    }
    return untracked;
}

/* The episode machine (REQ ESC-EPISODE, REQ ESC-EPISODE-CLOSE). */
static void step_episode(const vigil_escalation_config *cfg, vigil_escalation_state *s,
                         const vigil_escalation_inputs *in, vigil_esc_level level, int64_t now_ms,
                         vigil_escalation_result *res)
{
    if (s->episode_open && level > s->episode.level) {
        /* a higher level: the old episode is superseded by a new one */
        push_action(res, VIGIL_ESC_ACT_CLOSE, &s->episode, true, false);
        s->episode_open = false;
    }
    if (!s->episode_open) {
        if (level > VIGIL_ESC_NONE) {
            new_alert(s, &s->episode, VIGIL_ESC_ALERT_EPISODE, level, now_ms);
            s->episode_open = true;
            s->n_episodes++;
            push_action(res, VIGIL_ESC_ACT_ALERT, &s->episode, false, false);
        }
        return;
    }
    bool acked = s->episode.ack.action != VIGIL_ESC_ACK_NONE;
    bool lower_bound_only = in->has_news2 && !in->news2.complete;
    if (level == VIGIL_ESC_NONE && acked && !lower_bound_only) {
        push_action(res, VIGIL_ESC_ACT_CLOSE, &s->episode, false, false);
        s->episode_open = false;
        return;
    }
    maybe_realert(cfg, &s->episode, now_ms, res);
}

/* ------------------------------------------------------------------------ */
/* Observation schedule and the daily question                              */

static void step_schedule(const vigil_escalation_config *cfg, vigil_escalation_state *s,
                          const vigil_escalation_inputs *in, int64_t now_ms,
                          vigil_escalation_result *res, reason_buf *rb)
{
    const vigil_news2 *n = &in->news2;
    if (in->has_news2 && n->complete &&
        (!s->has_complete_set || in->news2_t_ms >= s->complete_t_ms)) {
        s->has_complete_set = true;
        s->complete_t_ms = in->news2_t_ms;
        s->complete_monitoring = n->monitoring;
    }
    if (in->has_news2 && !n->complete && in->has_news2_complete &&
        (!s->has_complete_set || in->news2_complete_t_ms > s->complete_t_ms)) {
        /* the caller's record of the latest complete set (e.g. after a restart) */
        s->has_complete_set = true;
        s->complete_t_ms = in->news2_complete_t_ms;
        s->complete_monitoring = in->news2_complete.monitoring;
    }
    /* REQ ESC-OBS-DUE: the latest complete set sets the clock */
    if (s->has_complete_set) {
        res->has_obs_due = true;
        res->obs_due_ms = add_ms(s->complete_t_ms, cfg->obs_interval_ms[s->complete_monitoring]);
    }
    if (in->has_news2 && !n->complete &&
        (!s->has_complete_set || in->news2_t_ms > s->complete_t_ms)) {
        /* a newer incomplete set never postpones the due time; it can bring
         * it forward; with no complete set on record the set is due now */
        int64_t due = s->has_complete_set
                          ? add_ms(in->news2_t_ms, cfg->obs_interval_ms[n->monitoring])
                          : in->news2_t_ms;
        if (!res->has_obs_due || due < res->obs_due_ms) {
            res->obs_due_ms = due;
        }
        res->has_obs_due = true;
    }
    /* REQ ESC-OBS-OVERDUE: overdue strictly after the due time */
    if (res->has_obs_due && now_ms > res->obs_due_ms) {
        res->obs_overdue = true;
        add_reason(rb, VIGIL_ESC_R_OBS_OVERDUE, VIGIL_ESC_NONE, false,
                   minutes_between(res->obs_due_ms, now_ms), 0);
    }
    /* REQ ESC-STALE: the shown score is stale after its own due time */
    if (in->has_news2) {
        int64_t own_due = add_ms(in->news2_t_ms, cfg->obs_interval_ms[n->monitoring]);
        if (now_ms > own_due) {
            res->news2_stale = true;
            add_reason(rb, VIGIL_ESC_R_NEWS2_STALE, VIGIL_ESC_NONE, false,
                       minutes_between(own_due, now_ms), 0);
        }
    }
}

static void step_feels(const vigil_escalation_config *cfg, const vigil_escalation_inputs *in,
                       int64_t now_ms, vigil_escalation_result *res, reason_buf *rb)
{
    /* REQ ESC-FEELS-WORSE: on the ward list; the level is not changed */
    if (in->feels == VIGIL_ESC_FEELS_WORSE) {
        res->ward_list_worse = true;
        add_reason(rb, VIGIL_ESC_R_FEELS_WORSE, VIGIL_ESC_NONE, false, 0, 0);
    }
    /* REQ ESC-FEELS-DUE: asked at least daily */
    if (in->feels == VIGIL_ESC_FEELS_UNKNOWN ||
        now_ms > add_ms(in->feels_t_ms, cfg->feels_interval_ms)) {
        res->feels_due = true;
        add_reason(rb, VIGIL_ESC_R_FEELS_DUE, VIGIL_ESC_NONE, false, 0, 0);
    }
}

/* ------------------------------------------------------------------------ */
/* Step and acknowledge                                                     */

vigil_status vigil_escalation_step(const vigil_escalation_config *cfg,
                                   const vigil_escalation_state *in,
                                   const vigil_escalation_inputs *inputs, int64_t now_ms,
                                   vigil_escalation_state *out, vigil_escalation_result *res,
                                   vigil_err *err)
{
    if (cfg == NULL || in == NULL || inputs == NULL || out == NULL || res == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, NULL, "vigil_escalation_step: NULL argument");
    }
    vigil_status st = vigil_escalation_config_check(cfg, err);
    if (st == VIGIL_OK) {
        st = check_state(in, err);
    }
    if (st == VIGIL_OK) {
        st = check_inputs(inputs, err);
    }
    if (st != VIGIL_OK) {
        return st;
    }

    vigil_escalation_state s = *in;
    vigil_escalation_result r;
    memset(&r, 0, sizeof r);
    reason_buf rb;
    memset(&rb, 0, sizeof rb);

    int untracked = step_martha(cfg, &s, inputs, now_ms, &r);
    assess_news2(inputs, now_ms, &r, &rb);
    assess_ai(cfg, inputs, &r, &rb);
    if (inputs->staff_concern) {
        /* REQ ESC-CONCERN: at least urgent-ward, whatever the scores */
        r.source_level[VIGIL_ESC_SRC_STAFF_CONCERN] = VIGIL_ESC_URGENT_WARD;
        add_reason(&rb, VIGIL_ESC_R_STAFF_CONCERN, VIGIL_ESC_URGENT_WARD, true, 0, 0);
    }
    r.n_martha_open = s.n_martha;
    if (s.n_martha > 0) {
        r.source_level[VIGIL_ESC_SRC_MARTHA] = VIGIL_ESC_EMERGENCY;
        add_reason(&rb, VIGIL_ESC_R_MARTHA, VIGIL_ESC_EMERGENCY, true, (int)s.n_martha, 0);
    }
    if (untracked > 0) {
        add_reason(&rb, VIGIL_ESC_R_MARTHA_UNTRACKED, VIGIL_ESC_NONE, false, untracked, 0);
    }

    /* REQ ESC-MAX: combined by maximum. Martha's Rule calls have their own
     * alerts, so episodes follow the other sources only. */
    r.clinical_level = max_level(
        r.source_level[VIGIL_ESC_SRC_NEWS2],
        max_level(r.source_level[VIGIL_ESC_SRC_AI], r.source_level[VIGIL_ESC_SRC_STAFF_CONCERN]));
    r.level = max_level(r.clinical_level, r.source_level[VIGIL_ESC_SRC_MARTHA]);

    step_episode(cfg, &s, inputs, r.clinical_level, now_ms, &r);
    if (s.episode_open && s.episode.ack.action == VIGIL_ESC_ACK_NONE) {
        add_reason(&rb, VIGIL_ESC_R_ALERT_UNACKED, VIGIL_ESC_NONE, false, (int)s.episode.n_sent,
                   (int)s.episode.rota_step);
    }
    step_schedule(cfg, &s, inputs, now_ms, &r, &rb);
    step_feels(cfg, inputs, now_ms, &r, &rb);
    finish_reasons(&rb, r.level, &r);

    *out = s;
    *res = r;
    return VIGIL_OK;
}

vigil_status vigil_escalation_ack(const vigil_escalation_state *in, const vigil_esc_ack *ack,
                                  int64_t now_ms, vigil_escalation_state *out,
                                  vigil_esc_ack *out_record, vigil_err *err)
{
    if (in == NULL || ack == NULL || out == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, NULL, "vigil_escalation_ack: NULL argument");
    }
    vigil_status st = check_state(in, err);
    if (st != VIGIL_OK) {
        return st;
    }
    /* REQ ESC-ACK: who, when, what they did */
    if (!text_ok(ack->by, sizeof ack->by)) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "by", "an acknowledgement needs who made it");
    }
    if (ack->action == VIGIL_ESC_ACK_NONE || (unsigned)ack->action >= VIGIL_ESC_ACK_ACTION_COUNT) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "action",
                             "an acknowledgement needs what was done (action %d)",
                             (int)ack->action);
    }
    bool has_reason = memchr(ack->reason, '\0', sizeof ack->reason) != NULL;
    if (!has_reason) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "reason", "reason is not NUL-terminated");
    }
    /* REQ ESC-ACK-DECLINE-REASON */
    if (ack->action == VIGIL_ESC_ACK_DECLINED && vigil_str_blank(ack->reason)) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "reason", "declining to escalate needs a reason");
    }
    vigil_escalation_state s = *in;
    vigil_esc_alert *target = NULL;
    size_t martha_i = 0;
    if (s.episode_open && s.episode.id == ack->alert_id) {
        target = &s.episode;
    }
    for (size_t i = 0; target == NULL && i < s.n_martha; i++) {
        if (s.martha[i].id == ack->alert_id) {
            target = &s.martha[i];
            martha_i = i;
        }
    }
    if (target == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOT_FOUND, "alert_id",
                             "no open alert %llu for this patient",
                             (unsigned long long)ack->alert_id);
    }
    if (target->ack.action != VIGIL_ESC_ACK_NONE) {
        return vigil_err_set(err, VIGIL_ERR_CONFLICT, "alert_id",
                             "alert %llu was already acknowledged by %s",
                             (unsigned long long)ack->alert_id, target->ack.by);
    }
    target->ack = *ack;
    target->ack.at_ms = now_ms;
    vigil_esc_ack record = target->ack;
    if (target->kind == VIGIL_ESC_ALERT_MARTHA) {
        /* an answered call leaves the open list; the caller logs the record */
        memmove(&s.martha[martha_i], &s.martha[martha_i + 1],
                (s.n_martha - martha_i - 1) * sizeof s.martha[0]);
        s.n_martha--;
    }
    *out = s;
    if (out_record != NULL) {
        *out_record = record;
    }
    return VIGIL_OK;
}

/* ------------------------------------------------------------------------ */
/* Describing a reason                                                      */

static size_t fmt_done(int n)
{
    return n < 0 ? 0 : (size_t)n;
}

/* "rr, spo2" for a missing-parameter mask. */
static void missing_list(unsigned mask, char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        if (!(mask & (1u << p)) || used >= cap) {
            continue;
        }
        int n = snprintf(buf + used, cap - used, "%s%s", used > 0 ? ", " : "",
                         vigil_news2_param_name((vigil_news2_param)p));
        used += fmt_done(n);
    }
}

size_t vigil_escalation_reason_describe(const vigil_esc_reason *r, char *buf, size_t cap)
{
    char tmp[64];
    const char *lt = vigil_escalation_level_text(r->level);
    switch (r->code) {
    case VIGIL_ESC_R_MARTHA:
        return fmt_done(snprintf(buf, cap, "%d Martha's Rule call(s) open: %s", r->value, lt));
    case VIGIL_ESC_R_MARTHA_UNTRACKED:
        return fmt_done(snprintf(buf, cap,
                                 "%d Martha's Rule call(s) alerted once but not repeated: "
                                 "too many calls open; acknowledge the open calls",
                                 r->value));
    case VIGIL_ESC_R_NEWS2:
        return fmt_done(snprintf(buf, cap, "NEWS2 %d%s: %s", r->value,
                                 r->value2 ? " (a single parameter scored 3)" : "", lt));
    case VIGIL_ESC_R_NEWS2_INCOMPLETE:
        missing_list((unsigned)r->value, tmp, sizeof tmp);
        return fmt_done(snprintf(buf, cap,
                                 "NEWS2 set incomplete (missing %s): %d is a lower bound; "
                                 "complete the set",
                                 tmp, r->value2));
    case VIGIL_ESC_R_NEWS2_LAST_COMPLETE:
        return fmt_done(snprintf(buf, cap,
                                 "NEWS2 %d from the last complete set (%d min before the latest "
                                 "set) still applies: %s; a partial set cannot lower it",
                                 r->value, r->value2, lt));
    case VIGIL_ESC_R_NEWS2_PARTIAL_PEAK:
        return fmt_done(snprintf(buf, cap,
                                 "NEWS2 at least %d in a partial set %d min before the latest "
                                 "set still counts: %s; complete the set",
                                 r->value, r->value2, lt));
    case VIGIL_ESC_R_NEWS2_LATE:
        return fmt_done(snprintf(buf, cap,
                                 "a set measured %d min before the latest arrived late (NEWS2 "
                                 "%d, %s): review it; newer complete observations stand",
                                 r->value2, r->value, lt));
    case VIGIL_ESC_R_NEWS2_STALE:
        return fmt_done(snprintf(
            buf, cap, "NEWS2 score is %d min past its due time: stale, not current", r->value));
    case VIGIL_ESC_R_OBS_OVERDUE:
        return fmt_done(snprintf(buf, cap, "observations overdue by %d min", r->value));
    case VIGIL_ESC_R_PLAN_APPLIED:
        return fmt_done(snprintf(buf, cap,
                                 "a doctor's revised escalation plan sets the NEWS2 level to %s "
                                 "(NEWS2 alone: %s)",
                                 vigil_escalation_level_name(r->level),
                                 vigil_escalation_level_name((vigil_esc_level)r->value)));
    case VIGIL_ESC_R_PLAN_ABOVE_USUAL:
        return fmt_done(snprintf(buf, cap,
                                 "NEWS2 %d is above the plan's usual maximum of %d: the plan "
                                 "does not apply",
                                 r->value, r->value2));
    case VIGIL_ESC_R_PLAN_EXPIRED:
        return fmt_done(snprintf(
            buf, cap, "the revised escalation plan expired %d min ago: review it", r->value));
    case VIGIL_ESC_R_AI:
        if (r->level == VIGIL_ESC_NONE) {
            return fmt_done(snprintf(buf, cap, "AI risk %d.%d%%: below the site's alert thresholds",
                                     r->value / 10, r->value % 10));
        }
        return fmt_done(
            snprintf(buf, cap, "AI risk %d.%d%%: %s", r->value / 10, r->value % 10, lt));
    case VIGIL_ESC_R_ALERT_UNACKED:
        return fmt_done(snprintf(buf, cap,
                                 "the alert has not been acknowledged (sent %d time(s), rota "
                                 "step %d)",
                                 r->value, r->value2 + 1));
    default:
        return fmt_done(snprintf(buf, cap, "%s", vigil_escalation_reason_text(r->code)));
    }
}
