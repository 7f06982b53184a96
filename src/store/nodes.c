/*
 * nodes.c: several nodes on one store (vigil/store.h "several nodes"): the
 * lease that gives the background work to one node at a time
 * (vigil_store_lease_try) and the change feed that tells a node another one
 * committed (vigil_store_changes). The names are checked here; the lock and
 * the feed are the backend's (lease_try, changes in store_int.h).
 *
 * Does not: decide what runs under a lease or what to read again after a
 * change (src/server/nodes.c). The take-over's audit record is the caller's
 * (vigil_store_audit_lease): taking or keeping a lease writes nothing.
 */
#include <string.h>

#include "store_int.h"

static bool lease_name_ok(const char *name)
{
    size_t n = name != NULL ? strlen(name) : 0;
    if (n == 0 || n > VIGIL_STORE_LEASE_NAME_MAX) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.')) {
            return false;
        }
    }
    return true;
}

vigil_status vigil_store_lease_try(vigil_store *st, const char *name, bool *out_held,
                                   vigil_err *err)
{
    if (out_held != NULL) {
        *out_held = false;
    }
    if (st == NULL || out_held == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, NULL, "vigil_store_lease_try: NULL argument");
    }
    if (!lease_name_ok(name)) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "name", "not a lease's name: '%.63s'",
                             name != NULL ? name : "");
    }
    if (st->in_batch) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "store", "a lease is not taken inside a batch");
    }
    bool held = false;
    vigil_status s = st->ops->lease_try(st->be, name, &held, err);
    *out_held = s == VIGIL_OK && held;
    return s;
}

vigil_status vigil_store_changes(vigil_store *st, int64_t *out, vigil_err *err)
{
    if (st == NULL || out == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, NULL, "vigil_store_changes: NULL argument");
    }
    if (st->in_batch) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "store", "the change feed is read outside a batch");
    }
    return st->ops->changes(st->be, out, err);
}

vigil_status vigil_store_audit_lease(vigil_store *st, const vigil_actor *who, const char *detail,
                                     vigil_err *err)
{
    if (st == NULL || detail == NULL || detail[0] == '\0') {
        return vigil_err_set(err, VIGIL_ERR_ARG, "detail", "vigil_store_audit_lease: no detail");
    }
    vigil_status s = vigil__store_check_actor(who, err);
    if (s != VIGIL_OK) {
        return s;
    }
    vigil__audit_ev ev;
    vigil__audit_ev_set(&ev, who, "lease.taken", "lease", 0, 0, "%s", detail);
    return st->ops->audit_event(st->be, &ev, err);
}
