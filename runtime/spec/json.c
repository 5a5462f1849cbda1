/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Typed, path-aware access to jansson values for the config parser.
 *
 * Every error names the field it is about ("process.user.uid: must not be
 * negative"), so each getter knows its parent's path and its own key. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berth/cleanup.h"
#include "runtime/spec/internal.h"

int spec_fail(struct berth_err *err, const char *path, const char *fmt, ...)
{
        char msg[BERTH_ERR_MSG_MAX];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        return berth_err_set(err, EINVAL, "%s: %s", path, msg);
}

int spec_oom(struct berth_err *err, const char *path)
{
        return berth_err_set(err, ENOMEM, "%s: out of memory", path);
}

void spec_path_key(char out[SPEC_PATH_MAX], const char *parent, const char *key)
{
        if (parent && parent[0])
                snprintf(out, SPEC_PATH_MAX, "%s.%s", parent, key);
        else
                snprintf(out, SPEC_PATH_MAX, "%s", key);
}

void spec_path_index(char out[SPEC_PATH_MAX], const char *parent, size_t i)
{
        snprintf(out, SPEC_PATH_MAX, "%s[%zu]", parent, i);
}

json_t *spec_member(json_t *obj, const char *key)
{
        json_t *v = json_object_get(obj, key);
        return json_is_null(v) ? NULL : v;
}

int spec_value_object(json_t *v, const char *path, struct berth_err *err)
{
        if (!json_is_object(v))
                return spec_fail(err, path, "must be an object");
        return 0;
}

int spec_value_string(json_t *v, const char *path, char **out, struct berth_err *err)
{
        if (!spec_is_string(v))
                return spec_fail(err, path, "must be a string");
        /* jansson rejects \u0000 in strings by default, so strdup keeps it all. */
        char *s = strdup(json_string_value(v));
        if (!s)
                return spec_oom(err, path);
        free(*out);
        *out = s;
        return 0;
}

/* Integers only: Go's encoding/json refuses 1.0 for an integer field too.
 * jansson stores integers as int64, so uint64 fields top out at INT64_MAX. */
int spec_value_int(json_t *v, const char *path, int64_t min, int64_t max, int64_t *out, struct berth_err *err)
{
        if (spec_is_u64_mark(v))
                return spec_fail(err, path, "%s out of range [%" PRId64 ", %" PRId64 "]",
                                 json_string_value(v) + strlen(SPEC_U64_MARK), min, max);
        if (!json_is_integer(v))
                return spec_fail(err, path, "must be an integer");
        int64_t x = json_integer_value(v);
        if (x < min && min == 0)
                return spec_fail(err, path, "must not be negative (got %" PRId64 ")", x);
        if (x < min && max == INT64_MAX)
                return spec_fail(err, path, "must be at least %" PRId64 " (got %" PRId64 ")", min, x);
        if (x < min || x > max)
                return spec_fail(err, path, "%" PRId64 " out of range [%" PRId64 ", %" PRId64 "]", x, min,
                                 max);
        *out = x;
        return 0;
}

/* obj's member key when it is of the given type: 1, 0 when absent. */
static int get_typed(json_t *obj, const char *parent, const char *key, json_type type, const char *what,
                     json_t **out, struct berth_err *err)
{
        char path[SPEC_PATH_MAX];
        json_t *v = spec_member(obj, key);

        *out = NULL;
        if (!v)
                return 0;
        spec_path_key(path, parent, key);
        if (json_typeof(v) != type)
                return spec_fail(err, path, "must be %s", what);
        *out = v;
        return 1;
}

int spec_get_object(json_t *obj, const char *parent, const char *key, json_t **out, struct berth_err *err)
{
        return get_typed(obj, parent, key, JSON_OBJECT, "an object", out, err);
}

int spec_get_array(json_t *obj, const char *parent, const char *key, json_t **out, struct berth_err *err)
{
        return get_typed(obj, parent, key, JSON_ARRAY, "an array", out, err);
}

int spec_get_string(json_t *obj, const char *parent, const char *key, char **out, struct berth_err *err)
{
        char path[SPEC_PATH_MAX];
        json_t *v = spec_member(obj, key);

        if (!v)
                return 0;
        spec_path_key(path, parent, key);
        int r = spec_value_string(v, path, out, err);
        return r < 0 ? r : 1;
}

int spec_get_bool(json_t *obj, const char *parent, const char *key, bool *out, struct berth_err *err)
{
        char path[SPEC_PATH_MAX];
        json_t *v = spec_member(obj, key);

        if (!v)
                return 0;
        if (!json_is_boolean(v)) {
                spec_path_key(path, parent, key);
                return spec_fail(err, path, "must be a boolean");
        }
        *out = json_is_true(v);
        return 1;
}

int spec_get_int(json_t *obj, const char *parent, const char *key, int64_t min, int64_t max, int64_t *out,
                 struct berth_err *err)
{
        char path[SPEC_PATH_MAX];
        json_t *v = spec_member(obj, key);

        if (!v)
                return 0;
        spec_path_key(path, parent, key);
        int r = spec_value_int(v, path, min, max, out, err);
        return r < 0 ? r : 1;
}

int spec_get_u64(json_t *obj, const char *parent, const char *key, uint64_t *out, struct berth_err *err)
{
        json_t *v = spec_member(obj, key);
        int64_t x;

        if (v && spec_is_u64_mark(v)) {
                *out = spec_u64_mark_value(v);
                return 1;
        }
        int r = spec_get_int(obj, parent, key, 0, INT64_MAX, &x, err);
        if (r > 0)
                *out = (uint64_t)x;
        return r;
}

int spec_get_u32(json_t *obj, const char *parent, const char *key, uint32_t *out, struct berth_err *err)
{
        int64_t x;
        int r = spec_get_int(obj, parent, key, 0, UINT32_MAX, &x, err);
        if (r > 0)
                *out = (uint32_t)x;
        return r;
}

int spec_get_opt_u64(json_t *obj, const char *parent, const char *key, struct berth_opt_u64 *out,
                     struct berth_err *err)
{
        int r = spec_get_u64(obj, parent, key, &out->v, err);
        out->set = r > 0;
        return r;
}

int spec_get_opt_i64(json_t *obj, const char *parent, const char *key, int64_t min, struct berth_opt_i64 *out,
                     struct berth_err *err)
{
        int r = spec_get_int(obj, parent, key, min, INT64_MAX, &out->v, err);
        out->set = r > 0;
        return r;
}

/* The array obj[key]: n + 1 zeroed elements (a NULL-terminated list of
 * pointers), count set before fn fills each, objects: each must be one. */
static int get_elems(json_t *obj, const char *parent, const char *key, size_t elem_size, void **out,
                     size_t *n, spec_elem_fn fn, bool objects, struct berth_err *err)
{
        char path[SPEC_PATH_MAX], ipath[SPEC_PATH_MAX];
        json_t *arr, *v;
        size_t i;
        int r = spec_get_array(obj, parent, key, &arr, err);

        if (r <= 0)
                return r;
        spec_path_key(path, parent, key);
        *out = calloc(json_array_size(arr) + 1, elem_size);
        if (!*out)
                return spec_oom(err, path);
        *n = json_array_size(arr);
        json_array_foreach(arr, i, v)
        {
                spec_path_index(ipath, path, i);
                if (objects && spec_value_object(v, ipath, err) < 0)
                        return -EINVAL;
                if ((r = fn(v, ipath, (char *)*out + i * elem_size, err)) < 0)
                        return r;
        }
        return 1;
}

static int string_elem(json_t *v, const char *path, void *elem, struct berth_err *err)
{
        return spec_value_string(v, path, elem, err);
}

int spec_get_strv(json_t *obj, const char *parent, const char *key, char ***out, size_t *n,
                  struct berth_err *err)
{
        void *arr = NULL; /* not through a void ** (strict aliasing) */
        int r = get_elems(obj, parent, key, sizeof(char *), &arr, n, string_elem, false, err);
        *out = arr;
        return r;
}

int spec_check_abs_path(const char *s, const char *path, struct berth_err *err)
{
        if (s[0] != '/')
                return spec_fail(err, path, "must be an absolute path (got \"%s\")", s);
        return 0;
}

int spec_get_abs_pathv(json_t *obj, const char *parent, const char *key, char ***out, size_t *n,
                       struct berth_err *err)
{
        char path[SPEC_PATH_MAX], ipath[SPEC_PATH_MAX];
        int r = spec_get_strv(obj, parent, key, out, n, err);

        if (r <= 0)
                return r;
        spec_path_key(path, parent, key);
        for (size_t i = 0; i < *n; i++) {
                spec_path_index(ipath, path, i);
                if (spec_check_abs_path((*out)[i], ipath, err) < 0)
                        return -EINVAL;
        }
        return 1;
}

int spec_get_string_map(json_t *obj, const char *parent, const char *key, struct berth_key_value **out,
                        size_t *n, struct berth_err *err)
{
        char path[SPEC_PATH_MAX], kpath[SPEC_PATH_MAX];
        json_t *map, *v;
        const char *k;
        int r = spec_get_object(obj, parent, key, &map, err);

        if (r <= 0)
                return r;
        spec_path_key(path, parent, key);
        *out = calloc(json_object_size(map) + 1, sizeof(**out));
        if (!*out)
                return spec_oom(err, path);
        json_object_foreach(map, k, v)
        {
                struct berth_key_value *kv = &(*out)[*n];
                spec_path_key(kpath, path, k);
                kv->key = strdup(k);
                (*n)++;
                if (!kv->key)
                        return spec_oom(err, kpath);
                r = spec_value_string(v, kpath, &kv->value, err);
                if (r < 0)
                        return r;
        }
        return 1;
}

static int parse_id_mapping(json_t *v, const char *path, void *elem, struct berth_err *err)
{
        struct berth_id_mapping *m = elem;
        char fpath[SPEC_PATH_MAX];
        static const char *const keys[] = {"containerID", "hostID", "size"};
        uint32_t *fields[] = {&m->container_id, &m->host_id, &m->size};

        for (size_t i = 0; i < BERTH_ARRAY_SIZE(keys); i++) {
                int r = spec_get_u32(v, path, keys[i], fields[i], err);
                if (r < 0)
                        return r;
                if (r == 0) {
                        spec_path_key(fpath, path, keys[i]);
                        return spec_fail(err, fpath, "missing required field");
                }
        }
        spec_path_key(fpath, path, "size");
        /* The kernel refuses empty ranges and ranges past 2^32 in uid_map. */
        if (m->size == 0)
                return spec_fail(err, fpath, "must be greater than 0");
        if ((uint64_t)m->container_id + m->size > UINT64_C(1) << 32 ||
            (uint64_t)m->host_id + m->size > UINT64_C(1) << 32)
                return spec_fail(err, fpath, "range overflows 32-bit ids");
        return 0;
}

int spec_get_objects(json_t *obj, const char *parent, const char *key, size_t elem_size, void **out,
                     size_t *n, spec_elem_fn fn, struct berth_err *err)
{
        return get_elems(obj, parent, key, elem_size, out, n, fn, true, err);
}

int spec_get_id_mappings(json_t *obj, const char *parent, const char *key, struct berth_id_mapping **out,
                         size_t *n, struct berth_err *err)
{
        return SPEC_GET_OBJECTS(obj, parent, key, *out, n, parse_id_mapping, err);
}

void spec_strv_free(char **v)
{
        if (!v)
                return;
        for (char **p = v; *p; p++)
                free(*p);
        free(v);
}

void spec_key_values_free(struct berth_key_value *kv, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(kv[i].key);
                free(kv[i].value);
        }
        free(kv);
}

json_t *spec_load_json(const char *json, size_t len, struct berth_err *err)
{
        json_error_t jerr;
        json_t *root = json_loadb(json, len, 0, &jerr);

        if (!root && strstr(jerr.text, "too big integer")) {
                size_t wide_len;
                _cleanup_free_ char *wide = spec_widen_big_ints(json, len, &wide_len);
                json_error_t jerr2;
                if (wide)
                        root = json_loadb(wide, wide_len, 0, &jerr2);
        }
        if (!root) {
                berth_err_set(err, EINVAL, "invalid JSON at line %d, column %d: %s", jerr.line, jerr.column,
                              jerr.text);
                return NULL;
        }
        return root;
}
