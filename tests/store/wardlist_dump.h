/*
 * wardlist_dump.h: every field of a ward-list row or a patient view as
 * text, one line per row, for tests that compare the store's ward list
 * with a golden file or with another store's (test_store_wardlist.c).
 */
#ifndef VIGIL_TEST_WARDLIST_DUMP_H
#define VIGIL_TEST_WARDLIST_DUMP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/store.h"
#include "vigil_test.h"

typedef struct wl_text {
    char *s;
    size_t n, cap;
} wl_text;

static inline void wl_add(wl_text *t, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static inline void wl_add(wl_text *t, const char *fmt, ...)
{
    char one[2048];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(one, sizeof one, fmt, ap);
    va_end(ap);
    assert_true(k >= 0 && (size_t)k < sizeof one);
    if (t->n + (size_t)k + 1 > t->cap) {
        t->cap = (t->n + (size_t)k + 1) * 2;
        t->s = realloc(t->s, t->cap);
        assert_non_null(t->s);
    }
    memcpy(t->s + t->n, one, (size_t)k + 1);
    t->n += (size_t)k;
}

static inline void wl_news2(wl_text *t, const char *tag, const vigil_news2 *n)
{
    wl_add(t, " %s=[", tag);
    for (int i = 0; i < VIGIL_NEWS2_PARAM_COUNT; i++) {
        wl_add(t, "%s%d", i > 0 ? "," : "", n->sub[i]);
    }
    wl_add(t, "] total=%d complete=%d missing=%u sp3=%d risk=%d mon=%d resp=%d flags=%u scale=%d",
           n->total, n->complete, n->missing, n->single_param_3, (int)n->risk,
           (int)n->monitoring, (int)n->response, n->flags, n->spo2_scale);
}

static inline void wl_state(wl_text *t, const vigil_store_patient_state *s)
{
    wl_add(t,
           " optout=%d/%lld scale2=%d/%lld plan=%d id=%lld review=%lld expires=%lld made=%lld "
           "terms=%d level=%d usual=%d by=%s reason=%s daily=%d/%d/%lld open=%d/%lld marthas=%d",
           s->ai_opted_out, (long long)s->ai_optout_since_ms, s->scale2,
           (long long)s->scale2_since_ms, s->plan_active, (long long)s->plan_id,
           (long long)s->plan_review_ms, (long long)s->plan_expires_ms,
           (long long)s->plan_made_ms, s->plan_has_terms, (int)s->plan_level,
           s->plan_news2_usual_max, s->plan_by, s->plan_reason, s->has_daily, (int)s->daily,
           (long long)s->daily_ms, (int)s->open_level, (long long)s->open_episode_id,
           s->n_unreviewed_marthas);
}

static inline void wl_entry(wl_text *t, const vigil_store_ward_entry *e)
{
    const vigil_patient *p = &e->patient;
    wl_add(t, "patient=%lld nhs=%s mrn=%s name=%s born=%s adm=%lld bed=%s since=%lld",
           (long long)p->id, p->nhs_number, p->mrn, p->name, p->birth_date,
           (long long)e->admission_id, e->bed, (long long)e->bed_since_ms);
    wl_add(t, " last_obs=%lld/%lld", (long long)e->last_obs_id, (long long)e->last_obs_ms);
    wl_add(t, " score=%d id=%lld obs=%lld order=%lld", e->has_score, (long long)e->score_id,
           (long long)e->score_obs_ms, (long long)e->score_order_ms);
    if (e->has_score) {
        wl_news2(t, "news2", &e->news2);
        wl_add(t, " ai=%d", e->has_ai);
        if (e->has_ai) {
            wl_add(t, "/%.17g/%d", e->ai_prob, e->ai_low_confidence);
        }
    }
    wl_add(t, " complete=%d/%lld", e->has_complete_score, (long long)e->complete_obs_ms);
    if (e->has_complete_score) {
        wl_news2(t, "cnews2", &e->complete_news2);
    }
    wl_add(t, " peak=%d/%lld", e->has_partial_peak, (long long)e->partial_peak_obs_ms);
    if (e->has_partial_peak) {
        wl_news2(t, "pnews2", &e->partial_peak_news2);
    }
    wl_state(t, &e->state);
    wl_add(t, "\n");
}

static inline void wl_list(wl_text *t, const char *ward, const vigil_store_ward_list *l)
{
    wl_add(t, "ward %s: %zu\n", ward, l->n);
    for (size_t i = 0; i < l->n; i++) {
        wl_entry(t, &l->rows[i]);
    }
}

static inline void wl_current(wl_text *t, const vigil_store_patient_current *c)
{
    wl_add(t, "current ward=%s admitted=%lld score_id=%lld ", c->ward, (long long)c->admitted_ms,
           (long long)c->score_id);
    wl_entry(t, &c->entry);
}

#endif
