/*
 * replay.c: research ICU stays as HL7 v2.5.1 ADT^A01 and ORU^R01 messages
 * for `vigil replay` (vigil/replay.h).
 *
 * Does not: send, pace or time anything; invent values (no ACVPU, no SpO2
 * from SaO2, nothing carried forward); clamp a value (one outside the HL7
 * reader's bounds is left out and counted).
 * Invariants: every message written here is accepted AA by vigil_hl7_decode
 * with default options (tests/replay/test_replay.c decodes them back and
 * compares every value); every NHS number starts 999 and passes its check
 * digit (REQ REPLAY-SYNTHETIC-NHS).
 * Spec: HL7 v2.5.1 chapter 2 (MSH), chapter 3 (EVN, PID, PV1), chapter 7
 * (OBR, OBX); codes and units as docs/hl7.md.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/hl7.h"
#include "vigil/news2.h"
#include "vigil/replay.h"
#include "vigil/vitals.h"

/* Which parameter of the vital-sign table each replayed vital is, and in
 * which form (FiO2: the O2 row's inhaled oxygen concentration). Code,
 * words, unit and bounds (those vigil's HL7 reader accepts) all come from
 * the table (vigil/vitals.h): the code it marks hl7_out. */
typedef struct vital_def {
    const char *name; /* NULL: the row's name (vigil_vital.name) */
    vigil_news2_param param;
    vigil_vital_form form;
} vital_def;

static const vital_def VITALS[VIGIL_REPLAY_VITAL_COUNT] = {
    [VIGIL_REPLAY_RR] = {NULL, VIGIL_NEWS2_RR, VIGIL_VITAL_FORM_VALUE},
    [VIGIL_REPLAY_SPO2] = {NULL, VIGIL_NEWS2_SPO2, VIGIL_VITAL_FORM_VALUE},
    [VIGIL_REPLAY_FIO2] = {"fio2", VIGIL_NEWS2_O2, VIGIL_VITAL_FORM_FIO2},
    [VIGIL_REPLAY_SBP] = {NULL, VIGIL_NEWS2_SBP, VIGIL_VITAL_FORM_VALUE},
    [VIGIL_REPLAY_HR] = {NULL, VIGIL_NEWS2_HR, VIGIL_VITAL_FORM_VALUE},
    [VIGIL_REPLAY_TEMP] = {NULL, VIGIL_NEWS2_TEMP, VIGIL_VITAL_FORM_VALUE},
};

_Static_assert(sizeof VITALS / sizeof VITALS[0] == VIGIL_REPLAY_VITAL_COUNT, "one row per vital");

/* What is sent for replayed vital k, from the table. */
typedef struct vital_wire {
    const char *code, *display, *unit;
    double min, max;
} vital_wire;

static vital_wire wire_of(int k)
{
    const vigil_vital *row = vigil_vital_get(VITALS[k].param);
    const vigil_vital_code *c = NULL;
    for (size_t i = 0; i < VIGIL_VITAL_CODES_MAX && row->codes[i].code != NULL && c == NULL; i++) {
        if (row->codes[i].hl7_out && row->codes[i].form == VITALS[k].form) {
            c = &row->codes[i];
        }
    }
    /* tests/replay/test_replay.c checks every replayed vital has one */
    vital_wire w = {"", "", "", 0.0, -1.0};
    if (c == NULL) {
        return w;
    }
    w.code = c->code;
    w.display = c->fhir_display != NULL ? c->fhir_display : c->text;
    if (VITALS[k].form == VIGIL_VITAL_FORM_VALUE) {
        w.unit = row->ucum;
        w.min = row->min;
        w.max = row->max;
    } else {
        w.unit = c->o2_ucum;
        w.min = c->o2_min;
        w.max = c->o2_max;
    }
    return w;
}

const char *vigil_replay_vital_name(vigil_replay_vital v)
{
    if ((unsigned)v >= VIGIL_REPLAY_VITAL_COUNT) {
        return "?";
    }
    return VITALS[v].name != NULL ? VITALS[v].name : vigil_vital_get(VITALS[v].param)->name;
}

/* ---- observation sets --------------------------------------------------- */

/* The replayed vital a data-set variable feeds, or -1. */
static int vital_of(vigil_var var)
{
    switch (var) {
    case VIGIL_VAR_RESP:
        return VIGIL_REPLAY_RR;
    case VIGIL_VAR_SPO2:
        return VIGIL_REPLAY_SPO2;
    case VIGIL_VAR_FIO2:
        return VIGIL_REPLAY_FIO2;
    case VIGIL_VAR_SBP:
        return VIGIL_REPLAY_SBP;
    case VIGIL_VAR_HR:
        return VIGIL_REPLAY_HR;
    case VIGIL_VAR_TEMP:
        return VIGIL_REPLAY_TEMP;
    default:
        return -1;
    }
}

static int cmp_set(const void *a, const void *b)
{
    double x = ((const vigil_replay_set *)a)->t_h, y = ((const vigil_replay_set *)b)->t_h;
    return (x > y) - (x < y);
}

vigil_status vigil_replay_sets(const vigil_meas *meas, size_t n_meas, vigil_replay_set *out,
                               size_t cap, size_t *out_n, vigil_replay_counts *counts)
{
    if (out_n == NULL || (out == NULL && cap > 0) || (meas == NULL && n_meas > 0)) {
        return VIGIL_ERR_ARG;
    }
    *out_n = 0;
    vigil_replay_counts c;
    memset(&c, 0, sizeof c);
    size_t n = 0;
    bool sorted = true;
    for (size_t i = 0; i < n_meas; i++) {
        int k = vital_of(meas[i].var);
        if (k < 0 || !isfinite(meas[i].value) || !isfinite(meas[i].t_h)) {
            continue;
        }
        double v = meas[i].value;
        if (k == VIGIL_REPLAY_FIO2) {
            v = round(v * 1000.0) / 10.0; /* fraction to %, to 0.1 % */
        }
        vital_wire wv = wire_of(k);
        if (!(v >= wv.min && v <= wv.max)) {
            c.n_out_of_bounds[k]++;
            continue;
        }
        /* the set at this time: searched from the end (rows come in time order) */
        size_t j = n;
        while (j > 0 && out[j - 1].t_h != meas[i].t_h) {
            j--;
        }
        if (j == 0) {
            if (n >= cap) {
                return VIGIL_ERR_NOMEM;
            }
            if (n > 0 && out[n - 1].t_h > meas[i].t_h) {
                sorted = false;
            }
            out[n].t_h = meas[i].t_h;
            for (int q = 0; q < VIGIL_REPLAY_VITAL_COUNT; q++) {
                out[n].v[q] = NAN;
            }
            n++;
            j = n;
        }
        vigil_replay_set *s = &out[j - 1];
        if (!isnan(s->v[k])) {
            c.n_overwritten++;
            c.n_values[k]--;
        }
        s->v[k] = v;
        c.n_values[k]++;
    }
    if (!sorted) {
        qsort(out, n, sizeof *out, cmp_set);
    }
    c.n_sets = n;
    if (counts != NULL) {
        counts->n_sets += c.n_sets;
        counts->n_overwritten += c.n_overwritten;
        for (int q = 0; q < VIGIL_REPLAY_VITAL_COUNT; q++) {
            counts->n_values[q] += c.n_values[q];
            counts->n_out_of_bounds[q] += c.n_out_of_bounds[q];
        }
    }
    *out_n = n;
    return VIGIL_OK;
}

/* ---- synthetic identity --------------------------------------------------- */

/* The modulus-11 check digit of the first 9 digits, or 10 (no valid number). */
static int check_digit(const char d[9])
{
    int sum = 0;
    for (int i = 0; i < 9; i++) {
        sum += (d[i] - '0') * (10 - i);
    }
    int c = 11 - sum % 11;
    return c == 11 ? 0 : c;
}

/* REQ REPLAY-SYNTHETIC-NHS */
vigil_status vigil_replay_nhs_number(unsigned long n, char out[VIGIL_NHS_NUMBER_LEN + 1])
{
    if (out == NULL || n >= 900000ul) {
        return VIGIL_ERR_ARG;
    }
    char d[11];
    snprintf(d, sizeof d, "999%05lu0", n / 9);
    unsigned long want = n % 9, seen = 0;
    for (char last = '0'; last <= '9'; last++) {
        d[8] = last;
        int c = check_digit(d);
        if (c == 10) {
            continue;
        }
        if (seen++ == want) {
            d[9] = (char)('0' + c);
            d[10] = '\0';
            memcpy(out, d, sizeof d);
            return VIGIL_OK;
        }
    }
    return VIGIL_ERR_INTERNAL; /* unreachable: every block has at least 9 valid digits */
}

vigil_status vigil_replay_stay_number(const char *stay_id, unsigned long *out)
{
    if (stay_id == NULL || out == NULL) {
        return VIGIL_ERR_ARG;
    }
    const char *p = stay_id;
    while (*p != '\0' && (*p < '0' || *p > '9')) {
        p++;
    }
    if (*p == '\0') {
        return VIGIL_ERR_ARG;
    }
    unsigned long v = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        v = v * 10 + (unsigned long)(*p - '0');
        if (v >= 900000ul) {
            return VIGIL_ERR_ARG;
        }
    }
    if (*p != '\0') {
        return VIGIL_ERR_ARG;
    }
    *out = v;
    return VIGIL_OK;
}

/* Days since 1970-01-01 of a civil date, and back (H. Hinnant's algorithms). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int64_t *m, int64_t *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp + (mp < 10 ? 3 : -9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* A birth date age_y years (to the day) before t_ms, so the age in completed
 * years at t_ms is floor(age_y). */
static void dob_of(int64_t t_ms, double age_y, char out[9])
{
    int64_t day = t_ms >= 0 ? t_ms / 86400000 : -((-t_ms + 86399999) / 86400000);
    int64_t y, m, d;
    civil_from_days(day, &y, &m, &d);
    int64_t whole = (int64_t)floor(age_y);
    int64_t by = y - whole;
    /* same month and day whole years earlier (29 February -> 28) ... */
    int64_t bd = (m == 2 && d == 29) ? 28 : d;
    int64_t base = days_from_civil(by, m, bd);
    /* ... then the fraction of a year further back, never a whole year */
    int64_t extra = (int64_t)floor((age_y - (double)whole) * 365.0);
    if (extra > 364) {
        extra = 364;
    }
    civil_from_days(base - extra, &y, &m, &d);
    char tmp[48];
    snprintf(tmp, sizeof tmp, "%04d%02d%02d", (int)(y < 0 ? 0 : y % 10000), (int)(m % 100),
             (int)(d % 100));
    memcpy(out, tmp, 8);
    out[8] = '\0';
}

vigil_status vigil_replay_patient_init(const vigil_stay *stay, const char *ward, unsigned bed_no,
                                       int64_t admit_ms, vigil_replay_patient *out, vigil_err *err)
{
    if (stay == NULL || ward == NULL || out == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, NULL, "NULL argument");
    }
    size_t wl = strlen(ward), il = strlen(stay->id);
    if (wl == 0 || wl >= VIGIL_ID_MAX) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "ward", "ward name must be 1 to %d bytes",
                             VIGIL_ID_MAX - 1);
    }
    if (il == 0 || il >= VIGIL_ID_MAX) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "stay", "stay id must be 1 to %d bytes",
                             VIGIL_ID_MAX - 1);
    }
    unsigned long n = 0;
    if (vigil_replay_stay_number(stay->id, &n) != VIGIL_OK) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "stay",
                             "stay id '%s' is not a number below 900000: no synthetic NHS "
                             "number can be given to it",
                             stay->id);
    }
    vigil_replay_patient p;
    memset(&p, 0, sizeof p);
    if (vigil_replay_nhs_number(n, p.nhs_number) != VIGIL_OK) {
        return vigil_err_set(err, VIGIL_ERR_INTERNAL, "stay", "no NHS number for %lu", n);
    }
    memcpy(p.mrn, stay->id, il + 1);
    memcpy(p.visit, stay->id, il + 1);
    memcpy(p.ward, ward, wl + 1);
    snprintf(p.bed, sizeof p.bed, "BED%02u", bed_no);
    p.sex = stay->sex == VIGIL_SEX_FEMALE ? 'F' : stay->sex == VIGIL_SEX_MALE ? 'M' : 'U';
    if (isfinite(stay->age_y) && stay->age_y >= 0.0 && stay->age_y < VIGIL_AGE_MAX) {
        dob_of(admit_ms, stay->age_y, p.dob);
    }
    p.admit_ms = admit_ms;
    *out = p;
    return VIGIL_OK;
}

/* ---- message text ----------------------------------------------------------- */

/* A bounded writer: the first overflow sticks. */
typedef struct wbuf {
    char *p;
    size_t cap, n;
    bool full;
} wbuf;

static void put(wbuf *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(wbuf *w, const char *fmt, ...)
{
    if (w->full) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(w->p + w->n, w->cap - w->n, fmt, ap);
    va_end(ap);
    if (k < 0 || (size_t)k >= w->cap - w->n) {
        w->full = true;
        w->p[w->n] = '\0';
        return;
    }
    w->n += (size_t)k;
}

/* Field text escaped for |^~\& (ward names are the caller's). */
static void put_esc(wbuf *w, const char *s)
{
    static const vigil_hl7_seps seps = {'|', '^', '~', '\\', '&'};
    char tmp[4 * VIGIL_ID_MAX];
    size_t n = 0;
    if (vigil_hl7_escape(&seps, s, strlen(s), tmp, sizeof tmp, &n) != VIGIL_OK) {
        w->full = true;
        return;
    }
    put(w, "%s", tmp);
}

static bool control_id_ok(const char *id)
{
    size_t n = id != NULL ? strlen(id) : 0;
    if (n == 0 || n >= VIGIL_ID_MAX) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '-' || c == '_' || c == '#';
        if (!ok) {
            return false;
        }
    }
    return true;
}

static vigil_status check_opts(const vigil_replay_msg_opts *o, char *out, size_t cap, size_t *out_n,
                               vigil_err *err)
{
    if (o == NULL || out == NULL || out_n == NULL || cap == 0) {
        return vigil_err_set(err, VIGIL_ERR_ARG, NULL, "NULL argument");
    }
    out[0] = '\0';
    if (!control_id_ok(o->control_id)) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "control_id",
                             "control id must be 1 to 63 of A-Z a-z 0-9 . - _ #");
    }
    if (o->processing_id != 'P' && o->processing_id != 'T' && o->processing_id != 'D') {
        return vigil_err_set(err, VIGIL_ERR_ARG, "processing_id",
                             "processing id must be P, T or D");
    }
    return VIGIL_OK;
}

static void put_msh(wbuf *w, const vigil_replay_msg_opts *o, const char *type)
{
    char t[21];
    vigil_hl7_dtm_format(o->sent_ms, t);
    put(w, "MSH|^~\\&|VIGIL-REPLAY|REPLAY|VIGIL|WARD|%s||%s|%s|%c|2.5.1\r", t, type, o->control_id,
        o->processing_id);
}

static void put_pid(wbuf *w, const vigil_replay_patient *p)
{
    put(w, "PID|1||%s^^^NHS^NH~", p->nhs_number);
    put_esc(w, p->mrn);
    put(w, "^^^REPLAY^MR||SYNTHETIC^REPLAY||%s|%c\r", p->dob, p->sex);
}

/* n field separators: from field k to field k + n */
static void put_seps(wbuf *w, int n)
{
    for (int i = 0; i < n; i++) {
        put(w, "|");
    }
}

static void put_pv1(wbuf *w, const vigil_replay_patient *p, bool admit_time)
{
    put(w, "PV1|1|I|");
    put_esc(w, p->ward);
    put(w, "^^");
    put_esc(w, p->bed);
    put_seps(w, 19 - 3);
    put_esc(w, p->visit); /* PV1-19 */
    if (admit_time) {
        char t[21];
        vigil_hl7_dtm_format(p->admit_ms, t);
        put_seps(w, 44 - 19);
        put(w, "%s", t); /* PV1-44 */
    }
    put(w, "\r");
}

static vigil_status finish(wbuf *w, size_t *out_n, vigil_err *err)
{
    if (w->full) {
        w->p[0] = '\0';
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "message buffer too small");
    }
    *out_n = w->n;
    return VIGIL_OK;
}

vigil_status vigil_replay_adt_a01(const vigil_replay_patient *p, const vigil_replay_msg_opts *o,
                                  char *out, size_t cap, size_t *out_n, vigil_err *err)
{
    vigil_status s = check_opts(o, out, cap, out_n, err);
    if (s != VIGIL_OK) {
        return s;
    }
    if (p == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, NULL, "NULL patient");
    }
    wbuf w = {out, cap, 0, false};
    char sent[21], adm[21];
    vigil_hl7_dtm_format(o->sent_ms, sent);
    vigil_hl7_dtm_format(p->admit_ms, adm);
    put_msh(&w, o, "ADT^A01^ADT_A01");
    put(&w, "EVN|A01|%s||||%s\r", sent, adm); /* EVN-2 recorded, EVN-6 occurred */
    put_pid(&w, p);
    put_pv1(&w, p, true);
    return finish(&w, out_n, err);
}

void vigil_replay_format_number(double v, char out[32])
{
    snprintf(out, 32, "%.4f", v);
    char *dot = strchr(out, '.');
    if (dot != NULL) {
        char *e = out + strlen(out) - 1;
        while (e > dot && *e == '0') {
            *e-- = '\0';
        }
        if (e == dot) {
            *e = '\0';
        }
    }
    if (strcmp(out, "-0") == 0) {
        memcpy(out, "0", 2);
    }
}

vigil_status vigil_replay_oru_r01(const vigil_replay_patient *p, const vigil_replay_set *s,
                                  int64_t obs_ms, const vigil_replay_msg_opts *o, char *out,
                                  size_t cap, size_t *out_n, vigil_err *err)
{
    vigil_status st = check_opts(o, out, cap, out_n, err);
    if (st != VIGIL_OK) {
        return st;
    }
    if (p == NULL || s == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, NULL, "NULL argument");
    }
    int present = 0;
    for (int k = 0; k < VIGIL_REPLAY_VITAL_COUNT; k++) {
        present += !isnan(s->v[k]);
    }
    if (present == 0) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "set", "observation set has no vital sign");
    }
    wbuf w = {out, cap, 0, false};
    char t[21];
    vigil_hl7_dtm_format(obs_ms, t);
    put_msh(&w, o, "ORU^R01^ORU_R01");
    put_pid(&w, p);
    put_pv1(&w, p, false);
    put(&w, "OBR|1||%s|85353-1^Vital signs panel^LN|||%s\r", o->control_id, t);
    int i = 0;
    for (int k = 0; k < VIGIL_REPLAY_VITAL_COUNT; k++) {
        if (isnan(s->v[k])) {
            continue;
        }
        char num[32];
        vigil_replay_format_number(s->v[k], num);
        vital_wire d = wire_of(k);
        put(&w, "OBX|%d|NM|%s^%s^LN||%s|%s^%s^UCUM|||||F|||%s||REPLAY\r", ++i, d.code, d.display,
            num, d.unit, d.unit, t);
    }
    return finish(&w, out_n, err);
}
