/*
 * test_store_faulty.c: the faulty: store backend (src/store/faulty.c), through
 * the public interface only: a failed call writes nothing, a failed commit
 * leaves nothing of its call or batch (its audit records included), the store
 * works again afterwards, and arming a store not opened through faulty: is
 * refused. No engine is named: these run on whatever faulty: wraps.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "vigil/audit.h"
#include "vigil/store.h"
#include "vigil_test.h"

typedef struct ffx {
    char dir[256];
    char path[320];
    char uri[340];
    vigil_store *st;
} ffx;

static const vigil_actor CLERK = {"ward-clerk", "registration"};

static int setup(void **state)
{
    ffx *f = calloc(1, sizeof *f);
    if (f == NULL || vigil_test_mkdtemp(f->dir, sizeof f->dir, "vigil-faulty") == NULL) {
        return -1;
    }
    snprintf(f->path, sizeof f->path, "%s/ward.db", f->dir);
    snprintf(f->uri, sizeof f->uri, "faulty:%s", f->path);
    vigil_err e = {0};
    if (vigil_store_open(f->uri, 0, &f->st, &e) != VIGIL_OK) {
        fprintf(stderr, "open %s: %s\n", f->uri, e.msg);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    ffx *f = *state;
    vigil_store_close(f->st);
    char p[400];
    const char *suffix[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s%s", f->path, suffix[i]);
        unlink(p);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

static vigil_patient patient(const char *mrn)
{
    vigil_patient p;
    memset(&p, 0, sizeof p);
    snprintf(p.mrn, sizeof p.mrn, "%s", mrn);
    snprintf(p.name, sizeof p.name, "Test %s", mrn);
    return p;
}

static int64_t head_seq(vigil_store *st)
{
    int64_t seq = -1;
    uint8_t hash[VIGIL_AUDIT_HASH_LEN];
    assert_int_equal(vigil_audit_head(st, &seq, hash, NULL), VIGIL_OK);
    return seq;
}

static bool found(vigil_store *st, const char *mrn)
{
    vigil_patient out;
    vigil_status s = vigil_store_patient_find(st, &CLERK, NULL, mrn, &out, NULL);
    assert_true(s == VIGIL_OK || s == VIGIL_ERR_NOT_FOUND);
    return s == VIGIL_OK;
}

static void faulty_call_failure_writes_nothing_and_the_next_call_works(void **state)
{
    ffx *f = *state;
    assert_string_equal(vigil_store_backend_name(f->st), "faulty");
    int64_t before = head_seq(f->st);
    assert_int_equal(vigil_store_fault_arm(f->st, VIGIL_STORE_FAULT_CALL, 0), VIGIL_OK);
    vigil_patient p = patient("H100");
    int64_t id = 0;
    vigil_err e = {0};
    assert_int_equal(vigil_store_patient_ensure(f->st, &CLERK, &p, &id, &e), VIGIL_ERR_IO);
    assert_non_null(strstr(e.msg, "faulty: injected failure of patient_ensure"));
    assert_int_equal(vigil_store_fault_injected(f->st, VIGIL_STORE_FAULT_CALL), 1);
    assert_int_equal(head_seq(f->st), before);
    assert_int_equal(vigil_store_patient_ensure(f->st, &CLERK, &p, &id, &e), VIGIL_OK);
    assert_true(id > 0);
    assert_int_equal(vigil_store_fault_injected(f->st, VIGIL_STORE_FAULT_CALL), 1); /* once */
}

static void faulty_commit_failure_of_a_call_leaves_nothing_of_it(void **state)
{
    ffx *f = *state;
    vigil_patient p = patient("H200");
    int64_t id = 0;
    int64_t before = head_seq(f->st);
    /* one commit passes (H200), the next (H201) is rolled back */
    assert_int_equal(vigil_store_fault_arm(f->st, VIGIL_STORE_FAULT_COMMIT, 1), VIGIL_OK);
    assert_int_equal(vigil_store_patient_ensure(f->st, &CLERK, &p, &id, NULL), VIGIL_OK);
    int64_t after_one = head_seq(f->st);
    assert_true(after_one > before);
    vigil_patient q = patient("H201");
    vigil_err e = {0};
    assert_int_equal(vigil_store_patient_ensure(f->st, &CLERK, &q, &id, &e), VIGIL_ERR_IO);
    assert_non_null(strstr(e.msg, "injected commit failure"));
    assert_int_equal(head_seq(f->st), after_one); /* no audit record of the failed call */
    assert_true(found(f->st, "H200"));
    assert_false(found(f->st, "H201"));
    assert_int_equal(vigil_store_patient_ensure(f->st, &CLERK, &q, &id, NULL), VIGIL_OK);
    assert_true(found(f->st, "H201"));
}

static void faulty_commit_failure_of_a_batch_stores_none_of_it(void **state)
{
    ffx *f = *state;
    int64_t before = head_seq(f->st);
    assert_int_equal(vigil_store_fault_arm(f->st, VIGIL_STORE_FAULT_COMMIT, 0), VIGIL_OK);
    assert_int_equal(vigil_store_batch_begin(f->st, NULL), VIGIL_OK);
    const char *mrns[] = {"H300", "H301", "H302"};
    for (size_t i = 0; i < 3; i++) {
        vigil_patient p = patient(mrns[i]);
        int64_t id = 0;
        assert_int_equal(vigil_store_patient_ensure(f->st, &CLERK, &p, &id, NULL), VIGIL_OK);
    }
    assert_int_equal(vigil_store_batch_commit(f->st, NULL), VIGIL_ERR_IO);
    assert_int_equal(vigil_store_fault_injected(f->st, VIGIL_STORE_FAULT_COMMIT), 1);
    assert_int_equal(head_seq(f->st), before);
    for (size_t i = 0; i < 3; i++) {
        assert_false(found(f->st, mrns[i]));
    }
    /* the next batch commits */
    assert_int_equal(vigil_store_batch_begin(f->st, NULL), VIGIL_OK);
    vigil_patient p = patient("H303");
    int64_t id = 0;
    assert_int_equal(vigil_store_patient_ensure(f->st, &CLERK, &p, &id, NULL), VIGIL_OK);
    assert_int_equal(vigil_store_batch_commit(f->st, NULL), VIGIL_OK);
    assert_true(found(f->st, "H303"));
}

static void faults_are_refused_on_a_store_not_opened_through_faulty(void **state)
{
    ffx *f = *state;
    vigil_store *plain = NULL;
    assert_int_equal(vigil_store_open(f->path, 0, &plain, NULL), VIGIL_OK);
    assert_int_equal(vigil_store_fault_arm(plain, VIGIL_STORE_FAULT_CALL, 0), VIGIL_ERR_ARG);
    assert_int_equal(vigil_store_fault_injected(plain, VIGIL_STORE_FAULT_CALL), -1);
    assert_int_equal(vigil_store_fault_arm(f->st, VIGIL_STORE_FAULT_COUNT, 0), VIGIL_ERR_ARG);
    assert_int_equal(vigil_store_fault_arm(f->st, VIGIL_STORE_FAULT_CALL, -2), VIGIL_ERR_ARG);
    vigil_store_close(plain);
    vigil_store *bad = NULL;
    vigil_err e = {0};
    assert_int_equal(vigil_store_open("faulty:nosuch://x", 0, &bad, &e), VIGIL_ERR_NOT_FOUND);
    assert_null(bad);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(faulty_call_failure_writes_nothing_and_the_next_call_works,
                                    setup, teardown),
    cmocka_unit_test_setup_teardown(faulty_commit_failure_of_a_call_leaves_nothing_of_it, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(faulty_commit_failure_of_a_batch_stores_none_of_it, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(faults_are_refused_on_a_store_not_opened_through_faulty, setup,
                                    teardown),
};

VIGIL_TEST_MAIN(tests)
