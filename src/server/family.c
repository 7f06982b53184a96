/*
 * family.c: Martha's Rule for patients and families, without an account
 * (issue 13 item 7; docs/web.md "The family page").
 *
 * Each admission has a bedside code, printed on a card by the ward (POST
 * /api/patients/{id}/bedside-code, nurse, doctor, outreach). With it anyone at
 * the bedside can ask for an urgent review (POST /api/family/concern: a
 * Martha's Rule call from the family, channel "bedside code", which alerts
 * critical-care outreach like any other call) or give the daily "better, same
 * or worse" answer (POST /api/family/daily-answer).
 *
 * The code is "<patient id>-<admission id>-<tag>" (base32, Crockford's
 * alphabet without I L O U), the tag 40 bits of the keyed BLAKE2b of both ids
 * under a key kept in the store (its secret "bedside-code-key", 32 random
 * bytes stored at the first start, so every node on one database shares it;
 * a key file a store had beside it before, <db>.bedside-key, is moved in
 * then), so no table of codes is needed and a code cannot be made without
 * the key. It works only while that admission is open: it ends at
 * discharge, and a new admission has a new code.
 *
 * Invariants: the family answers never name, place or describe the patient
 * (the same words whatever happened, except a refusal); wrong codes and too
 * many requests are refused with 429 by address (10 wrong codes or 5 calls
 * in 10 minutes) and by code (3 calls an hour); every call and answer is an
 * audited store write by actor "family (bedside code)"; a refusal is logged
 * without the code.
 */
#include <fcntl.h>
#include <qrencode.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server_int.h"
#include "vigil/util.h"

#define FAM_WINDOW_MS (10LL * 60 * 1000)
#define FAM_BAD_PER_ADDR 10
#define FAM_CALLS_PER_ADDR 5
#define FAM_CODE_WINDOW_MS (60LL * 60 * 1000)
#define FAM_CALLS_PER_CODE 3
#define FAM_TEXT_MAX 2000

static const char B32[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"; /* Crockford */

static void b32_int(uint64_t v, char *out, size_t cap)
{
    char tmp[16];
    size_t n = 0;
    do {
        tmp[n++] = B32[v % 32];
        v /= 32;
    } while (v > 0 && n < sizeof tmp);
    size_t k = 0;
    while (n > 0 && k + 1 < cap) {
        out[k++] = tmp[--n];
    }
    out[k] = '\0';
}

static bool b32_parse(const char *s, size_t len, uint64_t *out)
{
    uint64_t v = 0;
    if (len == 0 || len > 12) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        const char *p = strchr(B32, s[i]);
        if (s[i] == '\0' || p == NULL) {
            return false;
        }
        v = v * 32 + (uint64_t)(p - B32);
    }
    *out = v;
    return true;
}

static void tag_of(const vigil_server *srv, int64_t patient_id, int64_t admission_id, char out[9])
{
    uint8_t msg[24] = "vigil bedside v1";
    for (int i = 0; i < 8; i++) {
        msg[16 + i] = (uint8_t)((uint64_t)admission_id >> (8 * i));
    }
    uint8_t in[32], h[5];
    memcpy(in, msg, sizeof msg);
    for (int i = 0; i < 8; i++) {
        in[24 + i] = (uint8_t)((uint64_t)patient_id >> (8 * i));
    }
    crypto_generichash(h, sizeof h, in, sizeof in, srv->family.key, sizeof srv->family.key);
    uint64_t v = 0;
    for (int i = 0; i < 5; i++) {
        v = (v << 8) | h[i];
    }
    for (int i = 7; i >= 0; i--) {
        out[i] = B32[v % 32];
        v /= 32;
    }
    out[8] = '\0';
}

void vigil__srv_bedside_code(const vigil_server *srv, int64_t patient_id, int64_t admission_id,
                             char out[SRV_BEDSIDE_CODE_MAX])
{
    char a[16], b[16], t[9];
    b32_int((uint64_t)patient_id, a, sizeof a);
    b32_int((uint64_t)admission_id, b, sizeof b);
    tag_of(srv, patient_id, admission_id, t);
    snprintf(out, SRV_BEDSIDE_CODE_MAX, "%s-%s-%s", a, b, t);
}

/* Normalise what a person typed (case, spaces, O for 0, I and L for 1) and split it. */
static bool code_parse(const vigil_server *srv, const char *typed, int64_t *patient_id,
                       int64_t *admission_id)
{
    char c[SRV_BEDSIDE_CODE_MAX];
    size_t n = 0;
    for (const char *p = typed; *p != '\0'; p++) {
        char x = *p;
        if (x == ' ' || x == '\t') {
            continue;
        }
        if (x >= 'a' && x <= 'z') {
            x = (char)(x - 'a' + 'A');
        }
        x = x == 'O' ? '0' : (x == 'I' || x == 'L') ? '1' : x;
        if (n + 1 >= sizeof c) {
            return false;
        }
        c[n++] = x;
    }
    c[n] = '\0';
    const char *d1 = strchr(c, '-');
    const char *d2 = d1 != NULL ? strchr(d1 + 1, '-') : NULL;
    uint64_t pid = 0, adm = 0;
    if (d2 == NULL || strlen(d2 + 1) != 8 || !b32_parse(c, (size_t)(d1 - c), &pid) ||
        !b32_parse(d1 + 1, (size_t)(d2 - d1 - 1), &adm) || pid == 0 || adm == 0 ||
        pid > INT64_MAX || adm > INT64_MAX) {
        return false;
    }
    char want[9];
    tag_of(srv, (int64_t)pid, (int64_t)adm, want);
    if (sodium_memcmp(want, d2 + 1, 8) != 0) {
        return false;
    }
    *patient_id = (int64_t)pid;
    *admission_id = (int64_t)adm;
    return true;
}

/* The key a store file had beside it before the store kept it (<db>.bedside-key,
 * issue 13): into key, *found set, when the store URI names a file (a plain
 * path, or one under "sqlite:" or a test's "faulty:") and that file exists. A
 * key file there but not 32 bytes is an error, as it always was. */
static vigil_status file_key(const char *db, uint8_t key[32], bool *found, vigil_err *err)
{
    *found = false;
    for (;;) {
        if (strncmp(db, "faulty:", 7) == 0) {
            db += 7;
        } else if (strncmp(db, "sqlite:", 7) == 0) {
            db += 7;
        } else {
            break;
        }
    }
    const char *colon = strchr(db, ':');
    const char *slash = strchr(db, '/');
    if (db[0] == '\0' || (colon != NULL && (slash == NULL || colon < slash))) {
        return VIGIL_OK; /* "file:", ":memory:", "postgresql://": no file beside */
    }
    char path[4096];
    int n = snprintf(path, sizeof path, "%s.bedside-key", db);
    if (n < 0 || (size_t)n >= sizeof path) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "db", "the store path is too long");
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        return VIGIL_OK;
    }
    ssize_t got = read(fd, key, 32);
    close(fd);
    if (got != 32) {
        return vigil_err_set(err, VIGIL_ERR_IO, "bedside-key",
                             "the bedside-code key %s is not 32 bytes", path);
    }
    *found = true;
    return VIGIL_OK;
}

/* REQ FAMILY-KEY-SHARED: the key is the store's (vigil_store_secret_ensure),
 * so every node on one database makes and accepts the same codes; the first
 * start stores it (a file key kept beside the store before, or 32 random
 * bytes), atomically whatever the race between nodes. */
vigil_status vigil__srv_family_init(vigil_server *srv, vigil_err *err)
{
    pthread_mutex_init(&srv->family.mu, NULL);
    srv->family.ready = true;
    uint8_t cand[sizeof srv->family.key];
    bool from_file = false;
    vigil_status s = file_key(srv->db, cand, &from_file, err);
    if (s != VIGIL_OK) {
        return s;
    }
    if (!from_file) {
        randombytes_buf(cand, sizeof cand);
    }
    s = vigil_store_secret_ensure(srv->store, "bedside-code-key", cand, sizeof cand,
                                  srv->family.key, err);
    if (s == VIGIL_OK && from_file && sodium_memcmp(cand, srv->family.key, sizeof cand) != 0) {
        vigil__srv_log(srv, "bedside-key",
                       "the store holds another bedside-code key than the file beside it: the "
                       "store's is used; codes made with the file's no longer work");
    }
    sodium_memzero(cand, sizeof cand);
    return s;
}

void vigil__srv_family_fini(vigil_server *srv)
{
    sodium_memzero(srv->family.key, sizeof srv->family.key);
    if (srv->family.ready) {
        pthread_mutex_destroy(&srv->family.mu);
        srv->family.ready = false;
    }
}

/* ---- rate limits (fixed table; an entry is reused only once its window is over, so
 * a flood cannot push out an address that is being held back) ------------------- */

static srv_family_slot *slot_for(vigil_server *srv, const char *key, int64_t now, int64_t window)
{
    srv_family_slot *free_slot = NULL;
    for (size_t i = 0; i < SRV_FAMILY_SLOTS; i++) {
        srv_family_slot *s = &srv->family.slots[i];
        if (s->key[0] != '\0' && strcmp(s->key, key) == 0) {
            if (now - s->since_ms >= window) {
                s->n_bad = s->n_calls = 0;
                s->since_ms = now;
            }
            return s;
        }
        if (free_slot == NULL && (s->key[0] == '\0' || now - s->since_ms >= FAM_CODE_WINDOW_MS)) {
            free_slot = s;
        }
    }
    if (free_slot != NULL) {
        memset(free_slot, 0, sizeof *free_slot);
        snprintf(free_slot->key, sizeof free_slot->key, "%s", key);
        free_slot->since_ms = now;
    }
    return free_slot;
}

/* Count one attempt: false (refuse, 429) when over a limit or the table is full. */
static bool allowed(vigil_server *srv, const char *client, const char *code, bool bad, bool call)
{
    int64_t now = vigil__srv_now_ms();
    char key[80];
    pthread_mutex_lock(&srv->family.mu);
    snprintf(key, sizeof key, "a|%s", client);
    srv_family_slot *a = slot_for(srv, key, now, FAM_WINDOW_MS);
    bool ok =
        a != NULL && a->n_bad < FAM_BAD_PER_ADDR && (!call || a->n_calls < FAM_CALLS_PER_ADDR);
    srv_family_slot *c = NULL;
    if (ok && code != NULL) {
        snprintf(key, sizeof key, "c|%.70s", code);
        c = slot_for(srv, key, now, FAM_CODE_WINDOW_MS);
        ok = c != NULL && (!call || c->n_calls < FAM_CALLS_PER_CODE);
    }
    if (ok) {
        a->n_bad += bad ? 1 : 0;
        a->n_calls += call ? 1 : 0;
        if (c != NULL) {
            c->n_calls += call ? 1 : 0;
        }
    }
    pthread_mutex_unlock(&srv->family.mu);
    return ok;
}

/* ---- handlers (store thread) --------------------------------------------------- */

static const vigil_actor FAMILY = {"family (bedside code)", "Martha's Rule, from the bedside"};

static const char *text_member(srv_req *r, const char *k, bool required)
{
    json_t *v = json_object_get(r->body, k);
    const char *s = json_string_value(v);
    if ((v == NULL && !required) || (s != NULL && s[0] != '\0' && strlen(s) <= FAM_TEXT_MAX)) {
        return s;
    }
    return NULL;
}

static bool only(srv_req *r, const char *const *keys)
{
    const char *k;
    json_t *v;
    json_object_foreach(r->body, k, v)
    {
        bool known = false;
        for (const char *const *x = keys; *x != NULL; x++) {
            known = known || strcmp(*x, k) == 0;
        }
        if (!known) {
            return false;
        }
    }
    (void)v;
    return true;
}

/* The patient of a code whose admission is still open, or NULL with the
 * response set (429 or 404, the same words for a wrong, ended or unknown code). */
static srv_patient *patient_of_code(vigil_server *srv, srv_req *r, const char *code, bool call)
{
    int64_t pid = 0, adm = 0;
    bool valid = code != NULL && code_parse(srv, code, &pid, &adm);
    char canon[SRV_BEDSIDE_CODE_MAX]; /* counted as written on the card, however typed */
    if (valid) {
        vigil__srv_bedside_code(srv, pid, adm, canon);
    }
    if (!allowed(srv, r->client, valid ? canon : NULL, !valid, call && valid)) {
        vigil__srv_log(srv, "family.refused", "too many requests from one address or code");
        vigil__srv_req_error(r, 429, "too-many-requests",
                             "too many tries: please ask a nurse or call the ward");
        return NULL;
    }
    srv_patient *p = NULL;
    if (valid) {
        vigil_status st;
        vigil_err err = {0};
        p = vigil__srv_pat_get(srv, &FAMILY, pid, &st, &err);
        if (p != NULL && vigil__srv_pat_refresh(srv, &FAMILY, p, &err) != VIGIL_OK) {
            vigil__srv_req_error(r, 503, "unavailable", "please try again, or ask a nurse");
            return NULL;
        }
    }
    if (p == NULL || p->admission_id != adm || p->ward[0] == '\0') {
        vigil__srv_log(srv, "family.refused", "a bedside code not recognised or ended");
        vigil__srv_req_error(r, 404, "not-found",
                             "that code is not recognised or has ended: please check it, or "
                             "ask a nurse");
        return NULL;
    }
    return p;
}

void vigil__srv_h_family_concern(vigil_server *srv, srv_req *r)
{
    static const char *const keys[] = {"code", "concern", "who", "name", NULL};
    const char *code = text_member(r, "code", true);
    const char *concern = text_member(r, "concern", true);
    const char *who = text_member(r, "who", true);
    const char *name = text_member(r, "name", false);
    int caller = who == NULL                   ? -1
                 : strcmp(who, "patient") == 0 ? VIGIL_STORE_CALLER_PATIENT
                 : strcmp(who, "family") == 0  ? VIGIL_STORE_CALLER_FAMILY
                 : strcmp(who, "carer") == 0   ? VIGIL_STORE_CALLER_CARER
                                               : -1;
    if (!only(r, keys) || code == NULL || concern == NULL || caller < 0 ||
        (json_object_get(r->body, "name") != NULL && name == NULL)) {
        vigil__srv_req_error(r, 422, "unprocessable",
                             "give the code, who you are (patient, family or carer) and what "
                             "worries you");
        return;
    }
    srv_patient *p = patient_of_code(srv, r, code, true);
    if (p == NULL) {
        return;
    }
    int64_t now = vigil__srv_now_ms(), id = 0;
    vigil_store_marthas_call call = {p->id,  (vigil_store_caller)caller, name, "bedside code", now,
                                     concern};
    vigil_err err = {0};
    vigil_status st = vigil_store_marthas_call_add(srv->store, &FAMILY, &call, &id, &err);
    if (st != VIGIL_OK) {
        vigil__srv_log(srv, "store.error", "family call: %s", vigil_status_str(st));
        vigil__srv_req_error(r, 503, "unavailable",
                             "your request could not be saved: please tell a nurse now");
        return;
    }
    if (p->n_new_calls < VIGIL_ESC_MARTHA_MAX) {
        p->new_calls[p->n_new_calls++] = (vigil_esc_martha_call){id, (vigil_esc_caller)caller};
    }
    vigil__srv_idmap_put(&srv->pats.call_pat, id, p);
    vigil__srv_esc_update(srv, p, now, NULL);
    vigil__srv_log(srv, "escalation.marthas-rule", "call %lld from the bedside", (long long)id);
    vigil__srv_req_json(r, 201,
                        json_pack("{s:b, s:s}", "received", 1, "message",
                                  "Thank you. The critical care outreach team has been asked to "
                                  "come. If you are worried now, tell a nurse as well."));
}

void vigil__srv_h_family_daily(vigil_server *srv, srv_req *r)
{
    static const char *const keys[] = {"code", "answer", NULL};
    const char *code = text_member(r, "code", true);
    const char *answer = text_member(r, "answer", true);
    int f = -1;
    for (int i = 0; answer != NULL && i < VIGIL_STORE_FEEL_COUNT; i++) {
        f = strcmp(answer, vigil_store_feeling_name((vigil_store_feeling)i)) == 0 ? i : f;
    }
    if (!only(r, keys) || code == NULL || f < 0) {
        vigil__srv_req_error(r, 422, "unprocessable", "give the code and better, same or worse");
        return;
    }
    srv_patient *p = patient_of_code(srv, r, code, false);
    if (p == NULL) {
        return;
    }
    int64_t now = vigil__srv_now_ms(), id = 0;
    vigil_err err = {0};
    vigil_status st = vigil_store_daily_answer(srv->store, &FAMILY, p->id, now,
                                               (vigil_store_feeling)f, &id, &err);
    if (st != VIGIL_OK) {
        vigil__srv_log(srv, "store.error", "family answer: %s", vigil_status_str(st));
        vigil__srv_req_error(r, 503, "unavailable",
                             "your answer could not be saved: please tell a nurse");
        return;
    }
    p->has_daily = true;
    p->daily = (vigil_store_feeling)f;
    p->daily_ms = now;
    vigil__srv_esc_update(srv, p, now, NULL);
    vigil__srv_req_json(r, 201,
                        json_pack("{s:b, s:s}", "received", 1, "message",
                                  "Thank you. Your answer has been passed to the ward team."));
}

/* ---- the card (clinicians) ---------------------------------------------------- */

/* The QR code of text as rows of '1' (dark) and '0', or NULL. */
static json_t *qr_rows(const char *text)
{
    QRcode *q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (q == NULL) {
        return NULL;
    }
    json_t *rows = json_array();
    char line[256];
    for (int y = 0; y < q->width && q->width < (int)sizeof line; y++) {
        for (int x = 0; x < q->width; x++) {
            line[x] = (q->data[y * q->width + x] & 1) ? '1' : '0';
        }
        line[q->width] = '\0';
        json_array_append_new(rows, json_string(line));
    }
    QRcode_free(q);
    return rows;
}

void vigil__srv_h_bedside_code(vigil_server *srv, srv_req *r)
{
    long id = 0;
    if (r->n_params < 1 || vigil_parse_long(r->params[0], 1, INT64_MAX, &id) != VIGIL_OK) {
        vigil__srv_req_error(r, 404, "not-found", "no such patient");
        return;
    }
    vigil_status st;
    vigil_err err = {0};
    bool denied = false;
    /* scope first: nothing is read (or audited) for a patient out of scope */
    srv_patient *p = vigil__srv_pat_get_for(srv, &r->user, &r->who, id, &denied, &st, &err);
    if (denied) {
        vigil__srv_req_out_of_scope(r, "no such patient"); /* issue 12 finding 12 */
        return;
    }
    if (p != NULL && vigil__srv_pat_refresh(srv, &r->who, p, &err) != VIGIL_OK) {
        vigil__srv_req_error(r, 503, "unavailable", "the store did not answer");
        return;
    }
    if (p == NULL) {
        vigil__srv_req_error(r, 404, "not-found", "no such patient");
        return;
    }
    if (!vigil__srv_scope_ok(&r->user, p->ward)) {
        vigil__srv_req_out_of_scope(r, "no such patient"); /* issue 12 finding 12 */
        return;
    }
    if (p->admission_id == 0) {
        vigil__srv_req_error(r, 409, "conflict", "the patient is not admitted: no bedside code");
        return;
    }
    char code[SRV_BEDSIDE_CODE_MAX], path[SRV_BEDSIDE_CODE_MAX + 32], url[400];
    vigil__srv_bedside_code(srv, p->id, p->admission_id, code);
    snprintf(path, sizeof path, "/family?code=%s", code);
    /* the QR code needs the whole address: the page says where it is (?origin=),
     * taken only when it looks like one */
    const char *origin = json_string_value(json_object_get(r->query, "origin"));
    bool origin_ok = origin != NULL && strlen(origin) < 200 &&
                     (strncmp(origin, "http://", 7) == 0 || strncmp(origin, "https://", 8) == 0);
    for (const char *c = origin != NULL ? strstr(origin, "//") + 2 : ""; origin_ok && *c; c++) {
        origin_ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                    (*c >= '0' && *c <= '9') || *c == '.' || *c == '-' || *c == ':' || *c == '[' ||
                    *c == ']';
    }
    snprintf(url, sizeof url, "%s%s", origin_ok ? origin : "", path);
    vigil__srv_log(srv, "family.code", "a bedside code given out by %s", r->user.username);
    json_t *qr = qr_rows(url);
    vigil__srv_req_json(r, 200,
                        json_pack("{s:s, s:s, s:s, s:s, s:o}", "code", code, "path", path, "url",
                                  url, "ends", "at discharge", "qr",
                                  qr != NULL ? qr : json_null()));
}
