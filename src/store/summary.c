/*
 * summary.c: the store's non-urgent e-mail summaries: the checks before a
 * backend runs any SQL (store.h "non-urgent e-mail summaries").
 *
 * A summary is queued for a period and an address (the outbox, as pages
 * are), sent by the server's pager through a local SMTP relay, and every
 * attempt is audited. Its content is counts per ward only.
 *
 * Does not: compose or send the e-mail (src/server/summary_mail.c).
 * Spec: docs/store.md "Summaries"; issue 16.
 */
#include <string.h>

#include "store_int.h"
#include "vigil/util.h"

#define T_MAX_MS INT64_C(32503680000000)

static vigil_status need(bool ok, const char *field, const char *msg, vigil_err *err)
{
    return ok ? VIGIL_OK : vigil_err_set(err, VIGIL_ERR_ARG, field, "%s", msg);
}

/* An address a relay can take and a header cannot be split by: one @, no
 * blanks, no control characters, no <>, not too long. */
static bool address_ok(const char *a)
{
    if (a == NULL || a[0] == '\0' || strlen(a) > VIGIL_STORE_NAME_MAX) {
        return false;
    }
    const char *at = strchr(a, '@');
    if (at == NULL || at == a || at[1] == '\0' || strchr(at + 1, '@') != NULL) {
        return false;
    }
    for (const unsigned char *p = (const unsigned char *)a; *p != '\0'; p++) {
        if (*p <= ' ' || *p == 0x7f || *p == '<' || *p == '>' || *p == ',' || *p == ';' ||
            *p == '"' || *p == '\\') {
            return false;
        }
    }
    return true;
}

bool vigil_store_email_address_ok(const char *address)
{
    return address_ok(address);
}

vigil_status vigil_store_summary_last(vigil_store *st, int64_t *out_to_ms, vigil_err *err)
{
    vigil_status r = need(st != NULL && out_to_ms != NULL, "store", "a store and an output", err);
    return r != VIGIL_OK ? r : st->ops->summary_last(st->be, out_to_ms, err);
}

vigil_status vigil_store_summaries_queue(vigil_store *st, const vigil_actor *who,
                                         const char *const *to, size_t n, int64_t from_ms,
                                         int64_t to_ms, vigil_err *err)
{
    vigil_status r = need(st != NULL, "store", "no store given", err);
    if (r == VIGIL_OK) {
        r = vigil__store_check_actor(who, err);
    }
    if (r == VIGIL_OK) {
        r = need(n > 0 && to != NULL && from_ms > 0 && to_ms > from_ms && to_ms < T_MAX_MS,
                 "period", "at least one address and a period that ends after it starts", err);
    }
    for (size_t i = 0; r == VIGIL_OK && i < n; i++) {
        if (!address_ok(to[i])) {
            r = vigil_err_set(err, VIGIL_ERR_ARG, "to", "'%.64s' is not an e-mail address",
                              to[i] != NULL ? to[i] : "");
        }
    }
    return r != VIGIL_OK ? r : st->ops->summaries_queue(st->be, who, to, n, from_ms, to_ms, err);
}

vigil_status vigil_store_summaries_due(vigil_store *st, int64_t now_ms, vigil_store_summary *out,
                                       size_t max, size_t *n, vigil_err *err)
{
    vigil_status r = need(st != NULL && n != NULL && (max == 0 || out != NULL), "store",
                          "a store and an output", err);
    return r != VIGIL_OK ? r : st->ops->summaries_due(st->be, now_ms, out, max, n, err);
}

vigil_status vigil_store_summary_attempt(vigil_store *st, const vigil_actor *who,
                                         int64_t summary_id, int64_t t_ms,
                                         vigil_store_attempt_outcome outcome, int64_t next_ms,
                                         const char *detail, vigil_err *err)
{
    vigil_status r = need(st != NULL, "store", "no store given", err);
    if (r == VIGIL_OK) {
        r = vigil__store_check_actor(who, err);
    }
    if (r == VIGIL_OK) {
        r = need(summary_id > 0 && t_ms > 0 && t_ms < T_MAX_MS &&
                     (unsigned)outcome < VIGIL_STORE_ATTEMPT_OUTCOME_COUNT &&
                     (outcome != VIGIL_STORE_ATTEMPT_RETRY || next_ms >= t_ms) && detail != NULL &&
                     strlen(detail) <= VIGIL_STORE_NAME_MAX,
                 "outcome", "a summary, a time, an outcome and (to retry) a later time", err);
    }
    return r != VIGIL_OK ? r
                         : st->ops->summary_attempt(st->be, who, summary_id, t_ms, outcome,
                                                    next_ms, detail, err);
}

vigil_status vigil_store_ward_summaries(vigil_store *st, int64_t from_ms, int64_t to_ms,
                                        vigil_store_ward_summary *out, size_t max, size_t *n,
                                        vigil_err *err)
{
    vigil_status r = need(st != NULL && n != NULL && (max == 0 || out != NULL) && to_ms > from_ms,
                          "period", "a store, an output and a period", err);
    return r != VIGIL_OK ? r : st->ops->ward_summaries(st->be, from_ms, to_ms, out, max, n, err);
}
