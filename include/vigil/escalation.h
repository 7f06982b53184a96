/*
 * vigil/escalation.h: the escalation policy. Turns a patient's NEWS2 score,
 * the AI risk, staff concern, Martha's Rule calls and a doctor's revised
 * escalation plan into one escalation level with the reasons for it, and
 * runs the alert state machine (one alert per episode, repeats up a rota
 * until acknowledged), the observation schedule and the daily "better /
 * same / worse" question.
 *
 * Spec: ../shared/spec/escalation.md (RCP NEWS2 Chart 4, NHS England
 * Martha's Rule 2024) and ../shared/spec/news2.md. Design and every decision
 * where the spec is silent: docs/escalation.md.
 *
 * Pure and deterministic: no I/O, no allocation, no clock (the caller passes
 * now_ms), no globals. Callers own every struct; all are copyable and hold no
 * pointers. Every function is reentrant and thread-safe on distinct structs.
 *
 * Invariants (REQ tags in docs/escalation.md):
 *  - Sources combine by maximum; nothing but a doctor's unexpired plan can
 *    lower the NEWS2-derived level, and the plan touches nothing else.
 *  - The AI can raise the level, never lower it (ESC-AI-NEVER-LOWERS).
 *  - Staff concern is at least urgent-ward (ESC-CONCERN).
 *  - Every Martha's Rule call alerts critical-care outreach with its own
 *    alert, never merged into an episode or another call (ESC-MARTHA).
 *  - An incomplete NEWS2 set counts at its lower bound and is reported.
 */
#ifndef VIGIL_ESCALATION_H
#define VIGIL_ESCALATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/news2.h"
#include "vigil/status.h"
#include "vigil/ward.h"

/* ------------------------------------------------------------------------ */
/* Levels and names                                                         */

/* Escalation levels, ordered: a higher value is a more urgent response. */
typedef enum vigil_esc_level {
    VIGIL_ESC_NONE = 0,    /* routine monitoring */
    VIGIL_ESC_WARD,        /* registered nurse assesses */
    VIGIL_ESC_URGENT_WARD, /* registered nurse informs the medical team: urgent ward review */
    VIGIL_ESC_URGENT,      /* urgent review by a clinician competent in acute illness */
    VIGIL_ESC_EMERGENCY,   /* emergency assessment: critical-care outreach */
    VIGIL_ESC_LEVEL_COUNT
} vigil_esc_level;

/* "none", "ward", "urgent-ward", "urgent", "emergency"; "?" if out of range. */
const char *vigil_escalation_level_name(vigil_esc_level level);
/* Who responds, in words ("critical-care outreach team"); "?" if out of range. */
const char *vigil_escalation_level_text(vigil_esc_level level);

/* ------------------------------------------------------------------------ */
/* Configuration (per site)                                                 */

/* An AI threshold above 1 means "the AI never maps to this level". */
#define VIGIL_ESC_AI_OFF 2.0

typedef struct vigil_escalation_config {
    /* Calibrated probability at or above which the AI asks for each level
     * ([VIGIL_ESC_NONE] is ignored). Each in (0, 1], or > 1 for off; active
     * thresholds must not fall as the level rises. Sites set these from
     * their validation report. Default: all off. */
    double ai_threshold[VIGIL_ESC_LEVEL_COUNT];
    /* An unacknowledged alert repeats this long after it was last sent, per
     * alert level ([VIGIL_ESC_NONE] ignored); Martha's Rule alerts use the
     * emergency interval. > 0. Defaults: ward 60 min, urgent-ward 30 min,
     * urgent 15 min, emergency 5 min. */
    int64_t realert_ms[VIGIL_ESC_LEVEL_COUNT];
    /* Number of rota steps (1-16). Each repeat goes one step up, staying at
     * the top step once reached. Default 3. */
    unsigned rota_steps;
    /* Observation interval per NEWS2 minimum monitoring frequency, > 0 and
     * not longer for a more intense frequency. Defaults: 12-hourly 12 h,
     * 4-6-hourly 4 h (RCP: minimum 4-hourly), hourly 1 h, continuous 15 min
     * (the interval at which a continuously monitored patient's displayed
     * score is called stale). */
    int64_t obs_interval_ms[VIGIL_MON_COUNT];
    /* The "better / same / worse" question is due this long after the last
     * answer. > 0. Default 24 h. */
    int64_t feels_interval_ms;
} vigil_escalation_config;

/* Fill cfg with the documented defaults (AI thresholds off). */
void vigil_escalation_config_init(vigil_escalation_config *cfg);

/* Check every field against the rules above. VIGIL_OK or VIGIL_ERR_ARG with
 * err naming the field ("ai_threshold", "realert_ms", ...). */
vigil_status vigil_escalation_config_check(const vigil_escalation_config *cfg, vigil_err *err);

/* ------------------------------------------------------------------------ */
/* Inputs (one patient, one moment)                                         */

#define VIGIL_ESC_TEXT_MAX 256 /* free text: reasons, notes (NUL included) */
#define VIGIL_ESC_MARTHA_MAX 8 /* open Martha's Rule calls tracked per patient */

typedef enum vigil_esc_ai_status {
    VIGIL_ESC_AI_NONE = 0,       /* no model score (no model, or not yet scored) */
    VIGIL_ESC_AI_OK,             /* a calibrated probability */
    VIGIL_ESC_AI_LOW_CONFIDENCE, /* the model flagged the input as out of its range */
    VIGIL_ESC_AI_STATUS_COUNT
} vigil_esc_ai_status;

/* Who made a Martha's Rule call. */
typedef enum vigil_esc_caller {
    VIGIL_ESC_CALLER_PATIENT = 0,
    VIGIL_ESC_CALLER_FAMILY,
    VIGIL_ESC_CALLER_CARER,
    VIGIL_ESC_CALLER_STAFF,
    VIGIL_ESC_CALLER_COUNT
} vigil_esc_caller;

/* One Martha's Rule call. seq is the caller's unique, increasing id for the
 * call (e.g. its row id in the append-only Martha's Rule log), > 0: a call
 * whose seq the state has already seen never alerts twice. The full record
 * (channel, words, responder, outcome) lives in that log, not here. */
typedef struct vigil_esc_martha_call {
    int64_t seq;
    vigil_esc_caller caller;
} vigil_esc_martha_call;

/* A revised escalation plan recorded by a doctor for a patient whose usual
 * physiology scores high. While it is in force (now_ms < expires_ms) and the
 * latest NEWS2 set is complete, its total is at most news2_usual_max and
 * consciousness scores 0, the NEWS2-derived level is replaced by level
 * (REQ ESC-PLAN). It touches nothing else: not the AI, not staff concern,
 * not Martha's Rule calls. */
typedef struct vigil_esc_plan {
    bool present;
    vigil_esc_level level; /* the NEWS2-derived level while within the usual range */
    int news2_usual_max;   /* 0-20: totals up to this are this patient's usual */
    int64_t recorded_ms;
    int64_t expires_ms;              /* the review time; the plan lapses at exactly this time */
    char by[VIGIL_ID_MAX];           /* the doctor, non-blank */
    char reason[VIGIL_ESC_TEXT_MAX]; /* why, non-blank */
} vigil_esc_plan;

/* Check a plan as recorded: by and reason non-blank and NUL-terminated,
 * level valid, news2_usual_max 0-20, expires_ms > recorded_ms.
 * VIGIL_OK or VIGIL_ERR_ARG naming the field ("plan.by", ...). */
vigil_status vigil_escalation_plan_check(const vigil_esc_plan *plan, vigil_err *err);

/* The patient's answer to "do you feel better, the same or worse?". */
typedef enum vigil_esc_feels {
    VIGIL_ESC_FEELS_UNKNOWN = 0, /* not asked / no answer */
    VIGIL_ESC_FEELS_BETTER,
    VIGIL_ESC_FEELS_SAME,
    VIGIL_ESC_FEELS_WORSE,
    VIGIL_ESC_FEELS_COUNT
} vigil_esc_feels;

typedef struct vigil_escalation_inputs {
    /* The latest NEWS2 set for the patient (complete or not). */
    bool has_news2;
    vigil_news2 news2;
    int64_t news2_t_ms; /* when it was measured, Unix ms */

    /* REQ ESC-PARTIAL-NEVER-LOWERS. When news2 is incomplete, what the
     * patient's earlier sets still say: a partial set can add to the level,
     * never take it below what they support.
     * - news2_complete: the latest complete set, measured before news2.
     * - news2_partial_peak: the highest-scoring incomplete set measured
     *   after that complete set (or on record, when none is complete), when
     *   it is not news2 itself.
     * Both are read only when news2 is incomplete. */
    bool has_news2_complete;
    vigil_news2 news2_complete;
    int64_t news2_complete_t_ms;
    bool has_news2_partial_peak;
    vigil_news2 news2_partial_peak;
    int64_t news2_partial_peak_t_ms;

    /* REQ ESC-LATE-SET. A set that arrived after news2 but was measured
     * before the latest complete set: it is reported (reason news2-late
     * with its own level), never silently filed. A late set measured after
     * the latest complete set counts through the fields above instead. */
    bool has_news2_late;
    vigil_news2 news2_late;
    int64_t news2_late_t_ms;

    /* The AI risk. ai_risk is a calibrated probability in [0, 1], read only
     * when ai_status != VIGIL_ESC_AI_NONE. */
    vigil_esc_ai_status ai_status;
    double ai_risk;
    bool ai_opted_out; /* the patient opted out of AI scoring */

    /* A member of staff is worried about this patient (an open concern). */
    bool staff_concern;

    /* Martha's Rule calls: new ones, or all recent ones (already seen
     * seqs are ignored). At most VIGIL_ESC_MARTHA_MAX. */
    vigil_esc_martha_call martha[VIGIL_ESC_MARTHA_MAX];
    size_t n_martha;

    vigil_esc_plan plan;

    vigil_esc_feels feels;
    int64_t feels_t_ms; /* when answered; read when feels != UNKNOWN */
} vigil_escalation_inputs;

/* Fill in with "nothing known": no NEWS2, no AI, no concern, no calls, no
 * plan, no answer. */
void vigil_escalation_inputs_init(vigil_escalation_inputs *in);

/* ------------------------------------------------------------------------ */
/* Alerts, acknowledgement and state                                        */

typedef enum vigil_esc_ack_action {
    VIGIL_ESC_ACK_NONE = 0,  /* not acknowledged */
    VIGIL_ESC_ACK_ATTENDING, /* on the way / assessing the patient */
    VIGIL_ESC_ACK_REVIEWED,  /* reviewed; care plan in place */
    VIGIL_ESC_ACK_ESCALATED, /* escalated to a more senior / higher level of care */
    VIGIL_ESC_ACK_DECLINED,  /* declined to escalate: a reason is required */
    VIGIL_ESC_ACK_ACTION_COUNT
} vigil_esc_ack_action;

/* An acknowledgement: who, when, what they did. Also the audit record. */
typedef struct vigil_esc_ack {
    uint64_t alert_id;
    char by[VIGIL_ID_MAX];           /* non-blank */
    vigil_esc_ack_action action;     /* not VIGIL_ESC_ACK_NONE */
    char reason[VIGIL_ESC_TEXT_MAX]; /* what was done / why; required when DECLINED */
    int64_t at_ms;                   /* set by vigil_escalation_ack (now_ms) */
} vigil_esc_ack;

typedef enum vigil_esc_alert_kind {
    VIGIL_ESC_ALERT_EPISODE = 0, /* the alert of an escalation episode */
    VIGIL_ESC_ALERT_MARTHA,      /* one Martha's Rule call, to critical-care outreach */
    VIGIL_ESC_ALERT_KIND_COUNT
} vigil_esc_alert_kind;

typedef struct vigil_esc_alert {
    uint64_t id; /* unique within this patient's state, > 0 */
    vigil_esc_alert_kind kind;
    vigil_esc_level level; /* episode: its (peak) level; Martha: emergency */
    int64_t opened_ms;
    int64_t last_sent_ms;
    unsigned n_sent;         /* 1 + repeats */
    unsigned rota_step;      /* 0 = first on the rota */
    vigil_esc_ack ack;       /* ack.action == VIGIL_ESC_ACK_NONE until acknowledged */
    int64_t martha_seq;      /* Martha: the call's seq; episode: 0 */
    vigil_esc_caller caller; /* Martha: who called */
} vigil_esc_alert;

/* Per-patient memory between steps. Initialise with
 * vigil_escalation_state_init; change only through step and ack. */
typedef struct vigil_escalation_state {
    uint64_t next_alert_id;
    uint64_t n_episodes; /* episodes opened so far */
    bool episode_open;
    vigil_esc_alert episode;                      /* valid when episode_open */
    vigil_esc_alert martha[VIGIL_ESC_MARTHA_MAX]; /* open (unacknowledged) calls, oldest first */
    size_t n_martha;
    int64_t martha_last_seq; /* highest call seq seen */
    /* The observation clock: the latest complete NEWS2 set seen. */
    bool has_complete_set;
    int64_t complete_t_ms;
    vigil_news2_monitoring complete_monitoring;
} vigil_escalation_state;

void vigil_escalation_state_init(vigil_escalation_state *st);

/* ------------------------------------------------------------------------ */
/* Output of a step                                                         */

/* Sources combined by maximum. */
typedef enum vigil_esc_source {
    VIGIL_ESC_SRC_NEWS2 = 0, /* after any plan */
    VIGIL_ESC_SRC_AI,
    VIGIL_ESC_SRC_STAFF_CONCERN,
    VIGIL_ESC_SRC_MARTHA, /* open Martha's Rule calls */
    VIGIL_ESC_SRC_COUNT
} vigil_esc_source;

/* Why: one entry per reason; value/value2 as noted. */
typedef enum vigil_esc_reason_code {
    VIGIL_ESC_R_MARTHA = 0,       /* value: open calls */
    VIGIL_ESC_R_MARTHA_UNTRACKED, /* value: calls alerted but beyond the tracking table */
    VIGIL_ESC_R_STAFF_CONCERN,
    VIGIL_ESC_R_NEWS2,               /* value: total; value2: 1 if a single parameter scored 3 */
    VIGIL_ESC_R_NEWS2_INCOMPLETE,    /* value: missing-parameter mask; value2: lower-bound total */
    VIGIL_ESC_R_NEWS2_LAST_COMPLETE, /* value: its total; value2: minutes before the latest set */
    VIGIL_ESC_R_NEWS2_PARTIAL_PEAK,  /* value: its lower-bound total; value2: minutes before */
    VIGIL_ESC_R_NEWS2_LATE,          /* value: its total; value2: minutes before the latest set */
    VIGIL_ESC_R_NEWS2_STALE,         /* value: minutes past the score's due time */
    VIGIL_ESC_R_NEWS2_ABSENT,        /* no NEWS2 set on record */
    VIGIL_ESC_R_NEWS2_NOT_VALIDATED, /* value: NEWS2 flags (under 16 / pregnant) */
    VIGIL_ESC_R_OBS_OVERDUE,         /* value: minutes overdue */
    VIGIL_ESC_R_PLAN_APPLIED,        /* level: the plan's; value: NEWS2 level before the plan */
    VIGIL_ESC_R_PLAN_ABOVE_USUAL,    /* value: total; value2: the plan's usual max */
    VIGIL_ESC_R_PLAN_NEEDS_COMPLETE_SET,
    VIGIL_ESC_R_PLAN_CONSCIOUSNESS, /* the plan does not cover a consciousness score */
    VIGIL_ESC_R_PLAN_EXPIRED,       /* value: minutes since expiry */
    VIGIL_ESC_R_AI,                 /* value: risk in per mille (rounded) */
    VIGIL_ESC_R_AI_LOW_CONFIDENCE,
    VIGIL_ESC_R_AI_OPTED_OUT,
    VIGIL_ESC_R_AI_ABSENT,
    VIGIL_ESC_R_ALERT_UNACKED, /* value: times sent; value2: rota step */
    VIGIL_ESC_R_FEELS_WORSE,   /* on the ward list */
    VIGIL_ESC_R_FEELS_DUE,     /* the daily question is due */
    VIGIL_ESC_REASON_COUNT
} vigil_esc_reason_code;

typedef struct vigil_esc_reason {
    vigil_esc_reason_code code;
    vigil_esc_level level; /* the level this source asks for; NONE for notices */
    bool drives;           /* this source set the final level (level > NONE) */
    int value;
    int value2;
} vigil_esc_reason;

typedef enum vigil_esc_action_kind {
    VIGIL_ESC_ACT_ALERT = 0, /* send a new alert (a new episode or a new Martha call) */
    VIGIL_ESC_ACT_REALERT,   /* repeat an unacknowledged alert, at rota_step */
    VIGIL_ESC_ACT_CLOSE,     /* an episode closed (superseded, or level back to none) */
    VIGIL_ESC_ACT_KIND_COUNT
} vigil_esc_action_kind;

typedef struct vigil_esc_action {
    vigil_esc_action_kind kind;
    uint64_t alert_id;
    vigil_esc_alert_kind alert_kind;
    vigil_esc_level level; /* who to page: see vigil_escalation_level_text */
    unsigned rota_step;
    unsigned n_sent;    /* after this action */
    int64_t martha_seq; /* Martha alerts */
    bool superseded;    /* CLOSE: a higher level opened a new episode */
    bool untracked;     /* ALERT for a Martha call beyond VIGIL_ESC_MARTHA_MAX open:
                           sent once, will not repeat */
} vigil_esc_action;

#define VIGIL_ESC_ACTIONS_MAX (2 + 2 * VIGIL_ESC_MARTHA_MAX)

typedef struct vigil_escalation_result {
    vigil_esc_level level;          /* the patient's level: max over every source */
    vigil_esc_level clinical_level; /* max over NEWS2, AI and staff concern: drives episodes */
    vigil_esc_level source_level[VIGIL_ESC_SRC_COUNT];
    vigil_esc_level news2_level; /* NEWS2-derived level before any plan */

    vigil_esc_reason reasons[VIGIL_ESC_REASON_COUNT]; /* drivers first, then by level */
    size_t n_reasons;
    vigil_esc_action actions[VIGIL_ESC_ACTIONS_MAX]; /* in the order to send */
    size_t n_actions;

    bool news2_incomplete;
    bool news2_stale; /* the latest score is past its due time: never show as current */
    bool has_obs_due;
    int64_t obs_due_ms;
    bool obs_overdue; /* now_ms > obs_due_ms */
    bool ai_used;     /* the AI input counted */
    bool ai_opted_out;
    bool ai_low_confidence;
    bool plan_applied;
    bool ward_list_worse; /* the latest "better / same / worse" answer is worse */
    bool feels_due;
    size_t n_martha_open;
} vigil_escalation_result;

/* ------------------------------------------------------------------------ */
/* Functions                                                                */

/* NEWS2-derived level from RCP Chart 2/4 (REQ ESC-NEWS2-MAP): total 0 none;
 * 1-4 ward; a single 3 with total < 5 urgent-ward; 5-6 urgent; 7+ emergency.
 * For an incomplete set this is a lower bound. news2 is borrowed. */
vigil_esc_level vigil_escalation_level_from_news2(const vigil_news2 *news2);

/* The highest level whose active threshold is <= p (REQ ESC-AI-THRESHOLDS);
 * VIGIL_ESC_NONE below every threshold or for a non-finite p. */
vigil_esc_level vigil_escalation_level_from_ai(const vigil_escalation_config *cfg, double p);

/* Observation interval for a monitoring frequency (cfg->obs_interval_ms);
 * 0 for an out-of-range frequency. */
int64_t vigil_escalation_obs_interval_ms(const vigil_escalation_config *cfg,
                                         vigil_news2_monitoring mon);

/*
 * One step of the policy for one patient at now_ms: combine the inputs into
 * a level and reasons, then advance the alert state machine (open, repeat,
 * close episodes; alert each new Martha's Rule call; repeat unacknowledged
 * calls) and compute due and stale observations.
 *
 * cfg, in and inputs are borrowed for the call. out may be the same struct
 * as in. Returns VIGIL_OK, or VIGIL_ERR_ARG (NULL pointer, invalid config,
 * or an invalid input, with err naming the field); on error *out and *res
 * are unchanged. Call it whenever an input changes and on a timer (at
 * least as often as the shortest realert interval); it sends at most one
 * repeat per alert per call.
 */
vigil_status vigil_escalation_step(const vigil_escalation_config *cfg,
                                   const vigil_escalation_state *in,
                                   const vigil_escalation_inputs *inputs, int64_t now_ms,
                                   vigil_escalation_state *out, vigil_escalation_result *res,
                                   vigil_err *err);

/*
 * Acknowledge an open alert (an episode's or a Martha's Rule call's) at
 * now_ms (REQ ESC-ACK). Records who, when, what was done; stops its repeats.
 * An acknowledged Martha's Rule call leaves the open list (the caller logs
 * out_record). An acknowledged episode stays open until the level is none
 * (see vigil_escalation_step).
 *
 * Returns VIGIL_ERR_ARG for a blank or unterminated by, an invalid action, or
 * DECLINED without a reason (REQ ESC-ACK-DECLINE-REASON); VIGIL_ERR_NOT_FOUND
 * when no open alert has ack->alert_id; VIGIL_ERR_CONFLICT when it is already
 * acknowledged. On error *out and *out_record are unchanged. out may be in;
 * out_record may be NULL. All pointers borrowed for the call.
 */
vigil_status vigil_escalation_ack(const vigil_escalation_state *in, const vigil_esc_ack *ack,
                                  int64_t now_ms, vigil_escalation_state *out,
                                  vigil_esc_ack *out_record, vigil_err *err);

/* Stable machine name ("martha", "news2-incomplete", ...); "?" if out of range. */
const char *vigil_escalation_reason_name(vigil_esc_reason_code code);
/* The reason in plain words, without figures; "?" if out of range. */
const char *vigil_escalation_reason_text(vigil_esc_reason_code code);
/*
 * Write the reason as a sentence with its figures into buf (always
 * NUL-terminated when cap > 0), e.g. "NEWS2 6: urgent review by a clinician
 * competent in acute illness". Returns the length it needed (as snprintf).
 */
size_t vigil_escalation_reason_describe(const vigil_esc_reason *r, char *buf, size_t cap);

/* "alert", "realert", "close"; "none"/"attending"/...; "patient"/"family"/...;
 * "?" if out of range. */
const char *vigil_escalation_action_name(vigil_esc_action_kind kind);
const char *vigil_escalation_ack_action_name(vigil_esc_ack_action action);
const char *vigil_escalation_caller_name(vigil_esc_caller caller);

#endif
