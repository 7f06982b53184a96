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
 *  - fg holds, per node, NQ_CASES cache-line-aligned blocks of 2 * nq doubles
 *    (see treeshap.c). nq is a multiple of VIGIL__NQ_BLOCK.
 */
#ifndef VIGIL_TREES_INT_H
#define VIGIL_TREES_INT_H

#include <stddef.h>
#include <stdint.h>

#include "vigil/trees.h"

#define VIGIL__TNODE_LEAF 1u
#define VIGIL__TNODE_DEFAULT_LEFT 2u

/* Deepest tree accepted: quadrature needs ceil(depth / 2) points. */
#define VIGIL__TREES_MAX_DEPTH 64u
/* SIMD-friendly block of quadrature lanes. */
#define VIGIL__NQ_BLOCK 4u
/* Edge states that matter to TreeSHAP: (previous same-feature edge hot?,
 * this edge hot?) in {(0,0), (1,0), (1,1)}, indexed by their sum. */
#define VIGIL__NQ_CASES 3u

/* One node as the scoring traversal reads it (16 bytes). */
typedef struct vigil__tnode {
    float value;    /* split threshold, or the leaf value */
    uint32_t feat;  /* split feature (0 for leaves) */
    uint32_t right; /* tree-local index of the right child (0 for leaves) */
    uint32_t flags; /* VIGIL__TNODE_LEAF, VIGIL__TNODE_DEFAULT_LEFT */
} vigil__tnode;

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
    int32_t *prev;         /* per node: tree-local index of the nearest
                              ancestor edge on the same feature, or -1 */
    uint32_t *feat_in;     /* per non-root node: its parent's split feature */

    size_t nq;             /* quadrature lanes (multiple of VIGIL__NQ_BLOCK) */
    double *fg;            /* n_nodes * NQ_CASES * 2 * nq, 64-byte aligned */
    void *fg_raw;          /* what malloc returned for fg */
};

/*
 * Build the TreeSHAP tables of a flattened model whose tree_off, nodes,
 * n_nodes, max_depth and base_margin are set: allocates and fills m->prev,
 * m->feat_in, m->fg (sets m->nq) and sets m->expected_margin. covers[i] is
 * node i's sum_hessian and parent[i] its parent's tree-local index (-1 for
 * roots), both in m->nodes order; borrowed for the call. On error the
 * caller frees m as usual (vigil_trees_free handles partial models).
 */
vigil_status vigil__trees_shap_prepare(vigil_trees *m, const double *covers,
                                       const int32_t *parent, vigil_err *err);

/* Score one row (no argument checks): XGBoost's arithmetic, see trees.c. */
void vigil__trees_predict_row(const vigil_trees *m, const double *x, vigil_trees_pred *out);

#endif
