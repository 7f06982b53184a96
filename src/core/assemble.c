/*
 * assemble.c: observation sets assembled from the pieces real feeds send
 * (vigil/assemble.h). Spec: docs/escalation.md, "Observation sets
 * assembled, not overwritten"; ../shared/spec/escalation.md (stale data,
 * never silently lowered).
 *
 * Does not: score (news2.c), decide escalation (escalation.c), read a clock
 * or allocate. Invariant: an assembled set holds only values measured
 * within the window of the arriving set, each its own measured value.
 */
#include "vigil/assemble.h"

#include <math.h>
#include <string.h>

#include "vigil/vitals.h"

/* Is parameter p present in obs? Copy it. The vital-sign table
 * (vigil/vitals.h) knows where each parameter lives. */
static int has_param(const vigil_obs *o, vigil_news2_param p)
{
    return vigil_vital_present(o, p);
}

static void copy_param(vigil_obs *dst, const vigil_obs *src, vigil_news2_param p)
{
    vigil_vital_copy(dst, src, p);
}

void vigil_obs_recent_init(vigil_obs_recent *r)
{
    memset(r, 0, sizeof *r);
    vigil_obs_init(&r->obs);
}

unsigned vigil_obs_carried(const vigil_obs *obs)
{
    unsigned m = 0;
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        if (has_param(obs, (vigil_news2_param)p)) {
            m |= 1u << p;
        }
    }
    return m;
}

void vigil_obs_recent_note(vigil_obs_recent *r, const vigil_obs *obs, int64_t t_ms)
{
    for (int p = 0; p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        unsigned bit = 1u << p;
        if (!has_param(obs, (vigil_news2_param)p)) {
            continue;
        }
        if ((r->known & bit) && r->t_ms[p] > t_ms) {
            continue; /* a late value never overwrites a newer one */
        }
        copy_param(&r->obs, obs, (vigil_news2_param)p);
        r->t_ms[p] = t_ms;
        r->known |= bit;
    }
}

static int64_t abs_diff(int64_t a, int64_t b)
{
    return a > b ? a - b : b - a;
}

unsigned vigil_obs_assemble(const vigil_obs_recent *r, const vigil_obs *obs, int64_t t_ms,
                            int64_t window_ms, vigil_obs *out)
{
    vigil_obs o = *obs;
    unsigned taken = 0;
    for (int p = 0; window_ms > 0 && p < VIGIL_NEWS2_PARAM_COUNT; p++) {
        unsigned bit = 1u << p;
        if (has_param(&o, (vigil_news2_param)p) || !(r->known & bit) ||
            abs_diff(r->t_ms[p], t_ms) > window_ms) {
            continue;
        }
        /* REQ OBS-ASSEMBLE-WINDOW: a value measured within the window joins the set */
        copy_param(&o, &r->obs, (vigil_news2_param)p);
        taken |= bit;
    }
    *out = o;
    return taken;
}
