/*
 * fhir_api.c: the FHIR R4 endpoints. POST /fhir/Observation (one vital-sign
 * Observation), POST /fhir (a transaction Bundle, all or nothing), GET
 * /fhir/Observation?patient=<NHS number> (a searchset of the patient's
 * vital signs and NEWS2 totals from date=ge<dateTime>, default the last 7
 * days, oldest first, at most 500 sets). Every error is an
 * OperationOutcome, with the HTTP status vigil_fhir_issue_http_status gives
 * for what the parser found, 401/403 for sign-in and scope (a search for a
 * patient out of scope is the empty searchset of an unknown one: issue 12
 * finding 12), 503 when the store failed (send again).
 *
 * Parsing runs on the HTTP thread (vigil/fhir.h is pure); the sets then join
 * the store thread's group commit like HL7 messages, and the response is
 * built there after the commit.
 *
 * Does not: accept resources other than Observation (vigil/fhir.h says what
 * is accepted), keep FHIR ids (a stored set is "obs<id>" on the way out).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server_int.h"
#include "vigil/fhir.h"

#define FHIR_CT "application/fhir+json"
#define SEARCH_WINDOW_MS (7LL * 24 * 3600 * 1000)
#define SEARCH_ROWS_MAX 500

void vigil__srv_fhir_error(srv_req *r, int status, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *m = json_string(msg);
    if (m == NULL) {
        m = json_string("(message not UTF-8)");
    }
    vigil__srv_req_json(r, status,
                        json_pack("{s:s, s:[{s:s, s:s, s:o}]}", "resourceType", "OperationOutcome",
                                  "issue", "severity", status >= 500 ? "fatal" : "error", "code",
                                  code, "diagnostics", m));
    r->content_type = FHIR_CT;
}

/* The response for a parser refusal. */
static void outcome(srv_req *r, const vigil_fhir_issue *issue)
{
    char *j = NULL;
    if (vigil_fhir_outcome_json(issue, 1, &j) != VIGIL_OK) {
        vigil__srv_fhir_error(r, 500, "exception", "out of memory");
        return;
    }
    free(r->resp);
    r->resp = malloc(strlen(j) + 1);
    if (r->resp != NULL) {
        memcpy(r->resp, j, strlen(j) + 1);
    }
    vigil_fhir_free(j);
    r->status = r->resp != NULL ? vigil_fhir_issue_http_status(issue) : 500;
    r->content_type = FHIR_CT;
}

void vigil__srv_fhir_issue(srv_req *r, const vigil_fhir_issue *issue)
{
    outcome(r, issue);
}

/* Take a builder's string as the response body. */
static void take(srv_req *r, int status, char *j)
{
    free(r->resp);
    r->resp = NULL;
    if (j != NULL) {
        r->resp = malloc(strlen(j) + 1);
        if (r->resp != NULL) {
            memcpy(r->resp, j, strlen(j) + 1);
        }
        vigil_fhir_free(j);
    }
    r->status = r->resp != NULL ? status : 500;
    r->content_type = FHIR_CT;
}

/* A refused or failed ingest as an OperationOutcome. */
static void ingest_error(srv_req *r, const srv_ingest *ing)
{
    if (ing->forbidden) {
        vigil__srv_fhir_error(r, 403, "forbidden", "%s", ing->msg);
    } else if (ing->internal) {
        vigil__srv_fhir_error(r, 503, "transient", "%s", ing->msg);
    } else if (ing->status == VIGIL_ERR_CONFLICT) {
        vigil__srv_fhir_error(r, 409, "conflict", "%s", ing->msg);
    } else {
        vigil__srv_fhir_error(r, 422, "processing", "%s", ing->msg);
    }
}

typedef struct fhir_call {
    srv_req *r;
    bool bundle;
    size_t n_entries;
    const vigil_fhir_batch *batch; /* the transaction's entries not used (borrowed), or NULL */
} fhir_call;

/* After the commit, on the store thread: the response. */
static void respond(vigil_server *srv, srv_job *job)
{
    (void)srv;
    fhir_call *fc = job->arg;
    srv_req *r = fc->r;
    srv_ingest *ing = job->ing;
    if (ing->status != VIGIL_OK) {
        ingest_error(r, ing);
        return;
    }
    vigil_err err = {0};
    char *j = NULL;
    if (fc->bundle) {
        const vigil_fhir_skip *sk = fc->batch != NULL ? fc->batch->skipped : NULL;
        size_t nsk = fc->batch != NULL ? fc->batch->n_skipped : 0;
        if (vigil_fhir_transaction_response_skips_json(fc->n_entries, NULL, sk, nsk, &j, &err) !=
            VIGIL_OK) {
            vigil__srv_fhir_error(r, 500, "exception", "%s", err.msg);
            return;
        }
        take(r, 200, j);
        return;
    }
    char id[32];
    snprintf(id, sizeof id, "obs%lld", (long long)ing->out[0].obs_id);
    vigil_obs_event ev = ing->ev[0];
    if (vigil_fhir_news2_json(&ev, &ing->out[0].news2, id, &j, &err) != VIGIL_OK) {
        /* stored, but the echo cannot be built (e.g. a local id that is not a FHIR id) */
        vigil__srv_req_json(r, 201,
                            json_pack("{s:s, s:s}", "resourceType", "OperationOutcome", "id", id));
        r->content_type = FHIR_CT;
    } else {
        take(r, ing->out[0].duplicate ? 200 : 201, j);
    }
    snprintf(r->location, sizeof r->location, "/fhir/Observation/%s-news2", id);
}

/* Queue the parsed events (copied) for the group commit and wait for the
 * response. */
static void ingest(vigil_server *srv, srv_req *r, const vigil_obs_event *evs, size_t n,
                   size_t n_entries, bool bundle, const vigil_fhir_batch *batch)
{
    srv_ingest *ing = calloc(1, sizeof *ing);
    if (ing != NULL) {
        ing->ev = malloc(n * sizeof *ing->ev);
    }
    if (ing == NULL || ing->ev == NULL) {
        free(ing);
        vigil__srv_fhir_error(r, 500, "exception", "out of memory");
        return;
    }
    memcpy(ing->ev, evs, n * sizeof *ing->ev);
    ing->n = n;
    ing->source = VIGIL_SRC_FHIR;
    ing->check_scope = true;
    ing->user = r->user;
    snprintf(ing->who_user, sizeof ing->who_user, "%s", r->who.user);
    snprintf(ing->who_reason, sizeof ing->who_reason, "%s", r->who.reason);
    for (size_t k = 0; k < ing->n; k++) {
        if (ing->ev[k].recorded_by[0] == '\0') {
            snprintf(ing->ev[k].recorded_by, sizeof ing->ev[k].recorded_by, "%s", r->user.username);
        }
    }
    fhir_call fc = {r, bundle, n_entries, batch};
    srv_job job;
    vigil__srv_job_init_call(&job);
    job.ing = ing;
    job.run = respond;
    job.arg = &fc;
    if (!vigil__srv_call(srv, &job)) {
        vigil__srv_fhir_error(r, 503, "transient", "the service is stopping");
    }
    vigil__srv_job_fini_call(&job);
    vigil__srv_ingest_free(ing);
}

void vigil__srv_h_fhir_post_obs(vigil_server *srv, srv_req *r)
{
    vigil_fhir_issue issue;
    vigil_obs_event ev;
    if (vigil_fhir_parse_observation(r->raw, r->raw_len, &ev, &issue) != VIGIL_OK) {
        outcome(r, &issue);
        return;
    }
    ingest(srv, r, &ev, 1, 1, false, NULL);
}

void vigil__srv_h_fhir_post_bundle(vigil_server *srv, srv_req *r)
{
    vigil_fhir_batch b;
    memset(&b, 0, sizeof b);
    vigil_fhir_issue issue;
    if (vigil_fhir_parse_transaction(r->raw, r->raw_len, &b, &issue) != VIGIL_OK) {
        outcome(r, &issue);
        return;
    }
    if (b.n_events == 0) {
        char *j = NULL;
        vigil_err err = {0};
        if (vigil_fhir_transaction_response_json(b.n_entries, NULL, &j, &err) == VIGIL_OK) {
            take(r, 200, j);
        } else {
            vigil__srv_fhir_error(r, 500, "exception", "%s", err.msg);
        }
    } else {
        ingest(srv, r, b.events, b.n_events, b.n_entries, true, &b);
    }
    vigil_fhir_batch_fini(&b);
}

/* FHIR id syntax: [A-Za-z0-9-.]{1,64}. */
static bool fhir_id(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64) {
        return false;
    }
    for (; *s != '\0'; s++) {
        char c = *s;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.')) {
            return false;
        }
    }
    return true;
}

void vigil__srv_h_fhir_search(vigil_server *srv, srv_req *r)
{
    static const char prefix[] = "https://fhir.nhs.uk/Id/nhs-number|";
    const char *q = json_string_value(json_object_get(r->query, "patient"));
    if (q == NULL) {
        q = json_string_value(json_object_get(r->query, "subject:identifier"));
    }
    if (q != NULL && strncmp(q, prefix, sizeof prefix - 1) == 0) {
        q += sizeof prefix - 1;
    }
    char nhs[VIGIL_NHS_NUMBER_LEN + 1];
    if (q == NULL || vigil_nhs_number_parse(q, nhs, NULL) != VIGIL_OK) {
        vigil__srv_fhir_error(r, 400, "invalid",
                              "search by patient=<NHS number> (10 digits, valid "
                              "check digit)");
        return;
    }
    vigil_status st;
    vigil_err err = {0};
    srv_patient *p = vigil__srv_pat_find(srv, &r->who, nhs, "", &st, &err);
    if (st != VIGIL_OK) {
        vigil__srv_fhir_error(r, 503, "transient", "%s", err.msg);
        return;
    }
    if (p != NULL && !vigil__srv_scope_ok(&r->user, p->ward)) {
        /* issue 12 finding 12: the same empty searchset as for a patient
         * vigil does not know, audited as a denial */
        p = NULL;
        r->scope_denied = true;
    }
    /* date=ge<dateTime>: from then on; default the last 7 days */
    int64_t now = vigil__srv_now_ms(), from = now - SEARCH_WINDOW_MS;
    const char *date = json_string_value(json_object_get(r->query, "date"));
    if (date != NULL &&
        (strncmp(date, "ge", 2) != 0 || vigil__srv_time_parse(date + 2, &from) != VIGIL_OK)) {
        vigil__srv_fhir_error(r, 400, "invalid", "date is ge<dateTime with zone>");
        return;
    }
    vigil_store_obs_list l;
    memset(&l, 0, sizeof l);
    if (p != NULL) {
        st = vigil_store_obs_range(srv->store, &r->who, p->id, from, now + srv->cfg.future_skew_ms,
                                   SEARCH_ROWS_MAX, &l, &err);
        if (st != VIGIL_OK) {
            vigil_store_obs_list_fini(&l);
            vigil__srv_fhir_error(r, 503, "transient", "%s", err.msg);
            return;
        }
    }
    vigil_fhir_search_item *items = calloc(l.n > 0 ? l.n : 1, sizeof *items);
    char(*ids)[32] = calloc(l.n > 0 ? l.n : 1, sizeof *ids);
    if (items == NULL || ids == NULL) {
        free(items);
        free(ids);
        vigil_store_obs_list_fini(&l);
        vigil__srv_fhir_error(r, 500, "exception", "out of memory");
        return;
    }
    for (size_t i = 0; i < l.n; i++) {
        vigil_store_obs_row *row = &l.rows[i];
        if (!fhir_id(row->ev.mrn) && row->ev.nhs_number[0] != '\0') {
            row->ev.mrn[0] = '\0'; /* a local id that cannot name a Patient resource */
        }
        snprintf(ids[i], sizeof ids[i], "obs%lld", (long long)row->obs_id);
        items[i] = (vigil_fhir_search_item){&row->ev, row->has_score ? &row->news2 : NULL, ids[i]};
    }
    char self[128];
    snprintf(self, sizeof self, "/fhir/Observation?patient=%s", nhs);
    char *j = NULL;
    st = vigil_fhir_searchset_json(items, l.n, NULL, self, &j, &err);
    free(items);
    free(ids);
    vigil_store_obs_list_fini(&l);
    if (st != VIGIL_OK) {
        vigil__srv_fhir_error(r, 500, "exception", "%s", err.msg);
        return;
    }
    take(r, 200, j);
}
