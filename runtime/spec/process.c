/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The OCI "process" object: args, env, cwd, user, capabilities, rlimits, ...
 * Used for config.json's process and, alone, for `exec --process FILE`. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/resource.h>

#include "berth/cleanup.h"
#include "runtime/spec/internal.h"

/* uid_t/gid_t (-1) means "unchanged" to setresuid(2), never a real id. */
#define SPEC_ID_MAX ((int64_t)UINT32_MAX - 1)

static const struct {
        const char *name;
        int resource;
} rlimit_table[] = {
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
};

static int parse_rlimit_type(const char *name, const char *path, int *out, struct berth_err *err)
{
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(rlimit_table); i++)
                if (strcmp(rlimit_table[i].name, name) == 0) {
                        *out = rlimit_table[i].resource;
                        return 0;
                }
        return spec_fail(err, path, "unknown rlimit \"%s\"", name);
}

static int parse_rlimit(json_t *v, const char *path, struct berth_rlimit *rl, struct berth_err *err)
{
        char fpath[SPEC_PATH_MAX];
        _cleanup_free_ char *type = NULL;
        int r;

        if (spec_value_object(v, path, err) < 0)
                return -EINVAL;
        spec_path_key(fpath, path, "type");
        if ((r = spec_get_string(v, path, "type", &type, err)) < 0)
                return r;
        if (r == 0)
                return spec_fail(err, fpath, "missing required field");
        if ((r = parse_rlimit_type(type, fpath, &rl->resource, err)) < 0)
                return r;
        if ((r = spec_get_u64(v, path, "soft", &rl->soft, err)) < 0 ||
            (r = spec_get_u64(v, path, "hard", &rl->hard, err)) < 0)
                return r;
        /* setrlimit(2) would refuse it later, inside the half-made container. */
        if (rl->soft > rl->hard)
                return spec_fail(err, path, "soft limit %llu exceeds hard limit %llu",
                                 (unsigned long long)rl->soft, (unsigned long long)rl->hard);
        return 0;
}

static int parse_rlimits(json_t *proc, const char *parent, struct berth_process *p, struct berth_err *err)
{
        char path[SPEC_PATH_MAX], ipath[SPEC_PATH_MAX];
        json_t *arr, *v;
        size_t i;
        int r = spec_get_array(proc, parent, "rlimits", &arr, err);

        if (r <= 0)
                return r;
        spec_path_key(path, parent, "rlimits");
        p->rlimits = calloc(json_array_size(arr) + 1, sizeof(*p->rlimits));
        if (!p->rlimits)
                return spec_oom(err, path);
        json_array_foreach(arr, i, v)
        {
                spec_path_index(ipath, path, i);
                if ((r = parse_rlimit(v, ipath, &p->rlimits[i], err)) < 0)
                        return r;
                for (size_t j = 0; j < i; j++)
                        if (p->rlimits[j].resource == p->rlimits[i].resource)
                                return spec_fail(err, ipath, "duplicate rlimit type (also in [%zu])", j);
                p->n_rlimits = i + 1;
        }
        return 0;
}

static int parse_cap_set(json_t *caps, const char *parent, const char *key, uint64_t *mask,
                         struct berth_err *err)
{
        char path[SPEC_PATH_MAX], ipath[SPEC_PATH_MAX];
        json_t *arr, *v;
        size_t i;
        int r = spec_get_array(caps, parent, key, &arr, err);

        if (r <= 0)
                return r;
        spec_path_key(path, parent, key);
        json_array_foreach(arr, i, v)
        {
                cap_value_t cap;
                spec_path_index(ipath, path, i);
                if (!spec_is_string(v))
                        return spec_fail(err, ipath, "must be a string");
                const char *name = json_string_value(v);
                /* cap_from_name() also takes "chown" or "12"; OCI names are CAP_*. */
                if (strncmp(name, "CAP_", 4) != 0 || cap_from_name(name, &cap) < 0 || cap < 0 || cap > 63)
                        return spec_fail(err, ipath, "unknown capability \"%s\"", name);
                *mask |= UINT64_C(1) << cap;
        }
        return 0;
}

static int parse_caps(json_t *proc, const char *parent, struct berth_caps *c, struct berth_err *err)
{
        static const char *const keys[] = {"bounding", "effective", "inheritable", "permitted", "ambient"};
        uint64_t *masks[] = {&c->bounding, &c->effective, &c->inheritable, &c->permitted, &c->ambient};
        char path[SPEC_PATH_MAX];
        json_t *caps;
        int r = spec_get_object(proc, parent, "capabilities", &caps, err);

        if (r <= 0)
                return r;
        c->present = true;
        spec_path_key(path, parent, "capabilities");
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(keys); i++)
                if ((r = parse_cap_set(caps, path, keys[i], masks[i], err)) < 0)
                        return r;
        return 0;
}

static int parse_gids(json_t *user, const char *parent, struct berth_user *u, struct berth_err *err)
{
        char path[SPEC_PATH_MAX], ipath[SPEC_PATH_MAX];
        json_t *arr, *v;
        size_t i;
        int r = spec_get_array(user, parent, "additionalGids", &arr, err);

        if (r <= 0)
                return r;
        spec_path_key(path, parent, "additionalGids");
        u->additional_gids = calloc(json_array_size(arr) + 1, sizeof(gid_t));
        if (!u->additional_gids)
                return spec_oom(err, path);
        json_array_foreach(arr, i, v)
        {
                int64_t gid;
                spec_path_index(ipath, path, i);
                if ((r = spec_value_int(v, ipath, 0, SPEC_ID_MAX, &gid, err)) < 0)
                        return r;
                u->additional_gids[i] = (gid_t)gid;
                u->n_additional_gids = i + 1;
        }
        return 0;
}

static int parse_user(json_t *proc, const char *parent, struct berth_user *u, struct berth_err *err)
{
        char path[SPEC_PATH_MAX];
        json_t *user;
        int64_t x;
        int r = spec_get_object(proc, parent, "user", &user, err);

        if (r <= 0)
                return r;
        spec_path_key(path, parent, "user");
        /* uid/gid default to 0 when left out, as in runc. */
        if ((r = spec_get_int(user, path, "uid", 0, SPEC_ID_MAX, &x, err)) < 0)
                return r;
        if (r > 0)
                u->uid = (uid_t)x;
        if ((r = spec_get_int(user, path, "gid", 0, SPEC_ID_MAX, &x, err)) < 0)
                return r;
        if (r > 0)
                u->gid = (gid_t)x;
        if ((r = spec_get_int(user, path, "umask", 0, 0777, &x, err)) < 0)
                return r;
        u->has_umask = r > 0;
        u->umask = (mode_t)x;
        return parse_gids(user, path, u, err);
}

static int parse_console_size(json_t *proc, const char *parent, struct berth_process *p,
                              struct berth_err *err)
{
        char path[SPEC_PATH_MAX];
        json_t *cs;
        int64_t h = 0, w = 0;
        int r = spec_get_object(proc, parent, "consoleSize", &cs, err);

        if (r <= 0)
                return r;
        spec_path_key(path, parent, "consoleSize");
        /* struct winsize holds unsigned short. */
        if ((r = spec_get_int(cs, path, "height", 0, UINT16_MAX, &h, err)) < 0 ||
            (r = spec_get_int(cs, path, "width", 0, UINT16_MAX, &w, err)) < 0)
                return r;
        p->has_console_size = true;
        p->console_size.height = (unsigned)h;
        p->console_size.width = (unsigned)w;
        return 0;
}

static int parse_args_env(json_t *proc, const char *parent, struct berth_process *p, struct berth_err *err)
{
        char path[SPEC_PATH_MAX], ipath[SPEC_PATH_MAX];
        int r;

        spec_path_key(path, parent, "args");
        r = spec_get_strv(proc, parent, "args", &p->args, &p->n_args, err);
        if (r < 0)
                return r;
        if (r == 0 || p->n_args == 0)
                return spec_fail(err, path, "must be a non-empty array of strings");
        if ((r = spec_get_strv(proc, parent, "env", &p->env, &p->n_env, err)) < 0)
                return r;
        if (!p->env && !(p->env = calloc(1, sizeof(char *))))
                return spec_oom(err, parent);
        spec_path_key(path, parent, "env");
        for (size_t i = 0; i < p->n_env; i++) {
                const char *eq = strchr(p->env[i], '=');
                spec_path_index(ipath, path, i);
                if (!eq || eq == p->env[i])
                        return spec_fail(err, ipath, "must be KEY=VALUE (got \"%s\")", p->env[i]);
        }
        return 0;
}

static int parse_cwd(json_t *proc, const char *parent, struct berth_process *p, struct berth_err *err)
{
        char path[SPEC_PATH_MAX];
        int r = spec_get_string(proc, parent, "cwd", &p->cwd, err);

        spec_path_key(path, parent, "cwd");
        if (r < 0)
                return r;
        if (r == 0)
                return spec_fail(err, path, "missing required field");
        return spec_check_abs_path(p->cwd, path, err);
}

static int parse_security(json_t *proc, const char *parent, struct berth_process *p, struct berth_err *err)
{
        int64_t adj;
        int r;

        if ((r = spec_get_bool(proc, parent, "noNewPrivileges", &p->no_new_privileges, err)) < 0)
                return r;
        if ((r = spec_get_int(proc, parent, "oomScoreAdj", -1000, 1000, &adj, err)) < 0)
                return r;
        p->has_oom_score_adj = r > 0;
        p->oom_score_adj = r > 0 ? (int)adj : 0;
        if ((r = spec_get_string(proc, parent, "apparmorProfile", &p->apparmor_profile, err)) < 0 ||
            (r = spec_get_string(proc, parent, "selinuxLabel", &p->selinux_label, err)) < 0)
                return r;
        return 0;
}

int spec_parse_process(json_t *obj, const char *path, struct berth_process *p, struct berth_err *err)
{
        int r;

        if (spec_value_object(obj, path, err) < 0)
                return -EINVAL;
        if ((r = spec_get_bool(obj, path, "terminal", &p->terminal, err)) < 0 ||
            (r = parse_console_size(obj, path, p, err)) < 0 ||
            (r = parse_user(obj, path, &p->user, err)) < 0 || (r = parse_args_env(obj, path, p, err)) < 0 ||
            (r = parse_cwd(obj, path, p, err)) < 0 || (r = parse_caps(obj, path, &p->caps, err)) < 0 ||
            (r = parse_rlimits(obj, path, p, err)) < 0 || (r = parse_security(obj, path, p, err)) < 0)
                return r;
        return 0;
}

void spec_process_clear(struct berth_process *p)
{
        free(p->user.additional_gids);
        spec_strv_free(p->args);
        spec_strv_free(p->env);
        free(p->cwd);
        free(p->rlimits);
        free(p->apparmor_profile);
        free(p->selinux_label);
        memset(p, 0, sizeof(*p));
}

struct berth_process *berth_process_parse(const char *json, size_t len, struct berth_err *err)
{
        _cleanup_json_ json_t *doc = spec_load_json(json, len, err);
        struct berth_process *p;

        if (!doc)
                return NULL;
        p = calloc(1, sizeof(*p));
        if (!p) {
                berth_err_set(err, ENOMEM, "out of memory");
                return NULL;
        }
        int r = spec_parse_process(doc, "process", p, err);
        if (r < 0) {
                berth_process_free(p);
                return NULL;
        }
        return p;
}

void berth_process_free(struct berth_process *p)
{
        if (!p)
                return;
        spec_process_clear(p);
        free(p);
}
