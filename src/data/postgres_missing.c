/* ln_postgres_read for a build without libpq: every call fails with a clear message. */
#include "data/data_internal.h"

ln_status ln_postgres_read(const char *url, const char *query, const ln_load_options *options,
                           ln_table **out, ln_error *err)
{
    (void)url;
    (void)query;
    (void)options;
    *out = NULL;
    return ln_error_set(err, LN_ERR_CONFIG,
                        "this lanner was built without libpq, so it cannot read PostgreSQL; "
                        "install libpq-dev and rebuild");
}
