/*
 * Readers of pipeline file sections shared between config.c and
 * config_release.c.
 */
#ifndef LANNER_PIPELINE_CONFIG_INTERNAL_H
#define LANNER_PIPELINE_CONFIG_INTERNAL_H

#include "lanner/pipeline.h"
#include "pipeline/ydoc.h"

/* Returns 1 when name is 1 to 128 letters, digits, '-', '_' or '.'. */
int config_name_is_valid(const char *name);

/* Sets the gate rules a pipeline without a gate section gets. */
void config_gate_defaults(ln_gate_spec *gate);

/* Reads the optional gate section; sets has_gate when present. */
ln_status config_read_gate(ydoc *doc, yaml_node_t *root, ln_pipeline *pipeline, ln_error *err);

/* Reads the optional downstream list of consumers. */
ln_status config_read_downstream(ydoc *doc, yaml_node_t *root, ln_pipeline *pipeline, ln_error *err);

#endif
