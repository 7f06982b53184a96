/*
 * fhir_test_util.h: helpers shared by the FHIR tests: read a file under the
 * source tree, render events as one canonical line each (the golden .events
 * format), and compare JSON documents.
 */
#ifndef VIGIL_FHIR_TEST_UTIL_H
#define VIGIL_FHIR_TEST_UTIL_H

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vigil/fhir.h"

/* Path under VIGIL_SOURCE_DIR (or the working directory). */
static inline void src_path(char *buf, size_t cap, const char *rel)
{
    const char *root = getenv("VIGIL_SOURCE_DIR");
    snprintf(buf, cap, "%s/%s", root != NULL ? root : ".", rel);
}

/* Whole file, NUL-terminated; NULL if unreadable. Caller frees. */
static inline char *read_file(const char *path, size_t *out_len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    size_t cap = 4096;
    size_t n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (buf == NULL) {
            fclose(f);
            return NULL;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) {
            break;
        }
        if (cap - n - 1 == 0) {
            cap *= 2;
            char *nb = realloc(buf, cap);
            if (nb == NULL) {
                free(buf);
                buf = NULL;
            } else {
                buf = nb;
            }
        }
    }
    fclose(f);
    buf[n] = '\0';
    if (out_len != NULL) {
        *out_len = n;
    }
    return buf;
}

static inline char *read_src(const char *rel, size_t *out_len)
{
    char path[1024];
    src_path(path, sizeof path, rel);
    return read_file(path, out_len);
}

static inline void fmt_num(char *buf, size_t cap, double v)
{
    if (isnan(v)) {
        snprintf(buf, cap, "-");
    } else {
        snprintf(buf, cap, "%.10g", v);
    }
}

/* One canonical line per event (no newline). Time through gmtime_r, an
 * independent path from the module's own formatter. */
static inline void render_event(const vigil_obs_event *ev, char *out, size_t cap)
{
    static const char *const o2s[] = {"-", "air", "oxygen"};
    static const char *const srcs[] = {"unknown", "hl7", "fhir", "api", "replay"};
    time_t secs = (time_t)(ev->t_ms / 1000);
    long ms = (long)(ev->t_ms % 1000);
    if (ms < 0) {
        ms += 1000;
        secs -= 1;
    }
    struct tm tm;
    gmtime_r(&secs, &tm);
    char when[48];
    snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
    char rr[32], spo2[32], sbp[32], hr[32], temp[32];
    fmt_num(rr, sizeof rr, ev->obs.rr_bpm);
    fmt_num(spo2, sizeof spo2, ev->obs.spo2_pct);
    fmt_num(sbp, sizeof sbp, ev->obs.sbp_mmhg);
    fmt_num(hr, sizeof hr, ev->obs.hr_bpm);
    fmt_num(temp, sizeof temp, ev->obs.temp_c);
    const char *acvpu = vigil_acvpu_name(ev->obs.acvpu);
    snprintf(out, cap,
             "nhs=%s mrn=%s t=%s t_ms=%lld source=%s id=%s by=%s rr=%s spo2=%s o2=%s sbp=%s "
             "hr=%s acvpu=%s temp=%s scale=%d",
             ev->nhs_number[0] ? ev->nhs_number : "-", ev->mrn[0] ? ev->mrn : "-", when,
             (long long)ev->t_ms, (unsigned)ev->source < 5 ? srcs[ev->source] : "?",
             ev->source_id[0] ? ev->source_id : "-", ev->recorded_by[0] ? ev->recorded_by : "-", rr,
             spo2, (unsigned)ev->obs.o2 < 3 ? o2s[ev->obs.o2] : "?", sbp, hr,
             acvpu[0] ? acvpu : "-", temp, ev->obs.spo2_scale);
}

#endif
