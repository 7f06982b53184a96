/*
 * backends.c: the store's backend registry: which vigil__store_ops a URI
 * opens, by its scheme. One table, filled by the build (each backend is its
 * own CMake target behind an option: VIGIL_STORE_SQLITE, VIGIL_STORE_PG), so
 * adding a backend is one row here and one target, never a new branch in
 * store.c.
 *
 * Does not: parse the rest of the URI (the backend does), or open anything.
 * Invariants: schemes are matched in table order, case-sensitively, up to and
 * including their ':'; a URI with "://" and no registered scheme is refused
 * (VIGIL_ERR_NOT_FOUND) rather than taken for a file name; a URI with no
 * scheme is a path for the backend whose row says plain_paths.
 */
#include <string.h>

#include "store_int.h"

typedef struct store_scheme {
    const char *prefix;          /* "sqlite:" */
    const vigil__store_ops *ops; /* the backend it opens */
    bool strip;                  /* the backend gets the URI after the prefix (else all of it) */
    bool plain_paths;            /* this backend also opens a URI with no scheme (a path) */
} store_scheme;

static const store_scheme schemes[] = {
#ifdef VIGIL_STORE_HAVE_SQLITE
    {.prefix = "sqlite:", .ops = &vigil__sqlite_ops, .strip = true, .plain_paths = true},
    /* a SQLite URI ("file:PATH?mode=ro"), passed on whole */
    {.prefix = "file:", .ops = &vigil__sqlite_ops, .strip = false, .plain_paths = false},
#endif
#ifdef VIGIL_STORE_HAVE_PG
    /* a libpq connection URI, passed on whole (libpq parses both schemes) */
    {.prefix = "postgresql:", .ops = &vigil__pg_ops, .strip = false, .plain_paths = false},
    {.prefix = "postgres:", .ops = &vigil__pg_ops, .strip = false, .plain_paths = false},
#endif
    /* any other store URI, wrapped for fault injection (tests) */
    {.prefix = "faulty:", .ops = &vigil__faulty_ops, .strip = true, .plain_paths = false},
    {.prefix = NULL, .ops = NULL, .strip = false, .plain_paths = false},
};

vigil_status vigil__store_backend_find(const char *uri, const vigil__store_ops **out_ops,
                                       const char **out_target, vigil_err *err)
{
    const store_scheme *plain = NULL;
    for (const store_scheme *s = schemes; s->prefix != NULL; s++) {
        size_t n = strlen(s->prefix);
        if (strncmp(uri, s->prefix, n) == 0) {
            *out_ops = s->ops;
            *out_target = s->strip ? uri + n : uri;
            return VIGIL_OK;
        }
        if (s->plain_paths && plain == NULL) {
            plain = s;
        }
    }
    const char *colon = strchr(uri, ':');
    if (strstr(uri, "://") != NULL && colon != NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOT_FOUND, "uri",
                             "no store backend for scheme '%.*s' in this build",
                             (int)(colon - uri > 32 ? 32 : colon - uri), uri);
    }
    if (plain == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOT_FOUND, "uri",
                             "no store backend in this build opens a plain path ('%s')", uri);
    }
    *out_ops = plain->ops;
    *out_target = uri;
    return VIGIL_OK;
}
