/*
 * monitor.c: the monitoring checks of vigil/monitor.h, day by day from a
 * table of scored sets. Shared by `vigil monitor` (research data replayed as
 * ward days) and `vigil serve`'s monitor thread (the live store), so the two
 * compute the same figures from the same rows.
 *
 * Input drift counts admission-days, not rows: an hourly row carries its
 * admission's last value forward, so one patient with an out-of-range
 * laboratory value contributes it to every hour until the next measurement,
 * and a day's rows are far from independent trials (the row p-chart alarmed
 * on 13 of 63 unchanged days). An admission-day is out of range when any of
 * its values is; the reference is the baseline days' share of such days.
 * Charts with fewer than min_units admissions measured that day are not
 * drawn (a day with one lactate is not evidence either way).
 *
 * What it does not do: I/O, grouping, labelling (vigil/monitor.h).
 * Control-limit helpers: vigil/validation.h (vigil_monitor_pchart & co).
 */
#include "vigil/monitor.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/eval.h"
#include "vigil/validation.h"

void vigil_monitor_cfg_defaults(vigil_monitor_cfg *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->threshold = 0.5;
    cfg->baseline_days = 14;
    cfg->window_days = 7;
    cfg->min_units = 10;
}

/* Per-day tallies, each an array of n_days (inputs: n_inputs * n_days). */
typedef struct tally {
    size_t *in_n, *in_k;
    size_t *scored, *alerts, *events, *labelled;
    size_t *u_scored, *u_alerted; /* admission-days scored; with an alert */
    size_t *u_labelled;           /* admission-days with a scored, labelled set */
    double *expected;             /* sum of risk over scored, labelled sets */
} tally;

static void tally_free(tally *t)
{
    free(t->in_n);
    free(t->in_k);
    free(t->scored);
    free(t->alerts);
    free(t->events);
    free(t->labelled);
    free(t->expected);
    free(t->u_scored);
    free(t->u_alerted);
    free(t->u_labelled);
}

static bool tally_alloc(tally *t, size_t n_in, size_t n_days)
{
    size_t m = n_in > 0 ? n_in : 1;
    *t = (tally){
        .in_n = calloc(m * n_days, sizeof(size_t)),
        .in_k = calloc(m * n_days, sizeof(size_t)),
        .scored = calloc(n_days, sizeof(size_t)),
        .alerts = calloc(n_days, sizeof(size_t)),
        .events = calloc(n_days, sizeof(size_t)),
        .labelled = calloc(n_days, sizeof(size_t)),
        .expected = calloc(n_days, sizeof(double)),
        .u_scored = calloc(n_days, sizeof(size_t)),
        .u_alerted = calloc(n_days, sizeof(size_t)),
        .u_labelled = calloc(n_days, sizeof(size_t)),
    };
    if (t->in_n == NULL || t->in_k == NULL || t->scored == NULL || t->alerts == NULL ||
        t->events == NULL || t->labelled == NULL || t->expected == NULL || t->u_scored == NULL ||
        t->u_alerted == NULL || t->u_labelled == NULL) {
        tally_free(t);
        return false;
    }
    return true;
}

static bool row_scored(const vigil_monitor_rows *r, size_t i)
{
    return r->risk != NULL && !isnan(r->risk[i]);
}

static bool row_labelled(const vigil_monitor_rows *r, size_t i)
{
    return row_scored(r, i) && r->label != NULL && r->label[i] >= 0;
}

/* Continued fraction of the incomplete beta function (modified Lentz; Press
 * et al., Numerical Recipes, 3rd ed., 6.4). */
static double beta_cf(double a, double b, double x)
{
    const double tiny = 1e-300;
    double qab = a + b, qap = a + 1.0, qam = a - 1.0, c = 1.0, d = 1.0 - qab * x / qap;
    d = 1.0 / (fabs(d) < tiny ? tiny : d);
    double h = d;
    for (int m = 1; m <= 300; m++) {
        double m2 = 2.0 * m, aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        d = 1.0 / (fabs(d) < tiny ? tiny : d);
        c = 1.0 + aa / c;
        c = fabs(c) < tiny ? tiny : c;
        h *= d * c;
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        d = 1.0 / (fabs(d) < tiny ? tiny : d);
        c = 1.0 + aa / c;
        c = fabs(c) < tiny ? tiny : c;
        double del = d * c;
        h *= del;
        if (fabs(del - 1.0) < 1e-14) {
            break;
        }
    }
    return h;
}

/* The regularised incomplete beta function I_x(a, b), a, b > 0. */
static double beta_inc(double a, double b, double x)
{
    if (x <= 0.0) {
        return 0.0;
    }
    if (x >= 1.0) {
        return 1.0;
    }
    double lbt = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
    if (x < (a + 1.0) / (a + b + 2.0)) {
        return exp(lbt) * beta_cf(a, b, x) / a;
    }
    return 1.0 - exp(lbt) * beta_cf(b, a, 1.0 - x) / b;
}

/* The regularised lower incomplete gamma function P(a, x), a > 0, x >= 0
 * (series for x < a + 1, else continued fraction: Press et al., Numerical
 * Recipes, 3rd ed., 6.2). */
static double gamma_p(double a, double x)
{
    if (x <= 0.0) {
        return 0.0;
    }
    double gln = lgamma(a);
    if (x < a + 1.0) {
        double ap = a, del = 1.0 / a, sum = del;
        for (int n = 0; n < 1000; n++) {
            ap += 1.0;
            del *= x / ap;
            sum += del;
            if (fabs(del) < fabs(sum) * 1e-15) {
                break;
            }
        }
        return sum * exp(-x + a * log(x) - gln);
    }
    const double tiny = 1e-300;
    double b = x + 1.0 - a, c = 1.0 / tiny, d = 1.0 / b, h = d;
    for (int i = 1; i < 1000; i++) {
        double an = -i * (i - a);
        b += 2.0;
        d = an * d + b;
        d = fabs(d) < tiny ? tiny : d;
        c = b + an / c;
        c = fabs(c) < tiny ? tiny : c;
        d = 1.0 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1.0) < 1e-15) {
            break;
        }
    }
    return 1.0 - exp(-x + a * log(x) - gln) * h;
}

/* P(N >= k) and P(N <= k) for N ~ Poisson(mu), continuous in k >= 0
 * (P(k, mu) and Q(k + 1, mu)), so a design effect can scale k and mu. */
static double poisson_upper(double k, double mu)
{
    return k <= 0.0 ? 1.0 : gamma_p(k, mu);
}

static double poisson_lower(double k, double mu)
{
    return 1.0 - gamma_p(k + 1.0, mu);
}

/* P(X >= k) for X ~ Binomial(n, p), continuous in k and n (I_p(k, n - k + 1)),
 * so a design effect can scale both. */
static double binom_upper(double k, double n, double p)
{
    if (k <= 0.0) {
        return 1.0;
    }
    if (k > n) {
        return 0.0;
    }
    return beta_inc(k, n - k + 1.0, p);
}

/* P(X <= k) for X ~ Binomial(n, p), continuous in k and n (I_{1-p}(n - k, k + 1)). */
static double binom_lower(double k, double n, double p)
{
    if (k >= n) {
        return 1.0;
    }
    if (k < 0.0) {
        return 0.0;
    }
    return beta_inc(n - k, k + 1.0, 1.0 - p);
}

/*
 * The exact p-chart of an input: k of n admissions out of range against p0,
 * with Laney's sigma_z as a design effect (n and k divided by sigma_z^2: the
 * chart then has sigma_z times the binomial spread). The upper limit is the
 * share whose binomial upper tail is alpha; the normal approximation of the
 * plain p-chart is poor at 15 to 30 admissions a day and a 1% to 10% share
 * (it alarmed on 2 of 16 at a 1.6% reference).
 */
static void pchart_exact(size_t k, size_t n, double p0, double alpha, double sigma_z,
                         double *out_limit, bool *out_alarm)
{
    if (n == 0) {
        *out_limit = 1.0;
        *out_alarm = false;
        return;
    }
    double de = fmax(1.0, sigma_z) * fmax(1.0, sigma_z), ne = (double)n / de;
    double lo = 0.0, hi = ne + 1.0;
    for (int i = 0; i < 100; i++) {
        double mid = 0.5 * (lo + hi);
        if (binom_upper(mid, ne, p0) > alpha) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    *out_limit = fmin(1.0, hi / ne);
    *out_alarm = binom_upper((double)k / de, ne, p0) <= alpha;
}

/* Rows out of order (an admission split, a day going back) or days out of
 * range make the admission-day clusters wrong: refused. */
static vigil_status check_rows(const vigil_monitor_rows *r, size_t n_days, vigil_err *err)
{
    for (size_t i = 0; i < r->n; i++) {
        if (r->day[i] < 0 || (size_t)r->day[i] >= n_days) {
            return vigil_err_set(err, VIGIL_ERR_ARG, "day", "row %zu: day %d outside [0, %zu)", i,
                                 (int)r->day[i], n_days);
        }
        if (i > 0 && r->unit[i] == r->unit[i - 1] && r->day[i] < r->day[i - 1]) {
            return vigil_err_set(err, VIGIL_ERR_ARG, "day", "row %zu: admission's day goes back",
                                 i);
        }
    }
    return VIGIL_OK;
}

/* One admission-day: rows [i0, i1) of one unit and day. */
static void tally_cluster(const vigil_monitor_cfg *cfg, const vigil_monitor_rows *r, size_t i0,
                          size_t i1, size_t n_days, tally *t)
{
    size_t d = (size_t)r->day[i0], n_in = cfg->n_inputs;
    bool scored = false, alerted = false, labelled = false;
    for (size_t i = i0; i < i1; i++) {
        scored = scored || row_scored(r, i);
        labelled = labelled || row_labelled(r, i);
        alerted = alerted || (row_scored(r, i) && r->risk[i] >= cfg->threshold);
    }
    t->u_scored[d] += scored;
    t->u_alerted[d] += alerted;
    t->u_labelled[d] += labelled;
    for (size_t k = 0; k < n_in; k++) {
        bool measured = false, out = false;
        for (size_t i = i0; i < i1; i++) {
            float v = r->x[i * n_in + k];
            if (!isnan(v)) {
                measured = true;
                out = out || v < cfg->inputs[k].lo || v > cfg->inputs[k].hi;
            }
        }
        t->in_n[k * n_days + d] += measured;
        t->in_k[k * n_days + d] += out;
    }
}

static void tally_rows(const vigil_monitor_cfg *cfg, const vigil_monitor_rows *r, size_t n_days,
                       tally *t)
{
    size_t i0 = 0;
    for (size_t i = 0; i < r->n; i++) {
        size_t d = (size_t)r->day[i];
        if (row_scored(r, i)) {
            t->scored[d]++;
            t->alerts[d] += r->risk[i] >= cfg->threshold;
        }
        if (row_labelled(r, i)) {
            t->labelled[d]++;
            t->events[d] += r->label[i] == 1;
            t->expected[d] += r->risk[i];
        }
        bool last = i + 1 == r->n || r->unit[i + 1] != r->unit[i] || r->day[i + 1] != r->day[i];
        if (last) {
            tally_cluster(cfg, r, i0, i + 1, n_days, t);
            i0 = i + 1;
        }
    }
}

/* The reference of each chart from the baseline days. */
/*
 * The calibration chart's design effect (docs/eval.md "Calibration limit"):
 * the cluster-robust variance of O - E over the baseline's admissions,
 * sum_c (O_c - b E_c)^2, against its Poisson value, sum_c b E_c (b the
 * baseline's O:E). An admission's event hours come in a run (a label stays 1
 * from before onset to the end of the stay) and are predicted together, so
 * hours are not independent trials; admissions are. At least 1.
 */
static double oe_design_effect(const vigil_monitor_rows *r, size_t baseline_days, double b)
{
    double num = 0.0, den = 0.0, oc = 0.0, ec = 0.0;
    for (size_t i = 0; i < r->n; i++) {
        if ((size_t)r->day[i] < baseline_days && row_labelled(r, i)) {
            oc += r->label[i] == 1;
            ec += b * r->risk[i];
        }
        if (i + 1 == r->n || r->unit[i + 1] != r->unit[i]) {
            num += (oc - ec) * (oc - ec);
            den += ec;
            oc = ec = 0.0;
        }
    }
    return den > 0.0 ? fmax(1.0, num / den) : 1.0;
}

/*
 * The quiet-AI chart's design effect: the cluster-robust variance of the
 * baseline's alerted admission-days, sum_c (a_c - p0 n_c)^2 over admissions c
 * (a_c of n_c scored admission-days alerted), against its binomial value,
 * sum_c n_c p0 (1 - p0). An admission alerting one day tends to alert the
 * next, so a window's admission-days are not independent trials; admissions
 * are. At least 1.
 */
static double alert_design_effect(const vigil_monitor_cfg *cfg, const vigil_monitor_rows *r,
                                  double p0)
{
    double num = 0.0, den = 0.0, ac = 0.0, nc = 0.0;
    bool scored = false, alerted = false;
    for (size_t i = 0; i < r->n; i++) {
        bool base = (size_t)r->day[i] < cfg->baseline_days;
        if (base && row_scored(r, i)) {
            scored = true;
            alerted = alerted || r->risk[i] >= cfg->threshold;
        }
        bool day_end = i + 1 == r->n || r->unit[i + 1] != r->unit[i] || r->day[i + 1] != r->day[i];
        if (day_end) {
            nc += scored;
            ac += alerted;
            scored = alerted = false;
        }
        if (i + 1 == r->n || r->unit[i + 1] != r->unit[i]) {
            num += (ac - p0 * nc) * (ac - p0 * nc);
            den += nc * p0 * (1.0 - p0);
            ac = nc = 0.0;
        }
    }
    return den > 0.0 ? fmax(1.0, num / den) : 1.0;
}

static void reference(const vigil_monitor_cfg *cfg, const vigil_monitor_rows *rows, const tally *t,
                      size_t n_days, vigil_monitor_ref *ref)
{
    size_t bd = cfg->baseline_days;
    memset(ref, 0, sizeof *ref);
    ref->alpha_input = VIGIL_MONITOR_ALPHA / (double)(cfg->n_inputs > 0 ? cfg->n_inputs : 1);
    for (size_t k = 0; k < cfg->n_inputs; k++) {
        const size_t *n = t->in_n + k * n_days, *x = t->in_k + k * n_days;
        size_t sk = 0, sn = 0;
        size_t cn[64], ck[64], m = 0; /* charted baseline days */
        for (size_t d = 0; d < bd; d++) {
            if (n[d] >= cfg->min_units && m < 64) {
                cn[m] = n[d];
                ck[m] = x[d];
                m++;
                sk += x[d];
                sn += n[d];
            }
        }
        ref->in_p0[k] = fmin(0.999, fmax(0.01, sn > 0 ? (double)sk / (double)sn : 0.0));
        ref->in_sigma[k] = vigil_monitor_laney_sigma(ck, cn, m, ref->in_p0[k]);
    }
    size_t sa = 0, ss = 0, se = 0;
    double sx = 0.0;
    for (size_t d = 0; d < bd; d++) {
        sa += t->u_alerted[d];
        ss += t->u_scored[d];
        se += t->events[d];
        sx += t->expected[d];
    }
    ref->alert_p0 = ss > 0 ? fmin(0.999, fmax(1.0 / (double)ss, (double)sa / (double)ss)) : 0.5;
    ref->alert_sigma = vigil_monitor_laney_sigma(t->u_alerted, t->u_scored, bd, ref->alert_p0);
    /* the window's design effect: between admissions, or between days when
     * the days vary more (a busy week's case mix), whichever is larger */
    ref->alert_window_de = fmax(alert_design_effect(cfg, rows, ref->alert_p0),
                                fmax(1.0, ref->alert_sigma) * fmax(1.0, ref->alert_sigma));
    ref->oe_base = sx > 0 && se > 0 ? (double)se / sx : 1.0;
    ref->oe_design_effect = oe_design_effect(rows, bd, ref->oe_base);
    ref->oe_sigma = sqrt(ref->oe_design_effect);
}

/* AUROC over the scored, labelled rows of days [d0, d1]. */
static double window_auroc(const vigil_monitor_rows *r, int32_t d0, int32_t d1, double *score,
                           uint8_t *y)
{
    size_t m = 0;
    for (size_t i = 0; i < r->n; i++) {
        if (r->day[i] >= d0 && r->day[i] <= d1 && row_labelled(r, i)) {
            score[m] = r->risk[i];
            y[m] = r->label[i] == 1;
            m++;
        }
    }
    double auc = NAN;
    if (vigil_eval_auroc(score, y, m, &auc, NULL) != VIGIL_OK) {
        auc = NAN;
    }
    return auc;
}

/*
 * The calibration chart of one window (docs/eval.md "Calibration limit").
 * Under "calibrated as in the baseline" the window's event hours O are a
 * compound Poisson count: admissions (independent) bring their event hours
 * in runs, so O = phi N with N ~ Poisson(E / phi), phi the baseline's design
 * effect (oe_design_effect: the cluster-robust variance of O - E over its
 * Poisson value). The alarm is the exact Poisson tail of the effective
 * count O / phi against E / phi, either direction, each at half of
 * VIGIL_MONITOR_ALPHA (the same exact-tail-with-design-effect rule as the
 * input charts). The limits, in event hours, are where the tails reach it.
 * A window with fewer than min_units labelled admission-days is not charted.
 */
static void calib_chart(vigil_monitor_day *o, const vigil_monitor_ref *ref, bool charted)
{
    double phi = fmax(1.0, ref->oe_design_effect), a = VIGIL_MONITOR_ALPHA / 2.0;
    double mu = o->w_expected / phi, k = (double)o->w_events / phi;
    o->oe = o->w_expected > 0.0 ? (double)o->w_events / o->w_expected : 0.0;
    o->calib_charted = charted && mu > 0.0;
    if (!(mu > 0.0)) {
        o->calib_lo = o->calib_hi = 0.0;
        return;
    }
    /* the limits: the smallest k with P(N >= k) <= a; the largest with P(N <= k) <= a */
    double lo = mu, hi = mu + 40.0 * sqrt(mu) + 40.0;
    for (int i = 0; i < 100; i++) {
        double mid = 0.5 * (lo + hi);
        if (poisson_upper(mid, mu) > a) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    o->calib_hi = phi * hi;
    lo = 0.0;
    hi = mu;
    if (poisson_lower(0.0, mu) > a) {
        hi = 0.0; /* even no event at all is within the limit */
    }
    for (int i = 0; hi > 0.0 && i < 100; i++) {
        double mid = 0.5 * (lo + hi);
        if (poisson_lower(mid, mu) <= a) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    o->calib_lo = phi * lo;
    o->calib_p = fmin(poisson_upper(k, mu), poisson_lower(k, mu));
    o->calib_alarm = o->calib_charted && o->monitoring && o->calib_p <= a;
}

/*
 * The quiet-AI chart (REQ MON-ALERT-LOW): the window's share of admission-days
 * with an AI alert against the baseline's, lower side only (the daily chart
 * above takes the upper side). A model whose outputs fall (odds halved), or a
 * feed that stops carrying what it scores on, alerts less: the risk is false
 * reassurance, and no outcome is needed to see it. Exact binomial lower tail
 * with the admission-clustered design effect, alpha VIGIL_MONITOR_ALPHA a
 * day; charted with at least min_units admission-days in the window.
 */
static void alert_low_chart(vigil_monitor_day *o, const vigil_monitor_ref *ref, size_t k,
                            size_t n, size_t min_units)
{
    o->w_units_scored = n;
    o->w_units_alerted = k;
    o->w_alert_share = n > 0 ? (double)k / (double)n : 0.0;
    o->alert_low_charted = n >= min_units && n > 0;
    o->alert_low_limit = 0.0;
    o->alert_low_alarm = false;
    if (!o->alert_low_charted) {
        return;
    }
    double de = fmax(1.0, ref->alert_window_de), ne = (double)n / de, a = VIGIL_MONITOR_ALPHA;
    /* the limit: the largest count whose lower tail is at most alpha */
    double lo = 0.0, hi = ne * ref->alert_p0;
    if (binom_lower(0.0, ne, ref->alert_p0) > a) {
        hi = 0.0; /* even no alert at all is within the limit */
    }
    for (int i = 0; hi > 0.0 && i < 100; i++) {
        double mid = 0.5 * (lo + hi);
        if (binom_lower(mid, ne, ref->alert_p0) <= a) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    o->alert_low_limit = lo / ne;
    o->alert_low_alarm = o->monitoring && binom_lower((double)k / de, ne, ref->alert_p0) <= a;
}

static void fill_day(const vigil_monitor_cfg *cfg, const vigil_monitor_rows *r, const tally *t,
                     size_t n_days, size_t d, const vigil_monitor_ref *ref, double *score,
                     uint8_t *y, vigil_monitor_day *o)
{
    memset(o, 0, sizeof *o);
    o->day = (int32_t)d;
    o->monitoring = d >= cfg->baseline_days;
    for (size_t k = 0; k < cfg->n_inputs; k++) {
        vigil_monitor_input_day *in = &o->in[k];
        in->n_units = t->in_n[k * n_days + d];
        in->n_out = t->in_k[k * n_days + d];
        in->charted = in->n_units >= cfg->min_units;
        bool alarm = false;
        pchart_exact(in->n_out, in->n_units, ref->in_p0[k], ref->alpha_input, ref->in_sigma[k],
                     &in->limit, &alarm);
        in->share = in->n_units > 0 ? (double)in->n_out / (double)in->n_units : 0.0;
        in->alarm = alarm && in->charted && o->monitoring;
        o->n_input_alarms += in->alarm;
    }
    o->n_scored = t->scored[d];
    o->n_alerts = t->alerts[d];
    o->alert_rate = o->n_scored > 0 ? (double)o->n_alerts / (double)o->n_scored : 0.0;
    o->n_units_scored = t->u_scored[d];
    o->n_units_alerted = t->u_alerted[d];
    o->unit_alert_rate =
        o->n_units_scored > 0 ? (double)o->n_units_alerted / (double)o->n_units_scored : 0.0;
    bool a_alarm = false;
    pchart_exact(o->n_units_alerted, o->n_units_scored, ref->alert_p0, VIGIL_MONITOR_ALPHA,
                 ref->alert_sigma, &o->alert_limit, &a_alarm);
    o->alert_alarm = a_alarm && o->monitoring;
    o->auroc = NAN;
    o->has_window = d + 1 >= cfg->window_days;
    if (o->has_window) {
        size_t d0 = d + 1 - cfg->window_days;
        double e = 0.0;
        for (size_t w = d0; w <= d; w++) {
            o->w_events += t->events[w];
            o->w_labelled += t->labelled[w];
            e += t->expected[w];
        }
        o->w_expected = e * ref->oe_base;
        size_t units = 0;
        for (size_t w = d0; w <= d; w++) {
            units += t->u_labelled[w];
        }
        calib_chart(o, ref, units >= cfg->min_units);
        size_t wk = 0, wn = 0;
        for (size_t w = d0; w <= d; w++) {
            wk += t->u_alerted[w];
            wn += t->u_scored[w];
        }
        alert_low_chart(o, ref, wk, wn, cfg->min_units);
        if (!cfg->auroc_last_day_only || d + 1 == n_days) {
            o->auroc = window_auroc(r, (int32_t)d0, (int32_t)d, score, y);
        }
    }
}

vigil_status vigil_monitor_compute(const vigil_monitor_cfg *cfg, const vigil_monitor_rows *rows,
                                   size_t n_days, vigil_monitor_day *out_days,
                                   vigil_monitor_ref *out_ref, vigil_err *err)
{
    if (cfg == NULL || rows == NULL || out_days == NULL ||
        cfg->n_inputs > VIGIL_MONITOR_MAX_INPUTS || cfg->baseline_days < 2 ||
        cfg->baseline_days > 64 || cfg->window_days == 0 || n_days <= cfg->baseline_days ||
        (rows->n > 0 &&
         (rows->day == NULL || rows->unit == NULL || (cfg->n_inputs > 0 && rows->x == NULL)))) {
        return vigil_err_set(err, VIGIL_ERR_ARG, NULL,
                             "monitor: bad configuration (%zu days, %zu baseline days, %zu inputs)",
                             n_days, cfg != NULL ? cfg->baseline_days : 0,
                             cfg != NULL ? cfg->n_inputs : 0);
    }
    vigil_status s = check_rows(rows, n_days, err);
    if (s != VIGIL_OK) {
        return s;
    }
    tally t;
    double *score = malloc(sizeof *score * (rows->n > 0 ? rows->n : 1));
    uint8_t *y = malloc(rows->n > 0 ? rows->n : 1);
    vigil_monitor_day *days = malloc(sizeof *days * n_days);
    if (score == NULL || y == NULL || days == NULL || !tally_alloc(&t, cfg->n_inputs, n_days)) {
        free(score);
        free(y);
        free(days);
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "monitor: out of memory");
    }
    tally_rows(cfg, rows, n_days, &t);
    vigil_monitor_ref ref;
    reference(cfg, rows, &t, n_days, &ref);
    for (size_t d = 0; d < n_days; d++) {
        fill_day(cfg, rows, &t, n_days, d, &ref, score, y, &days[d]);
    }
    memcpy(out_days, days, sizeof *days * n_days);
    if (out_ref != NULL) {
        *out_ref = ref;
    }
    tally_free(&t);
    free(score);
    free(y);
    free(days);
    return VIGIL_OK;
}

int8_t vigil_monitor_label(int64_t t_ms, int64_t outcome_ms, int64_t now_ms, int64_t horizon_ms,
                           int64_t delay_ms)
{
    if (outcome_ms >= t_ms && outcome_ms - t_ms <= horizon_ms) {
        return 1;
    }
    return now_ms - t_ms >= horizon_ms + delay_ms ? 0 : -1;
}
