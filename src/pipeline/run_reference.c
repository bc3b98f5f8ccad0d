/*
 * The monitoring reference of a run: the train split's feature
 * distributions and the valid split's scores and promised figures, stored
 * under "reference" in the model's metadata so `lanner monitor` finds it
 * from any registry version without the training data.
 */
#include <math.h>

#include "lanner/log.h"
#include "lanner/monitor.h"
#include "pipeline/run_internal.h"

ln_status run_build_reference(run_context *run, ln_error *err)
{
    ln_reference *reference = NULL;

    /* A row gets an action from the last (lowest) threshold on, as the metadata's "threshold" does. */
    double flag_threshold = run->thresholds[run->n_actions - 1];
    ln_status status = ln_reference_build(run->train.table, (const char *const *)run->features, run->n_features,
                                          run->valid_scores, run->valid.labels, run->valid.table->n_rows,
                                          flag_threshold, run->result->valid_payoff, &reference, err);
    if (status != LN_OK)
        return ln_error_prefix(err, "%s: building the monitoring reference", run->pipeline->path);

    run->reference = ln_reference_to_json(reference);
    ln_reference_free(reference);
    if (run->reference == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory storing the monitoring reference");
    ln_log(LN_LOG_DEBUG, "monitoring reference: %zu features", run->n_features);
    return LN_OK;
}
