/*
 * grow_text.c: a text grown as needed, for the statements and parameters a
 * backend writes at run time (the copy's statements on both backends,
 * PostgreSQL's audit-row arrays). Memory running out is remembered, not
 * returned from each append: the caller checks t->failed once at the end.
 *
 * Does not: know SQL beyond a double-quoted identifier and the copy's
 * walk (the same statement on every backend).
 */
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

void vigil__text_put(vigil__text *t, const char *p, size_t n)
{
    if (t->failed) {
        return;
    }
    if (t->len + n + 1 > t->cap) {
        size_t cap = (t->cap == 0 ? 256 : t->cap * 2) + n;
        char *s = realloc(t->s, cap);
        if (s == NULL) {
            t->failed = true;
            return;
        }
        t->s = s;
        t->cap = cap;
    }
    memcpy(t->s + t->len, p, n);
    t->len += n;
    t->s[t->len] = '\0';
}

void vigil__text_str(vigil__text *t, const char *p)
{
    vigil__text_put(t, p, strlen(p));
}

void vigil__text_ident(vigil__text *t, const char *name)
{
    vigil__text_str(t, "\"");
    vigil__text_str(t, name);
    vigil__text_str(t, "\"");
}

void vigil__copy_select_sql(vigil__text *sql, const vigil__copy_table *t)
{
    vigil__text_str(sql, "SELECT ");
    for (size_t c = 0; c < t->n_cols; c++) {
        vigil__text_str(sql, c > 0 ? ", " : "");
        vigil__text_ident(sql, t->cols[c]);
    }
    vigil__text_str(sql, " FROM ");
    vigil__text_ident(sql, t->name);
    vigil__text_str(sql, " ORDER BY ");
    vigil__text_str(sql, t->order);
}
