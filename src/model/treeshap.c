/*
 * treeshap.c: exact path-dependent TreeSHAP for the flattened ensemble.
 *
 * Computes the quantity of Lundberg et al. 2020 ("From local explanations to
 * global understanding with explainable AI for trees", Algorithm 2) that
 * XGBoost's pred_contribs returns, with node covers from sum_hessian, but
 * without Algorithm 2's O(L D^2) per-tree path unwinding. Instead it uses
 * the polynomial view of Linear TreeSHAP (Yu et al. 2022) with per-tree
 * preparation at load time (in the spirit of Fast TreeSHAP v2, Yang 2021):
 *
 *   For a leaf l with value v, unique path features U (|U| = d), cover
 *   fraction z_j (product over the path's edges on j) and "x follows the
 *   path" indicator o_j (AND over those edges), the path-dependent game is
 *   f_l(S) = v prod_{j in U} (j in S ? o_j : z_j), whose Shapley values are
 *     phi_i(l) = v (o_i - z_i) sum_{S in U\i} |S|! (d-1-|S|)! / d! prod(...)
 *              = v (o_i - z_i) integral_0^1 prod_{j in U\i} c_j(t) dt,
 *   with c_j(t) = z_j + (o_j - z_j) t: a polynomial of degree d - 1, so
 *   Gauss-Legendre quadrature with nq >= ceil(depth / 2) points is exact.
 *
 *   Top-down, each edge multiplies the running product P(t) by its factor
 *   F (c_e, or c_e / c_prev when an ancestor edge prev(e) splits on the same
 *   feature: the two combine as Algorithm 2's unwind/extend does). Bottom-up,
 *   D(n) = sum over leaves below n of v times the factors below n, so the
 *   leaves below edge e into c contribute P(c) D(c) = P(parent) F D(c).
 *   Feature i collects, per edge e on i, P(parent) F D(c) times
 *   [(o-z)/c]_e - [(o-z)/c]_prev(e); per leaf these differences telescope
 *   to the formula above, and the division by c_e cancels against F, leaving
 *   K = P(parent) (o - z) for edges without a prev (the common case). The
 *   row enters only through o, so a row costs one top-down and one
 *   bottom-up pass over each tree's splits: O(splits x nq) multiply-adds,
 *   with one 64-byte record streamed per split.
 *
 * Does not: compute interaction values or interventional SHAP; allocate
 * per call; start threads.
 *
 * Invariants: every factor is finite: z = 0 makes F = 0 below it (the exact
 * contribution there is 0) and c_prev with o_prev = 1 is >= t > 0;
 * quadrature weights sum to 1 (checked at load).
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "trees_int.h"

#define CACHE_LINE 64u

#if defined(__GNUC__)
#define ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define ALWAYS_INLINE inline
#endif

/* x86-64 with GCC and glibc: also build the kernel for AVX2/FMA machines
 * and pick at load time (ifunc); elsewhere the baseline build runs. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__GLIBC__) && \
    !defined(VIGIL_NO_TARGET_CLONES)
#define KERNEL_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define KERNEL_CLONES
#endif

/* Four quadrature lanes: one AVX register, two SSE2 registers. */
typedef double vd __attribute__((vector_size(32)));

_Static_assert(sizeof(vigil__split) == CACHE_LINE, "one split per cache line");
_Static_assert(VIGIL__NQ_BLOCK * sizeof(double) == sizeof(vd), "a block is one vd");

/* all four lanes v (a macro: a function returning vd would change the ABI
 * between the baseline and AVX builds); v must be a plain variable */
#define SPLAT(v) ((vd){(v), (v), (v), (v)})

/* ---- load-time preparation --------------------------------------------- */

/* Gauss-Legendre nodes t[] and weights w[] on [0, 1] (Newton on P_n). */
static void gauss_legendre01(size_t n, double *t, double *w)
{
    const double pi = acos(-1.0);
    for (size_t i = 0; i < n; i++) {
        double x = cos(pi * ((double)i + 0.75) / ((double)n + 0.5));
        double dp = 1.0;
        for (int it = 0; it < 100; it++) {
            double p0 = 1.0, p1 = x;
            for (size_t k = 1; k < n; k++) {
                double p2 = ((double)(2 * k + 1) * x * p1 - (double)k * p0) / (double)(k + 1);
                p0 = p1;
                p1 = p2;
            }
            /* P_n'(x) = n (x P_n - P_{n-1}) / (x^2 - 1); n == 1: P_1' = 1 */
            dp = n == 1 ? 1.0 : (double)n * (x * p1 - p0) / (x * x - 1.0);
            double dx = p1 / dp;
            x -= dx;
            if (fabs(dx) < 1e-16) {
                break;
            }
        }
        t[i] = 0.5 * (1.0 - x);
        w[i] = 1.0 / ((1.0 - x * x) * dp * dp);
    }
}

static void *aligned_calloc(size_t n_bytes)
{
    void *p = NULL;
    size_t sz = (n_bytes + CACHE_LINE - 1) / CACHE_LINE * CACHE_LINE;
    if (sz == 0) {
        sz = CACHE_LINE;
    }
    if (posix_memalign(&p, CACHE_LINE, sz) != 0) {
        return NULL;
    }
    memset(p, 0, sz);
    return p;
}

/* Nearest ancestor of node c whose incoming edge splits on feature f (the
 * feature of c's own incoming edge), or -1. */
static int32_t prev_edge(const vigil__tnode *nd, const int32_t *par, size_t c, uint32_t f)
{
    for (size_t anc = (size_t)par[c]; anc != 0;) {
        size_t pa = (size_t)par[anc];
        if ((nd[pa].ff & VIGIL__TNODE_FEAT_MASK) == f) {
            return (int32_t)anc;
        }
        anc = pa;
    }
    return -1;
}

/* One tree: prev and zc of every node, its split records (general splits
 * to *sp, terminal ones to *tm, advancing both); returns the tree's
 * cover-weighted mean leaf value (XGBoost's node mean value). */
static double prepare_tree(vigil__tnode *nd, size_t cnt, const double *covers,
                           const int32_t *par, double *zc, double *reach, vigil__split **sp,
                           vigil__term **tm)
{
    nd[0].prev = -1;
    zc[0] = 1.0;
    reach[0] = 1.0;
    double mean = (nd[0].ff & VIGIL__TNODE_LEAF) ? (double)nd[0].value : 0.0;
    for (size_t c = 1; c < cnt; c++) {
        size_t p = (size_t)par[c];
        uint32_t f = nd[p].ff & VIGIL__TNODE_FEAT_MASK;
        /* XGBoost's zero fraction: child cover / parent cover */
        double z = covers[c] / covers[p];
        int32_t pv = prev_edge(nd, par, c, f);
        nd[c].prev = pv;
        zc[c] = z * (pv >= 0 ? zc[pv] : 1.0);
        reach[c] = reach[p] * z;
        if (nd[c].ff & VIGIL__TNODE_LEAF) {
            mean += reach[c] * (double)nd[c].value;
        }
    }
    for (size_t p = 0; p < cnt; p++) {
        if (nd[p].ff & VIGIL__TNODE_LEAF) {
            continue;
        }
        size_t kid[2] = {p + 1, nd[p].right};
        bool leaf[2], prev = false;
        for (size_t e = 0; e < 2; e++) {
            leaf[e] = (nd[kid[e]].ff & VIGIL__TNODE_LEAF) != 0;
            prev = prev || nd[kid[e]].prev >= 0;
        }
        if (leaf[0] && leaf[1] && !prev) {
            vigil__term *t = (*tm)++;
            t->thr = nd[p].value;
            t->ff = nd[p].ff;
            t->self = (uint32_t)p;
            t->v[0] = nd[kid[0]].value;
            t->v[1] = nd[kid[1]].value;
            t->c0 = zc[kid[0]] * (double)t->v[0] + zc[kid[1]] * (double)t->v[1];
            continue;
        }
        vigil__split *s = (*sp)++;
        s->thr = nd[p].value;
        s->ff = nd[p].ff;
        s->self = (uint32_t)p;
        s->has_prev = prev;
        for (size_t e = 0; e < 2; e++) {
            s->slot[e] = (uint32_t)kid[e];
            s->prev[e] = nd[kid[e]].prev;
            s->nl[e] = leaf[e] ? 0.0f : 1.0f;
            s->v[e] = leaf[e] ? nd[kid[e]].value : 0.0f;
            s->zc[e] = zc[kid[e]];
        }
    }
    return mean;
}

vigil_status vigil__trees_shap_prepare(vigil_trees *m, const double *covers,
                                       const int32_t *parent, vigil_err *err)
{
    size_t npts = (m->max_depth + 1) / 2;
    size_t nq = (npts + VIGIL__NQ_BLOCK - 1) / VIGIL__NQ_BLOCK * VIGIL__NQ_BLOCK;
    if (nq == 0) {
        nq = VIGIL__NQ_BLOCK;
    }
    size_t n = m->n_nodes > 0 ? m->n_nodes : 1;
    m->nq = nq;
    m->tq = aligned_calloc(nq * sizeof *m->tq);
    m->wq = aligned_calloc(nq * sizeof *m->wq);
    size_t n_splits = m->n_nodes - m->n_leaves;
    m->split_off = calloc(m->n_trees + 1, sizeof *m->split_off);
    m->splits = aligned_calloc(n_splits * sizeof *m->splits);
    m->term_off = calloc(m->n_trees + 1, sizeof *m->term_off);
    m->terms = aligned_calloc(n_splits * sizeof *m->terms);
    m->zc = malloc(n * sizeof *m->zc);
    double *reach = malloc(n * sizeof *reach);
    if (!m->tq || !m->wq || !m->split_off || !m->splits || !m->term_off || !m->terms || !m->zc ||
        !reach) {
        free(reach);
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory preparing TreeSHAP");
    }
    gauss_legendre01(nq, m->tq, m->wq);
    double wsum = 0.0;
    for (size_t q = 0; q < nq; q++) {
        wsum += m->wq[q];
    }
    if (!(fabs(wsum - 1.0) < 1e-12)) {
        free(reach);
        return vigil_err_set(err, VIGIL_ERR_INTERNAL, NULL,
                             "quadrature weights sum to %.17g, not 1", wsum);
    }
    double expected = 0.0;
    vigil__split *sp = m->splits;
    vigil__term *tm = m->terms;
    for (size_t t = 0; t < m->n_trees; t++) {
        size_t base = m->tree_off[t], cnt = m->tree_off[t + 1] - base;
        m->split_off[t] = (size_t)(sp - m->splits);
        m->term_off[t] = (size_t)(tm - m->terms);
        expected += prepare_tree(m->nodes + base, cnt, covers + base, parent + base,
                                 m->zc + base, reach + base, &sp, &tm);
    }
    m->split_off[m->n_trees] = (size_t)(sp - m->splits);
    m->term_off[m->n_trees] = (size_t)(tm - m->terms);
    m->expected_margin = (double)m->base_margin + expected;
    free(reach);
    return VIGIL_OK;
}

/* ---- per-row kernel ---------------------------------------------------- */

/*
 * Per-row scratch, indexed by tree-local node slot and sized for the
 * largest tree (one tree's worth stays in L1):
 *   P[n]  product of the path factors from the root down to n (top-down);
 *         for leaves, and for splits once the bottom-up pass has reached
 *         them, D[n] instead
 *   F[n], K[n]  factor and phi share of n's incoming edge, kept only for
 *         edges that repeat an ancestor's feature
 */
typedef struct workspace {
    vd *P, *F, *K;
    vd *phi4;          /* n_features x blocks: per-feature lane sums */
    unsigned char *oc; /* combined "x follows" of each node's incoming edge */
    unsigned char *gl; /* "x goes left" at each split */
    unsigned char *on; /* node is on x's path */
} workspace;

static size_t round_up(size_t n, size_t a)
{
    return (n + a - 1) / a * a;
}

size_t vigil_trees_shap_work_size(const vigil_trees *m)
{
    if (m == NULL) {
        return 0;
    }
    size_t nt = m->max_tree_nodes > 0 ? m->max_tree_nodes : 1;
    size_t lane = m->nq * sizeof(double);
    return CACHE_LINE + 3 * round_up(nt * lane, CACHE_LINE) +
           round_up(m->n_features * lane, CACHE_LINE) + 3 * nt;
}

static workspace work_carve(const vigil_trees *m, void *work)
{
    size_t nt = m->max_tree_nodes > 0 ? m->max_tree_nodes : 1;
    size_t lane = m->nq * sizeof(double);
    uintptr_t a = ((uintptr_t)work + CACHE_LINE - 1) / CACHE_LINE * CACHE_LINE;
    unsigned char *p = (unsigned char *)work + (a - (uintptr_t)work);
    workspace w;
    w.P = (vd *)(void *)p;
    p += round_up(nt * lane, CACHE_LINE);
    w.F = (vd *)(void *)p;
    p += round_up(nt * lane, CACHE_LINE);
    w.K = (vd *)(void *)p;
    p += round_up(nt * lane, CACHE_LINE);
    w.phi4 = (vd *)(void *)p;
    p += round_up(m->n_features * lane, CACHE_LINE);
    w.oc = p;
    w.gl = p + nt;
    w.on = p + 2 * nt;
    return w;
}

/* REQ MODEL-XGB-EXACT: does x go left? The compare is false for NaN, which
 * then goes left only if the split's default is left. */
static ALWAYS_INLINE unsigned goes_left(const double *x, uint32_t ff, float thr)
{
    double v = x[ff & VIGIL__TNODE_FEAT_MASK];
    unsigned dl = (ff & VIGIL__TNODE_DEFAULT_LEFT) != 0;
    return ((float)v < thr) | ((unsigned)(isnan(v) != 0) & dl);
}

/*
 * Top-down over a tree's general splits (preorder). Edge e into node c on
 * feature f, with o = "x goes to c", cover fraction z (combined with its
 * prev edge's) and path factor c_e(t) = z + (o - z) t:
 *  - no earlier edge on f:                    F = c_e, K = (o - z) P[p];
 *  - an earlier edge on f that x left:        F = z / z', K = 0;
 *  - an earlier edge on f that x followed (c' = z' + (1 - z') t):
 *      F = c_e / c', K = P[p] / c' ((o - z) - c_e (1 - z') / c').
 * P[c] = P[p] F, or D[c] = v for a leaf c. F and K are stored only for
 * edges with a prev; the others are recomputed from z and o bottom-up.
 */
static ALWAYS_INLINE float top_down(const vigil__split *sp, size_t ns, const double *zslot,
                                    const double *x, const workspace *w, const vd *T, size_t nb)
{
    vd *P = w->P;
    float reached = 0.0f;
    for (size_t i = 0; i < ns; i++) {
        const vigil__split *s = &sp[i];
        unsigned gl = goes_left(x, s->ff, s->thr);
        w->gl[s->self] = (unsigned char)gl;
        const vd *Pp = P + s->self * nb;
        unsigned on = w->on[s->self];
        for (size_t e = 0; e < 2; e++) {
            size_t c = s->slot[e];
            unsigned o = e == 0 ? gl : !gl;
            double z = s->zc[e], nl = s->nl[e], lv = s->v[e];
            int32_t pv = s->prev[e];
            vd *Pc = P + c * nb;
            w->on[c] = (unsigned char)(on & o);
            /* the leaf x reaches, exactly: 1 * v, or a signed zero */
            reached += (float)((on & o) * (s->nl[e] == 0.0f)) * s->v[e];
            if (pv < 0) {
                w->oc[c] = (unsigned char)o;
                double a = (double)o - z;
                for (size_t b = 0; b < nb; b++) {
                    Pc[b] = Pp[b] * (z + a * T[b]) * nl + lv;
                }
                continue;
            }
            unsigned ocp = w->oc[pv], occ = o & ocp;
            w->oc[c] = (unsigned char)occ;
            double zp = zslot[pv];
            vd *Fc = w->F + c * nb, *Kc = w->K + c * nb;
            if (!ocp) {
                double r = zp > 0.0 ? z / zp : 0.0;
                for (size_t b = 0; b < nb; b++) {
                    Fc[b] = SPLAT(r);
                    Kc[b] = SPLAT(0.0);
                    Pc[b] = Pp[b] * r * nl + lv;
                }
                continue;
            }
            double a = (double)occ - z, ap = 1.0 - zp;
            for (size_t b = 0; b < nb; b++) {
                vd inv = 1.0 / (zp + ap * T[b]);
                vd ce = z + a * T[b];
                vd fc = ce * inv;
                Fc[b] = fc;
                Kc[b] = Pp[b] * inv * (a - ce * ap * inv);
                Pc[b] = Pp[b] * fc * nl + lv;
            }
        }
    }
    return reached;
}

/*
 * A terminal split s (leaves v_l, v_r, no prev edges) at once: with
 * a_e = o_e - z_e, D = sum_e (z_e + a_e t) v_e = c0 + s t and
 * phi4[f] += sum_e a_e v_e P = s P, where s = v_hot - c0.
 */
static ALWAYS_INLINE float terminals(const vigil__term *tm, size_t nt, const double *x,
                                     const workspace *w, const vd *T, size_t nb)
{
    vd *P = w->P;
    float reached = 0.0f;
    for (size_t i = 0; i < nt; i++) {
        const vigil__term *t = &tm[i];
        unsigned gl = goes_left(x, t->ff, t->thr);
        float hot_f = t->v[gl ^ 1u];
        double hot = (double)hot_f;
        reached += (float)w->on[t->self] * hot_f;
        double s = hot - t->c0, c0 = t->c0;
        vd *D = P + t->self * nb;
        vd *acc = w->phi4 + (size_t)(t->ff & VIGIL__TNODE_FEAT_MASK) * nb;
        for (size_t b = 0; b < nb; b++) {
            acc[b] += s * D[b];
            D[b] = c0 + s * T[b];
        }
    }
    return reached;
}

/*
 * Bottom-up over the general splits (reverse preorder: children first):
 * D[p] = F_l D_l + F_r D_r and phi4[f] += K_l D_l + K_r D_r. Without prev
 * edges F_e = z_e + a_e t and K_e = a_e P[p], so with U = a_l D_l + a_r D_r:
 * D[p] = z_l D_l + z_r D_r + t U and phi4[f] += P[p] U.
 */
static ALWAYS_INLINE void bottom_up(const vigil__split *sp, size_t ns, const workspace *w,
                                    const vd *T, size_t nb)
{
    vd *P = w->P;
    for (size_t i = ns; i-- > 0;) {
        const vigil__split *s = &sp[i];
        size_t l = s->slot[0], r = s->slot[1];
        vd *D = P + s->self * nb;
        vd *acc = w->phi4 + (size_t)(s->ff & VIGIL__TNODE_FEAT_MASK) * nb;
        unsigned gl = w->gl[s->self];
        double zl = s->zc[0], zr = s->zc[1];
        if (!s->has_prev) {
            double al = (double)gl - zl, ar = (double)!gl - zr;
            for (size_t b = 0; b < nb; b++) {
                vd dl = P[l * nb + b], dr = P[r * nb + b];
                vd u = al * dl + ar * dr;
                acc[b] += D[b] * u;
                D[b] = zl * dl + zr * dr + T[b] * u;
            }
            continue;
        }
        for (size_t b = 0; b < nb; b++) {
            vd dl = P[l * nb + b], dr = P[r * nb + b], fl, fr, kl, kr;
            if (s->prev[0] < 0) {
                double al = (double)gl - zl;
                fl = zl + al * T[b];
                kl = al * D[b];
            } else {
                fl = w->F[l * nb + b];
                kl = w->K[l * nb + b];
            }
            if (s->prev[1] < 0) {
                double ar = (double)!gl - zr;
                fr = zr + ar * T[b];
                kr = ar * D[b];
            } else {
                fr = w->F[r * nb + b];
                kr = w->K[r * nb + b];
            }
            acc[b] += kl * dl + kr * dr;
            D[b] = fl * dl + fr * dr;
        }
    }
}

static ALWAYS_INLINE void shap_row(const vigil_trees *m, const double *x, const workspace *w,
                                   double *phi, vigil_trees_pred *pred, size_t nb)
{
    float sum = m->base_margin;
    size_t nf = m->n_features;
    const vd *T = (const vd *)(const void *)m->tq, *W = (const vd *)(const void *)m->wq;
    memset(w->phi4, 0, nf * nb * sizeof(vd));
    for (size_t t = 0; t < m->n_trees; t++) {
        size_t s0 = m->split_off[t], ns = m->split_off[t + 1] - s0;
        size_t t0 = m->term_off[t], nt = m->term_off[t + 1] - t0;
        if (ns + nt == 0) {
            /* a single leaf: all of it is in the bias */
            sum += m->nodes[m->tree_off[t]].value;
            continue;
        }
        for (size_t b = 0; b < nb; b++) {
            w->P[b] = SPLAT(1.0); /* the root, slot 0 */
        }
        w->on[0] = 1;
        float leaf = top_down(m->splits + s0, ns, m->zc + m->tree_off[t], x, w, T, nb);
        leaf += terminals(m->terms + t0, nt, x, w, T, nb);
        /* REQ MODEL-XGB-EXACT: the same float sum, in tree order, as
         * vigil__trees_predict_row (exactly one leaf per tree is reached,
         * every other term is a signed zero) */
        sum += leaf;
        bottom_up(m->splits + s0, ns, w, T, nb);
    }
    vigil__trees_finish(sum, pred);
    for (size_t j = 0; j < nf; j++) {
        vd acc = SPLAT(0.0);
        for (size_t b = 0; b < nb; b++) {
            acc += W[b] * w->phi4[j * nb + b];
        }
        phi[j] = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    }
    phi[nf] = m->expected_margin;
}

KERNEL_CLONES
static void shap_rows(const vigil_trees *m, const double *x, size_t n_rows, const workspace *w,
                      double *out_phi, vigil_trees_pred *out_pred)
{
    size_t nf = m->n_features, nb = m->nq / VIGIL__NQ_BLOCK;
    for (size_t r = 0; r < n_rows; r++) {
        vigil_trees_pred p;
        if (nb == 1) {
            shap_row(m, x + r * nf, w, out_phi + r * (nf + 1), &p, 1);
        } else {
            shap_row(m, x + r * nf, w, out_phi + r * (nf + 1), &p, nb);
        }
        if (out_pred != NULL) {
            out_pred[r] = p;
        }
    }
}

vigil_status vigil_trees_shap(const vigil_trees *m, const double *x, size_t n_features,
                              void *work, size_t work_size, double *out_phi,
                              vigil_trees_pred *out_pred)
{
    return vigil_trees_shap_batch(m, x, 1, n_features, work, work_size, out_phi, out_pred);
}

vigil_status vigil_trees_shap_batch(const vigil_trees *m, const double *x, size_t n_rows,
                                    size_t n_features, void *work, size_t work_size,
                                    double *out_phi, vigil_trees_pred *out_pred)
{
    if (m == NULL || work == NULL || (n_rows > 0 && (x == NULL || out_phi == NULL))) {
        return VIGIL_ERR_ARG;
    }
    if (n_features != m->n_features) {
        return VIGIL_ERR_MISMATCH;
    }
    if (work_size < vigil_trees_shap_work_size(m)) {
        return VIGIL_ERR_ARG;
    }
    workspace w = work_carve(m, work);
    shap_rows(m, x, n_rows, &w, out_phi, out_pred);
    return VIGIL_OK;
}
