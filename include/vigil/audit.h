/*
 * vigil/audit.h: the audit trail of a vigil store. Every write and every
 * read of patient data appends one record (who, what action, which patient
 * and entity, when, why) in the same transaction as the data it records.
 *
 * Records form a hash chain: record i carries seq = i (1, 2, 3, ... with no
 * gaps), prev_hash = hash of record i-1 (32 zero bytes for record 1) and
 *     hash_i = SHA-256(hash_{i-1} || canonical(record i))
 * where canonical() is the fixed-order, length-prefixed encoding in
 * docs/store.md ("vigil-audit-v1"). The store also keeps the chain's head
 * (last seq and hash), so removing the newest records is detected too.
 *
 * What it does not do: stop someone who can rewrite the whole database from
 * recomputing every hash. Against that, publish the head
 * (vigil_audit_head) somewhere else and compare (docs/store.md).
 *
 * Thread safety: as vigil/store.h; vigil_audit_hash is reentrant.
 */
#ifndef VIGIL_AUDIT_H
#define VIGIL_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/status.h"
#include "vigil/store.h"

#define VIGIL_AUDIT_HASH_LEN 32
#define VIGIL_AUDIT_WORD_MAX 32  /* action and entity names, with NUL */
#define VIGIL_AUDIT_TEXT_MAX 256 /* reason and detail, with NUL */

typedef struct vigil_audit_record {
    int64_t seq;                       /* 1, 2, 3, ... */
    int64_t t_ms;                      /* when, Unix ms UTC */
    char actor[VIGIL_ID_MAX];          /* who: user or service */
    char action[VIGIL_AUDIT_WORD_MAX]; /* "obs.put", "patient.read", ... */
    char entity[VIGIL_AUDIT_WORD_MAX]; /* "obs_set", "patient", ... */
    int64_t entity_id;                 /* 0 when none */
    int64_t patient_id;                /* 0 when not about one patient */
    char reason[VIGIL_AUDIT_TEXT_MAX]; /* why (the actor's stated purpose) */
    char detail[VIGIL_AUDIT_TEXT_MAX]; /* what, briefly ("source=hl7 id=MSG1") */
    uint8_t prev_hash[VIGIL_AUDIT_HASH_LEN];
    uint8_t hash[VIGIL_AUDIT_HASH_LEN];
} vigil_audit_record;

/*
 * Compute SHA-256(prev || canonical(r)) into out (r->prev_hash and r->hash
 * are not read). VIGIL_ERR_ARG when a text field is not NUL-terminated
 * within its buffer; VIGIL_ERR_INTERNAL if libcrypto fails.
 */
vigil_status vigil_audit_hash(const uint8_t prev[VIGIL_AUDIT_HASH_LEN], const vigil_audit_record *r,
                              uint8_t out[VIGIL_AUDIT_HASH_LEN], vigil_err *err);

/*
 * Write canonical(r) into buf (cap bytes); *out_len gets its length.
 * VIGIL_ERR_ARG when it does not fit (it never exceeds 1024 bytes).
 */
vigil_status vigil_audit_canonical(const vigil_audit_record *r, uint8_t *buf, size_t cap,
                                   size_t *out_len, vigil_err *err);

typedef enum vigil_audit_problem {
    VIGIL_AUDIT_OK = 0,
    VIGIL_AUDIT_CHANGED,   /* a record's fields no longer give its hash */
    VIGIL_AUDIT_GAP,       /* a sequence number is missing: records removed */
    VIGIL_AUDIT_LINK,      /* prev_hash is not the previous record's hash:
                              records removed and renumbered, or reordered */
    VIGIL_AUDIT_TRUNCATED, /* the newest records were removed (head disagrees) */
    VIGIL_AUDIT_ROW,       /* a clinical row no longer holds the content its audit
                              record hashed (REQ STORE-AUDIT-ROW-CONTENT) */
    VIGIL_AUDIT_PROBLEM_COUNT
} vigil_audit_problem;

/* "ok", "record changed", "sequence gap", "broken link", "truncated", "row changed". */
const char *vigil_audit_problem_name(vigil_audit_problem p);

typedef struct vigil_audit_report {
    bool ok;
    int64_t n_records; /* records walked */
    int64_t bad_seq;   /* the first bad record's seq (0 when ok) */
    vigil_audit_problem problem;
    char detail[VIGIL_ERR_MSG_MAX];
    uint8_t head[VIGIL_AUDIT_HASH_LEN]; /* hash of the last record walked */
} vigil_audit_report;

/*
 * Walk the whole chain in one read transaction and report the first bad
 * record. Returns VIGIL_OK when the walk completed (report->ok says whether
 * the chain holds), or an error when the records could not be read.
 * Not itself audited (it reads audit metadata, not patient data).
 */
vigil_status vigil_audit_verify(vigil_store *st, vigil_audit_report *out, vigil_err *err);

/* The chain's head as the store records it: last seq (0 for an empty chain)
 * and its hash, for anchoring outside the database. */
vigil_status vigil_audit_head(vigil_store *st, int64_t *out_seq,
                              uint8_t out_hash[VIGIL_AUDIT_HASH_LEN], vigil_err *err);

/*
 * Read up to max records with seq >= from_seq, in order, into out; *out_n
 * gets the count. Reading the trail is itself audited ("audit.read").
 */
vigil_status vigil_audit_read(vigil_store *st, const vigil_actor *who, int64_t from_seq,
                              vigil_audit_record *out, size_t max, size_t *out_n, vigil_err *err);

#endif
