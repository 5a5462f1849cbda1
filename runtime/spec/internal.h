/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Private helpers shared by the runtime/spec*.c files (the config.json parser).
 *
 * Ownership rule that keeps the parser simple: every allocation is linked
 * into the output struct the moment it is made (arrays are calloc'ed and
 * their count set before the elements are filled), so on any error the
 * caller just frees the whole, partially filled struct.
 *
 * Getters for an object member return 1 when the member is present, 0 when
 * it is absent or JSON null (Go's encoding/json, which runc uses, treats
 * null like absence), and -errno with err set ("path.key: problem"). */
#ifndef BERTH_SPEC_INTERNAL_H
#define BERTH_SPEC_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "berth/err.h"
#include "berth/spec.h"

/* Long enough for "linux.resources.blockIO.throttleReadBpsDevice[123].major". */
#define SPEC_PATH_MAX 256

/* Sets err to "path: <message>" (EINVAL) and returns -EINVAL. */
int spec_fail(struct berth_err *err, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int spec_oom(struct berth_err *err, const char *path);

/* out = "parent.key" (or "key" when parent is empty) / "parent[i]". */
void spec_path_key(char out[SPEC_PATH_MAX], const char *parent, const char *key);
void spec_path_index(char out[SPEC_PATH_MAX], const char *parent, size_t i);

/* obj[key], or NULL when absent or JSON null. */
json_t *spec_member(json_t *obj, const char *key);

/* Typed access to a value whose path is already known. */
int spec_value_string(json_t *v, const char *path, char **out, struct berth_err *err);
int spec_value_int(json_t *v, const char *path, int64_t min, int64_t max, int64_t *out,
                   struct berth_err *err);
int spec_value_object(json_t *v, const char *path, struct berth_err *err);

/* Typed access to obj[key]; parent is obj's path. See the return convention above. */
int spec_get_object(json_t *obj, const char *parent, const char *key, json_t **out, struct berth_err *err);
int spec_get_array(json_t *obj, const char *parent, const char *key, json_t **out, struct berth_err *err);
int spec_get_string(json_t *obj, const char *parent, const char *key, char **out, struct berth_err *err);
int spec_get_bool(json_t *obj, const char *parent, const char *key, bool *out, struct berth_err *err);
int spec_get_int(json_t *obj, const char *parent, const char *key, int64_t min, int64_t max, int64_t *out,
                 struct berth_err *err);
int spec_get_u64(json_t *obj, const char *parent, const char *key, uint64_t *out, struct berth_err *err);
int spec_get_u32(json_t *obj, const char *parent, const char *key, uint32_t *out, struct berth_err *err);
int spec_get_opt_u64(json_t *obj, const char *parent, const char *key, struct berth_opt_u64 *out,
                     struct berth_err *err);
int spec_get_opt_i64(json_t *obj, const char *parent, const char *key, int64_t min, struct berth_opt_i64 *out,
                     struct berth_err *err);

/* Array of strings -> NULL-terminated vector (left NULL when absent). */
int spec_get_strv(json_t *obj, const char *parent, const char *key, char ***out, size_t *n,
                  struct berth_err *err);
/* Object of string values -> key/value pairs, in document order. */
int spec_get_string_map(json_t *obj, const char *parent, const char *key, struct berth_key_value **out,
                        size_t *n, struct berth_err *err);
/* Like spec_get_strv, each entry must be an absolute path. */
int spec_get_abs_pathv(json_t *obj, const char *parent, const char *key, char ***out, size_t *n,
                       struct berth_err *err);
int spec_check_abs_path(const char *s, const char *path, struct berth_err *err);

/* Allocates the element array of obj[key] and calls fn on each element,
 * which must be an object. The array and its count are set before the
 * elements are filled, so that a partly filled array is freed. */
typedef int (*spec_elem_fn)(json_t *v, const char *path, void *elem, struct berth_err *err);
int spec_get_objects(json_t *obj, const char *parent, const char *key, size_t elem_size, void **out,
                     size_t *n, spec_elem_fn fn, struct berth_err *err);
/* Goes through a void * so the typed field is never written through a
 * void ** (strict aliasing); the array is linked in even on error. */
#define SPEC_GET_OBJECTS(obj, parent, key, field, n, fn, err)                                                \
        ({                                                                                                   \
                void *arr_ = NULL;                                                                           \
                int r_ = spec_get_objects(obj, parent, key, sizeof(*(field)), &arr_, n, fn, err);            \
                (field) = arr_;                                                                              \
                r_;                                                                                          \
        })

/* Array of {containerID, hostID, size}. */
int spec_get_id_mappings(json_t *obj, const char *parent, const char *key, struct berth_id_mapping **out,
                         size_t *n, struct berth_err *err);

void spec_strv_free(char **v);
void spec_key_values_free(struct berth_key_value *kv, size_t n);

/* Sections; each fills a zeroed struct and leaves it freeable on error. */
int spec_parse_process(json_t *obj, const char *path, struct berth_process *p, struct berth_err *err);
void spec_process_clear(struct berth_process *p);

int spec_parse_mounts(json_t *arr, const char *path, struct berth_spec *s, struct berth_err *err);
/* Parses the mounts of arr and appends them to s->mounts (lxcfs.c). */
int spec_append_mounts(json_t *arr, const char *path, struct berth_spec *s, struct berth_err *err);
void spec_mounts_clear(struct berth_spec *s);

int spec_parse_linux(json_t *obj, const char *path, struct berth_spec *s, struct berth_err *err);
void spec_linux_clear(struct berth_spec *s);
int spec_parse_propagation(json_t *v, const char *path, enum berth_propagation *out, struct berth_err *err);

int spec_parse_resources(json_t *obj, const char *path, struct berth_resources *r, struct berth_err *err);
void spec_resources_clear(struct berth_resources *r);

int spec_parse_seccomp(json_t *obj, const char *path, struct berth_seccomp *sc, struct berth_err *err);
void spec_seccomp_clear(struct berth_seccomp *sc);

int spec_parse_hooks(json_t *obj, const char *path, struct berth_hooks *h, struct berth_err *err);
void spec_hooks_clear(struct berth_hooks *h);

/* Integer literals above INT64_MAX (see spec_bigint.c) become strings with
 * this prefix; only uint64 getters take them. */
#define SPEC_U64_MARK "\x01u64:"
char *spec_widen_big_ints(const char *json, size_t len, size_t *out_len);
bool spec_is_u64_mark(json_t *v);
/* A real JSON string, not such a marker. */
bool spec_is_string(json_t *v);
uint64_t spec_u64_mark_value(json_t *v);

/* Decodes a JSON text into a new reference; syntax errors carry line/column. */
json_t *spec_load_json(const char *json, size_t len, struct berth_err *err);

#endif
