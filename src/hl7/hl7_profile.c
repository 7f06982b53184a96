/*
 * hl7_profile.c: per-sender interface profiles, how one feed's ORU^R01
 * and ADT messages are read (docs/hl7.md "Interface profiles"): which
 * coding systems are accepted, which OBX-11 result statuses count as valid
 * device data, whether an untyped PID-3 identifier is the hospital number,
 * the sender's time zone, the OBX-8 values that mark demo data, the OBX-5
 * values a device sends for "no measurement", and a local code map.
 *
 * What it does not do: read files (the CLI and the server read them and
 * hand the text here) or change the built-in codes and units of
 * hl7_oru.c, which a profile can only add to through its code map.
 *
 * Invariants: a parsed profile starts from the default, so a file states
 * only what differs; a malformed line refuses the whole profile (never a
 * profile half applied). Profiles are plain data, chosen per message by
 * MSH-3.1 and MSH-4.1 (vigil__hl7_profile_for).
 */
#include <stdio.h>
#include <string.h>

#include "hl7_int.h"
#include "vigil/util.h"

static const char *const param_names[VIGIL_HL7_P_COUNT] = {
    [VIGIL_HL7_P_RR] = "rr",          [VIGIL_HL7_P_HR] = "hr",
    [VIGIL_HL7_P_SPO2] = "spo2",      [VIGIL_HL7_P_SBP] = "sbp",
    [VIGIL_HL7_P_TEMP] = "temp",      [VIGIL_HL7_P_FIO2] = "fio2",
    [VIGIL_HL7_P_O2FLOW] = "o2_flow", [VIGIL_HL7_P_ACVPU] = "acvpu",
    [VIGIL_HL7_P_UNUSED] = "unused",
};

const char *vigil_hl7_param_name(vigil_hl7_param p)
{
    if ((unsigned)p >= VIGIL_HL7_P_COUNT) {
        return "";
    }
    return param_names[p];
}

static uint32_t status_bit(char c)
{
    return (c >= 'A' && c <= 'Z') ? 1u << (c - 'A') : 0;
}

void vigil_hl7_profile_init(vigil_hl7_profile *p)
{
    if (p == NULL) {
        return;
    }
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "default");
    p->pid3_untyped_mrn = true;
    p->systems = VIGIL_HL7_SYS_LN | VIGIL_HL7_SYS_LN_BLANK | VIGIL_HL7_SYS_MDC | VIGIL_HL7_SYS_SCT;
    /* REQ HL7-PROFILE-STATUS: F final, C corrected, R "results entered, not
     * verified": what a bedside monitor sends for every reading (IHE PCD-01) */
    p->statuses = status_bit('F') | status_bit('C') | status_bit('R');
    p->n_demo = 1;
    snprintf(p->demo[0], sizeof p->demo[0], "DEMO");
    /* REQ HL7-PROFILE-SENTINEL: "no measurement" values seen from devices;
     * 8388607 is 0x7FFFFF, the IEEE 11073-20601 FLOAT "NaN" mantissa */
    static const double s[] = {-999.0, 8388607.0, -100.0};
    p->n_sentinels = sizeof s / sizeof s[0];
    memcpy(p->sentinels, s, sizeof s);
}

/* ---- parsing ---------------------------------------------------------------- */

typedef struct line_ctx {
    vigil_hl7_profile *p;
    unsigned line;
    vigil_err *err;
} line_ctx;

static vigil_status bad(const line_ctx *c, const char *what, const char *value)
{
    return vigil_err_set(c->err, VIGIL_ERR_PARSE, "profile", "line %u: %s '%.40s'", c->line, what,
                         value);
}

/* Copy the next blank-separated word of *s into w (cap bytes); 0 when none. */
static int word(const char **s, char *w, size_t cap)
{
    const char *p = *s;
    while (*p == ' ' || *p == '\t') {
        p++;
    }
    size_t n = 0;
    while (p[n] != '\0' && p[n] != ' ' && p[n] != '\t') {
        n++;
    }
    if (n == 0 || n >= cap) {
        *s = p + n;
        return n == 0 ? 0 : -1;
    }
    memcpy(w, p, n);
    w[n] = '\0';
    *s = p + n;
    return 1;
}

static vigil_status set_text(const line_ctx *c, char *dst, size_t cap, const char *v)
{
    if (strlen(v) >= cap) {
        return bad(c, "value too long", v);
    }
    snprintf(dst, cap, "%s", v);
    return VIGIL_OK;
}

static vigil_status set_systems(const line_ctx *c, const char *v)
{
    unsigned sys = 0;
    char w[32];
    int r;
    while ((r = word(&v, w, sizeof w)) != 0) {
        if (r < 0) {
            return bad(c, "unknown coding system", v);
        }
        if (strcmp(w, "LN") == 0) {
            sys |= VIGIL_HL7_SYS_LN;
        } else if (strcmp(w, "LN-blank") == 0) {
            sys |= VIGIL_HL7_SYS_LN_BLANK;
        } else if (strcmp(w, "MDC") == 0) {
            sys |= VIGIL_HL7_SYS_MDC;
        } else if (strcmp(w, "SCT") == 0) {
            sys |= VIGIL_HL7_SYS_SCT;
        } else {
            return bad(c, "unknown coding system (LN, LN-blank, MDC, SCT)", w);
        }
    }
    c->p->systems = sys;
    return VIGIL_OK;
}

static vigil_status set_statuses(const line_ctx *c, const char *v)
{
    uint32_t st = 0;
    char w[8];
    int r;
    while ((r = word(&v, w, sizeof w)) != 0) {
        /* W and D are retractions, never taken over HL7 (docs/hl7.md) */
        if (r < 0 || strlen(w) != 1 || strchr("CFIRPSUX", w[0]) == NULL) {
            return bad(c, "result status is not one of C F I N O P R S U X", r < 0 ? v : w);
        }
        st |= status_bit(w[0]);
    }
    if ((st & status_bit('F')) == 0) {
        return bad(c, "result statuses must include F", "");
    }
    c->p->statuses = st;
    return VIGIL_OK;
}

static vigil_status set_tz(const line_ctx *c, const char *v)
{
    if (strcmp(v, "Europe/London") == 0) {
        c->p->local_tz = VIGIL_HL7_TZ_EUROPE_LONDON;
    } else if (strcmp(v, "UTC") == 0) {
        c->p->local_tz = VIGIL_HL7_TZ_UTC;
    } else if (strcmp(v, "refuse") == 0) {
        c->p->local_tz = VIGIL_HL7_TZ_REFUSE;
    } else {
        /* REQ HL7-TIME-ZONE: any IANA zone; whoever read the file loads it
         * (vigil_tz_load), this code does no I/O */
        size_t n = strlen(v);
        int ok = n > 0 && n < sizeof c->p->tz_name && v[0] != '/' && strstr(v, "..") == NULL;
        for (size_t k = 0; ok && k < n; k++) {
            char ch = v[k];
            ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
                 ch == '_' || ch == '-' || ch == '+' || ch == '/';
        }
        if (!ok) {
            return bad(c, "time zone is not an IANA zone name (Area/Location), UTC or refuse", v);
        }
        c->p->local_tz = VIGIL_HL7_TZ_ZONE;
        snprintf(c->p->tz_name, sizeof c->p->tz_name, "%s", v);
        c->p->zone = NULL;
    }
    c->p->has_tz = true;
    return VIGIL_OK;
}

static vigil_status add_sentinel(const line_ctx *c, const char *v)
{
    vigil_hl7_profile *p = c->p;
    double d = 0.0;
    if (vigil_parse_double(v, &d) != VIGIL_OK) {
        return bad(c, "sentinel is not a number", v);
    }
    if (p->n_sentinels == VIGIL_HL7_PROFILE_LIST_MAX) {
        return bad(c, "too many sentinels", v);
    }
    p->sentinels[p->n_sentinels++] = d;
    return VIGIL_OK;
}

static vigil_status add_demo(const line_ctx *c, const char *v)
{
    vigil_hl7_profile *p = c->p;
    if (p->n_demo == VIGIL_HL7_PROFILE_LIST_MAX) {
        return bad(c, "too many demo flags", v);
    }
    return set_text(c, p->demo[p->n_demo++], sizeof p->demo[0], v);
}

/* code = CODE SYSTEM PARAM ("-" for an empty coding system) */
static vigil_status add_code(const line_ctx *c, const char *v)
{
    vigil_hl7_profile *p = c->p;
    if (p->n_codes == VIGIL_HL7_PROFILE_CODES_MAX) {
        return bad(c, "too many local codes", v);
    }
    vigil_hl7_local_code lc;
    memset(&lc, 0, sizeof lc);
    char param[16];
    const char *s = v;
    if (word(&s, lc.code, sizeof lc.code) != 1 || word(&s, lc.system, sizeof lc.system) != 1 ||
        word(&s, param, sizeof param) != 1 || word(&s, param, 1) != 0) {
        return bad(c, "code needs CODE SYSTEM PARAMETER", v);
    }
    if (strcmp(lc.system, "-") == 0) {
        lc.system[0] = '\0';
    }
    int k = 0;
    for (; k < VIGIL_HL7_P_COUNT; k++) {
        if (strcmp(param, param_names[k]) == 0) {
            break;
        }
    }
    if (k == VIGIL_HL7_P_COUNT) {
        return bad(c, "unknown parameter (rr hr spo2 sbp temp fio2 o2_flow acvpu unused)", param);
    }
    lc.param = (vigil_hl7_param)k;
    p->codes[p->n_codes++] = lc;
    return VIGIL_OK;
}

static vigil_status set_bool(const line_ctx *c, bool *dst, const char *v, const char *yes,
                             const char *no)
{
    if (strcmp(v, yes) == 0) {
        *dst = true;
    } else if (strcmp(v, no) == 0) {
        *dst = false;
    } else {
        return bad(c, "value is not one of the two allowed", v);
    }
    return VIGIL_OK;
}

static vigil_status one_line(const line_ctx *c, const char *key, const char *v)
{
    vigil_hl7_profile *p = c->p;
    if (strcmp(key, "name") == 0) {
        return set_text(c, p->name, sizeof p->name, v);
    }
    if (strcmp(key, "sending_application") == 0) {
        return set_text(c, p->sending_app, sizeof p->sending_app, v);
    }
    if (strcmp(key, "sending_facility") == 0) {
        return set_text(c, p->sending_fac, sizeof p->sending_fac, v);
    }
    if (strcmp(key, "pid3_untyped") == 0) {
        return set_bool(c, &p->pid3_untyped_mrn, v, "mrn", "ignore");
    }
    if (strcmp(key, "coding_systems") == 0) {
        return set_systems(c, v);
    }
    if (strcmp(key, "result_status") == 0) {
        return set_statuses(c, v);
    }
    if (strcmp(key, "time_zone") == 0) {
        return set_tz(c, v);
    }
    if (strcmp(key, "demo_flag") == 0) {
        return add_demo(c, v);
    }
    if (strcmp(key, "no_demo_flags") == 0 && v[0] == '\0') {
        p->n_demo = 0;
        return VIGIL_OK;
    }
    if (strcmp(key, "sentinel") == 0) {
        return add_sentinel(c, v);
    }
    if (strcmp(key, "no_sentinels") == 0 && v[0] == '\0') {
        p->n_sentinels = 0;
        return VIGIL_OK;
    }
    if (strcmp(key, "code") == 0) {
        return add_code(c, v);
    }
    return bad(c, "unknown key", key);
}

/* Trim blanks at both ends of s[0..n) in place; returns the new start. */
static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t') {
        s++;
    }
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) {
        s[--n] = '\0';
    }
    return s;
}

vigil_status vigil_hl7_profile_parse(const char *text, size_t len, vigil_hl7_profile *out,
                                     vigil_err *err)
{
    if (out == NULL || (text == NULL && len > 0)) {
        return vigil_err_set(err, VIGIL_ERR_ARG, "profile", "no profile given");
    }
    vigil_hl7_profile p;
    vigil_hl7_profile_init(&p);
    line_ctx c = {&p, 0, err};
    size_t at = 0;
    while (at < len) {
        size_t end = at;
        while (end < len && text[end] != '\n') {
            end++;
        }
        c.line++;
        char buf[256];
        if (end - at >= sizeof buf) {
            return vigil_err_set(err, VIGIL_ERR_PARSE, "profile", "line %u is too long", c.line);
        }
        memcpy(buf, text + at, end - at);
        buf[end - at] = '\0';
        at = end + 1;
        char *hash = strchr(buf, '#');
        if (hash != NULL) {
            *hash = '\0';
        }
        char *l = trim(buf);
        if (*l == '\0') {
            continue;
        }
        char *eq = strchr(l, '=');
        if (eq == NULL) {
            return bad(&c, "not `key = value`", l);
        }
        *eq = '\0';
        vigil_status st = one_line(&c, trim(l), trim(eq + 1));
        if (st != VIGIL_OK) {
            return st;
        }
    }
    *out = p;
    return VIGIL_OK;
}

/* ---- choosing a profile --------------------------------------------------------- */

/* True when want is "" or equals the first component of the raw HD field. */
static int hd_matches(const char *want, const char *raw, char comp_sep)
{
    if (want[0] == '\0') {
        return 1;
    }
    size_t n = strlen(want);
    return strncmp(raw, want, n) == 0 && (raw[n] == '\0' || raw[n] == comp_sep);
}

const vigil_hl7_profile *vigil__hl7_profile_for(const vigil_hl7_opts *opts,
                                                const vigil_hl7_header *hdr,
                                                vigil_hl7_profile *dflt)
{
    if (opts != NULL && hdr != NULL) {
        char comp = hdr->seps_valid ? hdr->seps.comp : '^';
        for (size_t k = 0; k < opts->n_profiles; k++) {
            const vigil_hl7_profile *p = &opts->profiles[k];
            if (hd_matches(p->sending_app, hdr->sending_app, comp) &&
                hd_matches(p->sending_fac, hdr->sending_fac, comp)) {
                return p;
            }
        }
    }
    vigil_hl7_profile_init(dflt);
    return dflt;
}
