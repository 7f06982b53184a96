/*
 * store_test.c: vigil/store_test.h, the store's test support: the argument
 * checks, then the backend's count_rows. Kept out of store.c: nothing on
 * the serving paths calls it.
 */
#include <string.h>

#include "store_int.h"
#include "vigil/store_test.h"
#include "wardlist_int.h"

/* A table name the backend may put in its SQL as it is. */
static bool table_name_ok(const char *t)
{
    size_t n = t != NULL ? strlen(t) : 0;
    if (n == 0 || n > 63) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = t[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
            return false;
        }
    }
    return true;
}

vigil_status vigil_store_count_rows(vigil_store *st, const char *table, const char *where,
                                    int64_t *out_n, vigil_err *err)
{
    if (st == NULL || out_n == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, NULL, "vigil_store_count_rows: no store or output");
    }
    if (!table_name_ok(table)) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "table", "not a table name: '%.63s'",
                             table != NULL ? table : "");
    }
    if (where != NULL && where[0] == '\0') {
        where = NULL;
    }
    return st->ops->count_rows(st->be, table, where, out_n, err);
}

uint64_t vigil_store_row_cache_hits(const vigil_store *st)
{
    return st != NULL ? vigil__wl_hits(st) : 0;
}
