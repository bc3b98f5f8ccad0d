#include "registry_view.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

int view_usage_error(const char *command, const char *format, ...)
{
    va_list args;
    size_t first_word = strcspn(command, " ");

    fprintf(stderr, "lanner %.*s: error: ", (int)first_word, command);
    va_start(args, format);
    vfprintf(stderr, format, args);
    va_end(args);
    fprintf(stderr, "\nTry 'lanner %s --help'.\n", command);
    return EXIT_USAGE;
}

int view_parse_options(const char *command, int argc, char **argv, int allow_reason, void (*help)(void),
                       view_options *out)
{
    static const struct option options[] = {
        {"registry", required_argument, NULL, 'r'}, {"reason", required_argument, NULL, 'm'},
        {"json", no_argument, NULL, 'j'},           {"quiet", no_argument, NULL, 'q'},
        {"force", no_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    int option;

    memset(out, 0, sizeof *out);
    out->registry_path = VIEW_DEFAULT_REGISTRY;

    /* opterr = 0 so that getopt's own message does not add a second error line. */
    optind = 1;
    opterr = 0;
    while ((option = getopt_long(argc, argv, ":hq", options, NULL)) != -1) {
        switch (option) {
        case 'r': out->registry_path = optarg; break;
        case 'm':
            if (!allow_reason)
                return view_usage_error(command, "--reason goes with promote and rollback only");
            out->reason = optarg;
            break;
        case 'f':
            if (!allow_reason)
                return view_usage_error(command, "--force goes with promote only");
            out->force = 1;
            break;
        case 'j': out->json = 1; break;
        case 'q': out->quiet = 1; break;
        case 'h': help(); return -1;
        case ':': return view_usage_error(command, "option %s needs a value", argv[optind - 1]);
        default: return view_usage_error(command, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (out->registry_path[0] == '\0')
        return view_usage_error(command, "--registry is empty; give the path of a registry database");
    out->first_arg = optind;
    return 0;
}

int view_parse_ref(const char *command, const char *text, int need_version, view_ref *ref)
{
    const char *at = strchr(text, '@');
    size_t name_length = at != NULL ? (size_t)(at - text) : strlen(text);

    memset(ref, 0, sizeof *ref);
    if (name_length == 0)
        return view_usage_error(command, "'%s' has no model name; expected NAME%s", text,
                                need_version ? "@VERSION" : " or NAME@VERSION");
    if (name_length > LN_REGISTRY_MAX_NAME)
        return view_usage_error(command, "model name '%.32s...' is longer than %d bytes", text,
                                LN_REGISTRY_MAX_NAME);
    memcpy(ref->name, text, name_length);

    if (at == NULL) {
        if (need_version)
            return view_usage_error(command, "'%s' has no version; expected NAME@VERSION, such as %s@1", text,
                                    text);
        return 0;
    }

    const char *digits = at + 1;
    char *end = NULL;
    errno = 0;
    long version = strtol(digits, &end, 10);
    if (digits[0] < '0' || digits[0] > '9' || *end != '\0' || errno != 0 || version < 1 || version > INT_MAX)
        return view_usage_error(command, "invalid version '%s' in '%s'; versions are whole numbers from 1",
                                digits, text);
    ref->version = (int)version;
    return 0;
}

int view_parse_one_ref(const char *command, int argc, char **argv, const view_options *options, int need_version,
                       view_ref *ref)
{
    int given = argc - options->first_arg;

    if (given != 1)
        return view_usage_error(command, "expected one %s, found %d arguments",
                                need_version ? "NAME@VERSION" : "NAME or NAME@VERSION", given);
    return view_parse_ref(command, argv[options->first_arg], need_version, ref);
}

ln_status view_open_registry(const char *path, ln_registry **out, ln_error *err)
{
    struct stat info;

    *out = NULL;
    if (stat(path, &info) != 0) {
        if (errno == ENOENT)
            return ln_error_set(err, LN_ERR_NOT_FOUND,
                                "registry %s not found; give --registry PATH (lanner run writes lanner.db "
                                "beside the pipeline unless told otherwise)",
                                path);
        return ln_error_set(err, LN_ERR_IO, "registry %s: cannot read: %s", path, strerror(errno));
    }
    if (S_ISDIR(info.st_mode))
        return ln_error_set(err, LN_ERR_CONFIG, "registry %s is a folder; give the database file inside it",
                            path);

    /* An absolute path makes the stored model paths that the registry returns absolute too. */
    char absolute[PATH_MAX];
    if (realpath(path, absolute) == NULL)
        return ln_error_set(err, LN_ERR_IO, "registry %s: cannot resolve the path: %s", path, strerror(errno));
    return ln_registry_open(absolute, out, err);
}

static int keep_first(void *context, const ln_version_info *info)
{
    *(int *)context = info->version;
    return 1;
}

ln_status view_get_version(ln_registry *registry, const view_ref *ref, ln_version_info *info, ln_error *err)
{
    int newest = 0;

    if (ref->version > 0)
        return ln_registry_get(registry, ref->name, ref->version, info, err);

    ln_status status = ln_registry_get(registry, ref->name, 0, info, err);
    if (status != LN_ERR_NOT_FOUND)
        return status;

    /* No production version: fall back to the newest registration (an unknown model fails here too). */
    status = ln_registry_list(registry, ref->name, keep_first, &newest, err);
    if (status != LN_OK)
        return status;
    return ln_registry_get(registry, ref->name, newest, info, err);
}

/* Returns the value at a dotted path such as "test.model.auc", or NULL. */
static json_t *json_at(json_t *root, const char *path)
{
    char key[64];
    json_t *node = root;

    while (node != NULL && *path != '\0') {
        size_t length = strcspn(path, ".");
        if (length >= sizeof key)
            return NULL;
        memcpy(key, path, length);
        key[length] = '\0';
        node = json_is_object(node) ? json_object_get(node, key) : NULL;
        path += length + (path[length] == '.');
    }
    return node;
}

static double number_at(json_t *root, const char *path)
{
    json_t *node = json_at(root, path);

    return json_is_number(node) ? json_number_value(node) : NAN;
}

static const char *text_at(json_t *root, const char *path)
{
    json_t *node = json_at(root, path);

    return json_is_string(node) ? json_string_value(node) : NULL;
}

json_t *view_read_metrics(const ln_version_info *info, view_metrics *metrics)
{
    json_t *root = json_loads(info->metrics_json != NULL ? info->metrics_json : "", 0, NULL);

    if (root != NULL && !json_is_object(root)) {
        json_decref(root);
        root = NULL;
    }

    metrics->auc = number_at(root, "test.model.auc");
    metrics->pr_auc = number_at(root, "test.model.pr_auc");
    metrics->log_loss = number_at(root, "test.model.logloss");
    metrics->flag_rate = number_at(root, "test.model.flag_rate");
    metrics->threshold = number_at(root, "test.model.threshold");
    metrics->payoff_model = number_at(root, "test.model.payoff");
    metrics->payoff_baseline = number_at(root, "test.baseline.payoff");
    metrics->payoff_nothing = number_at(root, "test.flag_nothing.payoff");
    metrics->data_source = text_at(root, "lineage.data_source");
    metrics->learner = text_at(root, "model.type");
    return root;
}

ln_status view_load_model(const ln_version_info *info, ln_model **out, ln_error *err)
{
    ln_status status = ln_registry_verify_model(info, err);

    if (status != LN_OK)
        return status;

    status = ln_model_load(info->model_path, out, err);
    if (status == LN_OK)
        return LN_OK;

    /* A stored file that vanishes between the hash check and the load is damage to the store too. */
    if (status == LN_ERR_NOT_FOUND)
        status = LN_ERR_CORRUPT;
    err->status = status;
    return ln_error_prefix(err, "stored model of '%s' version %d cannot be loaded", info->name, info->version);
}

double view_model_threshold(const ln_model *model)
{
    json_t *root = json_loads(ln_model_metadata(model), 0, NULL);
    double threshold = number_at(root, "threshold");

    json_decref(root);
    return threshold;
}

json_t *view_json_number(double value)
{
    return isfinite(value) ? json_real(value) : json_null();
}

json_t *view_json_version(int value)
{
    return value > 0 ? json_integer(value) : json_null();
}

void view_print_json(json_t *root)
{
    json_dumpf(root, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
    fputc('\n', stdout);
    json_decref(root);
}

const char *view_format(char *buffer, size_t capacity, const char *format, double value)
{
    if (!isfinite(value))
        snprintf(buffer, capacity, "-");
    else
        snprintf(buffer, capacity, format, value);
    return buffer;
}
