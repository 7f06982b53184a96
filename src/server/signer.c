/*
 * signer.c: sign-ins off the HTTP threads (issue 12 finding 8, the second
 * half). argon2id costs ~70 ms and 64 MiB per sign-in; run on an HTTP
 * thread it held that thread, so with two threads a few sign-ins made
 * /health and the ward list wait. Now http.c suspends the sign-in's
 * connection (libmicrohttpd's suspend/resume), queues it here, and returns
 * the thread to other requests; this one thread runs the sign-ins in turn
 * (auth.c, vigil__srv_h_login) and resumes each connection to send its answer.
 *
 * At most cfg.signins_in_flight sign-ins are queued or running; a further
 * one is refused at once (503, counted: the caller's job), as is one that
 * comes while the server stops. Stopping drains the queue: every connection
 * suspended here is resumed before libmicrohttpd stops.
 *
 * Does not: look at the request (the job's run does) or own its memory (the
 * job lives in the request's context until run has resumed it).
 */
#include <errno.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "server_int.h"

/* The sign-in thread's nice value: argon2id is the one CPU-bound job in the
 * server, and a flood of sign-ins (issue 12 finding 8) kept a core busy
 * beside HL7 ingest; below the clinical threads, a sign-in waits for the CPU
 * only while ingest and the API need it. */
#define SIGNER_NICE 10

static void *signer_main(void *arg)
{
    vigil_server *srv = arg;
    srv_signer *q = &srv->signer;
    /* Linux: a thread's nice is its own (tid); raising it needs no privilege.
     * SIGNER_NICE above the process's own (a server started under nice keeps
     * the gap). A failure leaves the thread at the process's priority. */
    id_t tid = (id_t)syscall(SYS_gettid);
    errno = 0;
    int base = getpriority(PRIO_PROCESS, tid); /* the process's nice, inherited */
    if (errno == 0) {
        int level = base + SIGNER_NICE > 19 ? 19 : base + SIGNER_NICE;
        (void)setpriority(PRIO_PROCESS, tid, level);
    }
    (void)prctl(PR_SET_NAME, "vigil-signer", 0, 0, 0);
    /* argon2id's 64 MiB, reserved once: the server's memory stays flat
     * through a flood of sign-ins (password.c says why) */
    vigil_err err = {0};
    if (vigil_password_scratch_reserve(&err) != VIGIL_OK) {
        vigil__srv_log(srv, "auth.memory", "sign-ins allocate per check: %s", err.msg);
    }
    for (;;) {
        pthread_mutex_lock(&q->mu);
        /* a place reserved but not yet pushed keeps the thread: its
         * connection is about to be suspended and must be resumed */
        while (q->head == NULL && !(q->stop && q->n == 0)) {
            pthread_cond_wait(&q->cv, &q->mu);
        }
        srv_signin *s = q->head;
        if (s == NULL) { /* stopping, and nothing is left or reserved */
            pthread_mutex_unlock(&q->mu);
            vigil_password_scratch_release();
            return NULL;
        }
        q->head = s->next;
        if (q->head == NULL) {
            q->tail = NULL;
        }
        pthread_mutex_unlock(&q->mu);
        s->run(srv, s); /* calls vigil__srv_signer_done, then resumes the
                           connection: s may be gone after it */
    }
}

bool vigil__srv_signer_reserve(vigil_server *srv)
{
    srv_signer *q = &srv->signer;
    pthread_mutex_lock(&q->mu);
    bool ok = q->running && !q->stop && q->n < srv->cfg.signins_in_flight;
    if (ok) {
        q->n++;
    }
    pthread_mutex_unlock(&q->mu);
    return ok;
}

void vigil__srv_signer_done(vigil_server *srv)
{
    srv_signer *q = &srv->signer;
    pthread_mutex_lock(&q->mu);
    q->n--;
    pthread_mutex_unlock(&q->mu);
}

void vigil__srv_signer_push(vigil_server *srv, srv_signin *s)
{
    srv_signer *q = &srv->signer;
    s->next = NULL;
    pthread_mutex_lock(&q->mu);
    if (q->tail != NULL) {
        q->tail->next = s;
    } else {
        q->head = s;
    }
    q->tail = s;
    pthread_cond_signal(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

void vigil__srv_signer_init(srv_signer *q)
{
    memset(q, 0, sizeof *q);
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv, NULL);
}

void vigil__srv_signer_fini(srv_signer *q)
{
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->cv);
}

vigil_status vigil__srv_signer_start(vigil_server *srv, vigil_err *err)
{
    srv_signer *q = &srv->signer;
    if (pthread_create(&q->thr, NULL, signer_main, srv) != 0) {
        return vigil_err_set(err, VIGIL_ERR_INTERNAL, NULL, "cannot start the sign-in thread");
    }
    pthread_mutex_lock(&q->mu);
    q->running = true;
    pthread_mutex_unlock(&q->mu);
    return VIGIL_OK;
}

void vigil__srv_signer_stop(vigil_server *srv)
{
    srv_signer *q = &srv->signer;
    pthread_mutex_lock(&q->mu);
    bool was = q->running;
    q->stop = true;
    pthread_cond_signal(&q->cv);
    pthread_mutex_unlock(&q->mu);
    if (was) {
        pthread_join(q->thr, NULL); /* after the queue is drained */
        q->running = false;
    }
}
