/*
 * outcome.c: which admission a deterioration outcome (unplanned critical
 * care, cardiac arrest call, death, sepsis) belongs to, and when one is
 * refused, decided once for every backend (issue 15 item 1; before,
 * record_txn was written in both sq_outcome.c and pg_outcome.c).
 *
 * The rules: an outcome belongs to the admission named, which must be the
 * patient's own, or when none is named to the patient's latest admission;
 * a patient with no such admission is refused; an outcome dated before its
 * admission began is refused. The outcome and its audit record are written
 * in the backend's one transaction (one per admission, kind and time: the
 * schema's unique index).
 *
 * Does not: read or write storage itself (the backend's vigil__outcome_io
 * primitives do), decide what counts as an outcome of an alert (the
 * evaluation reads outcomes and alerts side by side), or check arguments
 * (store.c has).
 */
#include "store_int.h"

vigil_status vigil__outcome_record(const vigil__outcome_io *io, void *be, const vigil_actor *who,
                                   int64_t patient_id, int64_t admission_id,
                                   vigil_store_outcome_kind kind, int64_t t_ms,
                                   int64_t recorded_ms, const char *source, const char *note,
                                   int64_t *out_id, vigil_err *err)
{
    bool found = false;
    int64_t adm = 0, admitted_ms = 0;
    vigil_status s = io->admission(be, patient_id, admission_id, &found, &adm, &admitted_ms, err);
    if (s != VIGIL_OK) {
        return s;
    }
    if (!found) {
        return vigil_err_set(err, VIGIL_ERR_NOT_FOUND, "admission_id",
                             admission_id != 0 ? "no admission %lld of patient %lld"
                                               : "patient %lld has no admission",
                             (long long)(admission_id != 0 ? admission_id : patient_id),
                             (long long)patient_id);
    }
    if (t_ms < admitted_ms) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "t_ms",
                             "the outcome is dated before admission %lld began", (long long)adm);
    }
    int64_t id = 0;
    s = io->insert(be, who, patient_id, adm, kind, t_ms, recorded_ms, source, note, &id, err);
    if (s != VIGIL_OK) {
        return s;
    }
    vigil__audit_ev ev;
    vigil__audit_ev_set(&ev, who, "outcome.record", "outcome", id, patient_id,
                        "%s of admission %lld from %s", vigil_store_outcome_kind_name(kind),
                        (long long)adm, source);
    s = io->audit(be, &ev, err);
    if (s == VIGIL_OK) {
        *out_id = id;
    }
    return s;
}
