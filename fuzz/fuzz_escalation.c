/*
 * fuzz_escalation.c: libFuzzer target for set assembly (vigil/assemble.h) and
 * the escalation policy's partial-set rules (docs/escalation.md, "Observation
 * sets assembled, not overwritten").
 *
 * Decodes the input as a stream of observation sets of one patient (each: a
 * time step, which parameters it carries, their values within the plausible
 * bounds, sometimes late), keeps the caller's record as the server does
 * (latest set, latest complete set, highest partial set since), and checks,
 * aborting on any violation:
 *  - assembly keeps every value the set carried, takes a parameter only from
 *    a value measured within the window, and never takes one the set has;
 *  - REQ ESC-PARTIAL-NEVER-LOWERS: with a partial latest set, the NEWS2 term
 *    of the level is at least the last complete set's level and the partial
 *    peak's level, and the final level is at least the NEWS2 term;
 *  - REQ ESC-AI-NEVER-LOWERS: the final level is at least the NEWS2 term
 *    whatever the AI says;
 *  - every step succeeds on well-formed inputs.
 * Does not: touch files, the network or the clock; keep state between inputs.
 *
 * Run: scripts/fuzz.sh 60 escalation
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/assemble.h"
#include "vigil/escalation.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_escalation: property failed at line %d: %s\n", __LINE__, #cond); \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct reader {
    const uint8_t *p;
    size_t n;
} reader;

static unsigned byte(reader *r)
{
    if (r->n == 0) {
        return 0;
    }
    r->n--;
    return *r->p++;
}

/* A value in [lo, hi] from one byte. */
static double in_range(reader *r, double lo, double hi)
{
    return lo + (hi - lo) * (double)byte(r) / 255.0;
}

static void decode_set(reader *r, unsigned mask, vigil_obs *o)
{
    vigil_obs_init(o);
    if (mask & (1u << VIGIL_NEWS2_RR)) {
        o->rr_bpm = floor(in_range(r, 4, 60));
    }
    if (mask & (1u << VIGIL_NEWS2_SPO2)) {
        o->spo2_pct = floor(in_range(r, 70, 100));
    }
    if (mask & (1u << VIGIL_NEWS2_O2)) {
        o->o2 = (byte(r) & 1) ? VIGIL_O2_OXYGEN : VIGIL_O2_AIR;
    }
    if (mask & (1u << VIGIL_NEWS2_SBP)) {
        o->sbp_mmhg = floor(in_range(r, 50, 250));
    }
    if (mask & (1u << VIGIL_NEWS2_HR)) {
        o->hr_bpm = floor(in_range(r, 25, 220));
    }
    if (mask & (1u << VIGIL_NEWS2_ACVPU)) {
        o->acvpu = (vigil_acvpu)(VIGIL_ACVPU_A + (int)(byte(r) % 5));
    }
    if (mask & (1u << VIGIL_NEWS2_TEMP)) {
        o->temp_c = floor(in_range(r, 33, 42) * 10.0) / 10.0;
    }
}

/* Assembly's own properties for one set. */
static void check_assembly(const vigil_obs_recent *rec, const vigil_obs *o, int64_t t,
                           int64_t window, const vigil_obs *whole, unsigned taken)
{
    unsigned carried = vigil_obs_carried(o);
    CHECK((taken & carried) == 0);
    CHECK((vigil_obs_carried(whole) & carried) == carried);
    CHECK(vigil_obs_carried(whole) == (carried | taken));
    CHECK((taken & ~rec->known) == 0);
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        if (taken & (1u << p)) {
            int64_t d = rec->t_ms[p] > t ? rec->t_ms[p] - t : t - rec->t_ms[p];
            CHECK(d <= window);
        }
    }
    CHECK(!(carried & (1u << VIGIL_NEWS2_RR)) || whole->rr_bpm == o->rr_bpm);
    CHECK(!(carried & (1u << VIGIL_NEWS2_HR)) || whole->hr_bpm == o->hr_bpm);
    CHECK(!(carried & (1u << VIGIL_NEWS2_TEMP)) || whole->temp_c == o->temp_c);
}

/* The caller's record, as src/server/patients.c keeps it. */
typedef struct record {
    bool has_latest, has_complete, has_peak;
    vigil_news2 latest, complete, peak;
    int64_t latest_t, complete_t, peak_t;
} record;

static void note(record *rc, const vigil_news2 *n, int64_t t)
{
    if (!rc->has_latest || t >= rc->latest_t) {
        rc->has_latest = true;
        rc->latest = *n;
        rc->latest_t = t;
    }
    if (n->complete) {
        if (!rc->has_complete || t >= rc->complete_t) {
            rc->has_complete = true;
            rc->complete = *n;
            rc->complete_t = t;
            rc->has_peak = rc->has_peak && rc->peak_t > t;
        }
    } else if ((!rc->has_complete || t > rc->complete_t) &&
               (!rc->has_peak || n->total > rc->peak.total)) {
        rc->has_peak = true;
        rc->peak = *n;
        rc->peak_t = t;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reader r = {data, size};
    const int64_t window = (int64_t)(byte(&r) % 16) * 60 * 1000;
    vigil_escalation_config cfg;
    vigil_escalation_config_init(&cfg);
    cfg.ai_threshold[VIGIL_ESC_URGENT] = 0.3;
    cfg.ai_threshold[VIGIL_ESC_EMERGENCY] = 0.6;
    vigil_escalation_state st;
    vigil_escalation_state_init(&st);
    vigil_obs_recent rec;
    vigil_obs_recent_init(&rec);
    record rc;
    memset(&rc, 0, sizeof rc);
    int64_t now = INT64_C(1700000000000);
    for (int k = 0; k < 64 && r.n > 0; k++) {
        now += (int64_t)byte(&r) * 60 * 1000; /* up to 4 h 15 min between arrivals */
        unsigned mask = byte(&r) & ((1u << VIGIL_NEWS2_PARAM_COUNT) - 1);
        if (mask == 0) {
            continue; /* an empty set is refused before this point */
        }
        int64_t t = now - (int64_t)(byte(&r) % 8 == 0 ? byte(&r) : 0) * 60 * 1000; /* late */
        vigil_obs o, whole;
        decode_set(&r, mask, &o);
        unsigned taken = vigil_obs_assemble(&rec, &o, t, window, &whole);
        check_assembly(&rec, &o, t, window, &whole, taken);
        vigil_obs_recent_note(&rec, &o, t);
        vigil_news2 n;
        CHECK(vigil_news2_score(&whole, &n, NULL) == VIGIL_OK);
        note(&rc, &n, t);

        vigil_escalation_inputs in;
        vigil_escalation_inputs_init(&in);
        in.has_news2 = true;
        in.news2 = rc.latest;
        in.news2_t_ms = rc.latest_t;
        if (!rc.latest.complete) {
            in.has_news2_complete = rc.has_complete;
            in.news2_complete = rc.complete;
            in.news2_complete_t_ms = rc.complete_t;
            in.has_news2_partial_peak = rc.has_peak;
            in.news2_partial_peak = rc.peak;
            in.news2_partial_peak_t_ms = rc.peak_t;
        }
        unsigned ai = byte(&r);
        if (ai < 200) {
            in.ai_status = ai & 1 ? VIGIL_ESC_AI_LOW_CONFIDENCE : VIGIL_ESC_AI_OK;
            in.ai_risk = (double)ai / 200.0;
        }
        vigil_escalation_result res;
        vigil_err err = {0};
        CHECK(vigil_escalation_step(&cfg, &st, &in, now, &st, &res, &err) == VIGIL_OK);
        vigil_esc_level news2_term = res.source_level[VIGIL_ESC_SRC_NEWS2];
        CHECK(res.level >= news2_term);
        CHECK(news2_term >= vigil_escalation_level_from_news2(&rc.latest));
        if (!rc.latest.complete) {
            if (rc.has_complete) {
                CHECK(news2_term >= vigil_escalation_level_from_news2(&rc.complete));
            }
            if (rc.has_peak) {
                CHECK(news2_term >= vigil_escalation_level_from_news2(&rc.peak));
            }
        }
    }
    return 0;
}
