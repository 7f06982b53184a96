/*
 * test_escalation.c: the escalation policy (../shared/spec/escalation.md,
 * docs/escalation.md), rule by rule. NEWS2 inputs come from real
 * observation sets scored by vigil_news2_score, so the mapping is tested
 * end to end; expected levels are read off RCP Chart 2/4 by hand.
 */
#include <math.h>
#include <string.h>

#include "vigil/escalation.h"
#include "vigil_test.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))
#define MIN ((int64_t)60 * 1000)
#define HOUR (60 * MIN)
#define T0 ((int64_t)1700000000000) /* an arbitrary Unix ms origin */

/* ------------------------------------------------------------------------ */
/* Fixtures                                                                 */

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
    vigil_status st = vigil_news2_score(o, &r, &e);
    if (st != VIGIL_OK) {
        print_error("news2: %s\n", e.msg);
    }
    assert_int_equal(st, VIGIL_OK);
    return r;
}

/* A complete set scoring at each level (RCP Chart 2 by hand):
 * none: total 0; ward: temp 38.5 -> 1; urgent-ward: RR 8 -> single 3, total
 * 3; urgent: RR 22 (2) + HR 115 (2) + temp 38.5 (1) = 5; emergency: RR 25 (3)
 * + HR 135 (3) + temp 38.5 (1) = 7. */
static void obs_at(vigil_esc_level l, vigil_obs *o)
{
    normal_obs(o);
    switch (l) {
    case VIGIL_ESC_WARD:
        o->temp_c = 38.5;
        break;
    case VIGIL_ESC_URGENT_WARD:
        o->rr_bpm = 8;
        break;
    case VIGIL_ESC_URGENT:
        o->rr_bpm = 22;
        o->hr_bpm = 115;
        o->temp_c = 38.5;
        break;
    case VIGIL_ESC_EMERGENCY:
        o->rr_bpm = 25;
        o->hr_bpm = 135;
        o->temp_c = 38.5;
        break;
    default:
        break;
    }
}

static vigil_news2 news2_at(vigil_esc_level l)
{
    vigil_obs o;
    obs_at(l, &o);
    return score(&o);
}

/* Config with test AI thresholds: ward 5%, urgent-ward 10%, urgent 20%,
 * emergency 40%. */
static void test_cfg(vigil_escalation_config *cfg)
{
    vigil_escalation_config_init(cfg);
    cfg->ai_threshold[VIGIL_ESC_WARD] = 0.05;
    cfg->ai_threshold[VIGIL_ESC_URGENT_WARD] = 0.10;
    cfg->ai_threshold[VIGIL_ESC_URGENT] = 0.20;
    cfg->ai_threshold[VIGIL_ESC_EMERGENCY] = 0.40;
}

/* A probability that maps to each level under test_cfg. */
static const double ai_p_at[VIGIL_ESC_LEVEL_COUNT] = {0.01, 0.07, 0.15, 0.30, 0.60};

/* Inputs with a NEWS2 set at level l measured at T0, daily answer given. */
static void inputs_at(vigil_esc_level l, vigil_escalation_inputs *in)
{
    vigil_escalation_inputs_init(in);
    in->has_news2 = true;
    in->news2 = news2_at(l);
    in->news2_t_ms = T0;
    in->feels = VIGIL_ESC_FEELS_SAME;
    in->feels_t_ms = T0;
}

static void step_ok(const vigil_escalation_config *cfg, vigil_escalation_state *st,
                    const vigil_escalation_inputs *in, int64_t now, vigil_escalation_result *res)
{
    vigil_err e = {0};
    vigil_status s = vigil_escalation_step(cfg, st, in, now, st, res, &e);
    if (s != VIGIL_OK) {
        print_error("step: %s (%s)\n", e.msg, e.field);
    }
    assert_int_equal(s, VIGIL_OK);
}

/* Level for these inputs from a fresh state. */
static vigil_esc_level level_of(const vigil_escalation_config *cfg,
                                const vigil_escalation_inputs *in, int64_t now,
                                vigil_escalation_result *res)
{
    vigil_escalation_state st;
    vigil_escalation_state_init(&st);
    step_ok(cfg, &st, in, now, res);
    return res->level;
}

static const vigil_esc_reason *find_reason(const vigil_escalation_result *r,
                                           vigil_esc_reason_code code)
{
    for (size_t i = 0; i < r->n_reasons; i++) {
        if (r->reasons[i].code == code) {
            return &r->reasons[i];
        }
    }
    return NULL;
}

static size_t count_actions(const vigil_escalation_result *r, vigil_esc_action_kind kind,
                            vigil_esc_alert_kind akind)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_actions; i++) {
        if (r->actions[i].kind == kind && r->actions[i].alert_kind == akind) {
            n++;
        }
    }
    return n;
}

static vigil_esc_ack make_ack(uint64_t id, vigil_esc_ack_action action, const char *reason)
{
    vigil_esc_ack a;
    memset(&a, 0, sizeof a);
    a.alert_id = id;
    a.action = action;
    strncpy(a.by, "nurse.jones", sizeof a.by - 1);
    strncpy(a.reason, reason, sizeof a.reason - 1);
    return a;
}

static void ack_ok(vigil_escalation_state *st, uint64_t id, vigil_esc_ack_action action,
                   const char *reason, int64_t now)
{
    vigil_esc_ack a = make_ack(id, action, reason);
    vigil_err e = {0};
    vigil_status s = vigil_escalation_ack(st, &a, now, st, NULL, &e);
    if (s != VIGIL_OK) {
        print_error("ack: %s\n", e.msg);
    }
    assert_int_equal(s, VIGIL_OK);
}

static vigil_esc_plan make_plan(vigil_esc_level level, int usual_max, int64_t expires)
{
    vigil_esc_plan p;
    memset(&p, 0, sizeof p);
    p.present = true;
    p.level = level;
    p.news2_usual_max = usual_max;
    p.recorded_ms = T0 - HOUR;
    p.expires_ms = expires;
    strncpy(p.by, "dr.patel", sizeof p.by - 1);
    strncpy(p.reason, "chronic tachycardia and pyrexia; usual NEWS2 5", sizeof p.reason - 1);
    return p;
}

static vigil_esc_level max_l(vigil_esc_level a, vigil_esc_level b)
{
    return a > b ? a : b;
}

/* ------------------------------------------------------------------------ */
/* NEWS2 mapping                                                            */

/* REQ ESC-NEWS2-MAP */
static void escalation_news2_sets_map_to_levels_by_rcp_band(void **state)
{
    (void)state;
    for (int l = 0; l < VIGIL_ESC_LEVEL_COUNT; l++) {
        vigil_news2 n = news2_at((vigil_esc_level)l);
        assert_true(n.complete);
        assert_int_equal(vigil_escalation_level_from_news2(&n), l);
    }
    /* precedence: 5 with a single 3 is urgent, not urgent-ward */
    vigil_obs o;
    normal_obs(&o);
    o.rr_bpm = 25;  /* 3 */
    o.hr_bpm = 115; /* 2 */
    vigil_news2 n = score(&o);
    assert_int_equal(n.total, 5);
    assert_true(n.single_param_3);
    assert_int_equal(vigil_escalation_level_from_news2(&n), VIGIL_ESC_URGENT);
}

/* REQ ESC-NEWS2-MAP: every total 0-20, with and without a single 3, agrees
 * with the RCP Chart 4 response vigil_news2_score reports. */
static void escalation_news2_map_agrees_with_chart4_response(void **state)
{
    (void)state;
    static const vigil_esc_level by_response[VIGIL_RESP_COUNT] = {
        VIGIL_ESC_NONE,   VIGIL_ESC_WARD,      VIGIL_ESC_URGENT_WARD,
        VIGIL_ESC_URGENT, VIGIL_ESC_EMERGENCY,
    };
    static const struct {
        int total;
        bool s3;
        vigil_esc_level want;
    } cases[] = {
        {0, false, VIGIL_ESC_NONE},       {1, false, VIGIL_ESC_WARD},
        {4, false, VIGIL_ESC_WARD},       {3, true, VIGIL_ESC_URGENT_WARD},
        {4, true, VIGIL_ESC_URGENT_WARD}, {5, false, VIGIL_ESC_URGENT},
        {5, true, VIGIL_ESC_URGENT},      {6, true, VIGIL_ESC_URGENT},
        {7, false, VIGIL_ESC_EMERGENCY},  {7, true, VIGIL_ESC_EMERGENCY},
        {20, true, VIGIL_ESC_EMERGENCY},
    };
    for (size_t i = 0; i < N_OF(cases); i++) {
        vigil_news2 n;
        memset(&n, 0, sizeof n);
        n.total = cases[i].total;
        n.single_param_3 = cases[i].s3;
        assert_int_equal(vigil_escalation_level_from_news2(&n), cases[i].want);
    }
    /* one real set per reachable response */
    for (int rr = 8; rr <= 25; rr++) {
        for (int hr = 40; hr <= 135; hr += 5) {
            vigil_obs o;
            normal_obs(&o);
            o.rr_bpm = rr;
            o.hr_bpm = hr;
            vigil_news2 n = score(&o);
            assert_int_equal(vigil_escalation_level_from_news2(&n), by_response[n.response]);
        }
    }
}

static void escalation_level_names_are_stable(void **state)
{
    (void)state;
    static const char *const want[] = {"none", "ward", "urgent-ward", "urgent", "emergency"};
    for (int l = 0; l < VIGIL_ESC_LEVEL_COUNT; l++) {
        assert_string_equal(vigil_escalation_level_name((vigil_esc_level)l), want[l]);
        assert_string_not_equal(vigil_escalation_level_text((vigil_esc_level)l), "?");
    }
    assert_string_equal(vigil_escalation_level_name(VIGIL_ESC_LEVEL_COUNT), "?");
    assert_string_equal(vigil_escalation_action_name(VIGIL_ESC_ACT_REALERT), "realert");
    assert_string_equal(vigil_escalation_ack_action_name(VIGIL_ESC_ACK_DECLINED), "declined");
    assert_string_equal(vigil_escalation_caller_name(VIGIL_ESC_CALLER_CARER), "carer");
    assert_true(strstr(vigil_escalation_level_text(VIGIL_ESC_EMERGENCY), "critical-care") != NULL);
}

/* REQ ESC-NEWS2-INCOMPLETE */
static void escalation_incomplete_set_counts_at_its_lower_bound(void **state)
{
    (void)state;
    vigil_escalation_config cfg;
    test_cfg(&cfg);
    vigil_escalation_inputs in;
    inputs_at(VIGIL_ESC_NONE, &in);
    vigil_obs o;
    vigil_obs_init(&o);
    o.rr_bpm = 25; /* RR alone: 3, a lower bound */
    o.temp_c = 37.0;
    in.news2 = score(&o);
    vigil_escalation_result r;
    assert_int_equal(level_of(&cfg, &in, T0, &r), VIGIL_ESC_URGENT_WARD);
    assert_true(r.news2_incomplete);
    const vigil_esc_reason *x = find_reason(&r, VIGIL_ESC_R_NEWS2_INCOMPLETE);
    assert_non_null(x);
    assert_int_equal(x->value2, 3);
    assert_true((unsigned)x->value & (1u << VIGIL_NEWS2_HR));
    assert_false((unsigned)x->value & (1u << VIGIL_NEWS2_RR));
    char buf[256];
    vigil_escalation_reason_describe(x, buf, sizeof buf);
    assert_non_null(strstr(buf, "lower bound"));
    assert_non_null(strstr(buf, "spo2"));
    assert_non_null(strstr(buf, "complete the set"));
    assert_null(strstr(buf, "missing rr"));
    /* the NEWS2 reason itself drives the level */
    const vigil_esc_reason *n = find_reason(&r, VIGIL_ESC_R_NEWS2);
    assert_non_null(n);
    assert_true(n->drives);
}

/* REQ ESC-NEWS2-INCOMPLETE: an incomplete set at 0 lowers nothing */
static void escalation_incomplete_set_never_lowers_other_sources(void **state)
{
    (void)state;
    vigil_escalation_config cfg;
    test_cfg(&cfg);
    vigil_escalation_inputs in;
    inputs_at(VIGIL_ESC_NONE, &in);
    vigil_obs o;
    vigil_obs_init(&o);
    o.hr_bpm = 70;
    in.news2 = score(&o);
    assert_false(in.news2.complete);
    vigil_escalation_result r;
    assert_int_equal(level_of(&cfg, &in, T0, &r), VIGIL_ESC_NONE);
    in.staff_concern = true;
    assert_int_equal(level_of(&cfg, &in, T0, &r), VIGIL_ESC_URGENT_WARD);
    in.ai_status = VIGIL_ESC_AI_OK;
    in.ai_risk = ai_p_at[VIGIL_ESC_EMERGENCY];
    assert_int_equal(level_of(&cfg, &in, T0, &r), VIGIL_ESC_EMERGENCY);
    assert_true(r.news2_incomplete);
}

static void escalation_not_validated_news2_is_reported(void **state)
{
    (void)state;
    vigil_escalation_config cfg;
    test_cfg(&cfg);
    vigil_escalation_inputs in;
    inputs_at(VIGIL_ESC_NONE, &in);
    vigil_obs o;
    obs_at(VIGIL_ESC_WARD, &o);
    o.age_y = 14;
    in.news2 = score(&o);
    vigil_escalation_result r;
    assert_int_equal(level_of(&cfg, &in, T0, &r), VIGIL_ESC_WARD);
    assert_non_null(find_reason(&r, VIGIL_ESC_R_NEWS2_NOT_VALIDATED));
    in.has_news2 = false;
    assert_int_equal(level_of(&cfg, &in, T0, &r), VIGIL_ESC_NONE);
    assert_non_null(find_reason(&r, VIGIL_ESC_R_NEWS2_ABSENT));
    assert_false(r.has_obs_due);
}

/* ------------------------------------------------------------------------ */
/* AI                                                                       */

/* REQ ESC-AI-NEVER-LOWERS REQ ESC-MAX: every (NEWS2, AI) pair gives max(NEWS2, AI), for
 * confident and low-confidence AI. */
static void escalation_ai_never_lowers_news2_for_every_level_pair(void **state)
{
    (void)state;
    vigil_escalation_config cfg;
    test_cfg(&cfg);
    for (int n = 0; n < VIGIL_ESC_LEVEL_COUNT; n++) {
        for (int a = 0; a < VIGIL_ESC_LEVEL_COUNT; a++) {
            for (int conf = VIGIL_ESC_AI_OK; conf <= VIGIL_ESC_AI_LOW_CONFIDENCE; conf++) {
                vigil_escalation_inputs in;
                inputs_at((vigil_esc_level)n, &in);
                in.ai_status = (vigil_esc_ai_status)conf;
                in.ai_risk = ai_p_at[a];
                vigil_escalation_result r;
                vigil_esc_level got = level_of(&cfg, &in, T0, &r);
                if (got != max_l((vigil_esc_level)n, (vigil_esc_level)a)) {
                    print_error("news2 %d ai %d conf %d -> %d\n", n, a, conf, (int)got);
                }
                assert_int_equal(got, max_l((vigil_esc_level)n, (vigil_esc_level)a));
                assert_true(got >= n);
                assert_int_equal(r.source_level[VIGIL_ESC_SRC_NEWS2], n);
                assert_int_equal(r.source_level[VIGIL_ESC_SRC_AI], a);
                assert_true(r.ai_used);
            }
        }
    }
}

/* REQ ESC-AI-THRESHOLDS: at or above a threshold maps to its level */
static void escalation_ai_thresholds_map_at_their_boundaries(void **state)
{
    (void)state;
    vigil_escalation_config cfg;
    test_cfg(&cfg);
    static const struct {
        double p;
        vigil_esc_level want;
    } cases[] = {
        {0.0, VIGIL_ESC_NONE},      {0.0499, VIGIL_ESC_NONE},      {0.05, VIGIL_ESC_WARD},
        {0.0999, VIGIL_ESC_WARD},   {0.10, VIGIL_ESC_URGENT_WARD}, {0.1999, VIGIL_ESC_URGENT_WARD},
        {0.20, VIGIL_ESC_URGENT},   {0.3999, VIGIL_ESC_URGENT},    {0.40, VIGIL_ESC_EMERGENCY},
        {1.0, VIGIL_ESC_EMERGENCY}, {NAN, VIGIL_ESC_NONE},
    };
    for (size_t i = 0; i < N_OF(cases); i++) {
        assert_int_equal(vigil_escalation_level_from_ai(&cfg, cases[i].p), cases[i].want);
    }
    /* a site that never lets the AI alone call outreach: emergency off */
    cfg.ai_threshold[VIGIL_ESC_EMERGENCY] = VIGIL_ESC_AI_OFF;
    assert_int_equal(vigil_escalation_config_check(&cfg, NULL), VIGIL_OK);
    assert_int_equal(vigil_escalation_level_from_ai(&cfg, 0.99), VIGIL_ESC_URGENT);
    /* defaults: every threshold off, the AI raises nothing until a site sets them */
    vigil_escalation_config_init(&cfg);
    assert_int_equal(vigil_escalation_level_from_ai(&cfg, 1.0), VIGIL_ESC_NONE);
}

static void escalation_config_check_refuses_unsafe_settings(void **state)
{
    (void)state;
    vigil_escalation_config ok;
    test_cfg(&ok);
    assert_int_equal(vigil_escalation_config_check(&ok, NULL), VIGIL_OK);
    vigil_escalation_config_init(&ok);
    assert_int_equal(vigil_escalation_config_check(&ok, NULL), VIGIL_OK);
    test_cfg(&ok);
    static const struct {
        int which;
        const char *field;
    } cases[] = {
        {0, "ai_threshold"},    {1, "ai_threshold"},    {2, "ai_threshold"},
        {3, "realert_ms"},      {4, "rota_steps"},      {5, "rota_steps"},
        {6, "obs_interval_ms"}, {7, "obs_interval_ms"}, {8, "feels_interval_ms"},
    };
    for (size_t i = 0; i < N_OF(cases); i++) {
        vigil_escalation_config c = ok;
        switch (cases[i].which) {
        case 0: /* emergency needs a lower probability than urgent */
            c.ai_threshold[VIGIL_ESC_EMERGENCY] = 0.15;
            break;
        case 1:
            c.ai_threshold[VIGIL_ESC_WARD] = 0.0;
            break;
        case 2:
            c.ai_threshold[VIGIL_ESC_URGENT] = NAN;
            break;
        case 3:
            c.realert_ms[VIGIL_ESC_EMERGENCY] = 0;
            break;
        case 4:
            c.rota_steps = 0;
            break;
        case 5:
            c.rota_steps = 17;
            break;
        case 6:
            c.obs_interval_ms[VIGIL_MON_HOURLY] = 0;
            break;
        case 7: /* continuous observed less often than hourly */
            c.obs_interval_ms[VIGIL_MON_CONTINUOUS] = 2 * HOUR;
            break;
        default:
            c.feels_interval_ms = -1;
            break;
        }
        vigil_err e = {0};
        assert_int_equal(vigil_escalation_config_check(&c, &e), VIGIL_ERR_ARG);
        assert_string_equal(e.field, cases[i].field);
        /* and step refuses to run on it */
        vigil_escalation_state st;
        vigil_escalation_state_init(&st);
        vigil_escalation_inputs in;
        inputs_at(VIGIL_ESC_NONE, &in);
        vigil_escalation_result r;
        assert_int_equal(vigil_escalation_step(&c, &st, &in, T0, &st, &r, NULL), VIGIL_ERR_ARG);
    }
    assert_int_equal(vigil_escalation_config_check(NULL, NULL), VIGIL_ERR_ARG);
}

static void escalation_absent_ai_adds_nothing_and_is_reported(void **state)
{
    (void)state;
    vigil_escalation_config cfg;
    test_cfg(&cfg);
    vigil_escalation_inputs in;
    inputs_at(VIGIL_ESC_URGENT_WARD, &in);
    in.ai_risk = 0.99; /* ignored: no model score */
    vigil_escalation_result r;
    assert_int_equal(level_of(&cfg, &in, T0, &r), VIGIL_ESC_URGENT_WARD);
    assert_false(r.ai_used);
    assert_non_null(find_reason(&r, VIGIL_ESC_R_AI_ABSENT));
    assert_null(find_reason(&r, VIGIL_ESC_R_AI));
}

/* REQ ESC-OPTOUT */
static void escalation_optout_removes_ai_and_is_reported(void **state)
{
    (void)state;
    vigil_escalation_config cfg;
    test_cfg(&cfg);
    for (int n = 0; n < VIGIL_ESC_LEVEL_COUNT; n++) {
        vigil_escalation_inputs in;
        inputs_at((vigil_esc_level)n, &in);
        in.ai_status = VIGIL_ESC_AI_OK;
        in.ai_risk = ai_p_at[VIGIL_ESC_EMERGENCY];
        in.ai_opted_out = true;
        vigil_escalation_result r;
        assert_int_equal(level_of(&cfg, &in, T0, &r), n);
        assert_false(r.ai_used);
        assert_true(r.ai_opted_out);
        assert_int_equal(r.source_level[VIGIL_ESC_SRC_AI], VIGIL_ESC_NONE);
        assert_non_null(find_reason(&r, VIGIL_ESC_R_AI_OPTED_OUT));
        assert_null(find_reason(&r, VIGIL_ESC_R_AI));
    }
    /* concerns still count for an opted-out patient */
    vigil_escalation_inputs in;
    inputs_at(VIGIL_ESC_NONE, &in);
    in.ai_opted_out = true;
    in.staff_concern = true;
    vigil_escalation_result r;
    assert_int_equal(level_of(&cfg, &in, T0, &r), VIGIL_ESC_URGENT_WARD);
}

/* REQ ESC-AI-LOW-CONFIDENCE */
static void escalation_low_confidence_ai_still_raises_and_is_shown(void **state)
{
    (void)state;
    vigil_escalation_config cfg;
    test_cfg(&cfg);
    vigil_escalation_inputs in;
    inputs_at(VIGIL_ESC_WARD, &in);
    in.ai_status = VIGIL_ESC_AI_LOW_CONFIDENCE;
    in.ai_risk = ai_p_at[VIGIL_ESC_URGENT];
    vigil_escalation_result r;
    assert_int_equal(level_of(&cfg, &in, T0, &r), VIGIL_ESC_URGENT);
    assert_true(r.ai_low_confidence);
    assert_non_null(find_reason(&r, VIGIL_ESC_R_AI_LOW_CONFIDENCE));
    const vigil_esc_reason *a = find_reason(&r, VIGIL_ESC_R_AI);
    assert_non_null(a);
    assert_true(a->drives);
    assert_int_equal(a->value, 300);
}

/* ------------------------------------------------------------------------ */
/* Staff concern, Martha's Rule                                             */

/* REQ ESC-CONCERN */
static void escalation_staff_concern_is_at_least_urgent_ward(void **state)
{
    (void)state;
    vigil_escalation_config cfg;
    test_cfg(&cfg);
    for (int n = 0; n < VIGIL_ESC_LEVEL_COUNT; n++) {
        for (int a = 0; a < VIGIL_ESC_LEVEL_COUNT; a++) {
            vigil_escalation_inputs in;
            inputs_at((vigil_esc_level)n, &in);
            in.ai_status = VIGIL_ESC_AI_OK;
            in.ai_risk = ai_p_at[a];
            in.staff_concern = true;
            vigil_escalation_result r;
            vigil_esc_level want =
                max_l(VIGIL_ESC_URGENT_WARD, max_l((vigil_esc_level)n, (vigil_esc_level)a));
            assert_int_equal(level_of(&cfg, &in, T0, &r), want);
            assert_non_null(find_reason(&r, VIGIL_ESC_R_STAFF_CONCERN));
        }
    }
    /* no NEWS2 at all: still urgent-ward */
    vigil_escalation_inputs in;
    vigil_escalation_inputs_init(&in);
    in.staff_concern = true;
    vigil_escalation_result r;
    assert_int_equal(level_of(&cfg, &in, T0, &r), VIGIL_ESC_URGENT_WARD);
    assert_true(find_reason(&r, VIGIL_ESC_R_STAFF_CONCERN)->drives);
}

/* REQ ESC-MARTHA */
static void escalation_martha_call_alerts_outreach_whatever_the_scores(void **state)
{
    (void)state;
    vigil_escalation_config cfg;
    test_cfg(&cfg);
    for (int n = 0; n < VIGIL_ESC_LEVEL_COUNT; n++) {
        for (int c = 0; c < VIGIL_ESC_CALLER_COUNT; c++) {
            vigil_escalation_inputs in;
            inputs_at((vigil_esc_level)n, &in);
            in.ai_opted_out = true;
            in.n_martha = 1;
            in.martha[0].seq = 10;
            in.martha[0].caller = (vigil_esc_caller)c;
            vigil_escalation_state st;
            vigil_escalation_state_init(&st);
            vigil_escalation_result r;
            step_ok(&cfg, &st, &in, T0, &r);
            assert_int_equal(r.level, VIGIL_ESC_EMERGENCY);
            assert_int_equal(r.source_level[VIGIL_ESC_SRC_MARTHA], VIGIL_ESC_EMERGENCY);
            assert_int_equal(count_actions(&r, VIGIL_ESC_ACT_ALERT, VIGIL_ESC_ALERT_MARTHA), 1);
            const vigil_esc_action *a = NULL;
            for (size_t i = 0; i < r.n_actions; i++) {
                if (r.actions[i].alert_kind == VIGIL_ESC_ALERT_MARTHA) {
                    a = &r.actions[i];
                }
            }
            assert_non_null(a);
            assert_int_equal(a->level, VIGIL_ESC_EMERGENCY);
            assert_int_equal(a->martha_seq, 10);
            assert_false(a->untracked);
            assert_int_equal(st.martha[0].caller, c);
            assert_true(find_reason(&r, VIGIL_ESC_R_MARTHA)->drives);
            /* the episode follows the clinical level only */
            assert_int_equal(r.clinical_level, n);
        }
    }
}

/* REQ ESC-MARTHA-NOT-MERGED */
static void escalation_martha_calls_are_never_merged(void **state)
{
    (void)state;
    vigil_escalation_config cfg;
    test_cfg(&cfg);
    vigil_escalation_state st;
    vigil_escalation_state_init(&st);
    vigil_escalation_inputs in;
    inputs_at(VIGIL_ESC_EMERGENCY, &in);
    vigil_escalation_result r;
    step_ok(&cfg, &st, &in, T0, &r);
    assert_true(st.episode_open);
    uint64_t episode_id = st.episode.id;
    /* two calls in one step while an emergency episode is open */
    in.n_martha = 2;
    in.martha[0].seq = 1;
    in.martha[0].caller = VIGIL_ESC_CALLER_FAMILY;
    in.martha[1].seq = 2;
    in.martha[1].caller = VIGIL_ESC_CALLER_FAMILY;
    step_ok(&cfg, &st, &in, T0 + MIN, &r);
    assert_int_equal(count_actions(&r, VIGIL_ESC_ACT_ALERT, VIGIL_ESC_ALERT_MARTHA), 2);
    assert_int_equal(count_actions(&r, VIGIL_ESC_ACT_ALERT, VIGIL_ESC_ALERT_EPISODE), 0);
    assert_int_equal(st.n_martha, 2);
    assert_true(st.martha[0].id != st.martha[1].id);
    assert_true(st.martha[0].id != episode_id);
    assert_int_equal(st.episode.id, episode_id);
    /* a third call later, same caller: a third alert */
    in.martha[2].seq = 3;
    in.n_martha = 3;
    step_ok(&cfg, &st, &in, T0 + 2 * MIN, &r);
    assert_int_equal(count_actions(&r, VIGIL_ESC_ACT_ALERT, VIGIL_ESC_ALERT_MARTHA), 1);
    assert_int_equal(st.n_martha, 3);
    assert_int_equal(r.n_martha_open, 3);
    assert_int_equal(find_reason(&r, VIGIL_ESC_R_MARTHA)->value, 3);
}

/* REQ ESC-MARTHA: one alert per call, however often it is passed in */
static void escalation_martha_call_alerts_once_per_seq_in_seq_order(void **state)
{
    (void)state;
    vigil_escalation_config cfg;
    test_cfg(&cfg);
    vigil_escalation_state st;
    vigil_escalation_state_init(&st);
    vigil_escalation_inputs in;
    inputs_at(VIGIL_ESC_NONE, &in);
    in.n_martha = 3;
    in.martha[0].seq = 7;
    in.martha[1].seq = 5;
    in.martha[2].seq = 7; /* the same call twice */
    vigil_escalation_result r;
    step_ok(&cfg, &st, &in, T0, &r);
    assert_int_equal(count_actions(&r, VIGIL_ESC_ACT_ALERT, VIGIL_ESC_ALERT_MARTHA), 2);
    assert_int_equal(r.actions[0].martha_seq, 5);
    assert_int_equal(r.actions[1].martha_seq, 7);
    assert_int_equal(st.martha_last_seq, 7);
    step_ok(&cfg, &st, &in, T0 + MIN, &r);
    assert_int_equal(count_actions(&r, VIGIL_ESC_ACT_ALERT, VIGIL_ESC_ALERT_MARTHA), 0);
    assert_int_equal(st.n_martha, 2);
}

/* REQ ESC-MARTHA REQ ESC-REALERT */
static void escalation_martha_call_repeats_until_acknowledged(void **state)
{
    (void)state;
    vigil_escalation_config cfg;
    test_cfg(&cfg);
    vigil_escalation_state st;
    vigil_escalation_state_init(&st);
    vigil_escalation_inputs in;
    inputs_at(VIGIL_ESC_NONE, &in);
    in.n_martha = 1;
    in.martha[0].seq = 1;
    in.martha[0].caller = VIGIL_ESC_CALLER_PATIENT;
    vigil_escalation_result r;
    step_ok(&cfg, &st, &in, T0, &r);
    uint64_t id = st.martha[0].id;
    int64_t iv = cfg.realert_ms[VIGIL_ESC_EMERGENCY];
    step_ok(&cfg, &st, &in, T0 + iv - 1, &r);
    assert_int_equal(count_actions(&r, VIGIL_ESC_ACT_REALERT, VIGIL_ESC_ALERT_MARTHA), 0);
    step_ok(&cfg, &st, &in, T0 + iv, &r);
    assert_int_equal(count_actions(&r, VIGIL_ESC_ACT_REALERT, VIGIL_ESC_ALERT_MARTHA), 1);
    assert_int_equal(st.martha[0].rota_step, 1);
    /* declining a Martha's Rule call needs a reason too */
    vigil_esc_ack a = make_ack(id, VIGIL_ESC_ACK_DECLINED, "  ");
    assert_int_equal(vigil_escalation_ack(&st, &a, T0 + iv + MIN, &st, NULL, NULL), VIGIL_ERR_ARG);
    assert_int_equal(st.n_martha, 1);
    vigil_esc_ack rec;
    a = make_ack(id, VIGIL_ESC_ACK_ATTENDING, "outreach on the way");
    assert_int_equal(vigil_escalation_ack(&st, &a, T0 + iv + MIN, &st, &rec, NULL), VIGIL_OK);
    assert_int_equal(rec.at_ms, T0 + iv + MIN);
    assert_int_equal(rec.alert_id, id);
    assert_int_equal(st.n_martha, 0);
    step_ok(&cfg, &st, &in, T0 + 10 * iv, &r);
    assert_int_equal(r.n_actions, 0);
    assert_int_equal(r.level, VIGIL_ESC_NONE);
}

/* REQ ESC-MARTHA: beyond the tracking table a call still alerts */
static void escalation_martha_overflow_still_alerts_and_is_reported(void **state)
{
    (void)state;
    vigil_escalation_config cfg;
    test_cfg(&cfg);
    vigil_escalation_state st;
    vigil_escalation_state_init(&st);
    vigil_escalation_inputs in;
    inputs_at(VIGIL_ESC_NONE, &in);
    in.n_martha = VIGIL_ESC_MARTHA_MAX;
    for (size_t i = 0; i < VIGIL_ESC_MARTHA_MAX; i++) {
        in.martha[i].seq = (int64_t)i + 1;
    }
    vigil_escalation_result r;
    step_ok(&cfg, &st, &in, T0, &r);
    assert_int_equal(st.n_martha, VIGIL_ESC_MARTHA_MAX);
    assert_null(find_reason(&r, VIGIL_ESC_R_MARTHA_UNTRACKED));
    in.n_martha = 1;
    in.martha[0].seq = 100;
    step_ok(&cfg, &st, &in, T0 + MIN, &r);
    assert_int_equal(count_actions(&r, VIGIL_ESC_ACT_ALERT, VIGIL_ESC_ALERT_MARTHA), 1);
    assert_true(r.actions[0].untracked);
    assert_int_equal(r.actions[0].martha_seq, 100);
    assert_int_equal(find_reason(&r, VIGIL_ESC_R_MARTHA_UNTRACKED)->value, 1);
    assert_int_equal(st.n_martha, VIGIL_ESC_MARTHA_MAX);
    assert_int_equal(r.level, VIGIL_ESC_EMERGENCY);
    /* and it is not alerted again */
    step_ok(&cfg, &st, &in, T0 + 2 * MIN, &r);
    assert_int_equal(count_actions(&r, VIGIL_ESC_ACT_ALERT, VIGIL_ESC_ALERT_MARTHA), 0);
}

/* ------------------------------------------------------------------------ */
/* Revised escalation plan                                                  */

/* REQ ESC-PLAN */
static void escalation_plan_sets_news2_level_only_within_the_usual_range(void **state)
{
    (void)state;
    vigil_escalation_config cfg;
    test_cfg(&cfg);
    vigil_escalation_inputs in;
    inputs_at(VIGIL_ESC_URGENT, &in); /* NEWS2 5 */
    in.plan = make_plan(VIGIL_ESC_WARD, 5, T0 + 24 * HOUR);
    vigil_escalation_result r;
    assert_int_equal(level_of(&cfg, &in, T0, &r), VIGIL_ESC_WARD);
    assert_true(r.plan_applied);
    assert_int_equal(r.news2_level, VIGIL_ESC_URGENT);
    const vigil_esc_reason *p = find_reason(&r, VIGIL_ESC_R_PLAN_APPLIED);
    assert_non_null(p);
    assert_true(p->drives);
    assert_int_equal(p->value, VIGIL_ESC_URGENT);
    assert_false(find_reason(&r, VIGIL_ESC_R_NEWS2)->drives);
    /* total 7 is above the usual 5: NEWS2 applies as charted */
    inputs_at(VIGIL_ESC_EMERGENCY, &in);
    in.plan = make_plan(VIGIL_ESC_WARD, 5, T0 + 24 * HOUR);
    assert_int_equal(level_of(&cfg, &in, T0, &r), VIGIL_ESC_EMERGENCY);
    assert_false(r.plan_applied);
    const vigil_esc_reason *a = find_reason(&r, VIGIL_ESC_R_PLAN_ABOVE_USUAL);
    assert_non_null(a);
    assert_int_equal(a->value, 7);
    assert_int_equal(a->value2, 5);
    /* a plan may also raise the NEWS2 level */
    inputs_at(VIGIL_ESC_WARD, &in);
    in.plan = make_plan(VIGIL_ESC_URGENT_WARD, 3, T0 + 24 * HOUR);
    assert_int_equal(level_of(&cfg, &in, T0, &r), VIGIL_ESC_URGENT_WARD);
}

/* REQ ESC-PLAN-EXPIRES */
static void escalation_plan_expires_exactly_at_its_expiry_time(void **state)
{
    (void)state;
    vigil_escalation_config cfg;
    test_cfg(&cfg);
    int64_t exp = T0 + 2 * HOUR;
    static const struct {
        int64_t dt;
        bool applied;
    } cases[] = {{-2 * HOUR, true}, {-1, true}, {0, false}, {1, false}, {HOUR, false}};
    for (size_t i = 0; i < N_OF(cases); i++) {
        vigil_escalation_inputs in;
        inputs_at(VIGIL_ESC_URGENT, &in);
        in.news2_t_ms = exp + cases[i].dt; /* fresh set, not stale */
        in.feels_t_ms = in.news2_t_ms;
        in.plan = make_plan(VIGIL_ESC_WARD, 5, exp);
        vigil_escalation_result r;
        vigil_esc_level got = level_of(&cfg, &in, exp + cases[i].dt, &r);
        assert_int_equal(r.plan_applied, cases[i].applied);
        assert_int_equal(got, cases[i].applied ? VIGIL_ESC_WARD : VIGIL_ESC_URGENT);
        assert_int_equal(find_reason(&r, VIGIL_ESC_R_PLAN_EXPIRED) != NULL, !cases[i].applied);
    }
}

/* REQ ESC-PLAN-NEVER-OVERRIDES-CONCERN */
static void escalation_plan_never_overrides_staff_or_family_concern(void **state)
{
    (void)state;
    vigil_escalation_config cfg;
    test_cfg(&cfg);
    vigil_escalation_inputs in;
    inputs_at(VIGIL_ESC_URGENT, &in);
    in.plan = make_plan(VIGIL_ESC_NONE, 6, T0 + HOUR);
    vigil_escalation_result r;
    assert_int_equal(level_of(&cfg, &in, T0, &r), VIGIL_ESC_NONE);
    in.staff_concern = true;
    assert_int_equal(level_of(&cfg, &in, T0, &r), VIGIL_ESC_URGENT_WARD);
    assert_true(r.plan_applied);
    in.n_martha = 1;
    in.martha[0].seq = 1;
    in.martha[0].caller = VIGIL_ESC_CALLER_CARER;
    assert_int_equal(level_of(&cfg, &in, T0, &r), VIGIL_ESC_EMERGENCY);
    assert_int_equal(count_actions(&r, VIGIL_ESC_ACT_ALERT, VIGIL_ESC_ALERT_MARTHA), 1);
}

/* REQ ESC-PLAN REQ ESC-AI-NEVER-LOWERS: the plan does not touch the AI */
static void escalation_plan_never_lowers_the_ai(void **state)
{
    (void)state;
    vigil_escalation_config cfg;
    test_cfg(&cfg);
    for (int a = 0; a < VIGIL_ESC_LEVEL_COUNT; a++) {
        vigil_escalation_inputs in;
        inputs_at(VIGIL_ESC_URGENT, &in);
        in.plan = make_plan(VIGIL_ESC_NONE, 6, T0 + HOUR);
        in.ai_status = VIGIL_ESC_AI_OK;
        in.ai_risk = ai_p_at[a];
        vigil_escalation_result r;
        assert_int_equal(level_of(&cfg, &in, T0, &r), a);
        assert_int_equal(r.source_level[VIGIL_ESC_SRC_AI], a);
    }
}

/* REQ ESC-PLAN-COMPLETE-ONLY REQ ESC-PLAN-NOT-CONSCIOUSNESS */
static void escalation_plan_needs_complete_set_and_alert_patient(void **state)
{
    (void)state;
    vigil_escalation_config cfg;
    test_cfg(&cfg);
    vigil_escalation_inputs in;
    inputs_at(VIGIL_ESC_NONE, &in);
    vigil_obs o;
    obs_at(VIGIL_ESC_URGENT, &o);
    o.sbp_mmhg = NAN;
    in.news2 = score(&o);
    in.plan = make_plan(VIGIL_ESC_NONE, 6, T0 + HOUR);
    vigil_escalation_result r;
    assert_int_equal(level_of(&cfg, &in, T0, &r), VIGIL_ESC_URGENT);
    assert_false(r.plan_applied);
    assert_non_null(find_reason(&r, VIGIL_ESC_R_PLAN_NEEDS_COMPLETE_SET));
    /* new confusion: total 3, within a usual 6, but never covered */
    normal_obs(&o);
    o.acvpu = VIGIL_ACVPU_C;
    in.news2 = score(&o);
    assert_int_equal(in.news2.total, 3);
    assert_int_equal(level_of(&cfg, &in, T0, &r), VIGIL_ESC_URGENT_WARD);
    assert_false(r.plan_applied);
    assert_non_null(find_reason(&r, VIGIL_ESC_R_PLAN_CONSCIOUSNESS));
}

static void escalation_plan_without_who_why_or_expiry_is_refused(void **state)
{
    (void)state;
    vigil_escalation_config cfg;
    test_cfg(&cfg);
    static const char *const fields[] = {
        "plan.by", "plan.reason", "plan.expires_ms", "plan.news2_usual_max", "plan.level",
    };
    for (size_t i = 0; i < N_OF(fields); i++) {
        vigil_esc_plan p = make_plan(VIGIL_ESC_WARD, 5, T0 + HOUR);
        assert_int_equal(vigil_escalation_plan_check(&p, NULL), VIGIL_OK);
        switch (i) {
        case 0:
            strncpy(p.by, " \t", sizeof p.by);
            break;
        case 1:
            p.reason[0] = '\0';
            break;
        case 2:
            p.expires_ms = p.recorded_ms;
            break;
        case 3:
            p.news2_usual_max = 21;
            break;
        default:
            p.level = VIGIL_ESC_LEVEL_COUNT;
            break;
        }
        vigil_err e = {0};
        assert_int_equal(vigil_escalation_plan_check(&p, &e), VIGIL_ERR_ARG);
        assert_string_equal(e.field, fields[i]);
        vigil_escalation_inputs in;
        inputs_at(VIGIL_ESC_URGENT, &in);
        in.plan = p;
        vigil_escalation_state st;
        vigil_escalation_state_init(&st);
        vigil_escalation_result r;
        assert_int_equal(vigil_escalation_step(&cfg, &st, &in, T0, &st, &r, &e), VIGIL_ERR_ARG);
    }
}

/* ------------------------------------------------------------------------ */
/* Episodes and alerts                                                      */

/* REQ ESC-EPISODE */
static void escalation_one_alert_per_episode_not_at_same_or_lower(void **state)
{
    (void)state;
    vigil_escalation_config cfg;
    test_cfg(&cfg);
    vigil_escalation_state st;
    vigil_escalation_state_init(&st);
    vigil_escalation_inputs in;
    inputs_at(VIGIL_ESC_URGENT, &in);
    vigil_escalation_result r;
    step_ok(&cfg, &st, &in, T0, &r);
    assert_int_equal(r.n_actions, 1);
    assert_int_equal(r.actions[0].kind, VIGIL_ESC_ACT_ALERT);
    assert_int_equal(r.actions[0].level, VIGIL_ESC_URGENT);
    assert_int_equal(st.n_episodes, 1);
    ack_ok(&st, st.episode.id, VIGIL_ESC_ACK_ATTENDING, "", T0 + MIN);
    /* same level, then lower, for hours: nothing more */
    static const vigil_esc_level seq[] = {VIGIL_ESC_URGENT, VIGIL_ESC_URGENT_WARD, VIGIL_ESC_WARD,
                                          VIGIL_ESC_URGENT};
    for (size_t i = 0; i < N_OF(seq); i++) {
        inputs_at(seq[i], &in);
        step_ok(&cfg, &st, &in, T0 + (int64_t)(i + 1) * HOUR, &r);
        assert_int_equal(r.n_actions, 0);
        assert_int_equal(st.n_episodes, 1);
        assert_int_equal(r.level, seq[i]);
    }
}

/* REQ ESC-EPISODE */
static void escalation_higher_level_opens_a_new_episode_with_a_new_alert(void **state)
{
    (void)state;
    vigil_escalation_config cfg;
    test_cfg(&cfg);
    static const vigil_esc_level rising[] = {VIGIL_ESC_WARD, VIGIL_ESC_URGENT_WARD,
                                             VIGIL_ESC_URGENT, VIGIL_ESC_EMERGENCY};
    vigil_escalation_state st;
    vigil_escalation_state_init(&st);
    uint64_t prev_id = 0;
    for (size_t i = 0; i < N_OF(rising); i++) {
        vigil_escalation_inputs in;
        inputs_at(rising[i], &in);
        vigil_escalation_result r;
        step_ok(&cfg, &st, &in, T0 + (int64_t)i * MIN, &r);
        size_t want = i == 0 ? 1 : 2;
        assert_int_equal(r.n_actions, want);
        if (i > 0) {
            assert_int_equal(r.actions[0].kind, VIGIL_ESC_ACT_CLOSE);
            assert_true(r.actions[0].superseded);
            assert_int_equal(r.actions[0].alert_id, prev_id);
        }
        const vigil_esc_action *a = &r.actions[want - 1];
        assert_int_equal(a->kind, VIGIL_ESC_ACT_ALERT);
        assert_int_equal(a->level, rising[i]);
        assert_true(a->alert_id != prev_id);
        assert_int_equal(st.episode.level, rising[i]);
        assert_int_equal(st.n_episodes, i + 1);
        prev_id = a->alert_id;
    }
}

/* REQ ESC-EPISODE: the episode remembers its peak */
static void escalation_fall_and_rise_below_the_peak_does_not_realert(void **state)
{
    (void)state;
    vigil_escalation_config cfg;
    test_cfg(&cfg);
    vigil_escalation_state st;
    vigil_escalation_state_init(&st);
    vigil_escalation_inputs in;
    inputs_at(VIGIL_ESC_EMERGENCY, &in);
    vigil_escalation_result r;
    step_ok(&cfg, &st, &in, T0, &r);
    ack_ok(&st, st.episode.id, VIGIL_ESC_ACK_ESCALATED, "ICU review", T0 + MIN);
    inputs_at(VIGIL_ESC_WARD, &in);
    step_ok(&cfg, &st, &in, T0 + HOUR, &r);
    assert_int_equal(r.n_actions, 0);
    inputs_at(VIGIL_ESC_URGENT, &in);
    step_ok(&cfg, &st, &in, T0 + 2 * HOUR, &r);
    assert_int_equal(r.n_actions, 0);
    assert_int_equal(st.episode.level, VIGIL_ESC_EMERGENCY);
    assert_int_equal(r.level, VIGIL_ESC_URGENT);
}

/* REQ ESC-REALERT: repeats exactly at each level's interval, not before */
static void escalation_realert_fires_exactly_at_the_interval_for_each_level(void **state)
{
    (void)state;
    vigil_escalation_config cfg;
    test_cfg(&cfg);
    static const int64_t want_default[VIGIL_ESC_LEVEL_COUNT] = {0, 60 * MIN, 30 * MIN, 15 * MIN,
                                                                5 * MIN};
    for (int l = VIGIL_ESC_WARD; l < VIGIL_ESC_LEVEL_COUNT; l++) {
        int64_t iv = cfg.realert_ms[l];
        assert_int_equal(iv, want_default[l]);
        vigil_escalation_state st;
        vigil_escalation_state_init(&st);
        vigil_escalation_inputs in;
        inputs_at((vigil_esc_level)l, &in);
        vigil_escalation_result r;
        step_ok(&cfg, &st, &in, T0, &r);
        static const struct {
            int64_t at; /* in intervals, plus ms */
            int64_t plus;
            bool fires;
        } ticks[] = {{1, -1, false}, {1, 0, true},  {2, -1, false},
                     {2, 0, true},   {2, 1, false}, {3, 0, true}};
        unsigned sent = 1;
        for (size_t i = 0; i < N_OF(ticks); i++) {
            int64_t now = T0 + ticks[i].at * iv + ticks[i].plus;
            in.news2_t_ms = now; /* keep the set fresh */
            step_ok(&cfg, &st, &in, now, &r);
            size_t n = count_actions(&r, VIGIL_ESC_ACT_REALERT, VIGIL_ESC_ALERT_EPISODE);
            if (n != (ticks[i].fires ? 1u : 0u)) {
                print_error("level %d tick %zu\n", l, i);
            }
            assert_int_equal(n, ticks[i].fires ? 1 : 0);
            if (ticks[i].fires) {
                sent++;
                assert_int_equal(r.actions[0].level, l);
            }
            assert_int_equal(st.episode.n_sent, sent);
        }
    }
}

/* REQ ESC-ROTA */
static void escalation_realert_goes_up_the_rota_and_stays_at_the_top(void **state)
{
    (void)state;
    vigil_escalation_config cfg;
    test_cfg(&cfg);
    cfg.rota_steps = 3;
    vigil_escalation_state st;
    vigil_escalation_state_init(&st);
    vigil_escalation_inputs in;
    inputs_at(VIGIL_ESC_EMERGENCY, &in);
    vigil_escalation_result r;
    step_ok(&cfg, &st, &in, T0, &r);
    assert_int_equal(r.actions[0].rota_step, 0);
    static const unsigned want[] = {1, 2, 2, 2};
    int64_t iv = cfg.realert_ms[VIGIL_ESC_EMERGENCY];
    for (size_t i = 0; i < N_OF(want); i++) {
        int64_t now = T0 + (int64_t)(i + 1) * iv;
        in.news2_t_ms = now;
        step_ok(&cfg, &st, &in, now, &r);
        assert_int_equal(r.n_actions, 1);
        assert_int_equal(r.actions[0].kind, VIGIL_ESC_ACT_REALERT);
        assert_int_equal(r.actions[0].rota_step, want[i]);
        assert_int_equal(r.actions[0].n_sent, i + 2);
        const vigil_esc_reason *u = find_reason(&r, VIGIL_ESC_R_ALERT_UNACKED);
        assert_non_null(u);
        assert_int_equal(u->value2, (int)want[i]);
    }
    /* a one-step rota never moves */
    cfg.rota_steps = 1;
    vigil_escalation_state_init(&st);
    step_ok(&cfg, &st, &in, T0, &r);
    step_ok(&cfg, &st, &in, T0 + iv, &r);
    assert_int_equal(r.actions[0].rota_step, 0);
}

/* REQ ESC-ACK */
static void escalation_ack_records_who_when_what_and_stops_repeats(void **state)
{
    (void)state;
    vigil_escalation_config cfg;
    test_cfg(&cfg);
    vigil_escalation_state st;
    vigil_escalation_state_init(&st);
    vigil_escalation_inputs in;
    inputs_at(VIGIL_ESC_URGENT, &in);
    vigil_escalation_result r;
    step_ok(&cfg, &st, &in, T0, &r);
    vigil_esc_ack a = make_ack(st.episode.id, VIGIL_ESC_ACK_REVIEWED, "fluids, recheck in 1 h");
    vigil_esc_ack rec;
    memset(&rec, 0, sizeof rec);
    assert_int_equal(vigil_escalation_ack(&st, &a, T0 + 7 * MIN, &st, &rec, NULL), VIGIL_OK);
    assert_string_equal(st.episode.ack.by, "nurse.jones");
    assert_int_equal(st.episode.ack.at_ms, T0 + 7 * MIN);
    assert_int_equal(st.episode.ack.action, VIGIL_ESC_ACK_REVIEWED);
    assert_string_equal(st.episode.ack.reason, "fluids, recheck in 1 h");
    assert_memory_equal(&rec, &st.episode.ack, sizeof rec);
    for (int k = 1; k <= 8; k++) {
        in.news2_t_ms = T0 + k * cfg.realert_ms[VIGIL_ESC_URGENT];
        step_ok(&cfg, &st, &in, in.news2_t_ms, &r);
        assert_int_equal(r.n_actions, 0);
        assert_null(find_reason(&r, VIGIL_ESC_R_ALERT_UNACKED));
    }
}

/* REQ ESC-ACK-DECLINE-REASON */
static void escalation_declining_without_a_reason_is_refused(void **state)
{
    (void)state;
    vigil_escalation_config cfg;
    test_cfg(&cfg);
    vigil_escalation_state st;
    vigil_escalation_state_init(&st);
    vigil_escalation_inputs in;
    inputs_at(VIGIL_ESC_URGENT, &in);
    vigil_escalation_result r;
    step_ok(&cfg, &st, &in, T0, &r);
    static const char *const blank[] = {"", " ", "\t\r\n"};
    for (size_t i = 0; i < N_OF(blank); i++) {
        vigil_escalation_state out = st;
        vigil_esc_ack rec;
        memset(&rec, 0x5a, sizeof rec);
        vigil_esc_ack before_rec = rec;
        vigil_esc_ack a = make_ack(st.episode.id, VIGIL_ESC_ACK_DECLINED, blank[i]);
        vigil_err e = {0};
        assert_int_equal(vigil_escalation_ack(&st, &a, T0 + MIN, &out, &rec, &e), VIGIL_ERR_ARG);
        assert_string_equal(e.field, "reason");
        assert_memory_equal(&out, &st, sizeof st);
        assert_memory_equal(&rec, &before_rec, sizeof rec);
    }
    ack_ok(&st, st.episode.id, VIGIL_ESC_ACK_DECLINED, "known chronic tachycardia; seen by reg",
           T0 + MIN);
    assert_int_equal(st.episode.ack.action, VIGIL_ESC_ACK_DECLINED);
    /* other actions do not need a reason */
    vigil_escalation_state_init(&st);
    step_ok(&cfg, &st, &in, T0, &r);
    ack_ok(&st, st.episode.id, VIGIL_ESC_ACK_ATTENDING, "", T0 + MIN);
}

static void escalation_ack_refuses_no_who_no_action_or_unknown_alert(void **state)
{
    (void)state;
    vigil_escalation_config cfg;
    test_cfg(&cfg);
    vigil_escalation_state st;
    vigil_escalation_state_init(&st);
    vigil_escalation_inputs in;
    inputs_at(VIGIL_ESC_URGENT, &in);
    vigil_escalation_result r;
    step_ok(&cfg, &st, &in, T0, &r);
    uint64_t id = st.episode.id;
    vigil_esc_ack a = make_ack(id, VIGIL_ESC_ACK_ATTENDING, "");
    a.by[0] = '\0';
    assert_int_equal(vigil_escalation_ack(&st, &a, T0, &st, NULL, NULL), VIGIL_ERR_ARG);
    a = make_ack(id, VIGIL_ESC_ACK_NONE, "x");
    assert_int_equal(vigil_escalation_ack(&st, &a, T0, &st, NULL, NULL), VIGIL_ERR_ARG);
    a = make_ack(id, VIGIL_ESC_ACK_ACTION_COUNT, "x");
    assert_int_equal(vigil_escalation_ack(&st, &a, T0, &st, NULL, NULL), VIGIL_ERR_ARG);
    a = make_ack(id + 100, VIGIL_ESC_ACK_ATTENDING, "");
    assert_int_equal(vigil_escalation_ack(&st, &a, T0, &st, NULL, NULL), VIGIL_ERR_NOT_FOUND);
    ack_ok(&st, id, VIGIL_ESC_ACK_ATTENDING, "", T0 + MIN);
    a = make_ack(id, VIGIL_ESC_ACK_REVIEWED, "");
    vigil_err e = {0};
    assert_int_equal(vigil_escalation_ack(&st, &a, T0 + 2 * MIN, &st, NULL, &e),
                     VIGIL_ERR_CONFLICT);
    assert_int_equal(st.episode.ack.at_ms, T0 + MIN);
    assert_int_equal(vigil_escalation_ack(NULL, &a, T0, &st, NULL, NULL), VIGIL_ERR_ARG);
}

/* REQ ESC-EPISODE-CLOSE */
static void escalation_episode_closes_when_acked_and_level_is_none(void **state)
{
    (void)state;
    vigil_escalation_config cfg;
    test_cfg(&cfg);
    vigil_escalation_state st;
    vigil_escalation_state_init(&st);
    vigil_escalation_inputs in;
    inputs_at(VIGIL_ESC_URGENT_WARD, &in);
    vigil_escalation_result r;
    step_ok(&cfg, &st, &in, T0, &r);
    uint64_t id = st.episode.id;
    ack_ok(&st, id, VIGIL_ESC_ACK_REVIEWED, "", T0 + MIN);
    inputs_at(VIGIL_ESC_WARD, &in);
    step_ok(&cfg, &st, &in, T0 + HOUR, &r);
    assert_true(st.episode_open);
    inputs_at(VIGIL_ESC_NONE, &in);
    step_ok(&cfg, &st, &in, T0 + 2 * HOUR, &r);
    assert_false(st.episode_open);
    assert_int_equal(r.n_actions, 1);
    assert_int_equal(r.actions[0].kind, VIGIL_ESC_ACT_CLOSE);
    assert_false(r.actions[0].superseded);
    assert_int_equal(r.actions[0].alert_id, id);
    /* the next rise is a new episode, even to the same level */
    inputs_at(VIGIL_ESC_URGENT_WARD, &in);
    step_ok(&cfg, &st, &in, T0 + 3 * HOUR, &r);
    assert_int_equal(count_actions(&r, VIGIL_ESC_ACT_ALERT, VIGIL_ESC_ALERT_EPISODE), 1);
    assert_int_equal(st.n_episodes, 2);
}

/* REQ ESC-EPISODE-CLOSE: closed loop, an unacknowledged alert keeps going */
static void escalation_unacknowledged_episode_stays_open_after_level_falls(void **state)
{
    (void)state;
    vigil_escalation_config cfg;
    test_cfg(&cfg);
    vigil_escalation_state st;
    vigil_escalation_state_init(&st);
    vigil_escalation_inputs in;
    inputs_at(VIGIL_ESC_EMERGENCY, &in);
    vigil_escalation_result r;
    step_ok(&cfg, &st, &in, T0, &r);
    inputs_at(VIGIL_ESC_NONE, &in);
    int64_t iv = cfg.realert_ms[VIGIL_ESC_EMERGENCY];
    in.news2_t_ms = T0 + iv;
    step_ok(&cfg, &st, &in, T0 + iv, &r);
    assert_true(st.episode_open);
    assert_int_equal(r.level, VIGIL_ESC_NONE);
    assert_int_equal(count_actions(&r, VIGIL_ESC_ACT_REALERT, VIGIL_ESC_ALERT_EPISODE), 1);
    assert_int_equal(r.actions[0].level, VIGIL_ESC_EMERGENCY);
    ack_ok(&st, st.episode.id, VIGIL_ESC_ACK_REVIEWED, "set was a device error", T0 + iv + 1);
    step_ok(&cfg, &st, &in, T0 + iv + 2, &r);
    assert_false(st.episode_open);
}

/* REQ ESC-EPISODE-CLOSE REQ ESC-NEWS2-INCOMPLETE */
static void escalation_incomplete_set_at_none_does_not_close_an_episode(void **state)
{
    (void)state;
    vigil_escalation_config cfg;
    test_cfg(&cfg);
    vigil_escalation_state st;
    vigil_escalation_state_init(&st);
    vigil_escalation_inputs in;
    inputs_at(VIGIL_ESC_URGENT, &in);
    vigil_escalation_result r;
    step_ok(&cfg, &st, &in, T0, &r);
    ack_ok(&st, st.episode.id, VIGIL_ESC_ACK_ATTENDING, "", T0 + MIN);
    vigil_obs o;
    vigil_obs_init(&o);
    o.hr_bpm = 70;
    in.news2 = score(&o);
    in.news2_t_ms = T0 + HOUR;
    step_ok(&cfg, &st, &in, T0 + HOUR, &r);
    assert_int_equal(r.level, VIGIL_ESC_NONE);
    assert_true(st.episode_open);
    assert_int_equal(r.n_actions, 0);
    /* staff concern withdrawn, no NEWS2 at all: nothing holds it open */
    in.has_news2 = false;
    step_ok(&cfg, &st, &in, T0 + 2 * HOUR, &r);
    assert_false(st.episode_open);
}

/* ------------------------------------------------------------------------ */
/* Observation schedule                                                     */

/* REQ ESC-OBS-DUE REQ ESC-OBS-OVERDUE REQ ESC-STALE */
static void escalation_obs_due_and_overdue_boundaries_for_each_frequency(void **state)
{
    (void)state;
    vigil_escalation_config cfg;
    test_cfg(&cfg);
    static const struct {
        vigil_esc_level l;
        vigil_news2_monitoring mon;
        int64_t interval;
    } cases[] = {
        {VIGIL_ESC_NONE, VIGIL_MON_12_HOURLY, 12 * HOUR},
        {VIGIL_ESC_WARD, VIGIL_MON_4_6_HOURLY, 4 * HOUR},
        {VIGIL_ESC_URGENT_WARD, VIGIL_MON_HOURLY, HOUR},
        {VIGIL_ESC_URGENT, VIGIL_MON_HOURLY, HOUR},
        {VIGIL_ESC_EMERGENCY, VIGIL_MON_CONTINUOUS, 15 * MIN},
    };
    for (size_t i = 0; i < N_OF(cases); i++) {
        assert_int_equal(vigil_escalation_obs_interval_ms(&cfg, cases[i].mon), cases[i].interval);
        vigil_escalation_inputs in;
        inputs_at(cases[i].l, &in);
        assert_int_equal(in.news2.monitoring, cases[i].mon);
        int64_t due = T0 + cases[i].interval;
        static const struct {
            int64_t dt;
            bool overdue;
        } ticks[] = {{-HOUR * 100, false}, {0, false}, {-1, false}, {1, true}, {MIN, true}};
        for (size_t k = 0; k < N_OF(ticks); k++) {
            int64_t now = due + ticks[k].dt;
            if (now < T0) {
                now = T0;
            }
            vigil_escalation_result r;
            level_of(&cfg, &in, now, &r);
            assert_true(r.has_obs_due);
            assert_int_equal(r.obs_due_ms, due);
            assert_int_equal(r.obs_overdue, ticks[k].overdue);
            assert_int_equal(r.news2_stale, ticks[k].overdue);
            assert_int_equal(find_reason(&r, VIGIL_ESC_R_OBS_OVERDUE) != NULL, ticks[k].overdue);
            assert_int_equal(find_reason(&r, VIGIL_ESC_R_NEWS2_STALE) != NULL, ticks[k].overdue);
        }
    }
    assert_int_equal(vigil_escalation_obs_interval_ms(&cfg, VIGIL_MON_COUNT), 0);
}

/* REQ ESC-STALE: a stale score still counts; it is never shown as current */
static void escalation_stale_score_still_counts_and_is_marked_stale(void **state)
{
    (void)state;
    vigil_escalation_config cfg;
    test_cfg(&cfg);
    vigil_escalation_inputs in;
    inputs_at(VIGIL_ESC_EMERGENCY, &in);
    vigil_escalation_result r;
    assert_int_equal(level_of(&cfg, &in, T0 + 16 * MIN, &r), VIGIL_ESC_EMERGENCY);
    assert_true(r.news2_stale);
    const vigil_esc_reason *s = find_reason(&r, VIGIL_ESC_R_NEWS2_STALE);
    assert_non_null(s);
    assert_int_equal(s->value, 1);
    char buf[128];
    vigil_escalation_reason_describe(s, buf, sizeof buf);
    assert_string_equal(buf, "NEWS2 score is 1 min past its due time: stale, not current");
}

/* REQ ESC-OBS-DUE: an incomplete set never postpones the due time */
static void escalation_incomplete_set_never_postpones_obs_due(void **state)
{
    (void)state;
    vigil_escalation_config cfg;
    test_cfg(&cfg);
    vigil_escalation_state st;
    vigil_escalation_state_init(&st);
    vigil_escalation_inputs in;
    inputs_at(VIGIL_ESC_NONE, &in); /* complete, 12-hourly, at T0 */
    vigil_escalation_result r;
    step_ok(&cfg, &st, &in, T0, &r);
    assert_int_equal(r.obs_due_ms, T0 + 12 * HOUR);
    /* HR alone at T0+1h, scoring 0: the due time stays at 12 h */
    vigil_obs o;
    vigil_obs_init(&o);
    o.hr_bpm = 70;
    in.news2 = score(&o);
    in.news2_t_ms = T0 + HOUR;
    step_ok(&cfg, &st, &in, T0 + HOUR, &r);
    assert_int_equal(r.obs_due_ms, T0 + 12 * HOUR);
    /* HR alone scoring 3 (hourly, lower bound): due at T0+1h+1h */
    o.hr_bpm = 135;
    in.news2 = score(&o);
    step_ok(&cfg, &st, &in, T0 + HOUR, &r);
    assert_int_equal(r.obs_due_ms, T0 + 2 * HOUR);
    /* the clock is the last complete set's, kept in the state */
    assert_true(st.has_complete_set);
    assert_int_equal(st.complete_t_ms, T0);
    /* a fresh complete set resets it */
    inputs_at(VIGIL_ESC_WARD, &in);
    in.news2_t_ms = T0 + 3 * HOUR;
    step_ok(&cfg, &st, &in, T0 + 3 * HOUR, &r);
    assert_int_equal(r.obs_due_ms, T0 + 3 * HOUR + 4 * HOUR);
}

/* REQ ESC-OBS-DUE */
static void escalation_incomplete_set_with_no_complete_set_is_due_now(void **state)
{
    (void)state;
    vigil_escalation_config cfg;
    test_cfg(&cfg);
    vigil_escalation_inputs in;
    inputs_at(VIGIL_ESC_NONE, &in);
    vigil_obs o;
    vigil_obs_init(&o);
    o.temp_c = 37;
    in.news2 = score(&o);
    vigil_escalation_result r;
    level_of(&cfg, &in, T0, &r);
    assert_int_equal(r.obs_due_ms, T0);
    assert_false(r.obs_overdue);
    level_of(&cfg, &in, T0 + 1, &r);
    assert_true(r.obs_overdue);
}

/* ------------------------------------------------------------------------ */
/* Better / same / worse                                                    */

/* REQ ESC-FEELS-WORSE */
static void escalation_feels_worse_goes_on_ward_list_not_the_level(void **state)
{
    (void)state;
    vigil_escalation_config cfg;
    test_cfg(&cfg);
    static const struct {
        vigil_esc_feels f;
        bool worse;
    } cases[] = {{VIGIL_ESC_FEELS_BETTER, false},
                 {VIGIL_ESC_FEELS_SAME, false},
                 {VIGIL_ESC_FEELS_WORSE, true}};
    for (int l = 0; l < VIGIL_ESC_LEVEL_COUNT; l++) {
        for (size_t i = 0; i < N_OF(cases); i++) {
            vigil_escalation_inputs in;
            inputs_at((vigil_esc_level)l, &in);
            in.feels = cases[i].f;
            vigil_escalation_result r;
            assert_int_equal(level_of(&cfg, &in, T0, &r), l);
            assert_int_equal(r.ward_list_worse, cases[i].worse);
            assert_int_equal(find_reason(&r, VIGIL_ESC_R_FEELS_WORSE) != NULL, cases[i].worse);
        }
    }
}

/* REQ ESC-FEELS-DUE: asked at least daily */
static void escalation_feels_question_is_due_after_a_day(void **state)
{
    (void)state;
    vigil_escalation_config cfg;
    test_cfg(&cfg);
    vigil_escalation_inputs in;
    inputs_at(VIGIL_ESC_NONE, &in);
    static const struct {
        int64_t dt;
        bool due;
    } cases[] = {{0, false}, {24 * HOUR - 1, false}, {24 * HOUR, false}, {24 * HOUR + 1, true}};
    for (size_t i = 0; i < N_OF(cases); i++) {
        in.news2_t_ms = T0 + cases[i].dt;
        vigil_escalation_result r;
        level_of(&cfg, &in, T0 + cases[i].dt, &r);
        assert_int_equal(r.feels_due, cases[i].due);
    }
    in.feels = VIGIL_ESC_FEELS_UNKNOWN;
    vigil_escalation_result r;
    level_of(&cfg, &in, T0, &r);
    assert_true(r.feels_due);
    assert_non_null(find_reason(&r, VIGIL_ESC_R_FEELS_DUE));
}

/* ------------------------------------------------------------------------ */
/* Reasons, errors, aliasing                                                */

/* REQ ESC-REASONS */
static void escalation_reasons_list_drivers_first_in_plain_words(void **state)
{
    (void)state;
    vigil_escalation_config cfg;
    test_cfg(&cfg);
    vigil_escalation_inputs in;
    inputs_at(VIGIL_ESC_URGENT, &in);
    in.staff_concern = true;
    in.ai_status = VIGIL_ESC_AI_OK;
    in.ai_risk = 0.25; /* urgent */
    vigil_escalation_result r;
    assert_int_equal(level_of(&cfg, &in, T0, &r), VIGIL_ESC_URGENT);
    assert_true(r.n_reasons >= 3);
    /* two sources drive (NEWS2 and AI, both urgent), in code order */
    assert_int_equal(r.reasons[0].code, VIGIL_ESC_R_NEWS2);
    assert_true(r.reasons[0].drives);
    assert_int_equal(r.reasons[1].code, VIGIL_ESC_R_AI);
    assert_true(r.reasons[1].drives);
    assert_int_equal(r.reasons[2].code, VIGIL_ESC_R_STAFF_CONCERN);
    assert_false(r.reasons[2].drives);
    for (size_t i = 3; i < r.n_reasons; i++) {
        assert_false(r.reasons[i].drives);
    }
    char buf[256];
    vigil_escalation_reason_describe(&r.reasons[0], buf, sizeof buf);
    assert_string_equal(buf, "NEWS2 5: urgent review by a clinician competent in acute illness");
    vigil_escalation_reason_describe(&r.reasons[1], buf, sizeof buf);
    assert_string_equal(buf,
                        "AI risk 25.0%: urgent review by a clinician competent in acute illness");
    /* truncation is safe and reports the length needed */
    char small[8];
    size_t need = vigil_escalation_reason_describe(&r.reasons[0], small, sizeof small);
    assert_int_equal(need, strlen(buf) - strlen("AI risk 25.0%") + strlen("NEWS2 5"));
    assert_int_equal(strlen(small), sizeof small - 1);
}

static void escalation_every_reason_has_a_name_and_plain_words(void **state)
{
    (void)state;
    for (int c = 0; c < VIGIL_ESC_REASON_COUNT; c++) {
        const char *n = vigil_escalation_reason_name((vigil_esc_reason_code)c);
        const char *t = vigil_escalation_reason_text((vigil_esc_reason_code)c);
        assert_string_not_equal(n, "?");
        assert_true(strlen(t) > 10);
        for (int d = 0; d < c; d++) {
            assert_string_not_equal(n, vigil_escalation_reason_name((vigil_esc_reason_code)d));
        }
        vigil_esc_reason r = {(vigil_esc_reason_code)c, VIGIL_ESC_WARD, false, 1, 1};
        char buf[512];
        assert_true(vigil_escalation_reason_describe(&r, buf, sizeof buf) > 10);
    }
    assert_string_equal(vigil_escalation_reason_name(VIGIL_ESC_REASON_COUNT), "?");
}

static void escalation_bad_inputs_are_refused_and_outputs_unchanged(void **state)
{
    (void)state;
    vigil_escalation_config cfg;
    test_cfg(&cfg);
    static const char *const fields[] = {"ai_risk", "ai_risk", "martha", "martha",
                                         "martha",  "feels",   "news2",  "ai_status"};
    for (size_t i = 0; i < N_OF(fields); i++) {
        vigil_escalation_inputs in;
        inputs_at(VIGIL_ESC_URGENT, &in);
        switch (i) {
        case 0:
            in.ai_status = VIGIL_ESC_AI_OK;
            in.ai_risk = NAN;
            break;
        case 1:
            in.ai_status = VIGIL_ESC_AI_LOW_CONFIDENCE;
            in.ai_risk = 1.5;
            break;
        case 2:
            in.n_martha = VIGIL_ESC_MARTHA_MAX + 1;
            break;
        case 3:
            in.n_martha = 1;
            in.martha[0].seq = 0;
            break;
        case 4:
            in.n_martha = 1;
            in.martha[0].seq = 1;
            in.martha[0].caller = VIGIL_ESC_CALLER_COUNT;
            break;
        case 5:
            in.feels = VIGIL_ESC_FEELS_COUNT;
            break;
        case 6:
            in.news2.total = 21;
            break;
        default:
            in.ai_status = VIGIL_ESC_AI_STATUS_COUNT;
            break;
        }
        vigil_escalation_state st;
        vigil_escalation_state_init(&st);
        vigil_escalation_state out;
        memset(&out, 0xa5, sizeof out);
        vigil_escalation_state out_before = out;
        vigil_escalation_result r;
        memset(&r, 0xa5, sizeof r);
        vigil_escalation_result r_before = r;
        vigil_err e = {0};
        assert_int_equal(vigil_escalation_step(&cfg, &st, &in, T0, &out, &r, &e), VIGIL_ERR_ARG);
        assert_string_equal(e.field, fields[i]);
        assert_memory_equal(&out, &out_before, sizeof out);
        assert_memory_equal(&r, &r_before, sizeof r);
    }
    /* a state nobody initialised is refused, not guessed */
    vigil_escalation_state zero;
    memset(&zero, 0, sizeof zero);
    vigil_escalation_inputs in;
    inputs_at(VIGIL_ESC_NONE, &in);
    vigil_escalation_result r;
    vigil_err e = {0};
    assert_int_equal(vigil_escalation_step(&cfg, &zero, &in, T0, &zero, &r, &e), VIGIL_ERR_ARG);
    assert_string_equal(e.field, "state");
    assert_int_equal(vigil_escalation_step(&cfg, NULL, &in, T0, &zero, &r, NULL), VIGIL_ERR_ARG);
}

static void escalation_step_is_deterministic_and_out_may_alias_in(void **state)
{
    (void)state;
    vigil_escalation_config cfg;
    test_cfg(&cfg);
    vigil_escalation_inputs in;
    inputs_at(VIGIL_ESC_URGENT, &in);
    in.n_martha = 1;
    in.martha[0].seq = 4;
    vigil_escalation_state a, b;
    vigil_escalation_state_init(&a);
    vigil_escalation_state_init(&b);
    vigil_escalation_state b_out;
    vigil_escalation_result ra, rb;
    memset(&ra, 0, sizeof ra);
    memset(&rb, 0, sizeof rb);
    for (int k = 0; k < 5; k++) {
        int64_t now = T0 + k * 7 * MIN;
        assert_int_equal(vigil_escalation_step(&cfg, &a, &in, now, &a, &ra, NULL), VIGIL_OK);
        assert_int_equal(vigil_escalation_step(&cfg, &b, &in, now, &b_out, &rb, NULL), VIGIL_OK);
        b = b_out;
        assert_memory_equal(&a, &b, sizeof a);
        assert_int_equal(ra.n_actions, rb.n_actions);
        assert_memory_equal(ra.actions, rb.actions, ra.n_actions * sizeof ra.actions[0]);
        assert_int_equal(ra.level, rb.level);
    }
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(escalation_news2_sets_map_to_levels_by_rcp_band),
    cmocka_unit_test(escalation_news2_map_agrees_with_chart4_response),
    cmocka_unit_test(escalation_level_names_are_stable),
    cmocka_unit_test(escalation_incomplete_set_counts_at_its_lower_bound),
    cmocka_unit_test(escalation_incomplete_set_never_lowers_other_sources),
    cmocka_unit_test(escalation_not_validated_news2_is_reported),
    cmocka_unit_test(escalation_ai_never_lowers_news2_for_every_level_pair),
    cmocka_unit_test(escalation_ai_thresholds_map_at_their_boundaries),
    cmocka_unit_test(escalation_config_check_refuses_unsafe_settings),
    cmocka_unit_test(escalation_absent_ai_adds_nothing_and_is_reported),
    cmocka_unit_test(escalation_optout_removes_ai_and_is_reported),
    cmocka_unit_test(escalation_low_confidence_ai_still_raises_and_is_shown),
    cmocka_unit_test(escalation_staff_concern_is_at_least_urgent_ward),
    cmocka_unit_test(escalation_martha_call_alerts_outreach_whatever_the_scores),
    cmocka_unit_test(escalation_martha_calls_are_never_merged),
    cmocka_unit_test(escalation_martha_call_alerts_once_per_seq_in_seq_order),
    cmocka_unit_test(escalation_martha_call_repeats_until_acknowledged),
    cmocka_unit_test(escalation_martha_overflow_still_alerts_and_is_reported),
    cmocka_unit_test(escalation_plan_sets_news2_level_only_within_the_usual_range),
    cmocka_unit_test(escalation_plan_expires_exactly_at_its_expiry_time),
    cmocka_unit_test(escalation_plan_never_overrides_staff_or_family_concern),
    cmocka_unit_test(escalation_plan_never_lowers_the_ai),
    cmocka_unit_test(escalation_plan_needs_complete_set_and_alert_patient),
    cmocka_unit_test(escalation_plan_without_who_why_or_expiry_is_refused),
    cmocka_unit_test(escalation_one_alert_per_episode_not_at_same_or_lower),
    cmocka_unit_test(escalation_higher_level_opens_a_new_episode_with_a_new_alert),
    cmocka_unit_test(escalation_fall_and_rise_below_the_peak_does_not_realert),
    cmocka_unit_test(escalation_realert_fires_exactly_at_the_interval_for_each_level),
    cmocka_unit_test(escalation_realert_goes_up_the_rota_and_stays_at_the_top),
    cmocka_unit_test(escalation_ack_records_who_when_what_and_stops_repeats),
    cmocka_unit_test(escalation_declining_without_a_reason_is_refused),
    cmocka_unit_test(escalation_ack_refuses_no_who_no_action_or_unknown_alert),
    cmocka_unit_test(escalation_episode_closes_when_acked_and_level_is_none),
    cmocka_unit_test(escalation_unacknowledged_episode_stays_open_after_level_falls),
    cmocka_unit_test(escalation_incomplete_set_at_none_does_not_close_an_episode),
    cmocka_unit_test(escalation_obs_due_and_overdue_boundaries_for_each_frequency),
    cmocka_unit_test(escalation_stale_score_still_counts_and_is_marked_stale),
    cmocka_unit_test(escalation_incomplete_set_never_postpones_obs_due),
    cmocka_unit_test(escalation_incomplete_set_with_no_complete_set_is_due_now),
    cmocka_unit_test(escalation_feels_worse_goes_on_ward_list_not_the_level),
    cmocka_unit_test(escalation_feels_question_is_due_after_a_day),
    cmocka_unit_test(escalation_reasons_list_drivers_first_in_plain_words),
    cmocka_unit_test(escalation_every_reason_has_a_name_and_plain_words),
    cmocka_unit_test(escalation_bad_inputs_are_refused_and_outputs_unchanged),
    cmocka_unit_test(escalation_step_is_deterministic_and_out_may_alias_in),
};

VIGIL_TEST_MAIN(tests)
