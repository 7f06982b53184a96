/*
 * trees_int.h: the flattened tree ensemble shared by trees.c (loading,
 * scoring) and treeshap.c (SHAP tables and kernel). Private to src/model.
 *
 * Layout invariants (established by vigil__trees_flatten, checked there):
 *  - Every tree's reachable nodes are stored in depth-first preorder from
 *    node 0 (the root), so an internal node's left child is the next node;
 *    `right` is the tree-local index of its right child.
 *  - All trees are concatenated: tree t owns nodes [tree_off[t], tree_off[t+1]).
 *  - Split features are < n_features; thresholds, leaf values, covers are
 *    finite; every split's cover is > 0.
 *  - nq is a multiple of VIGIL__NQ_BLOCK and at least ceil(max_depth / 2);
 *    tq and wq are 64-byte aligned.
 */
#ifndef VIGIL_TREES_INT_H
#define VIGIL_TREES_INT_H

#include <stddef.h>
#include <stdint.h>

#include "vigil/trees.h"

/* vigil__tnode.ff: split feature in the low bits, flags in the high bits */
#define VIGIL__TNODE_LEAF 0x80000000u
#define VIGIL__TNODE_DEFAULT_LEFT 0x40000000u
#define VIGIL__TNODE_FEAT_MASK 0x3FFFFFFFu

/* Deepest tree accepted: quadrature needs ceil(depth / 2) points. */
#define VIGIL__TREES_MAX_DEPTH 64u
/* Quadrature lanes come in blocks of 4 doubles (one AVX register). */
#define VIGIL__NQ_BLOCK 4u

/* One node as scoring and TreeSHAP read it (16 bytes). */
typedef struct vigil__tnode {
    float value;    /* split threshold, or the leaf value */
    uint32_t ff;    /* split feature | VIGIL__TNODE_LEAF | VIGIL__TNODE_DEFAULT_LEFT */
    uint32_t right; /* tree-local index of the right child (0 for leaves) */
    int32_t prev;   /* tree-local index of the nearest ancestor whose incoming
                       edge splits on the same feature as this node's incoming
                       edge, or -1 (TreeSHAP merges such edges) */
} vigil__tnode;

/*
 * A split as TreeSHAP's general pass reads it: a 64-byte record per
 * internal node, in each tree's preorder, holding everything about both
 * outgoing edges so a row streams one cache line per split. Slots are
 * tree-local node indices (vigil__tnode order) naming per-row scratch.
 */
typedef struct vigil__split {
    float thr;          /* split threshold (float x < thr goes left) */
    uint32_t ff;        /* split feature | VIGIL__TNODE_DEFAULT_LEFT */
    uint32_t self;      /* this node's slot */
    uint32_t slot[2];   /* left, right child slots */
    int32_t prev[2];    /* slot of the nearest ancestor edge on the same
                           feature (see vigil__tnode.prev), or -1 */
    float nl[2];        /* 1 for an internal child, 0 for a leaf */
    float v[2];         /* the leaf value for a leaf child, else 0 */
    uint32_t has_prev;  /* prev[0] >= 0 || prev[1] >= 0 */
    double zc[2];       /* each edge's cover fraction, times its prev edge's */
} vigil__split;

/*
 * A terminal split (both children leaves, neither edge repeating an
 * ancestor's feature) reduces to scalars: 32 bytes, see treeshap.c.
 */
typedef struct vigil__term {
    float thr;
    uint32_t ff;
    uint32_t self;
    float v[2];         /* left, right leaf values */
    uint32_t pad;
    double c0;          /* z_left v_left + z_right v_right */
} vigil__term;

struct vigil_trees {
    size_t n_features;
    size_t n_trees;
    size_t n_nodes;
    size_t n_leaves;
    size_t max_tree_nodes; /* largest tree, sizes the SHAP workspace */
    unsigned max_depth;
    int version[3];
    float base_score;      /* as stored (probability) */
    float base_margin;     /* -logf(1/base_score - 1), XGBoost's ProbToMargin */
    double expected_margin;

    size_t *tree_off;      /* n_trees + 1 */
    vigil__tnode *nodes;   /* n_nodes */
    size_t *split_off;     /* n_trees + 1 offsets into splits */
    vigil__split *splits;  /* non-terminal splits, preorder, 64-byte aligned */
    size_t *term_off;      /* n_trees + 1 offsets into terms */
    vigil__term *terms;    /* terminal splits, 64-byte aligned */
    double *zc;            /* per node: zc of its incoming edge (1 at roots);
                              read for edges that have a prev edge */
    size_t nq;             /* quadrature points (multiple of VIGIL__NQ_BLOCK) */
    double *tq;            /* nq Gauss-Legendre nodes on [0, 1] */
    double *wq;            /* nq weights (sum 1) */
};

/*
 * Prepare TreeSHAP for a flattened model whose tree_off, nodes (but not
 * their prev), n_nodes, max_depth and base_margin are set: fills each
 * node's prev, allocates and fills m->split_off, m->splits, m->term_off,
 * m->terms, m->zc, m->tq, m->wq (sets m->nq) and sets
 * m->expected_margin. covers[i] is node i's sum_hessian and parent[i] its
 * parent's tree-local index (-1 for roots), both in m->nodes order; borrowed
 * for the call. On error the caller frees m as usual (vigil_trees_free
 * handles partial models).
 */
vigil_status vigil__trees_shap_prepare(vigil_trees *m, const double *covers,
                                       const int32_t *parent, vigil_err *err);

/* Score one row (no argument checks): XGBoost's arithmetic, see trees.c. */
void vigil__trees_predict_row(const vigil_trees *m, const double *x, vigil_trees_pred *out);

/* margin and prob = 1 / (1 + expf(-margin)) in float, as XGBoost 1.7 does */
void vigil__trees_finish(float margin, vigil_trees_pred *out);

#endif
