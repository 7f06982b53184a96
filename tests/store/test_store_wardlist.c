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

/* ---- rows in memory against rows read fresh ---------------------------------- */

/* Two stores given the same writes: a opened as usual (rows kept in memory),
 * b with VIGIL_STORE_NO_ROW_CACHE (every row read from the backend). */
typedef struct twin {
    fx *a, *b;
    uint64_t rng;
    int64_t pid[8], adm[8];
    char nhs[8][11];
    int64_t scores[64];
    size_t n_scores;
    vigil_obs_event unscored[32];
    int64_t unscored_id[32];
    size_t n_unscored;
    int64_t episodes[32], alerts[32], calls[32], plans[32];
    size_t n_episodes, n_calls, n_plans;
    int n_sid;
} twin;

static uint64_t next(twin *t)
{
    t->rng ^= t->rng << 13; /* xorshift64: the same sequence every run */
    t->rng ^= t->rng >> 7;
    t->rng ^= t->rng << 17;
    return t->rng;
}

static int pick(twin *t, int n)
{
    return (int)(next(t) % (uint64_t)n);
}

static int64_t some_time(twin *t)
{
    return T0 + (int64_t)pick(t, 48 * 60) * MIN_MS;
}

/* Both statuses of one write agree: the stores hold the same rows. */
#define BOTH(call_a, call_b) assert_int_equal((call_a), (call_b))

static void twin_obs(twin *t, bool scored)
{
    int k = pick(t, 8);
    vigil_obs_event ev;
    char sid[32];
    snprintf(sid, sizeof sid, "R-%d", t->n_sid++);
    fx_event(&ev, t->nhs[k], sid, some_time(t));
    ev.obs.rr_bpm = 8 + pick(t, 20);
    ev.obs.sbp_mmhg = 85 + pick(t, 60);
    ev.obs.hr_bpm = 40 + pick(t, 100);
    if (pick(t, 3) == 0) {
        ev.obs.temp_c = NAN; /* an incomplete set */
    }
    if (pick(t, 5) == 0) {
        ev.obs.spo2_pct = NAN;
    }
    vigil_store_score sc = fx_score(&ev, ev.t_ms);
    vigil_store_ai ai = {0.5, (double)pick(t, 1000) / 1000.0, NULL, "m2", pick(t, 2) == 0};
    if (pick(t, 2) == 0) {
        sc.ai = &ai;
    }
    vigil_store_put pa, pb;
    BOTH(vigil_store_put_obs(t->a->st, &FX_FEED, &ev, scored ? &sc : NULL, &pa, NULL),
         vigil_store_put_obs(t->b->st, &FX_FEED, &ev, scored ? &sc : NULL, &pb, NULL));
    assert_int_equal(pa.obs_id, pb.obs_id);
    if (scored && pa.score_id > 0 && t->n_scores < 64) {
        t->scores[t->n_scores++] = pa.score_id;
    } else if (!scored && t->n_unscored < 32) {
        t->unscored[t->n_unscored] = ev;
        t->unscored_id[t->n_unscored++] = pa.obs_id;
    }
}

static void twin_score_later(twin *t)
{
    if (t->n_unscored == 0) {
        return;
    }
    size_t k = (size_t)pick(t, (int)t->n_unscored);
    vigil_store_score sc = fx_score(&t->unscored[k], t->unscored[k].t_ms);
    int64_t ia = 0, ib = 0;
    BOTH(vigil_store_put_score(t->a->st, &FX_FEED, t->unscored_id[k], &sc, &ia, NULL),
         vigil_store_put_score(t->b->st, &FX_FEED, t->unscored_id[k], &sc, &ib, NULL));
    t->unscored[k] = t->unscored[--t->n_unscored];
    t->unscored_id[k] = t->unscored_id[t->n_unscored];
}

static void twin_ai(twin *t)
{
    if (t->n_scores == 0) {
        return;
    }
    vigil_store_ai_item it = {t->scores[pick(t, (int)t->n_scores)],
                              {0.2, (double)pick(t, 1000) / 1000.0, NULL, "m3", pick(t, 2) == 0}};
    vigil_status sa = VIGIL_OK, sb = VIGIL_OK;
    BOTH(vigil_store_put_ai_batch(t->a->st, &FX_FEED, &it, 1, &sa, NULL),
         vigil_store_put_ai_batch(t->b->st, &FX_FEED, &it, 1, &sb, NULL));
    assert_int_equal(sa, sb);
}

static void twin_state(twin *t, int what)
{
    int64_t p = t->pid[pick(t, 8)], at = some_time(t), id = 0;
    switch (what) {
    case 0: {
        vigil_store_feeling f = (vigil_store_feeling)pick(t, 3);
        BOTH(vigil_store_daily_answer(t->a->st, &FX_NURSE, p, at, f, &id, NULL),
             vigil_store_daily_answer(t->b->st, &FX_NURSE, p, at, f, &id, NULL));
        break;
    }
    case 1:
        BOTH(vigil_store_ai_optout(t->a->st, &FX_NURSE, p, at, "no AI", &id, NULL),
             vigil_store_ai_optout(t->b->st, &FX_NURSE, p, at, "no AI", &id, NULL));
        break;
    case 2:
        BOTH(vigil_store_ai_optout_withdraw(t->a->st, &FX_NURSE, p, at, NULL),
             vigil_store_ai_optout_withdraw(t->b->st, &FX_NURSE, p, at, NULL));
        break;
    case 3:
        BOTH(vigil_store_scale2_set(t->a->st, &FX_DOCTOR, p, at, "COPD", &id, NULL),
             vigil_store_scale2_set(t->b->st, &FX_DOCTOR, p, at, "COPD", &id, NULL));
        break;
    case 4:
        BOTH(vigil_store_scale2_end(t->a->st, &FX_DOCTOR, p, at, "better", NULL),
             vigil_store_scale2_end(t->b->st, &FX_DOCTOR, p, at, "better", NULL));
        break;
    default: {
        int64_t review = at + (1 + pick(t, 30)) * HOUR_MS;
        vigil_store_plan plan = {p, at, "frail", "ward care", review,
                                 review + pick(t, 30) * HOUR_MS, (vigil_esc_level)pick(t, 3),
                                 pick(t, 10)};
        int64_t ib = 0;
        BOTH(vigil_store_plan_add(t->a->st, &FX_DOCTOR, &plan, &id, NULL),
             vigil_store_plan_add(t->b->st, &FX_DOCTOR, &plan, &ib, NULL));
        if (id > 0 && t->n_plans < 32) {
            t->plans[t->n_plans++] = id;
        }
        break;
    }
    }
}

static void twin_escalation(twin *t, int what)
{
    int64_t at = some_time(t), id = 0;
    if (what == 0 && t->n_episodes < 32) {
        int64_t p = t->pid[pick(t, 8)], ep = 0, al = 0;
        vigil_news2_response lv = (vigil_news2_response)(1 + pick(t, VIGIL_RESP_COUNT - 1));
        BOTH(vigil_store_episode_open(t->a->st, &FX_FEED, p, lv, VIGIL_STORE_TRIGGER_NEWS2, 1, 0,
                                      at, &ep, &al, NULL),
             vigil_store_episode_open(t->b->st, &FX_FEED, p, lv, VIGIL_STORE_TRIGGER_NEWS2, 1, 0,
                                      at, &id, &id, NULL));
        if (ep > 0) {
            t->episodes[t->n_episodes] = ep;
            t->alerts[t->n_episodes++] = al;
        }
    } else if (what == 1 && t->n_episodes > 0) {
        int64_t ep = t->episodes[pick(t, (int)t->n_episodes)];
        BOTH(vigil_store_episode_close(t->a->st, &FX_NURSE, ep, at, "settled", NULL),
             vigil_store_episode_close(t->b->st, &FX_NURSE, ep, at, "settled", NULL));
    } else if (what == 2 && t->n_episodes > 0) {
        int64_t al = t->alerts[pick(t, (int)t->n_episodes)];
        BOTH(vigil_store_alert_ack(t->a->st, &FX_DOCTOR, al, at, VIGIL_STORE_ACK_REVIEWED, NULL,
                                   &id, NULL),
             vigil_store_alert_ack(t->b->st, &FX_DOCTOR, al, at, VIGIL_STORE_ACK_REVIEWED, NULL,
                                   &id, NULL));
    } else if (what == 3 && t->n_calls < 32) {
        vigil_store_marthas_call c = {t->pid[pick(t, 8)], VIGIL_STORE_CALLER_FAMILY, "", "phone",
                                      at, "worried"};
        int64_t ca = 0;
        BOTH(vigil_store_marthas_call_add(t->a->st, &FX_NURSE, &c, &ca, NULL),
             vigil_store_marthas_call_add(t->b->st, &FX_NURSE, &c, &id, NULL));
        if (ca > 0) {
            t->calls[t->n_calls++] = ca;
        }
    } else if (what == 4 && t->n_calls > 0) {
        vigil_store_marthas_review r = {t->calls[pick(t, (int)t->n_calls)], "outreach",
                                        at + 72 * HOUR_MS, VIGIL_STORE_MR_ACUTE_DETERIORATION,
                                        VIGIL_STORE_MR_CHANGE_IN_CARE, NULL};
        BOTH(vigil_store_marthas_review_add(t->a->st, &FX_NURSE, &r, &id, NULL),
             vigil_store_marthas_review_add(t->b->st, &FX_NURSE, &r, &id, NULL));
    } else if (what == 5 && t->n_plans > 0) {
        int64_t pl = t->plans[pick(t, (int)t->n_plans)];
        BOTH(vigil_store_plan_revoke(t->a->st, &FX_DOCTOR, pl, at, "reviewed", NULL),
             vigil_store_plan_revoke(t->b->st, &FX_DOCTOR, pl, at, "reviewed", NULL));
    } else if (what == 6) {
        int64_t p = t->pid[pick(t, 8)];
        BOTH(vigil_store_staff_concern(t->a->st, &FX_NURSE, p, at, "looks grey", &id, NULL),
             vigil_store_staff_concern(t->b->st, &FX_NURSE, p, at, "looks grey", &id, NULL));
    }
}

static void twin_adt(twin *t)
{
    int k = pick(t, 8), what = pick(t, 3);
    int64_t at = T0 + 49 * HOUR_MS + (int64_t)pick(t, 600) * MIN_MS, ia = 0, ib = 0;
    char bed[8];
    snprintf(bed, sizeof bed, "%02d", pick(t, 12));
    const char *ward = pick(t, 2) == 0 ? "7A" : "7B";
    if (what == 0) {
        BOTH(vigil_store_admit(t->a->st, &FX_NURSE, t->pid[k], ward, bed, at, &ia, NULL),
             vigil_store_admit(t->b->st, &FX_NURSE, t->pid[k], ward, bed, at, &ib, NULL));
        if (ia > 0) {
            t->adm[k] = ia;
        }
    } else if (what == 1) {
        BOTH(vigil_store_move(t->a->st, &FX_NURSE, t->adm[k], ward, bed, at, NULL),
             vigil_store_move(t->b->st, &FX_NURSE, t->adm[k], ward, bed, at, NULL));
    } else {
        BOTH(vigil_store_discharge(t->a->st, &FX_NURSE, t->adm[k], at, NULL),
             vigil_store_discharge(t->b->st, &FX_NURSE, t->adm[k], at, NULL));
    }
}

/* A batch of sets on both, read inside it, then committed or rolled back. */
static void twin_batch(twin *t, bool commit)
{
    assert_int_equal(vigil_store_batch_begin(t->a->st, NULL), VIGIL_OK);
    assert_int_equal(vigil_store_batch_begin(t->b->st, NULL), VIGIL_OK);
    twin_obs(t, true);
    twin_state(t, pick(t, 6));
    vigil_store_ward_list la, lb;
    BOTH(vigil_store_ward_list_get(t->a->st, &FX_NURSE, "7A", T0 + 50 * HOUR_MS, &la, NULL),
         vigil_store_ward_list_get(t->b->st, &FX_NURSE, "7A", T0 + 50 * HOUR_MS, &lb, NULL));
    vigil_store_ward_list_fini(&la);
    vigil_store_ward_list_fini(&lb);
    if (commit) {
        assert_int_equal(vigil_store_batch_commit(t->a->st, NULL), VIGIL_OK);
        assert_int_equal(vigil_store_batch_commit(t->b->st, NULL), VIGIL_OK);
    } else {
        vigil_store_batch_rollback(t->a->st);
        vigil_store_batch_rollback(t->b->st);
        t->n_scores = t->n_unscored = 0; /* ids that may be gone */
        t->n_episodes = t->n_calls = t->n_plans = 0;
    }
}

/* A write to a's file through another connection (as the server's pager or
 * a second process), and the same write to b. */
static void twin_other_connection(twin *t)
{
    vigil_store *other = NULL;
    assert_int_equal(vigil_store_open(t->a->uri, 0, &other, NULL), VIGIL_OK);
    int64_t p = t->pid[pick(t, 8)], at = some_time(t), id = 0;
    BOTH(vigil_store_daily_answer(other, &FX_NURSE, p, at, VIGIL_STORE_FEEL_WORSE, &id, NULL),
         vigil_store_daily_answer(t->b->st, &FX_NURSE, p, at, VIGIL_STORE_FEEL_WORSE, &id, NULL));
    vigil_store_close(other);
}

/* Both stores' ward lists and one patient's view at now_ms, as text. */
static void twin_compare(twin *t, int64_t now_ms)
{
    wl_text ta = {0}, tb = {0};
    const char *wards[] = {"7A", "7B"};
    for (int w = 0; w < 2; w++) {
        vigil_store_ward_list la, lb;
        assert_int_equal(vigil_store_ward_list_get(t->a->st, &FX_NURSE, wards[w], now_ms, &la, NULL),
                         VIGIL_OK);
        assert_int_equal(vigil_store_ward_list_get(t->b->st, &FX_NURSE, wards[w], now_ms, &lb, NULL),
                         VIGIL_OK);
        wl_list(&ta, wards[w], &la);
        wl_list(&tb, wards[w], &lb);
        vigil_store_ward_list_fini(&la);
        vigil_store_ward_list_fini(&lb);
    }
    int64_t p = t->pid[pick(t, 8)];
    vigil_store_patient_current ca, cb;
    assert_int_equal(vigil_store_patient_current_get(t->a->st, &FX_NURSE, p, now_ms, &ca, NULL),
                     VIGIL_OK);
    assert_int_equal(vigil_store_patient_current_get(t->b->st, &FX_NURSE, p, now_ms, &cb, NULL),
                     VIGIL_OK);
    wl_current(&ta, &ca);
    wl_current(&tb, &cb);
    assert_string_equal(ta.s, tb.s);
    free(ta.s);
    free(tb.s);
}

static void cached_rows_equal_fresh_rows_after_every_kind_of_write(void **state)
{
    fx *a = *state;
    fx *b = calloc(1, sizeof *b);
    assert_non_null(b);
    fx_paths_twin(b);
    vigil_err e = {0};
    assert_int_equal(vigil_store_open(b->uri, VIGIL_STORE_NO_ROW_CACHE, &b->st, &e), VIGIL_OK);
    twin t;
    memset(&t, 0, sizeof t);
    t.a = a;
    t.b = b;
    t.rng = 0x5eed0013u;
    fx *both[2] = {a, b};
    for (int s = 0; s < 2; s++) {
        fx_user(both[s], "dr.patel", VIGIL_STORE_ROLE_DOCTOR);
        fx_user(both[s], "nurse.jo", VIGIL_STORE_ROLE_NURSE);
    }
    for (int k = 0; k < 8; k++) {
        fx_nhs(6100u + (unsigned)k, t.nhs[k]);
        char bed[8];
        snprintf(bed, sizeof bed, "%02d", k);
        for (int s = 0; s < 2; s++) {
            t.pid[k] = fx_patient(both[s], t.nhs[k], NULL, "Pat");
            assert_int_equal(vigil_store_admit(both[s]->st, &FX_NURSE, t.pid[k],
                                               k < 5 ? "7A" : "7B", bed, T0, &t.adm[k], NULL),
                             VIGIL_OK);
        }
    }
    int64_t now = T0;
    for (int step = 0; step < 400; step++) {
        int what = pick(&t, 20);
        if (what < 5) {
            twin_obs(&t, what < 4);
        } else if (what == 5) {
            twin_score_later(&t);
        } else if (what == 6) {
            twin_ai(&t);
        } else if (what < 11) {
            twin_state(&t, pick(&t, 6));
        } else if (what < 16) {
            twin_escalation(&t, pick(&t, 7));
        } else if (what == 16) {
            twin_adt(&t);
        } else if (what == 17) {
            twin_batch(&t, pick(&t, 2) == 0);
        } else if (what == 18) {
            twin_other_connection(&t);
        } /* 19: time passes only */
        /* now mostly moves on (across plans' starts and expiries), sometimes back */
        now = pick(&t, 8) == 0 ? T0 + (int64_t)pick(&t, 100) * HOUR_MS
                               : now + (int64_t)pick(&t, 90) * MIN_MS;
        twin_compare(&t, now);
        twin_compare(&t, now); /* the second from memory on a */
    }
    vigil_store_close(b->st);
    fx_remove_files(b);
    free(b);
}

/* Ward 7A's list through st at now_ms, as text. */
static void node_list(vigil_store *st, int64_t now_ms, wl_text *out)
{
    vigil_store_ward_list l;
    assert_int_equal(vigil_store_ward_list_get(st, &FX_NURSE, "7A", now_ms, &l, NULL), VIGIL_OK);
    wl_list(out, "7A", &l);
    vigil_store_ward_list_fini(&l);
}

/* Issue 15 item 4: several nodes on one store. Node A keeps the ward list's
 * rows in memory; every kind of write the list shows goes through node B (its
 * own handle: another connection, as another `vigil serve` would be), and A's
 * next list must show it, equal to a list read without memory (C). A's rows
 * are kept between writes (an unchanged second list is served from memory),
 * so this fails both when the rows are never kept (PostgreSQL before the
 * change feed: data_version a new number each call) and when another node's
 * write does not reach them. */
static void a_write_through_another_node_is_in_the_next_ward_list(void **state)
{
    fx *f = *state;
    vigil_store *a = f->st, *b = NULL, *c = NULL;
    assert_int_equal(vigil_store_open(f->uri, 0, &b, NULL), VIGIL_OK);
    assert_int_equal(vigil_store_open(f->uri, VIGIL_STORE_NO_ROW_CACHE, &c, NULL), VIGIL_OK);
    fx_user(f, "dr.patel", VIGIL_STORE_ROLE_DOCTOR);
    char nhs[4][11];
    int64_t pid[4], adm = 0;
    for (int k = 0; k < 4; k++) {
        fx_nhs(7100u + (unsigned)k, nhs[k]);
        char bed[8];
        snprintf(bed, sizeof bed, "%02d", k);
        pid[k] = fx_patient(f, nhs[k], NULL, "Pat");
        assert_int_equal(vigil_store_admit(a, &FX_NURSE, pid[k], "7A", bed, T0, &adm, NULL),
                         VIGIL_OK);
        vigil_obs_event ev;
        char sid[16];
        snprintf(sid, sizeof sid, "N-%d", k);
        fx_event(&ev, nhs[k], sid, T0 + MIN_MS);
        vigil_store_score sc = fx_score(&ev, ev.t_ms);
        vigil_store_put put;
        assert_int_equal(vigil_store_put_obs(a, &FX_FEED, &ev, &sc, &put, NULL), VIGIL_OK);
    }
    int64_t now = T0 + HOUR_MS;
    for (int step = 0; step < 24; step++) {
        int k = (step % 6 + step / 6) % 4; /* each kind of write reaches all four */
        int64_t p = pid[k], at = T0 + (10 + step) * MIN_MS, id = 0, ep = 0, al = 0;
        wl_text before = {0};
        node_list(a, now, &before); /* A's rows in memory, as they were */
        switch (step % 6) {
        case 0: { /* a higher scored set */
            vigil_obs_event ev;
            char sid[16];
            snprintf(sid, sizeof sid, "B-%d", step);
            fx_event(&ev, nhs[k], sid, at);
            ev.obs.rr_bpm = 27;
            ev.obs.sbp_mmhg = 88;
            vigil_store_score sc = fx_score(&ev, at);
            vigil_store_put put;
            assert_int_equal(vigil_store_put_obs(b, &FX_FEED, &ev, &sc, &put, NULL), VIGIL_OK);
            break;
        }
        case 1:
            assert_int_equal(vigil_store_daily_answer(b, &FX_NURSE, p, at, VIGIL_STORE_FEEL_WORSE,
                                                      &id, NULL),
                             VIGIL_OK);
            break;
        case 2:
            assert_int_equal(vigil_store_episode_open(b, &FX_FEED, p, VIGIL_RESP_EMERGENCY,
                                                      VIGIL_STORE_TRIGGER_NEWS2, 1, 0, at, &ep,
                                                      &al, NULL),
                             VIGIL_OK);
            break;
        case 3:
            assert_int_equal(vigil_store_scale2_set(b, &FX_DOCTOR, p, at, "COPD", &id, NULL),
                             VIGIL_OK);
            break;
        case 4:
            assert_int_equal(vigil_store_ai_optout(b, &FX_NURSE, p, at, "no AI", &id, NULL),
                             VIGIL_OK);
            break;
        default: {
            vigil_store_marthas_call mc = {p, VIGIL_STORE_CALLER_FAMILY, "", "phone", at,
                                           "worried"};
            assert_int_equal(vigil_store_marthas_call_add(b, &FX_NURSE, &mc, &id, NULL), VIGIL_OK);
            break;
        }
        }
        wl_text ta = {0}, tc = {0}, again = {0};
        node_list(c, now, &tc); /* first: on SQLite C's read audit is a commit A sees */
        node_list(a, now, &ta);
        assert_string_equal(ta.s, tc.s); /* node B's write, at A's next list */
        assert_string_not_equal(ta.s, before.s);
        uint64_t hits = vigil_store_row_cache_hits(a);
        node_list(a, now, &again); /* nothing written since A's last list */
        assert_string_equal(again.s, tc.s);
        assert_true(vigil_store_row_cache_hits(a) >= hits + 4); /* every row from memory */
        free(before.s);
        free(ta.s);
        free(tc.s);
        free(again.s);
    }
    vigil_store_close(b);
    vigil_store_close(c);
}

/* clang-format off */
static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(ward_list_and_patient_views_match_the_golden_file, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(cached_rows_equal_fresh_rows_after_every_kind_of_write, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(a_write_through_another_node_is_in_the_next_ward_list, fx_setup, fx_teardown),
};
/* clang-format on */

VIGIL_TEST_MAIN(tests)
