/*
 * treeshap.c: exact path-dependent TreeSHAP for the flattened ensemble.
 *
 * Computes the quantity of Lundberg et al. 2020 ("From local explanations to
 * global understanding with explainable AI for trees", Algorithm 2) that
 * XGBoost's pred_contribs returns, with node covers from sum_hessian, but
 * not with Algorithm 2's O(L D^2) per-tree path unwinding. Instead (the
 * polynomial view of Linear TreeSHAP, Yu et al. 2022, with per-edge tables
 * precomputed at load time in the spirit of Fast TreeSHAP v2, Yang 2021):
 *
 *   For a leaf l with value v, unique path features F (|F| = d), cover
 *   fraction z_j and "x follows the path" indicator o_j per feature, the
 *   path-dependent game is f_l(S) = v prod_{j in F} (j in S ? o_j : z_j) and
 *     phi_i(l) = v (o_i - z_i) sum_{S in F\i} |S|!(d-1-|S|)!/d! prod...
 *              = v (o_i - z_i) integral_0^1 prod_{j in F\i} (z_j + (o_j - z_j) t) dt,
 *   a polynomial of degree d-1 in t, so Gauss-Legendre quadrature with
 *   nq >= ceil(depth / 2) points is exact. Writing c_j(t) = z_j + (o_j-z_j)t,
 *   each edge e multiplies the running product P(t) by c_e / c_prev(e)
 *   (prev(e): the nearest ancestor edge on the same feature, whose cover
 *   fraction and indicator it combines with, as Algorithm 2's unwind does),
 *   and feature i collects, per edge e on i, sum_q w_q S_e(t_q)
 *   [(o-z)/c]_e(t_q) - [(o-z)/c]_prev(e)(t_q), where S_e(t) is the sum of
 *   v P(t) over the leaves below e. The differences telescope per leaf to
 *   the formula above. Both factors depend on the row only through
 *   (o_prev, o_e) in {(0,0), (1,0), (1,1)}, so they are tabulated per edge
 *   at load time (fg); a row costs one top-down pass (P) and one bottom-up
 *   pass (S, phi) over each tree's nodes: O(nodes x nq) multiply-adds.
 *
 * Does not: compute interaction values, interventional SHAP, or anything for
 * models other than the one loaded; does not allocate per call.
 *
 * Invariants: fg is finite (a zero cover fraction zeroes P below it, and the
 * tables hold 0 where the exact value is 0/0); quadrature weights sum to 1.
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
            /* n == 1: P_1 = x, P_0 = 1, P_1' = 1 */
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

static inline double *fg_at(double *fg, size_t node, size_t k, size_t nq)
{
    return fg + (node * VIGIL__NQ_CASES + k) * 2 * nq;
}

/* The path factor c(t) = z + (o - z) t of an edge (or the identity). */
static inline double path_factor(double z, unsigned o, double t)
{
    return o ? z + (1.0 - z) * t : z * (1.0 - t);
}

/*
 * Tables of one edge (node c, combined cover fraction zc, previous
 * same-feature edge with combined fraction zp or none). Leaves fold their
 * value into F so that S = P at a leaf.
 */
static void fill_edge(double *fg_node, size_t nq, const double *tq, const double *wq, double zc,
                      bool has_prev, double zp, bool leaf, double v)
{
    for (size_t k = 0; k < VIGIL__NQ_CASES; k++) {
        unsigned ocp = k >= 1, occ = k == 2;
        double *F = fg_node + k * 2 * nq, *G = F + nq;
        for (size_t q = 0; q < nq; q++) {
            if (!has_prev && !ocp) {
                F[q] = 0.0; /* unreachable: no previous edge means o_prev = 1 */
                G[q] = 0.0;
                continue;
            }
            double cp = has_prev ? path_factor(zp, ocp, tq[q]) : 1.0;
            double ce = path_factor(zc, occ, tq[q]);
            double f = cp != 0.0 ? ce / cp : 0.0;
            double ge = ce != 0.0 ? ((double)occ - zc) / ce : 0.0;
            double gp = (has_prev && cp != 0.0) ? ((double)ocp - zp) / cp : 0.0;
            F[q] = leaf ? f * v : f;
            G[q] = wq[q] * (ge - gp);
        }
    }
}

vigil_status vigil__trees_shap_prepare(vigil_trees *m, const double *covers,
                                       const int32_t *parent, vigil_err *err)
{
    size_t npts = (m->max_depth + 1) / 2;
    size_t nq = (npts + VIGIL__NQ_BLOCK - 1) / VIGIL__NQ_BLOCK * VIGIL__NQ_BLOCK;
    if (nq == 0) {
        nq = VIGIL__NQ_BLOCK;
    }
    double tq[VIGIL__TREES_MAX_DEPTH], wq[VIGIL__TREES_MAX_DEPTH];
    gauss_legendre01(nq, tq, wq);
    double wsum = 0.0;
    for (size_t q = 0; q < nq; q++) {
        wsum += wq[q];
    }
    if (!(fabs(wsum - 1.0) < 1e-12)) {
        return vigil_err_set(err, VIGIL_ERR_INTERNAL, NULL,
                             "quadrature weights sum to %.17g, not 1", wsum);
    }
    size_t n = m->n_nodes > 0 ? m->n_nodes : 1;
    m->nq = nq;
    m->prev = malloc(n * sizeof *m->prev);
    m->feat_in = malloc(n * sizeof *m->feat_in);
    m->fg_raw = malloc(n * VIGIL__NQ_CASES * 2 * nq * sizeof(double) + CACHE_LINE);
    double *zc = malloc(n * sizeof *zc);
    double *reach = malloc(n * sizeof *reach);
    if (!m->prev || !m->feat_in || !m->fg_raw || !zc || !reach) {
        free(zc);
        free(reach);
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory building SHAP tables");
    }
    uintptr_t a = (uintptr_t)m->fg_raw;
    m->fg = (double *)(void *)((a + CACHE_LINE - 1) / CACHE_LINE * CACHE_LINE);

    double expected = 0.0;
    for (size_t t = 0; t < m->n_trees; t++) {
        size_t base = m->tree_off[t], cnt = m->tree_off[t + 1] - base;
        const vigil__tnode *nd = m->nodes + base;
        int32_t *prev = m->prev + base;
        uint32_t *fin = m->feat_in + base;
        double *fg = m->fg + base * VIGIL__NQ_CASES * 2 * nq;
        prev[0] = -1;
        fin[0] = 0;
        zc[base] = 1.0;
        reach[base] = 1.0;
        memset(fg_at(fg, 0, 0, nq), 0, VIGIL__NQ_CASES * 2 * nq * sizeof(double));
        double tree_mean = (nd[0].flags & VIGIL__TNODE_LEAF) ? (double)nd[0].value : 0.0;
        for (size_t c = 1; c < cnt; c++) {
            size_t p = (size_t)parent[base + c];
            uint32_t f = nd[p].feat;
            double z = covers[base + c] / covers[base + p];
            int32_t pv = -1;
            for (size_t anc = p; anc != 0;) {
                size_t pa = (size_t)parent[base + anc];
                if (nd[pa].feat == f) {
                    pv = (int32_t)anc;
                    break;
                }
                anc = pa;
            }
            prev[c] = pv;
            fin[c] = f;
            double zp = pv >= 0 ? zc[base + (size_t)pv] : 1.0;
            zc[base + c] = z * zp;
            reach[base + c] = reach[base + p] * z;
            bool leaf = (nd[c].flags & VIGIL__TNODE_LEAF) != 0;
            if (leaf) {
                tree_mean += reach[base + c] * (double)nd[c].value;
            }
            fill_edge(fg_at(fg, c, 0, nq), nq, tq, wq, zc[base + c], pv >= 0, zp, leaf,
                      (double)nd[c].value);
        }
        expected += tree_mean;
    }
    m->expected_margin = (double)m->base_margin + expected;
    free(zc);
    free(reach);
    return VIGIL_OK;
}

/* ---- per-row kernel ---------------------------------------------------- */

typedef struct workspace {
    double *ps;        /* max_tree_nodes * nq: P top-down, then S bottom-up */
    double *phi4;      /* n_features * nq: per-feature, per-lane sums */
    unsigned char *oc; /* max_tree_nodes: combined "x follows" of each edge */
    unsigned char *cs; /* max_tree_nodes: table case of each edge */
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
    return CACHE_LINE + round_up(nt * m->nq * sizeof(double), CACHE_LINE) +
           round_up(m->n_features * m->nq * sizeof(double), CACHE_LINE) + 2 * nt;
}

static workspace work_carve(const vigil_trees *m, void *work)
{
    size_t nt = m->max_tree_nodes > 0 ? m->max_tree_nodes : 1;
    uintptr_t a = ((uintptr_t)work + CACHE_LINE - 1) / CACHE_LINE * CACHE_LINE;
    unsigned char *p = (unsigned char *)work + (a - (uintptr_t)work);
    workspace w;
    w.ps = (double *)(void *)p;
    p += round_up(nt * m->nq * sizeof(double), CACHE_LINE);
    w.phi4 = (double *)(void *)p;
    p += round_up(m->n_features * m->nq * sizeof(double), CACHE_LINE);
    w.oc = p;
    w.cs = p + nt;
    return w;
}

/*
 * One tree, one row. nq is a compile-time constant in the common case (the
 * call below with 4), which lets the compiler keep each lane loop in
 * vector registers.
 */
static ALWAYS_INLINE void shap_tree(const vigil__tnode *nd, size_t cnt, const int32_t *prev,
                                    const uint32_t *fin, const double *fg, const double *x,
                                    const workspace *w, size_t nq)
{
    double *ps = w->ps;
    unsigned char *oc = w->oc, *cs = w->cs;
    for (size_t q = 0; q < nq; q++) {
        ps[q] = 1.0;
    }
    /* top-down: P(child) = P(parent) * F[child][case] */
    for (size_t p = 0; p < cnt; p++) {
        if (nd[p].flags & VIGIL__TNODE_LEAF) {
            continue;
        }
        double v = x[nd[p].feat];
        unsigned gl;
        if (isnan(v)) {
            gl = (nd[p].flags & VIGIL__TNODE_DEFAULT_LEFT) != 0;
        } else {
            gl = (float)v < nd[p].value;
        }
        size_t kids[2] = {p + 1, nd[p].right};
        unsigned hot[2] = {gl, !gl};
        for (size_t e = 0; e < 2; e++) {
            size_t c = kids[e];
            int32_t pv = prev[c];
            unsigned ocp = pv < 0 ? 1u : oc[pv];
            unsigned occ = hot[e] & ocp;
            oc[c] = (unsigned char)occ;
            cs[c] = (unsigned char)(ocp + occ);
            const double *F = fg + (c * VIGIL__NQ_CASES + ocp + occ) * 2 * nq;
            const double *pp = ps + p * nq;
            double *pc = ps + c * nq;
            for (size_t q = 0; q < nq; q++) {
                pc[q] = pp[q] * F[q];
            }
        }
    }
    /* bottom-up: S(node) = S(left) + S(right); phi[feature in] += S . G */
    for (size_t n = cnt - 1; n >= 1; n--) {
        double *s = ps + n * nq;
        if (!(nd[n].flags & VIGIL__TNODE_LEAF)) {
            const double *sl = ps + (n + 1) * nq, *sr = ps + (size_t)nd[n].right * nq;
            for (size_t q = 0; q < nq; q++) {
                s[q] = sl[q] + sr[q];
            }
        }
        const double *G = fg + (n * VIGIL__NQ_CASES + cs[n]) * 2 * nq + nq;
        double *acc = w->phi4 + (size_t)fin[n] * nq;
        for (size_t q = 0; q < nq; q++) {
            acc[q] += s[q] * G[q];
        }
    }
}

static ALWAYS_INLINE void shap_row(const vigil_trees *m, const double *x, const workspace *w,
                                   double *phi, size_t nq)
{
    size_t nf = m->n_features;
    memset(w->phi4, 0, nf * nq * sizeof(double));
    for (size_t t = 0; t < m->n_trees; t++) {
        size_t base = m->tree_off[t], cnt = m->tree_off[t + 1] - base;
        if (cnt < 2) {
            continue; /* a single leaf: all of it is in the bias */
        }
        shap_tree(m->nodes + base, cnt, m->prev + base, m->feat_in + base,
                  m->fg + base * VIGIL__NQ_CASES * 2 * nq, x, w, nq);
    }
    for (size_t j = 0; j < nf; j++) {
        const double *a = w->phi4 + j * nq;
        double s = 0.0;
        for (size_t q = 0; q < nq; q++) {
            s += a[q];
        }
        phi[j] = s;
    }
    phi[nf] = m->expected_margin;
}

static void shap_row_any(const vigil_trees *m, const double *x, const workspace *w, double *phi)
{
    if (m->nq == VIGIL__NQ_BLOCK) {
        shap_row(m, x, w, phi, VIGIL__NQ_BLOCK);
    } else {
        shap_row(m, x, w, phi, m->nq);
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
    for (size_t r = 0; r < n_rows; r++) {
        const double *xr = x + r * n_features;
        shap_row_any(m, xr, &w, out_phi + r * (n_features + 1));
        if (out_pred != NULL) {
            vigil__trees_predict_row(m, xr, &out_pred[r]);
        }
    }
    return VIGIL_OK;
}
