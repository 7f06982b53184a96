/*
 * test_server_store.c: the two store additions the server needs
 * (include/vigil/store.h): all-or-none units in vigil_store_put_obs_batch,
 * and vigil_store_patient_current_get.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vigil/store.h"
#include "vigil_test.h"

#define T0 INT64_C(1735725600000) /* 2025-01-01T10:00:00Z */

static const vigil_actor FEED = {"hl7-listener", "ingest"};

typedef struct fx {
    char dir[256];
    char db[320];
    vigil_store *st;
} fx;

static int setup(void **state)
{
    fx *x = calloc(1, sizeof *x);
    if (x == NULL || vigil_test_mkdtemp(x->dir, sizeof x->dir, "vigil-sst") == NULL) {
        return -1;
    }
    snprintf(x->db, sizeof x->db, "%s/ward.db", x->dir);
    vigil_err err = {0};
    if (vigil_store_open(x->db, 0, &x->st, &err) != VIGIL_OK) {
        return -1;
    }
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    fx *x = *state;
    vigil_store_close(x->st);
    char p[400];
    const char *suffix[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", x->db, suffix[i]);
        unlink(p);
    }
    rmdir(x->dir);
    free(x);
    return 0;
}

static void event(vigil_obs_event *ev, const char *nhs, const char *sid, int64_t t, double hr)
{
    vigil_obs_event_init(ev);
    snprintf(ev->nhs_number, sizeof ev->nhs_number, "%s", nhs);
    snprintf(ev->source_id, sizeof ev->source_id, "%s", sid);
    ev->source = VIGIL_SRC_HL7;
    ev->t_ms = t;
    ev->obs.hr_bpm = hr;
    ev->obs.rr_bpm = 16;
}

static size_t n_sets(fx *x, const char *nhs)
{
    vigil_patient p;
    vigil_err err = {0};
    if (vigil_store_patient_find(x->st, &FEED, nhs, NULL, &p, &err) != VIGIL_OK) {
        return 0;
    }
    vigil_store_obs_list l;
    assert_int_equal(vigil_store_obs_range(x->st, &FEED, p.id, 0, INT64_MAX, 100, &l, &err),
                     VIGIL_OK);
    size_t n = l.n;
    vigil_store_obs_list_fini(&l);
    return n;
}

static void a_refused_item_rolls_back_its_whole_unit_only(void **state)
{
    fx *x = *state;
    vigil_obs_event first, ev[5];
    vigil_store_put out[5];
    vigil_err err = {0};
    /* "B#2" already holds other content: storing it again conflicts */
    event(&first, "9990000026", "B#2", T0, 99);
    assert_int_equal(vigil_store_put_obs(x->st, &FEED, &first, NULL, out, &err), VIGIL_OK);
    event(&ev[0], "9990000018", "A", T0, 70);       /* unit 1 */
    event(&ev[1], "9990000026", "B#1", T0 + 1, 80); /* unit 2 */
    event(&ev[2], "9990000026", "B#2", T0 + 2, 81); /* unit 2: conflicts */
    event(&ev[3], "9990000034", "C#1", T0 + 3, 90); /* unit 3 */
    event(&ev[4], "9990000034", "C#2", T0 + 4, 91); /* unit 3 */
    vigil_store_obs_item items[5] = {
        {&ev[0], NULL, 1}, {&ev[1], NULL, 2}, {&ev[2], NULL, 2},
        {&ev[3], NULL, 3}, {&ev[4], NULL, 3},
    };
    assert_int_equal(vigil_store_put_obs_batch(x->st, &FEED, items, 5, out, &err), VIGIL_OK);
    assert_int_equal(out[0].status, VIGIL_OK);
    assert_int_equal(out[1].status, VIGIL_ERR_CONFLICT); /* rolled back with its unit */
    assert_non_null(strstr(out[1].msg, "item 2 of its unit"));
    assert_int_equal(out[2].status, VIGIL_ERR_CONFLICT);
    assert_int_equal(out[3].status, VIGIL_OK);
    assert_int_equal(out[4].status, VIGIL_OK);
    assert_int_equal(n_sets(x, "9990000018"), 1);
    assert_int_equal(n_sets(x, "9990000026"), 1); /* only the earlier set */
    assert_int_equal(n_sets(x, "9990000034"), 2);
}

static void an_item_refused_before_sql_refuses_its_unit(void **state)
{
    fx *x = *state;
    vigil_obs_event ev[3];
    vigil_store_put out[3];
    vigil_err err = {0};
    event(&ev[0], "9990000018", "D#1", T0, 70);
    event(&ev[1], "9990000018", "D#2", T0 + 1, 400); /* implausible */
    event(&ev[2], "9990000026", "E", T0, 70);
    vigil_store_obs_item items[3] = {{&ev[0], NULL, 7}, {&ev[1], NULL, 7}, {&ev[2], NULL, 0}};
    assert_int_equal(vigil_store_put_obs_batch(x->st, &FEED, items, 3, out, &err), VIGIL_OK);
    assert_int_not_equal(out[0].status, VIGIL_OK);
    assert_int_not_equal(out[1].status, VIGIL_OK);
    assert_int_equal(out[2].status, VIGIL_OK);
    assert_int_equal(n_sets(x, "9990000018"), 0);
    assert_int_equal(n_sets(x, "9990000026"), 1);
}

static void patient_current_gives_ward_bed_latest_score_and_state(void **state)
{
    fx *x = *state;
    vigil_err err = {0};
    vigil_patient p;
    memset(&p, 0, sizeof p);
    snprintf(p.nhs_number, sizeof p.nhs_number, "9990000018");
    int64_t id = 0, adm = 0, oid = 0;
    assert_int_equal(vigil_store_patient_ensure(x->st, &FEED, &p, &id, &err), VIGIL_OK);
    vigil_store_patient_current c;
    assert_int_equal(vigil_store_patient_current_get(x->st, &FEED, id, T0, &c, &err), VIGIL_OK);
    assert_int_equal(c.entry.admission_id, 0);
    assert_string_equal(c.ward, "");
    assert_false(c.entry.has_score);
    assert_int_equal(vigil_store_admit(x->st, &FEED, id, "WARD7B", "BED04", T0, &adm, &err),
                     VIGIL_OK);
    vigil_obs_event ev;
    event(&ev, "9990000018", "S1", T0 + 60000, 135);
    vigil_store_score sc = {.t_ms = T0 + 60000};
    assert_int_equal(vigil_news2_score(&ev.obs, &sc.news2, &err), VIGIL_OK);
    vigil_store_put out;
    assert_int_equal(vigil_store_put_obs(x->st, &FEED, &ev, &sc, &out, &err), VIGIL_OK);
    assert_int_equal(vigil_store_ai_optout(x->st, &FEED, id, T0, NULL, &oid, &err), VIGIL_OK);
    assert_int_equal(vigil_store_patient_current_get(x->st, &FEED, id, T0 + 120000, &c, &err),
                     VIGIL_OK);
    assert_int_equal(c.entry.admission_id, adm);
    assert_string_equal(c.ward, "WARD7B");
    assert_string_equal(c.entry.bed, "BED04");
    assert_true(c.entry.has_score);
    assert_int_equal(c.score_id, out.score_id);
    assert_int_equal(c.entry.news2.total, sc.news2.total);
    assert_int_equal(c.entry.score_obs_ms, T0 + 60000);
    assert_true(c.entry.state.ai_opted_out);
    assert_int_equal(vigil_store_patient_current_get(x->st, &FEED, 999, T0, &c, &err),
                     VIGIL_ERR_NOT_FOUND);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(a_refused_item_rolls_back_its_whole_unit_only, setup, teardown),
    cmocka_unit_test_setup_teardown(an_item_refused_before_sql_refuses_its_unit, setup, teardown),
    cmocka_unit_test_setup_teardown(patient_current_gives_ward_bed_latest_score_and_state, setup,
                                    teardown),
};

VIGIL_TEST_MAIN(tests)
