/*
 * ward_json.c: the ward list's JSON (GET /api/wards/{ward}/patients) written
 * straight into one buffer, without building a jansson tree: the same bytes
 * as json_dumps(JSON_COMPACT) of api.c's patient_view for each row (test:
 * server.ward_list_json_is_byte_for_byte_the_patient_views), at a fraction of
 * the cost (issue 13 item 10: building and writing the tree was about half of
 * the list's CPU).
 *
 * Does not: read the store or decide anything (api.c's handler gives it the
 * rows and the patients; vigil__srv_esc_view decides the escalation view).
 * Invariants: mirrors jansson's compact output: keys in insertion order, ","
 * and ":" without spaces, strings escaped as jansson does (\" \\ \b \f \n \r
 * \t, other bytes below 0x20 as \u00XX upper-case, everything else as given),
 * integers in decimal, reals as "%.17g" with ".0" added to an integral value
 * and the exponent's "+" and leading zeros dropped. A view api.c changes must
 * change here too: the test compares the two for every row.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server_int.h"

/* ---- the writer ------------------------------------------------------------ */

#define JW_DEPTH 16

typedef struct jw {
    char *s;
    size_t n, cap;
    bool oom;
    int depth;
    bool first[JW_DEPTH]; /* nothing written yet at this level */
    bool after_key;       /* a key was just written: the value needs no comma */
} jw;

/* Append n bytes (the text is terminated once, at the end). After an
 * out-of-memory the text is thrown away, so what is appended does not matter. */
static void jw_raw(jw *w, const char *s, size_t n)
{
    if (w->n + n + 1 > w->cap) {
        if (w->oom) {
            return;
        }
        size_t cap = w->cap == 0 ? 4096 : w->cap;
        while (w->n + n + 1 > cap) {
            cap *= 2;
        }
        char *b = realloc(w->s, cap);
        if (b == NULL) {
            w->oom = true;
            return;
        }
        w->s = b;
        w->cap = cap;
    }
    memcpy(w->s + w->n, s, n);
    w->n += n;
}

static void jw_sep(jw *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->depth > 0 && !w->first[w->depth - 1]) {
        jw_raw(w, ",", 1);
    }
    if (w->depth > 0) {
        w->first[w->depth - 1] = false;
    }
}

static void jw_escaped(jw *w, const char *s)
{
    size_t plain = 0; /* the common case: nothing to escape, one copy */
    while (s[plain] != '\0' && (unsigned char)s[plain] >= 0x20 && s[plain] != '"' &&
           s[plain] != '\\') {
        plain++;
    }
    if (s[plain] == '\0' && plain + 2 < 256) {
        char b[256];
        b[0] = '"';
        memcpy(b + 1, s, plain);
        b[plain + 1] = '"';
        jw_raw(w, b, plain + 2);
        return;
    }
    jw_raw(w, "\"", 1);
    const char *run = s;
    for (const char *c = s; *c != '\0'; c++) {
        unsigned char u = (unsigned char)*c;
        if (u >= 0x20 && u != '"' && u != '\\') {
            continue;
        }
        jw_raw(w, run, (size_t)(c - run));
        char esc[8];
        switch (u) {
        case '"':
            jw_raw(w, "\\\"", 2);
            break;
        case '\\':
            jw_raw(w, "\\\\", 2);
            break;
        case '\b':
            jw_raw(w, "\\b", 2);
            break;
        case '\f':
            jw_raw(w, "\\f", 2);
            break;
        case '\n':
            jw_raw(w, "\\n", 2);
            break;
        case '\r':
            jw_raw(w, "\\r", 2);
            break;
        case '\t':
            jw_raw(w, "\\t", 2);
            break;
        default:
            snprintf(esc, sizeof esc, "\\u%04X", (unsigned)u);
            jw_raw(w, esc, 6);
            break;
        }
        run = c + 1;
    }
    jw_raw(w, run, strlen(run));
    jw_raw(w, "\"", 1);
}

static void jw_open(jw *w, char c)
{
    jw_sep(w);
    jw_raw(w, &c, 1);
    if (w->depth < JW_DEPTH) {
        w->first[w->depth] = true;
    }
    w->depth++;
}

static void jw_close(jw *w, char c)
{
    w->depth--;
    jw_raw(w, &c, 1);
}

/* "k": (k: a name that needs no escaping) written as one piece of n bytes. */
static void jw_key_quoted(jw *w, const char *quoted, size_t n)
{
    jw_sep(w);
    jw_raw(w, quoted, n);
    w->after_key = true;
}

/* A literal key: quoted at compile time. */
#define JW_KEY(w, lit) jw_key_quoted((w), "\"" lit "\":", sizeof("\"" lit "\":") - 1)

/* A key that is not a literal (escaped like any string). */
static void jw_key_text(jw *w, const char *k)
{
    jw_sep(w);
    jw_escaped(w, k);
    jw_raw(w, ":", 1);
    w->after_key = true;
}

static void jw_str(jw *w, const char *s)
{
    jw_sep(w);
    jw_escaped(w, s);
}

static void jw_null(jw *w)
{
    jw_sep(w);
    jw_raw(w, "null", 4);
}

static void jw_bool(jw *w, bool b)
{
    jw_sep(w);
    jw_raw(w, b ? "true" : "false", b ? 4 : 5);
}

static void jw_int(jw *w, long long v)
{
    char b[24];
    size_t k = sizeof b;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        b[--k] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0) {
        b[--k] = '-';
    }
    jw_sep(w);
    jw_raw(w, b + k, sizeof b - k);
}

/* As jansson writes a real (its jsonp_dtostr at precision 17). */
static void jw_real(jw *w, double v)
{
    char b[64];
    int k = snprintf(b, sizeof b, "%.17g", v);
    size_t n = k > 0 ? (size_t)k : 0;
    if (strspn(b, "0123456789-") == n) {
        memcpy(b + n, ".0", 3);
        n += 2;
    }
    char *e = strchr(b, 'e');
    if (e != NULL) {
        char *start = e + 1, *end = e + 2;
        if (*start == '-') {
            start++;
        }
        while (*end == '0') {
            end++;
        }
        if (end != start) {
            memmove(start, end, n - (size_t)(end - b) + 1);
            n -= (size_t)(end - start);
        }
    }
    jw_sep(w);
    jw_raw(w, b, n);
}

static void jw_time(jw *w, int64_t t_ms)
{
    if (t_ms == 0) {
        jw_null(w);
        return;
    }
    char b[32];
    vigil__srv_time_format(t_ms, b);
    jw_str(w, b);
}

/* ---- the views (api.c's jansson builders, in the same order) ------------------- */

/* vigil__srv_news2_json, still open (the caller adds keys and closes it). */
static void news2_open(jw *w, const vigil_news2 *n, int64_t t_ms)
{
    jw_open(w, '{');
    JW_KEY(w, "total");
    jw_int(w, n->total);
    JW_KEY(w, "complete");
    jw_bool(w, n->complete);
    JW_KEY(w, "lower_bound");
    jw_bool(w, !n->complete);
    JW_KEY(w, "missing");
    jw_open(w, '[');
    for (int i = 0; i < VIGIL_NEWS2_PARAM_COUNT; i++) {
        if (n->sub[i] == VIGIL_NEWS2_SUB_MISSING) {
            jw_str(w, vigil_news2_param_name((vigil_news2_param)i));
        }
    }
    jw_close(w, ']');
    JW_KEY(w, "sub_scores");
    jw_open(w, '{');
    for (int i = 0; i < VIGIL_NEWS2_PARAM_COUNT; i++) {
        jw_key_text(w, vigil_news2_param_name((vigil_news2_param)i));
        if (n->sub[i] == VIGIL_NEWS2_SUB_MISSING) {
            jw_null(w);
        } else {
            jw_int(w, n->sub[i]);
        }
    }
    jw_close(w, '}');
    JW_KEY(w, "risk");
    jw_str(w, vigil_news2_risk_name(n->risk));
    JW_KEY(w, "monitoring");
    jw_str(w, vigil_news2_monitoring_name(n->monitoring));
    JW_KEY(w, "response");
    jw_str(w, vigil_news2_response_name(n->response));
    JW_KEY(w, "response_text");
    jw_str(w, vigil_news2_response_text(n->response));
    JW_KEY(w, "single_param_3");
    jw_bool(w, n->single_param_3);
    JW_KEY(w, "spo2_scale");
    jw_int(w, n->spo2_scale);
    JW_KEY(w, "flags");
    jw_open(w, '[');
    for (unsigned b = 0; b < VIGIL_NEWS2_FLAG_COUNT_; b++) {
        if (n->flags & (1u << b)) {
            jw_str(w, vigil_news2_flag_name(1u << b));
        }
    }
    jw_close(w, ']');
    JW_KEY(w, "measured_at");
    jw_time(w, t_ms);
}

static void params(jw *w, unsigned mask)
{
    jw_open(w, '[');
    for (int i = 0; i < VIGIL_NEWS2_PARAM_COUNT; i++) {
        if (mask & (1u << i)) {
            jw_str(w, vigil_news2_param_name((vigil_news2_param)i));
        }
    }
    jw_close(w, ']');
}

/* api.c's shown_news2_json (REQ ESC-PARTIAL-NEVER-LOWERS). */
static void shown_news2(jw *w, const srv_patient *p)
{
    if (!p->has_news2) {
        jw_null(w);
        return;
    }
    const vigil_news2 *n = &p->news2;
    int64_t t = p->news2_t_ms;
    const char *basis = "latest-set";
    if (!p->news2.complete && p->has_cnews2 && p->cnews2.total >= n->total) {
        n = &p->cnews2;
        t = p->cnews2_t_ms;
        basis = "last-complete-set";
    }
    if (!p->news2.complete && p->has_pk && p->pk.total > n->total) {
        n = &p->pk;
        t = p->pk_t_ms;
        basis = "partial-set-since-last-complete";
    }
    news2_open(w, n, t);
    JW_KEY(w, "basis");
    jw_str(w, basis);
    JW_KEY(w, "latest_set");
    jw_open(w, '{');
    JW_KEY(w, "measured_at");
    jw_time(w, p->news2_t_ms);
    JW_KEY(w, "complete");
    jw_bool(w, p->news2.complete);
    JW_KEY(w, "total");
    jw_int(w, p->news2.total);
    JW_KEY(w, "carried");
    params(w, p->news2_carried);
    jw_close(w, '}');
    jw_close(w, '}');
}

/* api.c's ai_object without an explanation. */
static void ai(jw *w, double prob, bool low_confidence, const char *version)
{
    bool not_scored = !vigil__srv_ai_scored(prob, low_confidence);
    jw_open(w, '{');
    JW_KEY(w, "status");
    jw_str(w, not_scored ? "not-enough-data" : "scored");
    JW_KEY(w, "probability");
    if (not_scored) {
        jw_null(w);
    } else {
        jw_real(w, prob);
    }
    JW_KEY(w, "low_confidence");
    jw_bool(w, low_confidence);
    JW_KEY(w, "model_version");
    jw_str(w, version);
    if (not_scored) {
        JW_KEY(w, "reason");
        jw_str(w, VIGIL__SRV_AI_NOT_ENOUGH_DATA);
    }
    jw_close(w, '}');
}

/* vigil__srv_esc_json. */
static void escalation(jw *w, const vigil_escalation_result *res)
{
    jw_open(w, '{');
    JW_KEY(w, "level");
    jw_str(w, vigil_escalation_level_name(res->level));
    JW_KEY(w, "level_text");
    jw_str(w, vigil_escalation_level_text(res->level));
    JW_KEY(w, "clinical_level");
    jw_str(w, vigil_escalation_level_name(res->clinical_level));
    JW_KEY(w, "reasons");
    jw_open(w, '[');
    for (size_t i = 0; i < res->n_reasons; i++) {
        const vigil_esc_reason *x = &res->reasons[i];
        char text[256];
        vigil_escalation_reason_describe(x, text, sizeof text);
        jw_open(w, '{');
        JW_KEY(w, "code");
        jw_str(w, vigil_escalation_reason_name(x->code));
        JW_KEY(w, "level");
        jw_str(w, vigil_escalation_level_name(x->level));
        JW_KEY(w, "drives");
        jw_bool(w, x->drives);
        JW_KEY(w, "text");
        jw_str(w, text);
        jw_close(w, '}');
    }
    jw_close(w, ']');
    JW_KEY(w, "news2_incomplete");
    jw_bool(w, res->news2_incomplete);
    JW_KEY(w, "news2_stale");
    jw_bool(w, res->news2_stale);
    JW_KEY(w, "obs_due_at");
    jw_time(w, res->has_obs_due ? res->obs_due_ms : 0);
    JW_KEY(w, "obs_overdue");
    jw_bool(w, res->obs_overdue);
    JW_KEY(w, "ai_used");
    jw_bool(w, res->ai_used);
    JW_KEY(w, "ai_opted_out");
    jw_bool(w, res->ai_opted_out);
    JW_KEY(w, "ai_low_confidence");
    jw_bool(w, res->ai_low_confidence);
    JW_KEY(w, "plan_applied");
    jw_bool(w, res->plan_applied);
    JW_KEY(w, "worse");
    jw_bool(w, res->ward_list_worse);
    JW_KEY(w, "daily_question_due");
    jw_bool(w, res->feels_due);
    JW_KEY(w, "open_martha_calls");
    jw_int(w, (long long)res->n_martha_open);
    jw_close(w, '}');
}

/* api.c's alert_json, still open (the caller may add call_id). */
static void alert_open(jw *w, const vigil_esc_alert *a)
{
    jw_open(w, '{');
    JW_KEY(w, "alert_id");
    jw_int(w, (long long)a->id);
    JW_KEY(w, "kind");
    jw_str(w, a->kind == VIGIL_ESC_ALERT_MARTHA ? "marthas-rule" : "episode");
    JW_KEY(w, "level");
    jw_str(w, vigil_escalation_level_name(a->level));
    JW_KEY(w, "notify");
    jw_str(w, vigil_escalation_level_text(a->level));
    JW_KEY(w, "raised_at");
    jw_time(w, a->opened_ms);
    JW_KEY(w, "last_sent_at");
    jw_time(w, a->last_sent_ms);
    JW_KEY(w, "n_sent");
    jw_int(w, (int)a->n_sent);
    JW_KEY(w, "rota_step");
    jw_int(w, (int)a->rota_step);
    JW_KEY(w, "acknowledged");
    jw_bool(w, a->ack.action != VIGIL_ESC_ACK_NONE);
    JW_KEY(w, "ack");
    if (a->ack.action == VIGIL_ESC_ACK_NONE) {
        jw_null(w);
    } else {
        jw_open(w, '{');
        JW_KEY(w, "action");
        jw_str(w, vigil_escalation_ack_action_name(a->ack.action));
        JW_KEY(w, "by");
        jw_str(w, a->ack.by);
        JW_KEY(w, "at");
        jw_time(w, a->ack.at_ms);
        jw_close(w, '}');
    }
}

static void alerts(jw *w, const srv_patient *p)
{
    jw_open(w, '[');
    if (p->esc.episode_open) {
        alert_open(w, &p->esc.episode);
        jw_close(w, '}');
    }
    for (size_t i = 0; i < p->esc.n_martha; i++) {
        alert_open(w, &p->esc.martha[i]);
        const srv_alert_link *l = vigil__srv_pat_link(p, p->esc.martha[i].id);
        JW_KEY(w, "call_id");
        if (l != NULL && l->call_id > 0) {
            jw_int(w, (long long)l->call_id);
        } else {
            jw_null(w);
        }
        jw_close(w, '}');
    }
    jw_close(w, ']');
}

/* api.c's patient_view. */
static void patient_view(jw *w, const vigil_server *srv, const srv_patient *p,
                         const vigil_store_ward_entry *e, int64_t now_ms)
{
    vigil_escalation_result res;
    vigil__srv_esc_view(srv, p, now_ms, &res);
    jw_open(w, '{');
    JW_KEY(w, "patient");
    jw_open(w, '{');
    JW_KEY(w, "id");
    jw_int(w, (long long)p->id);
    JW_KEY(w, "nhs_number");
    jw_str(w, p->nhs);
    JW_KEY(w, "mrn");
    jw_str(w, p->mrn);
    JW_KEY(w, "name");
    jw_str(w, e != NULL ? e->patient.name : "");
    jw_close(w, '}');
    JW_KEY(w, "ward");
    jw_str(w, p->ward);
    JW_KEY(w, "bed");
    jw_str(w, p->bed);
    JW_KEY(w, "news2");
    shown_news2(w, p);
    JW_KEY(w, "ai");
    if (p->has_news2 && p->has_ai && !p->opted_out) {
        ai(w, p->ai_prob, p->ai_low_confidence, p->ai_version);
    } else {
        jw_null(w);
    }
    JW_KEY(w, "escalation");
    escalation(w, &res);
    JW_KEY(w, "observations");
    jw_open(w, '{');
    JW_KEY(w, "last_at");
    jw_time(w, e != NULL ? e->last_obs_ms : p->news2_t_ms);
    JW_KEY(w, "due_at");
    jw_time(w, res.has_obs_due ? res.obs_due_ms : 0);
    JW_KEY(w, "overdue");
    jw_bool(w, res.obs_overdue);
    JW_KEY(w, "stale");
    jw_bool(w, res.news2_stale);
    jw_close(w, '}');
    JW_KEY(w, "alerts");
    alerts(w, p);
    JW_KEY(w, "daily");
    jw_open(w, '{');
    JW_KEY(w, "answer");
    if (p->has_daily) {
        jw_str(w, vigil_store_feeling_name(p->daily));
    } else {
        jw_null(w);
    }
    JW_KEY(w, "at");
    jw_time(w, p->has_daily ? p->daily_ms : 0);
    JW_KEY(w, "worse");
    jw_bool(w, res.ward_list_worse);
    JW_KEY(w, "due");
    jw_bool(w, res.feels_due);
    jw_close(w, '}');
    JW_KEY(w, "ai_opted_out");
    jw_bool(w, p->opted_out);
    JW_KEY(w, "scale2");
    jw_open(w, '{');
    JW_KEY(w, "in_force");
    jw_bool(w, p->scale2);
    JW_KEY(w, "since");
    jw_time(w, p->scale2 ? p->scale2_since_ms : 0);
    jw_close(w, '}');
    JW_KEY(w, "plan");
    jw_open(w, '{');
    JW_KEY(w, "active");
    jw_bool(w, p->plan_stored);
    JW_KEY(w, "applies_here");
    jw_bool(w, p->plan.present);
    JW_KEY(w, "review_at");
    jw_time(w, p->plan_stored ? p->plan_review_ms : 0);
    JW_KEY(w, "expires_at");
    jw_time(w, p->plan_stored ? p->plan_expires_ms : 0);
    jw_close(w, '}');
    JW_KEY(w, "marthas_unreviewed");
    jw_int(w, e != NULL ? e->state.n_unreviewed_marthas : 0);
    jw_close(w, '}');
}

char *vigil__srv_ward_list_text(const vigil_server *srv, const char *ward, int64_t now_ms,
                                const char *scoring, srv_patient *const *ps,
                                const vigil_store_ward_entry *rows, size_t n)
{
    jw w;
    memset(&w, 0, sizeof w);
    jw_open(&w, '{');
    JW_KEY(&w, "ward");
    jw_str(&w, ward);
    JW_KEY(&w, "at");
    jw_time(&w, now_ms);
    JW_KEY(&w, "patients");
    jw_open(&w, '[');
    for (size_t i = 0; i < n; i++) {
        if (ps[i] != NULL) {
            patient_view(&w, srv, ps[i], &rows[i], now_ms);
        }
    }
    jw_close(&w, ']');
    JW_KEY(&w, "scoring");
    jw_str(&w, scoring);
    jw_close(&w, '}');
    if (w.oom) {
        free(w.s);
        return NULL;
    }
    w.s[w.n] = '\0'; /* jw_raw keeps a byte for it */
    return w.s;
}
