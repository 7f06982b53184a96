/*
 * trees.c: load an XGBoost 1.x JSON model (gbtree, binary:logistic) into
 * flat, cache-friendly node arrays, and score rows with it.
 *
 * Implements the parts of XGBoost's JSON model schema
 * (doc/model.schema in the XGBoost sources, version 1.x) that a numeric
 * gbtree binary:logistic model uses, and XGBoost 1.7's CPU prediction
 * arithmetic (REQ MODEL-XGB-EXACT): (float)x < threshold, NaN -> default
 * child, float sum of leaf values in tree order on top of
 * base_margin = -logf(1/base_score - 1), prob = 1/(1 + expf(-margin)).
 *
 * Does not: accept categorical splits, DART, gblinear, several outputs,
 * UBJSON, or anything it cannot check; does not keep the JSON after loading.
 *
 * Invariants after a successful load: see trees_int.h. Every reachable node
 * of every tree was visited exactly once, so traversal terminates and every
 * index is in range; nothing is read from the model that was not checked.
 */
#include <errno.h>
#include <float.h>
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trees_int.h"
#include "vigil/util.h"

#define PTR_MAX 96
/* Refuse absurd files before reading them whole. */
#define MODEL_FILE_MAX ((size_t)1 << 30)

/* ---- JSON access with errors that name the field ---------------------- */

/* JSON pointer a/b for messages; a truncated pointer still names the place. */
static void jptr(char out[PTR_MAX], const char *a, const char *b)
{
    int r = snprintf(out, PTR_MAX, "%s/%s", a, b);
    if (r < 0) {
        out[0] = '\0';
    }
}

static vigil_status missing(vigil_err *err, const char *where, const char *key)
{
    char ptr[PTR_MAX];
    jptr(ptr, where, key);
    return vigil_err_set(err, VIGIL_ERR_PARSE, ptr, "model JSON lacks %s", ptr);
}

static vigil_status get_obj(const json_t *parent, const char *where, const char *key,
                            json_t **out, vigil_err *err)
{
    json_t *v = json_object_get(parent, key);
    if (v == NULL) {
        return missing(err, where, key);
    }
    if (!json_is_object(v)) {
        char ptr[PTR_MAX];
        jptr(ptr, where, key);
        return vigil_err_set(err, VIGIL_ERR_PARSE, ptr, "%s is not a JSON object", ptr);
    }
    *out = v;
    return VIGIL_OK;
}

static vigil_status get_str(const json_t *parent, const char *where, const char *key,
                            const char **out, vigil_err *err)
{
    json_t *v = json_object_get(parent, key);
    if (v == NULL) {
        return missing(err, where, key);
    }
    if (!json_is_string(v)) {
        char ptr[PTR_MAX];
        jptr(ptr, where, key);
        return vigil_err_set(err, VIGIL_ERR_PARSE, ptr, "%s is not a string", ptr);
    }
    *out = json_string_value(v);
    return VIGIL_OK;
}

/* XGBoost stores its parameters as decimal strings ("num_feature": "12"). */
static vigil_status get_long_str(const json_t *parent, const char *where, const char *key,
                                 long lo, long hi, long *out, vigil_err *err)
{
    const char *s = NULL;
    vigil_status st = get_str(parent, where, key, &s, err);
    if (st != VIGIL_OK) {
        return st;
    }
    if (vigil_parse_long(s, lo, hi, out) != VIGIL_OK) {
        char ptr[PTR_MAX];
        jptr(ptr, where, key);
        return vigil_err_set(err, VIGIL_ERR_PARSE, ptr,
                             "%s is \"%.40s\", not an integer in [%ld, %ld]", ptr, s, lo, hi);
    }
    return VIGIL_OK;
}

static vigil_status get_array(const json_t *parent, const char *where, const char *key,
                              size_t n_expected, json_t **out, vigil_err *err)
{
    char ptr[PTR_MAX];
    jptr(ptr, where, key);
    json_t *v = json_object_get(parent, key);
    if (v == NULL) {
        return vigil_err_set(err, VIGIL_ERR_PARSE, ptr, "model JSON lacks %s", ptr);
    }
    if (!json_is_array(v)) {
        return vigil_err_set(err, VIGIL_ERR_PARSE, ptr, "%s is not an array", ptr);
    }
    if (json_array_size(v) != n_expected) {
        return vigil_err_set(err, VIGIL_ERR_PARSE, ptr,
                             "%s has %zu entries, tree_param.num_nodes says %zu", ptr,
                             json_array_size(v), n_expected);
    }
    *out = v;
    return VIGIL_OK;
}

/* ---- one tree as stored, before flattening ----------------------------- */

static void tree_ptr(char out[PTR_MAX], size_t t)
{
    int r = snprintf(out, PTR_MAX, "/learner/gradient_booster/model/trees/%zu", t);
    if (r < 0) {
        out[0] = '\0';
    }
}

typedef struct raw_tree {
    size_t n;
    long *left;
    long *right;
    long *feat;
    double *cond;
    double *cover;
    unsigned char *dl;
} raw_tree;

static void raw_tree_fini(raw_tree *r)
{
    free(r->left);
    free(r->right);
    free(r->feat);
    free(r->cond);
    free(r->cover);
    free(r->dl);
    memset(r, 0, sizeof *r);
}

static vigil_status read_ints(const json_t *arr, const char *ptr, long lo, long hi, long *out,
                              vigil_err *err)
{
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *v = json_array_get(arr, i);
        long x;
        if (json_is_integer(v)) {
            json_int_t j = json_integer_value(v);
            if (j < lo || j > hi) {
                return vigil_err_set(err, VIGIL_ERR_PARSE, ptr,
                                     "%s[%zu] = %lld is outside [%ld, %ld]", ptr, i,
                                     (long long)j, lo, hi);
            }
            x = (long)j;
        } else if (json_is_boolean(v) && lo <= 0 && hi >= 1) {
            x = json_is_true(v) ? 1 : 0;
        } else {
            return vigil_err_set(err, VIGIL_ERR_PARSE, ptr, "%s[%zu] is not an integer", ptr, i);
        }
        out[i] = x;
    }
    return VIGIL_OK;
}

static vigil_status read_reals(const json_t *arr, const char *ptr, double *out, vigil_err *err)
{
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *v = json_array_get(arr, i);
        if (!json_is_number(v)) {
            return vigil_err_set(err, VIGIL_ERR_PARSE, ptr, "%s[%zu] is not a number", ptr, i);
        }
        double d = json_number_value(v);
        if (!(fabs(d) <= FLT_MAX)) {
            return vigil_err_set(err, VIGIL_ERR_PARSE, ptr,
                                 "%s[%zu] = %g is not a finite float", ptr, i, d);
        }
        /* XGBoost holds these as float and wrote the shortest decimal that
         * reads back as that float: take the float (docs/model.md). */
        out[i] = (double)(float)d;
    }
    return VIGIL_OK;
}

/* Parse trees[t] into r (arrays owned by r; free with raw_tree_fini). */
static vigil_status raw_tree_parse(const json_t *tj, size_t t, raw_tree *r, vigil_err *err)
{
    char where[PTR_MAX], ptr[PTR_MAX];
    tree_ptr(where, t);
    if (!json_is_object(tj)) {
        return vigil_err_set(err, VIGIL_ERR_PARSE, where, "%s is not an object", where);
    }
    json_t *tp = NULL;
    vigil_status st = get_obj(tj, where, "tree_param", &tp, err);
    if (st != VIGIL_OK) {
        return st;
    }
    jptr(ptr, where, "tree_param");
    long nn = 0;
    st = get_long_str(tp, ptr, "num_nodes", 1, INT32_MAX, &nn, err);
    if (st != VIGIL_OK) {
        return st;
    }
    static const struct {
        const char *key;
        int kind; /* 0 int, 1 real */
    } fields[] = {{"left_children", 0}, {"right_children", 0}, {"split_indices", 0},
                  {"default_left", 0},  {"split_conditions", 1}, {"sum_hessian", 1},
                  {"base_weights", 2}};
    /* num_nodes is only a claim until every per-node array is seen to hold that many
       entries; nothing is allocated before (fuzz_model_bundle: a num_nodes of 2^31-1
       in a bundle of 4 KB asked for 17 GB). Checked before split_type, so a false
       claim is reported against the first per-node array with the count it says. */
    for (size_t k = 0; k < sizeof fields / sizeof fields[0]; k++) {
        json_t *arr = NULL;
        st = get_array(tj, where, fields[k].key, (size_t)nn, &arr, err);
        if (st != VIGIL_OK) {
            return st;
        }
    }
    /* Categorical splits: vigil serves numeric splits only. */
    json_t *stype = json_object_get(tj, "split_type");
    if (stype != NULL) {
        jptr(ptr, where, "split_type");
        if (!json_is_array(stype) || json_array_size(stype) != (size_t)nn) {
            return vigil_err_set(err, VIGIL_ERR_PARSE, ptr,
                                 "%s is not an array of num_nodes entries", ptr);
        }
        for (size_t i = 0; i < (size_t)nn; i++) {
            const json_t *v = json_array_get(stype, i);
            if (!json_is_integer(v) || json_integer_value(v) != 0) {
                return vigil_err_set(err, VIGIL_ERR_MISMATCH, ptr,
                                     "%s[%zu]: categorical splits are not supported", ptr, i);
            }
        }
    }
    json_t *cats = json_object_get(tj, "categories_nodes");
    if (cats != NULL && json_is_array(cats) && json_array_size(cats) != 0) {
        jptr(ptr, where, "categories_nodes");
        return vigil_err_set(err, VIGIL_ERR_MISMATCH, ptr,
                             "%s: categorical splits are not supported", ptr);
    }

    size_t n = (size_t)nn;
    r->n = n;
    r->left = malloc(n * sizeof *r->left);
    r->right = malloc(n * sizeof *r->right);
    r->feat = malloc(n * sizeof *r->feat);
    r->cond = malloc(n * sizeof *r->cond);
    r->cover = malloc(n * sizeof *r->cover);
    r->dl = malloc(n);
    long *dl = malloc(n * sizeof *dl);
    if (!r->left || !r->right || !r->feat || !r->cond || !r->cover || !r->dl || !dl) {
        free(dl);
        return vigil_err_set(err, VIGIL_ERR_NOMEM, where, "out of memory reading %s", where);
    }
    for (size_t k = 0; k < sizeof fields / sizeof fields[0] && st == VIGIL_OK; k++) {
        json_t *arr = NULL;
        jptr(ptr, where, fields[k].key);
        st = get_array(tj, where, fields[k].key, n, &arr, err);
        if (st != VIGIL_OK) {
            break;
        }
        switch (k) {
        case 0:
            st = read_ints(arr, ptr, -1, (long)n - 1, r->left, err);
            break;
        case 1:
            st = read_ints(arr, ptr, -1, (long)n - 1, r->right, err);
            break;
        case 2:
            st = read_ints(arr, ptr, 0, (long)VIGIL__TNODE_FEAT_MASK, r->feat, err);
            break;
        case 3:
            st = read_ints(arr, ptr, 0, 1, dl, err);
            break;
        case 4:
            st = read_reals(arr, ptr, r->cond, err);
            break;
        case 5:
            st = read_reals(arr, ptr, r->cover, err);
            break;
        default:
            /* base_weights: only its presence and length are checked; the
             * leaf values XGBoost predicts with are in split_conditions. */
            break;
        }
    }
    if (st == VIGIL_OK) {
        for (size_t i = 0; i < n; i++) {
            r->dl[i] = (unsigned char)dl[i];
        }
    }
    free(dl);
    return st;
}

/* ---- flattening -------------------------------------------------------- */

typedef struct builder {
    size_t n, cap;
    vigil__tnode *nodes;
    double *covers;
    int32_t *parent;
    size_t n_leaves;
    unsigned max_depth;
} builder;

static vigil_status builder_reserve(builder *b, size_t extra)
{
    if (b->n + extra <= b->cap) {
        return VIGIL_OK;
    }
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->n + extra) {
        cap *= 2;
    }
    vigil__tnode *nodes = realloc(b->nodes, cap * sizeof *nodes);
    if (nodes == NULL) {
        return VIGIL_ERR_NOMEM;
    }
    b->nodes = nodes;
    double *covers = realloc(b->covers, cap * sizeof *covers);
    if (covers == NULL) {
        return VIGIL_ERR_NOMEM;
    }
    b->covers = covers;
    int32_t *parent = realloc(b->parent, cap * sizeof *parent);
    if (parent == NULL) {
        return VIGIL_ERR_NOMEM;
    }
    b->parent = parent;
    b->cap = cap;
    return VIGIL_OK;
}

/*
 * Append tree r's reachable nodes in preorder. Checks what traversal relies
 * on: both children or none, each node reached once, features in range,
 * positive cover at splits, depth within VIGIL__TREES_MAX_DEPTH.
 */
static vigil_status builder_add(builder *b, const raw_tree *r, size_t t, size_t n_features,
                                vigil_err *err)
{
    char where[PTR_MAX];
    tree_ptr(where, t);
    vigil_status st = VIGIL_ERR_NOMEM;
    size_t n = r->n;
    long *stack = malloc(n * sizeof *stack);
    int32_t *stack_parent = malloc(n * sizeof *stack_parent);
    unsigned *stack_depth = malloc(n * sizeof *stack_depth);
    int32_t *new_idx = malloc(n * sizeof *new_idx);
    if (!stack || !stack_parent || !stack_depth || !new_idx || builder_reserve(b, n) != VIGIL_OK) {
        vigil_err_set(err, st, where, "out of memory flattening %s", where);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        new_idx[i] = -1;
    }
    size_t base = b->n, top = 0, count = 0;
    stack[top] = 0;
    stack_parent[top] = -1;
    stack_depth[top] = 0;
    top++;
    while (top > 0) {
        top--;
        long id = stack[top];
        int32_t par = stack_parent[top];
        unsigned depth = stack_depth[top];
        if (new_idx[id] >= 0) {
            st = vigil_err_set(err, VIGIL_ERR_PARSE, where,
                               "%s: node %ld is reached twice (not a tree)", where, id);
            goto done;
        }
        int32_t me = (int32_t)count++;
        new_idx[id] = me;
        vigil__tnode *nd = &b->nodes[base + (size_t)me];
        b->covers[base + (size_t)me] = r->cover[id];
        b->parent[base + (size_t)me] = par;
        if (par >= 0 && (size_t)me != (size_t)par + 1) {
            /* not the left child (numbered right after its parent): the right */
            b->nodes[base + (size_t)par].right = (uint32_t)me;
        }
        char fld[PTR_MAX];
        if (r->cover[id] < 0) {
            jptr(fld, where, "sum_hessian");
            st = vigil_err_set(err, VIGIL_ERR_PARSE, fld,
                               "%s/sum_hessian[%ld] = %g is negative", where, id, r->cover[id]);
            goto done;
        }
        long lc = r->left[id], rc = r->right[id];
        if (lc < 0 && rc < 0) {
            nd->value = (float)r->cond[id];
            nd->ff = VIGIL__TNODE_LEAF;
            nd->right = 0;
            nd->prev = -1;
            b->n_leaves++;
            if (depth > b->max_depth) {
                b->max_depth = depth;
            }
            continue;
        }
        if (lc < 0 || rc < 0) {
            st = vigil_err_set(err, VIGIL_ERR_PARSE, where,
                               "%s: node %ld has one child (left %ld, right %ld)", where, id, lc,
                               rc);
            goto done;
        }
        if ((size_t)r->feat[id] >= n_features) {
            jptr(fld, where, "split_indices");
            st = vigil_err_set(err, VIGIL_ERR_PARSE, fld,
                               "%s/split_indices[%ld] = %ld is not below num_feature %zu", where,
                               id, r->feat[id], n_features);
            goto done;
        }
        if (!(r->cover[id] > 0)) {
            jptr(fld, where, "sum_hessian");
            st = vigil_err_set(err, VIGIL_ERR_PARSE, fld,
                               "%s/sum_hessian[%ld]: a split needs a positive cover", where, id);
            goto done;
        }
        if (depth + 1 > VIGIL__TREES_MAX_DEPTH) {
            st = vigil_err_set(err, VIGIL_ERR_MISMATCH, where,
                               "%s is deeper than %u splits", where, VIGIL__TREES_MAX_DEPTH);
            goto done;
        }
        if (top + 2 > n) {
            st = vigil_err_set(err, VIGIL_ERR_PARSE, where,
                               "%s: more child links than nodes (not a tree)", where);
            goto done;
        }
        nd->value = (float)r->cond[id];
        nd->ff = (uint32_t)r->feat[id] | (r->dl[id] ? VIGIL__TNODE_DEFAULT_LEFT : 0u);
        nd->right = 0; /* patched when the right child is numbered */
        nd->prev = -1; /* set by vigil__trees_shap_prepare */
        /* push right first so the left child is numbered next (preorder) */
        stack[top] = rc;
        stack_parent[top] = me;
        stack_depth[top] = depth + 1;
        top++;
        stack[top] = lc;
        stack_parent[top] = me;
        stack_depth[top] = depth + 1;
        top++;
    }
    b->n += count;
    st = VIGIL_OK;
done:
    free(stack);
    free(stack_parent);
    free(stack_depth);
    free(new_idx);
    return st;
}

/* ---- the whole learner ------------------------------------------------- */

static vigil_status check_version(const json_t *root, int version[3], vigil_err *err)
{
    json_t *v = json_object_get(root, "version");
    if (v == NULL) {
        return vigil_err_set(err, VIGIL_ERR_PARSE, "/version",
                             "model JSON lacks /version (not an XGBoost JSON model?)");
    }
    if (!json_is_array(v) || json_array_size(v) != 3) {
        return vigil_err_set(err, VIGIL_ERR_PARSE, "/version", "/version is not [major, minor, patch]");
    }
    for (size_t i = 0; i < 3; i++) {
        const json_t *e = json_array_get(v, i);
        if (!json_is_integer(e) || json_integer_value(e) < 0 || json_integer_value(e) > 1000) {
            return vigil_err_set(err, VIGIL_ERR_PARSE, "/version",
                                 "/version is not [major, minor, patch]");
        }
        version[i] = (int)json_integer_value(e);
    }
    if (version[0] != 1) {
        return vigil_err_set(err, VIGIL_ERR_MISMATCH, "/version",
                             "XGBoost model format %d.%d.%d: vigil reads 1.x models only",
                             version[0], version[1], version[2]);
    }
    return VIGIL_OK;
}

static vigil_status load_params(const json_t *learner, vigil_trees *m, vigil_err *err)
{
    const char *L = "/learner";
    json_t *obj = NULL, *mp = NULL;
    const char *name = NULL;
    vigil_status st = get_obj(learner, L, "objective", &obj, err);
    if (st == VIGIL_OK) {
        st = get_str(obj, "/learner/objective", "name", &name, err);
    }
    if (st != VIGIL_OK) {
        return st;
    }
    if (strcmp(name, "binary:logistic") != 0) {
        return vigil_err_set(err, VIGIL_ERR_MISMATCH, "/learner/objective/name",
                             "objective \"%.60s\": vigil serves binary:logistic only", name);
    }
    st = get_obj(learner, L, "learner_model_param", &mp, err);
    if (st != VIGIL_OK) {
        return st;
    }
    const char *P = "/learner/learner_model_param";
    long nf = 0, ncls = 0, ntgt = 1;
    st = get_long_str(mp, P, "num_feature", 1, (long)VIGIL__TNODE_FEAT_MASK, &nf, err);
    if (st == VIGIL_OK) {
        st = get_long_str(mp, P, "num_class", 0, INT32_MAX, &ncls, err);
    }
    if (st == VIGIL_OK && json_object_get(mp, "num_target") != NULL) {
        st = get_long_str(mp, P, "num_target", 0, INT32_MAX, &ntgt, err);
    }
    if (st != VIGIL_OK) {
        return st;
    }
    if (ncls > 1 || ntgt > 1) {
        return vigil_err_set(err, VIGIL_ERR_MISMATCH, P,
                             "num_class %ld, num_target %ld: vigil serves one output only",
                             ncls, ntgt);
    }
    const char *bs = NULL;
    st = get_str(mp, P, "base_score", &bs, err);
    if (st != VIGIL_OK) {
        return st;
    }
    char *end = NULL;
    errno = 0;
    float b = strtof(bs, &end);
    if (end == bs || *end != '\0' || errno != 0 || !(b > 0.0f && b < 1.0f)) {
        return vigil_err_set(err, VIGIL_ERR_PARSE, "/learner/learner_model_param/base_score",
                             "base_score \"%.40s\" is not a probability in (0, 1)", bs);
    }
    m->n_features = (size_t)nf;
    m->base_score = b;
    /* XGBoost 1.7 LogisticRegression::ProbToMargin, in float */
    m->base_margin = -logf(1.0f / b - 1.0f);
    return VIGIL_OK;
}

static vigil_status load_trees(const json_t *learner, vigil_trees *m, builder *b,
                               size_t **tree_off, vigil_err *err)
{
    json_t *gb = NULL, *model = NULL, *gbp = NULL;
    const char *name = NULL;
    vigil_status st = get_obj(learner, "/learner", "gradient_booster", &gb, err);
    if (st == VIGIL_OK) {
        st = get_str(gb, "/learner/gradient_booster", "name", &name, err);
    }
    if (st != VIGIL_OK) {
        return st;
    }
    if (strcmp(name, "gbtree") != 0) {
        return vigil_err_set(err, VIGIL_ERR_MISMATCH, "/learner/gradient_booster/name",
                             "booster \"%.40s\": vigil serves gbtree only", name);
    }
    const char *M = "/learner/gradient_booster/model";
    st = get_obj(gb, "/learner/gradient_booster", "model", &model, err);
    if (st == VIGIL_OK) {
        st = get_obj(model, M, "gbtree_model_param", &gbp, err);
    }
    long ntrees = 0;
    if (st == VIGIL_OK) {
        st = get_long_str(gbp, "/learner/gradient_booster/model/gbtree_model_param", "num_trees",
                          0, INT32_MAX, &ntrees, err);
    }
    json_t *trees = NULL, *info = NULL;
    if (st == VIGIL_OK) {
        char ptr[PTR_MAX];
        jptr(ptr, M, "trees");
        trees = json_object_get(model, "trees");
        if (trees == NULL || !json_is_array(trees) || json_array_size(trees) != (size_t)ntrees) {
            return vigil_err_set(err, VIGIL_ERR_PARSE, ptr,
                                 "%s is not an array of num_trees (%ld) trees", ptr, ntrees);
        }
        jptr(ptr, M, "tree_info");
        info = json_object_get(model, "tree_info");
        if (info == NULL || !json_is_array(info) || json_array_size(info) != (size_t)ntrees) {
            return vigil_err_set(err, VIGIL_ERR_PARSE, ptr,
                                 "%s is not an array of num_trees (%ld) entries", ptr, ntrees);
        }
        for (size_t t = 0; t < (size_t)ntrees; t++) {
            const json_t *g = json_array_get(info, t);
            if (!json_is_integer(g) || json_integer_value(g) != 0) {
                return vigil_err_set(err, VIGIL_ERR_MISMATCH, ptr,
                                     "%s[%zu]: every tree must belong to output 0", ptr, t);
            }
        }
    }
    if (st != VIGIL_OK) {
        return st;
    }
    size_t nt = (size_t)ntrees;
    *tree_off = calloc(nt + 1, sizeof **tree_off);
    if (*tree_off == NULL) {
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory");
    }
    for (size_t t = 0; t < nt; t++) {
        raw_tree r;
        memset(&r, 0, sizeof r);
        (*tree_off)[t] = b->n;
        st = raw_tree_parse(json_array_get(trees, t), t, &r, err);
        if (st == VIGIL_OK) {
            st = builder_add(b, &r, t, m->n_features, err);
        }
        raw_tree_fini(&r);
        if (st != VIGIL_OK) {
            return st;
        }
    }
    (*tree_off)[nt] = b->n;
    m->n_trees = nt;
    return VIGIL_OK;
}

static vigil_status load_root(const json_t *root, vigil_trees *m, vigil_err *err)
{
    if (!json_is_object(root)) {
        return vigil_err_set(err, VIGIL_ERR_PARSE, "", "model JSON is not an object");
    }
    vigil_status st = check_version(root, m->version, err);
    json_t *learner = NULL;
    if (st == VIGIL_OK) {
        st = get_obj(root, "", "learner", &learner, err);
    }
    if (st == VIGIL_OK) {
        st = load_params(learner, m, err);
    }
    if (st != VIGIL_OK) {
        return st;
    }
    builder b;
    memset(&b, 0, sizeof b);
    st = load_trees(learner, m, &b, &m->tree_off, err);
    if (st == VIGIL_OK) {
        m->nodes = b.nodes;
        b.nodes = NULL;
        m->n_nodes = b.n;
        m->n_leaves = b.n_leaves;
        m->max_depth = b.max_depth;
        for (size_t t = 0; t < m->n_trees; t++) {
            size_t sz = m->tree_off[t + 1] - m->tree_off[t];
            if (sz > m->max_tree_nodes) {
                m->max_tree_nodes = sz;
            }
        }
        st = vigil__trees_shap_prepare(m, b.covers, b.parent, err);
    }
    free(b.nodes);
    free(b.covers);
    free(b.parent);
    return st;
}

vigil_status vigil_trees_load_json(const char *json, size_t len, vigil_trees **out,
                                   vigil_err *err)
{
    if (json == NULL || out == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, NULL, "NULL argument");
    }
    json_error_t je;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL) {
        vigil_err_set(err, VIGIL_ERR_PARSE, NULL, "model JSON: %s (line %d, column %d)", je.text,
                      je.line, je.column);
        if (err != NULL) {
            err->line = je.line;
        }
        return VIGIL_ERR_PARSE;
    }
    vigil_trees *m = calloc(1, sizeof *m);
    if (m == NULL) {
        json_decref(root);
        return vigil_err_set(err, VIGIL_ERR_NOMEM, NULL, "out of memory");
    }
    vigil_status st = load_root(root, m, err);
    json_decref(root);
    if (st != VIGIL_OK) {
        vigil_trees_free(m);
        return st;
    }
    *out = m;
    return VIGIL_OK;
}

vigil_status vigil_trees_load_file(const char *path, vigil_trees **out, vigil_err *err)
{
    if (path == NULL || out == NULL) {
        return vigil_err_set(err, VIGIL_ERR_ARG, NULL, "NULL argument");
    }
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return vigil_err_set(err, VIGIL_ERR_IO, NULL, "cannot open %s: %s", path, strerror(errno));
    }
    size_t cap = (size_t)1 << 16, n = 0;
    char *buf = malloc(cap);
    vigil_status st = buf ? VIGIL_OK : VIGIL_ERR_NOMEM;
    while (st == VIGIL_OK) {
        if (n == cap) {
            if (cap >= MODEL_FILE_MAX) {
                st = vigil_err_set(err, VIGIL_ERR_IO, NULL, "%s is larger than %zu bytes", path,
                                   MODEL_FILE_MAX);
                break;
            }
            char *nb = realloc(buf, cap * 2);
            if (nb == NULL) {
                st = VIGIL_ERR_NOMEM;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                st = vigil_err_set(err, VIGIL_ERR_IO, NULL, "cannot read %s", path);
            }
            break;
        }
    }
    fclose(f);
    if (st == VIGIL_ERR_NOMEM) {
        vigil_err_set(err, st, NULL, "out of memory reading %s", path);
    }
    if (st == VIGIL_OK) {
        st = vigil_trees_load_json(buf, n, out, err);
    }
    free(buf);
    return st;
}

void vigil_trees_free(vigil_trees *m)
{
    if (m == NULL) {
        return;
    }
    free(m->tree_off);
    free(m->nodes);
    free(m->split_off);
    free(m->term_off);
    free(m->terms);
    free(m->zc);
    free(m->splits);
    free(m->tq);
    free(m->wq);
    free(m);
}

void vigil_trees_get_info(const vigil_trees *m, vigil_trees_info *out)
{
    memset(out, 0, sizeof *out);
    out->n_features = m->n_features;
    out->n_trees = m->n_trees;
    out->n_nodes = m->n_nodes;
    out->n_leaves = m->n_leaves;
    out->max_depth = m->max_depth;
    out->base_score = m->base_score;
    out->base_margin = m->base_margin;
    out->expected_margin = m->expected_margin;
    for (size_t i = 0; i < 3; i++) {
        out->xgb_version[i] = m->version[i];
    }
}

/* ---- scoring ----------------------------------------------------------- */

/* REQ MODEL-XGB-EXACT: XGBoost's GetNextNode on a dense float row: the
 * compare is false for NaN, which goes left only if that is the default. */
static inline float tree_leaf(const vigil__tnode *t, const double *x)
{
    size_t i = 0;
    while (!(t[i].ff & VIGIL__TNODE_LEAF)) {
        uint32_t ff = t[i].ff;
        double v = x[ff & VIGIL__TNODE_FEAT_MASK];
        unsigned dl = (ff & VIGIL__TNODE_DEFAULT_LEFT) != 0;
        unsigned left = ((float)v < t[i].value) | ((unsigned)(isnan(v) != 0) & dl);
        size_t r = t[i].right;
        i = left ? i + 1 : r;
    }
    return t[i].value;
}

void vigil__trees_finish(float margin, vigil_trees_pred *out)
{
    out->margin = margin;
    out->prob = 1.0f / (1.0f + expf(-margin));
}

void vigil__trees_predict_row(const vigil_trees *m, const double *x, vigil_trees_pred *out)
{
    float sum = m->base_margin;
    for (size_t t = 0; t < m->n_trees; t++) {
        sum += tree_leaf(m->nodes + m->tree_off[t], x);
    }
    vigil__trees_finish(sum, out);
}

vigil_status vigil_trees_predict(const vigil_trees *m, const double *x, size_t n_features,
                                 vigil_trees_pred *out)
{
    if (m == NULL || x == NULL || out == NULL) {
        return VIGIL_ERR_ARG;
    }
    if (n_features != m->n_features) {
        return VIGIL_ERR_MISMATCH;
    }
    vigil__trees_predict_row(m, x, out);
    return VIGIL_OK;
}

#define ROW_BLOCK 64

vigil_status vigil_trees_predict_batch(const vigil_trees *m, const double *x, size_t n_rows,
                                       size_t n_features, vigil_trees_pred *out)
{
    if (m == NULL || (n_rows > 0 && (x == NULL || out == NULL))) {
        return VIGIL_ERR_ARG;
    }
    if (n_features != m->n_features) {
        return VIGIL_ERR_MISMATCH;
    }
    /* Tree-major over blocks of rows keeps each tree in cache; each row's
     * float sum still runs base, tree 0, tree 1, ... as in predict_row. */
    float sum[ROW_BLOCK];
    for (size_t r0 = 0; r0 < n_rows; r0 += ROW_BLOCK) {
        size_t nb = n_rows - r0 < ROW_BLOCK ? n_rows - r0 : ROW_BLOCK;
        for (size_t i = 0; i < nb; i++) {
            sum[i] = m->base_margin;
        }
        for (size_t t = 0; t < m->n_trees; t++) {
            const vigil__tnode *tr = m->nodes + m->tree_off[t];
            for (size_t i = 0; i < nb; i++) {
                sum[i] += tree_leaf(tr, x + (r0 + i) * n_features);
            }
        }
        for (size_t i = 0; i < nb; i++) {
            vigil__trees_finish(sum[i], &out[r0 + i]);
        }
    }
    return VIGIL_OK;
}
