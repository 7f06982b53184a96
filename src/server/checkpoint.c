/*
 * checkpoint.c: the checkpoint thread. It copies the SQLite write-ahead log
 * into the database file on a connection of its own (vigil_store_checkpoint:
 * PASSIVE, so it never blocks the writer), and the store thread's
 * connection is opened with VIGIL_STORE_CHECKPOINT_ELSEWHERE, so a group
 * commit no longer stops to do that copy and the database file's fsync
 * after it. When: once a commit leaves SRV_CHECKPOINT_FRAMES frames in the
 * log (SQLite's own autocheckpoint point; the store thread wakes this one
 * through vigil_store_on_commit), and after SRV_CHECKPOINT_IDLE_MS without
 * one, so a quiet ward's log is copied too. If this thread stops or fails,
 * the store thread's connection checkpoints for itself past
 * VIGIL_STORE_WAL_LIMIT_PAGES.
 *
 * Does not: touch srv->store (but to set its commit callback while the
 * store thread is not running), patients or sockets. Invariants: started
 * before the store thread, stopped after it has ended.
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

/* Store thread, after each commit (vigil_store_on_commit). */
static void on_commit(void *ctx, int log_frames)
{
    vigil_server *srv = ctx;
    if (log_frames < SRV_CHECKPOINT_FRAMES) {
        return;
    }
    pthread_mutex_lock(&srv->ckpt.mu);
    if (!srv->ckpt.wanted) {
        srv->ckpt.wanted = true;
        pthread_cond_signal(&srv->ckpt.cv);
    }
    pthread_mutex_unlock(&srv->ckpt.mu);
}

static void *ckpt_main(void *arg)
{
    vigil_server *srv = arg;
    vigil_status last = VIGIL_OK;
    pthread_mutex_lock(&srv->ckpt.mu);
    while (!srv->ckpt.stop) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += SRV_CHECKPOINT_IDLE_MS / 1000;
        ts.tv_nsec += (SRV_CHECKPOINT_IDLE_MS % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        int rc = 0;
        while (!srv->ckpt.stop && !srv->ckpt.wanted && rc != ETIMEDOUT) {
            rc = pthread_cond_timedwait(&srv->ckpt.cv, &srv->ckpt.mu, &ts);
        }
        if (srv->ckpt.stop) {
            break;
        }
        srv->ckpt.wanted = false;
        pthread_mutex_unlock(&srv->ckpt.mu);
        vigil_err err = {0};
        vigil_status s = vigil_store_checkpoint(srv->ckpt.store, NULL, NULL, &err);
        if (s != last) { /* once per change, not every pass */
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
    srv->ckpt.wanted = false;
    vigil_store_on_commit(srv->store, on_commit, srv); /* before the store thread commits */
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
    vigil_store_on_commit(srv->store, NULL, NULL);
}
