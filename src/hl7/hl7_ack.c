/*
 * hl7_ack.c: the general acknowledgement ACK^<event>^ACK (HL7 v2.5.1
 * section 2.14.1; MSA 2.15.8, table 0008; ERR 2.15.5, tables 0357, 0516),
 * original acknowledgement mode.
 *
 * Does not do: enhanced-mode commit acknowledgements (CA/CE/CR), MLLP
 * framing (vigil/mllp.h), choosing AE or AR (the fault says).
 *
 * Invariants: the ACK is written with the original message's encoding
 * characters when they could be read (so the echoed MSH-3..6 and MSH-10 are
 * byte-exact), else with |^~\&; every text vigil writes into it is escaped;
 * output is all or nothing (VIGIL_ERR_NOMEM leaves *out_n unset).
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
        if (c < 0x21 || c > 0x7e || c == s->field || c == s->comp || c == s->rep ||
            c == s->esc || c == s->sub) {
            return 0;
        }
    }
    return 1;
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

vigil_status vigil_hl7_ack_build(const vigil_hl7_header *orig, const vigil_hl7_fault *fault,
                                 const vigil_hl7_ack_opts *o, char *out, size_t cap,
                                 size_t *out_n)
{
    if (orig == NULL || o == NULL || out == NULL || out_n == NULL || cap == 0) {
        return VIGIL_ERR_ARG;
    }
    static const vigil_hl7_seps dflt = {'|', '^', '~', '\\', '&'};
    const vigil_hl7_seps *s = orig->seps_valid ? &orig->seps : &dflt;
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
        w_str(&w, orig->receiving_app);
    } else {
        w_esc(&w, s, o->app);
    }
    w_chr(&w, f);
    if (orig->receiving_fac[0] != '\0' || o->facility == NULL) {
        w_str(&w, orig->receiving_fac);
    } else {
        w_esc(&w, s, o->facility);
    }
    w_chr(&w, f);
    w_str(&w, orig->sending_app);
    w_chr(&w, f);
    w_str(&w, orig->sending_fac);
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
    w_str(&w, orig->control_raw);
    w_chr(&w, '\r');
    /* ERR for AE and AR */
    if (code != VIGIL_HL7_AA && fault != NULL) {
        w_str(&w, "ERR");
        w_chr(&w, f);
        w_chr(&w, f); /* ERR-1 (ELD) is for backward compatibility only */
        w_erl(&w, s, &fault->loc);
        w_chr(&w, f);
        w_uint(&w, (unsigned)fault->code);
        w_chr(&w, s->comp);
        w_esc(&w, s, vigil_hl7_errcode_text(fault->code));
        w_chr(&w, s->comp);
        w_str(&w, "HL70357");
        w_chr(&w, f);
        w_chr(&w, 'E'); /* ERR-4 severity, table 0516: error */
        w_chr(&w, f);
        w_esc(&w, s, vigil_hl7_reason_name(fault->reason));
        w_chr(&w, s->comp);
        w_chr(&w, s->comp);
        w_str(&w, "99VIGIL");
        w_chr(&w, f); /* ERR-6 */
        w_chr(&w, f); /* ERR-7 */
        w_chr(&w, f);
        w_esc(&w, s, fault->text); /* ERR-8 user message */
        w_chr(&w, '\r');
    }
    if (w.full) {
        out[0] = '\0';
        return VIGIL_ERR_NOMEM;
    }
    *out_n = w.n;
    return VIGIL_OK;
}
