/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The OCI runtime configuration parser (runtime/spec/): config.json, a
 * process object or a resources object in, the typed structs of berth/oci.h
 * out. On failure the error names the field: "process.args: ...". */
#ifndef BERTH_SPEC_H
#define BERTH_SPEC_H

#include <stdbool.h>
#include <stddef.h>

#include "berth/err.h"
#include "berth/oci.h"

/* Parses and validates a config.json document held in memory.
 * On failure returns NULL. */
struct berth_spec *berth_spec_parse(const char *json, size_t len, struct berth_err *err);

/* Reads <bundle_dir_fd>/config.json and parses it; errors start "config.json: ". */
struct berth_spec *berth_spec_load(int bundle_dir_fd, struct berth_err *err);

void berth_spec_free(struct berth_spec *spec);

/* The value of annotation key, NULL when the spec has none ("" for a
 * key without a value). */
const char *berth_spec_annotation(const struct berth_spec *s, const char *key);

/* Parses an OCI "process" object alone (exec --process FILE). */
struct berth_process *berth_process_parse(const char *json, size_t len, struct berth_err *err);
void berth_process_free(struct berth_process *p);

/* Parses an OCI LinuxResources object alone (update --resources FILE). */
struct berth_resources *berth_resources_parse(const char *json, size_t len, struct berth_err *err);
void berth_resources_free(struct berth_resources *r);

/* The default config.json that `berth spec` writes (runc-compatible),
 * as a newly allocated JSON text. rootless: user namespace + mappings. */
char *berth_spec_default_json(bool rootless, struct berth_err *err);

/* Names used in messages and the state file ("pid", "network", ...). */
const char *berth_ns_type_name(enum berth_ns_type t);
const char *berth_hook_kind_name(enum berth_hook_kind k);

#endif
