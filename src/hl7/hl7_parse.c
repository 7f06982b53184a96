/*
 * hl7_parse.c: the HL7 v2 encoding rules (v2.5.1 chapter 2, sections 2.5 to
 * 2.7): segments, the encoding characters of MSH-1/MSH-2, fields,
 * repetitions, components, subcomponents and escape sequences.
 *
 * Does not do: message semantics (hl7_msg.c, hl7_oru.c, hl7_adt.c), batches
 * (FHS/BHS), character-set switching escapes (\Cxxyy\, \Mxxyyzz\) or
 * formatted-text commands other than \.br\, which are refused.
 *
 * Invariants: nothing is copied or allocated by the parser; a parsed message
 * is a table of segment views into the caller's text. Splitting happens on
 * access, and escape sequences are decoded only by vigil_hl7_unescape, so a
 * separator that arrived escaped can never split a field.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hl7_int.h"

/* ------------------------------------------------------------ faults */

void vigil_hl7_fault_clear(vigil_hl7_fault *fault)
{
    if (fault == NULL) {
        return;
    }
    memset(fault, 0, sizeof *fault);
    fault->ack = VIGIL_HL7_AA;
    fault->code = VIGIL_HL7_E_ACCEPTED;
    fault->reason = VIGIL_HL7_R_NONE;
    fault->status = VIGIL_OK;
}

vigil_status vigil__hl7_vfail(vigil_hl7_fault *fault, vigil_status st, vigil_hl7_ack_code ack,
                              vigil_hl7_errcode code, vigil_hl7_reason reason, const char *loc_seg,
                              unsigned seq, unsigned field, unsigned rep, unsigned comp,
                              const char *fmt, va_list ap)
{
    if (fault == NULL) {
        return st;
    }
    vigil_hl7_fault_clear(fault);
    fault->ack = ack;
    fault->code = code;
    fault->reason = reason;
    fault->status = st;
    if (loc_seg != NULL) {
        snprintf(fault->loc.seg, sizeof fault->loc.seg, "%s", loc_seg);
        fault->loc.seq = seq;
        fault->loc.field = field;
        fault->loc.rep = rep;
        fault->loc.comp = comp;
    }
    vsnprintf(fault->text, sizeof fault->text, fmt, ap);
    return st;
}

vigil_status vigil__hl7_fail(vigil_hl7_fault *fault, vigil_status st, vigil_hl7_ack_code ack,
                             vigil_hl7_errcode code, vigil_hl7_reason reason, const char *loc_seg,
                             unsigned seq, unsigned field, unsigned rep, unsigned comp,
                             const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vigil_status r =
        vigil__hl7_vfail(fault, st, ack, code, reason, loc_seg, seq, field, rep, comp, fmt, ap);
    va_end(ap);
    return r;
}

void vigil_hl7_fault_unknown_patient(vigil_hl7_fault *fault, const char *id)
{
    vigil__hl7_fail(fault, VIGIL_ERR_NOT_FOUND, VIGIL_HL7_AE, VIGIL_HL7_E_UNKNOWN_KEY,
                    VIGIL_HL7_R_UNKNOWN_PATIENT, "PID", 1, 3, 0, 0,
                    "patient %.64s is not on vigil's ward list", id != NULL ? id : "");
}

/* ------------------------------------------------------------ names */

static const char *const ack_names[VIGIL_HL7_ACK_CODE_COUNT] = {"AA", "AE", "AR"};

const char *vigil_hl7_ack_code_name(vigil_hl7_ack_code c)
{
    if ((unsigned)c >= VIGIL_HL7_ACK_CODE_COUNT) {
        return "AR";
    }
    return ack_names[c];
}

const char *vigil_hl7_errcode_text(vigil_hl7_errcode c)
{
    switch (c) {
    case VIGIL_HL7_E_ACCEPTED:
        return "Message accepted";
    case VIGIL_HL7_E_SEGMENT_SEQUENCE:
        return "Segment sequence error";
    case VIGIL_HL7_E_REQUIRED_MISSING:
        return "Required field missing";
    case VIGIL_HL7_E_DATA_TYPE:
        return "Data type error";
    case VIGIL_HL7_E_TABLE_VALUE:
        return "Table value not found";
    case VIGIL_HL7_E_UNSUPPORTED_MESSAGE:
        return "Unsupported message type";
    case VIGIL_HL7_E_UNSUPPORTED_EVENT:
        return "Unsupported event code";
    case VIGIL_HL7_E_UNSUPPORTED_PROCESSING:
        return "Unsupported processing id";
    case VIGIL_HL7_E_UNSUPPORTED_VERSION:
        return "Unsupported version id";
    case VIGIL_HL7_E_UNKNOWN_KEY:
        return "Unknown key identifier";
    case VIGIL_HL7_E_DUPLICATE_KEY:
        return "Duplicate key identifier";
    case VIGIL_HL7_E_RECORD_LOCKED:
        return "Application record locked";
    case VIGIL_HL7_E_INTERNAL:
        return "Application internal error";
    }
    return "Application internal error";
}

static const char *const reason_names[VIGIL_HL7_R_COUNT] = {
    [VIGIL_HL7_R_NONE] = "none",
    [VIGIL_HL7_R_EMPTY] = "empty",
    [VIGIL_HL7_R_OVERSIZE] = "oversize",
    [VIGIL_HL7_R_CONTROL_BYTE] = "control-byte",
    [VIGIL_HL7_R_NO_MSH] = "no-msh",
    [VIGIL_HL7_R_BAD_ENCODING] = "bad-encoding",
    [VIGIL_HL7_R_BAD_SEGMENT] = "bad-segment",
    [VIGIL_HL7_R_SECOND_MSH] = "second-msh",
    [VIGIL_HL7_R_BAD_HEADER] = "bad-header",
    [VIGIL_HL7_R_UNSUPPORTED_MESSAGE] = "unsupported-message",
    [VIGIL_HL7_R_UNSUPPORTED_EVENT] = "unsupported-event",
    [VIGIL_HL7_R_UNSUPPORTED_VERSION] = "unsupported-version",
    [VIGIL_HL7_R_UNSUPPORTED_PROCESSING] = "unsupported-processing",
    [VIGIL_HL7_R_MISSING_SEGMENT] = "missing-segment",
    [VIGIL_HL7_R_MISSING_FIELD] = "missing-field",
    [VIGIL_HL7_R_BAD_TIMESTAMP] = "bad-timestamp",
    [VIGIL_HL7_R_AMBIGUOUS_TIME] = "ambiguous-time",
    [VIGIL_HL7_R_BAD_NHS_NUMBER] = "bad-nhs-number",
    [VIGIL_HL7_R_BAD_IDENTIFIER] = "bad-identifier",
    [VIGIL_HL7_R_CONFLICTING_ID] = "conflicting-id",
    [VIGIL_HL7_R_NO_PATIENT_ID] = "no-patient-id",
    [VIGIL_HL7_R_VALUE_TYPE] = "value-type",
    [VIGIL_HL7_R_NOT_NUMERIC] = "not-numeric",
    [VIGIL_HL7_R_BAD_UNITS] = "bad-units",
    [VIGIL_HL7_R_IMPLAUSIBLE] = "implausible",
    [VIGIL_HL7_R_BAD_CODE] = "bad-code",
    [VIGIL_HL7_R_RETRACTION] = "retraction",
    [VIGIL_HL7_R_DUPLICATE] = "duplicate",
    [VIGIL_HL7_R_TOO_MANY_EVENTS] = "too-many-events",
    [VIGIL_HL7_R_INTERNAL] = "internal",
    [VIGIL_HL7_R_UNKNOWN_PATIENT] = "unknown-patient",
    [VIGIL_HL7_R_SENTINEL] = "no-measurement",
    [VIGIL_HL7_R_DEMO] = "demo-data",
    [VIGIL_HL7_R_STATUS] = "result-status",
    [VIGIL_HL7_R_NO_VITAL_SIGNS] = "no-vital-signs",
    [VIGIL_HL7_R_UNKNOWN_SENDER] = "unknown-sender",
};

const char *vigil_hl7_reason_name(vigil_hl7_reason r)
{
    if ((unsigned)r >= VIGIL_HL7_R_COUNT || reason_names[r] == NULL) {
        return "internal";
    }
    return reason_names[r];
}

const char *vigil_hl7_kind_name(vigil_hl7_kind k)
{
    switch (k) {
    case VIGIL_HL7_KIND_ORU_R01:
        return "ORU^R01";
    case VIGIL_HL7_KIND_ADT:
        return "ADT";
    case VIGIL_HL7_KIND_ACK:
        return "ACK";
    case VIGIL_HL7_KIND_NONE:
    case VIGIL_HL7_KIND_COUNT:
        break;
    }
    return "";
}

/* ------------------------------------------------------------ parsing */

static int is_upper_or_digit(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* A usable delimiter: printable, not alphanumeric, not blank. */
static int delim_ok(unsigned char c)
{
    if (c <= 0x20 || c >= 0x7f) {
        return 0;
    }
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
        return 0;
    }
    return 1;
}

static vigil_status bad_encoding(vigil_hl7_fault *fault, unsigned field, const char *why)
{
    return vigil__hl7_fail(fault, VIGIL_ERR_PARSE, VIGIL_HL7_AR, VIGIL_HL7_E_DATA_TYPE,
                           VIGIL_HL7_R_BAD_ENCODING, "MSH", 1, field, 0, 0,
                           "MSH-%u encoding characters: %s", field, why);
}

/* Read MSH-1 and MSH-2 from the first segment s (which starts with "MSH"). */
static vigil_status read_seps(vigil_hl7_view s, vigil_hl7_seps *seps, vigil_hl7_fault *fault)
{
    if (s.n < 4) {
        return bad_encoding(fault, 1, "no field separator after MSH");
    }
    unsigned char fs = (unsigned char)s.p[3];
    if (!delim_ok(fs)) {
        return bad_encoding(fault, 1,
                            "the field separator is a letter, digit, blank or control byte");
    }
    size_t k = 4;
    while (k < s.n && (unsigned char)s.p[k] != fs) {
        k++;
    }
    size_t n = k - 4;
    if (n < 4) {
        return bad_encoding(fault, 2,
                            "fewer than the four characters ^~\\& (component, "
                            "repetition, escape, subcomponent)");
    }
    if (n > 5) {
        return bad_encoding(fault, 2, "more than five characters");
    }
    char c[5] = {(char)fs, s.p[4], s.p[5], s.p[6], s.p[7]};
    for (int a = 0; a < 5; a++) {
        if (!delim_ok((unsigned char)c[a])) {
            return bad_encoding(fault, 2,
                                "an encoding character is a letter, digit, blank or control byte");
        }
        for (int b = 0; b < a; b++) {
            if (c[a] == c[b]) {
                return bad_encoding(fault, 2, "two delimiters are the same character");
            }
        }
    }
    if (n == 5) {
        /* v2.7 truncation character: must differ from the others; otherwise ignored */
        unsigned char t = (unsigned char)s.p[8];
        if (!delim_ok(t) || memchr(c, (char)t, 5) != NULL) {
            return bad_encoding(fault, 2, "the fifth (truncation) character is not usable");
        }
    }
    seps->field = c[0];
    seps->comp = c[1];
    seps->rep = c[2];
    seps->esc = c[3];
    seps->sub = c[4];
    return VIGIL_OK;
}

static vigil_status check_segment_id(const vigil_hl7_msg *m, vigil_hl7_view s, size_t idx,
                                     vigil_hl7_fault *fault)
{
    int ok = s.n >= 3 && s.p[0] >= 'A' && s.p[0] <= 'Z' &&
             is_upper_or_digit((unsigned char)s.p[1]) && is_upper_or_digit((unsigned char)s.p[2]) &&
             (s.n == 3 || s.p[3] == m->seps.field);
    if (!ok) {
        char shown[8];
        size_t k = 0;
        for (; k < s.n && k < 4; k++) {
            unsigned char c = (unsigned char)s.p[k];
            shown[k] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
        }
        shown[k] = '\0';
        return vigil__hl7_fail(fault, VIGIL_ERR_PARSE, VIGIL_HL7_AR, VIGIL_HL7_E_DATA_TYPE,
                               VIGIL_HL7_R_BAD_SEGMENT, NULL, 0, 0, 0, 0,
                               "segment %zu starts '%s': not a segment id (three upper-case "
                               "letters or digits, then the field separator)",
                               idx + 1, shown);
    }
    if (idx > 0 && memcmp(s.p, "MSH", 3) == 0) {
        return vigil__hl7_fail(fault, VIGIL_ERR_PARSE, VIGIL_HL7_AR, VIGIL_HL7_E_SEGMENT_SEQUENCE,
                               VIGIL_HL7_R_SECOND_MSH, "MSH", 2, 0, 0, 0,
                               "segment %zu is a second MSH: send one message per frame", idx + 1);
    }
    return VIGIL_OK;
}

vigil_status vigil_hl7_parse(const char *text, size_t len, vigil_hl7_msg *out,
                             vigil_hl7_fault *fault)
{
    vigil_hl7_fault_clear(fault);
    if (out == NULL || (text == NULL && len > 0)) {
        return vigil__hl7_fail(fault, VIGIL_ERR_ARG, VIGIL_HL7_AR, VIGIL_HL7_E_INTERNAL,
                               VIGIL_HL7_R_INTERNAL, NULL, 0, 0, 0, 0, "no message given");
    }
    /* the length first, before any byte is read (a caller's len may be all it knows) */
    if (len > VIGIL_HL7_MAX_LEN) {
        return vigil__hl7_fail(fault, VIGIL_ERR_PARSE, VIGIL_HL7_AR, VIGIL_HL7_E_INTERNAL,
                               VIGIL_HL7_R_OVERSIZE, NULL, 0, 0, 0, 0,
                               "message of %zu bytes is longer than %d", len, VIGIL_HL7_MAX_LEN);
    }
    /* REQ HL7-BOM: a UTF-8 byte-order mark before MSH is not part of the message */
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
        text += 3;
        len -= 3;
    }
    out->text = text;
    out->len = len;
    out->n_seg = 0;
    memset(&out->seps, 0, sizeof out->seps);
    if (len == 0) {
        return vigil__hl7_fail(fault, VIGIL_ERR_PARSE, VIGIL_HL7_AR, VIGIL_HL7_E_SEGMENT_SEQUENCE,
                               VIGIL_HL7_R_EMPTY, NULL, 0, 0, 0, 0, "empty message");
    }
    for (size_t k = 0; k < len; k++) {
        unsigned char c = (unsigned char)text[k];
        if ((c < 0x20 && c != '\r' && c != '\n' && c != '\t') || c == 0x7f) {
            return vigil__hl7_fail(fault, VIGIL_ERR_PARSE, VIGIL_HL7_AR, VIGIL_HL7_E_DATA_TYPE,
                                   VIGIL_HL7_R_CONTROL_BYTE, NULL, 0, 0, 0, 0,
                                   "control byte 0x%02x at offset %zu: not HL7 text", c, k);
        }
    }
    /* Split into segments at CR, LF or CR LF; skip empty lines. */
    size_t start = 0;
    while (start < len) {
        size_t end = start;
        while (end < len && text[end] != '\r' && text[end] != '\n') {
            end++;
        }
        if (end > start) {
            if (out->n_seg == VIGIL_HL7_MAX_SEGMENTS) {
                return vigil__hl7_fail(fault, VIGIL_ERR_PARSE, VIGIL_HL7_AR, VIGIL_HL7_E_INTERNAL,
                                       VIGIL_HL7_R_OVERSIZE, NULL, 0, 0, 0, 0,
                                       "message has more than %d segments", VIGIL_HL7_MAX_SEGMENTS);
            }
            out->seg[out->n_seg].p = text + start;
            out->seg[out->n_seg].n = end - start;
            out->n_seg++;
        }
        start = end + 1;
    }
    if (out->n_seg == 0) {
        return vigil__hl7_fail(fault, VIGIL_ERR_PARSE, VIGIL_HL7_AR, VIGIL_HL7_E_SEGMENT_SEQUENCE,
                               VIGIL_HL7_R_EMPTY, NULL, 0, 0, 0, 0, "message has no segments");
    }
    if (out->seg[0].n < 3 || memcmp(out->seg[0].p, "MSH", 3) != 0) {
        return vigil__hl7_fail(fault, VIGIL_ERR_PARSE, VIGIL_HL7_AR, VIGIL_HL7_E_SEGMENT_SEQUENCE,
                               VIGIL_HL7_R_NO_MSH, "MSH", 1, 0, 0, 0,
                               "the first segment is not MSH");
    }
    vigil_status st = read_seps(out->seg[0], &out->seps, fault);
    if (st != VIGIL_OK) {
        return st;
    }
    for (size_t k = 0; k < out->n_seg; k++) {
        st = check_segment_id(out, out->seg[k], k, fault);
        if (st != VIGIL_OK) {
            return st;
        }
    }
    return VIGIL_OK;
}

vigil_hl7_view vigil_hl7_seg_id(const vigil_hl7_msg *msg, size_t i)
{
    vigil_hl7_view v = {"", 0};
    if (msg != NULL && i < msg->n_seg && msg->seg[i].n >= 3) {
        v.p = msg->seg[i].p;
        v.n = 3;
    }
    return v;
}

size_t vigil_hl7_find(const vigil_hl7_msg *msg, const char *id, size_t from)
{
    if (msg == NULL || id == NULL || strlen(id) != 3) {
        return msg != NULL ? msg->n_seg : 0;
    }
    for (size_t i = from; i < msg->n_seg; i++) {
        if (msg->seg[i].n >= 3 && memcmp(msg->seg[i].p, id, 3) == 0) {
            return i;
        }
    }
    return msg->n_seg;
}

/* The k-th (1-based) piece of v split at sep; empty when there are fewer. */
static vigil_hl7_view piece(vigil_hl7_view v, char sep, unsigned k)
{
    vigil_hl7_view r = {v.p, 0};
    const char *p = v.p;
    const char *end = v.p + v.n;
    unsigned idx = 1;
    while (idx < k) {
        const char *q = memchr(p, sep, (size_t)(end - p));
        if (q == NULL) {
            r.p = end;
            return r;
        }
        p = q + 1;
        idx++;
    }
    const char *q = memchr(p, sep, (size_t)(end - p));
    r.p = p;
    r.n = (size_t)((q != NULL ? q : end) - p);
    return r;
}

vigil_status vigil_hl7_get(const vigil_hl7_msg *msg, size_t i, unsigned field, unsigned rep,
                           unsigned comp, unsigned sub, vigil_hl7_view *out)
{
    if (out == NULL) {
        return VIGIL_ERR_ARG;
    }
    out->p = "";
    out->n = 0;
    if (msg == NULL || i >= msg->n_seg || field == 0 || rep == 0 || (sub > 0 && comp == 0)) {
        return VIGIL_ERR_ARG;
    }
    vigil_hl7_view s = msg->seg[i];
    const vigil_hl7_seps *sp = &msg->seps;
    int is_msh = memcmp(s.p, "MSH", 3) == 0;
    vigil_hl7_view f;
    if (is_msh && field == 1) {
        f.p = s.p + 3;
        f.n = 1;
        if (rep == 1 && comp <= 1 && sub <= 1) {
            *out = f;
        }
        return VIGIL_OK;
    }
    if (is_msh && field == 2) {
        f = piece(s, sp->field, 2);
        if (rep == 1 && comp <= 1 && sub <= 1) {
            *out = f;
        }
        return VIGIL_OK;
    }
    /* piece 1 is the segment id; MSH-n is piece n (MSH-1 is the separator itself) */
    f = piece(s, sp->field, is_msh ? field : field + 1);
    vigil_hl7_view r = piece(f, sp->rep, rep);
    if (comp == 0) {
        *out = r;
        return VIGIL_OK;
    }
    vigil_hl7_view c = piece(r, sp->comp, comp);
    if (sub == 0) {
        *out = c;
        return VIGIL_OK;
    }
    *out = piece(c, sp->sub, sub);
    return VIGIL_OK;
}

unsigned vigil_hl7_reps(const vigil_hl7_msg *msg, size_t i, unsigned field)
{
    if (msg == NULL || i >= msg->n_seg || field == 0) {
        return 0;
    }
    vigil_hl7_view s = msg->seg[i];
    int is_msh = memcmp(s.p, "MSH", 3) == 0;
    if (is_msh && field <= 2) {
        return 1;
    }
    vigil_hl7_view f = piece(s, msg->seps.field, is_msh ? field : field + 1);
    if (f.n == 0) {
        return 0;
    }
    unsigned n = 1;
    for (size_t k = 0; k < f.n; k++) {
        if (f.p[k] == msg->seps.rep) {
            n++;
        }
    }
    return n;
}

vigil_hl7_view vigil__hl7_piece(vigil_hl7_view v, char sep, unsigned k)
{
    return piece(v, sep, k);
}

vigil_hl7_view vigil__hl7_field(const vigil_hl7_msg *msg, size_t i, unsigned field)
{
    vigil_hl7_view none = {"", 0};
    if (msg == NULL || i >= msg->n_seg || field == 0) {
        return none;
    }
    vigil_hl7_view s = msg->seg[i];
    int is_msh = memcmp(s.p, "MSH", 3) == 0;
    if (is_msh && field <= 2) {
        return none; /* the encoding characters: read with vigil_hl7_get */
    }
    return piece(s, msg->seps.field, is_msh ? field : field + 1);
}

/* ------------------------------------------------------------ escapes */

static int hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

/* Append one byte to out if room remains (keeping space for the NUL). */
static int put(char *out, size_t cap, size_t *n, char c)
{
    if (*n + 1 >= cap) {
        return 0;
    }
    out[(*n)++] = c;
    return 1;
}

vigil_status vigil_hl7_unescape(const vigil_hl7_seps *seps, vigil_hl7_view in, char *out,
                                size_t cap, size_t *out_n)
{
    if (seps == NULL || out == NULL || cap == 0 || (in.p == NULL && in.n > 0)) {
        return VIGIL_ERR_ARG;
    }
    size_t n = 0;
    vigil_status st = VIGIL_OK;
    size_t k = 0;
    while (k < in.n && st == VIGIL_OK) {
        char c = in.p[k];
        if (c != seps->esc) {
            if (!put(out, cap, &n, c)) {
                st = VIGIL_ERR_NOMEM;
            }
            k++;
            continue;
        }
        const char *close = memchr(in.p + k + 1, seps->esc, in.n - k - 1);
        if (close == NULL) {
            st = VIGIL_ERR_PARSE; /* unterminated */
            break;
        }
        const char *seq = in.p + k + 1;
        size_t sn = (size_t)(close - seq);
        k = (size_t)(close - in.p) + 1;
        char lit = 0;
        if (sn == 1) {
            switch (seq[0]) {
            case 'F':
                lit = seps->field;
                break;
            case 'S':
                lit = seps->comp;
                break;
            case 'T':
                lit = seps->sub;
                break;
            case 'R':
                lit = seps->rep;
                break;
            case 'E':
                lit = seps->esc;
                break;
            case 'H':
            case 'N':
                continue; /* highlighting has no meaning for vigil's values */
            default:
                st = VIGIL_ERR_PARSE;
                continue;
            }
            if (!put(out, cap, &n, lit)) {
                st = VIGIL_ERR_NOMEM;
            }
        } else if (sn == 3 && memcmp(seq, ".br", 3) == 0) {
            if (!put(out, cap, &n, '\n')) {
                st = VIGIL_ERR_NOMEM;
            }
        } else if (sn >= 3 && seq[0] == 'X' && (sn - 1) % 2 == 0) {
            for (size_t h = 1; h < sn && st == VIGIL_OK; h += 2) {
                int hi = hexval(seq[h]);
                int lo = hexval(seq[h + 1]);
                if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                    st = VIGIL_ERR_PARSE;
                } else if (!put(out, cap, &n, (char)(hi * 16 + lo))) {
                    st = VIGIL_ERR_NOMEM;
                }
            }
        } else {
            st = VIGIL_ERR_PARSE;
        }
    }
    out[n] = '\0';
    if (out_n != NULL) {
        *out_n = n;
    }
    return st;
}

vigil_status vigil_hl7_escape(const vigil_hl7_seps *seps, const char *text, size_t n, char *out,
                              size_t cap, size_t *out_n)
{
    if (seps == NULL || out == NULL || cap == 0 || (text == NULL && n > 0)) {
        return VIGIL_ERR_ARG;
    }
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    vigil_status st = VIGIL_OK;
    for (size_t k = 0; k < n && st == VIGIL_OK; k++) {
        char c = text[k];
        unsigned char u = (unsigned char)c;
        char rep[6];
        size_t rn = 0;
        char code = 0;
        if (c == seps->field) {
            code = 'F';
        } else if (c == seps->comp) {
            code = 'S';
        } else if (c == seps->sub) {
            code = 'T';
        } else if (c == seps->rep) {
            code = 'R';
        } else if (c == seps->esc) {
            code = 'E';
        }
        if (code != 0) {
            rep[0] = seps->esc;
            rep[1] = code;
            rep[2] = seps->esc;
            rn = 3;
        } else if (u < 0x20 || u == 0x7f) {
            rep[0] = seps->esc;
            rep[1] = 'X';
            rep[2] = hex[u >> 4];
            rep[3] = hex[u & 15];
            rep[4] = seps->esc;
            rn = 5;
        } else {
            rep[0] = c;
            rn = 1;
        }
        if (o + rn + 1 > cap) {
            st = VIGIL_ERR_NOMEM;
            break;
        }
        memcpy(out + o, rep, rn);
        o += rn;
    }
    out[o] = '\0';
    if (out_n != NULL) {
        *out_n = o;
    }
    return st;
}

/* ------------------------------------------------------------ helpers */

int vigil__hl7_blank(vigil_hl7_view v)
{
    return v.n == 0 || (v.n == 2 && v.p[0] == '"' && v.p[1] == '"');
}

int vigil__hl7_eq(vigil_hl7_view v, const char *s)
{
    size_t n = strlen(s);
    return v.n == n && memcmp(v.p, s, n) == 0;
}

unsigned vigil__hl7_seq(const vigil_hl7_msg *msg, size_t i)
{
    unsigned seq = 0;
    for (size_t k = 0; k <= i && k < msg->n_seg; k++) {
        if (memcmp(msg->seg[k].p, msg->seg[i].p, 3) == 0) {
            seq++;
        }
    }
    return seq;
}

/* Length of the valid UTF-8 sequence at s (max n bytes), or 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    unsigned cp;
    if (c < 0x80) {
        return 1;
    } else if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1fu;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0fu;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07u;
    } else {
        return 0;
    }
    if (len > n) {
        return 0;
    }
    for (size_t k = 1; k < len; k++) {
        if ((s[k] & 0xc0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (s[k] & 0x3fu);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10ffff))) {
        return 0;
    }
    return len;
}

vigil_status vigil__hl7_ident(const vigil_hl7_seps *seps, vigil_hl7_view v, char *out, size_t cap,
                              const char **why)
{
    /* REQ HL7-SUBCOMPONENT: a raw & where one value is expected is refused,
     * never copied into the identifier (callers read an HD's parts themselves) */
    if (memchr(v.p, seps->sub, v.n) != NULL) {
        *why = "has subcomponents where one value is expected";
        return VIGIL_ERR_PARSE;
    }
    size_t n = 0;
    vigil_status st = vigil_hl7_unescape(seps, v, out, cap, &n);
    if (st == VIGIL_ERR_NOMEM) {
        *why = "is too long";
        return VIGIL_ERR_PARSE;
    }
    if (st != VIGIL_OK) {
        *why = "has a malformed escape sequence";
        return VIGIL_ERR_PARSE;
    }
    if (n == 0) {
        *why = "is empty";
        return VIGIL_ERR_PARSE;
    }
    const unsigned char *u = (const unsigned char *)out;
    for (size_t k = 0; k < n;) {
        if (u[k] < 0x20 || u[k] == 0x7f) {
            *why = "has a control character";
            return VIGIL_ERR_PARSE;
        }
        size_t l = utf8_len(u + k, n - k);
        if (l == 0) {
            *why = "is not valid UTF-8";
            return VIGIL_ERR_PARSE;
        }
        k += l;
    }
    return VIGIL_OK;
}
