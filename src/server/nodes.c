/*
 * nodes.c: several `vigil serve` nodes on one store (issue 15 item 4). The
 * background work, what a server does on a timer rather than in answer to a
 * message or request, runs on one node at a time: the node holding the
 * store's lease "background" (vigil_store_lease_try). That work is the
 * escalation timer (repeats, escalation up the rota, Martha's Rule repeats,
 * lapsed staff concerns: vigil__srv_esc_tick on the store thread), the
 * pager's sender of the outbox (pages to gateways) and the summary mailer
 * (pager.c). What answers a message or request (an HL7 set's alert, an
 * acknowledgement, a page fetched by a browser) runs on the node that got
 * it, and what only reads for this node's own answers (the live monitor,
 * the rota gap count, the read audit's sync) runs on every node.
 *
 * A lease thread with its own store handle tries the lease every
 * cfg.lease_try_ms (2 s): on PostgreSQL a session advisory lock, which the
 * database releases when the holder's session ends (kill -9, a dropped
 * connection), so another node takes it at its next try: failover within
 * about 2 s plus the time PostgreSQL takes to see the session gone. Each
 * take is logged ("lease.taken") and audited ("lease.taken" record naming
 * the node); /health and /metrics show whether this node holds it.
 *
 * The store thread follows other nodes (vigil__srv_nodes_follow): after this
 * node takes the lease, and whenever the store's change feed says another
 * connection committed a write to the escalation's tables (PostgreSQL
 * LISTEN/NOTIFY), before the next request or round, it reads every
 * open episode again into the patients' escalation state, so the timers
 * repeat what any node raised, a repeat another node sent is not sent again,
 * and the ward list shows every node's alerts.
 *
 * Does not: decide escalation (escal.c), send pages (pager.c).
 * Threading: srv->lease.held and the counts are atomics any thread reads;
 * the lease's store handle is the lease thread's only (and start's, before
 * that thread runs); nodes_follow runs on the store thread.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "server_int.h"

vigil_status vigil__srv_lease_open(vigil_server *srv, vigil_err *err)
{
    srv_lease *l = &srv->lease;
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    if (srv->cfg.node_name != NULL && srv->cfg.node_name[0] != '\0') {
        snprintf(l->node, sizeof l->node, "%s", srv->cfg.node_name);
    } else {
        char host[40] = "";
        if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') {
            snprintf(host, sizeof host, "node");
        }
        snprintf(l->node, sizeof l->node, "%s:%ld", host, (long)getpid());
    }
    srv->cfg.node_name = NULL; /* borrowed during open only */
    return vigil_store_open(srv->db, 0, &l->store, err);
}

bool vigil__srv_lease_held(vigil_server *srv)
{
    return atomic_load(&srv->lease.held);
}

static void utc_text(int64_t t_ms, char out[64])
{
    time_t t = (time_t)(t_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(t_ms % 1000));
}

/* One try; logs and audits a change of holder. Lease thread (or start). */
static void lease_try_once(vigil_server *srv)
{
    srv_lease *l = &srv->lease;
    bool held = false;
    vigil_err err = {0};
    if (vigil_store_lease_try(l->store, SRV_LEASE_NAME, &held, &err) != VIGIL_OK) {
        vigil__srv_log_limited(srv, "store.error", "lease not tried: %s", err.msg);
    }
    bool was = atomic_load(&l->held);
    int64_t now = vigil__srv_now_ms();
    if (held && !was) {
        char at[64], other[64];
        utc_text(now, at);
        char detail[320];
        if (l->lost_ms > 0) {
            utc_text(l->lost_ms, other);
            snprintf(detail, sizeof detail,
                     "node %s took the background work at %s (held elsewhere at its try of %s)",
                     l->node, at, other);
        } else {
            snprintf(detail, sizeof detail, "node %s took the background work at %s (free)",
                     l->node, at);
        }
        atomic_store(&l->since_ms, now);
        atomic_fetch_add(&l->taken, 1);
        atomic_store(&l->held, true);
        vigil__srv_log(srv, "lease.taken", "%s", detail);
        vigil_actor who = {"vigil", "lease"};
        vigil_err ae = {0};
        if (vigil_store_audit_lease(l->store, &who, detail, &ae) != VIGIL_OK) {
            vigil__srv_log(srv, "store.error", "lease take-over not audited: %s", ae.msg);
        }
        vigil__srv_pager_kick(srv); /* pages others queued may be due */
    } else if (!held && was) {
        atomic_store(&l->held, false);
        atomic_store(&l->since_ms, 0);
        vigil__srv_log(srv, "lease.lost",
                       "node %s no longer holds the background work (its connection to the "
                       "store dropped): another node takes it",
                       l->node);
    }
    if (!held) {
        l->lost_ms = now;
    }
}

static void *lease_main(void *arg)
{
    vigil_server *srv = arg;
    srv_lease *l = &srv->lease;
    for (;;) {
        pthread_mutex_lock(&l->mu);
        if (!l->stop) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            int64_t ns = ts.tv_nsec + (srv->cfg.lease_try_ms % 1000) * 1000000LL;
            ts.tv_sec += (time_t)(srv->cfg.lease_try_ms / 1000 + ns / 1000000000LL);
            ts.tv_nsec = (long)(ns % 1000000000LL);
            pthread_cond_timedwait(&l->cv, &l->mu, &ts);
        }
        bool stop = l->stop;
        pthread_mutex_unlock(&l->mu);
        if (stop) {
            return NULL;
        }
        lease_try_once(srv);
    }
}

vigil_status vigil__srv_lease_start(vigil_server *srv, vigil_err *err)
{
    srv_lease *l = &srv->lease;
    if (l->running || l->store == NULL) {
        return VIGIL_OK;
    }
    lease_try_once(srv); /* a free lease is taken before the first tick */
    srv->lease_seen = atomic_load(&l->taken); /* the state was read at open */
    l->stop = false;
    if (pthread_create(&l->thr, NULL, lease_main, srv) != 0) {
        return vigil_err_set(err, VIGIL_ERR_INTERNAL, NULL, "cannot start the lease thread");
    }
    l->running = true;
    return VIGIL_OK;
}

void vigil__srv_lease_stop(vigil_server *srv)
{
    srv_lease *l = &srv->lease;
    if (!l->running) {
        return;
    }
    pthread_mutex_lock(&l->mu);
    l->stop = true;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
    pthread_join(l->thr, NULL);
    l->running = false;
}

void vigil__srv_lease_close(vigil_server *srv)
{
    srv_lease *l = &srv->lease;
    vigil__srv_lease_stop(srv);
    vigil_store_close(l->store); /* releases the lease */
    l->store = NULL;
    atomic_store(&l->held, false);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
}

void vigil__srv_nodes_follow(vigil_server *srv)
{
    const char *why = NULL;
    uint64_t taken = atomic_load(&srv->lease.taken);
    if (taken != srv->lease_seen) {
        srv->lease_seen = taken;
        why = "lease taken";
    }
    int64_t v = 0;
    vigil_err err = {0};
    if (vigil_store_changes(srv->store, &v, &err) != VIGIL_OK) {
        vigil__srv_log_limited(srv, "store.error", "change feed not read: %s", err.msg);
    } else if (!srv->feed_have) {
        srv->feed_have = true;
        srv->feed_seen = v;
    } else if (v != srv->feed_seen && why == NULL) {
        /* another node raised, repeated or acknowledged an alert (each read
         * again is audited: one "episode.list" record per open episode; the
         * escalation tables change far less often than the sets) */
        why = "change feed";
    }
    if (why == NULL && srv->esc_resync) {
        why = "the store refused an escalation write";
    }
    if (why == NULL) {
        return;
    }
    srv->esc_resync = false;
    srv->feed_seen = v; /* read again now: what came before is in it */
    vigil_err re = {0};
    if (vigil__srv_pats_resync(srv, &re) != VIGIL_OK) {
        atomic_fetch_add(&srv->stats.store_failures, 1);
        vigil__srv_log(srv, "store.error", "escalation state not read again (%s): %s", why,
                       re.msg);
        if (taken == srv->lease_seen && strcmp(why, "lease taken") == 0) {
            srv->lease_seen = taken - 1; /* tried again at the next round */
        }
        if (strcmp(why, "the store refused an escalation write") == 0) {
            srv->esc_resync = true;
        }
        return;
    }
    atomic_fetch_add(&srv->lease.resyncs, 1);
}
