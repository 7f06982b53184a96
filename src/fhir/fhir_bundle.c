/*
 * fhir_bundle.c: the entry points of the FHIR reader. One Observation, or a
 * transaction Bundle of Observations grouped into observation events.
 *
 * A transaction is all-or-nothing (FHIR R4 "transaction": either every
 * entry succeeds or none does): every entry is read and checked before one
 * event is handed out. Observations of the same patient (equal NHS number
 * and equal local id, both possibly empty) at the same instant (Unix ms after
 * time-zone normalisation) form one event, one NEWS2 set; events keep the
 * order in which their first observation appeared.
 *
 * Does not: accept batch, message, document or searchset Bundles, entries
 * other than POST Observation, or Patient resources in the Bundle (patients
 * are referenced, not created, through this interface).
 * Spec: FHIR R4 Bundle (bdl-3: entry.request mandatory for transactions),
 * RESTful API "transaction".
 */
#include <string.h>

#include "fhir_int.h"

#define TRY(expr)                                                                                  \
    do {                                                                                           \
        vigil_status st_ = (expr);                                                                 \
        if (st_ != VIGIL_OK) {                                                                     \
            return st_;                                                                            \
        }                                                                                          \
    } while (0)

/* Expected resource types of an entry point. */
enum { WANT_OBSERVATION = 1, WANT_BUNDLE = 2 };

static vigil_status set_issue(const fhir_ctx *c, vigil_status st, vigil_fhir_issue *issue)
{
    if (st != VIGIL_OK && issue != NULL && c->failed) {
        *issue = c->issue;
    }
    return st;
}

/* resourceType of the root: present, a string, and one we take here. */
static vigil_status root_type(fhir_ctx *c, json_t *root, int want, const char **out)
{
    if (!json_is_object(root)) {
        return vigil__fhir_fail_nopath(c, VIGIL_FHIR_ISSUE_STRUCTURE,
                                       "a FHIR resource must be a JSON object");
    }
    vigil__fhir_set_path(c, "");
    const char *rt = NULL;
    json_t *v = json_object_get(root, "resourceType");
    if (v == NULL) {
        vigil__fhir_set_path(c, "resourceType");
        return vigil__fhir_fail(c, VIGIL_FHIR_ISSUE_REQUIRED,
                                "resourceType is required in a FHIR resource");
    }
    if (!json_is_string(v)) {
        vigil__fhir_set_path(c, "resourceType");
        return vigil__fhir_fail(c, VIGIL_FHIR_ISSUE_STRUCTURE, "resourceType must be a string");
    }
    rt = json_string_value(v);
    bool obs = strcmp(rt, "Observation") == 0;
    bool bundle = strcmp(rt, "Bundle") == 0;
    if ((obs && (want & WANT_OBSERVATION)) || (bundle && (want & WANT_BUNDLE))) {
        *out = rt;
        vigil__fhir_set_path(c, rt);
        return VIGIL_OK;
    }
    vigil__fhir_set_path(c, "resourceType");
    return vigil__fhir_fail(c, VIGIL_FHIR_ISSUE_NOT_SUPPORTED,
                            "resourceType '%.40s' is not accepted here; expected %s", rt,
                            want == WANT_OBSERVATION ? "Observation"
                            : want == WANT_BUNDLE    ? "a transaction Bundle"
                                                     : "Observation or a transaction Bundle");
}

static bool same_set(const vigil_obs_event *a, const vigil_obs_event *b)
{
    return a->t_ms == b->t_ms && strcmp(a->nhs_number, b->nhs_number) == 0 &&
           strcmp(a->mrn, b->mrn) == 0;
}

/* Merge one observation's parameters into its event (REQ FHIR-GROUP). */
static vigil_status merge(fhir_ctx *c, vigil_obs_event *into, unsigned *into_mask,
                          const vigil_obs_event *from, unsigned from_mask)
{
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        unsigned bit = 1u << p;
        if ((from_mask & bit) == 0) {
            continue;
        }
        if ((*into_mask & bit) != 0) {
            if (p == VIGIL_NEWS2_O2 && into->obs.o2 == from->obs.o2) {
                continue; /* e.g. a flow rate and an FiO2 that agree */
            }
            if (p == VIGIL_NEWS2_O2) {
                /* REQ FHIR-O2-CONFLICT */
                return vigil__fhir_fail(c, VIGIL_FHIR_ISSUE_BUSINESS_RULE,
                                        "this observation says the patient is %s, an earlier "
                                        "one in the same set (same patient and time) says %s",
                                        from->obs.o2 == VIGIL_O2_AIR ? "on air" : "on oxygen",
                                        into->obs.o2 == VIGIL_O2_AIR ? "on air" : "on oxygen");
            }
            return vigil__fhir_fail(c, VIGIL_FHIR_ISSUE_DUPLICATE,
                                    "%s is given twice for the same patient and time",
                                    vigil_news2_param_name((vigil_news2_param)p));
        }
        *into_mask |= bit;
        vigil_vital_copy(&into->obs, &from->obs, (vigil_news2_param)p);
    }
    if (into->recorded_by[0] == '\0') {
        memcpy(into->recorded_by, from->recorded_by, sizeof into->recorded_by);
    }
    return VIGIL_OK;
}

/* Check entry.request: POST Observation (REQ FHIR-BUNDLE-ENTRY). */
static vigil_status entry_request(fhir_ctx *c, json_t *entry)
{
    json_t *req = NULL;
    TRY(vigil__fhir_get_object(c, entry, "request", true, &req));
    size_t old = vigil__fhir_push_key(c, "request");
    if (json_object_get(req, "modifierExtension") != NULL) {
        return vigil__fhir_fail_at(c, "modifierExtension", VIGIL_FHIR_ISSUE_EXTENSION,
                                   "modifierExtension is not understood by vigil");
    }
    const char *method = NULL;
    const char *url = NULL;
    TRY(vigil__fhir_get_string(c, req, "method", true, &method));
    TRY(vigil__fhir_get_string(c, req, "url", true, &url));
    if (strcmp(method, "POST") != 0) {
        return vigil__fhir_fail_at(c, "method", VIGIL_FHIR_ISSUE_NOT_SUPPORTED,
                                   "request.method %.20s is not supported; observations are "
                                   "created with POST",
                                   method);
    }
    if (strcmp(url, "Observation") != 0) {
        return vigil__fhir_fail_at(c, "url", VIGIL_FHIR_ISSUE_NOT_SUPPORTED,
                                   "request.url '%.60s' is not supported; expected Observation",
                                   url);
    }
    vigil__fhir_pop(c, old);
    return VIGIL_OK;
}

/* REQ FHIR-BUNDLE-SKIP: an entry with no vital sign vigil uses is left out
 * with a warning (what HL7 does with an unknown result); true when so. */
static bool entry_unused(fhir_ctx *c, json_t *entry, vigil_fhir_issue *out)
{
    json_t *res = json_object_get(entry, "resource");
    json_t *rt = json_object_get(res, "resourceType");
    if (!json_is_object(res) || !json_is_string(rt) ||
        json_object_get(entry, "modifierExtension") != NULL) {
        return false; /* malformed: reported by entry_observation */
    }
    char why[160];
    bool obs = strcmp(json_string_value(rt), "Observation") == 0;
    if (obs && !vigil__fhir_code_unused(res, why, sizeof why)) {
        return false;
    }
    memset(out, 0, sizeof *out);
    out->severity = VIGIL_FHIR_SEV_WARNING;
    out->code = VIGIL_FHIR_ISSUE_NOT_SUPPORTED;
    snprintf(out->expression, sizeof out->expression, "%.120s.resource%s", c->path,
             obs ? ".code" : ".resourceType");
    if (obs) {
        snprintf(out->diagnostics, sizeof out->diagnostics,
                 "not used: Observation %s is not one vigil scores (docs/fhir.md); not stored",
                 why);
    } else {
        snprintf(out->diagnostics, sizeof out->diagnostics,
                 "not used: a %.40s entry; vigil takes Observations of vital signs; not stored",
                 json_string_value(rt));
    }
    return true;
}

/* Read one entry into ev/mask. */
static vigil_status entry_observation(fhir_ctx *c, json_t *entry, vigil_obs_event *ev,
                                      unsigned *mask)
{
    if (!json_is_object(entry)) {
        return vigil__fhir_fail(c, VIGIL_FHIR_ISSUE_STRUCTURE, "a Bundle entry must be an object");
    }
    if (json_object_get(entry, "modifierExtension") != NULL) {
        return vigil__fhir_fail_at(c, "modifierExtension", VIGIL_FHIR_ISSUE_EXTENSION,
                                   "modifierExtension is not understood by vigil");
    }
    const char *full_url = NULL;
    json_t *res = NULL;
    TRY(vigil__fhir_get_string(c, entry, "fullUrl", false, &full_url));
    TRY(vigil__fhir_get_object(c, entry, "resource", true, &res));
    TRY(entry_request(c, entry));
    size_t old = vigil__fhir_push_key(c, "resource");
    const char *rt = NULL;
    TRY(vigil__fhir_get_string(c, res, "resourceType", true, &rt));
    if (strcmp(rt, "Observation") != 0) {
        return vigil__fhir_fail_at(c, "resourceType", VIGIL_FHIR_ISSUE_NOT_SUPPORTED,
                                   "a %.40s entry is not supported; the transaction may hold "
                                   "Observations only",
                                   rt);
    }
    TRY(vigil__fhir_observation(c, res, full_url, ev, mask));
    vigil__fhir_pop(c, old);
    return VIGIL_OK;
}

/* Read every entry and group; on success *out owns the events. */
static vigil_status read_transaction(fhir_ctx *c, json_t *root, vigil_fhir_batch *out)
{
    if (json_object_get(root, "modifierExtension") != NULL ||
        json_object_get(root, "implicitRules") != NULL) {
        const char *k =
            json_object_get(root, "implicitRules") != NULL ? "implicitRules" : "modifierExtension";
        return vigil__fhir_fail_at(c, k, VIGIL_FHIR_ISSUE_NOT_SUPPORTED,
                                   "%s on a Bundle is not supported", k);
    }
    const char *type = NULL;
    TRY(vigil__fhir_get_string(c, root, "type", true, &type));
    if (strcmp(type, "transaction") != 0) {
        /* REQ FHIR-BUNDLE-TRANSACTION */
        return vigil__fhir_fail_at(c, "type", VIGIL_FHIR_ISSUE_NOT_SUPPORTED,
                                   "Bundle type '%.30s' is not supported; send a transaction",
                                   type);
    }
    json_t *entries = NULL;
    TRY(vigil__fhir_get_array(c, root, "entry", false, &entries));
    size_t n = entries != NULL ? json_array_size(entries) : 0;
    if (n > VIGIL_FHIR_MAX_ENTRIES) {
        return vigil__fhir_fail_at(c, "entry", VIGIL_FHIR_ISSUE_TOO_COSTLY,
                                   "the Bundle has %zu entries; vigil takes at most %u per "
                                   "transaction",
                                   n, VIGIL_FHIR_MAX_ENTRIES);
    }
    vigil_obs_event *events = NULL;
    unsigned *masks = NULL;
    vigil_fhir_skip *skips = NULL;
    if (n > 0) {
        events = vigil__fhir_malloc(n * sizeof *events);
        masks = vigil__fhir_malloc(n * sizeof *masks);
        skips = vigil__fhir_malloc(n * sizeof *skips);
        if (events == NULL || masks == NULL || skips == NULL) {
            vigil__fhir_mfree(events);
            vigil__fhir_mfree(masks);
            vigil__fhir_mfree(skips);
            return vigil__fhir_fail(c, VIGIL_FHIR_ISSUE_EXCEPTION, "out of memory");
        }
    }
    size_t n_events = 0, n_skipped = 0;
    vigil_status st = VIGIL_OK;
    size_t old = vigil__fhir_push_key(c, "entry");
    for (size_t i = 0; i < n && st == VIGIL_OK; i++) {
        size_t o2 = vigil__fhir_push_index(c, i);
        vigil_obs_event ev;
        unsigned mask = 0;
        if (json_is_object(json_array_get(entries, i)) &&
            entry_unused(c, json_array_get(entries, i), &skips[n_skipped].issue)) {
            skips[n_skipped++].entry = i;
            vigil__fhir_pop(c, o2);
            continue;
        }
        st = entry_observation(c, json_array_get(entries, i), &ev, &mask);
        if (st != VIGIL_OK) {
            break;
        }
        size_t g = 0;
        while (g < n_events && !same_set(&events[g], &ev)) {
            g++;
        }
        if (g == n_events) {
            events[g] = ev;
            masks[g] = mask;
            n_events++;
        } else {
            /* the expression names the later resource, the one that clashes */
            size_t o3 = vigil__fhir_push_key(c, "resource");
            st = merge(c, &events[g], &masks[g], &ev, mask);
            vigil__fhir_pop(c, o3);
        }
        vigil__fhir_pop(c, o2);
    }
    vigil__fhir_pop(c, old);
    vigil__fhir_mfree(masks);
    if (st == VIGIL_OK && n_events == 0 && n_skipped > 0) {
        /* nothing to store: refused with the first entry's reason */
        vigil__fhir_set_path(c, skips[0].issue.expression);
        st = vigil__fhir_fail(c, VIGIL_FHIR_ISSUE_NOT_SUPPORTED,
                              "no entry holds a vital sign vigil uses; %s",
                              skips[0].issue.diagnostics);
    }
    if (st != VIGIL_OK) {
        vigil__fhir_mfree(events);
        vigil__fhir_mfree(skips);
        return st;
    }
    if (n_skipped == 0) {
        vigil__fhir_mfree(skips);
        skips = NULL;
    }
    out->skipped = skips;
    out->n_skipped = n_skipped;
    out->events = events;
    out->n_events = n_events;
    out->n_entries = n;
    out->transaction = true;
    return VIGIL_OK;
}

static vigil_status parse_any(const char *json, size_t len, int want, vigil_fhir_batch *out,
                              vigil_obs_event *single, vigil_fhir_issue *issue)
{
    fhir_ctx c;
    vigil__fhir_ctx_init(&c, "");
    json_t *root = vigil__fhir_load(&c, json, len);
    if (root == NULL) {
        return set_issue(&c, vigil__fhir_status_of(c.issue.code), issue);
    }
    const char *rt = NULL;
    vigil_status st = root_type(&c, root, want, &rt);
    if (st == VIGIL_OK && strcmp(rt, "Bundle") == 0) {
        vigil_fhir_batch b = {0};
        st = read_transaction(&c, root, &b);
        if (st == VIGIL_OK) {
            *out = b;
        }
    } else if (st == VIGIL_OK) {
        vigil_obs_event ev;
        unsigned mask = 0;
        st = vigil__fhir_observation(&c, root, NULL, &ev, &mask);
        if (st == VIGIL_OK && single != NULL) {
            *single = ev;
        } else if (st == VIGIL_OK) {
            vigil_obs_event *one = vigil__fhir_malloc(sizeof *one);
            if (one == NULL) {
                st = vigil__fhir_fail_nopath(&c, VIGIL_FHIR_ISSUE_EXCEPTION, "out of memory");
            } else {
                *one = ev;
                out->events = one;
                out->n_events = 1;
                out->n_entries = 1;
                out->transaction = false;
            }
        }
    }
    json_decref(root);
    return set_issue(&c, st, issue);
}

vigil_status vigil_fhir_parse_observation(const char *json, size_t len, vigil_obs_event *out,
                                          vigil_fhir_issue *issue)
{
    if (json == NULL || out == NULL) {
        return VIGIL_ERR_ARG;
    }
    return parse_any(json, len, WANT_OBSERVATION, NULL, out, issue);
}

vigil_status vigil_fhir_parse_transaction(const char *json, size_t len, vigil_fhir_batch *out,
                                          vigil_fhir_issue *issue)
{
    if (json == NULL || out == NULL) {
        return VIGIL_ERR_ARG;
    }
    return parse_any(json, len, WANT_BUNDLE, out, NULL, issue);
}

vigil_status vigil_fhir_parse(const char *json, size_t len, vigil_fhir_batch *out,
                              vigil_fhir_issue *issue)
{
    if (json == NULL || out == NULL) {
        return VIGIL_ERR_ARG;
    }
    return parse_any(json, len, WANT_OBSERVATION | WANT_BUNDLE, out, NULL, issue);
}

void vigil_fhir_batch_fini(vigil_fhir_batch *b)
{
    if (b == NULL) {
        return;
    }
    vigil__fhir_mfree(b->events);
    vigil__fhir_mfree(b->skipped);
    memset(b, 0, sizeof *b);
}
