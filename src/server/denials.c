/*
 * denials.c: refused HTTP requests in the audit trail (issue 12, finding
 * 12). Every 401, 403 and every patient out of the user's ward scope
 * (answered 404, like no patient at all) is noted here on the HTTP thread;
 * the store thread writes one audit record "access.denied" per user, route
 * (the pattern, "/api/patients/{}"), method, status and minute, with the
 * count and the first address, once that minute is over (and at stop).
 *
 * So a flood of denials costs at most SRV_DENIALS_MAX records a minute: when
 * every slot of the current minutes is taken, further denials are counted
 * in one "(other)" record of their minute rather than dropped.
 *
 * Does not: decide what is denied (http.c and the handlers do), or log (the
 * rate-limited log line is http.c's).
 * Invariants: a slot is written at most once; a failed write is logged and
 * counted (store_failures), never retried in a loop.
 */
#include <stdio.h>
#include <string.h>

#include "server_int.h"
#include "vigil/audit.h"

#define MINUTE_MS (60LL * 1000)

static bool same_key(const srv_denial *d, int status, const char *user, const char *method,
                     const char *route, int64_t minute)
{
    return d->used && d->status == status && d->minute == minute &&
           strcmp(d->user, user) == 0 && strcmp(d->method, method) == 0 &&
           strcmp(d->route, route) == 0;
}

static void fill(srv_denial *d, int status, const char *user, const char *method,
                 const char *route, const char *client, int64_t minute)
{
    memset(d, 0, sizeof *d);
    d->used = true;
    d->status = status;
    d->minute = minute;
    snprintf(d->user, sizeof d->user, "%s", user);
    snprintf(d->method, sizeof d->method, "%s", method);
    snprintf(d->route, sizeof d->route, "%s", route);
    snprintf(d->client, sizeof d->client, "%s", client);
}

void vigil__srv_denial_note(srv_denials *t, int status, const char *user, const char *method,
                            const char *route, const char *client, int64_t now_ms)
{
    int64_t minute = now_ms / MINUTE_MS;
    user = user != NULL && user[0] != '\0' ? user : "anonymous";
    method = method != NULL ? method : "?";
    route = route != NULL && route[0] != '\0' ? route : "?";
    client = client != NULL ? client : "?";
    pthread_mutex_lock(&t->mu);
    srv_denial *hit = NULL, *free_slot = NULL;
    for (size_t i = 0; i < SRV_DENIALS_MAX && hit == NULL; i++) {
        srv_denial *d = &t->v[i];
        if (same_key(d, status, user, method, route, minute)) {
            hit = d;
        } else if (!d->used && free_slot == NULL) {
            free_slot = d;
        }
    }
    if (hit == NULL && free_slot != NULL) {
        fill(free_slot, status, user, method, route, client, minute);
        hit = free_slot;
    }
    if (hit == NULL) {
        /* every slot taken: one "(other)" record a minute holds the rest */
        if (!t->other.used || t->other.minute != minute) {
            if (t->other.used) {
                t->other_lost += t->other.n; /* not yet written: counted, not audited */
            }
            fill(&t->other, 0, "(other)", "*", "*", "(various)", minute);
        }
        hit = &t->other;
    }
    hit->n++;
    pthread_mutex_unlock(&t->mu);
}

size_t vigil__srv_denials_take(srv_denials *t, int64_t now_ms, bool all, srv_denial *out,
                               size_t cap)
{
    int64_t minute = now_ms / MINUTE_MS;
    size_t n = 0;
    pthread_mutex_lock(&t->mu);
    for (size_t i = 0; i < SRV_DENIALS_MAX + 1 && n < cap; i++) {
        srv_denial *d = i < SRV_DENIALS_MAX ? &t->v[i] : &t->other;
        if (d->used && (all || d->minute < minute)) {
            out[n++] = *d;
            d->used = false;
        }
    }
    pthread_mutex_unlock(&t->mu);
    return n;
}

void vigil__srv_denials_flush(vigil_server *srv, int64_t now_ms, bool all)
{
    srv_denial batch[32];
    for (;;) {
        size_t n = vigil__srv_denials_take(&srv->denials, now_ms, all, batch,
                                           sizeof batch / sizeof batch[0]);
        for (size_t i = 0; i < n; i++) {
            const srv_denial *d = &batch[i];
            char since[32], detail[VIGIL_AUDIT_TEXT_MAX];
            vigil__srv_time_format(d->minute * MINUTE_MS, since);
            if (d->status == 0) {
                snprintf(detail, sizeof detail,
                         "x%llu denials of other users or routes in the minute from %s",
                         (unsigned long long)d->n, since);
            } else {
                snprintf(detail, sizeof detail, "%d %s %s x%llu from %s in the minute from %s",
                         d->status, d->method, d->route, (unsigned long long)d->n, d->client,
                         since);
            }
            vigil_actor who = {d->user, "access denied"};
            vigil_err err = {0};
            vigil_status st = vigil_store_audit_denied(srv->store, &who, detail, &err);
            if (st != VIGIL_OK) {
                atomic_fetch_add(&srv->stats.store_failures, 1);
                vigil__srv_log_limited(srv, "store.error", "access.denied not audited: %s",
                                       err.msg[0] != '\0' ? err.msg : vigil_status_str(st));
            }
        }
        if (n < sizeof batch / sizeof batch[0]) {
            return;
        }
    }
}

void vigil__srv_denials_init(srv_denials *t)
{
    memset(t, 0, sizeof *t);
    pthread_mutex_init(&t->mu, NULL);
}

void vigil__srv_denials_fini(srv_denials *t)
{
    pthread_mutex_destroy(&t->mu);
}
