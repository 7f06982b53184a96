/*
 * checkpoint.c: the checkpoint thread. It copies the SQLite write-ahead log
 * into the database file every SRV_CHECKPOINT_MS on a connection of its own
 * (vigil_store_checkpoint: PASSIVE, so it never blocks the writer), and the
 * store thread's connection is opened with VIGIL_STORE_CHECKPOINT_ELSEWHERE,
 * so a group commit no longer stops to do that copy and the database
 * file's fsync after it. If this thread stops or fails, the store thread's
 * connection checkpoints for itself past VIGIL_STORE_WAL_LIMIT_PAGES.
 *
 * Does not: touch srv->store, patients or sockets. Invariants: started
 * after the store thread, stopped after it has ended.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "server_int.h"

void vigil__srv_ckpt_init(vigil_server *srv)
{
    pthread_mutex_init(&srv->ckpt.mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&srv->ckpt.cv, &ca);
    pthread_condattr_destroy(&ca);
}

void vigil__srv_ckpt_fini(vigil_server *srv)
{
    vigil_store_close(srv->ckpt.store);
    srv->ckpt.store = NULL;
    pthread_mutex_destroy(&srv->ckpt.mu);
    pthread_cond_destroy(&srv->ckpt.cv);
}

vigil_status vigil__srv_ckpt_open(vigil_server *srv, vigil_err *err)
{
    return vigil_store_open(srv->db, 0, &srv->ckpt.store, err);
}

static void *ckpt_main(void *arg)
{
    vigil_server *srv = arg;
    vigil_status last = VIGIL_OK;
    pthread_mutex_lock(&srv->ckpt.mu);
    while (!srv->ckpt.stop) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += SRV_CHECKPOINT_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        int rc = 0;
        while (!srv->ckpt.stop && rc != ETIMEDOUT) {
            rc = pthread_cond_timedwait(&srv->ckpt.cv, &srv->ckpt.mu, &ts);
        }
        if (srv->ckpt.stop) {
            break;
        }
        pthread_mutex_unlock(&srv->ckpt.mu);
        vigil_err err = {0};
        vigil_status s = vigil_store_checkpoint(srv->ckpt.store, NULL, NULL, &err);
        if (s != last) { /* once per change, not every SRV_CHECKPOINT_MS */
            if (s != VIGIL_OK) {
                vigil__srv_log(srv, "store.checkpoint", "failed (%s): %s; the store thread "
                               "checkpoints past %d pages", vigil_status_str(s), err.msg,
                               VIGIL_STORE_WAL_LIMIT_PAGES);
            } else {
                vigil__srv_log(srv, "store.checkpoint", "working again");
            }
            last = s;
        }
        atomic_fetch_add(&srv->stats.checkpoints, 1);
        pthread_mutex_lock(&srv->ckpt.mu);
    }
    pthread_mutex_unlock(&srv->ckpt.mu);
    return NULL;
}

vigil_status vigil__srv_ckpt_start(vigil_server *srv, vigil_err *err)
{
    srv->ckpt.stop = false;
    if (pthread_create(&srv->ckpt.thr, NULL, ckpt_main, srv) != 0) {
        return vigil_err_set(err, VIGIL_ERR_INTERNAL, NULL, "cannot start the checkpoint thread");
    }
    srv->ckpt.running = true;
    return VIGIL_OK;
}

void vigil__srv_ckpt_stop(vigil_server *srv)
{
    if (!srv->ckpt.running) {
        return;
    }
    pthread_mutex_lock(&srv->ckpt.mu);
    srv->ckpt.stop = true;
    pthread_cond_signal(&srv->ckpt.cv);
    pthread_mutex_unlock(&srv->ckpt.mu);
    pthread_join(srv->ckpt.thr, NULL);
    srv->ckpt.running = false;
}
