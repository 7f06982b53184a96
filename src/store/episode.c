/*
 * episode.c: when an escalation episode may be opened, superseded or
 * closed, decided once for every backend (issue 15 item 1; before, written
 * in both sq_care.c and pg_care.c).
 *
 * The rules: an episode is opened for a stored patient, with its first
 * alert at the same level and time, audited, and its pages queued in the
 * same transaction (an alert is never stored without the pages the policy
 * asked for, nor pages without their alert). An episode may supersede
 * only an open episode of the same patient (never another patient's:
 * refused, nothing written); the superseded one is closed in the same
 * transaction, its reason naming the new one. Only an open episode can be
 * closed. A patient has at most one open episode of each trigger but
 * Martha's Rule (each call is its own): opening a second one without
 * superseding the first is refused (CONFLICT), which is how two nodes that
 * decided at once, each from its own memory, open one episode, not two
 * (REQ ESC-ONE-EPISODE, issue 15: the patient is locked for the decision;
 * the refused node reads its state again and then knows the episode).
 *
 * Does not: read or write storage itself (the backend's vigil__episode_io
 * primitives do, inside the backend's open write transaction), choose the
 * level or the recipients (the escalation policy, above the store), or
 * check arguments (store.c has).
 */
#include <stdio.h>

#include "store_int.h"

/* An open episode: its patient. NOT_FOUND / CONFLICT (closed). */
static vigil_status open_episode(const vigil__episode_io *io, void *be, int64_t id,
                                 const char *field, int64_t *patient_id, vigil_err *err)
{
    bool found = false, closed = false;
    vigil_status s = io->episode_get(be, id, &found, patient_id, &closed, err);
    if (s != VIGIL_OK) {
        return s;
    }
    if (!found) {
        return vigil_err_set(err, VIGIL_ERR_NOT_FOUND, field, "no episode %lld", (long long)id);
    }
    if (closed) {
        return vigil_err_set(err, VIGIL_ERR_CONFLICT, field, "episode %lld is closed",
                             (long long)id);
    }
    return VIGIL_OK;
}

static vigil_status close_audited(const vigil__episode_io *io, void *be, const vigil_actor *who,
                                  int64_t id, int64_t patient_id, int64_t t_ms, const char *reason,
                                  int64_t superseded_by, vigil_err *err)
{
    vigil_status s = io->episode_close(be, who, id, t_ms, reason, superseded_by, err);
    if (s != VIGIL_OK) {
        return s;
    }
    vigil__audit_ev ev;
    vigil__audit_ev_set(&ev, who, "episode.close", "episode", id, patient_id, "%s", reason);
    return io->audit(be, &ev, err);
}

vigil_status vigil__episode_open(const vigil__episode_io *io, void *be, const vigil_actor *who,
                                 int64_t patient_id, vigil_news2_response level,
                                 vigil_store_trigger trigger, int64_t trigger_ref,
                                 int64_t supersedes_id, int64_t t_ms,
                                 const vigil_store_page_req *pages, size_t n_pages,
                                 int64_t *out_episode_id, int64_t *out_alert_id, vigil_err *err)
{
    vigil_status s = io->patient_exists(be, patient_id, err);
    if (s == VIGIL_OK && supersedes_id != 0) {
        int64_t other = 0;
        s = open_episode(io, be, supersedes_id, "episode_id", &other, err);
        if (s == VIGIL_OK && other != patient_id) {
            s = vigil_err_set(err, VIGIL_ERR_ARG, "supersedes_id",
                              "episode %lld belongs to another patient", (long long)supersedes_id);
        }
    }
    if (s == VIGIL_OK && trigger != VIGIL_STORE_TRIGGER_MARTHAS_RULE) {
        int64_t open_id = 0;
        s = io->open_of_trigger(be, patient_id, trigger, supersedes_id, &open_id, err);
        if (s == VIGIL_OK && open_id != 0) {
            s = vigil_err_set(err, VIGIL_ERR_CONFLICT, "supersedes_id",
                              "patient %lld already has open %s episode %lld (opened by another "
                              "node, or not superseded)",
                              (long long)patient_id, vigil__store_trigger_names[trigger],
                              (long long)open_id);
        }
    }
    if (s != VIGIL_OK) {
        return s;
    }
    int64_t ep = 0, alert = 0;
    s = io->episode_insert(be, who, patient_id, level, trigger, trigger_ref, t_ms, &ep, &alert,
                           err);
    if (s != VIGIL_OK) {
        return s;
    }
    vigil__audit_ev ev;
    vigil__audit_ev_set(&ev, who, "episode.open", "episode", ep, patient_id,
                        "level %s trigger %s ref %lld alert %lld", vigil__store_level_names[level],
                        vigil__store_trigger_names[trigger], (long long)trigger_ref,
                        (long long)alert);
    s = io->audit(be, &ev, err);
    if (s == VIGIL_OK && supersedes_id != 0) {
        char why[64];
        snprintf(why, sizeof why, "superseded by episode %lld", (long long)ep);
        s = close_audited(io, be, who, supersedes_id, patient_id, t_ms, why, ep, err);
    }
    if (s == VIGIL_OK) {
        s = io->queue(be, who, alert, patient_id, t_ms, pages, n_pages, err);
    }
    if (s == VIGIL_OK) {
        *out_episode_id = ep;
        *out_alert_id = alert;
    }
    return s;
}

vigil_status vigil__episode_close(const vigil__episode_io *io, void *be, const vigil_actor *who,
                                  int64_t episode_id, int64_t t_ms, const char *reason,
                                  vigil_err *err)
{
    int64_t patient_id = 0;
    vigil_status s = open_episode(io, be, episode_id, "episode_id", &patient_id, err);
    if (s != VIGIL_OK) {
        return s;
    }
    return close_audited(io, be, who, episode_id, patient_id, t_ms, reason, 0, err);
}
