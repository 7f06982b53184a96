/*
 * hl7_msg.c: the message header (HL7 v2.5.1 section 2.14.9 MSH), the
 * patient identifiers shared by ORU and ADT (PID-3, CX), and the one-call
 * decode that chains parse, header and extraction.
 *
 * Does not do: look patients up, decide whether a message was seen before
 * (duplicate control ids are the store's question), or answer ACKs.
 *
 * Invariants: header faults are AR (chapter 2: the receiver rejects a
 * message whose MSH-9, MSH-11 or MSH-12 it cannot accept); content faults
 * are AE. The header is filled as far as it could be read even on error, so
 * an ACK can always echo the control id.
 */
#include <stdio.h>
#include <string.h>

#include "hl7_int.h"

void vigil_hl7_opts_init(vigil_hl7_opts *opts)
{
    if (opts == NULL) {
        return;
    }
    opts->processing = VIGIL_HL7_PROC_P;
    opts->local_tz = VIGIL_HL7_TZ_EUROPE_LONDON;
    opts->zone = NULL;
    opts->profiles = NULL;
    opts->n_profiles = 0;
}

static const char *const versions[] = {"2.3", "2.3.1", "2.4", "2.5",   "2.5.1", "2.6",
                                       "2.7", "2.7.1", "2.8", "2.8.1", "2.8.2", "2.9"};

int vigil__hl7_version_ok(const char *version)
{
    for (size_t k = 0; k < sizeof versions / sizeof versions[0]; k++) {
        if (strcmp(version, versions[k]) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Copy a raw (escaped) view into a fixed buffer; 0 if it does not fit. */
static int copy_raw(vigil_hl7_view v, char *out, size_t cap)
{
    if (v.n >= cap) {
        out[0] = '\0';
        return 0;
    }
    memcpy(out, v.p, v.n);
    out[v.n] = '\0';
    return 1;
}

static int is_code3(vigil_hl7_view v)
{
    if (v.n != 3) {
        return 0;
    }
    for (size_t k = 0; k < 3; k++) {
        char c = v.p[k];
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) {
            return 0;
        }
    }
    return 1;
}

static vigil_status hdr_fail(vigil_hl7_fault *fault, vigil_hl7_errcode code,
                             vigil_hl7_reason reason, unsigned field, unsigned comp,
                             const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;

static vigil_status hdr_fail(vigil_hl7_fault *fault, vigil_hl7_errcode code,
                             vigil_hl7_reason reason, unsigned field, unsigned comp,
                             const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vigil_status st =
        vigil__hl7_vfail(fault, code >= 200 ? VIGIL_ERR_MISMATCH : VIGIL_ERR_PARSE, VIGIL_HL7_AR,
                         code, reason, "MSH", 1, field, comp > 0 ? 1 : 0, comp, fmt, ap);
    va_end(ap);
    return st;
}

/* MSH-3 to MSH-6, MSH-10 raw: kept for the ACK. */
static vigil_status hdr_copy_ids(const vigil_hl7_msg *msg, vigil_hl7_header *h,
                                 vigil_hl7_fault *fault)
{
    char *dst[4] = {h->sending_app, h->sending_fac, h->receiving_app, h->receiving_fac};
    for (unsigned f = 3; f <= 6; f++) {
        vigil_hl7_view v; /* the first repetition: an HD does not repeat */
        vigil_hl7_get(msg, 0, f, 1, 0, 0, &v);
        if (!copy_raw(v, dst[f - 3], VIGIL_HL7_HDR_MAX)) {
            return vigil__hl7_fail(fault, VIGIL_ERR_PARSE, VIGIL_HL7_AR, VIGIL_HL7_E_DATA_TYPE,
                                   VIGIL_HL7_R_BAD_HEADER, "MSH", 1, f, 0, 0,
                                   "MSH-%u is longer than %d bytes", f, VIGIL_HL7_HDR_MAX - 1);
        }
    }
    vigil_hl7_view ctrl;
    vigil_hl7_get(msg, 0, 10, 1, 0, 0, &ctrl);
    if (vigil__hl7_blank(ctrl)) {
        return hdr_fail(fault, VIGIL_HL7_E_REQUIRED_MISSING, VIGIL_HL7_R_BAD_HEADER, 10, 0,
                        "MSH-10 message control id is empty");
    }
    if (!copy_raw(ctrl, h->control_raw, sizeof h->control_raw)) {
        return hdr_fail(fault, VIGIL_HL7_E_DATA_TYPE, VIGIL_HL7_R_BAD_HEADER, 10, 0,
                        "MSH-10 message control id is too long");
    }
    for (size_t k = 0; k < ctrl.n; k++) {
        char c = ctrl.p[k];
        if (c == msg->seps.comp || c == msg->seps.rep || c == msg->seps.sub) {
            return hdr_fail(fault, VIGIL_HL7_E_DATA_TYPE, VIGIL_HL7_R_BAD_HEADER, 10, 0,
                            "MSH-10 message control id has a component, repetition or "
                            "subcomponent separator: not an ST");
        }
    }
    const char *why = "";
    if (vigil__hl7_ident(&msg->seps, ctrl, h->control_id, sizeof h->control_id, &why) != VIGIL_OK) {
        h->control_id[0] = '\0';
        return hdr_fail(fault, VIGIL_HL7_E_DATA_TYPE, VIGIL_HL7_R_BAD_HEADER, 10, 0,
                        "MSH-10 message control id %s", why);
    }
    return VIGIL_OK;
}

static vigil_status hdr_type(const vigil_hl7_msg *msg, vigil_hl7_header *h, vigil_hl7_fault *fault)
{
    vigil_hl7_view code, trig;
    vigil_hl7_get(msg, 0, 9, 1, 1, 0, &code);
    vigil_hl7_get(msg, 0, 9, 1, 2, 0, &trig);
    if (is_code3(trig)) {
        copy_raw(trig, h->trigger, sizeof h->trigger);
    }
    if (vigil__hl7_blank(code)) {
        return hdr_fail(fault, VIGIL_HL7_E_REQUIRED_MISSING, VIGIL_HL7_R_BAD_HEADER, 9, 1,
                        "MSH-9 message type is empty");
    }
    if (!is_code3(code)) {
        return hdr_fail(fault, VIGIL_HL7_E_DATA_TYPE, VIGIL_HL7_R_BAD_HEADER, 9, 1,
                        "MSH-9.1 message code is not three letters");
    }
    copy_raw(code, h->msg_code, sizeof h->msg_code);
    return VIGIL_OK;
}

static vigil_status hdr_support(vigil_hl7_header *h, const vigil_hl7_opts *opts,
                                vigil_hl7_fault *fault)
{
    /* REQ HL7-AR-HEADER: MSH-9, MSH-11 and MSH-12 are checked before any content */
    if (strcmp(h->msg_code, "ACK") == 0) {
        h->kind = VIGIL_HL7_KIND_ACK;
    } else if (strcmp(h->msg_code, "ORU") == 0) {
        if (strcmp(h->trigger, "R01") != 0) {
            return hdr_fail(fault, VIGIL_HL7_E_UNSUPPORTED_EVENT, VIGIL_HL7_R_UNSUPPORTED_EVENT, 9,
                            2, "ORU trigger event '%s' is not supported (only R01)", h->trigger);
        }
        h->kind = VIGIL_HL7_KIND_ORU_R01;
    } else if (strcmp(h->msg_code, "ADT") == 0) {
        if (strcmp(h->trigger, "A01") != 0 && strcmp(h->trigger, "A02") != 0 &&
            strcmp(h->trigger, "A03") != 0 && strcmp(h->trigger, "A08") != 0) {
            return hdr_fail(fault, VIGIL_HL7_E_UNSUPPORTED_EVENT, VIGIL_HL7_R_UNSUPPORTED_EVENT, 9,
                            2, "ADT trigger event '%s' is not supported (A01, A02, A03, A08)",
                            h->trigger);
        }
        h->kind = VIGIL_HL7_KIND_ADT;
    } else {
        return hdr_fail(fault, VIGIL_HL7_E_UNSUPPORTED_MESSAGE, VIGIL_HL7_R_UNSUPPORTED_MESSAGE, 9,
                        1, "message type '%s' is not supported (ORU^R01, ADT^A01/A02/A03/A08)",
                        h->msg_code);
    }
    if (!vigil__hl7_version_ok(h->version)) {
        h->kind = VIGIL_HL7_KIND_NONE;
        return hdr_fail(fault, VIGIL_HL7_E_UNSUPPORTED_VERSION, VIGIL_HL7_R_UNSUPPORTED_VERSION, 12,
                        1, "HL7 version '%.12s' is not supported (2.5.1; also 2.3 to 2.9)",
                        h->version);
    }
    unsigned bit = h->processing_id[0] == 'P'   ? VIGIL_HL7_PROC_P
                   : h->processing_id[0] == 'T' ? VIGIL_HL7_PROC_T
                   : h->processing_id[0] == 'D' ? VIGIL_HL7_PROC_D
                                                : 0;
    if ((bit & opts->processing) == 0) {
        h->kind = VIGIL_HL7_KIND_NONE;
        return hdr_fail(fault, VIGIL_HL7_E_UNSUPPORTED_PROCESSING,
                        VIGIL_HL7_R_UNSUPPORTED_PROCESSING, 11, 1,
                        "processing id '%s' is not accepted here", h->processing_id);
    }
    return VIGIL_OK;
}

vigil_status vigil_hl7_header_read(const vigil_hl7_msg *msg, const vigil_hl7_opts *opts,
                                   vigil_hl7_header *out, vigil_hl7_fault *fault)
{
    vigil_hl7_fault_clear(fault);
    if (msg == NULL || out == NULL || msg->n_seg == 0) {
        return vigil__hl7_fail(fault, VIGIL_ERR_ARG, VIGIL_HL7_AR, VIGIL_HL7_E_INTERNAL,
                               VIGIL_HL7_R_INTERNAL, NULL, 0, 0, 0, 0, "no parsed message");
    }
    vigil_hl7_opts defaults;
    if (opts == NULL) {
        vigil_hl7_opts_init(&defaults);
        opts = &defaults;
    }
    memset(out, 0, sizeof *out);
    out->seps = msg->seps;
    out->seps_valid = true;
    vigil_status st = hdr_copy_ids(msg, out, fault);
    if (st != VIGIL_OK) {
        return st;
    }
    st = hdr_type(msg, out, fault);
    if (st != VIGIL_OK) {
        return st;
    }
    vigil_hl7_view v;
    vigil_hl7_get(msg, 0, 11, 1, 1, 0, &v);
    if (vigil__hl7_blank(v)) {
        return hdr_fail(fault, VIGIL_HL7_E_REQUIRED_MISSING, VIGIL_HL7_R_BAD_HEADER, 11, 1,
                        "MSH-11 processing id is empty");
    }
    if (v.n == 1) {
        out->processing_id[0] = v.p[0];
    }
    vigil_hl7_get(msg, 0, 12, 1, 1, 0, &v);
    if (vigil__hl7_blank(v)) {
        return hdr_fail(fault, VIGIL_HL7_E_REQUIRED_MISSING, VIGIL_HL7_R_BAD_HEADER, 12, 1,
                        "MSH-12 version id is empty");
    }
    if (!copy_raw(v, out->version, sizeof out->version)) {
        return hdr_fail(fault, VIGIL_HL7_E_UNSUPPORTED_VERSION, VIGIL_HL7_R_UNSUPPORTED_VERSION, 12,
                        1, "MSH-12 version id is too long");
    }
    st = hdr_support(out, opts, fault);
    if (st != VIGIL_OK) {
        return st;
    }
    vigil_hl7_get(msg, 0, 7, 1, 1, 0, &v);
    if (!vigil__hl7_blank(v)) {
        vigil_err e = {0};
        if (vigil_hl7_dtm_parse(v.p, v.n, VIGIL_HL7_PREC_YEAR, VIGIL_HL7_TZ_UTC, &out->t_ms, &e) !=
            VIGIL_OK) {
            return vigil__hl7_fail(fault, VIGIL_ERR_PARSE, VIGIL_HL7_AR, VIGIL_HL7_E_DATA_TYPE,
                                   VIGIL_HL7_R_BAD_TIMESTAMP, "MSH", 1, 7, 1, 1,
                                   "MSH-7 date/time of message: %s", e.msg);
        }
        /* Read again in the sender's zone when there is no offset (UTC was only a check):
         * the sender's profile's zone when it states one. REQ HL7-PROFILE-TZ */
        vigil_hl7_profile dflt;
        const vigil_hl7_profile *prof = vigil__hl7_profile_for(opts, out, &dflt);
        vigil_hl7_tz tz = prof->has_tz ? prof->local_tz : opts->local_tz;
        const vigil_tz *zone = prof->has_tz ? prof->zone : opts->zone;
        if (vigil_hl7_dtm_parse_zone(v.p, v.n, VIGIL_HL7_PREC_YEAR, tz, zone, &out->t_ms, &e) ==
            VIGIL_OK) {
            out->has_time = true;
        }
    }
    return VIGIL_OK;
}

/* -------------------------------------------------------- identifiers */

/* REQ HL7-PID-NHS: PID-3 CX.5 NH (or CX.4 NHS), check digit validated */
/*
 * REQ HL7-PID8-SEX: PID-8 (HL7 table 0001) as FHIR AdministrativeGender, as
 * the HL7 v2-to-FHIR ConceptMap table-hl70001-to-administrative-gender maps
 * it: F female, M male, O and A (ambiguous) other, U unknown; N (not
 * applicable) is read as unknown. Anything else, or an empty field, is "not
 * given": sex never refuses a set of vital signs.
 */
static vigil_admin_sex pid8_sex(const vigil_hl7_msg *msg, size_t i)
{
    vigil_hl7_view v;
    vigil_hl7_get(msg, i, 8, 1, 1, 0, &v);
    static const struct {
        const char *code;
        vigil_admin_sex sex;
    } map[] = {
        {.code = "F", .sex = VIGIL_ADMIN_SEX_FEMALE}, {.code = "M", .sex = VIGIL_ADMIN_SEX_MALE},
        {.code = "O", .sex = VIGIL_ADMIN_SEX_OTHER},  {.code = "A", .sex = VIGIL_ADMIN_SEX_OTHER},
        {.code = "U", .sex = VIGIL_ADMIN_SEX_UNKNOWN}, {.code = "N", .sex = VIGIL_ADMIN_SEX_UNKNOWN},
    };
    for (size_t k = 0; k < sizeof map / sizeof map[0]; k++) {
        if (vigil__hl7_eq(v, map[k].code)) {
            return map[k].sex;
        }
    }
    return VIGIL_ADMIN_SEX_NONE;
}

vigil_status vigil__hl7_pid_ids(const vigil_hl7_msg *msg, size_t i,
                                const vigil_hl7_profile *profile, vigil__hl7_patient *out,
                                vigil_hl7_fault *fault)
{
    memset(out, 0, sizeof *out);
    /* REQ HL7-PID-UNTYPED: the first untyped identifier, kept for when no MR/PI comes */
    bool untyped_ok = profile == NULL || profile->pid3_untyped_mrn;
    unsigned untyped_rep = 0;
    unsigned seq = vigil__hl7_seq(msg, i);
    /* One walk over the field: each repetition is split where it lies (reading
     * repetition r through vigil_hl7_get rescans the field from its start, which
     * made a field of N repetitions cost N^2). */
    vigil_hl7_view field = vigil__hl7_field(msg, i, 3);
    const char *p = field.p;
    const char *end = field.p + field.n;
    bool more = field.n > 0;
    for (unsigned r = 1; more; r++) {
        const char *q = memchr(p, msg->seps.rep, (size_t)(end - p));
        vigil_hl7_view rep = {p, (size_t)((q != NULL ? q : end) - p)};
        more = q != NULL;
        p = more ? q + 1 : end;
        vigil_hl7_view id = vigil__hl7_piece(rep, msg->seps.comp, 1);
        vigil_hl7_view auth =
            vigil__hl7_piece(vigil__hl7_piece(rep, msg->seps.comp, 4), msg->seps.sub, 1);
        vigil_hl7_view type = vigil__hl7_piece(rep, msg->seps.comp, 5);
        if (vigil__hl7_blank(id)) {
            continue;
        }
        int is_nhs = vigil__hl7_eq(type, "NH") || (type.n == 0 && vigil__hl7_eq(auth, "NHS"));
        int is_mrn = vigil__hl7_eq(type, "MR") || vigil__hl7_eq(type, "PI");
        if (!is_nhs && !is_mrn) {
            if (untyped_ok && untyped_rep == 0 && vigil__hl7_blank(type)) {
                untyped_rep = r;
            }
            continue;
        }
        char buf[VIGIL_ID_MAX];
        const char *why = "";
        if (vigil__hl7_ident(&msg->seps, id, buf, sizeof buf, &why) != VIGIL_OK) {
            return vigil__hl7_fail(fault, VIGIL_ERR_PARSE, VIGIL_HL7_AE, VIGIL_HL7_E_DATA_TYPE,
                                   is_nhs ? VIGIL_HL7_R_BAD_NHS_NUMBER : VIGIL_HL7_R_BAD_IDENTIFIER,
                                   "PID", seq, 3, r, 1, "PID-3(%u) %s identifier %s", r,
                                   is_nhs ? "NHS number" : "local patient", why);
        }
        if (is_nhs) {
            char nhs[VIGIL_NHS_NUMBER_LEN + 1];
            vigil_err e = {0};
            if (vigil_nhs_number_parse(buf, nhs, &e) != VIGIL_OK) {
                return vigil__hl7_fail(fault, VIGIL_ERR_PARSE, VIGIL_HL7_AE, VIGIL_HL7_E_DATA_TYPE,
                                       VIGIL_HL7_R_BAD_NHS_NUMBER, "PID", seq, 3, r, 1,
                                       "PID-3(%u): %s", r, e.msg);
            }
            if (out->nhs_number[0] != '\0' && strcmp(out->nhs_number, nhs) != 0) {
                return vigil__hl7_fail(fault, VIGIL_ERR_CONFLICT, VIGIL_HL7_AE,
                                       VIGIL_HL7_E_DATA_TYPE, VIGIL_HL7_R_CONFLICTING_ID, "PID",
                                       seq, 3, r, 1,
                                       "PID-3(%u): a second, different NHS number %s (first %s)", r,
                                       nhs, out->nhs_number);
            }
            memcpy(out->nhs_number, nhs, sizeof nhs);
        } else if (out->mrn[0] == '\0') {
            memcpy(out->mrn, buf, sizeof buf);
        }
    }
    if (out->mrn[0] == '\0' && untyped_rep != 0) {
        vigil_hl7_view id;
        vigil_hl7_get(msg, i, 3, untyped_rep, 1, 0, &id);
        const char *why = "";
        if (vigil__hl7_ident(&msg->seps, id, out->mrn, sizeof out->mrn, &why) != VIGIL_OK) {
            out->mrn[0] = '\0';
            return vigil__hl7_fail(fault, VIGIL_ERR_PARSE, VIGIL_HL7_AE, VIGIL_HL7_E_DATA_TYPE,
                                   VIGIL_HL7_R_BAD_IDENTIFIER, "PID", seq, 3, untyped_rep, 1,
                                   "PID-3(%u) local patient identifier (no type) %s", untyped_rep,
                                   why);
        }
    }
    if (out->nhs_number[0] == '\0' && out->mrn[0] == '\0') {
        return vigil__hl7_fail(fault, VIGIL_ERR_PARSE, VIGIL_HL7_AE, VIGIL_HL7_E_REQUIRED_MISSING,
                               VIGIL_HL7_R_NO_PATIENT_ID, "PID", seq, 3, 0, 0,
                               "PID-3 has neither an NHS number (type NH) nor a local number "
                               "(type MR or PI)");
    }
    out->sex = pid8_sex(msg, i);
    return VIGIL_OK;
}

vigil_status vigil__hl7_ts_field(const vigil_hl7_msg *msg, size_t i, unsigned f,
                                 vigil_hl7_prec min_prec, const vigil_hl7_opts *opts, int *present,
                                 int64_t *out_ms, vigil_hl7_fault *fault)
{
    *present = 0;
    vigil_hl7_view v;
    vigil_hl7_get(msg, i, f, 1, 1, 0, &v);
    if (vigil__hl7_blank(v) || vigil__hl7_placeholder_dtm(v)) {
        return VIGIL_OK; /* REQ HL7-PLACEHOLDER-DATE: 00000000 is "unknown" */
    }
    char id[4] = {0};
    memcpy(id, msg->seg[i].p, 3);
    unsigned seq = vigil__hl7_seq(msg, i);
    vigil_err e = {0};
    vigil_status st =
        vigil_hl7_dtm_parse_zone(v.p, v.n, min_prec, opts->local_tz, opts->zone, out_ms, &e);
    if (st != VIGIL_OK) {
        return vigil__hl7_fail(fault, st, VIGIL_HL7_AE, VIGIL_HL7_E_DATA_TYPE,
                               st == VIGIL_ERR_CONFLICT ? VIGIL_HL7_R_AMBIGUOUS_TIME
                                                        : VIGIL_HL7_R_BAD_TIMESTAMP,
                               id, seq, f, 1, 1, "%s #%u %s-%u: %s", id, seq, id, f, e.msg);
    }
    *present = 1;
    return VIGIL_OK;
}

/* ------------------------------------------------------- repetitions */

/* REQ HL7-MAX-REPS: a field repeated more than VIGIL_HL7_MAX_REPS times is
 * refused (AR 207 oversize) before anything reads it; one pass over the text. */
static vigil_status reps_check(const vigil_hl7_msg *msg, vigil_hl7_fault *fault)
{
    for (size_t i = 0; i < msg->n_seg; i++) {
        vigil_hl7_view s = msg->seg[i];
        int is_msh = memcmp(s.p, "MSH", 3) == 0;
        unsigned n_sep = 0; /* field separators passed */
        unsigned reps = 1;
        for (size_t k = 3; k < s.n; k++) {
            char c = s.p[k];
            if (c == msg->seps.field) {
                n_sep++;
                reps = 1;
                continue;
            }
            unsigned f = is_msh ? n_sep + 1 : n_sep; /* MSH-1 is the separator itself */
            if (c != msg->seps.rep || (is_msh && f <= 2)) {
                continue;
            }
            if (++reps > VIGIL_HL7_MAX_REPS) {
                char id[4] = {s.p[0], s.p[1], s.p[2], '\0'};
                return vigil__hl7_fail(fault, VIGIL_ERR_PARSE, VIGIL_HL7_AR, VIGIL_HL7_E_INTERNAL,
                                       VIGIL_HL7_R_OVERSIZE, id, vigil__hl7_seq(msg, i), f, 0, 0,
                                       "%s-%u repeats more than %d times: refused, not read", id, f,
                                       VIGIL_HL7_MAX_REPS);
            }
        }
    }
    return VIGIL_OK;
}

/* ------------------------------------------------------------- decode */

/*
 * After a parse failure, read the header from the MSH line alone when that
 * line is clean, so the ACK can still echo MSH-10 and the applications.
 */
static void salvage_header(const char *text, size_t len, const vigil_hl7_opts *opts,
                           vigil_hl7_msg *msg, vigil_hl7_header *hdr)
{
    size_t end = 0;
    while (end < len && text[end] != '\r' && text[end] != '\n') {
        end++;
    }
    vigil_hl7_fault scratch;
    if (end == 0 || vigil_hl7_parse(text, end, msg, &scratch) != VIGIL_OK) {
        return;
    }
    vigil_hl7_header_read(msg, opts, hdr, &scratch);
}

vigil_status vigil_hl7_decode(const char *text, size_t len, const vigil_hl7_opts *opts,
                              vigil_hl7_result *out)
{
    if (out == NULL) {
        return VIGIL_ERR_ARG;
    }
    memset(out, 0, sizeof *out);
    vigil_hl7_fault_clear(&out->fault);
    vigil_adt_event_init(&out->adt);
    vigil_hl7_opts defaults;
    if (opts == NULL) {
        vigil_hl7_opts_init(&defaults);
        opts = &defaults;
    }
    vigil_hl7_msg msg;
    vigil_status st = vigil_hl7_parse(text, len, &msg, &out->fault);
    if (st != VIGIL_OK) {
        if (st != VIGIL_ERR_ARG) {
            salvage_header(text, len, opts, &msg, &out->hdr);
        }
        return st;
    }
    st = vigil_hl7_header_read(&msg, opts, &out->hdr, &out->fault);
    if (st != VIGIL_OK) {
        return st;
    }
    st = reps_check(&msg, &out->fault);
    if (st != VIGIL_OK) {
        return st;
    }
    out->kind = out->hdr.kind;
    switch (out->kind) {
    case VIGIL_HL7_KIND_ORU_R01:
        return vigil_hl7_oru_extract(&msg, &out->hdr, opts, out->events, VIGIL_HL7_MAX_EVENTS,
                                     &out->n_events, &out->oru, &out->fault);
    case VIGIL_HL7_KIND_ADT:
        return vigil_hl7_adt_extract(&msg, &out->hdr, opts, &out->adt, &out->fault);
    case VIGIL_HL7_KIND_ACK:
    case VIGIL_HL7_KIND_NONE:
    case VIGIL_HL7_KIND_COUNT:
        break;
    }
    return VIGIL_OK;
}
