/*
 * faulty.c: the faulty: store backend: "faulty:URI" wraps the store at URI
 * and injects failures where a test asks (vigil_store_fault_arm): the Nth
 * call fails before it reaches the wrapped store, or the Nth commit is
 * turned into a rollback and reported as a failed commit. Backend-neutral:
 * the same test injects the same fault into every backend (docs/store.md,
 * "Conformance and faults"). The forwarders are faulty_ops.c (generated).
 *
 * Does not: simulate torn writes, slow disks or lost fsyncs (those are a
 * backend's own engine's business; SQLite's test VFSes do them).
 * Invariants: faulty_int.h.
 */
#include <stdlib.h>

#include "faulty_int.h"

/* One armed fault of kind k fires now: decrement its budget, count it. */
static bool fire(vigil__faulty *f, vigil_store_fault k)
{
    int n = atomic_load(&f->to_pass[k]);
    if (n < 0) {
        return false;
    }
    atomic_store(&f->to_pass[k], n - 1);
    if (n != 0) {
        return false;
    }
    atomic_fetch_add(&f->n_injected[k], 1);
    return true;
}

vigil_status vigil__faulty_enter(vigil__faulty *f, const char *op, bool commits,
                                 bool *fail_commit, vigil_err *err)
{
    *fail_commit = false;
    if (fire(f, VIGIL_STORE_FAULT_CALL)) {
        return vigil_err_set(err, VIGIL_ERR_IO, NULL, "faulty: injected failure of %s", op);
    }
    if (!commits || f->in_batch || !fire(f, VIGIL_STORE_FAULT_COMMIT)) {
        return VIGIL_OK;
    }
    vigil_status s = f->inner->ops->batch_begin(f->inner->be, err);
    if (s == VIGIL_OK) {
        *fail_commit = true;
    }
    return s;
}

vigil_status vigil__faulty_leave(vigil__faulty *f, const char *op, bool fail_commit,
                                 vigil_status s, vigil_err *err)
{
    if (!fail_commit) {
        return s;
    }
    f->inner->ops->batch_rollback(f->inner->be);
    if (s != VIGIL_OK) {
        return s;
    }
    return vigil_err_set(err, VIGIL_ERR_IO, NULL, "faulty: injected commit failure of %s", op);
}

vigil_status vigil__faulty_open(const char *target, unsigned flags, void **out_be, vigil_err *err)
{
    vigil__faulty *f = calloc(1, sizeof *f);
    if (f == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory opening store");
    }
    for (int k = 0; k < VIGIL_STORE_FAULT_COUNT; k++) {
        atomic_init(&f->to_pass[k], -1);
        atomic_init(&f->n_injected[k], 0);
    }
    vigil_status s = vigil_store_open(target, flags, &f->inner, err);
    if (s != VIGIL_OK) {
        free(f);
        return s;
    }
    *out_be = f;
    return VIGIL_OK;
}

void vigil__faulty_close(void *be)
{
    vigil__faulty *f = be;
    vigil_store_close(f->inner);
    free(f);
}

vigil_status vigil__faulty_batch_begin(void *be, vigil_err *err)
{
    vigil__faulty *f = be;
    if (fire(f, VIGIL_STORE_FAULT_CALL)) {
        return vigil_err_set(err, VIGIL_ERR_IO, NULL, "faulty: injected failure of batch_begin");
    }
    vigil_status s = f->inner->ops->batch_begin(f->inner->be, err);
    if (s == VIGIL_OK) {
        f->in_batch = true;
    }
    return s;
}

vigil_status vigil__faulty_batch_commit(void *be, vigil_err *err)
{
    vigil__faulty *f = be;
    if (fire(f, VIGIL_STORE_FAULT_COMMIT)) {
        f->inner->ops->batch_rollback(f->inner->be);
        f->in_batch = false;
        return vigil_err_set(err, VIGIL_ERR_IO, NULL, "faulty: injected commit failure");
    }
    vigil_status s = f->inner->ops->batch_commit(f->inner->be, err);
    f->in_batch = false;
    return s;
}

void vigil__faulty_batch_rollback(void *be)
{
    vigil__faulty *f = be;
    f->inner->ops->batch_rollback(f->inner->be);
    f->in_batch = false;
}

static vigil__faulty *faulty_of(vigil_store *st)
{
    return st != NULL && st->ops == &vigil__faulty_ops ? st->be : NULL;
}

vigil_status vigil_store_fault_arm(vigil_store *st, vigil_store_fault kind, int n_pass)
{
    vigil__faulty *f = faulty_of(st);
    if (f == NULL || (unsigned)kind >= VIGIL_STORE_FAULT_COUNT || n_pass < -1) {
        return VIGIL_ERR_ARG;
    }
    atomic_store(&f->to_pass[kind], n_pass);
    return VIGIL_OK;
}

long vigil_store_fault_injected(vigil_store *st, vigil_store_fault kind)
{
    vigil__faulty *f = faulty_of(st);
    if (f == NULL || (unsigned)kind >= VIGIL_STORE_FAULT_COUNT) {
        return -1;
    }
    return atomic_load(&f->n_injected[kind]);
}
