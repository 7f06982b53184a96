/*
 * secret.c: vigil_store_secret_ensure, the store's secrets (vigil/store.h
 * "secrets shared by the nodes"): the name and length checked here, the
 * store-once done by the backend's secret_ensure (atomic across every
 * connection, process and node of one database).
 *
 * Does not: make the candidate (the caller's random bytes, or a key it kept
 * elsewhere before), audit (no patient data), or ever change or remove a
 * stored secret.
 */
#include <sodium.h>
#include <string.h>

#include "store_int.h"

/* A name the backends store as it is: a-z, 0-9, '-' and '.'. */
static bool secret_name_ok(const char *name)
{
    size_t n = name != NULL ? strlen(name) : 0;
    if (n == 0 || n > VIGIL_STORE_SECRET_NAME_MAX) {
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

/* REQ STORE-SECRET-ONCE */
vigil_status vigil_store_secret_ensure(vigil_store *st, const char *name, const uint8_t *candidate,
                                       size_t len, uint8_t *out, vigil_err *err)
{
    if (st == NULL || candidate == NULL || out == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, NULL,
                             "vigil_store_secret_ensure: a store, a candidate and an output");
    }
    if (!secret_name_ok(name)) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "name", "not a secret's name: '%.63s'",
                             name != NULL ? name : "");
    }
    if (len == 0 || len > VIGIL_STORE_SECRET_MAX) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "len", "a secret is 1 to %d bytes, not %zu",
                             VIGIL_STORE_SECRET_MAX, len);
    }
    uint8_t got[VIGIL_STORE_SECRET_MAX];
    size_t n = 0;
    vigil_status s = st->ops->secret_ensure(st->be, name, candidate, len, got, &n, err);
    if (s == VIGIL_OK && n != len) {
        s = vigil_err_set(err, VIGIL_ERR_MISMATCH, "len",
                          "the store's secret '%s' is %zu bytes, not %zu", name, n, len);
    }
    if (s == VIGIL_OK) {
        memcpy(out, got, len);
    }
    sodium_memzero(got, sizeof got);
    return s;
}
