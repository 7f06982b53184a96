/*
 * page_delivery.c: where a page stands after each delivery attempt, and
 * the fallback pages of one that failed for good, decided once for every
 * backend (issue 15 item 1; before, attempt_txn and failed_txn were
 * written in both sq_page.c and pg_page.c).
 *
 * The rules: every attempt is kept and audited, whatever the page's state.
 * A pending page moves on (delivered, failed, or pending again at the
 * retry's next time; the error kept unless delivered); a page no longer
 * pending is left as it is, except one the gateway took while its alert
 * was being acknowledged (cancelled, not a notice, acknowledged): it is
 * delivered after all, and the gateway is told of the acknowledgement like
 * any delivered page. A page that fails for good while still pending
 * queues its alert's fallback pages; one that had moved on does not.
 *
 * Does not: read or write storage itself (the backend's vigil__page_io
 * primitives do, inside the backend's open write transaction), choose the
 * fallback's recipients (the escalation policy, above the store), or check
 * arguments (store.c has).
 */
#include "store_int.h"

vigil_status vigil__page_attempt(const vigil__page_io *io, void *be, const vigil_actor *who,
                                 int64_t id, int64_t t_ms, vigil_store_attempt_outcome outcome,
                                 int64_t next_ms, const char *detail, vigil_err *err)
{
    vigil_store_page pg;
    vigil_status s = io->get(be, id, &pg, err);
    if (s == VIGIL_OK) {
        s = io->attempt_insert(be, id, t_ms, outcome, detail, err);
    }
    if (s != VIGIL_OK) {
        return s;
    }
    bool was_pending = pg.state == VIGIL_STORE_PAGE_PENDING;
    if (was_pending) {
        vigil_store_page_state state = outcome == VIGIL_STORE_ATTEMPT_DELIVERED
                                           ? VIGIL_STORE_PAGE_DELIVERED
                                       : outcome == VIGIL_STORE_ATTEMPT_FAILED
                                           ? VIGIL_STORE_PAGE_FAILED
                                           : VIGIL_STORE_PAGE_PENDING;
        s = io->set_after(be, id, t_ms, state,
                          outcome == VIGIL_STORE_ATTEMPT_DELIVERED ? "" : detail,
                          outcome == VIGIL_STORE_ATTEMPT_RETRY ? next_ms : pg.next_ms, err);
        if (s != VIGIL_OK) {
            return s;
        }
    }
    vigil__audit_ev ev;
    vigil__audit_ev_set(&ev, who, "page.attempt", "page", id, pg.patient_id,
                        "attempt %d to %s via %s: %s%s%s%s", pg.attempts + 1, pg.recipient,
                        vigil__store_channel_names[pg.channel],
                        vigil__store_attempt_names[outcome], detail[0] != '\0' ? " (" : "",
                        detail, detail[0] != '\0' ? ")" : "");
    s = io->audit(be, &ev, err);
    if (s == VIGIL_OK && !was_pending && outcome == VIGIL_STORE_ATTEMPT_DELIVERED &&
        pg.notice_of == 0 && pg.acked_ms != 0 && pg.state == VIGIL_STORE_PAGE_CANCELLED) {
        /* the gateway took it while the alert was being acknowledged: it is delivered after
         * all, and the gateway is told of the acknowledgement like any delivered page */
        s = io->set_late_delivered(be, id, t_ms, err);
        if (s == VIGIL_OK) {
            s = io->ack_notice(be, who, id, t_ms, err);
        }
    }
    /* a page that had moved on: the attempt is kept, and the call succeeds */
    return s;
}

vigil_status vigil__page_failed(const vigil__page_io *io, void *be, const vigil_actor *who,
                                int64_t id, int64_t t_ms, const char *detail,
                                const vigil_store_page_req *fallback, size_t n, vigil_err *err)
{
    vigil_store_page pg;
    vigil_status s = io->get(be, id, &pg, err);
    if (s != VIGIL_OK) {
        return s;
    }
    s = vigil__page_attempt(io, be, who, id, t_ms, VIGIL_STORE_ATTEMPT_FAILED, 0, detail, err);
    if (s != VIGIL_OK || pg.state != VIGIL_STORE_PAGE_PENDING || n == 0) {
        return s;
    }
    return io->queue(be, who, pg.alert_id, pg.patient_id, t_ms, fallback, n, err);
}
