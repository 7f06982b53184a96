/*
 * faulty_int.h: private to the faulty: store backend (faulty.c, faulty_ops.c).
 *
 * "faulty:URI" opens the store at URI (any other store URI) and forwards
 * every call to it, failing the Nth call or the Nth commit when a test arms
 * it (vigil_store_fault_arm), the way SQLite's own tests wrap a VFS: fault
 * injection through the store's interface, not through one engine's hooks.
 * Invariants: nothing is injected until armed; an injected call failure
 * writes nothing (the wrapped store is not called); an injected commit
 * failure rolls the wrapped store's transaction back, so nothing of it is
 * stored, and then reports VIGIL_ERR_IO as a failed commit would.
 */
#ifndef VIGIL_STORE_FAULTY_INT_H
#define VIGIL_STORE_FAULTY_INT_H

#include <stdatomic.h>
#include <stdbool.h>

#include "store_int.h"

typedef struct vigil__faulty {
    vigil_store *inner;
    bool in_batch;                               /* the wrapped store has a batch open */
    _Atomic int to_pass[VIGIL_STORE_FAULT_COUNT]; /* -1: disarmed */
    _Atomic long n_injected[VIGIL_STORE_FAULT_COUNT];
} vigil__faulty;

/* Before a forwarded call named op (commits: it writes, so it commits when
 * outside a batch; unaudited reads do not count as commits): VIGIL_OK to go on, or the injected call
 * failure (nothing called). When this call's own commit is the one to fail
 * (a call outside a batch commits on its own), *fail_commit is set and the
 * call is run inside a batch of the wrapped store that vigil__faulty_leave
 * rolls back. Store thread only, as the store. */
vigil_status vigil__faulty_enter(vigil__faulty *f, const char *op, bool commits,
                                 bool *fail_commit, vigil_err *err);
/* After the forwarded call returned s: s, or (fail_commit) the rollback and
 * VIGIL_ERR_IO when s was VIGIL_OK; out_ parameters the call filled are then
 * stale (nothing of them is stored). */
vigil_status vigil__faulty_leave(vigil__faulty *f, const char *op, bool fail_commit,
                                 vigil_status s, vigil_err *err);

vigil_status vigil__faulty_open(const char *target, unsigned flags, void **out_be, vigil_err *err);
void vigil__faulty_close(void *be);
vigil_status vigil__faulty_batch_begin(void *be, vigil_err *err);
vigil_status vigil__faulty_batch_commit(void *be, vigil_err *err);
void vigil__faulty_batch_rollback(void *be);

#endif
