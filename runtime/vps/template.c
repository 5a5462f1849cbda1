/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a VPS needs of its template: the root directory, the init and its
 * stop signal (template.json), and the "in use" marker that keeps
 * `template rm` from pulling the lower layer out from under a VPS.
 *
 *   <data>/templates/<T>/rootfs/         the lower layer (read-only)
 *   <data>/templates/<T>/template.json   {"name", "source", "init", "stop_signal", ...}
 *   <data>/templates/<T>/users/<VPS>     one empty file per VPS using it
 *                                        (rootfs/template_store.c keeps them) */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "berth/cleanup.h"
#include "berth/file.h"
#include "berth/template.h"
#include "berth/vps.h"
#include "runtime/vps/internal.h"

static bool template_name_valid(const char *name)
{
        return name && *name && name[0] != '.' && !strchr(name, '/') && strlen(name) <= 255;
}

void berth_vps_template_clear(struct berth_vps_template *t)
{
        vps_strv_free(t->init);
        t->init = NULL;
}

/* "init": "/sbin/init" or ["/sbin/init", "--arg"]. */
static int parse_init(json_t *v, struct berth_vps_template *t, struct berth_err *err)
{
        if (!v || json_is_null(v))
                return 0;
        size_t n = json_is_array(v) ? json_array_size(v) : 1;
        if ((!json_is_array(v) && !json_is_string(v)) || n == 0)
                return berth_err_set(err, EINVAL, "template.json: init: a path or a non-empty array");
        if (!(t->init = calloc(n + 1, sizeof(char *))))
                return berth_err_set(err, ENOMEM, "template.json: out of memory");
        for (size_t i = 0; i < n; i++) {
                json_t *e = json_is_array(v) ? json_array_get(v, i) : v;
                if (!json_is_string(e))
                        return berth_err_set(err, EINVAL, "template.json: init[%zu]: not a string", i);
                if (!(t->init[i] = strdup(json_string_value(e))))
                        return berth_err_set(err, ENOMEM, "template.json: out of memory");
        }
        return 0;
}

/* "stop_signal": "SIGPWR", "RTMIN+3" or a number. */
static int parse_stop_signal(json_t *v, struct berth_vps_template *t, struct berth_err *err)
{
        if (!v || json_is_null(v))
                return 0;
        int sig = -EINVAL;
        if (json_is_integer(v) && json_integer_value(v) > 0 && json_integer_value(v) < 65)
                sig = (int)json_integer_value(v);
        else if (json_is_string(v))
                sig = berth_signal_parse(json_string_value(v));
        if (sig < 0)
                return berth_err_set(err, EINVAL, "template.json: stop_signal: not a signal");
        t->stop_signal = sig;
        return 0;
}

static int parse_template_json(const char *path, struct berth_vps_template *t, struct berth_err *err)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r = berth_read_file_at(AT_FDCWD, path, 0, 16 << 20, &text, &len);
        if (r == -ENOENT)
                return 0; /* a bare rootfs directory is a template too */
        if (r < 0)
                return berth_err_sys(err, -r, "read %s", path);
        json_error_t jerr;
        _cleanup_json_ json_t *doc = json_loadb(text, len, 0, &jerr);
        if (!doc || !json_is_object(doc))
                return berth_err_set(err, EINVAL, "%s: not a JSON object", path);
        r = parse_init(json_object_get(doc, "init"), t, err);
        if (r >= 0)
                r = parse_stop_signal(json_object_get(doc, "stop_signal"), t, err);
        return r;
}

int berth_vps_template_load(const struct berth_vps_ctx *v, const char *name, struct berth_vps_template *t,
                            struct berth_err *err)
{
        memset(t, 0, sizeof(*t));
        if (!template_name_valid(name))
                return berth_err_set(err, EINVAL, "invalid template name \"%s\"", name ? name : "");
        char path[PATH_MAX];
        /* Closed to other host users (template/store.c says why): also
         * the templates directory of an older berth, at the first start. */
        snprintf(path, sizeof(path), "%s/templates", v->data_dir);
        struct stat td;
        if (lstat(path, &td) == 0 && S_ISDIR(td.st_mode) && (td.st_mode & 077) &&
            chmod(path, td.st_mode & 07700) < 0)
                return berth_err_sys(err, errno, "chmod 0700 %s", path);
        snprintf(t->rootfs, sizeof(t->rootfs), "%s/templates/%s/rootfs", v->data_dir, name);
        struct stat sb;
        if (stat(t->rootfs, &sb) < 0 || !S_ISDIR(sb.st_mode))
                return berth_err_set(err, ENOENT, "template %s does not exist (no %s)", name, t->rootfs);
        snprintf(path, sizeof(path), "%s/templates/%s/template.json", v->data_dir, name);
        int r = parse_template_json(path, t, err);
        if (r < 0)
                berth_vps_template_clear(t);
        return r;
}

/* Through the template store, which takes the template's lock: a marker
 * is only ever added to a template that exists, and `template rm` cannot
 * remove the template between its check for users and its rename. */
int vps_template_mark(const struct berth_vps_ctx *v, const char *tmpl, const char *name, bool used,
                      struct berth_err *err)
{
        if (used)
                return berth_template_use(v->data_dir, tmpl, name, err);
        return berth_template_unuse(v->data_dir, tmpl, name, err);
}
