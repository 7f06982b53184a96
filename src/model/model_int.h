/*
 * model_int.h: internals of the model module shared by its .c files: the
 * timeline's layout (timeline.c builds it, features.c reads it).
 * Private to src/model.
 */
#ifndef VIGIL_MODEL_INT_H
#define VIGIL_MODEL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/features.h"

/* One variable's measurements, sorted by time once finished. */
typedef struct vigil__series {
    double *t;
    double *v;
    size_t n, cap;
    bool unsorted; /* an out-of-order add happened since the last finish */
} vigil__series;

/* NEWS2 at one hour, as features use it. */
typedef struct vigil__news2_hour {
    int8_t sub[VIGIL_NEWS2_PARAM_COUNT]; /* VIGIL_NEWS2_SUB_MISSING when missing */
    int8_t total;                        /* partial total; -1 when no parameter present */
    uint8_t n_missing;
    bool complete;
} vigil__news2_hour;

struct vigil_timeline {
    vigil__series s[VIGIL_VAR_COUNT];
    double age_y;
    double sex;             /* 0, 1 or NaN */
    double first_t, last_t; /* records; NaN when none */
    bool finished;
    /* the hourly grid over [lo, hi]: cnt[(h - lo) * VIGIL_VAR_COUNT + var] is
     * the number of measurements of var with t <= h */
    long lo, hi;
    bool have_grid;
    uint32_t *cnt;
    size_t cnt_cap;
    vigil__news2_hour *news2; /* per hour over [lo, hi] */
    size_t news2_cap;
};

/* Measurements of var with t <= hour (finished timeline). */
static inline size_t vigil__tl_cnt(const vigil_timeline *tl, vigil_var var, long hour)
{
    if (!tl->have_grid || hour < tl->lo) {
        return 0;
    }
    if (hour > tl->hi) {
        return tl->s[var].n;
    }
    return tl->cnt[(size_t)(hour - tl->lo) * VIGIL_VAR_COUNT + (size_t)var];
}

/* NEWS2 at hour as features use it (cached within [lo, hi]). */
void vigil__tl_news2_hour(const vigil_timeline *tl, long hour, vigil__news2_hour *out);

#endif
