/*
 * test_replay.c: the messages `vigil replay` sends (src/replay), read back
 * with vigil's own HL7 reader (vigil_hl7_decode, default options, as the
 * MLLP listener reads them): every ADT^A01 and ORU^R01 built from real
 * PhysioNet stays (the first 60 of 2019 training_setA, the first 25 of 2012
 * set-a) is AA, and every identifier, time and value comes back equal to
 * what the data set holds. Also: the synthetic NHS numbers (all 900,000 are
 * valid, start 999 and are distinct), stay numbers, grouping into sets,
 * bounds, escaping and buffer limits.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vigil/data.h"
#include "vigil/hl7.h"
#include "vigil/replay.h"
#include "vigil_test.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))
#define T_ADMIT 1735689600000LL /* 2025-01-01T00:00:00Z */

/* ---- synthetic NHS numbers -------------------------------------------------- */

/* REQ REPLAY-SYNTHETIC-NHS */
static void every_synthetic_nhs_number_is_valid_in_the_999_range_and_distinct(void **state)
{
    (void)state;
    unsigned char *seen = calloc(1000000, 1);
    assert_non_null(seen);
    for (unsigned long n = 0; n < 900000ul; n++) {
        char nhs[11];
        assert_int_equal(vigil_replay_nhs_number(n, nhs), VIGIL_OK);
        assert_int_equal(strlen(nhs), 10);
        assert_memory_equal(nhs, "999", 3);
        if (!vigil_nhs_number_valid(nhs)) {
            fail_msg("n=%lu gives %s, not a valid NHS number", n, nhs);
        }
        long body = strtol(nhs + 3, NULL, 10) / 10; /* the 6 digits before the check digit */
        if (seen[body]) {
            fail_msg("n=%lu gives %s twice", n, nhs);
        }
        seen[body] = 1;
    }
    free(seen);
    char nhs[11];
    assert_int_equal(vigil_replay_nhs_number(900000ul, nhs), VIGIL_ERR_ARG);
    /* fixed points, checked by hand: 999 00000 0 -> weights give sum 243, 243 % 11 = 1,
     * check 10: invalid, so n=0 takes the next digit, 1 (sum 245, check 8) */
    assert_int_equal(vigil_replay_nhs_number(0, nhs), VIGIL_OK);
    assert_string_equal(nhs, "9990000018");
    assert_int_equal(vigil_replay_nhs_number(1, nhs), VIGIL_OK);
    assert_string_equal(nhs, "9990000026");
}

static void stay_numbers_are_the_digits_of_the_stay_id(void **state)
{
    (void)state;
    unsigned long n = 99;
    assert_int_equal(vigil_replay_stay_number("p000001", &n), VIGIL_OK);
    assert_int_equal(n, 1);
    assert_int_equal(vigil_replay_stay_number("p100001", &n), VIGIL_OK);
    assert_int_equal(n, 100001);
    assert_int_equal(vigil_replay_stay_number("132539", &n), VIGIL_OK);
    assert_int_equal(n, 132539);
    assert_int_equal(vigil_replay_stay_number("p", &n), VIGIL_ERR_ARG);
    assert_int_equal(vigil_replay_stay_number("12x3", &n), VIGIL_ERR_ARG);
    assert_int_equal(vigil_replay_stay_number("900000", &n), VIGIL_ERR_ARG);
    assert_int_equal(vigil_replay_stay_number("p12345678901234567890", &n), VIGIL_ERR_ARG);
}

/* ---- grouping ----------------------------------------------------------------- */

static void sets_group_by_time_keep_only_vitals_and_leave_out_what_hl7_refuses(void **state)
{
    (void)state;
    const vigil_meas m[] = {
        {2.0, 80.0, VIGIL_VAR_HR},   {2.0, 0.19, VIGIL_VAR_FIO2}, /* 19 %: below 20 */
        {1.0, 36.6, VIGIL_VAR_TEMP}, {1.0, 7.31, VIGIL_VAR_PH},  /* not a vital */
        {1.0, 0.5, VIGIL_VAR_FIO2},  {2.0, 120.0, VIGIL_VAR_SBP},
        {2.0, 110.0, VIGIL_VAR_SBP}, /* second SBP at 2 h: the later one is sent */
        {3.0, 95.0, VIGIL_VAR_SAO2}, /* arterial: never sent as SpO2 */
        {0.5, 18.0, VIGIL_VAR_RESP}, {0.5, NAN, VIGIL_VAR_HR},
    };
    vigil_replay_set sets[N_OF(m)];
    size_t n = 0;
    vigil_replay_counts c;
    memset(&c, 0, sizeof c);
    assert_int_equal(vigil_replay_sets(m, N_OF(m), sets, N_OF(sets), &n, &c), VIGIL_OK);
    assert_int_equal(n, 3);
    assert_true(sets[0].t_h == 0.5 && sets[1].t_h == 1.0 && sets[2].t_h == 2.0);
    assert_true(sets[0].v[VIGIL_REPLAY_RR] == 18.0 && isnan(sets[0].v[VIGIL_REPLAY_HR]));
    assert_true(sets[1].v[VIGIL_REPLAY_TEMP] == 36.6 && sets[1].v[VIGIL_REPLAY_FIO2] == 50.0);
    assert_true(sets[2].v[VIGIL_REPLAY_HR] == 80.0 && sets[2].v[VIGIL_REPLAY_SBP] == 110.0);
    assert_true(isnan(sets[2].v[VIGIL_REPLAY_FIO2]) && isnan(sets[2].v[VIGIL_REPLAY_SPO2]));
    assert_int_equal(c.n_sets, 3);
    assert_int_equal(c.n_out_of_bounds[VIGIL_REPLAY_FIO2], 1);
    assert_int_equal(c.n_overwritten, 1);
    assert_int_equal(c.n_values[VIGIL_REPLAY_SBP], 1);
    assert_int_equal(vigil_replay_sets(m, N_OF(m), sets, 2, &n, NULL), VIGIL_ERR_NOMEM);
    assert_int_equal(n, 0);
}

/* ---- messages ------------------------------------------------------------------ */

static vigil_replay_patient patient_for(const char *id, const char *ward, double age, int sex)
{
    vigil_stay st;
    memset(&st, 0, sizeof st);
    snprintf(st.id, sizeof st.id, "%s", id);
    st.age_y = age;
    st.sex = sex;
    vigil_replay_patient p;
    vigil_err e = {0};
    vigil_status s = vigil_replay_patient_init(&st, ward, 7, T_ADMIT, &p, &e);
    if (s != VIGIL_OK) {
        fail_msg("patient_init: %s", e.msg);
    }
    return p;
}

/* Decode text as the MLLP listener does; fail unless AA. */
static void decode_aa(const char *text, size_t n, vigil_hl7_result *r)
{
    vigil_status s = vigil_hl7_decode(text, n, NULL, r);
    if (s != VIGIL_OK || r->fault.ack != VIGIL_HL7_AA) {
        fail_msg("not AA (%s): %s\n%s", vigil_hl7_reason_name(r->fault.reason), r->fault.text,
                 text);
    }
}

static void adt_a01_reads_back_with_every_identifier_the_bed_and_the_admit_time(void **state)
{
    (void)state;
    vigil_replay_patient p = patient_for("p000042", "A&E|1^x", 67.5, VIGIL_SEX_FEMALE);
    char msg[VIGIL_REPLAY_MSG_MAX];
    size_t n = 0;
    vigil_replay_msg_opts o = {"RP-1.000001", T_ADMIT + 5000, 'P'};
    vigil_err e = {0};
    assert_int_equal(vigil_replay_adt_a01(&p, &o, msg, sizeof msg, &n, &e), VIGIL_OK);
    assert_int_equal(strlen(msg), n);
    vigil_hl7_result r;
    decode_aa(msg, n, &r);
    assert_int_equal(r.kind, VIGIL_HL7_KIND_ADT);
    assert_int_equal(r.adt.kind, VIGIL_ADT_ADMIT);
    assert_string_equal(r.hdr.control_id, "RP-1.000001");
    assert_string_equal(r.adt.nhs_number, p.nhs_number);
    assert_string_equal(r.adt.mrn, "p000042");
    assert_string_equal(r.adt.visit_number, "p000042");
    assert_string_equal(r.adt.location.ward, "A&E|1^x"); /* escaped, then decoded */
    assert_string_equal(r.adt.location.bed, "BED07");
    assert_string_equal(r.adt.patient_class, "I");
    assert_true(r.adt.has_admit_t);
    assert_int_equal(r.adt.admit_t_ms, T_ADMIT);
    assert_int_equal(r.adt.t_ms, T_ADMIT); /* EVN-6 */
    assert_int_equal(r.hdr.t_ms, T_ADMIT + 5000);
    assert_non_null(strstr(msg, "SYNTHETIC^REPLAY"));
    /* 67.5 years before 2025-01-01: 67 completed years on the admission day */
    assert_string_equal(p.dob, "19570703"); /* 1958-01-01 less 182 days */
}

static void message_options_and_buffers_are_checked(void **state)
{
    (void)state;
    vigil_replay_patient p = patient_for("p000001", "W1", NAN, VIGIL_SEX_UNKNOWN);
    assert_string_equal(p.dob, "");
    assert_int_equal(p.sex, 'U');
    vigil_replay_set s = {1.0, {NAN, NAN, NAN, NAN, NAN, NAN}};
    char msg[VIGIL_REPLAY_MSG_MAX];
    size_t n = 0;
    vigil_replay_msg_opts o = {"C1", T_ADMIT, 'P'};
    assert_int_equal(vigil_replay_oru_r01(&p, &s, T_ADMIT, &o, msg, sizeof msg, &n, NULL),
                     VIGIL_ERR_ARG); /* no vital */
    s.v[VIGIL_REPLAY_HR] = 72.0;
    assert_int_equal(vigil_replay_oru_r01(&p, &s, T_ADMIT, &o, msg, 100, &n, NULL),
                     VIGIL_ERR_NOMEM);
    assert_string_equal(msg, "");
    vigil_replay_msg_opts bad = {"C|1", T_ADMIT, 'P'};
    assert_int_equal(vigil_replay_adt_a01(&p, &bad, msg, sizeof msg, &n, NULL), VIGIL_ERR_ARG);
    vigil_replay_msg_opts bad2 = {"C1", T_ADMIT, 'X'};
    assert_int_equal(vigil_replay_adt_a01(&p, &bad2, msg, sizeof msg, &n, NULL), VIGIL_ERR_ARG);
    vigil_replay_msg_opts tr = {"C1", T_ADMIT, 'T'};
    assert_int_equal(vigil_replay_oru_r01(&p, &s, T_ADMIT, &tr, msg, sizeof msg, &n, NULL),
                     VIGIL_OK);
    vigil_hl7_result r;
    vigil_hl7_decode(msg, n, NULL, &r);
    assert_int_equal(r.fault.ack, VIGIL_HL7_AR); /* training messages: refused by default */
    vigil_stay st;
    memset(&st, 0, sizeof st);
    snprintf(st.id, sizeof st.id, "record-x");
    assert_int_equal(vigil_replay_patient_init(&st, "W1", 1, T_ADMIT, &p, NULL), VIGIL_ERR_ARG);
    char num[32];
    vigil_replay_format_number(36.1, num);
    assert_string_equal(num, "36.1");
    vigil_replay_format_number(97.0, num);
    assert_string_equal(num, "97");
    vigil_replay_format_number(0.00001, num);
    assert_string_equal(num, "0");
    vigil_replay_format_number(38.123456, num);
    assert_string_equal(num, "38.1235");
}

/* ---- round trip on real stays ------------------------------------------------------ */

static const char *shared(const char *rel, char *buf, size_t cap)
{
    const char *d = getenv("VIGIL_DATA_DIR");
    snprintf(buf, cap, "%s/%s", d != NULL ? d : "../shared/data", rel);
    return access(buf, R_OK) == 0 ? buf : NULL;
}

/* The value vigil should read back for vital k sent as v. */
static double sent_value(double v)
{
    char num[32];
    vigil_replay_format_number(v, num);
    return strtod(num, NULL);
}

typedef struct trip {
    size_t stays, sets, values, messages;
} trip;

static void check_oru(const vigil_replay_patient *p, const vigil_replay_set *s, int64_t obs_ms,
                      const char *ctrl, trip *t)
{
    char msg[VIGIL_REPLAY_MSG_MAX];
    size_t n = 0;
    vigil_replay_msg_opts o = {ctrl, obs_ms + 1000, 'P'};
    vigil_err e = {0};
    if (vigil_replay_oru_r01(p, s, obs_ms, &o, msg, sizeof msg, &n, &e) != VIGIL_OK) {
        fail_msg("oru: %s", e.msg);
    }
    vigil_hl7_result r;
    decode_aa(msg, n, &r);
    t->messages++;
    assert_int_equal(r.kind, VIGIL_HL7_KIND_ORU_R01);
    assert_int_equal(r.n_events, 1);
    const vigil_obs_event *ev = &r.events[0];
    assert_string_equal(ev->nhs_number, p->nhs_number);
    assert_string_equal(ev->mrn, p->mrn);
    assert_string_equal(ev->source_id, ctrl);
    assert_string_equal(ev->recorded_by, "REPLAY");
    assert_int_equal(ev->t_ms, obs_ms);
    size_t present = 0;
    const double got[] = {ev->obs.rr_bpm,   ev->obs.spo2_pct, NAN,
                          ev->obs.sbp_mmhg, ev->obs.hr_bpm,   ev->obs.temp_c};
    for (int k = 0; k < VIGIL_REPLAY_VITAL_COUNT; k++) {
        if (k == VIGIL_REPLAY_FIO2) {
            vigil_o2 want = isnan(s->v[k])               ? VIGIL_O2_UNKNOWN
                            : sent_value(s->v[k]) > 21.0 ? VIGIL_O2_OXYGEN
                                                         : VIGIL_O2_AIR;
            assert_int_equal(ev->obs.o2, want);
        } else if (isnan(s->v[k])) {
            if (!isnan(got[k])) {
                fail_msg("%s: %s read back although not sent", ctrl, vigil_replay_vital_name(k));
            }
        } else if (fabs(got[k] - sent_value(s->v[k])) > 1e-9 ||
                   fabs(got[k] - s->v[k]) > 0.5e-4 + 1e-9) {
            fail_msg("%s: %s sent %.6f read %.6f", ctrl, vigil_replay_vital_name(k), s->v[k],
                     got[k]);
        }
        present += !isnan(s->v[k]);
    }
    assert_int_equal(r.oru.n_used, present);
    assert_int_equal(r.oru.n_obx, present);
    assert_int_equal(ev->obs.acvpu, VIGIL_ACVPU_UNKNOWN); /* never invented */
    assert_int_equal(ev->obs.spo2_scale, 1);
    t->values += present;
}

static void round_trip_archive(const char *path, size_t max_files, trip *t)
{
    vigil_data_opts opts;
    vigil_data_opts_init(&opts);
    opts.max_stay_files = max_files;
    vigil_data *d = NULL;
    vigil_err e = {0};
    assert_int_equal(vigil_data_open(path, &opts, &d, &e), VIGIL_OK);
    for (;;) {
        const vigil_stay *st = NULL;
        const vigil_meas *m = NULL;
        size_t nm = 0;
        assert_int_equal(vigil_data_next(d, &st, &m, &nm, &e), VIGIL_OK);
        if (st == NULL) {
            break;
        }
        vigil_replay_patient p;
        if (vigil_replay_patient_init(st, "REPLAY", (unsigned)t->stays + 1, T_ADMIT, &p, &e) !=
            VIGIL_OK) {
            fail_msg("%s: %s", st->id, e.msg);
        }
        t->stays++;
        /* the admission */
        char msg[VIGIL_REPLAY_MSG_MAX], ctrl[64];
        size_t n = 0;
        snprintf(ctrl, sizeof ctrl, "A-%s", st->id);
        vigil_replay_msg_opts o = {ctrl, T_ADMIT, 'P'};
        assert_int_equal(vigil_replay_adt_a01(&p, &o, msg, sizeof msg, &n, &e), VIGIL_OK);
        vigil_hl7_result r;
        decode_aa(msg, n, &r);
        assert_string_equal(r.adt.nhs_number, p.nhs_number);
        t->messages++;
        /* the observation sets, checked against the data set's own measurements */
        vigil_replay_set *sets = calloc(nm + 1, sizeof *sets);
        assert_non_null(sets);
        size_t ns = 0;
        assert_int_equal(vigil_replay_sets(m, nm, sets, nm + 1, &ns, NULL), VIGIL_OK);
        for (size_t i = 0; i < ns; i++) {
            for (size_t j = 0; j < nm; j++) { /* every sent value is one the data set holds */
                if (m[j].t_h == sets[i].t_h && m[j].var == VIGIL_VAR_HR) {
                    assert_true(m[j].value == sets[i].v[VIGIL_REPLAY_HR] ||
                                isnan(sets[i].v[VIGIL_REPLAY_HR]));
                }
            }
            snprintf(ctrl, sizeof ctrl, "O-%s-%zu", st->id, i);
            int64_t obs_ms = T_ADMIT + (int64_t)llround(sets[i].t_h * 3600.0) * 1000;
            check_oru(&p, &sets[i], obs_ms, ctrl, t);
            /* age from the synthetic birth date: the data set's, or one more after a birthday */
            if (p.dob[0] != '\0') {
                vigil_hl7_result rr;
                vigil_replay_msg_opts oo = {ctrl, obs_ms, 'P'};
                vigil_replay_oru_r01(&p, &sets[i], obs_ms, &oo, msg, sizeof msg, &n, NULL);
                decode_aa(msg, n, &rr);
                double age = floor(st->age_y); /* 90 for "90 or older" */
                double got = rr.events[0].obs.age_y;
                if (!(got == age || got == age + 1.0)) {
                    fail_msg("%s: age %.2f read back as %.0f", st->id, st->age_y, got);
                }
            }
        }
        t->sets += ns;
        free(sets);
    }
    vigil_data_close(d);
}

/* Every replayed vital, with its code, unit and bounds from the vital-sign
 * table (REQ VITALS-O2-BOUNDS for FiO2), is read back by the HL7 reader at
 * each bound and in the middle; a value just outside is left out and
 * counted, as the reader would refuse it. */
static void every_replayed_vital_reads_back_at_its_table_bounds(void **state)
{
    (void)state;
    vigil_replay_patient p = patient_for("p000007", "W1", 70.0, VIGIL_SEX_FEMALE);
    static const struct {
        vigil_var var;
        int k;
        double lo, hi, scale; /* the table's bounds; the data set's value = sent / scale */
    } v[] = {
        {VIGIL_VAR_RESP, VIGIL_REPLAY_RR, VIGIL_RR_MIN, VIGIL_RR_MAX, 1.0},
        {VIGIL_VAR_SPO2, VIGIL_REPLAY_SPO2, VIGIL_SPO2_MIN, VIGIL_SPO2_MAX, 1.0},
        {VIGIL_VAR_FIO2, VIGIL_REPLAY_FIO2, 20.0, 100.0, 100.0},
        {VIGIL_VAR_SBP, VIGIL_REPLAY_SBP, VIGIL_SBP_MIN, VIGIL_SBP_MAX, 1.0},
        {VIGIL_VAR_HR, VIGIL_REPLAY_HR, VIGIL_HR_MIN, VIGIL_HR_MAX, 1.0},
        {VIGIL_VAR_TEMP, VIGIL_REPLAY_TEMP, VIGIL_TEMP_MIN, VIGIL_TEMP_MAX, 1.0},
    };
    trip t = {0};
    for (size_t i = 0; i < N_OF(v); i++) {
        const double at[] = {v[i].lo, (v[i].lo + v[i].hi) / 2, v[i].hi};
        for (size_t j = 0; j < N_OF(at); j++) {
            vigil_meas m = {1.0, at[j] / v[i].scale, v[i].var};
            vigil_replay_set s;
            size_t n = 0;
            assert_int_equal(vigil_replay_sets(&m, 1, &s, 1, &n, NULL), VIGIL_OK);
            assert_int_equal(n, 1);
            assert_true(fabs(s.v[v[i].k] - at[j]) < 1e-9);
            char ctrl[32];
            snprintf(ctrl, sizeof ctrl, "B-%zu-%zu", i, j);
            check_oru(&p, &s, T_ADMIT + 60000, ctrl, &t);
        }
        vigil_meas out = {1.0, (v[i].hi + 0.5) / v[i].scale, v[i].var};
        vigil_replay_set s;
        size_t n = 0;
        vigil_replay_counts c;
        memset(&c, 0, sizeof c);
        assert_int_equal(vigil_replay_sets(&out, 1, &s, 1, &n, &c), VIGIL_OK);
        assert_int_equal(n, 0);
        assert_int_equal(c.n_out_of_bounds[v[i].k], 1);
    }
    assert_int_equal(t.values, 3 * N_OF(v));
}

static void real_2019_stays_round_trip_through_the_hl7_reader(void **state)
{
    (void)state;
    char path[4096];
    if (shared("physionet2019/training_setA.tar.gz", path, sizeof path) == NULL) {
        skip();
    }
    trip t = {0};
    round_trip_archive(path, 60, &t);
    assert_int_equal(t.stays, 60);
    assert_true(t.sets > 60 * 10);
    assert_true(t.values > t.sets * 2);
    print_message("2019: %zu stays, %zu sets, %zu values, %zu messages read back\n", t.stays,
                  t.sets, t.values, t.messages);
}

static void real_2012_stays_round_trip_through_the_hl7_reader(void **state)
{
    (void)state;
    char path[4096];
    if (shared("physionet2012/set-a.tar.gz", path, sizeof path) == NULL) {
        skip();
    }
    trip t = {0};
    round_trip_archive(path, 25, &t);
    assert_int_equal(t.stays, 25);
    assert_true(t.sets > 25 * 10);
    print_message("2012: %zu stays, %zu sets, %zu values, %zu messages read back\n", t.stays,
                  t.sets, t.values, t.messages);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(every_synthetic_nhs_number_is_valid_in_the_999_range_and_distinct),
    cmocka_unit_test(stay_numbers_are_the_digits_of_the_stay_id),
    cmocka_unit_test(sets_group_by_time_keep_only_vitals_and_leave_out_what_hl7_refuses),
    cmocka_unit_test(adt_a01_reads_back_with_every_identifier_the_bed_and_the_admit_time),
    cmocka_unit_test(message_options_and_buffers_are_checked),
    cmocka_unit_test(every_replayed_vital_reads_back_at_its_table_bounds),
    cmocka_unit_test(real_2019_stays_round_trip_through_the_hl7_reader),
    cmocka_unit_test(real_2012_stays_round_trip_through_the_hl7_reader),
};

VIGIL_TEST_MAIN(tests)
