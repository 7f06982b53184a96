/*
 * hl7_adt.c: patient movements from ADT A01 (admit), A02 (transfer), A03
 * (discharge) and A08 (update) (HL7 v2.5.1 chapter 3: EVN 3.4.1, PID
 * 3.4.2, PV1 3.4.3) to vigil_adt_event.
 *
 * What it does: reads the patient identifiers (PID-3), the event time
 * (EVN-6, else EVN-2, else MSH-7), the patient class (PV1-2), the assigned
 * and prior locations (PV1-3, PV1-6: ward^room^bed^facility), the visit
 * number (PV1-19), the discharge disposition (PV1-36, user-defined table
 * 0112) and the admit and discharge times (PV1-44, PV1-45).
 *
 * What it does not do: keep names, addresses, dates of birth, next of kin,
 * allergies or diagnoses (data minimisation: vigil needs to know who is in
 * which bed, not who they are); cancel events (A11, A12, A13) or merges.
 *
 * Invariants: an A01 or A02 without a ward in PV1-3 is refused (AE): an
 * admission or transfer to nowhere would leave the patient off every ward
 * list. Every copied string is decoded, checked and NUL-terminated.
 */
#include <string.h>

#include "hl7_int.h"

void vigil_adt_event_init(vigil_adt_event *ev)
{
    if (ev == NULL) {
        return;
    }
    memset(ev, 0, sizeof *ev);
}

const char *vigil_adt_kind_name(vigil_adt_kind k)
{
    switch (k) {
    case VIGIL_ADT_ADMIT:
        return "admit";
    case VIGIL_ADT_TRANSFER:
        return "transfer";
    case VIGIL_ADT_DISCHARGE:
        return "discharge";
    case VIGIL_ADT_UPDATE:
        return "update";
    case VIGIL_ADT_NONE:
    case VIGIL_ADT_KIND_COUNT:
        break;
    }
    return "";
}

/* Decode an optional identifier-like component into out ("" when blank). */
static vigil_status opt_ident(const vigil_hl7_msg *m, size_t i, unsigned f, unsigned comp,
                              unsigned sub, char *out, size_t cap, const char *what,
                              vigil_hl7_fault *fault)
{
    vigil_hl7_view v;
    vigil_hl7_get(m, i, f, 1, comp, sub, &v);
    out[0] = '\0';
    if (vigil__hl7_blank(v)) {
        return VIGIL_OK;
    }
    const char *why = "";
    if (vigil__hl7_ident(&m->seps, v, out, cap, &why) != VIGIL_OK) {
        out[0] = '\0';
        char id[4] = {0};
        memcpy(id, m->seg[i].p, 3);
        return vigil__hl7_fail(fault, VIGIL_ERR_PARSE, VIGIL_HL7_AE, VIGIL_HL7_E_DATA_TYPE,
                               VIGIL_HL7_R_BAD_IDENTIFIER, id, vigil__hl7_seq(m, i), f, 1, comp,
                               "%s-%u.%u %s %s", id, f, comp, what, why);
    }
    return VIGIL_OK;
}

/*
 * A PL component that may carry subcomponents: PL.1 point of care, PL.2
 * room and PL.3 bed are IS in v2.5.1 and HD (namespace ID & universal ID &
 * universal ID type) from v2.7; PL.4 facility is an HD. The identifier is
 * the namespace ID (HD.1). Without it, HD.2 is used only with its type
 * (HD.3), as HD requires ("the second and third components must either both
 * be valued or both be not valued"). REQ HL7-SUBCOMPONENT
 */
static vigil_status hd_ident(const vigil_hl7_msg *m, size_t i, unsigned f, unsigned comp, char *out,
                             size_t cap, const char *what, vigil_hl7_fault *fault)
{
    vigil_hl7_view whole, ns, uid, type;
    vigil_hl7_get(m, i, f, 1, comp, 0, &whole);
    if (memchr(whole.p, m->seps.sub, whole.n) == NULL) {
        return opt_ident(m, i, f, comp, 0, out, cap, what, fault);
    }
    vigil_hl7_get(m, i, f, 1, comp, 1, &ns);
    vigil_hl7_get(m, i, f, 1, comp, 2, &uid);
    vigil_hl7_get(m, i, f, 1, comp, 3, &type);
    if (!vigil__hl7_blank(ns)) {
        return opt_ident(m, i, f, comp, 1, out, cap, what, fault);
    }
    if (!vigil__hl7_blank(uid) && !vigil__hl7_blank(type)) {
        return opt_ident(m, i, f, comp, 2, out, cap, what, fault);
    }
    out[0] = '\0';
    if (vigil__hl7_blank(uid) && vigil__hl7_blank(type)) {
        return VIGIL_OK; /* "&&": nothing */
    }
    char id[4] = {0};
    memcpy(id, m->seg[i].p, 3);
    return vigil__hl7_fail(fault, VIGIL_ERR_PARSE, VIGIL_HL7_AE, VIGIL_HL7_E_DATA_TYPE,
                           VIGIL_HL7_R_BAD_IDENTIFIER, id, vigil__hl7_seq(m, i), f, 1, comp,
                           "%s-%u.%u %s has no namespace ID (HD.1) and a universal ID without its "
                           "type (HD.2 and HD.3 go together): which %s is meant is unknown",
                           id, f, comp, what, what);
}

/* A PL field: point of care, room, bed, facility (each read as an HD). */
static vigil_status read_location(const vigil_hl7_msg *m, size_t i, unsigned f, vigil_location *out,
                                  vigil_hl7_fault *fault)
{
    vigil_status st = hd_ident(m, i, f, 1, out->ward, sizeof out->ward, "ward", fault);
    if (st == VIGIL_OK) {
        st = hd_ident(m, i, f, 2, out->room, sizeof out->room, "room", fault);
    }
    if (st == VIGIL_OK) {
        st = hd_ident(m, i, f, 3, out->bed, sizeof out->bed, "bed", fault);
    }
    if (st == VIGIL_OK) {
        st = hd_ident(m, i, f, 4, out->facility, sizeof out->facility, "facility", fault);
    }
    return st;
}

static vigil_adt_kind kind_of(const char *trigger)
{
    if (strcmp(trigger, "A01") == 0) {
        return VIGIL_ADT_ADMIT;
    }
    if (strcmp(trigger, "A02") == 0) {
        return VIGIL_ADT_TRANSFER;
    }
    if (strcmp(trigger, "A03") == 0) {
        return VIGIL_ADT_DISCHARGE;
    }
    if (strcmp(trigger, "A08") == 0) {
        return VIGIL_ADT_UPDATE;
    }
    return VIGIL_ADT_NONE;
}

static vigil_status missing_segment(vigil_hl7_fault *fault, const char *id, const char *trig)
{
    return vigil__hl7_fail(fault, VIGIL_ERR_PARSE, VIGIL_HL7_AE, VIGIL_HL7_E_SEGMENT_SEQUENCE,
                           VIGIL_HL7_R_MISSING_SEGMENT, id, 0, 0, 0, 0, "ADT^%s has no %s segment",
                           trig, id);
}

/* Event time: EVN-6 (event occurred), else EVN-2 (recorded), else MSH-7. */
static vigil_status event_time(const vigil_hl7_msg *m, const vigil_hl7_header *hdr,
                               const vigil_hl7_opts *opts, vigil_adt_event *ev,
                               vigil_hl7_fault *fault)
{
    size_t evn = vigil_hl7_find(m, "EVN", 1);
    if (evn < m->n_seg) {
        static const unsigned fields[2] = {6, 2};
        for (int k = 0; k < 2; k++) {
            int has = 0;
            vigil_status st = vigil__hl7_ts_field(m, evn, fields[k], VIGIL_HL7_PREC_MINUTE, opts,
                                                  &has, &ev->t_ms, fault);
            if (st != VIGIL_OK) {
                return st;
            }
            if (has) {
                return VIGIL_OK;
            }
        }
    }
    if (hdr->has_time) {
        ev->t_ms = hdr->t_ms;
        return VIGIL_OK;
    }
    return vigil__hl7_fail(fault, VIGIL_ERR_PARSE, VIGIL_HL7_AE, VIGIL_HL7_E_REQUIRED_MISSING,
                           VIGIL_HL7_R_MISSING_FIELD, "EVN", 1, 2, 0, 0,
                           "no event time in EVN-6, EVN-2 or MSH-7");
}

static vigil_status read_pv1(const vigil_hl7_msg *m, size_t pv1, const vigil_hl7_opts *opts,
                             vigil_adt_event *ev, vigil_hl7_fault *fault)
{
    vigil_status st = opt_ident(m, pv1, 2, 1, 0, ev->patient_class, sizeof ev->patient_class,
                                "patient class", fault);
    if (st == VIGIL_OK) {
        st = read_location(m, pv1, 3, &ev->location, fault);
    }
    if (st == VIGIL_OK) {
        st = read_location(m, pv1, 6, &ev->prior_location, fault);
    }
    if (st == VIGIL_OK) {
        st = opt_ident(m, pv1, 19, 1, 0, ev->visit_number, sizeof ev->visit_number, "visit number",
                       fault);
    }
    if (st == VIGIL_OK) {
        /* PV1-36 discharge disposition (IS, user table 0112: the site's codes) */
        st = opt_ident(m, pv1, 36, 1, 0, ev->discharge_disposition,
                       sizeof ev->discharge_disposition, "discharge disposition", fault);
    }
    int has = 0;
    if (st == VIGIL_OK) {
        st = vigil__hl7_ts_field(m, pv1, 44, VIGIL_HL7_PREC_MINUTE, opts, &has, &ev->admit_t_ms,
                                 fault);
        ev->has_admit_t = has != 0;
    }
    if (st == VIGIL_OK) {
        st = vigil__hl7_ts_field(m, pv1, 45, VIGIL_HL7_PREC_MINUTE, opts, &has, &ev->discharge_t_ms,
                                 fault);
        ev->has_discharge_t = has != 0;
    }
    return st;
}

vigil_status vigil_hl7_adt_extract(const vigil_hl7_msg *msg, const vigil_hl7_header *hdr,
                                   const vigil_hl7_opts *opts, vigil_adt_event *out,
                                   vigil_hl7_fault *fault)
{
    vigil_hl7_fault_clear(fault);
    if (msg == NULL || hdr == NULL || out == NULL) {
        return vigil__hl7_fail(fault, VIGIL_ERR_ARG, VIGIL_HL7_AR, VIGIL_HL7_E_INTERNAL,
                               VIGIL_HL7_R_INTERNAL, NULL, 0, 0, 0, 0, "missing argument");
    }
    vigil_hl7_opts defaults;
    if (opts == NULL) {
        vigil_hl7_opts_init(&defaults);
        opts = &defaults;
    }
    vigil_adt_event ev;
    vigil_adt_event_init(&ev);
    ev.kind = kind_of(hdr->trigger);
    if (ev.kind == VIGIL_ADT_NONE) {
        return vigil__hl7_fail(fault, VIGIL_ERR_MISMATCH, VIGIL_HL7_AR,
                               VIGIL_HL7_E_UNSUPPORTED_EVENT, VIGIL_HL7_R_UNSUPPORTED_EVENT, "MSH",
                               1, 9, 1, 2, "ADT trigger event '%s' is not supported", hdr->trigger);
    }
    memcpy(ev.source_id, hdr->control_id, sizeof ev.source_id);
    size_t pid = vigil_hl7_find(msg, "PID", 1);
    if (pid == msg->n_seg) {
        return missing_segment(fault, "PID", hdr->trigger);
    }
    size_t pv1 = vigil_hl7_find(msg, "PV1", pid + 1);
    if (pv1 == msg->n_seg) {
        return missing_segment(fault, "PV1", hdr->trigger);
    }
    vigil_hl7_profile dflt;
    const vigil_hl7_profile *prof = vigil__hl7_profile_for(opts, hdr, &dflt);
    vigil_hl7_opts o = *opts;
    if (prof->has_tz) {
        o.local_tz = prof->local_tz; /* REQ HL7-PROFILE-TZ */
        o.zone = prof->zone;
    }
    opts = &o;
    vigil__hl7_patient pat;
    vigil_status st = vigil__hl7_pid_ids(msg, pid, prof, &pat, fault);
    if (st != VIGIL_OK) {
        return st;
    }
    memcpy(ev.nhs_number, pat.nhs_number, sizeof ev.nhs_number);
    memcpy(ev.mrn, pat.mrn, sizeof ev.mrn);
    ev.sex = pat.sex; /* REQ HL7-PID8-SEX */
    st = event_time(msg, hdr, opts, &ev, fault);
    if (st == VIGIL_OK) {
        st = read_pv1(msg, pv1, opts, &ev, fault);
    }
    if (st != VIGIL_OK) {
        return st;
    }
    /* REQ HL7-ADT-LOCATION */
    if ((ev.kind == VIGIL_ADT_ADMIT || ev.kind == VIGIL_ADT_TRANSFER) &&
        ev.location.ward[0] == '\0') {
        return vigil__hl7_fail(fault, VIGIL_ERR_PARSE, VIGIL_HL7_AE, VIGIL_HL7_E_REQUIRED_MISSING,
                               VIGIL_HL7_R_MISSING_FIELD, "PV1", vigil__hl7_seq(msg, pv1), 3, 1, 1,
                               "ADT^%s PV1-3.1 assigned ward is empty", hdr->trigger);
    }
    *out = ev;
    return VIGIL_OK;
}
