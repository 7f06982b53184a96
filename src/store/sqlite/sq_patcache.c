/*
 * sq_patcache.c: the patients this connection has read by NHS number or by
 * hospital number, so each observation set of a busy ward does not read the
 * patient table twice (those two reads were about a tenth of the store
 * thread's time at full ingest; bench/ingest.sh).
 *
 * The cache only ever holds rows as they are stored. It is emptied
 *   - when any patient row changes on this connection (sqlite3_update_hook:
 *     an insert, update or delete, committed or not),
 *   - when a transaction rolls back (sqlite3_rollback_hook) or a savepoint
 *     is rolled back to (sq_core.c calls sq_patcache_clear),
 *   - when another connection has committed since this one last looked
 *     (PRAGMA data_version, read at each BEGIN IMMEDIATE: sq_patcache_sync).
 * So a hit returns exactly what the SELECT would have returned.
 *
 * Does not: audit (reads on behalf of a write are audited by the write) or
 * cache misses (a missing patient is about to be created). 4,096 keys in
 * sets of 4 (each patient has one or two): a full set replaces its entries
 * in turn. About 1 MB once full.
 */
#include <stdlib.h>
#include <string.h>

#include "sqlite_int.h"

#define WAYS 4
#define SETS 1024 /* power of two: 4,096 keys, twice those of 1,000 beds */

typedef struct slot {
    uint32_t gen; /* valid when equal to the cache's generation */
    uint8_t kind; /* SQ_PAT_BY_NHS or SQ_PAT_BY_MRN */
    vigil_patient p;
} slot;

struct sq_patcache {
    uint32_t gen;
    uint8_t next[SETS]; /* the way a full set replaces next */
    slot s[SETS][WAYS];
};

static const char SQL_DATA_VERSION[] = "PRAGMA data_version";

static void update_hook(void *ctx, int op, const char *db, const char *table, sqlite3_int64 row)
{
    (void)op;
    (void)db;
    (void)row;
    if (strcmp(table, "patient") == 0) {
        sq_patcache_clear(ctx);
    }
}

static void rollback_hook(void *ctx)
{
    sq_patcache_clear(ctx);
}

void sq_patcache_attach(sq *q)
{
    sqlite3_update_hook(q->db, update_hook, q);
    sqlite3_rollback_hook(q->db, rollback_hook, q);
}

void sq_patcache_free(sq *q)
{
    free(q->patcache);
    q->patcache = NULL;
}

void sq_patcache_clear(sq *q)
{
    sq_patcache *c = q->patcache;
    if (c == NULL) {
        return;
    }
    if (++c->gen == 0) { /* wrapped: no stale slot may match again */
        memset(c->s, 0, sizeof c->s);
        memset(c->next, 0, sizeof c->next);
        c->gen = 1;
    }
}

vigil_status sq_patcache_sync(sq *q, vigil_err *err)
{
    /* read even while there is no cache, so the first rows cached are
     * checked against the version they were read at */
    sqlite3_stmt *st = NULL;
    vigil_status s = sq_prep(q, SQL_DATA_VERSION, &st, err);
    if (s != VIGIL_OK) {
        return s;
    }
    bool row = false;
    s = sq_step(q, st, &row, "data version", err);
    if (s != VIGIL_OK) {
        return s;
    }
    int64_t v = row ? sq_col_i64(st, 0) : -1;
    sq_done(st);
    if (v != q->data_version || v < 0) {
        sq_patcache_clear(q);
        q->data_version = v;
    }
    return VIGIL_OK;
}

static uint32_t hash(uint8_t kind, const char *key)
{
    uint32_t h = 2166136261u ^ kind; /* FNV-1a */
    for (const unsigned char *k = (const unsigned char *)key; *k != '\0'; k++) {
        h = (h ^ *k) * 16777619u;
    }
    return h & (SETS - 1);
}

static const char *key_of(const vigil_patient *p, uint8_t kind)
{
    return kind == SQ_PAT_BY_NHS ? p->nhs_number : p->mrn;
}

bool sq_patcache_get(sq *q, uint8_t kind, const char *key, vigil_patient *out)
{
    sq_patcache *c = q->patcache;
    if (c == NULL || key[0] == '\0') {
        return false;
    }
    const slot *set = c->s[hash(kind, key)];
    for (int w = 0; w < WAYS; w++) {
        const slot *e = &set[w];
        if (e->gen == c->gen && e->kind == kind && strcmp(key_of(&e->p, kind), key) == 0) {
            *out = e->p;
            return true;
        }
    }
    return false;
}

void sq_patcache_put(sq *q, uint8_t kind, const vigil_patient *p)
{
    if (q->patcache == NULL) {
        q->patcache = calloc(1, sizeof *q->patcache);
        if (q->patcache == NULL) {
            return; /* no cache: every look-up reads the table */
        }
        q->patcache->gen = 1;
    }
    const char *key = key_of(p, kind);
    if (key[0] == '\0') {
        return;
    }
    sq_patcache *c = q->patcache;
    uint32_t h = hash(kind, key);
    slot *set = c->s[h];
    int w = 0;
    while (w < WAYS && set[w].gen == c->gen) {
        w++; /* a free way: one left over from before the last clear */
    }
    if (w == WAYS) {
        w = c->next[h];
        c->next[h] = (uint8_t)((w + 1) % WAYS);
    }
    set[w].gen = c->gen;
    set[w].kind = kind;
    set[w].p = *p;
}
