/*
 * set_rows.c: vigil_store_set_rows, the monitoring rows of vigil/store.h
 * (issue 14), checked here and read by the backend. Kept out of store.c so
 * the monitoring additions stay in files of their own. Also
 * vigil_store_patient_ward, the other unaudited read (an access decision).
 */
#include "store_int.h"

vigil_status vigil_store_set_rows(vigil_store *st, int64_t from_ms, int64_t to_ms,
                                  vigil_store_set_row_cb cb, void *ctx, vigil_err *err)
{
    if (st == NULL || cb == NULL || to_ms < from_ms) {
        return vigil_err_set(err, VIGIL_ERR_ARG, NULL,
                             "vigil_store_set_rows: a store, a callback and from <= to");
    }
    if (st->ops->set_rows == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOT_FOUND, NULL,
                             "this store backend has no monitoring rows");
    }
    return st->ops->set_rows(st->be, from_ms, to_ms, cb, ctx, err);
}

vigil_status vigil_store_patient_ward(vigil_store *st, int64_t patient_id,
                                      char out_ward[VIGIL_STORE_NAME_MAX + 1], vigil_err *err)
{
    if (st == NULL || out_ward == NULL || patient_id <= 0) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "patient_id",
                             "vigil_store_patient_ward: a store, a patient id and an output");
    }
    if (st->ops->patient_ward == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOT_FOUND, NULL,
                             "this store backend has no unaudited ward lookup");
    }
    return st->ops->patient_ward(st->be, patient_id, out_ward, err);
}
