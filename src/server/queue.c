/*
 * queue.c: the queue to the store thread and the store thread itself.
 *
 * The store thread takes everything queued at once and works through it in
 * arrival order. Consecutive jobs that carry observation sets from the same
 * actor form one group commit (at most cfg.max_batch jobs): while a commit is
 * in flight new messages queue up, and the next round commits all of them in
 * one transaction, so the commit rate adapts to the load (one fsync per
 * group, not per message). Any other job (an ADT event, an HTTP request's
 * work, a refusal) ends the group before it and runs on its own, so order
 * is kept: an admission sent before an observation is stored before it.
 * The escalation policy's writes and the AI's scores go into a background
 * transaction after the ACKs (at most every SRV_BACKGROUND_MS while busy, at
 * once when idle, before any HTTP request); the escalation timer (every
 * cfg.tick_ms) marks patients for it and fsyncs the ward list's read
 * audits when no synchronous commit has since.
 *
 * Fairness between HL7 connections (REQ SERVER-MLLP-FAIR, issue 12's
 * soak): a round takes at most SRV_ROUND_PER_CONN messages of each
 * connection, in arrival order, and keeps the rest (in order) for the next
 * round, ahead of what arrives meanwhile. A peer that pipelines hundreds of
 * messages (finding 2: up to cfg.mllp_ack_backlog in flight) then delays
 * another sender's message by a round or two of 32 sets, not by its whole
 * backlog: a message that arrives while a round is being stored cannot be
 * taken into it, so the cap holds with one connection busy too. Within a
 * round, connections with at most SRV_ROUND_LIGHT messages in it (and every
 * other kind of job) go before the heavier ones (flat-out
 * ingest over one connection: 17,156 sets/s against 17,825 with rounds of
 * cfg.max_batch, `RATES=1000 SECONDS_PER_RATE=5 bash bench/ingest.sh build`;
 * soak with finding 2's peer alone, honest p99 ACK 52 -> 15 ms). Each
 * connection's messages keep their order.
 *
 * Does not: touch sockets. Invariants: a job is completed (ACK handed back,
 * waiter woken) only after its work committed or was refused; the thread
 * ends only when the queue is closed and empty.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server_int.h"

void vigil__srv_job_init_call(srv_job *job)
{
    memset(job, 0, sizeof *job);
    job->kind = SRV_JOB_CALL;
    pthread_mutex_init(&job->mu, NULL);
    pthread_cond_init(&job->cv, NULL);
}

void vigil__srv_job_fini_call(srv_job *job)
{
    pthread_mutex_destroy(&job->mu);
    pthread_cond_destroy(&job->cv);
}

void vigil__srv_job_free_hl7(srv_job *job)
{
    if (job == NULL) {
        return;
    }
    free(job->hl7);
    free(job->ack);
    vigil__srv_ingest_free(job->ing);
    free(job);
}

static bool submit(vigil_server *srv, srv_job *job, bool internal)
{
    job->next = NULL;
    pthread_mutex_lock(&srv->q_mu);
    if (internal ? srv->q_exited : srv->q_closed) {
        pthread_mutex_unlock(&srv->q_mu);
        return false;
    }
    if (srv->q_tail != NULL) {
        srv->q_tail->next = job;
    } else {
        srv->q_head = job;
    }
    srv->q_tail = job;
    pthread_cond_signal(&srv->q_cv);
    pthread_mutex_unlock(&srv->q_mu);
    return true;
}

bool vigil__srv_submit(vigil_server *srv, srv_job *job)
{
    return submit(srv, job, false);
}

bool vigil__srv_submit_internal(vigil_server *srv, srv_job *job)
{
    return submit(srv, job, true);
}

bool vigil__srv_call(vigil_server *srv, srv_job *job)
{
    job->done = false;
    if (!vigil__srv_submit(srv, job)) {
        return false;
    }
    pthread_mutex_lock(&job->mu);
    while (!job->done) {
        pthread_cond_wait(&job->cv, &job->mu);
    }
    pthread_mutex_unlock(&job->mu);
    return true;
}

/* Hand a job back: HL7 to the MLLP thread (which builds its ACK), calls to
 * their waiting thread. */
static void complete(vigil_server *srv, srv_job *job)
{
    if (job->kind == SRV_JOB_HL7) {
        vigil__srv_hl7_done(srv, job);
        return;
    }
    pthread_mutex_lock(&job->mu);
    job->done = true;
    pthread_cond_signal(&job->cv);
    pthread_mutex_unlock(&job->mu);
}

static bool same_actor(const srv_ingest *a, const srv_ingest *b)
{
    return strcmp(a->who_user, b->who_user) == 0 && strcmp(a->who_reason, b->who_reason) == 0;
}

typedef struct round {
    srv_job **group;
    size_t n, cap;
} round;

static void flush(vigil_server *srv, round *r)
{
    if (r->n == 0) {
        return;
    }
    vigil__srv_ingest_commit(srv, r->group, r->n);
    for (size_t i = 0; i < r->n; i++) {
        srv_job *job = r->group[i];
        if (job->kind == SRV_JOB_CALL && job->run != NULL) {
            job->run(srv, job); /* the response, from what was committed */
        }
        complete(srv, job);
    }
    r->n = 0;
}

/* Work through one round of jobs in arrival order. */
static void work(vigil_server *srv, srv_job *list, round *r)
{
    while (list != NULL) {
        srv_job *job = list;
        list = list->next;
        job->next = NULL;
        if (job->ing != NULL) {
            if (r->n > 0 && (r->n == r->cap || !same_actor(r->group[0]->ing, job->ing))) {
                flush(srv, r);
            }
            r->group[r->n++] = job;
            continue;
        }
        flush(srv, r);
        if (job->kind == SRV_JOB_AI) {
            vigil__srv_ai_accept(srv, job); /* frees it: stored in the background */
            continue;
        }
        if (job->kind == SRV_JOB_HL7) {
            vigil__srv_hl7_prepare(srv, job);
        } else if (job->run != NULL) {
            /* a request sees every alert the data so far gives */
            vigil__srv_esc_run_due(srv, vigil__srv_now_ms());
            job->run(srv, job);
        }
        complete(srv, job);
    }
    flush(srv, r);
}

/* The messages a round takes from one connection while others wait too. */
#define SRV_ROUND_PER_CONN 32
/* A connection with at most this many messages in a round goes first. */
#define SRV_ROUND_LIGHT 4

/* Per-connection counts of one round (indexed by the job's slot). */
typedef struct fair {
    uint32_t *stamp; /* the round a slot's count belongs to */
    uint32_t *count;
    size_t n;
    uint32_t round;
    srv_job *kept, *kept_tail; /* held over to the next round, in order */
} fair;

static bool fair_capped(const fair *f, const srv_job *job)
{
    return job->kind == SRV_JOB_HL7 && job->slot < f->n;
}

static void push(srv_job **head, srv_job **tail, srv_job *job)
{
    job->next = NULL;
    if (*tail != NULL) {
        (*tail)->next = job;
    } else {
        *head = job;
    }
    *tail = job;
}

/* This round's jobs from what was kept and what arrived (kept first); what
 * goes over a connection's share is kept for the next round. Without the
 * count arrays (out of memory at start) every job is taken, as before. */
static srv_job *fair_round(fair *f, srv_job *arrived)
{
    srv_job *all = f->kept;
    if (f->kept_tail != NULL) {
        f->kept_tail->next = arrived;
    } else {
        all = arrived;
    }
    f->kept = f->kept_tail = NULL;
    if (f->stamp == NULL) {
        return all;
    }
    f->round++;
    srv_job *take = NULL, *take_tail = NULL;
    while (all != NULL) {
        srv_job *job = all;
        all = all->next;
        if (fair_capped(f, job)) {
            if (f->stamp[job->slot] != f->round) {
                f->stamp[job->slot] = f->round;
                f->count[job->slot] = 0;
            }
            if (f->count[job->slot] >= SRV_ROUND_PER_CONN) {
                push(&f->kept, &f->kept_tail, job);
                continue;
            }
            f->count[job->slot]++;
        }
        push(&take, &take_tail, job);
    }
    /* then the round's light connections (at most SRV_ROUND_LIGHT messages
     * in it: a ward device, a nurse's request) before the heavy ones, each
     * class in arrival order: a connection's messages are all in one class,
     * so their order holds, and a single message does not wait for a
     * pipeliner's share to be stored and committed first */
    srv_job *light = NULL, *light_tail = NULL, *heavy = NULL, *heavy_tail = NULL;
    while (take != NULL) {
        srv_job *job = take;
        take = take->next;
        if (fair_capped(f, job) && f->count[job->slot] > SRV_ROUND_LIGHT) {
            push(&heavy, &heavy_tail, job);
        } else {
            push(&light, &light_tail, job);
        }
    }
    if (light_tail == NULL) {
        return heavy;
    }
    light_tail->next = heavy;
    return light;
}

static void deadline(struct timespec *ts, int64_t ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += (time_t)(ms / 1000);
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* REQ STORE-READ-AUDIT-SYNC: the ward list's audit records are committed
 * without an fsync of their own; the next synchronous commit or this, every
 * tick and at the end, puts them on the disk. */
static void sync_reads(vigil_server *srv)
{
    vigil_err err = {0};
    if (vigil_store_sync(srv->store, &err) != VIGIL_OK) {
        vigil__srv_log(srv, "store.error", "read audit not synced: %s", err.msg);
    }
}

void *vigil__srv_store_main(void *arg)
{
    vigil_server *srv = arg;
    round r = {NULL, 0, srv->cfg.max_batch};
    r.group = calloc(r.cap, sizeof *r.group);
    if (r.group == NULL) {
        r.cap = 1;
        r.group = calloc(1, sizeof *r.group);
    }
    fair fr = {0};
    fr.n = srv->cfg.max_mllp_conns;
    fr.stamp = calloc(fr.n, sizeof *fr.stamp);
    fr.count = calloc(fr.n, sizeof *fr.count);
    if (fr.stamp == NULL || fr.count == NULL) { /* no fairness, never a lost job */
        free(fr.stamp);
        free(fr.count);
        fr.stamp = fr.count = NULL;
    }
    for (;;) {
        pthread_mutex_lock(&srv->q_mu);
        /* finishing waits for the AI's results still to come (ai_worker.c) */
        if (srv->q_head == NULL && fr.kept == NULL &&
            !(srv->q_finish && vigil__srv_ai_idle(srv))) {
            struct timespec ts;
            deadline(&ts, srv->cfg.tick_ms);
            int rc = 0;
            while (srv->q_head == NULL && !(srv->q_finish && vigil__srv_ai_idle(srv)) &&
                   rc != ETIMEDOUT) {
                rc = pthread_cond_timedwait(&srv->q_cv, &srv->q_mu, &ts);
            }
        }
        srv_job *list = srv->q_head;
        srv->q_head = srv->q_tail = NULL;
        bool finish =
            srv->q_finish && list == NULL && fr.kept == NULL && vigil__srv_ai_idle(srv);
        pthread_mutex_unlock(&srv->q_mu);
        list = fair_round(&fr, list);
        /* other nodes' alerts, repeats and acknowledgements, and the state
         * after this node took the background work, before the round sees
         * them (nodes.c) */
        vigil__srv_nodes_follow(srv);
        if (list != NULL && r.group != NULL) {
            work(srv, list, &r);
        }
        int64_t now = vigil__srv_now_ms();
        if (now - srv->last_tick_ms >= srv->cfg.tick_ms || now < srv->last_tick_ms) {
            srv->last_tick_ms = now;
            /* the timers run on the node holding the lease, once it has read
             * the state the other nodes left (REQ NODES-ONE-TIMER) */
            if (vigil__srv_lease_held(srv) &&
                srv->lease_seen == atomic_load(&srv->lease.taken)) {
                vigil__srv_esc_tick(srv, now); /* marks patients due */
            }
            vigil__srv_denials_flush(srv, now, false); /* minutes that are over */
            sync_reads(srv);
        }
        /* the background transaction: at most every SRV_BACKGROUND_MS while
         * messages keep coming, at once when the queue is empty */
        if (vigil__srv_background_pending(srv)) {
            pthread_mutex_lock(&srv->q_mu);
            bool idle = srv->q_head == NULL && fr.kept == NULL;
            pthread_mutex_unlock(&srv->q_mu);
            if (idle || now - srv->last_background_ms >= SRV_BACKGROUND_MS ||
                now < srv->last_background_ms) {
                srv->last_background_ms = now;
                vigil__srv_esc_run_due(srv, now);
            }
        }
        if (finish && !vigil__srv_background_pending(srv)) {
            vigil__srv_denials_flush(srv, now, true); /* HTTP has stopped: no more come */
            sync_reads(srv);
            /* only this thread queues AI work, and none is outstanding: no
             * internal job can be on its way */
            pthread_mutex_lock(&srv->q_mu);
            srv->q_exited = true;
            pthread_mutex_unlock(&srv->q_mu);
            break;
        }
    }
    free(r.group);
    free(fr.stamp);
    free(fr.count);
    return NULL;
}
