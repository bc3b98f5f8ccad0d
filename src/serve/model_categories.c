/*
 * The categories a model tells apart, read from the learner's in-memory
 * model.
 *
 * NOTE: model.h has no call that lists a category feature's categories, so
 * this file (alone in the serve module) reads learn/learn_internal.h. It
 * breaks when ln_model's layout changes; a public
 * ln_model_category_count/ln_model_category pair would remove the coupling.
 */
#include <string.h>

#include "learn/learn_internal.h"
#include "serve/serve_internal.h"

ln_status serve_model_categories(const ln_model *model, size_t feature, ln_dict **out, ln_error *err)
{
    const learn_feature *f = &model->features[feature];
    ln_dict *dict = ln_dict_new();

    if (dict == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory copying the categories of \"%s\"", f->name);
    for (int32_t i = 0; i < f->n_categories; i++) {
        if (ln_dict_intern(dict, f->categories[i], strlen(f->categories[i])) < 0) {
            ln_dict_release(dict);
            return ln_error_set(err, LN_ERR_NOMEM, "out of memory copying the categories of \"%s\"", f->name);
        }
    }
    *out = dict;
    return LN_OK;
}
