/*
 * test_partial_sets.c: observation sets assembled from pieces
 * (vigil/assemble.h) and the escalation rules for partial, late and
 * assembled sets (docs/escalation.md, "Observation sets assembled, not
 * overwritten"). Expected NEWS2 figures are read off RCP Chart 1 by hand.
 */
#include <math.h>
#include <string.h>

#include "vigil/assemble.h"
#include "vigil/escalation.h"
#include "vigil_test.h"

#define MIN ((int64_t)60 * 1000)
#define T0 ((int64_t)1700000000000)

/* NEWS2 17 (RCP Chart 1): RR 30 (3), SpO2 88 on Scale 1 (3), oxygen (2),
 * SBP 85 (3), HR 140 (3), V (3), temp 36.5 (0). */
static void emergency_obs(vigil_obs *o)
{
    vigil_obs_init(o);
    o->rr_bpm = 30;
    o->spo2_pct = 88;
    o->o2 = VIGIL_O2_OXYGEN;
    o->sbp_mmhg = 85;
    o->hr_bpm = 140;
    o->acvpu = VIGIL_ACVPU_V;
    o->temp_c = 36.5;
}

static void normal_obs(vigil_obs *o)
{
    vigil_obs_init(o);
    o->rr_bpm = 16;
    o->spo2_pct = 98;
    o->o2 = VIGIL_O2_AIR;
    o->sbp_mmhg = 120;
    o->hr_bpm = 70;
    o->acvpu = VIGIL_ACVPU_A;
    o->temp_c = 37.0;
}

static vigil_news2 score(const vigil_obs *o)
{
    vigil_news2 r;
    vigil_err e = {0};
    assert_int_equal(vigil_news2_score(o, &r, &e), VIGIL_OK);
    return r;
}

static vigil_obs hr_only(double hr)
{
    vigil_obs o;
    vigil_obs_init(&o);
    o.hr_bpm = hr;
    return o;
}

/* ---- assembly --------------------------------------------------------- */

static void assemble_empty_set_carries_nothing(void **state)
{
    (void)state;
    vigil_obs o;
    vigil_obs_init(&o);
    assert_int_equal(vigil_obs_carried(&o), 0);
    o.acvpu = VIGIL_ACVPU_A;
    assert_int_equal(vigil_obs_carried(&o), 1u << VIGIL_NEWS2_ACVPU);
    normal_obs(&o);
    assert_int_equal(vigil_obs_carried(&o), (1u << VIGIL_NEWS2_PARAM_COUNT) - 1);
}

/* REQ OBS-ASSEMBLE-WINDOW: one Observation per vital sign, same time (the
 * FHIR way), becomes one complete set */
static void assemble_pieces_at_one_time_make_a_complete_set(void **state)
{
    (void)state;
    vigil_obs full;
    normal_obs(&full);
    vigil_obs_recent r;
    vigil_obs_recent_init(&r);
    vigil_obs last;
    unsigned taken = 0;
    /* each parameter arrives on its own, all measured at T0 */
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        vigil_obs piece;
        vigil_obs_init(&piece);
        vigil_obs_recent tmp;
        vigil_obs_recent_init(&tmp);
        vigil_obs_recent_note(&tmp, &full, T0);
        /* copy only parameter p from full through the assembler itself */
        vigil_obs only;
        vigil_obs_init(&only);
        vigil_obs_recent one = tmp;
        one.known = 1u << p;
        (void)vigil_obs_assemble(&one, &only, T0, MIN, &piece);
        assert_int_equal(vigil_obs_carried(&piece), 1u << p);
        taken = vigil_obs_assemble(&r, &piece, T0, 5 * MIN, &last);
        vigil_obs_recent_note(&r, &piece, T0);
    }
    assert_int_equal(taken, ((1u << VIGIL_NEWS2_PARAM_COUNT) - 1) & ~(1u << VIGIL_NEWS2_TEMP));
    vigil_news2 n = score(&last);
    assert_true(n.complete);
    assert_int_equal(n.total, 0);
}

/* REQ OBS-ASSEMBLE-WINDOW: a heart rate alone a minute after a complete set
 * joins it; the other values are the set's, the heart rate is the new one */
static void assemble_heart_rate_a_minute_later_joins_the_set(void **state)
{
    (void)state;
    vigil_obs full;
    emergency_obs(&full);
    assert_int_equal(score(&full).total, 17);
    vigil_obs_recent r;
    vigil_obs_recent_init(&r);
    vigil_obs_recent_note(&r, &full, T0);
    vigil_obs hr = hr_only(72), out;
    unsigned taken = vigil_obs_assemble(&r, &hr, T0 + MIN, 5 * MIN, &out);
    assert_int_equal(taken, ((1u << VIGIL_NEWS2_PARAM_COUNT) - 1) & ~(1u << VIGIL_NEWS2_HR));
    assert_true(out.hr_bpm == 72.0);
    assert_true(out.rr_bpm == 30.0);
    vigil_news2 n = score(&out);
    assert_true(n.complete);
    assert_int_equal(n.total, 14); /* 17 - HR 140's 3 + HR 72's 0 */
}

/* REQ OBS-ASSEMBLE-WINDOW: the window is inclusive; one ms past it, the set
 * stays partial */
static void assemble_window_edge_is_inclusive(void **state)
{
    (void)state;
    vigil_obs full;
    normal_obs(&full);
    vigil_obs_recent r;
    vigil_obs_recent_init(&r);
    vigil_obs_recent_note(&r, &full, T0);
    vigil_obs hr = hr_only(70), out;
    assert_int_not_equal(vigil_obs_assemble(&r, &hr, T0 + 5 * MIN, 5 * MIN, &out), 0);
    assert_true(score(&out).complete);
    assert_int_equal(vigil_obs_assemble(&r, &hr, T0 + 5 * MIN + 1, 5 * MIN, &out), 0);
    assert_false(score(&out).complete);
    /* before the set too: a late piece joins its set */
    assert_int_not_equal(vigil_obs_assemble(&r, &hr, T0 - 5 * MIN, 5 * MIN, &out), 0);
    assert_int_equal(vigil_obs_assemble(&r, &hr, T0 - 5 * MIN - 1, 5 * MIN, &out), 0);
    /* no window: nothing assembled */
    assert_int_equal(vigil_obs_assemble(&r, &hr, T0, 0, &out), 0);
}

/* A late value never overwrites a newer one in the record. */
static void assemble_late_value_never_overwrites_a_newer_one(void **state)
{
    (void)state;
    vigil_obs_recent r;
    vigil_obs_recent_init(&r);
    vigil_obs a = hr_only(130), b = hr_only(70);
    vigil_obs_recent_note(&r, &a, T0 + 10 * MIN);
    vigil_obs_recent_note(&r, &b, T0); /* measured earlier, arrives later */
    assert_true(r.obs.hr_bpm == 130.0);
    assert_true(r.t_ms[VIGIL_NEWS2_HR] == T0 + 10 * MIN);
    vigil_obs_recent_note(&r, &b, T0 + 10 * MIN); /* same time: the arriving one */
    assert_true(r.obs.hr_bpm == 70.0);
}

/* ---- escalation ------------------------------------------------------- */

static void step(vigil_escalation_state *st, const vigil_escalation_inputs *in, int64_t now,
                 vigil_escalation_result *res)
{
    vigil_escalation_config cfg;
    vigil_escalation_config_init(&cfg);
    vigil_err e = {0};
    vigil_status s = vigil_escalation_step(&cfg, st, in, now, st, res, &e);
    if (s != VIGIL_OK) {
        print_error("step: %s (%s)\n", e.msg, e.field);
    }
    assert_int_equal(s, VIGIL_OK);
}

static const vigil_esc_reason *find(const vigil_escalation_result *r, vigil_esc_reason_code c)
{
    for (size_t i = 0; i < r->n_reasons; i++) {
        if (r->reasons[i].code == c) {
            return &r->reasons[i];
        }
    }
    return NULL;
}

/* Inputs with the latest set measured at latest_t and, when complete is not
 * NULL, the last complete set measured at complete_t. */
static void inputs_with(vigil_escalation_inputs *in, const vigil_obs *latest, int64_t latest_t,
                        const vigil_obs *complete, int64_t complete_t)
{
    vigil_escalation_inputs_init(in);
    in->has_news2 = true;
    in->news2 = score(latest);
    in->news2_t_ms = latest_t;
    if (complete != NULL) {
        in->has_news2_complete = true;
        in->news2_complete = score(complete);
        in->news2_complete_t_ms = complete_t;
    }
}

/* One step from a fresh state. */
static void step_fresh(const vigil_escalation_inputs *in, int64_t now, vigil_escalation_result *res)
{
    vigil_escalation_state st;
    vigil_escalation_state_init(&st);
    step(&st, in, now, res);
}

/* REQ ESC-PARTIAL-NEVER-LOWERS: complete set at NEWS2 17, then a heart rate
 * alone an hour later: the level stays emergency, with the reason */
static void escalation_partial_set_never_lowers_below_last_complete(void **state)
{
    (void)state;
    vigil_obs full;
    emergency_obs(&full);
    vigil_escalation_state st;
    vigil_escalation_state_init(&st);
    vigil_escalation_inputs in;
    inputs_with(&in, &full, T0, NULL, 0);
    vigil_escalation_result res;
    step(&st, &in, T0, &res);
    assert_int_equal(res.level, VIGIL_ESC_EMERGENCY);
    int64_t due_after_complete = res.obs_due_ms;

    vigil_obs hr = hr_only(72);
    inputs_with(&in, &hr, T0 + 60 * MIN, &full, T0);
    step(&st, &in, T0 + 60 * MIN, &res);
    assert_int_equal(res.level, VIGIL_ESC_EMERGENCY);
    assert_int_equal(res.news2_level, VIGIL_ESC_EMERGENCY);
    assert_true(res.news2_incomplete);
    const vigil_esc_reason *x = find(&res, VIGIL_ESC_R_NEWS2_LAST_COMPLETE);
    assert_non_null(x);
    assert_true(x->drives);
    assert_int_equal(x->value, 17);
    assert_int_equal(x->value2, 60);
    char buf[256];
    vigil_escalation_reason_describe(x, buf, sizeof buf);
    assert_non_null(strstr(buf, "NEWS2 17 from the last complete set"));
    /* the due time is not postponed by the partial set */
    assert_true(res.obs_due_ms <= due_after_complete);
    /* no episode close, no new alert: the emergency episode goes on */
    for (size_t i = 0; i < res.n_actions; i++) {
        assert_int_not_equal(res.actions[i].kind, VIGIL_ESC_ACT_CLOSE);
    }

    /* without the caller's record of the complete set, the old defect: the
     * step shows the partial set's lower bound only (kept as the contrast) */
    vigil_escalation_inputs bare = in;
    bare.has_news2_complete = false;
    vigil_escalation_state st2;
    vigil_escalation_state_init(&st2);
    step(&st2, &bare, T0 + 60 * MIN, &res);
    assert_int_equal(res.news2_level, VIGIL_ESC_NONE);
}

/* REQ ESC-PARTIAL-NEVER-LOWERS: a partial set scoring above the last
 * complete one still raises the level */
static void escalation_partial_set_can_raise_above_last_complete(void **state)
{
    (void)state;
    vigil_obs full;
    normal_obs(&full);
    vigil_obs rr;
    vigil_obs_init(&rr);
    rr.rr_bpm = 26; /* 3 on its own */
    vigil_escalation_inputs in;
    inputs_with(&in, &rr, T0 + 60 * MIN, &full, T0);
    vigil_escalation_result res;
    step_fresh(&in, T0 + 60 * MIN, &res);
    assert_int_equal(res.level, VIGIL_ESC_URGENT_WARD);
    const vigil_esc_reason *n = find(&res, VIGIL_ESC_R_NEWS2);
    assert_non_null(n);
    assert_true(n->drives);
}

/* REQ ESC-PARTIAL-NEVER-LOWERS: a higher partial set since the last complete
 * one is not forgotten when a lower partial set follows */
static void escalation_later_lower_partial_keeps_the_partial_peak(void **state)
{
    (void)state;
    vigil_obs full, rr, hr = hr_only(70);
    normal_obs(&full);
    vigil_obs_init(&rr);
    rr.rr_bpm = 26;
    vigil_escalation_inputs in;
    inputs_with(&in, &hr, T0 + 70 * MIN, &full, T0);
    in.has_news2_partial_peak = true;
    in.news2_partial_peak = score(&rr);
    in.news2_partial_peak_t_ms = T0 + 60 * MIN;
    vigil_escalation_result res;
    step_fresh(&in, T0 + 70 * MIN, &res);
    assert_int_equal(res.level, VIGIL_ESC_URGENT_WARD);
    const vigil_esc_reason *k = find(&res, VIGIL_ESC_R_NEWS2_PARTIAL_PEAK);
    assert_non_null(k);
    assert_true(k->drives);
    assert_int_equal(k->value, 3);
    assert_int_equal(k->value2, 10);
}

/* REQ ESC-PARTIAL-NEVER-LOWERS: two partial sets measured at the same time,
 * the later-arriving one scoring lower: the earlier one still counts (found
 * by fuzz/fuzz_escalation.c: new confusion alone, then RR 22 with oxygen) */
static void escalation_partial_peak_at_the_latest_time_still_counts(void **state)
{
    (void)state;
    vigil_obs v, rr;
    vigil_obs_init(&v);
    v.acvpu = VIGIL_ACVPU_V; /* 3 on its own: urgent-ward */
    vigil_obs_init(&rr);
    rr.rr_bpm = 22;          /* 2 */
    rr.o2 = VIGIL_O2_OXYGEN; /* 2: total 4, no single 3: ward */
    vigil_escalation_inputs in;
    inputs_with(&in, &rr, T0, NULL, 0);
    in.has_news2_partial_peak = true;
    in.news2_partial_peak = score(&v);
    in.news2_partial_peak_t_ms = T0;
    vigil_escalation_result res;
    step_fresh(&in, T0, &res);
    assert_int_equal(res.level, VIGIL_ESC_URGENT_WARD);
    /* the peak given as the latest set itself adds no reason */
    inputs_with(&in, &v, T0, NULL, 0);
    in.has_news2_partial_peak = true;
    in.news2_partial_peak = score(&v);
    in.news2_partial_peak_t_ms = T0;
    step_fresh(&in, T0, &res);
    assert_int_equal(res.level, VIGIL_ESC_URGENT_WARD);
    assert_null(find(&res, VIGIL_ESC_R_NEWS2_PARTIAL_PEAK));
}

/* A new complete set is full evidence: it may lower the level. */
static void escalation_new_complete_set_lowers_as_charted(void **state)
{
    (void)state;
    vigil_obs full, ok;
    emergency_obs(&full);
    normal_obs(&ok);
    /* a caller passing an older complete set with a complete latest set:
     * ignored (only a partial latest set reads it) */
    vigil_escalation_inputs in;
    inputs_with(&in, &ok, T0 + 60 * MIN, &full, T0);
    vigil_escalation_result res;
    step_fresh(&in, T0 + 60 * MIN, &res);
    assert_int_equal(res.level, VIGIL_ESC_NONE);
    assert_null(find(&res, VIGIL_ESC_R_NEWS2_LAST_COMPLETE));
}

/* REQ ESC-PLAN-COMPLETE-ONLY with REQ ESC-PARTIAL-NEVER-LOWERS: a plan
 * applies to the last complete set, and the partial set's lower bound still
 * counts as charted */
static void escalation_plan_applies_to_the_last_complete_set(void **state)
{
    (void)state;
    vigil_obs usual;
    normal_obs(&usual);
    usual.rr_bpm = 22;   /* 2 */
    usual.hr_bpm = 115;  /* 2 */
    usual.temp_c = 38.5; /* 1: total 5, urgent */
    vigil_obs hr = hr_only(80);
    vigil_escalation_inputs in;
    inputs_with(&in, &hr, T0 + 30 * MIN, &usual, T0);
    in.plan.present = true;
    in.plan.level = VIGIL_ESC_WARD;
    in.plan.news2_usual_max = 6;
    in.plan.recorded_ms = T0 - MIN;
    in.plan.expires_ms = T0 + 24 * 60 * MIN;
    snprintf(in.plan.by, sizeof in.plan.by, "dr-a");
    snprintf(in.plan.reason, sizeof in.plan.reason, "usual COPD physiology");
    vigil_escalation_state st;
    vigil_escalation_state_init(&st);
    vigil_escalation_result res;
    step(&st, &in, T0 + 30 * MIN, &res);
    assert_int_equal(res.level, VIGIL_ESC_WARD);
    assert_true(res.plan_applied);
    assert_non_null(find(&res, VIGIL_ESC_R_PLAN_APPLIED));
    /* a partial set above the plan's level still counts as charted */
    vigil_obs rr;
    vigil_obs_init(&rr);
    rr.rr_bpm = 26;
    in.news2 = score(&rr);
    step(&st, &in, T0 + 30 * MIN, &res);
    assert_int_equal(res.level, VIGIL_ESC_URGENT_WARD);
}

/* REQ ESC-LATE-SET: a set measured before the latest complete set is
 * reported with its own level, never filed unseen */
static void escalation_late_set_is_reported(void **state)
{
    (void)state;
    vigil_obs ok, bad;
    normal_obs(&ok);
    emergency_obs(&bad);
    vigil_escalation_inputs in;
    inputs_with(&in, &ok, T0 + 60 * MIN, NULL, 0);
    in.has_news2_late = true;
    in.news2_late = score(&bad);
    in.news2_late_t_ms = T0;
    vigil_escalation_result res;
    step_fresh(&in, T0 + 90 * MIN, &res);
    const vigil_esc_reason *x = find(&res, VIGIL_ESC_R_NEWS2_LATE);
    assert_non_null(x);
    assert_int_equal(x->level, VIGIL_ESC_EMERGENCY);
    assert_int_equal(x->value, 17);
    assert_int_equal(x->value2, 60);
    char buf[256];
    vigil_escalation_reason_describe(x, buf, sizeof buf);
    assert_non_null(strstr(buf, "arrived late"));
}

/* A malformed extra set is refused like the latest one. */
static void escalation_refuses_an_incomplete_set_given_as_complete(void **state)
{
    (void)state;
    vigil_obs hr = hr_only(80);
    vigil_escalation_inputs in;
    inputs_with(&in, &hr, T0, &hr, T0); /* an incomplete set given as the complete one */
    vigil_escalation_config cfg;
    vigil_escalation_config_init(&cfg);
    vigil_escalation_state st;
    vigil_escalation_state_init(&st);
    vigil_escalation_result res;
    vigil_err e = {0};
    assert_int_equal(vigil_escalation_step(&cfg, &st, &in, T0, &st, &res, &e), VIGIL_ERR_ARG);
    assert_string_equal(e.field, "news2_complete");
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(assemble_empty_set_carries_nothing),
    cmocka_unit_test(assemble_pieces_at_one_time_make_a_complete_set),
    cmocka_unit_test(assemble_heart_rate_a_minute_later_joins_the_set),
    cmocka_unit_test(assemble_window_edge_is_inclusive),
    cmocka_unit_test(assemble_late_value_never_overwrites_a_newer_one),
    cmocka_unit_test(escalation_partial_set_never_lowers_below_last_complete),
    cmocka_unit_test(escalation_partial_set_can_raise_above_last_complete),
    cmocka_unit_test(escalation_later_lower_partial_keeps_the_partial_peak),
    cmocka_unit_test(escalation_partial_peak_at_the_latest_time_still_counts),
    cmocka_unit_test(escalation_new_complete_set_lowers_as_charted),
    cmocka_unit_test(escalation_plan_applies_to_the_last_complete_set),
    cmocka_unit_test(escalation_late_set_is_reported),
    cmocka_unit_test(escalation_refuses_an_incomplete_set_given_as_complete),
};

VIGIL_TEST_MAIN(tests)
