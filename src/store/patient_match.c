/*
 * patient_match.c: which patient an incoming observation set belongs to,
 * and what is refused (the wrong-patient rule), decided once for every
 * backend (issue 15 item 1); and the two other decisions a set's storing
 * takes from stored data: whether a resent message is the same set, and
 * whether a move or discharge is dated before the current bed stay.
 *
 * Does not: read or write storage itself (a backend's vigil__patient_io
 * primitives do, inside the backend's open write transaction, so the
 * reads the rule decides from and the writes it makes commit or roll back
 * together), check an NHS number's check digit or a text's length (store.c
 * has, before the backend runs).
 *
 * Invariants: a refusal writes nothing; a found patient's stored
 * identifiers are never replaced (only empty ones filled in); each write is
 * audited in the same transaction. Before issue 15 this was written twice,
 * once in each backend's obs file (sq_obs.c, pg_obs.c resolve_patient).
 */
#include <stdio.h>
#include <string.h>

#include "store_int.h"
#include "obs_sql.h"

/* Both given and different. */
static bool differs(const char *stored, const char *given)
{
    return given[0] != '\0' && stored[0] != '\0' && strcmp(stored, given) != 0;
}

/* Given where nothing is stored. */
static bool fills(const char *stored, const char *given)
{
    return given[0] != '\0' && stored[0] == '\0';
}

/* REQ STORE-SEX-LATEST: administrative sex may change, so a stated female,
 * male or other replaces the stored value; "unknown" only fills an empty
 * one (a feed that does not know must not erase what another stated). */
static bool sex_changes(vigil_admin_sex stored, vigil_admin_sex given)
{
    if (given == VIGIL_ADMIN_SEX_NONE || given == stored ||
        (unsigned)given >= VIGIL_ADMIN_SEX_COUNT) {
        return false;
    }
    return given != VIGIL_ADMIN_SEX_UNKNOWN || stored == VIGIL_ADMIN_SEX_NONE;
}

/* Copy the texts of want that fill p's empty fields into set ("" keeps). */
static void copy_if_fills(char *dst, size_t cap, const char *stored, const char *given)
{
    dst[0] = '\0';
    if (fills(stored, given)) {
        snprintf(dst, cap, "%s", given);
    }
}

/* The found patient p: fill in what it lacks and record the sex stated. */
static vigil_status update_found(const vigil__patient_io *io, void *be, const vigil_actor *who,
                                 const vigil_patient *p, const vigil_patient *want,
                                 vigil_err *err)
{
    vigil_patient set;
    memset(&set, 0, sizeof set);
    copy_if_fills(set.nhs_number, sizeof set.nhs_number, p->nhs_number, want->nhs_number);
    copy_if_fills(set.mrn, sizeof set.mrn, p->mrn, want->mrn);
    copy_if_fills(set.name, sizeof set.name, p->name, want->name);
    copy_if_fills(set.birth_date, sizeof set.birth_date, p->birth_date, want->birth_date);
    bool sex = sex_changes(p->sex, want->sex);
    set.sex = sex ? want->sex : VIGIL_ADMIN_SEX_NONE;
    if (set.nhs_number[0] == '\0' && set.mrn[0] == '\0' && set.name[0] == '\0' &&
        set.birth_date[0] == '\0' && !sex) {
        return VIGIL_OK;
    }
    vigil_status s = io->update(be, p->id, &set, err);
    if (s != VIGIL_OK) {
        return s;
    }
    vigil__audit_ev ev;
    vigil__audit_ev_set(&ev, who, "patient.update", "patient", p->id, p->id,
                        "filled in:%s%s%s%s%s", set.nhs_number[0] != '\0' ? " nhs_number" : "",
                        set.mrn[0] != '\0' ? " mrn" : "", set.name[0] != '\0' ? " name" : "",
                        set.birth_date[0] != '\0' ? " birth_date" : "", sex ? " sex" : "");
    return io->audit(be, &ev, err);
}

static vigil_status create(const vigil__patient_io *io, void *be, const vigil_actor *who,
                           const vigil_patient *want, int64_t *out_id, vigil_err *err)
{
    vigil_patient p = *want;
    p.id = 0;
    vigil_status s = io->insert(be, &p, vigil__store_now_ms(), out_id, err);
    if (s != VIGIL_OK) {
        return s;
    }
    vigil__audit_ev ev;
    vigil__audit_ev_set(&ev, who, "patient.create", "patient", *out_id, *out_id, "by %s%s%s",
                        want->nhs_number[0] != '\0' ? "nhs_number" : "",
                        want->nhs_number[0] != '\0' && want->mrn[0] != '\0' ? " and " : "",
                        want->mrn[0] != '\0' ? "mrn" : "");
    return io->audit(be, &ev, err);
}

vigil_status vigil__patient_match(const vigil__patient_io *io, void *be, const vigil_actor *who,
                                  const vigil_patient *want, int64_t *out_id, vigil_err *err)
{
    vigil_patient by_nhs, by_mrn;
    bool f_nhs = false, f_mrn = false;
    vigil_status s = VIGIL_OK;
    if (want->nhs_number[0] != '\0') {
        s = io->by_key(be, VIGIL__PATIENT_BY_NHS, want->nhs_number, &f_nhs, &by_nhs, err);
    }
    if (s == VIGIL_OK && want->mrn[0] != '\0') {
        s = io->by_key(be, VIGIL__PATIENT_BY_MRN, want->mrn, &f_mrn, &by_mrn, err);
    }
    if (s != VIGIL_OK) {
        return s;
    }
    /* REQ STORE-WRONG-PATIENT: never a set on a patient its identifiers do
     * not all name */
    if (f_nhs && f_mrn && by_nhs.id != by_mrn.id) {
        /* no patient ids in the text: it reaches API users (issue 12 finding 12) */
        return vigil_err_set(err, VIGIL_ERR_CONFLICT, "patient",
                             "the NHS number and the hospital number belong to two different "
                             "patients");
    }
    if (!f_nhs && !f_mrn) {
        return create(io, be, who, want, out_id, err);
    }
    const vigil_patient *p = f_nhs ? &by_nhs : &by_mrn;
    if (differs(p->nhs_number, want->nhs_number) || differs(p->mrn, want->mrn)) {
        return vigil_err_set(err, VIGIL_ERR_CONFLICT, "patient",
                             "the patient is stored with a different %s",
                             differs(p->mrn, want->mrn) ? "hospital number" : "NHS number");
    }
    *out_id = p->id;
    return update_found(io, be, who, p, want, err);
}

bool vigil__resend_is_same(const vigil_obs_event *ev, int64_t stored_t_ms,
                           const vigil_obs *stored, const char *stored_nhs,
                           const char *stored_mrn)
{
    return stored_t_ms == ev->t_ms && vigil__obs_same(stored, &ev->obs) &&
           !differs(stored_nhs, ev->nhs_number) && !differs(stored_mrn, ev->mrn) &&
           (ev->nhs_number[0] == '\0' || stored_nhs[0] != '\0') &&
           (ev->mrn[0] == '\0' || stored_mrn[0] != '\0');
}

vigil_status vigil__stay_check_order(int64_t since_ms, int64_t t_ms, vigil_err *err)
{
    if (t_ms >= since_ms) {
        return VIGIL_OK;
    }
    return vigil_err_set(err, VIGIL_ERR_ARG, "t_ms",
                         "the event time is %lld s before the patient's current bed stay "
                         "began (the last admission or transfer): nothing changed; send it "
                         "with its true time, or the events in order",
                         (long long)((since_ms - t_ms + 999) / 1000));
}
