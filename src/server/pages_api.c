/*
 * pages_api.c: the JSON API of rotas and pages (store thread):
 *
 *   GET  /api/pages                 the signed-in user's pages of the last 24 h (the web app
 *                                   channel: fetching one marks it delivered); any role
 *   POST /api/pages/{id}/read       the recipient has read it; any role
 *   GET  /api/alerts/{id}/pages     every page of an alert and its delivery state; N D O S
 *   GET  /api/rota?ward=&from=&to=  shifts (default: now to 7 days on); any role
 *   POST /api/rota                  add a shift {ward, level, step, username, from, to}
 *   POST /api/rota/{id}/end         end a shift now
 *   GET  /api/rota/gaps             posts nobody holds now; N D O S A
 *
 * Who may edit a rota (REQ ROTA-EDIT-ROLES), checked here on the server: an
 * admin, any ward or "*"; a nurse (the nurse in charge: vigil has no finer
 * nursing role), wards in their own scope only, never "*". Other roles may
 * read it. Acknowledging a page is acknowledging its alert:
 * POST /api/alerts/{alert_id}/ack, whose id every page carries.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server_int.h"
#include "vigil/util.h"

#define PAGES_MAX 100
#define SHIFTS_MAX 500
#define GAPS_MAX 200
#define DAY_MS (24LL * 3600 * 1000)

static json_t *page_json(const vigil_store_page *p)
{
    json_t *j = json_pack("{s:I, s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:i}", "id",
                          (json_int_t)p->id, "alert_id", (json_int_t)p->alert_id, "patient_id",
                          (json_int_t)p->patient_id, "ward", p->ward, "bed", p->bed, "level",
                          p->level, "post", p->post, "recipient", p->recipient, "channel",
                          vigil_store_channel_name(p->channel), "state",
                          vigil_store_page_state_name(p->state), "rota_step", p->rota_step,
                          "attempts", p->attempts);
    if (j == NULL) {
        return json_null();
    }
    json_object_set_new(j, "created_at", vigil__srv_time_json(p->created_ms));
    json_object_set_new(j, "delivered_at", vigil__srv_time_json(p->delivered_ms));
    json_object_set_new(j, "read_at", vigil__srv_time_json(p->read_ms));
    json_object_set_new(j, "acknowledged_at", vigil__srv_time_json(p->acked_ms));
    if (p->last_error[0] != '\0') {
        json_object_set_new(j, "last_error", json_string(p->last_error));
    }
    return j;
}

static json_t *pages_json(const vigil_store_page *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(a, page_json(&v[i]));
    }
    return a;
}

static bool id_param(srv_req *r, const char *what, int64_t *out)
{
    long id = 0;
    if (r->n_params < 1 || vigil_parse_long(r->params[0], 1, INT64_MAX, &id) != VIGIL_OK) {
        vigil__srv_req_error(r, 404, "not-found", "no such %s", what);
        return false;
    }
    *out = id;
    return true;
}

void vigil__srv_h_pages(vigil_server *srv, srv_req *r)
{
    vigil_store_page *v = calloc(PAGES_MAX, sizeof *v);
    if (v == NULL) {
        vigil__srv_req_error(r, 500, "internal", "out of memory");
        return;
    }
    int64_t now = vigil__srv_now_ms();
    size_t n = 0;
    vigil_err err = {0};
    vigil_status st = vigil_store_pages_for(srv->store, &r->who, now - DAY_MS, now, v, PAGES_MAX,
                                            &n, &err);
    if (st != VIGIL_OK) {
        free(v);
        vigil__srv_req_store_error(r, st, &err);
        return;
    }
    size_t fetched = 0, open = 0;
    for (size_t i = 0; i < n; i++) {
        fetched += v[i].channel == VIGIL_STORE_CHANNEL_WEB && v[i].delivered_ms == now;
        open += v[i].acked_ms == 0 && v[i].channel == VIGIL_STORE_CHANNEL_WEB;
    }
    if (srv->pager != NULL) {
        atomic_fetch_add(&srv->pager->n.web_fetched, fetched);
    }
    json_t *pages = pages_json(v, n);
    free(v);
    vigil__srv_req_json(r, 200,
                        json_pack("{s:o, s:I}", "pages", pages, "unacknowledged", (json_int_t)open));
}

void vigil__srv_h_page_read(vigil_server *srv, srv_req *r)
{
    int64_t id = 0;
    if (!id_param(r, "page", &id)) {
        return;
    }
    vigil_store_page p;
    vigil_err err = {0};
    vigil_status st = vigil_store_page_read(srv->store, &r->who, id, vigil__srv_now_ms(), &p, &err);
    if (st != VIGIL_OK) {
        vigil__srv_req_store_error(r, st, &err);
        return;
    }
    vigil__srv_req_json(r, 200, page_json(&p));
}

void vigil__srv_h_alert_pages(vigil_server *srv, srv_req *r)
{
    int64_t id = 0;
    if (!id_param(r, "alert", &id)) {
        return;
    }
    srv_patient *p = vigil__srv_idmap_get(&srv->pats.alert_pat, id);
    if (p != NULL && !vigil__srv_scope_ok(&r->user, p->ward)) {
        /* issue 12 finding 12: as if there were no such alert */
        vigil__srv_req_out_of_scope(r, "no open alert %lld", (long long)id);
        return;
    }
    if (p == NULL && !vigil__srv_scope_ok(&r->user, NULL)) {
        vigil__srv_req_error(r, 404, "not-found", "no open alert %lld", (long long)id);
        return;
    }
    vigil_store_page *v = calloc(PAGES_MAX, sizeof *v);
    if (v == NULL) {
        vigil__srv_req_error(r, 500, "internal", "out of memory");
        return;
    }
    size_t n = 0;
    vigil_err err = {0};
    vigil_status st = vigil_store_pages_of_alert(srv->store, id, v, PAGES_MAX, &n, &err);
    if (st != VIGIL_OK) {
        free(v);
        vigil__srv_req_store_error(r, st, &err);
        return;
    }
    json_t *pages = pages_json(v, n < PAGES_MAX ? n : PAGES_MAX);
    free(v);
    vigil__srv_req_json(r, 200, json_pack("{s:I, s:o}", "alert_id", (json_int_t)id, "pages", pages));
}

static json_t *shift_json(const vigil_store_shift *s)
{
    json_t *j = json_pack("{s:I, s:s, s:s, s:i, s:s, s:s}", "id", (json_int_t)s->id, "ward",
                          s->ward, "level", s->level, "step", s->step, "username", s->username,
                          "created_by", s->created_by);
    if (j == NULL) {
        return json_null();
    }
    json_object_set_new(j, "from", vigil__srv_time_json(s->from_ms));
    json_object_set_new(j, "to", vigil__srv_time_json(s->to_ms));
    return j;
}

static bool query_time(srv_req *r, const char *k, int64_t def, int64_t *out)
{
    const char *s = json_string_value(json_object_get(r->query, k));
    if (s == NULL) {
        *out = def;
        return true;
    }
    if (vigil__srv_time_parse(s, out) != VIGIL_OK) {
        vigil__srv_req_error(r, 400, "bad-request", "%s is not a date-time", k);
        return false;
    }
    return true;
}

void vigil__srv_h_rota(vigil_server *srv, srv_req *r)
{
    const char *ward = json_string_value(json_object_get(r->query, "ward"));
    int64_t now = vigil__srv_now_ms(), from = 0, to = 0;
    if (!query_time(r, "from", now, &from) || !query_time(r, "to", now + 7 * DAY_MS, &to)) {
        return;
    }
    if (to < from) {
        vigil__srv_req_error(r, 400, "bad-request", "to is before from");
        return;
    }
    vigil_store_shift *v = calloc(SHIFTS_MAX, sizeof *v);
    if (v == NULL) {
        vigil__srv_req_error(r, 500, "internal", "out of memory");
        return;
    }
    size_t n = 0;
    vigil_err err = {0};
    vigil_status st = vigil_store_shifts_get(srv->store, ward, from, to, v, SHIFTS_MAX, &n, &err);
    if (st != VIGIL_OK) {
        free(v);
        vigil__srv_req_store_error(r, st, &err);
        return;
    }
    json_t *a = json_array();
    for (size_t i = 0; i < n && i < SHIFTS_MAX; i++) {
        json_array_append_new(a, shift_json(&v[i]));
    }
    free(v);
    vigil__srv_req_json(r, 200, json_pack("{s:o, s:b}", "shifts", a, "truncated", n > SHIFTS_MAX));
}

/* REQ ROTA-EDIT-ROLES: admin anywhere; a nurse on wards in their scope, never "*". */
static bool may_edit(srv_req *r, const char *ward)
{
    if (r->user.role == VIGIL_STORE_ROLE_ADMIN) {
        return true;
    }
    if (r->user.role != VIGIL_STORE_ROLE_NURSE) {
        vigil__srv_req_error(r, 403, "forbidden", "only an admin or a nurse in charge edits a rota");
        return false;
    }
    if (strcmp(ward, "*") == 0 || !vigil__srv_scope_ok(&r->user, ward)) {
        vigil__srv_req_error(r, 403, "forbidden", "ward %s is not in your scope to edit", ward);
        return false;
    }
    return true;
}

static bool str_member(srv_req *r, const char *k, char *dst, size_t cap)
{
    const char *s = json_string_value(json_object_get(r->body, k));
    if (s == NULL || s[0] == '\0' || strlen(s) >= cap) {
        vigil__srv_req_error(r, 422, "unprocessable", "\"%s\" is required (a string)", k);
        return false;
    }
    snprintf(dst, cap, "%s", s);
    return true;
}

static bool time_member(srv_req *r, const char *k, int64_t *out)
{
    const char *s = json_string_value(json_object_get(r->body, k));
    if (s == NULL || vigil__srv_time_parse(s, out) != VIGIL_OK) {
        vigil__srv_req_error(r, 422, "unprocessable", "\"%s\" is a date-time like "
                                                      "2025-01-14T08:00:00Z",
                             k);
        return false;
    }
    return true;
}

void vigil__srv_h_rota_add(vigil_server *srv, srv_req *r)
{
    static const char *const keys[] = {"ward", "level", "step", "username", "from", "to", NULL};
    const char *k;
    json_t *v;
    json_object_foreach(r->body, k, v)
    {
        bool ok = false;
        for (size_t i = 0; keys[i] != NULL && !ok; i++) {
            ok = strcmp(keys[i], k) == 0;
        }
        if (!ok) {
            vigil__srv_req_error(r, 422, "unprocessable", "unknown member \"%s\"", k);
            return;
        }
    }
    vigil_store_shift s;
    memset(&s, 0, sizeof s);
    json_t *step = json_object_get(r->body, "step");
    if (!str_member(r, "ward", s.ward, sizeof s.ward) ||
        !str_member(r, "level", s.level, sizeof s.level) ||
        !str_member(r, "username", s.username, sizeof s.username) ||
        !time_member(r, "from", &s.from_ms) || !time_member(r, "to", &s.to_ms)) {
        return;
    }
    if (!json_is_integer(step) || json_integer_value(step) < 0 ||
        json_integer_value(step) >= VIGIL_STORE_ROTA_STEPS_MAX) {
        vigil__srv_req_error(r, 422, "unprocessable", "\"step\" is an integer 0 to %d",
                             VIGIL_STORE_ROTA_STEPS_MAX - 1);
        return;
    }
    s.step = (int)json_integer_value(step);
    if (!may_edit(r, s.ward)) {
        return;
    }
    int64_t id = 0;
    vigil_err err = {0};
    vigil_status st = vigil_store_shift_add(srv->store, &r->who, &s, &id, &err);
    if (st != VIGIL_OK) {
        vigil__srv_req_store_error(r, st, &err);
        return;
    }
    s.id = id;
    snprintf(s.created_by, sizeof s.created_by, "%s", r->user.username);
    vigil__srv_log(srv, "rota.shift-add", "shift %lld %s %s step %d by %s", (long long)id, s.ward,
                   s.level, s.step, r->user.username);
    vigil__srv_req_json(r, 201, shift_json(&s));
}

void vigil__srv_h_rota_end(vigil_server *srv, srv_req *r)
{
    int64_t id = 0;
    if (!id_param(r, "shift", &id)) {
        return;
    }
    /* read it first: the role check needs its ward */
    vigil_store_shift *v = calloc(SHIFTS_MAX, sizeof *v);
    if (v == NULL) {
        vigil__srv_req_error(r, 500, "internal", "out of memory");
        return;
    }
    int64_t now = vigil__srv_now_ms();
    size_t n = 0;
    vigil_err err = {0};
    vigil_status st =
        vigil_store_shifts_get(srv->store, NULL, now, INT64_C(32503680000000), v, SHIFTS_MAX, &n,
                               &err);
    const vigil_store_shift *found = NULL;
    for (size_t i = 0; st == VIGIL_OK && i < n && i < SHIFTS_MAX; i++) {
        if (v[i].id == id) {
            found = &v[i];
        }
    }
    if (st != VIGIL_OK || found == NULL) {
        free(v);
        if (st != VIGIL_OK) {
            vigil__srv_req_store_error(r, st, &err);
        } else {
            vigil__srv_req_error(r, 404, "not-found", "no shift %lld in force or to come",
                                 (long long)id);
        }
        return;
    }
    char ward[VIGIL_STORE_NAME_MAX + 1];
    snprintf(ward, sizeof ward, "%s", found->ward);
    free(v);
    if (!may_edit(r, ward)) {
        return;
    }
    vigil_store_shift s;
    st = vigil_store_shift_end(srv->store, &r->who, id, now, &s, &err);
    if (st != VIGIL_OK) {
        vigil__srv_req_store_error(r, st, &err);
        return;
    }
    s.to_ms = s.to_ms < now ? s.to_ms : now;
    vigil__srv_req_json(r, 200, shift_json(&s));
}

void vigil__srv_h_rota_gaps(vigil_server *srv, srv_req *r)
{
    vigil_store_rota_gap *v = calloc(GAPS_MAX, sizeof *v);
    if (v == NULL) {
        vigil__srv_req_error(r, 500, "internal", "out of memory");
        return;
    }
    size_t n = 0;
    vigil_err err = {0};
    vigil_status st = vigil_store_rota_gaps(srv->store, vigil__srv_now_ms(),
                                            (int)srv->cfg.escalation.rota_steps, v, GAPS_MAX, &n,
                                            &err);
    if (st != VIGIL_OK) {
        free(v);
        vigil__srv_req_store_error(r, st, &err);
        return;
    }
    json_t *a = json_array();
    for (size_t i = 0; i < n && i < GAPS_MAX; i++) {
        if (!vigil__srv_scope_ok(&r->user, v[i].ward)) {
            continue;
        }
        json_array_append_new(a, json_pack("{s:s, s:s, s:i}", "ward", v[i].ward, "level",
                                           v[i].level, "step", v[i].step));
    }
    free(v);
    /* paging: whether an alert pages anyone at all (off: the rota is not used, and a
     * gap is no hazard worth a banner) */
    vigil__srv_req_json(r, 200, json_pack("{s:I, s:o, s:b}", "count",
                                          (json_int_t)json_array_size(a), "gaps", a, "paging",
                                          srv->pager != NULL));
}
