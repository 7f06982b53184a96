/*
 * fhir_emit.c: the FHIR R4 JSON vigil sends back: OperationOutcome,
 * vital-sign Observations, the NEWS2 total Observation, searchset and
 * transaction-response Bundles.
 *
 * Builds jansson trees from plain C structs and writes them compact with its
 * own serialiser (finish()), keys in FHIR's usual order (resourceType
 * first). Numbers: integral values are JSON integers, others at most 15
 * significant digits, so 36.8 is written 36.8, not 36.799999999999997.
 *
 * Does not: store, number or look up anything; ids are derived from the
 * caller's event id. Does not write a narrative (text): consumers render.
 *
 * Clinical invariant (REQ FHIR-NEWS2-INCOMPLETE): a NEWS2 total from an
 * incomplete set is written with valueQuantity.comparator ">=" (a modifier,
 * so no consumer may read it as an exact total), an "incomplete"
 * interpretation and a note naming the missing parameters; each missing
 * sub-score is a component with dataAbsentReason, never 0.
 * Spec: FHIR R4 Observation, Bundle (searchset, transaction-response),
 * OperationOutcome; R4 vital-signs profiles (resprate, heartrate, oxygensat,
 * bodytemp); UK Core UKCore-Observation-ACVPU, -InspiredOxygen,
 * -EarlyWarningTotalScore and ValueSet UKCore-EarlyWarningSubScore.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fhir_int.h"

/* Tracks allocation failure across a tree build: every helper is a no-op
 * once a step failed, so a build reads straight through and checks once. */
typedef struct jb {
    bool ok;
} jb;

static json_t *jstr(jb *b, const char *s)
{
    json_t *v = json_string(s);
    if (v == NULL) {
        b->ok = false;
    }
    return v;
}

static json_t *jobj(jb *b)
{
    json_t *v = json_object();
    if (v == NULL) {
        b->ok = false;
    }
    return v;
}

static json_t *jarr(jb *b)
{
    json_t *v = json_array();
    if (v == NULL) {
        b->ok = false;
    }
    return v;
}

static json_t *jnum(jb *b, double x)
{
    json_t *v;
    if (fabs(x) < 9.0e15 && x == floor(x)) {
        v = json_integer((json_int_t)x);
    } else {
        v = json_real(x);
    }
    if (v == NULL) {
        b->ok = false;
    }
    return v;
}

/* o[k] = v, taking v's reference in every case. */
static void jset(jb *b, json_t *o, const char *k, json_t *v)
{
    if (v == NULL) {
        b->ok = false;
        return;
    }
    if (o == NULL) {
        json_decref(v);
        b->ok = false;
        return;
    }
    if (json_object_set_new(o, k, v) != 0) {
        b->ok = false;
    }
}

static void jpush(jb *b, json_t *a, json_t *v)
{
    if (v == NULL) {
        b->ok = false;
        return;
    }
    if (a == NULL) {
        json_decref(v);
        b->ok = false;
        return;
    }
    if (json_array_append_new(a, v) != 0) {
        b->ok = false;
    }
}

static json_t *coding(jb *b, const char *system, const char *code, const char *display)
{
    json_t *c = jobj(b);
    jset(b, c, "system", jstr(b, system));
    jset(b, c, "code", jstr(b, code));
    if (display != NULL) {
        jset(b, c, "display", jstr(b, display));
    }
    return c;
}

/* CodeableConcept with one coding (and text when given). */
static json_t *concept(jb *b, const char *system, const char *code, const char *display,
                       const char *text)
{
    json_t *cc = jobj(b);
    json_t *arr = jarr(b);
    jpush(b, arr, coding(b, system, code, display));
    jset(b, cc, "coding", arr);
    if (text != NULL) {
        jset(b, cc, "text", jstr(b, text));
    }
    return cc;
}

static json_t *quantity(jb *b, double value, const char *unit, const char *ucum)
{
    json_t *q = jobj(b);
    jset(b, q, "value", jnum(b, value));
    jset(b, q, "unit", jstr(b, unit));
    jset(b, q, "system", jstr(b, FHIR_SYS_UCUM));
    jset(b, q, "code", jstr(b, ucum));
    return q;
}

static json_t *reference(jb *b, const char *ref)
{
    json_t *r = jobj(b);
    jset(b, r, "reference", jstr(b, ref));
    return r;
}

/*
 * Compact serialiser for the trees built here. vigil writes its own rather
 * than call json_dumps: jansson 2.14's dumper can drop bytes when one of its
 * internal allocations fails and still return a string (found by the
 * allocation-failure test; docs/fhir.md). Every failure here is reported.
 */
typedef struct outbuf {
    char *p;
    size_t len, cap;
    bool ok;
} outbuf;

static void put(outbuf *o, const char *s, size_t n)
{
    if (!o->ok) {
        return;
    }
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap == 0 ? 1024 : o->cap;
        while (o->len + n + 1 > cap) {
            cap *= 2;
        }
        char *np = vigil__fhir_malloc(cap);
        if (np == NULL) {
            o->ok = false;
            return;
        }
        if (o->p != NULL) {
            memcpy(np, o->p, o->len);
            vigil__fhir_mfree(o->p);
        }
        o->p = np;
        o->cap = cap;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
    o->p[o->len] = '\0';
}

static void put_str(outbuf *o, const char *s)
{
    put(o, s, strlen(s));
}

static void put_json_string(outbuf *o, const char *s, size_t n)
{
    put(o, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 0x20 && ch != '"' && ch != '\\') {
            continue;
        }
        put(o, s + run, i - run);
        run = i + 1;
        char esc[8];
        switch (ch) {
        case '"':
            put(o, "\\\"", 2);
            break;
        case '\\':
            put(o, "\\\\", 2);
            break;
        case '\n':
            put(o, "\\n", 2);
            break;
        case '\r':
            put(o, "\\r", 2);
            break;
        case '\t':
            put(o, "\\t", 2);
            break;
        default:
            snprintf(esc, sizeof esc, "\\u%04x", (unsigned)ch);
            put(o, esc, 6);
            break;
        }
    }
    put(o, s + run, n - run);
    put(o, "\"", 1);
}

static void put_value(outbuf *o, json_t *v, int depth)
{
    char num[64];
    if (depth > 32) {
        o->ok = false; /* vigil's trees are shallow; deeper is a bug */
        return;
    }
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *key;
        json_t *child;
        bool first = true;
        put(o, "{", 1);
        json_object_foreach(v, key, child)
        {
            if (!first) {
                put(o, ",", 1);
            }
            first = false;
            put_json_string(o, key, strlen(key));
            put(o, ":", 1);
            put_value(o, child, depth + 1);
        }
        put(o, "}", 1);
        break;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *child;
        put(o, "[", 1);
        json_array_foreach(v, i, child)
        {
            if (i > 0) {
                put(o, ",", 1);
            }
            put_value(o, child, depth + 1);
        }
        put(o, "]", 1);
        break;
    }
    case JSON_STRING:
        put_json_string(o, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        put_str(o, num);
        break;
    case JSON_REAL: {
        double d = json_real_value(v);
        if (!isfinite(d)) {
            o->ok = false;
            return;
        }
        snprintf(num, sizeof num, "%.15g", d);
        for (char *c = num; *c != '\0'; c++) {
            if (*c == ',') {
                *c = '.'; /* a locale with a decimal comma */
            }
        }
        put_str(o, num);
        break;
    }
    case JSON_TRUE:
        put_str(o, "true");
        break;
    case JSON_FALSE:
        put_str(o, "false");
        break;
    case JSON_NULL:
        put_str(o, "null");
        break;
    }
}

/* Serialise compact; the tree is released in every case. */
static vigil_status finish(jb *b, json_t *root, char **out_json, vigil_err *err)
{
    outbuf o = {NULL, 0, 0, true};
    if (b->ok && root != NULL) {
        put_value(&o, root, 0);
    } else {
        o.ok = false;
    }
    json_decref(root);
    if (!o.ok || o.p == NULL) {
        vigil__fhir_mfree(o.p);
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory building FHIR JSON");
    }
    *out_json = o.p;
    return VIGIL_OK;
}

void vigil_fhir_free(char *json)
{
    vigil__fhir_mfree(json);
}

/* ---- OperationOutcome --------------------------------------------------- */

vigil_status vigil_fhir_outcome_json(const vigil_fhir_issue *issues, size_t n, char **out_json)
{
    if (issues == NULL || n == 0 || out_json == NULL) {
        return VIGIL_ERR_ARG;
    }
    jb b = {true};
    json_t *root = jobj(&b);
    jset(&b, root, "resourceType", jstr(&b, "OperationOutcome"));
    json_t *arr = jarr(&b);
    for (size_t i = 0; i < n; i++) {
        const vigil_fhir_issue *is = &issues[i];
        if ((unsigned)is->severity >= VIGIL_FHIR_SEV_COUNT ||
            (unsigned)is->code >= VIGIL_FHIR_ISSUE_COUNT) {
            json_decref(arr);
            json_decref(root);
            return VIGIL_ERR_ARG;
        }
        json_t *o = jobj(&b);
        jset(&b, o, "severity", jstr(&b, vigil_fhir_severity_name(is->severity)));
        jset(&b, o, "code", jstr(&b, vigil_fhir_issue_type_name(is->code)));
        /* diagnostics may hold a cut multi-byte character: keep valid UTF-8 */
        char diag[VIGIL_FHIR_DIAG_MAX];
        snprintf(diag, sizeof diag, "%s", is->diagnostics);
        size_t dn = strlen(diag);
        while (dn > 0 && !vigil__fhir_utf8_ok(diag, dn)) {
            diag[--dn] = '\0';
        }
        if (dn > 0) {
            jset(&b, o, "diagnostics", jstr(&b, diag));
        }
        if (is->expression[0] != '\0' &&
            vigil__fhir_utf8_ok(is->expression, strnlen(is->expression, sizeof is->expression))) {
            json_t *ex = jarr(&b);
            char expr[VIGIL_FHIR_EXPR_MAX];
            snprintf(expr, sizeof expr, "%s", is->expression);
            jpush(&b, ex, jstr(&b, expr));
            jset(&b, o, "expression", ex);
        }
        jpush(&b, arr, o);
    }
    jset(&b, root, "issue", arr);
    return finish(&b, root, out_json, NULL);
}

/* ---- shared checks for the Observation builders ------------------------ */

static vigil_status check_event(const vigil_obs_event *ev, const char *event_id, vigil_err *err)
{
    if (ev == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "event", "no event given");
    }
    if (event_id == NULL || strlen(event_id) > VIGIL_FHIR_EVENT_ID_MAX ||
        !vigil__fhir_is_id(event_id)) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "event_id",
                             "event id '%.64s' is not a FHIR id of at most %d characters",
                             event_id != NULL ? event_id : "(null)", VIGIL_FHIR_EVENT_ID_MAX);
    }
    vigil_status st = vigil_news2_validate(&ev->obs, err);
    if (st != VIGIL_OK) {
        return VIGIL_ERR_ARG;
    }
    if (ev->nhs_number[0] != '\0' && !vigil_nhs_number_valid(ev->nhs_number)) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "nhs_number", "NHS number '%.12s' is not valid",
                             ev->nhs_number);
    }
    size_t mrn_n = strnlen(ev->mrn, sizeof ev->mrn);
    if (mrn_n == sizeof ev->mrn || (mrn_n > 0 && !vigil__fhir_is_id(ev->mrn))) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "mrn",
                             "local id '%.63s' is not a FHIR id, so it cannot name the Patient",
                             ev->mrn);
    }
    if (ev->nhs_number[0] == '\0' && mrn_n == 0) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "patient",
                             "the event has neither an NHS number nor a local id");
    }
    size_t rb = strnlen(ev->recorded_by, sizeof ev->recorded_by);
    if (rb == sizeof ev->recorded_by || !vigil__fhir_utf8_ok(ev->recorded_by, rb)) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "recorded_by", "recorded_by is not UTF-8 text");
    }
    char when[40];
    if (!vigil__fhir_datetime_format(ev->t_ms, when, sizeof when)) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "t_ms", "time %lld ms is outside the years 1-9999",
                             (long long)ev->t_ms);
    }
    return VIGIL_OK;
}

/* A reference "Type/id" is written as a reference; anything else as a
 * display (a name or a user id). */
static bool looks_like_reference(const char *s)
{
    const char *slash = strchr(s, '/');
    if (slash == NULL || slash == s || s[0] < 'A' || s[0] > 'Z') {
        return false;
    }
    for (const char *p = s; p < slash; p++) {
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))) {
            return false;
        }
    }
    return vigil__fhir_is_id(slash + 1);
}

/* The resource opening every Observation vigil writes: id, meta.profile,
 * status, category, code (set by the caller), subject, effective,
 * performer. Values are added by the caller. */
static json_t *observation_head(jb *b, const vigil_obs_event *ev, const char *id,
                                const char *profile, const char *category,
                                const char *category_display, json_t *code)
{
    json_t *o = jobj(b);
    jset(b, o, "resourceType", jstr(b, "Observation"));
    jset(b, o, "id", jstr(b, id));
    json_t *meta = jobj(b);
    json_t *prof = jarr(b);
    jpush(b, prof, jstr(b, profile));
    jset(b, meta, "profile", prof);
    jset(b, o, "meta", meta);
    jset(b, o, "status", jstr(b, "final"));
    json_t *cats = jarr(b);
    jpush(b, cats, concept(b, FHIR_SYS_OBS_CATEGORY, category, category_display, NULL));
    jset(b, o, "category", cats);
    jset(b, o, "code", code);
    json_t *subj = jobj(b);
    if (ev->mrn[0] != '\0') {
        char ref[VIGIL_ID_MAX + 16];
        snprintf(ref, sizeof ref, "Patient/%s", ev->mrn);
        jset(b, subj, "reference", jstr(b, ref));
    }
    if (ev->nhs_number[0] != '\0') {
        json_t *ident = jobj(b);
        jset(b, ident, "system", jstr(b, FHIR_SYS_NHS_NUMBER));
        jset(b, ident, "value", jstr(b, ev->nhs_number));
        jset(b, subj, "identifier", ident);
    }
    jset(b, o, "subject", subj);
    char when[40];
    vigil__fhir_datetime_format(ev->t_ms, when, sizeof when);
    jset(b, o, "effectiveDateTime", jstr(b, when));
    if (ev->recorded_by[0] != '\0') {
        json_t *perf = jarr(b);
        json_t *p = jobj(b);
        jset(b, p, looks_like_reference(ev->recorded_by) ? "reference" : "display",
             jstr(b, ev->recorded_by));
        jpush(b, perf, p);
        jset(b, o, "performer", perf);
    }
    return o;
}

/* ---- vital-sign Observations ------------------------------------------- */

#define PROFILE_R4(x) "http://hl7.org/fhir/StructureDefinition/" x
#define PROFILE_UKCORE(x) "https://fhir.hl7.org.uk/StructureDefinition/" x

static bool measured(const vigil_obs *o, vigil_news2_param p)
{
    return vigil_vital_present(o, p);
}

/* The code of a vital sign's Observation: the table's codes that vigil
 * writes in FHIR (those with a display), the first as the primary coding;
 * text is the row's. LOINC or SNOMED CT. */
static json_t *vital_code(jb *b, const vigil_vital *v)
{
    json_t *code = NULL;
    for (size_t k = 0; k < VIGIL_VITAL_CODES_MAX && v->codes[k].code != NULL; k++) {
        const vigil_vital_code *c = &v->codes[k];
        if (c->fhir_display == NULL || c->form != VIGIL_VITAL_FORM_VALUE) {
            continue;
        }
        const char *sys = strcmp(c->system, "SCT") == 0 ? FHIR_SYS_SNOMED : FHIR_SYS_LOINC;
        if (code == NULL) {
            code = concept(b, sys, c->code, c->fhir_display, v->fhir_text);
        } else {
            jpush(b, json_object_get(code, "coding"), coding(b, sys, c->code, c->fhir_display));
        }
    }
    if (code == NULL) {
        b->ok = false;
    }
    return code;
}

static void vital_id(char *buf, size_t cap, const char *event_id, vigil_news2_param p)
{
    snprintf(buf, cap, "%s-%s", event_id, vigil_news2_param_name(p));
}

/* Build the Observation tree for one measured parameter. */
static json_t *vital_tree(jb *b, const vigil_obs_event *ev, vigil_news2_param p,
                          const char *event_id)
{
    char id[80];
    vital_id(id, sizeof id, event_id, p);
    const vigil_obs *o = &ev->obs;
    json_t *obs = NULL;
    json_t *code = NULL;
    const vigil_vital *v = vigil_vital_get(p);
    switch (v != NULL ? v->type : VIGIL_VITAL_TYPE_COUNT) {
    case VIGIL_VITAL_NUMBER:
        /* the vital-sign table: code, profile, unit (REQ FHIR-EMIT-VITALS) */
        code = vital_code(b, v);
        obs = observation_head(b, ev, id, v->fhir_profile, "vital-signs", "Vital Signs", code);
        jset(b, obs, "valueQuantity",
             quantity(b, vigil_vital_number(o, v), v->ucum_text, v->ucum));
        break;
    case VIGIL_VITAL_ACVPU: {
        code = vital_code(b, v);
        obs = observation_head(b, ev, id, v->fhir_profile, "vital-signs", "Vital Signs", code);
        jset(b, obs, "valueCodeableConcept",
             concept(b, FHIR_SYS_SNOMED, vigil__fhir_acvpu_snomed(o->acvpu),
                     vigil__fhir_acvpu_display(o->acvpu), vigil_acvpu_name(o->acvpu)));
        break;
    }
    case VIGIL_VITAL_O2: {
        /* UKCore-InspiredOxygen: the code says air or oxygen; vigil keeps no
         * flow rate, so no value is written */
        bool on = o->o2 == VIGIL_O2_OXYGEN;
        vigil_vital_form want = on ? VIGIL_VITAL_FORM_ON_O2 : VIGIL_VITAL_FORM_ROOM_AIR;
        const vigil_vital_code *c = NULL;
        for (size_t k = 0; k < VIGIL_VITAL_CODES_MAX && v->codes[k].code != NULL; k++) {
            c = v->codes[k].form == want ? &v->codes[k] : c;
        }
        if (c == NULL) {
            b->ok = false;
            break;
        }
        code = concept(b, FHIR_SYS_SNOMED, c->code, c->fhir_display,
                       on ? "On supplemental oxygen" : "Breathing room air");
        obs = observation_head(b, ev, id, v->fhir_profile, "vital-signs", "Vital Signs", code);
        break;
    }
    default:
        b->ok = false;
        break;
    }
    return obs;
}

vigil_status vigil_fhir_vital_json(const vigil_obs_event *ev, vigil_news2_param param,
                                   const char *event_id, char **out_json, vigil_err *err)
{
    if (out_json == NULL || (unsigned)param >= VIGIL_NEWS2_PARAM_COUNT) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "param", "no output or an unknown parameter");
    }
    vigil_status st = check_event(ev, event_id, err);
    if (st != VIGIL_OK) {
        return st;
    }
    if (!measured(&ev->obs, param)) {
        return vigil_err_set(err, VIGIL_ERR_NOT_FOUND, vigil_news2_param_name(param),
                             "%s is not measured in this event", vigil_news2_param_name(param));
    }
    jb b = {true};
    json_t *root = vital_tree(&b, ev, param, event_id);
    return finish(&b, root, out_json, err);
}

/* ---- NEWS2 total ---------------------------------------------------------- */

/* REQ FHIR-NEWS2-SUBSCORE: UKCore-EarlyWarningSubScore, chart order */
static const char *subscore_code(vigil_news2_param p, int scale, const char **display)
{
    switch (p) {
    case VIGIL_NEWS2_RR:
        *display = "Royal College of Physicians National Early Warning Score 2 - respiration "
                   "rate score";
        return "1104301000000104";
    case VIGIL_NEWS2_SPO2:
        if (scale == 2) {
            *display = "Royal College of Physicians National Early Warning Score 2 - oxygen "
                       "saturation scale 2 score";
            return "1104321000000108";
        }
        *display = "Royal College of Physicians National Early Warning Score 2 - oxygen "
                   "saturation scale 1 score";
        return "1104311000000102";
    case VIGIL_NEWS2_O2:
        *display = "Royal College of Physicians National Early Warning Score 2 - air or oxygen "
                   "score";
        return "1104331000000105";
    case VIGIL_NEWS2_SBP:
        *display = "Royal College of Physicians National Early Warning Score 2 - systolic blood "
                   "pressure score";
        return "1104341000000101";
    case VIGIL_NEWS2_HR:
        *display = "Royal College of Physicians National Early Warning Score 2 - pulse score";
        return "1104351000000103";
    case VIGIL_NEWS2_ACVPU:
        *display = "Royal College of Physicians National Early Warning Score 2 - consciousness "
                   "score";
        return "1104361000000100";
    case VIGIL_NEWS2_TEMP:
        *display = "Royal College of Physicians National Early Warning Score 2 - temperature "
                   "score";
        return "1104371000000107";
    default:
        *display = "";
        return "";
    }
}

/* The fields of a score must agree with each other before vigil writes it. */
static vigil_status check_score(const vigil_news2 *s, const vigil_obs_event *ev, vigil_err *err)
{
    int sum = 0;
    unsigned missing = 0;
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        if (s->sub[p] == VIGIL_NEWS2_SUB_MISSING) {
            missing |= 1u << p;
            continue;
        }
        if (s->sub[p] < 0 || s->sub[p] > 3) {
            return vigil_err_set(err, VIGIL_ERR_ARG, vigil_news2_param_name((vigil_news2_param)p),
                                 "sub-score %d is not 0-3", s->sub[p]);
        }
        sum += s->sub[p];
    }
    if (missing != s->missing || s->complete != (missing == 0) || sum != s->total) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "score",
                             "the score contradicts itself (complete %d, missing 0x%x, sub-score "
                             "sum %d, total %d)",
                             (int)s->complete, s->missing, sum, s->total);
    }
    if (s->spo2_scale != 1 && s->spo2_scale != 2) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "scale", "scale %d is not 1 or 2", s->spo2_scale);
    }
    if ((unsigned)s->risk >= VIGIL_RISK_COUNT) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "risk", "risk %d is out of range", (int)s->risk);
    }
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        /* a sub-score without the event's value is one assembled from a set
         * measured within the assembly window (vigil/assemble.h); a value
         * without a sub-score is a contradiction */
        bool have = s->sub[p] != VIGIL_NEWS2_SUB_MISSING;
        if (!have && measured(&ev->obs, (vigil_news2_param)p)) {
            return vigil_err_set(err, VIGIL_ERR_ARG, vigil_news2_param_name((vigil_news2_param)p),
                                 "the score and the event disagree on whether %s was measured",
                                 vigil_news2_param_name((vigil_news2_param)p));
        }
    }
    return VIGIL_OK;
}

static json_t *interpretation(jb *b, const char *code, const char *display)
{
    return concept(b, FHIR_SYS_VIGIL_NEWS2, code, display, NULL);
}

static const struct {
    unsigned bit;
    const char *code;
    const char *display;
} flag_codes[] = {
    {VIGIL_NEWS2_FLAG_SPO2_NEAR_THRESHOLD, "spo2-near-threshold",
     "SpO2 within 2 points of a scoring band edge"},
    {VIGIL_NEWS2_FLAG_UNDER_16, "under-16", "NEWS2 is not validated under 16 years"},
    {VIGIL_NEWS2_FLAG_PREGNANT, "pregnant", "NEWS2 is not validated in pregnancy"},
    {VIGIL_NEWS2_FLAG_SCALE_2, "spo2-scale-2", "Scored on SpO2 Scale 2"},
    {VIGIL_NEWS2_FLAG_SPO2_SCALE2_O2_UNKNOWN, "spo2-scale2-o2-unknown",
     "Scale 2 SpO2 of 93% or more with air or oxygen unknown: the SpO2 sub-score is a lower "
     "bound"},
};

static const char *const risk_display[VIGIL_RISK_COUNT] = {
    "Low clinical risk (RCP NEWS2 Chart 2)",
    "Low-medium clinical risk: a score of 3 in a single parameter (RCP NEWS2 Chart 2)",
    "Medium clinical risk (RCP NEWS2 Chart 2)",
    "High clinical risk (RCP NEWS2 Chart 2)",
};

/* Append to a NUL-terminated buffer, truncating at its end. */
static void appendf(char *buf, size_t cap, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void appendf(char *buf, size_t cap, const char *fmt, ...)
{
    size_t at = strnlen(buf, cap);
    if (at + 1 >= cap) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + at, cap - at, fmt, ap);
    va_end(ap);
}

/* valueQuantity of the total: ">=" when the set is incomplete. */
static json_t *news2_total(jb *b, const vigil_news2 *s)
{
    json_t *q = jobj(b);
    jset(b, q, "value", jnum(b, s->total));
    if (!s->complete) {
        /* REQ FHIR-NEWS2-INCOMPLETE: the true total is at least this */
        jset(b, q, "comparator", jstr(b, ">="));
    }
    jset(b, q, "unit", jstr(b, "score"));
    jset(b, q, "system", jstr(b, FHIR_SYS_UCUM));
    jset(b, q, "code", jstr(b, "{score}"));
    return q;
}

/* "incomplete" first when it applies, then the risk band, then each flag. */
static json_t *news2_interpretations(jb *b, const vigil_news2 *s)
{
    json_t *interp = jarr(b);
    if (!s->complete) {
        jpush(b, interp,
              interpretation(b, "incomplete",
                             "Incomplete observation set: the total and risk are lower bounds"));
    }
    char risk_code[40];
    snprintf(risk_code, sizeof risk_code, "risk-%s", vigil_news2_risk_name(s->risk));
    jpush(b, interp, interpretation(b, risk_code, risk_display[s->risk]));
    for (size_t i = 0; i < sizeof flag_codes / sizeof flag_codes[0]; i++) {
        if ((s->flags & flag_codes[i].bit) != 0) {
            jpush(b, interp, interpretation(b, flag_codes[i].code, flag_codes[i].display));
        }
    }
    return interp;
}

/* One note: the total in words, the RCP Chart 4 response, what is missing. */
static json_t *news2_note(jb *b, const vigil_news2 *s)
{
    char note[640];
    snprintf(note, sizeof note, "%s NEWS2 %d%s: %s risk; %s.",
             s->complete ? "Complete" : "Incomplete", s->total, s->complete ? "" : " or more",
             vigil_news2_risk_name(s->risk), vigil_news2_response_text(s->response));
    if (!s->complete) {
        appendf(note, sizeof note, " Not measured:");
        for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
            if ((s->missing & (1u << p)) != 0) {
                appendf(note, sizeof note, " %s", vigil_news2_param_name((vigil_news2_param)p));
            }
        }
        appendf(note, sizeof note, ". The total and risk are lower bounds.");
    }
    json_t *notes = jarr(b);
    json_t *n0 = jobj(b);
    jset(b, n0, "text", jstr(b, note));
    jpush(b, notes, n0);
    return notes;
}

/* Sub-scores as components (chart order) and derivedFrom for those the
 * event measured itself (an assembled sub-score comes from another set). */
static void news2_components(jb *b, json_t *o, const vigil_news2 *s, const vigil_obs *obs,
                             const char *event_id)
{
    json_t *derived = jarr(b);
    json_t *comps = jarr(b);
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        const char *disp = NULL;
        const char *sc = subscore_code((vigil_news2_param)p, s->spo2_scale, &disp);
        json_t *comp = jobj(b);
        jset(b, comp, "code", concept(b, FHIR_SYS_SNOMED, sc, disp, NULL));
        if (s->sub[p] == VIGIL_NEWS2_SUB_MISSING) {
            /* never a 0: the parameter was not measured */
            jset(b, comp, "dataAbsentReason",
                 concept(b, FHIR_SYS_DATA_ABSENT, "not-performed", "Not Performed", NULL));
        } else {
            json_t *sq = jobj(b);
            jset(b, sq, "value", jnum(b, s->sub[p]));
            jset(b, sq, "unit", jstr(b, "score"));
            jset(b, sq, "system", jstr(b, FHIR_SYS_UCUM));
            jset(b, sq, "code", jstr(b, "{score}"));
            jset(b, comp, "valueQuantity", sq);
            if (measured(obs, (vigil_news2_param)p)) {
                char vid[80];
                char ref[96];
                vital_id(vid, sizeof vid, event_id, (vigil_news2_param)p);
                snprintf(ref, sizeof ref, "Observation/%s", vid);
                jpush(b, derived, reference(b, ref));
            }
        }
        jpush(b, comps, comp);
    }
    if (json_array_size(derived) > 0) {
        jset(b, o, "derivedFrom", derived);
    } else {
        json_decref(derived); /* FHIR JSON omits empty arrays */
    }
    jset(b, o, "component", comps);
}

static json_t *news2_tree(jb *b, const vigil_obs_event *ev, const vigil_news2 *s,
                          const char *event_id)
{
    char id[80];
    snprintf(id, sizeof id, "%s-news2", event_id);
    json_t *code = concept(b, FHIR_SYS_SNOMED, "1104051000000101",
                           "Royal College of Physicians NEWS2 (National Early Warning Score 2) "
                           "total score",
                           "NEWS2 total score");
    json_t *o =
        observation_head(b, ev, id, PROFILE_UKCORE("UKCore-Observation-EarlyWarningTotalScore"),
                         "survey", "Survey", code);
    jset(b, o, "valueQuantity", news2_total(b, s));
    jset(b, o, "interpretation", news2_interpretations(b, s));
    jset(b, o, "note", news2_note(b, s));
    news2_components(b, o, s, &ev->obs, event_id);
    return o;
}

vigil_status vigil_fhir_news2_json(const vigil_obs_event *ev, const vigil_news2 *score,
                                   const char *event_id, char **out_json, vigil_err *err)
{
    if (out_json == NULL || score == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "score", "no score or no output given");
    }
    vigil_status st = check_event(ev, event_id, err);
    if (st == VIGIL_OK) {
        st = check_score(score, ev, err);
    }
    if (st != VIGIL_OK) {
        return st;
    }
    jb b = {true};
    json_t *root = news2_tree(&b, ev, score, event_id);
    return finish(&b, root, out_json, err);
}

/* ---- Bundles -------------------------------------------------------------- */

static void add_entry(jb *b, json_t *entries, json_t *res, const char *base_url)
{
    json_t *e = jobj(b);
    if (base_url != NULL && res != NULL) {
        const char *id = json_string_value(json_object_get(res, "id"));
        char full[512];
        snprintf(full, sizeof full, "%s/Observation/%s", base_url, id != NULL ? id : "");
        jset(b, e, "fullUrl", jstr(b, full));
    }
    jset(b, e, "resource", res);
    json_t *search = jobj(b);
    jset(b, search, "mode", jstr(b, "match"));
    jset(b, e, "search", search);
    jpush(b, entries, e);
}

vigil_status vigil_fhir_searchset_json(const vigil_fhir_search_item *items, size_t n,
                                       const char *base_url, const char *self_url, char **out_json,
                                       vigil_err *err)
{
    if (out_json == NULL || (n > 0 && items == NULL)) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "items", "no items or no output given");
    }
    if ((base_url != NULL &&
         (strlen(base_url) > 400 || !vigil__fhir_utf8_ok(base_url, strlen(base_url)))) ||
        (self_url != NULL && !vigil__fhir_utf8_ok(self_url, strlen(self_url)))) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "base_url", "a URL is too long or not UTF-8");
    }
    for (size_t i = 0; i < n; i++) {
        vigil_status st = check_event(items[i].ev, items[i].event_id, err);
        if (st == VIGIL_OK && items[i].score != NULL) {
            st = check_score(items[i].score, items[i].ev, err);
        }
        if (st != VIGIL_OK) {
            return st;
        }
    }
    jb b = {true};
    json_t *root = jobj(&b);
    jset(&b, root, "resourceType", jstr(&b, "Bundle"));
    jset(&b, root, "type", jstr(&b, "searchset"));
    json_t *entries = jarr(&b);
    for (size_t i = 0; i < n && b.ok; i++) {
        for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
            if (measured(&items[i].ev->obs, (vigil_news2_param)p)) {
                add_entry(&b, entries,
                          vital_tree(&b, items[i].ev, (vigil_news2_param)p, items[i].event_id),
                          base_url);
            }
        }
        if (items[i].score != NULL) {
            add_entry(&b, entries, news2_tree(&b, items[i].ev, items[i].score, items[i].event_id),
                      base_url);
        }
    }
    jset(&b, root, "total", json_integer((json_int_t)json_array_size(entries)));
    if (self_url != NULL) {
        json_t *links = jarr(&b);
        json_t *l = jobj(&b);
        jset(&b, l, "relation", jstr(&b, "self"));
        jset(&b, l, "url", jstr(&b, self_url));
        jpush(&b, links, l);
        jset(&b, root, "link", links);
    }
    if (json_array_size(entries) > 0) {
        jset(&b, root, "entry", entries);
    } else {
        json_decref(entries); /* FHIR JSON omits empty arrays */
    }
    return finish(&b, root, out_json, err);
}

vigil_status vigil_fhir_transaction_response_json(size_t n_entries, const char *const *locations,
                                                  char **out_json, vigil_err *err)
{
    return vigil_fhir_transaction_response_skips_json(n_entries, locations, NULL, 0, out_json, err);
}

/* The warning of entry i, or NULL when it was used. */
static const vigil_fhir_issue *skip_of(const vigil_fhir_skip *skipped, size_t n, size_t i)
{
    for (size_t k = 0; skipped != NULL && k < n; k++) {
        if (skipped[k].entry == i) {
            return &skipped[k].issue;
        }
    }
    return NULL;
}

vigil_status vigil_fhir_transaction_response_skips_json(size_t n_entries,
                                                        const char *const *locations,
                                                        const vigil_fhir_skip *skipped,
                                                        size_t n_skipped, char **out_json,
                                                        vigil_err *err)
{
    if (out_json == NULL || n_entries > VIGIL_FHIR_MAX_ENTRIES) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "n_entries",
                             "no output, or more entries than a transaction may hold");
    }
    for (size_t i = 0; locations != NULL && i < n_entries; i++) {
        if (locations[i] != NULL && !vigil__fhir_utf8_ok(locations[i], strlen(locations[i]))) {
            return vigil_err_set(err, VIGIL_ERR_ARG, "locations", "location %zu is not UTF-8", i);
        }
    }
    jb b = {true};
    json_t *root = jobj(&b);
    jset(&b, root, "resourceType", jstr(&b, "Bundle"));
    jset(&b, root, "type", jstr(&b, "transaction-response"));
    if (n_entries > 0) {
        json_t *entries = jarr(&b);
        for (size_t i = 0; i < n_entries; i++) {
            json_t *e = jobj(&b);
            json_t *r = jobj(&b);
            const vigil_fhir_issue *w = skip_of(skipped, n_skipped, i);
            if (w != NULL) { /* REQ FHIR-BUNDLE-SKIP: not stored, said per entry */
                char *oo = NULL;
                json_t *outcome = NULL;
                if (vigil_fhir_outcome_json(w, 1, &oo) == VIGIL_OK) {
                    outcome = json_loads(oo, 0, NULL);
                    vigil_fhir_free(oo);
                }
                if (outcome == NULL) {
                    b.ok = false;
                } else {
                    jset(&b, r, "status", jstr(&b, "200 OK"));
                    jset(&b, r, "outcome", outcome);
                }
                jset(&b, e, "response", r);
                jpush(&b, entries, e);
                continue;
            }
            jset(&b, r, "status", jstr(&b, "201 Created"));
            if (locations != NULL && locations[i] != NULL) {
                jset(&b, r, "location", jstr(&b, locations[i]));
            }
            jset(&b, e, "response", r);
            jpush(&b, entries, e);
        }
        jset(&b, root, "entry", entries);
    }
    return finish(&b, root, out_json, err);
}
