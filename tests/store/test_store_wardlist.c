/* test_store_wardlist.c: the ward list and the patient view as the store
 * layer assembles them (src/store/wardlist.c) from the backend's primitive
 * reads: the same rows, field for field, as a golden file written before the
 * assembly left the SQLite backend (issue 15 item 1; issue 13 item 10). */
#include <math.h>

#include "store_fixture.h"
#include "wardlist_dump.h"

#define WL_GOLDEN "tests/golden/store/ward_list.txt"

/* A ward of every kind of row the list shows: scored with AI, a partial set
 * after a complete one, no set, an unscored set, a moved and a discharged
 * patient; opt-out, Scale 2, a plan, daily answers, episodes, Martha's Rule
 * calls (one reviewed). Fixed times, so the rows are the same every run. */
static void build_ward(fx *f, int64_t pid[6])
{
    fx_user(f, "dr.patel", VIGIL_STORE_ROLE_DOCTOR);
    const char *names[6] = {"Ann Able", "Bob Brown", "Cy Cole", "Dee Dunn", "Eve East", "Fay Ford"};
    const char *beds[6] = {"03", "01", "02", "04", "05", "06"};
    char nhs[6][11];
    int64_t adm[6];
    for (int i = 0; i < 6; i++) {
        fx_nhs(5100u + (unsigned)i, nhs[i]);
        char mrn[16];
        snprintf(mrn, sizeof mrn, "M%d", 40 + i);
        pid[i] = fx_patient(f, nhs[i], i % 2 == 0 ? mrn : NULL, names[i]);
        assert_int_equal(
            vigil_store_admit(f->st, &FX_NURSE, pid[i], "7A", beds[i], T0 + i * MIN_MS, &adm[i], NULL),
            VIGIL_OK);
    }
    vigil_obs_event ev;
    /* 0: a complete scored set with AI, then a later complete one */
    fx_event(&ev, nhs[0], "A-1", T0 + HOUR_MS);
    ev.obs.rr_bpm = 25;
    vigil_store_score sc = fx_score(&ev, T0 + HOUR_MS);
    vigil_store_ai ai = {0.9, 0.3125, NULL, "m2", false};
    sc.ai = &ai;
    fx_put(f, &ev, &sc);
    fx_event(&ev, nhs[0], "A-2", T0 + 2 * HOUR_MS);
    sc = fx_score(&ev, T0 + 2 * HOUR_MS);
    vigil_store_ai ai2 = {0.1, 0.0625, NULL, "m2", true};
    sc.ai = &ai2;
    fx_put(f, &ev, &sc);
    /* 1: complete, then a high partial, then a lower partial (the latest) */
    fx_event(&ev, nhs[1], "B-1", T0 + HOUR_MS);
    sc = fx_score(&ev, T0 + HOUR_MS);
    fx_put(f, &ev, &sc);
    fx_event(&ev, nhs[1], "B-2", T0 + 2 * HOUR_MS);
    ev.obs.temp_c = NAN;
    ev.obs.sbp_mmhg = 85;
    sc = fx_score(&ev, T0 + 2 * HOUR_MS);
    fx_put(f, &ev, &sc);
    fx_event(&ev, nhs[1], "B-3", T0 + 3 * HOUR_MS);
    ev.obs.temp_c = NAN;
    sc = fx_score(&ev, T0 + 3 * HOUR_MS);
    fx_put(f, &ev, &sc);
    /* 2: no set. 3: an unscored set only */
    fx_event(&ev, nhs[3], "D-1", T0 + HOUR_MS);
    fx_put(f, &ev, NULL);
    /* 4: partial sets only */
    fx_event(&ev, nhs[4], "E-1", T0 + HOUR_MS);
    ev.obs.spo2_pct = NAN;
    sc = fx_score(&ev, T0 + HOUR_MS);
    fx_put(f, &ev, &sc);
    int64_t id = 0, ep = 0, al = 0;
    assert_int_equal(vigil_store_daily_answer(f->st, &FX_NURSE, pid[0], T0 + HOUR_MS,
                                              VIGIL_STORE_FEEL_WORSE, &id, NULL),
                     VIGIL_OK);
    assert_int_equal(vigil_store_ai_optout(f->st, &FX_NURSE, pid[3], T0, "no AI", &id, NULL),
                     VIGIL_OK);
    assert_int_equal(
        vigil_store_scale2_set(f->st, &FX_DOCTOR, pid[1], T0 + MIN_MS, "COPD, target 88-92", &id,
                               NULL),
        VIGIL_OK);
    vigil_store_plan plan = {pid[0], T0 + HOUR_MS, "frail, lives with COPD", "ward care; 999 if worse",
                             T0 + 10 * HOUR_MS, T0 + 20 * HOUR_MS, VIGIL_ESC_WARD, 5};
    assert_int_equal(vigil_store_plan_add(f->st, &FX_DOCTOR, &plan, &id, NULL), VIGIL_OK);
    assert_int_equal(vigil_store_episode_open(f->st, &FX_FEED, pid[0], VIGIL_RESP_URGENT_WARD,
                                              VIGIL_STORE_TRIGGER_NEWS2, 1, 0, T0 + HOUR_MS, &ep,
                                              &al, NULL),
                     VIGIL_OK);
    assert_int_equal(vigil_store_episode_open(f->st, &FX_FEED, pid[1], VIGIL_RESP_URGENT,
                                              VIGIL_STORE_TRIGGER_NEWS2, 2, 0, T0 + 2 * HOUR_MS,
                                              &ep, &al, NULL),
                     VIGIL_OK);
    vigil_store_marthas_call c = {pid[4], VIGIL_STORE_CALLER_FAMILY, "son", "phone",
                                  T0 + HOUR_MS, "not himself today"};
    int64_t call = 0;
    assert_int_equal(vigil_store_marthas_call_add(f->st, &FX_NURSE, &c, &call, NULL), VIGIL_OK);
    assert_int_equal(vigil_store_marthas_call_add(f->st, &FX_NURSE, &c, &call, NULL), VIGIL_OK);
    vigil_store_marthas_review r = {call, "outreach", T0 + 2 * HOUR_MS,
                                    VIGIL_STORE_MR_ACUTE_DETERIORATION,
                                    VIGIL_STORE_MR_CHANGE_IN_CARE, NULL};
    assert_int_equal(vigil_store_marthas_review_add(f->st, &FX_NURSE, &r, &id, NULL), VIGIL_OK);
    /* 5 moves to 7B; 2 is discharged */
    assert_int_equal(vigil_store_move(f->st, &FX_NURSE, adm[5], "7B", "01", T0 + HOUR_MS, NULL),
                     VIGIL_OK);
    assert_int_equal(vigil_store_discharge(f->st, &FX_NURSE, adm[2], T0 + HOUR_MS, NULL),
                     VIGIL_OK);
}

/* The two wards and every patient's view at now_ms, as text. */
static void dump_world(vigil_store *st, const int64_t pid[6], int64_t now_ms, wl_text *t)
{
    const char *wards[] = {"7A", "7B", "7Z"};
    for (size_t w = 0; w < 3; w++) {
        vigil_store_ward_list l;
        vigil_err e = {0};
        assert_int_equal(vigil_store_ward_list_get(st, &FX_NURSE, wards[w], now_ms, &l, &e),
                         VIGIL_OK);
        wl_list(t, wards[w], &l);
        vigil_store_ward_list_fini(&l);
    }
    for (int i = 0; i < 6; i++) {
        vigil_store_patient_current c;
        vigil_err e = {0};
        assert_int_equal(vigil_store_patient_current_get(st, &FX_NURSE, pid[i], now_ms, &c, &e),
                         VIGIL_OK);
        wl_current(t, &c);
    }
}

static void ward_list_and_patient_views_match_the_golden_file(void **state)
{
    fx *f = *state;
    int64_t pid[6];
    build_ward(f, pid);
    wl_text t = {0};
    dump_world(f->st, pid, T0 + 4 * HOUR_MS, &t);
    dump_world(f->st, pid, T0 + 30 * HOUR_MS, &t); /* the plan has expired */
    const char *root = getenv("VIGIL_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root != NULL ? root : ".", WL_GOLDEN);
    if (getenv("VIGIL_GOLDEN_WRITE") != NULL) { /* a reviewed change only */
        FILE *o = fopen(path, "wb");
        assert_non_null(o);
        assert_int_equal(fwrite(t.s, 1, t.n, o), t.n);
        fclose(o);
    }
    FILE *in = fopen(path, "rb");
    if (in == NULL) {
        fail_msg("cannot open %s", path);
    }
    char *want = calloc(1, 1 << 16);
    assert_non_null(want);
    size_t n = fread(want, 1, (1 << 16) - 1, in);
    fclose(in);
    want[n] = '\0';
    assert_string_equal(t.s, want);
    free(want);
    free(t.s);
}

/* clang-format off */
static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(ward_list_and_patient_views_match_the_golden_file, fx_setup, fx_teardown),
};
/* clang-format on */

VIGIL_TEST_MAIN(tests)
