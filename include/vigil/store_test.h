/*
 * store_test.h: test support for the store, for every backend: what a test
 * needs to check rows a call wrote (or did not) without the engine's own
 * client (raw sqlite3 on a file; psql). The conformance suite (tests/store,
 * tests/server) runs against any store URI through these and the store's
 * own reads (docs/store.md, "Conformance and faults").
 *
 * Not for the serving paths: counts are unaudited and the condition is SQL
 * text run as given, so only test code (trusted, never user input) calls
 * this; scripts/check_layering.py refuses it in src/.
 */
#ifndef VIGIL_STORE_TEST_H
#define VIGIL_STORE_TEST_H

#include <stdint.h>

#include "vigil/store.h"

/*
 * *out_n gets the number of rows of table that match where. table is a table
 * of the store's schema (lower-case letters, digits and '_', at most 63
 * bytes: VIGIL_ERR_ARG otherwise); where is an SQL condition in the part of
 * SQL that SQLite and PostgreSQL share (=, <>, AND, OR, IS NULL, LIKE,
 * quoted strings, integers), or NULL / "" for every row. A condition the
 * engine refuses is VIGIL_ERR_ARG or VIGIL_ERR_INTERNAL with the engine's
 * message. Reads committed rows and those of the caller's own open batch;
 * writes nothing, audits nothing. Same thread rules as the store.
 */
vigil_status vigil_store_count_rows(vigil_store *st, const char *table, const char *where,
                                    int64_t *out_n, vigil_err *err);

/*
 * The ward list's and patient view's rows this handle served from memory so
 * far (docs/store.md "The ward list's rows in memory"): a test shows the
 * rows are kept (the count grows on an unchanged second list) and checks them
 * against a store opened with VIGIL_STORE_NO_ROW_CACHE. 0 for NULL.
 */
uint64_t vigil_store_row_cache_hits(const vigil_store *st);

#endif
