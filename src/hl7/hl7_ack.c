/*
 * hl7_ack.c: the general acknowledgement ACK^<event>^ACK (HL7 v2.5.1
 * section 2.14.1; MSA 2.15.8, table 0008; ERR 2.15.5, tables 0357, 0516),
 * original acknowledgement mode.
 *
 * Does not do: enhanced-mode commit acknowledgements (CA/CE/CR), MLLP
 * framing (vigil/mllp.h), choosing AE or AR (the fault says).
 *
 * Invariants: the ACK is always written with the standard encoding
 * characters |^~\& whatever the original used (a sender's unusual
 * delimiter, say '.', must not split vigil's own "2.5.1"); fields echoed
 * from the original (MSH-3 to MSH-6, MSH-10) are transcoded into them; every
 * text vigil writes is escaped; output is all or nothing (VIGIL_ERR_NOMEM
 * leaves *out_n unset).
 */
#include <stdio.h>
#include <string.h>

#include "hl7_int.h"

typedef struct wbuf {
    char *p;
    size_t cap;
    size_t n;
    int full;
} wbuf;

static void w_raw(wbuf *w, const char *s, size_t n)
{
    if (w->full || n >= w->cap - w->n) {
        w->full = 1;
        return;
    }
    memcpy(w->p + w->n, s, n);
    w->n += n;
    w->p[w->n] = '\0';
}

static void w_str(wbuf *w, const char *s)
{
    w_raw(w, s, strlen(s));
}

static void w_chr(wbuf *w, char c)
{
    w_raw(w, &c, 1);
}

static void w_esc(wbuf *w, const vigil_hl7_seps *seps, const char *s)
{
    char tmp[VIGIL_ERR_MSG_MAX * 5 + 1];
    size_t n = 0;
    if (vigil_hl7_escape(seps, s, strlen(s), tmp, sizeof tmp, &n) != VIGIL_OK) {
        w->full = 1;
        return;
    }
    w_raw(w, tmp, n);
}

static void w_uint(wbuf *w, unsigned v)
{
    char tmp[16];
    int k = snprintf(tmp, sizeof tmp, "%u", v);
    if (k > 0) {
        w_raw(w, tmp, (size_t)k);
    }
}

static int control_id_ok(const char *id, const vigil_hl7_seps *s)
{
    size_t n = id != NULL ? strlen(id) : 0;
    if (n == 0 || n >= VIGIL_ID_MAX) {
        return 0;
    }
    for (size_t k = 0; k < n; k++) {
        char c = id[k];
        if (c < 0x21 || c > 0x7e || c == s->field || c == s->comp || c == s->rep || c == s->esc ||
            c == s->sub) {
            return 0;
        }
    }
    return 1;
}

/*
 * Echo a raw field of the original message (escaped with its separators
 * from) in the ACK's standard encoding to: component, repetition and
 * subcomponent separators are mapped, escape sequences decoded and escaped
 * again, and characters that are delimiters in to are escaped. A malformed
 * escape sequence is kept as text (its escape characters escaped).
 */
static void w_transcode(wbuf *w, const vigil_hl7_seps *from, const vigil_hl7_seps *to,
                        const char *raw)
{
    size_t n = strlen(raw);
    for (size_t k = 0; k < n; k++) {
        char c = raw[k];
        if (c == from->comp) {
            w_chr(w, to->comp);
        } else if (c == from->rep) {
            w_chr(w, to->rep);
        } else if (c == from->sub) {
            w_chr(w, to->sub);
        } else if (c == from->esc) {
            const char *close = memchr(raw + k + 1, from->esc, n - k - 1);
            char lit[VIGIL_HL7_CTRL_MAX + VIGIL_HL7_HDR_MAX];
            size_t len = close != NULL ? (size_t)(close - (raw + k)) + 1 : 1;
            vigil_hl7_view v = {raw + k, len};
            if (close == NULL || vigil_hl7_unescape(from, v, lit, sizeof lit, NULL) != VIGIL_OK) {
                len = 1;
                lit[0] = c; /* not a sequence: the escape character as data */
                lit[1] = '\0';
            }
            w_esc(w, to, lit);
            k += len - 1;
        } else {
            char one[2] = {c, '\0'};
            w_esc(w, to, one);
        }
    }
}

/*
 * Echo raw as w_transcode does, but only if the result fits limit bytes (an
 * HD is at most 227 long): an absurd field is left empty rather than cut in
 * the middle of an escape sequence, so the ACK stays readable.
 */
static void w_echo(wbuf *w, const vigil_hl7_seps *from, const vigil_hl7_seps *to, const char *raw,
                   size_t limit)
{
    char tmp[VIGIL_HL7_CTRL_MAX * 5 + 1];
    wbuf t = {tmp, sizeof tmp, 0, 0};
    tmp[0] = '\0';
    w_transcode(&t, from, to, raw);
    if (!t.full && t.n <= limit) {
        w_raw(w, tmp, t.n);
    }
}

/* ERR-2 (ERL): segment ^ sequence ^ field ^ repetition ^ component, trailing empties dropped. */
static void w_erl(wbuf *w, const vigil_hl7_seps *s, const vigil_hl7_loc *loc)
{
    if (loc->seg[0] == '\0') {
        return;
    }
    w_esc(w, s, loc->seg);
    unsigned parts[4] = {loc->seq, loc->field, loc->rep, loc->comp};
    int last = -1;
    for (int k = 0; k < 4; k++) {
        if (parts[k] != 0) {
            last = k;
        }
    }
    for (int k = 0; k <= last; k++) {
        w_chr(w, s->comp);
        if (parts[k] != 0) {
            w_uint(w, parts[k]);
        }
    }
}

/* One ERR segment: ERR-2 location, ERR-3 table 0357, ERR-4 severity (table
 * 0516), ERR-5 vigil's reason, ERR-8 the reason in words. */
static void w_err(wbuf *w, const vigil_hl7_seps *s, const vigil_hl7_fault *fault, char severity)
{
    char f = s->field;
    w_str(w, "ERR");
    w_chr(w, f);
    w_chr(w, f); /* ERR-1 (ELD) is for backward compatibility only */
    w_erl(w, s, &fault->loc);
    w_chr(w, f);
    w_uint(w, (unsigned)fault->code);
    w_chr(w, s->comp);
    w_esc(w, s, vigil_hl7_errcode_text(fault->code));
    w_chr(w, s->comp);
    w_str(w, "HL70357");
    w_chr(w, f);
    w_chr(w, severity);
    w_chr(w, f);
    w_esc(w, s, vigil_hl7_reason_name(fault->reason));
    w_chr(w, s->comp);
    w_chr(w, s->comp);
    w_str(w, "99VIGIL");
    w_chr(w, f); /* ERR-6 */
    w_chr(w, f); /* ERR-7 */
    w_chr(w, f);
    w_esc(w, s, fault->text); /* ERR-8 user message */
    w_chr(w, '\r');
}

vigil_status vigil_hl7_ack_build(const vigil_hl7_header *orig, const vigil_hl7_fault *fault,
                                 const vigil_hl7_ack_opts *o, char *out, size_t cap, size_t *out_n)
{
    if (orig == NULL || o == NULL || out == NULL || out_n == NULL || cap == 0) {
        return VIGIL_ERR_ARG;
    }
    /* REQ HL7-ACK-ENCODING: always the standard |^~\& (HL7 2.5.1 section 2.5.4
     * recommends it); fields echoed from the original are transcoded. */
    static const vigil_hl7_seps dflt = {'|', '^', '~', '\\', '&'};
    const vigil_hl7_seps *s = &dflt;
    const vigil_hl7_seps *from = orig->seps_valid ? &orig->seps : &dflt;
    if (!control_id_ok(o->control_id, s)) {
        return VIGIL_ERR_ARG;
    }
    vigil_hl7_ack_code code = fault != NULL ? fault->ack : VIGIL_HL7_AA;
    if ((unsigned)code >= VIGIL_HL7_ACK_CODE_COUNT) {
        code = VIGIL_HL7_AR;
    }
    wbuf w = {out, cap, 0, 0};
    out[0] = '\0';
    char f = s->field;
    char enc[5] = {s->comp, s->rep, s->esc, s->sub, '\0'};
    /* MSH: sender and receiver swapped */
    w_str(&w, "MSH");
    w_chr(&w, f);
    w_str(&w, enc);
    w_chr(&w, f);
    if (orig->receiving_app[0] != '\0' || o->app == NULL) {
        w_echo(&w, from, s, orig->receiving_app, VIGIL_HL7_HDR_MAX - 1);
    } else {
        w_esc(&w, s, o->app);
    }
    w_chr(&w, f);
    if (orig->receiving_fac[0] != '\0' || o->facility == NULL) {
        w_echo(&w, from, s, orig->receiving_fac, VIGIL_HL7_HDR_MAX - 1);
    } else {
        w_esc(&w, s, o->facility);
    }
    w_chr(&w, f);
    w_echo(&w, from, s, orig->sending_app, VIGIL_HL7_HDR_MAX - 1);
    w_chr(&w, f);
    w_echo(&w, from, s, orig->sending_fac, VIGIL_HL7_HDR_MAX - 1);
    w_chr(&w, f);
    char ts[21];
    vigil_hl7_dtm_format(o->t_ms, ts);
    w_str(&w, ts);
    w_chr(&w, f);
    w_chr(&w, f); /* MSH-8 security: empty */
    w_str(&w, "ACK");
    w_chr(&w, s->comp);
    w_str(&w, orig->trigger);
    w_chr(&w, s->comp);
    w_str(&w, "ACK");
    w_chr(&w, f);
    w_str(&w, o->control_id);
    w_chr(&w, f);
    char p = orig->processing_id[0];
    w_chr(&w, (p == 'P' || p == 'T' || p == 'D') ? p : 'P');
    w_chr(&w, f);
    w_str(&w, vigil__hl7_version_ok(orig->version) ? orig->version : "2.5.1");
    w_chr(&w, '\r');
    /* MSA */
    w_str(&w, "MSA");
    w_chr(&w, f);
    w_str(&w, vigil_hl7_ack_code_name(code));
    w_chr(&w, f);
    w_echo(&w, from, s, orig->control_raw, VIGIL_HL7_CTRL_MAX * 5);
    w_chr(&w, '\r');
    /* ERR for AE and AR */
    if (code != VIGIL_HL7_AA && fault != NULL) {
        w_err(&w, s, fault, 'E');
    }
    /* REQ HL7-ACK-WARNINGS: one ERR per result refused in an accepted message
     * (ERR-4 W), or a note (I); HL7 2.5.1 allows ERR with MSA-1 AA */
    for (size_t k = 0; code != VIGIL_HL7_AR && o->warnings != NULL && k < o->n_warnings; k++) {
        const vigil_hl7_fault *wf = &o->warnings[k];
        w_err(&w, s, wf, wf->reason == VIGIL_HL7_R_NO_VITAL_SIGNS ? 'I' : 'W');
    }
    if (w.full) {
        out[0] = '\0';
        return VIGIL_ERR_NOMEM;
    }
    *out_n = w.n;
    return VIGIL_OK;
}
