/*
 * Histogram gradient boosting, grown leaf-wise, for three objectives:
 * binary log loss, squared error, and softmax log loss (one tree per class
 * per round, all grown from the gradients at the start of the round).
 *
 * Training bins are stored column-major (bins[feature * n_rows + row]), one
 * byte per value. A leaf's histogram is summed in one of two ways (see
 * "How training sums histograms" in docs/learners.md):
 *
 * - Column-wise, one feature at a time. The leaf's gradient pairs are first
 *   copied, in the leaf's row order, into one contiguous array ("ordered
 *   gradients"). Each feature's loop then reads that array in order and the
 *   feature's column at rising row numbers, adding into a histogram of at
 *   most 256 bins that fits the L1 cache.
 * - Row-wise, every feature of a row at once, from a row-major copy of each
 *   row's histogram positions that leaves out each feature's most frequent
 *   bin. The leaf's histogram must then fit the L2 cache.
 *
 * Validation bins stay row-major because only tree walks read them.
 *
 * Determinism: column-wise, one task sums one feature's histogram over the
 * leaf's rows in row order. Row-wise, blocks of rows whose size depends only
 * on the leaf's row count are summed apart and added in block order. So the
 * sums, and the model, are the same for any thread count.
 */
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lanner/log.h"
#include "learn/learn_internal.h"

/* Rows per task in row-parallel loops (binning, score updates). */
#define ROW_BLOCK 65536

/* Rows per task when partitioning a leaf's rows. */
#define PARTITION_BLOCK 16384

/* Partial histograms per feature on a leaf of at least HIST_LANE_MIN_ROWS rows. */
#define HIST_LANES 4
#define HIST_LANE_MIN_ROWS 2048

/* Rows ahead whose bin a column scan over a leaf's rows prefetches. */
#define HIST_PREFETCH 64

/*
 * Rows plus bins scanned, times features, below which a feature pass runs
 * on the calling thread. NOTE: an estimate, from timing the small shared
 * data sets on 2 cores.
 */
#define FEATURE_PASS_MIN_WORK 8192

/*
 * Row-wise histograms: each block of at least ROW_HIST_MIN_BLOCK rows of a
 * leaf sums its rows into its own histogram, and at most
 * ROW_HIST_MAX_BLOCKS such block histograms are merged per leaf.
 */
#define ROW_HIST_MIN_BLOCK 4096
#define ROW_HIST_MAX_BLOCKS 16

/* Rows ahead of the current one whose bins and gradient pair are prefetched. */
#define ROW_HIST_PREFETCH 16

/*
 * Row-wise histograms are built when one leaf's histogram takes at most
 * this many bytes. NOTE: an estimate. Every row then adds into the whole
 * histogram, which must stay in a core's L2 cache (256 KB to 2 MB on
 * current x86 cores) for row-wise to beat a column scan per feature.
 */
#define ROW_HIST_MAX_BYTES (512u << 10)

/* Histograms kept at once may use at most this many bytes. */
#define HIST_MAX_BYTES (4ull << 30)

typedef struct gbdt_pair {
    double g, h;
} gbdt_pair;

typedef struct leaf {
    size_t begin, end; /* rows[begin..end) */
    int node;
    int depth;
    gbdt_bin total;
    gbdt_bounds bounds; /* range of the leaf's weight under monotone constraints */
    gbdt_bin *hist; /* NULL once the leaf cannot split */
    gbdt_split split;
} leaf;

typedef struct trainer {
    const ln_train_params *params;
    gbdt_split_params split_params;
    ln_model *model;
    learn_pool *pool;

    size_t n_rows;
    size_t n_features;
    uint8_t *bins;         /* column-major training bins: bins[f * n_rows + r] */
    /*
     * Row-wise histograms only: each row's histogram positions (bin_offsets[f]
     * plus the bin) of the features whose bin is not the feature's most
     * frequent one, row r's at row_entries[row_starts[r]..row_starts[r + 1]).
     */
    uint16_t *row_entries;
    size_t *row_starts;
    uint8_t *frequent_bins;   /* per feature: its most frequent bin, left out of row_entries */
    gbdt_bin *block_hists;    /* ROW_HIST_MAX_BLOCKS histograms of row blocks */
    gbdt_bin *block_totals;   /* ROW_HIST_MAX_BLOCKS sums of the blocks' rows */
    size_t *bin_offsets;   /* feature -> first bin in a histogram */
    size_t total_bins;

    ln_objective objective;
    size_t n_outputs;      /* trees per round */
    const double *weights; /* per row, NULL for all 1 */
    double pos_weight;     /* binary: extra weight of positive rows */
    const int *monotone;   /* per feature, NULL when no feature is constrained */

    gbdt_pair *all_pairs;  /* n_outputs x n_rows gradient pairs of this round */
    gbdt_pair *pairs;      /* the output whose tree is growing: gradient and hessian per row side by side */
    gbdt_pair *ordered;    /* pairs of a leaf's rows, in the leaf's row order */
    gbdt_split *feature_splits; /* 2 x n_features best splits, one per searched leaf and active feature */
    double *scores;        /* n_outputs x n_rows raw training scores */
    const double *labels;

    uint32_t *rows;        /* partition of the sampled rows by leaf */
    uint32_t *scratch;
    size_t *block_counts;  /* 2 x n_blocks counts for partitioning */
    size_t n_blocks;       /* PARTITION_BLOCK blocks in n_rows */
    size_t n_sampled;

    int *active;           /* features drawn for this tree */
    int n_active;

    gbdt_bin *hist_memory; /* max_leaves histograms */
    gbdt_bin **free_hists;
    int n_free_hists;

    leaf *leaves;
    int n_leaves;

    /* Validation data. */
    size_t n_valid;
    uint8_t *valid_bins;
    double *valid_scores;  /* n_outputs x n_valid */
    const double *valid_labels;
} trainer;

/* ---- binning ---- */

typedef struct bin_job {
    const ln_model *model;
    const ln_column **columns;
    uint8_t **category_maps;
    uint8_t *out;
    size_t n_rows;
    size_t n_features;
    size_t row_stride;     /* bytes from a row's bin to the next row's */
    size_t feature_stride; /* bytes from a feature's bin to the next feature's */
} bin_job;

static void bin_rows_task(void *context, size_t task)
{
    bin_job *job = context;
    size_t begin = task * ROW_BLOCK;
    size_t end = begin + ROW_BLOCK < job->n_rows ? begin + ROW_BLOCK : job->n_rows;

    for (size_t f = 0; f < job->n_features; f++) {
        const learn_feature *feature = &job->model->features[f];
        const ln_column *column = job->columns[f];
        uint8_t *out = job->out + f * job->feature_stride;
        size_t stride = job->row_stride;

        if (feature->type == LN_TYPE_CATEGORY) {
            const uint8_t *map = job->category_maps[f];
            int32_t count = column->dict != NULL ? ln_dict_count(column->dict) : 0;
            for (size_t r = begin; r < end; r++) {
                int32_t code = column->codes[r];
                out[r * stride] = code >= 0 && code < count ? map[code + 1] : LEARN_MISSING_BIN;
            }
        } else {
            for (size_t r = begin; r < end; r++)
                out[r * stride] = learn_numeric_bin(feature, column->values[r]);
        }
    }
}

/*
 * Bins every row of a table whose columns match the model's features,
 * column-major (bins[f * n_rows + r]) or row-major (bins[r * n_features + f]).
 */
static ln_status bin_table(const ln_model *model, const ln_column **columns, size_t n_rows, int column_major,
                           learn_pool *pool, uint8_t **out, ln_error *err)
{
    size_t n_features = model->n_features;
    uint8_t *bins = malloc(n_rows * n_features + 1);
    uint8_t **maps = calloc(n_features, sizeof *maps);
    ln_status status = LN_OK;

    if (bins == NULL || maps == NULL) {
        status = ln_error_set(err, LN_ERR_NOMEM, "out of memory binning %zu rows x %zu features", n_rows,
                              n_features);
        goto done;
    }
    for (size_t f = 0; f < n_features && status == LN_OK; f++)
        if (model->features[f].type == LN_TYPE_CATEGORY)
            status = learn_category_bin_map(&model->features[f], columns[f], &maps[f], err);
    if (status != LN_OK)
        goto done;

    bin_job job = {model, columns, maps, bins, n_rows, n_features, column_major ? 1 : n_features,
                   column_major ? n_rows : 1};
    learn_pool_run(pool, (n_rows + ROW_BLOCK - 1) / ROW_BLOCK, bin_rows_task, &job);

done:
    if (maps != NULL)
        for (size_t f = 0; f < n_features; f++)
            free(maps[f]);
    free(maps);
    if (status != LN_OK) {
        free(bins);
        return status;
    }
    *out = bins;
    return LN_OK;
}

typedef struct edges_job {
    ln_model *model;
    const ln_column **columns;
    size_t n_rows;
    const ln_train_params *params;
    ln_status *statuses;
    ln_error *errors;
} edges_job;

static void edges_task(void *context, size_t f)
{
    edges_job *job = context;
    learn_feature *feature = &job->model->features[f];

    if (feature->type == LN_TYPE_CATEGORY)
        job->statuses[f] = learn_build_category_bins(feature, job->columns[f], job->n_rows,
                                                     LN_LEARN_MAX_TREE_CATEGORIES, job->params->min_category_rows,
                                                     &job->errors[f]);
    else
        job->statuses[f] = learn_build_numeric_bins(feature, job->columns[f]->values, job->n_rows,
                                                    job->params->max_bins, job->params->seed + f,
                                                    &job->errors[f]);
}

static ln_status build_feature_bins(trainer *t, const ln_column **columns, ln_error *err)
{
    size_t n = t->n_features;
    ln_status *statuses = calloc(n, sizeof *statuses);
    ln_error *errors = calloc(n, sizeof *errors);
    ln_status status = LN_OK;

    if (statuses == NULL || errors == NULL) {
        status = ln_error_set(err, LN_ERR_NOMEM, "out of memory binning features");
        goto done;
    }
    edges_job job = {t->model, columns, t->n_rows, t->params, statuses, errors};
    learn_pool_run(t->pool, n, edges_task, &job);

    for (size_t f = 0; f < n; f++) {
        if (statuses[f] != LN_OK) {
            *err = errors[f];
            status = statuses[f];
            goto done;
        }
    }

done:
    free(statuses);
    free(errors);
    return status;
}

/* ---- gradients ---- */

typedef struct gradient_job {
    trainer *t;
} gradient_job;

/* Returns row r's weight: its sample weight times the positive-class weight. */
static double row_weight(const trainer *t, size_t r)
{
    double w = t->weights != NULL ? t->weights[r] : 1.0;
    if (t->objective == LN_OBJECTIVE_BINARY && t->labels[r] == 1.0)
        w *= t->pos_weight;
    return w;
}

/* Stores a weighted pair; the hessian floor keeps a zero-weight row from making H + lambda zero. */
static void set_pair(gbdt_pair *pair, double g, double h, double w)
{
    pair->g = g * w;
    pair->h = h * w > 1e-16 ? h * w : 1e-16;
}

static void multiclass_gradients(trainer *t, size_t r)
{
    size_t n = t->n_rows;
    size_t k_count = t->n_outputs;
    double largest = -INFINITY;
    double sum = 0;

    for (size_t k = 0; k < k_count; k++)
        largest = fmax(largest, t->scores[k * n + r]);
    for (size_t k = 0; k < k_count; k++)
        sum += exp(t->scores[k * n + r] - largest);

    double w = row_weight(t, r);
    for (size_t k = 0; k < k_count; k++) {
        double p = exp(t->scores[k * n + r] - largest) / sum;
        double target = t->labels[r] == (double)k;
        set_pair(&t->all_pairs[k * n + r], p - target, p * (1.0 - p), w);
    }
}

static void gradient_task(void *context, size_t task)
{
    trainer *t = ((gradient_job *)context)->t;
    size_t begin = task * ROW_BLOCK;
    size_t end = begin + ROW_BLOCK < t->n_rows ? begin + ROW_BLOCK : t->n_rows;

    for (size_t r = begin; r < end; r++) {
        if (t->objective == LN_OBJECTIVE_MULTICLASS) {
            multiclass_gradients(t, r);
        } else if (t->objective == LN_OBJECTIVE_REGRESSION) {
            set_pair(&t->all_pairs[r], t->scores[r] - t->labels[r], 1.0, row_weight(t, r));
        } else {
            double p = 1.0 / (1.0 + exp(-t->scores[r]));
            set_pair(&t->all_pairs[r], p - t->labels[r], p * (1.0 - p), row_weight(t, r));
        }
    }
}

static void compute_gradients(trainer *t)
{
    gradient_job job = {t};
    learn_pool_run(t->pool, (t->n_rows + ROW_BLOCK - 1) / ROW_BLOCK, gradient_task, &job);
}

/* ---- histograms ---- */

/*
 * A pass over the active features after a split or for the root, one task
 * per feature. Each task builds the feature's histogram of the summed leaf,
 * derives the sibling's by subtraction from the parent's, and searches the
 * leaves' splits on the feature.
 */
typedef struct hist_job {
    trainer *t;
    size_t begin, end;   /* the summed leaf's rows[begin..end) */
    gbdt_bin *out;       /* its histogram; NULL when only splits are searched */
    gbdt_bin *larger;    /* NULL, or the parent's histogram, turned into the sibling's */
    const gbdt_bin *smaller;
    leaf *leaves[2];     /* leaves whose splits are searched */
    int n_leaves;
    int consecutive;     /* rows[begin..end) are begin, begin + 1, ..., so bins and pairs are read in place */
    size_t block_rows;   /* row-wise: rows per block */
    size_t n_blocks;     /* row-wise: blocks in rows[begin..end); 1 sums straight into out */
    gbdt_bin total;      /* row-wise: sums over rows[begin..end) */
} hist_job;

/* Copies the pairs of one block of the leaf's rows into t->ordered. */
static void gather_task(void *context, size_t task)
{
    hist_job *job = context;
    trainer *t = job->t;
    size_t begin = job->begin + task * ROW_BLOCK;
    size_t end = begin + ROW_BLOCK < job->end ? begin + ROW_BLOCK : job->end;
    gbdt_pair *ordered = t->ordered - job->begin;

    for (size_t i = begin; i < end; i++)
        ordered[i] = t->pairs[t->rows[i]];
}

/* Returns the bin of the leaf's i-th row. A NULL rows means the leaf's rows start at column[0] and are consecutive. */
static inline unsigned leaf_row_bin(const uint8_t *column, const uint32_t *rows, size_t i)
{
    return rows != NULL ? column[rows[i]] : column[i];
}

/*
 * Adds count rows round-robin to HIST_LANES partial histograms. Consecutive
 * rows in the same bin (a common missing bin, a category with few levels)
 * then update different memory, so an add need not wait for the previous
 * add's store.
 */
static inline void add_rows(gbdt_bin (*lanes)[256], const uint8_t *column, const uint32_t *rows,
                            const gbdt_pair *ordered, size_t count)
{
    size_t i = 0;
    if (rows != NULL && count > HIST_PREFETCH) {
        for (; i + HIST_LANES <= count - HIST_PREFETCH; i += HIST_LANES) {
            for (int j = 0; j < HIST_LANES; j++) {
                __builtin_prefetch(column + rows[i + j + HIST_PREFETCH]);
                gbdt_bin *bin = &lanes[j][column[rows[i + j]]];
                bin->g += ordered[i + j].g;
                bin->h += ordered[i + j].h;
                bin->n++;
            }
        }
    }
    for (; i + HIST_LANES <= count; i += HIST_LANES) {
        for (int j = 0; j < HIST_LANES; j++) {
            gbdt_bin *bin = &lanes[j][leaf_row_bin(column, rows, i + j)];
            bin->g += ordered[i + j].g;
            bin->h += ordered[i + j].h;
            bin->n++;
        }
    }
    for (int j = 0; i < count; i++, j++) {
        gbdt_bin *bin = &lanes[j][leaf_row_bin(column, rows, i)];
        bin->g += ordered[i].g;
        bin->h += ordered[i].h;
        bin->n++;
    }
}

/*
 * Sums one active feature's histogram over the leaf's rows in row order. On
 * a large leaf the rows go to HIST_LANES partial histograms, added at the end.
 */
static void feature_histogram(const trainer *t, const hist_job *job, int f)
{
    int n_bins = t->model->features[f].n_bins;
    gbdt_bin *hist = job->out + t->bin_offsets[f];
    const uint8_t *column = t->bins + (size_t)f * t->n_rows;
    size_t count = job->end - job->begin;

    if (count < HIST_LANE_MIN_ROWS) {
        memset(hist, 0, (size_t)n_bins * sizeof *hist);
        for (size_t i = 0; i < count; i++) {
            gbdt_bin *bin = &hist[column[t->rows[job->begin + i]]];
            bin->g += t->ordered[i].g;
            bin->h += t->ordered[i].h;
            bin->n++;
        }
        return;
    }

    gbdt_bin lanes[HIST_LANES][256];
    for (int j = 0; j < HIST_LANES; j++)
        memset(lanes[j], 0, (size_t)n_bins * sizeof lanes[j][0]);
    if (job->consecutive)
        add_rows(lanes, column + job->begin, NULL, t->pairs + job->begin, count);
    else
        add_rows(lanes, column, t->rows + job->begin, t->ordered, count);

    for (int b = 0; b < n_bins; b++) {
        gbdt_bin sum = lanes[0][b];
        for (int j = 1; j < HIST_LANES; j++) {
            sum.g += lanes[j][b].g;
            sum.h += lanes[j][b].h;
            sum.n += lanes[j][b].n;
        }
        hist[b] = sum;
    }
}

/*
 * Row-wise histograms, for leaves whose histogram fits a core's L2 cache.
 * A row's histogram positions are one contiguous run, so a leaf costs about
 * one cache miss per row where the column scan pays one per row and
 * feature. Bins that hold a feature's most frequent value are not stored:
 * their sums are the leaf's sums minus the feature's other bins, which
 * saves the adds of every row in such a bin.
 *
 * The leaf's rows are cut into blocks whose size depends only on the row
 * count. Each block sums into its own histogram, and the blocks are merged
 * in order, so the sums do not depend on the thread count.
 */
static void plan_row_blocks(hist_job *job)
{
    size_t count = job->end - job->begin;
    size_t n_blocks = count / ROW_HIST_MIN_BLOCK;

    /* Blocks of equal size, so that each thread gets about the same work. */
    if (n_blocks < 1)
        n_blocks = 1;
    if (n_blocks > ROW_HIST_MAX_BLOCKS)
        n_blocks = ROW_HIST_MAX_BLOCKS;
    job->block_rows = count > 0 ? (count + n_blocks - 1) / n_blocks : 1;
    job->n_blocks = count > 0 ? (count + job->block_rows - 1) / job->block_rows : 1;
}

static gbdt_bin *block_histogram(const trainer *t, const hist_job *job, size_t block)
{
    return job->n_blocks == 1 ? job->out : t->block_hists + block * t->total_bins;
}

/*
 * Adds rows[begin..end) of the growing tree's output to hist, every stored
 * entry of a row at once, and returns the rows' sums. Entries of features
 * left out of this tree are added too and never read.
 */
static gbdt_bin add_rows_row_wise(const trainer *t, gbdt_bin *hist, size_t begin, size_t end)
{
    gbdt_bin total = {0, 0, (int64_t)(end - begin)};
    const uint32_t *rows = t->rows;
    const size_t *starts = t->row_starts;
    const uint16_t *entries = t->row_entries;
    const gbdt_pair *pairs = t->pairs;

    for (size_t i = begin; i < end; i++) {
        /*
         * Start loading the entries of the row ROW_HIST_PREFETCH rows ahead, and the
         * start of the row twice as far. The prefetches stay in this loop because
         * GCC 12 drops calls to a function that only prefetches as having no effect.
         */
        if (i + 2 * ROW_HIST_PREFETCH < end)
            __builtin_prefetch(starts + rows[i + 2 * ROW_HIST_PREFETCH]);
        if (i + ROW_HIST_PREFETCH < end) {
            uint32_t ahead = rows[i + ROW_HIST_PREFETCH];
            __builtin_prefetch(entries + starts[ahead]);
            __builtin_prefetch(entries + starts[ahead + 1] - 1);
            __builtin_prefetch(pairs + ahead);
        }
        uint32_t r = rows[i];
        double g = pairs[r].g;
        double h = pairs[r].h;
        total.g += g;
        total.h += h;
        const uint16_t *last = entries + starts[r + 1];
        for (const uint16_t *entry = entries + starts[r]; entry < last; entry++) {
            gbdt_bin *bin = &hist[*entry];
            bin->g += g;
            bin->h += h;
            bin->n++;
        }
    }
    return total;
}

static void row_block_task(void *context, size_t block)
{
    hist_job *job = context;
    const trainer *t = job->t;
    size_t begin = job->begin + block * job->block_rows;
    size_t end = begin + job->block_rows < job->end ? begin + job->block_rows : job->end;
    gbdt_bin *hist = block_histogram(t, job, block);

    memset(hist, 0, t->total_bins * sizeof *hist);
    t->block_totals[block] = add_rows_row_wise(t, hist, begin, end);
}

/* Builds the summed leaf's histogram, leaving the most frequent bins to fix_frequent_bin. */
static void build_row_wise(trainer *t, hist_job *job)
{
    plan_row_blocks(job);
    learn_pool_run(t->pool, job->n_blocks, row_block_task, job);

    job->total = t->block_totals[0];
    for (size_t block = 1; block < job->n_blocks; block++) {
        job->total.g += t->block_totals[block].g;
        job->total.h += t->block_totals[block].h;
        job->total.n += t->block_totals[block].n;
    }
}

/* Sums feature f's bins of the block histograms, in block order, into the leaf's histogram. */
static void merge_feature_blocks(const trainer *t, const hist_job *job, int f)
{
    size_t first = t->bin_offsets[f];
    int n_bins = t->model->features[f].n_bins;
    gbdt_bin *out = job->out + first;

    memcpy(out, t->block_hists + first, (size_t)n_bins * sizeof *out);
    for (size_t block = 1; block < job->n_blocks; block++) {
        const gbdt_bin *in = t->block_hists + block * t->total_bins + first;
        for (int b = 0; b < n_bins; b++) {
            out[b].g += in[b].g;
            out[b].h += in[b].h;
            out[b].n += in[b].n;
        }
    }
}

/* Sets feature f's most frequent bin to the leaf's sums minus the feature's other bins. */
static void fix_frequent_bin(const trainer *t, const hist_job *job, int f)
{
    gbdt_bin *hist = job->out + t->bin_offsets[f];
    int frequent = t->frequent_bins[f];
    gbdt_bin rest = {0, 0, 0};

    for (int b = 0; b < t->model->features[f].n_bins; b++) {
        if (b == frequent)
            continue;
        rest.g += hist[b].g;
        rest.h += hist[b].h;
        rest.n += hist[b].n;
    }
    hist[frequent].n = job->total.n - rest.n;

    /* An empty bin gets exact zeros, not the rounding left over from the subtraction. */
    if (hist[frequent].n == 0) {
        hist[frequent].g = 0;
        hist[frequent].h = 0;
        return;
    }
    hist[frequent].g = job->total.g - rest.g;
    hist[frequent].h = job->total.h - rest.h;
}

static void subtract_feature(const trainer *t, gbdt_bin *parent, const gbdt_bin *child, int f)
{
    size_t first = t->bin_offsets[f];
    for (int b = 0; b < t->model->features[f].n_bins; b++) {
        parent[first + b].g -= child[first + b].g;
        parent[first + b].h -= child[first + b].h;
        parent[first + b].n -= child[first + b].n;
    }
}

static int leaf_can_split(const trainer *t, const leaf *l)
{
    const ln_train_params *params = t->params;
    if (params->max_depth > 0 && l->depth >= params->max_depth)
        return 0;
    return l->total.n >= 2 * (int64_t)params->min_data_in_leaf;
}

static void no_split(gbdt_split *split)
{
    memset(split, 0, sizeof *split);
    split->feature = -1;
}

/* Finds the best split of leaf l on feature f alone and stores it in best. */
static void feature_best_split(const trainer *t, const leaf *l, int f, gbdt_split *best)
{
    const learn_feature *feature = &t->model->features[f];
    const gbdt_bin *hist = l->hist + t->bin_offsets[f];
    gbdt_bounds bounds = l->bounds;
    const gbdt_bounds *constraint = NULL;

    no_split(best);
    if (!leaf_can_split(t, l))
        return;
    if (t->monotone != NULL) {
        bounds.direction = t->monotone[f];
        constraint = &bounds;
    }
    if (feature->type == LN_TYPE_CATEGORY)
        gbdt_best_category_split(hist, feature->n_bins, &l->total, f, &t->split_params, constraint, best);
    else
        gbdt_best_numeric_split(hist, feature->n_bins, &l->total, f, &t->split_params, constraint, best);
}

static void feature_pass_task(void *context, size_t k)
{
    hist_job *job = context;
    trainer *t = job->t;
    int f = t->active[k];

    if (job->out != NULL && t->row_entries == NULL)
        feature_histogram(t, job, f);
    if (job->out != NULL && t->row_entries != NULL) {
        if (job->n_blocks > 1)
            merge_feature_blocks(t, job, f);
        fix_frequent_bin(t, job, f);
    }
    if (job->larger != NULL)
        subtract_feature(t, job->larger, job->smaller, f);
    for (int j = 0; j < job->n_leaves; j++)
        feature_best_split(t, job->leaves[j], f, &t->feature_splits[(size_t)j * t->n_features + k]);
}

/*
 * Keeps the best of the per-feature splits, taking the first feature in
 * scan order on a tie. That is the split a scan of every feature in turn
 * would choose, whatever thread searched each feature.
 */
static void choose_split(const trainer *t, leaf *l, const gbdt_split *per_feature)
{
    no_split(&l->split);
    for (int k = 0; k < t->n_active; k++)
        if (per_feature[k].gain > l->split.gain)
            l->split = per_feature[k];
}

static void run_feature_pass(trainer *t, hist_job *job)
{
    if (job->out != NULL && t->row_entries != NULL)
        build_row_wise(t, job);

    job->consecutive = job->out != NULL && job->begin == 0 && job->end == t->n_rows && t->n_sampled == t->n_rows &&
                       job->end - job->begin >= HIST_LANE_MIN_ROWS;
    if (job->out != NULL && !job->consecutive && t->row_entries == NULL)
        learn_pool_run(t->pool, (job->end - job->begin + ROW_BLOCK - 1) / ROW_BLOCK, gather_task, job);

    /* Waking the workers costs more than a tiny pass, which the calling thread then runs alone. */
    size_t rows = 0;
    if (job->out != NULL)
        rows = t->row_entries == NULL ? job->end - job->begin : job->n_blocks * 256;
    size_t work = (rows + (size_t)job->n_leaves * 256) * (size_t)t->n_active;
    if (work < FEATURE_PASS_MIN_WORK) {
        for (int k = 0; k < t->n_active; k++)
            feature_pass_task(job, (size_t)k);
    } else {
        learn_pool_run(t->pool, (size_t)t->n_active, feature_pass_task, job);
    }

    for (int j = 0; j < job->n_leaves; j++)
        choose_split(t, job->leaves[j], &t->feature_splits[(size_t)j * t->n_features]);
}

/* Histograms come from a pool of max_leaves buffers, enough for every leaf at once. */
static gbdt_bin *take_histogram(trainer *t)
{
    assert(t->n_free_hists > 0);
    return t->free_hists[--t->n_free_hists];
}

static void give_histogram(trainer *t, gbdt_bin *hist)
{
    if (hist != NULL)
        t->free_hists[t->n_free_hists++] = hist;
}

/* ---- tree growth ---- */

static int bin_goes_left(const learn_node *node, const learn_bin_set *sets, unsigned bin)
{
    if (bin == LEARN_MISSING_BIN)
        return node->default_left;
    if (node->categorical)
        return learn_bin_set_has(&sets[node->cat_set], bin);
    return bin <= node->split_bin;
}

/*
 * Stable partition of a leaf's rows (left rows first, both sides in their
 * old order) in fixed blocks: each block splits its rows into its own part
 * of t->scratch, then each block copies its two runs to their places,
 * known from the left counts of the blocks before it.
 */
typedef struct partition_job {
    trainer *t;
    size_t begin, end;
    const uint8_t *column;    /* the split feature's bins */
    uint8_t goes_left[256];   /* per bin: 1 when the bin's rows go left */
    size_t *n_left;           /* per block */
    size_t *left_before;      /* per block: left rows in the blocks before it */
    size_t middle;            /* first right row once partitioned */
} partition_job;

static void partition_block_task(void *context, size_t block)
{
    partition_job *job = context;
    trainer *t = job->t;
    size_t begin = job->begin + block * PARTITION_BLOCK;
    size_t end = begin + PARTITION_BLOCK < job->end ? begin + PARTITION_BLOCK : job->end;
    uint32_t *left = t->scratch + begin;
    uint32_t *right = t->scratch + end;
    size_t n_left = 0;
    size_t n_right = 0;

    /*
     * Left rows fill the block's scratch from the front and right rows from
     * the back, in reverse. Each row is written at both ends so the loop has
     * no branch. The write that does not count lands on a free slot, which a
     * later row overwrites (or the last row fills with the same value).
     */
    for (size_t i = begin; i < end; i++) {
        if (i + HIST_PREFETCH < end)
            __builtin_prefetch(job->column + t->rows[i + HIST_PREFETCH]);
        uint32_t r = t->rows[i];
        size_t go = job->goes_left[job->column[r]];
        left[n_left] = r;
        right[-1 - (ptrdiff_t)n_right] = r;
        n_left += go;
        n_right += 1 - go;
    }
    job->n_left[block] = n_left;
}

static void partition_copy_task(void *context, size_t block)
{
    partition_job *job = context;
    trainer *t = job->t;
    size_t begin = job->begin + block * PARTITION_BLOCK;
    size_t end = begin + PARTITION_BLOCK < job->end ? begin + PARTITION_BLOCK : job->end;
    size_t n_left = job->n_left[block];
    size_t before = job->left_before[block];
    size_t right_before = (begin - job->begin) - before;

    memcpy(t->rows + job->begin + before, t->scratch + begin, n_left * sizeof *t->rows);
    uint32_t *right_out = t->rows + job->middle + right_before;
    for (size_t i = 0; i < end - begin - n_left; i++)
        right_out[i] = t->scratch[end - 1 - i];
}

static size_t partition_rows(trainer *t, const leaf *l, const learn_node *node, const learn_bin_set *sets)
{
    partition_job job;
    job.t = t;
    job.begin = l->begin;
    job.end = l->end;
    job.column = t->bins + (size_t)node->feature * t->n_rows;
    for (unsigned bin = 0; bin < 256; bin++)
        job.goes_left[bin] = (uint8_t)bin_goes_left(node, sets, bin);
    job.n_left = t->block_counts;
    job.left_before = t->block_counts + t->n_blocks;

    size_t n_blocks = (l->end - l->begin + PARTITION_BLOCK - 1) / PARTITION_BLOCK;
    learn_pool_run(t->pool, n_blocks, partition_block_task, &job);
    size_t total = 0;
    for (size_t b = 0; b < n_blocks; b++) {
        job.left_before[b] = total;
        total += job.n_left[b];
    }
    job.middle = l->begin + total;
    learn_pool_run(t->pool, n_blocks, partition_copy_task, &job);
    return job.middle;
}

static void init_leaf_node(learn_node *node)
{
    memset(node, 0, sizeof *node);
    node->left = -1;
    node->right = -1;
    node->feature = -1;
}

/*
 * Narrows the children's weight ranges after a split on a constrained
 * feature, at the midpoint of their weights, so every leaf under the left
 * child ends on the correct side of every leaf under the right one. The
 * presence split (all values left, missing right) orders nothing and leaves
 * the ranges as they are.
 */
static void narrow_bounds(const trainer *t, const gbdt_split *s, leaf *left, leaf *right)
{
    if (t->monotone == NULL || s->categorical || t->monotone[s->feature] == 0)
        return;
    if (s->split_bin == t->model->features[s->feature].n_bins - 1)
        return;

    double middle = (s->left_output + s->right_output) / 2;
    if (t->monotone[s->feature] > 0) {
        left->bounds.upper = fmin(left->bounds.upper, middle);
        right->bounds.lower = fmax(right->bounds.lower, middle);
    } else {
        left->bounds.lower = fmax(left->bounds.lower, middle);
        right->bounds.upper = fmin(right->bounds.upper, middle);
    }
}

static void split_leaf(trainer *t, learn_tree *tree, int index)
{
    leaf parent = t->leaves[index];
    const gbdt_split *s = &parent.split;
    learn_node *node = &tree->nodes[parent.node];

    node->feature = s->feature;
    node->categorical = (uint8_t)s->categorical;
    node->default_left = (uint8_t)s->default_left;
    node->gain = s->gain;
    node->cover = (double)parent.total.n;
    if (s->categorical) {
        tree->cat_sets[tree->n_cat_sets] = s->left_bins;
        node->cat_set = (uint32_t)tree->n_cat_sets++;
    } else {
        node->split_bin = (uint16_t)s->split_bin;
        node->threshold = t->model->features[s->feature].edges[s->split_bin - 1];
    }
    node->left = tree->n_nodes;
    node->right = tree->n_nodes + 1;
    init_leaf_node(&tree->nodes[tree->n_nodes++]);
    init_leaf_node(&tree->nodes[tree->n_nodes++]);

    size_t middle = partition_rows(t, &parent, node, tree->cat_sets);
    assert((int64_t)(middle - parent.begin) == s->left.n);

    leaf left = {.begin = parent.begin, .end = middle, .node = node->left, .depth = parent.depth + 1,
                 .total = s->left, .bounds = parent.bounds};
    leaf right = {.begin = middle, .end = parent.end, .node = node->right, .depth = parent.depth + 1,
                  .total = s->right, .bounds = parent.bounds};
    narrow_bounds(t, s, &left, &right);

    /* Build the smaller child and derive the larger one from the parent. */
    leaf *smaller = left.total.n <= right.total.n ? &left : &right;
    leaf *larger = smaller == &left ? &right : &left;
    smaller->hist = take_histogram(t);
    larger->hist = parent.hist;
    hist_job job = {.t = t, .begin = smaller->begin, .end = smaller->end, .out = smaller->hist,
                    .larger = larger->hist, .smaller = smaller->hist, .leaves = {&left, &right}, .n_leaves = 2};
    run_feature_pass(t, &job);
    t->leaves[index] = left;
    t->leaves[t->n_leaves++] = right;
}

static int best_leaf(const trainer *t)
{
    int best = -1;
    for (int i = 0; i < t->n_leaves; i++)
        if (t->leaves[i].split.gain > 0 && (best < 0 || t->leaves[i].split.gain > t->leaves[best].split.gain))
            best = i;
    return best;
}

static void sample_rows(trainer *t, int iteration)
{
    if (t->params->row_subsample >= 1.0) {
        for (size_t r = 0; r < t->n_rows; r++)
            t->rows[r] = (uint32_t)r;
        t->n_sampled = t->n_rows;
        return;
    }

    learn_rng rng;
    learn_rng_seed(&rng, t->params->seed, 0x726f7773u + (uint64_t)iteration * 2);
    size_t n = 0;
    for (size_t r = 0; r < t->n_rows; r++)
        if (learn_rng_uniform(&rng) < t->params->row_subsample)
            t->rows[n++] = (uint32_t)r;
    if (n == 0)
        t->rows[n++] = (uint32_t)(learn_rng_next(&rng) % t->n_rows);
    t->n_sampled = n;
}

static void sample_features(trainer *t, int iteration)
{
    int n = (int)t->n_features;
    int want = (int)(t->params->feature_subsample * n + 0.5);
    if (want < 1)
        want = 1;
    if (want >= n) {
        for (int f = 0; f < n; f++)
            t->active[f] = f;
        t->n_active = n;
        return;
    }

    /* Partial Fisher-Yates shuffle, then sort the draw so features are scanned in index order. */
    learn_rng rng;
    learn_rng_seed(&rng, t->params->seed, 0x66656174u + (uint64_t)iteration * 2 + 1);
    int *order = t->active;
    for (int f = 0; f < n; f++)
        order[f] = f;
    for (int i = 0; i < want; i++) {
        int j = i + (int)(learn_rng_next(&rng) % (uint64_t)(n - i));
        int swap = order[i];
        order[i] = order[j];
        order[j] = swap;
    }
    for (int i = 1; i < want; i++)
        for (int j = i; j > 0 && order[j - 1] > order[j]; j--) {
            int swap = order[j];
            order[j] = order[j - 1];
            order[j - 1] = swap;
        }
    t->n_active = want;
}

static gbdt_bin histogram_total(const trainer *t, const gbdt_bin *hist)
{
    int f = t->active[0];
    gbdt_bin total = {0, 0, 0};
    for (int b = 0; b < t->model->features[f].n_bins; b++) {
        total.g += hist[t->bin_offsets[f] + (size_t)b].g;
        total.h += hist[t->bin_offsets[f] + (size_t)b].h;
        total.n += hist[t->bin_offsets[f] + (size_t)b].n;
    }
    return total;
}

/* Grows one tree into tree (whose node and set arrays hold max_leaves leaves). */
static void grow_tree(trainer *t, int iteration, learn_tree *tree)
{
    sample_rows(t, iteration);
    sample_features(t, iteration);

    tree->n_nodes = 1;
    tree->n_cat_sets = 0;
    init_leaf_node(&tree->nodes[0]);

    leaf *root = &t->leaves[0];
    memset(root, 0, sizeof *root);
    root->end = t->n_sampled;
    root->hist = take_histogram(t);
    hist_job build = {.t = t, .begin = 0, .end = t->n_sampled, .out = root->hist};
    run_feature_pass(t, &build);
    root->total = histogram_total(t, root->hist);
    root->bounds = (gbdt_bounds){-INFINITY, INFINITY, 0};
    t->n_leaves = 1;
    hist_job search = {.t = t, .leaves = {root, NULL}, .n_leaves = 1};
    run_feature_pass(t, &search);

    while (t->n_leaves < t->params->max_leaves) {
        int index = best_leaf(t);
        if (index < 0)
            break;
        split_leaf(t, tree, index);
    }

    for (int i = 0; i < t->n_leaves; i++) {
        leaf *l = &t->leaves[i];
        double weight = gbdt_bounded_weight(l->total.g, l->total.h, &t->split_params,
                                            t->monotone != NULL ? &l->bounds : NULL);
        tree->nodes[l->node].value = t->params->learning_rate * weight;
        tree->nodes[l->node].cover = (double)l->total.n;
        give_histogram(t, l->hist);
        l->hist = NULL;
    }
}

/* ---- scores ---- */

/* row_bins points at the row's bin of feature 0, and feature f's bin is row_bins[f * feature_stride]. */
static double binned_tree_value(const learn_tree *tree, const uint8_t *row_bins, size_t feature_stride)
{
    int32_t i = 0;
    while (tree->nodes[i].left >= 0) {
        const learn_node *node = &tree->nodes[i];
        unsigned bin = row_bins[(size_t)node->feature * feature_stride];
        i = bin_goes_left(node, tree->cat_sets, bin) ? node->left : node->right;
    }
    return tree->nodes[i].value;
}

typedef struct score_job {
    const learn_tree *tree;
    const uint8_t *bins;
    size_t row_stride, feature_stride;
    size_t n_rows;
    double *scores;
} score_job;

static void score_task(void *context, size_t task)
{
    score_job *job = context;
    size_t begin = task * ROW_BLOCK;
    size_t end = begin + ROW_BLOCK < job->n_rows ? begin + ROW_BLOCK : job->n_rows;

    for (size_t r = begin; r < end; r++)
        job->scores[r] += binned_tree_value(job->tree, job->bins + r * job->row_stride, job->feature_stride);
}

/* Adds a tree's values to scores; bins are column-major (the training bins) or row-major. */
static void add_tree_scores(trainer *t, const learn_tree *tree, const uint8_t *bins, size_t n_rows,
                            int column_major, double *scores)
{
    score_job job = {tree, bins, column_major ? 1 : t->n_features, column_major ? n_rows : 1, n_rows, scores};
    learn_pool_run(t->pool, (n_rows + ROW_BLOCK - 1) / ROW_BLOCK, score_task, &job);
}

typedef struct leaf_score_job {
    const trainer *t;
    const learn_tree *tree;
    double *scores;
} leaf_score_job;

/* Adds one leaf's value to its rows' scores; leaves hold disjoint rows. */
static void leaf_score_task(void *context, size_t i)
{
    leaf_score_job *job = context;
    const leaf *l = &job->t->leaves[i];
    double value = job->tree->nodes[l->node].value;
    for (size_t k = l->begin; k < l->end; k++)
        job->scores[job->t->rows[k]] += value;
}

/* Adds the new tree to the training scores of one output, through the partition when every row was in it. */
static void update_train_scores(trainer *t, const learn_tree *tree, double *scores)
{
    if (t->n_sampled != t->n_rows) {
        add_tree_scores(t, tree, t->bins, t->n_rows, 1, scores);
        return;
    }
    leaf_score_job job = {t, tree, scores};
    learn_pool_run(t->pool, (size_t)t->n_leaves, leaf_score_task, &job);
}

static double softplus(double x)
{
    return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
}

/* Mean validation loss of the objective; scores are n_outputs x n, output-major. */
static double validation_loss(const trainer *t, const double *scores, const double *labels, size_t n)
{
    double sum = 0;

    for (size_t i = 0; i < n; i++) {
        if (t->objective == LN_OBJECTIVE_REGRESSION) {
            sum += (scores[i] - labels[i]) * (scores[i] - labels[i]);
        } else if (t->objective == LN_OBJECTIVE_BINARY) {
            sum += labels[i] > 0.5 ? softplus(-scores[i]) : softplus(scores[i]);
        } else {
            double largest = -INFINITY, total = 0;
            for (size_t k = 0; k < t->n_outputs; k++)
                largest = fmax(largest, scores[k * n + i]);
            for (size_t k = 0; k < t->n_outputs; k++)
                total += exp(scores[k * n + i] - largest);
            sum += log(total) + largest - scores[(size_t)labels[i] * n + i];
        }
    }
    return sum / (double)n;
}

/* ---- setup ---- */

static ln_status allocate_trainer(trainer *t, ln_error *err)
{
    const ln_train_params *params = t->params;
    size_t n_features = t->n_features;

    t->bin_offsets = malloc(n_features * sizeof *t->bin_offsets);
    if (t->bin_offsets == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory");
    t->total_bins = 0;
    for (size_t f = 0; f < n_features; f++) {
        t->bin_offsets[f] = t->total_bins;
        t->total_bins += (size_t)t->model->features[f].n_bins;
    }

    size_t hist_bytes = t->total_bins * sizeof(gbdt_bin);
    unsigned long long pool_bytes = (unsigned long long)hist_bytes * (unsigned long long)params->max_leaves;
    if (pool_bytes > HIST_MAX_BYTES)
        return ln_error_set(err, LN_ERR_LIMIT,
                            "histograms for %d leaves x %zu bins need %llu bytes, more than the limit of %llu; "
                            "lower max_leaves or max_bins",
                            params->max_leaves, t->total_bins, pool_bytes, (unsigned long long)HIST_MAX_BYTES);

    size_t n_rows = t->n_rows;
    t->all_pairs = malloc(n_rows * t->n_outputs * sizeof *t->all_pairs);
    t->scores = malloc(n_rows * t->n_outputs * sizeof *t->scores);
    t->rows = malloc(n_rows * sizeof *t->rows);
    t->scratch = malloc(n_rows * sizeof *t->scratch);
    t->active = malloc(n_features * sizeof *t->active);
    t->hist_memory = malloc((size_t)pool_bytes);
    t->free_hists = malloc((size_t)params->max_leaves * sizeof *t->free_hists);
    t->ordered = malloc((n_rows ? n_rows : 1) * sizeof *t->ordered);
    t->n_blocks = n_rows / PARTITION_BLOCK + 1;
    t->block_counts = malloc(2 * t->n_blocks * sizeof *t->block_counts);
    t->feature_splits = malloc(2 * n_features * sizeof *t->feature_splits);
    t->leaves = malloc((size_t)params->max_leaves * sizeof *t->leaves);
    t->model->trees = calloc((size_t)params->trees * t->n_outputs, sizeof *t->model->trees);
    if (t->all_pairs == NULL || t->scores == NULL || t->rows == NULL ||
        t->scratch == NULL || t->active == NULL || t->hist_memory == NULL || t->free_hists == NULL ||
        t->ordered == NULL || t->block_counts == NULL || t->feature_splits == NULL || t->leaves == NULL ||
        t->model->trees == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory allocating training buffers for %zu rows", n_rows);

    for (int i = 0; i < params->max_leaves; i++)
        t->free_hists[i] = t->hist_memory + (size_t)i * t->total_bins;
    t->n_free_hists = params->max_leaves;
    return LN_OK;
}

/*
 * Row-wise histograms pay off when one leaf's histogram stays in a core's L2
 * cache and most features are drawn for each tree, since a row's entries of
 * features left out are added too. NOTE: the 0.75 is an estimate.
 */
static int builds_row_wise(const trainer *t)
{
    /* Row entries are 16-bit histogram positions. */
    if (t->total_bins > (size_t)UINT16_MAX + 1)
        return 0;
    if (t->params->histograms != LN_HISTOGRAMS_AUTO)
        return t->params->histograms == LN_HISTOGRAMS_ROW_WISE;
    return t->total_bins * sizeof(gbdt_bin) <= ROW_HIST_MAX_BYTES && t->params->feature_subsample >= 0.75;
}

typedef struct row_entries_job {
    trainer *t;
    size_t *counts; /* per row, then turned into row_starts */
} row_entries_job;

static void frequent_bin_task(void *context, size_t f)
{
    trainer *t = ((row_entries_job *)context)->t;
    const uint8_t *column = t->bins + f * t->n_rows;
    size_t counts[256] = {0};

    for (size_t r = 0; r < t->n_rows; r++)
        counts[column[r]]++;
    unsigned frequent = 0;
    for (unsigned bin = 1; bin < 256; bin++)
        if (counts[bin] > counts[frequent])
            frequent = bin;
    t->frequent_bins[f] = (uint8_t)frequent;
}

static void count_entries_task(void *context, size_t task)
{
    row_entries_job *job = context;
    const trainer *t = job->t;
    size_t begin = task * ROW_BLOCK;
    size_t end = begin + ROW_BLOCK < t->n_rows ? begin + ROW_BLOCK : t->n_rows;

    for (size_t r = begin; r < end; r++)
        job->counts[r] = 0;
    for (size_t f = 0; f < t->n_features; f++) {
        const uint8_t *column = t->bins + f * t->n_rows;
        uint8_t frequent = t->frequent_bins[f];
        for (size_t r = begin; r < end; r++)
            job->counts[r] += column[r] != frequent;
    }
}

static void fill_entries_task(void *context, size_t task)
{
    trainer *t = ((row_entries_job *)context)->t;
    size_t begin = task * ROW_BLOCK;
    size_t end = begin + ROW_BLOCK < t->n_rows ? begin + ROW_BLOCK : t->n_rows;

    for (size_t r = begin; r < end; r++) {
        uint16_t *out = t->row_entries + t->row_starts[r];
        for (size_t f = 0; f < t->n_features; f++) {
            uint8_t bin = t->bins[f * t->n_rows + r];
            if (bin != t->frequent_bins[f])
                *out++ = (uint16_t)(t->bin_offsets[f] + bin);
        }
    }
}

/* Builds the row entries and the block buffers of row-wise histograms from the column-major bins. */
static ln_status prepare_row_wise(trainer *t, ln_error *err)
{
    size_t n_tasks = (t->n_rows + ROW_BLOCK - 1) / ROW_BLOCK;
    t->frequent_bins = malloc(t->n_features);
    t->row_starts = malloc((t->n_rows + 1) * sizeof *t->row_starts);
    t->block_hists = malloc(ROW_HIST_MAX_BLOCKS * t->total_bins * sizeof *t->block_hists);
    t->block_totals = malloc(ROW_HIST_MAX_BLOCKS * sizeof *t->block_totals);
    if (t->frequent_bins == NULL || t->row_starts == NULL || t->block_hists == NULL || t->block_totals == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory allocating row-wise histograms");

    row_entries_job job = {t, t->row_starts};
    learn_pool_run(t->pool, t->n_features, frequent_bin_task, &job);
    learn_pool_run(t->pool, n_tasks, count_entries_task, &job);

    /* Turn the per-row counts into starts, in place. */
    size_t total = 0;
    for (size_t r = 0; r < t->n_rows; r++) {
        size_t count = t->row_starts[r];
        t->row_starts[r] = total;
        total += count;
    }
    t->row_starts[t->n_rows] = total;

    t->row_entries = malloc((total ? total : 1) * sizeof *t->row_entries);
    if (t->row_entries == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory storing %zu row-wise bin entries", total);
    learn_pool_run(t->pool, n_tasks, fill_entries_task, &job);
    return LN_OK;
}

static void free_trainer(trainer *t)
{
    free(t->bins);
    free(t->bin_offsets);
    free(t->all_pairs);
    free(t->scores);
    free(t->rows);
    free(t->scratch);
    free(t->active);
    free(t->row_entries);
    free(t->row_starts);
    free(t->frequent_bins);
    free(t->block_hists);
    free(t->block_totals);
    free(t->hist_memory);
    free(t->free_hists);
    free(t->ordered);
    free(t->block_counts);
    free(t->feature_splits);
    free(t->leaves);
    free(t->valid_bins);
    free(t->valid_scores);
}

static ln_status new_tree_buffers(learn_tree *tree, int max_leaves, ln_error *err)
{
    tree->nodes = malloc((size_t)(2 * max_leaves - 1) * sizeof *tree->nodes);
    tree->cat_sets = malloc((size_t)max_leaves * sizeof *tree->cat_sets);
    if (tree->nodes == NULL || tree->cat_sets == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory growing a tree");
    return LN_OK;
}

/* Shrinks a grown tree's arrays to their used size. */
static void fit_tree_buffers(learn_tree *tree)
{
    learn_node *nodes = realloc(tree->nodes, (size_t)tree->n_nodes * sizeof *nodes);
    if (nodes != NULL)
        tree->nodes = nodes;
    if (tree->n_cat_sets == 0) {
        free(tree->cat_sets);
        tree->cat_sets = NULL;
        return;
    }
    learn_bin_set *sets = realloc(tree->cat_sets, (size_t)tree->n_cat_sets * sizeof *sets);
    if (sets != NULL)
        tree->cat_sets = sets;
}

static ln_status prepare_validation(trainer *t, const ln_table *valid, const double *valid_labels, ln_error *err)
{
    const ln_column **columns = calloc(t->n_features, sizeof *columns);
    if (columns == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory");

    ln_status status = learn_match_columns(t->model, valid, "validation table", columns, err);
    if (status == LN_OK)
        status = bin_table(t->model, columns, valid->n_rows, 0, t->pool, &t->valid_bins, err);
    free(columns);
    if (status != LN_OK)
        return status;

    t->n_valid = valid->n_rows;
    t->valid_labels = valid_labels;
    t->valid_scores = malloc((t->n_valid ? t->n_valid : 1) * t->n_outputs * sizeof *t->valid_scores);
    if (t->valid_scores == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory");
    for (size_t k = 0; k < t->n_outputs; k++)
        for (size_t i = 0; i < t->n_valid; i++)
            t->valid_scores[k * t->n_valid + i] = t->model->base_scores[k];
    return LN_OK;
}

/*
 * Sets the base scores that minimise the weighted training loss of a model
 * without trees: the log-odds of the positive rate, the mean label, or the
 * log of each class's share (floored at 1e-6 for an absent class).
 */
static void set_base_scores(trainer *t)
{
    double total = 0;
    double *sums = t->model->base_scores;

    for (size_t k = 0; k < t->n_outputs; k++)
        sums[k] = 0;
    for (size_t r = 0; r < t->n_rows; r++) {
        double w = row_weight(t, r);
        total += w;
        if (t->objective == LN_OBJECTIVE_MULTICLASS)
            sums[(size_t)t->labels[r]] += w;
        else
            sums[0] += w * t->labels[r];
    }

    if (t->objective == LN_OBJECTIVE_REGRESSION) {
        sums[0] /= total;
    } else if (t->objective == LN_OBJECTIVE_BINARY) {
        double rate = sums[0] / total;
        sums[0] = log(rate / (1.0 - rate));
    } else {
        for (size_t k = 0; k < t->n_outputs; k++)
            sums[k] = log(fmax(sums[k] / total, 1e-6));
    }
}

/* ---- training loop ---- */

static int any_constraint(const int *monotone, size_t n_features)
{
    if (monotone == NULL)
        return 0;
    for (size_t f = 0; f < n_features; f++)
        if (monotone[f] != 0)
            return 1;
    return 0;
}

/*
 * Grows one round: a tree per output from this round's gradients. Returns
 * the number of trees that split at least once, and leaves the round's
 * trees in round[0 .. n_outputs).
 */
static ln_status grow_round(trainer *t, int iteration, learn_tree *round, int *n_split, ln_error *err)
{
    *n_split = 0;
    compute_gradients(t);

    for (size_t k = 0; k < t->n_outputs; k++) {
        ln_status status = new_tree_buffers(&round[k], t->params->max_leaves, err);
        if (status != LN_OK)
            return status;
        t->pairs = t->all_pairs + k * t->n_rows;
        grow_tree(t, iteration, &round[k]);
        *n_split += round[k].n_nodes > 1;

        update_train_scores(t, &round[k], t->scores + k * t->n_rows);
        if (t->n_valid > 0)
            add_tree_scores(t, &round[k], t->valid_bins, t->n_valid, 0, t->valid_scores + k * t->n_valid);
        fit_tree_buffers(&round[k]);
    }
    return LN_OK;
}

/*
 * Logs why boosting stopped when a round found no split. A model without
 * trees predicts the base rate for every row, which the user must hear
 * about with every setting that can forbid a split.
 */
static void log_no_split(const trainer *t, int iteration)
{
    const ln_train_params *p = t->params;

    if (iteration > 0) {
        ln_log(LN_LOG_INFO, "boosting stopped after %d rounds: no split improves the loss", iteration);
        return;
    }
    ln_log(LN_LOG_WARN,
           "boosting stopped after 0 rounds: no split improves the loss, so the model predicts the base rate "
           "for every row. A split needs min_data_in_leaf (%d) rows on each side, out of %zu rows per tree, a "
           "hessian sum of min_sum_hessian (%g) on each side, and a gain above min_gain_to_split (%g) after the "
           "penalties l1 (%g) and l2 (%g). A category split also needs min_data_per_category (%d) rows of a "
           "category in the node and pays cat_l2 (%g) more",
           p->min_data_in_leaf, t->n_sampled, p->min_sum_hessian, p->min_gain_to_split, p->lambda_l1,
           p->lambda_l2, p->min_data_per_category, p->cat_l2);
}

ln_status gbdt_train(const ln_train_params *params, ln_model *model, const ln_table *train, const double *labels,
                     const double *weights, const ln_column **train_columns, const ln_table *valid,
                     const double *valid_labels, learn_pool *pool, ln_error *err)
{
    trainer t;
    memset(&t, 0, sizeof t);
    t.params = params;
    t.split_params = gbdt_split_params_from(params);
    t.model = model;
    t.pool = pool;
    t.n_rows = train->n_rows;
    t.n_features = model->n_features;
    t.labels = labels;
    t.objective = params->objective;
    t.n_outputs = model->n_outputs;
    t.weights = weights;
    t.pos_weight = params->scale_pos_weight;
    t.monotone = any_constraint(params->monotone, t.n_features) ? params->monotone : NULL;
    set_base_scores(&t);

    learn_tree round[LN_LEARN_MAX_CLASSES];
    memset(round, 0, sizeof round);
    ln_status status = build_feature_bins(&t, train_columns, err);
    if (status == LN_OK)
        status = bin_table(model, train_columns, t.n_rows, 1, pool, &t.bins, err);
    if (status == LN_OK)
        status = allocate_trainer(&t, err);
    if (status == LN_OK && builds_row_wise(&t))
        status = prepare_row_wise(&t, err);
    if (status == LN_OK && valid != NULL && valid->n_rows > 0)
        status = prepare_validation(&t, valid, valid_labels, err);
    if (status != LN_OK)
        goto done;

    for (size_t k = 0; k < t.n_outputs; k++)
        for (size_t r = 0; r < t.n_rows; r++)
            t.scores[k * t.n_rows + r] = model->base_scores[k];

    int patience = t.n_valid > 0 ? params->early_stopping_rounds : 0;
    double best_loss = INFINITY;
    int best_trees = 0;

    for (int iteration = 0; iteration < params->trees; iteration++) {
        int n_split = 0;
        status = grow_round(&t, iteration, round, &n_split, err);
        if (status != LN_OK)
            goto done;

        /* A round where no tree splits changes nothing later rounds could build on. */
        if (n_split == 0) {
            log_no_split(&t, iteration);
            break;
        }
        for (size_t k = 0; k < t.n_outputs; k++) {
            model->trees[model->n_trees++] = round[k];
            memset(&round[k], 0, sizeof round[k]);
        }
        ln_progress("trees", iteration + 1, params->trees);

        if (t.n_valid == 0)
            continue;
        double loss = validation_loss(&t, t.valid_scores, t.valid_labels, t.n_valid);
        if (loss < best_loss) {
            best_loss = loss;
            best_trees = model->n_trees;
        }
        if (patience > 0 && model->n_trees - best_trees >= patience * (int)t.n_outputs) {
            ln_log(LN_LOG_INFO, "early stopping at %d trees: best validation loss %.6f at %d trees",
                   model->n_trees, best_loss, best_trees);
            break;
        }
    }

    /* Keep the trees up to the best validation loss. */
    if (patience > 0 && best_trees > 0)
        while (model->n_trees > best_trees)
            learn_tree_clear(&model->trees[--model->n_trees]);

done:
    for (size_t k = 0; k < t.n_outputs; k++)
        learn_tree_clear(&round[k]);
    free_trainer(&t);
    return status;
}
