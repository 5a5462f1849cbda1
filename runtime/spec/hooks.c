/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The "hooks" object: six lists of {path, args, env, timeout}. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/spec/internal.h"

static int parse_hook(json_t *v, const char *path, struct berth_hook *h, struct berth_err *err)
{
        char fpath[SPEC_PATH_MAX];
        int64_t timeout;
        int r;

        if (spec_value_object(v, path, err) < 0)
                return -EINVAL;
        spec_path_key(fpath, path, "path");
        if ((r = spec_get_string(v, path, "path", &h->path, err)) < 0)
                return r;
        if (r == 0)
                return spec_fail(err, fpath, "missing required field");
        if ((r = spec_check_abs_path(h->path, fpath, err)) < 0)
                return r;
        size_t n_args = 0, n_env = 0;
        if ((r = spec_get_strv(v, path, "args", &h->args, &n_args, err)) < 0 ||
            (r = spec_get_strv(v, path, "env", &h->env, &n_env, err)) < 0)
                return r;
        if ((r = spec_get_int(v, path, "timeout", 1, INT32_MAX, &timeout, err)) < 0)
                return r;
        h->has_timeout = r > 0;
        h->timeout = r > 0 ? (int)timeout : 0;
        return 0;
}

static int parse_kind(json_t *hooks, const char *parent, enum berth_hook_kind k, struct berth_hooks *h,
                      struct berth_err *err)
{
        char path[SPEC_PATH_MAX], ipath[SPEC_PATH_MAX];
        const char *key = berth_hook_kind_name(k);
        json_t *arr, *v;
        size_t i;
        int r = spec_get_array(hooks, parent, key, &arr, err);

        if (r <= 0)
                return r;
        spec_path_key(path, parent, key);
        h->list[k] = calloc(json_array_size(arr) + 1, sizeof(struct berth_hook));
        if (!h->list[k])
                return spec_oom(err, path);
        h->n[k] = json_array_size(arr);
        json_array_foreach(arr, i, v)
        {
                spec_path_index(ipath, path, i);
                if ((r = parse_hook(v, ipath, &h->list[k][i], err)) < 0)
                        return r;
        }
        return 0;
}

int spec_parse_hooks(json_t *obj, const char *path, struct berth_hooks *h, struct berth_err *err)
{
        for (int k = 0; k < BERTH_HOOK_KIND_COUNT; k++) {
                int r = parse_kind(obj, path, (enum berth_hook_kind)k, h, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

void spec_hooks_clear(struct berth_hooks *h)
{
        for (int k = 0; k < BERTH_HOOK_KIND_COUNT; k++) {
                for (size_t i = 0; i < h->n[k]; i++) {
                        free(h->list[k][i].path);
                        spec_strv_free(h->list[k][i].args);
                        spec_strv_free(h->list[k][i].env);
                }
                free(h->list[k]);
        }
        memset(h, 0, sizeof(*h));
}
