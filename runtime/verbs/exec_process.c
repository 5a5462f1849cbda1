/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The process an exec runs: --process JSON, or the container's own process
 * with the command-line overrides (runc's rules). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "runtime/verbs/exec_internal.h"

static char **strv_dup(char *const *v, size_t *n)
{
        size_t count = 0;
        while (v && v[count])
                count++;
        char **out = calloc(count + 1, sizeof(char *));
        for (size_t i = 0; out && i < count; i++)
                if (!(out[i] = strdup(v[i]))) {
                        berth_strv_freep(&out);
                        return NULL;
                }
        if (n)
                *n = count;
        return out;
}

/* KEY=VALUE replaces an existing KEY, else is appended. */
static int env_set(struct berth_process *p, const char *kv)
{
        const char *eq = strchr(kv, '=');
        size_t klen = eq ? (size_t)(eq - kv) : strlen(kv);
        for (size_t i = 0; i < p->n_env; i++)
                if (!strncmp(p->env[i], kv, klen) && p->env[i][klen] == '=') {
                        char *copy = strdup(kv);
                        if (!copy)
                                return -ENOMEM;
                        free(p->env[i]);
                        p->env[i] = copy;
                        return 0;
                }
        char **nv = realloc(p->env, (p->n_env + 2) * sizeof(char *));
        if (!nv)
                return -ENOMEM;
        p->env = nv;
        if (!(p->env[p->n_env] = strdup(kv)))
                return -ENOMEM;
        p->env[++p->n_env] = NULL;
        return 0;
}

static int add_caps(struct berth_process *p, char **names, struct berth_err *err)
{
        for (char **n = names; n && *n; n++) {
                cap_value_t cap;
                const char *name = strncasecmp(*n, "CAP_", 4) ? NULL : *n;
                if (!name || cap_from_name(name, &cap) < 0)
                        return berth_err_set(err, EINVAL, "--cap: unknown capability \"%s\"", *n);
                uint64_t bit = 1ULL << cap;
                p->caps.present = true;
                p->caps.bounding |= bit;
                p->caps.effective |= bit;
                /* Not inheritable nor ambient (as runc): those would pass
                 * the capability on across execve to programs that never
                 * asked for it (CVE-2022-29162). */
                p->caps.permitted |= bit;
        }
        return 0;
}

static int override_user(struct berth_process *p, const struct berth_exec_opts *o)
{
        if (o->has_user) {
                p->user.uid = o->uid;
                p->user.gid = o->has_gid ? o->gid : 0;
        }
        if (o->n_additional_gids) {
                gid_t *g = malloc(o->n_additional_gids * sizeof(gid_t));
                if (!g)
                        return -ENOMEM;
                memcpy(g, o->additional_gids, o->n_additional_gids * sizeof(gid_t));
                free(p->user.additional_gids);
                p->user.additional_gids = g;
                p->user.n_additional_gids = o->n_additional_gids;
        }
        return 0;
}

static int override_process(struct berth_process *p, const struct berth_exec_opts *o, struct berth_err *err)
{
        if (!o->args || !o->args[0])
                return berth_err_set(err, EINVAL, "exec: no command given (args or --process)");
        size_t n;
        char **args = strv_dup(o->args, &n);
        if (!args)
                return berth_err_set(err, ENOMEM, "exec: args");
        berth_strv_freep(&p->args);
        p->args = args;
        p->n_args = n;
        for (char **e = o->env; e && *e; e++)
                if (env_set(p, *e) < 0)
                        return berth_err_set(err, ENOMEM, "exec: env");
        if (o->cwd) {
                char *cwd = strdup(o->cwd);
                if (!cwd)
                        return berth_err_set(err, ENOMEM, "exec: cwd");
                free(p->cwd);
                p->cwd = cwd;
        }
        if (override_user(p, o) < 0)
                return berth_err_set(err, ENOMEM, "exec: user");
        p->terminal = o->tty;
        p->no_new_privileges |= o->no_new_privs;
        return add_caps(p, o->caps, err);
}

static int read_process_file(const char *path, struct berth_process **out, struct berth_err *err)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return berth_err_sys(err, errno, "exec: --process %s", path);
        char buf[1 << 16];
        ssize_t len = read(fd, buf, sizeof(buf));
        if (len < 0)
                return berth_err_sys(err, errno, "exec: read %s", path);
        *out = berth_process_parse(buf, (size_t)len, err);
        return *out ? 0 : berth_err_wrap(err, "exec: --process %s", path);
}

int exec_build_process(struct berth_spec *spec, const struct berth_exec_opts *o, struct berth_err *err)
{
        if (!o->process_file)
                return override_process(&spec->process, o, err);
        struct berth_process *p = NULL;
        int r = read_process_file(o->process_file, &p, err);
        if (r < 0)
                return r;
        /* The spec owns its process by value: swap the parsed one in. */
        struct berth_process old = spec->process;
        spec->process = *p;
        *p = old;
        berth_process_free(p);
        return 0;
}
