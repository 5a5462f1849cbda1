/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The VPS's cgroups and where its console keeper is charged.
 *
 * The keeper (console.c) costs CPU when the guest writes to /dev/console
 * (more than the guest itself) and memory for the page cache of
 * console.log: both must count against the VPS's limits, not the host's.
 *
 * Hybrid or legacy host: the limits are the v1 hierarchies, the unified
 * one has no controllers. The container's cgroupsPath is <vps-cgroup> and
 * the keeper joins it in every hierarchy.
 *
 * Pure cgroup-v2 host: the VPS's cgroup is the guest's cgroup namespace
 * root, delegated to its systemd, where a process of ours would keep it
 * from enabling controllers for its own subtree (no internal processes).
 * So the VPS gets two levels:
 *
 *     <vps-cgroup>            the VPS's limits: guest + keeper together
 *     <vps-cgroup>/guest      the container (cgroupsPath), its own limits
 *                             too, so the guest sees the same values as
 *                             before; the guest's cgroup root
 *     <vps-cgroup>/console    the keeper
 *
 * `vps set` writes both levels, `vps status` reads the top one, and the
 * cleanup after the container's delete (which removes guest but not the
 * top level while console is below it) removes the top level. A VPS whose
 * container was made before (cgroupsPath <vps-cgroup>) has no top level:
 * its keeper stays outside, as then. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "berth/cgroup.h"
#include "berth/cleanup.h"
#include "berth/vps.h"
#include "runtime/vps/internal.h"

#define GUEST_CGROUP   "guest"
#define CONSOLE_CGROUP "console"

static bool host_unified(void)
{
        enum berth_cgroup_layout l;
        struct berth_err ignore = {0};
        return berth_cgroup_detect_layout(&l, &ignore) == 0 && l == BERTH_CG_UNIFIED;
}

int vps_cgroup_path(const struct berth_vps_ctx *v, const char *name, char *out, size_t len)
{
        char top[BERTH_VPS_NAME_MAX + 32];
        berth_vps_cgroup_name(v, name, top, sizeof(top));
        int n =
            host_unified() ? snprintf(out, len, "%s/%s", top, GUEST_CGROUP) : snprintf(out, len, "%s", top);
        return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int vps_cgroup_top(const struct berth_vps_ctx *v, const char *name, const struct berth_cgroup *cg,
                   struct berth_cgroup **top, struct berth_err *err)
{
        char want[BERTH_VPS_NAME_MAX + 48] = "/";
        berth_vps_cgroup_name(v, name, want + 1, sizeof(want) - 1);
        strncat(want, "/" GUEST_CGROUP, sizeof(want) - strlen(want) - 1);
        const char *path = berth_cgroup_path(cg);
        size_t pl = path ? strlen(path) : 0, wl = strlen(want);
        *top = NULL;
        if (berth_cgroup_layout(cg) != BERTH_CG_UNIFIED || pl < wl || strcmp(path + pl - wl, want) != 0)
                return 0;
        *top = berth_cgroup_parent(cg, err);
        return *top ? 1 : -err->code;
}

/* The cgroups of the VPS's container (cgroup_dump, from its state): *cg,
 * and *top on a pure v2 host (NULL without a top level). 0 without any
 * (cgroups disabled). */
static int vps_cgroups(const struct berth_vps_ctx *v, const char *name, const char *cgroup_dump,
                       struct berth_cgroup **cg, struct berth_cgroup **top, struct berth_err *err)
{
        *cg = *top = NULL;
        if (!cgroup_dump)
                return 0;
        *cg = berth_cgroup_restore(cgroup_dump, err);
        if (!*cg)
                return -err->code;
        int r = berth_cgroup_layout(*cg) == BERTH_CG_UNIFIED ? vps_cgroup_top(v, name, *cg, top, err) : 0;
        if (r < 0) {
                berth_cgroup_free(*cg);
                *cg = NULL;
                return r;
        }
        return 1;
}

int vps_cgroup_top_limits(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg,
                          const char *cgroup_dump, struct berth_err *err)
{
        struct berth_cgroup *cg, *top;
        int r = vps_cgroups(v, cfg->name, cgroup_dump, &cg, &top, err);
        if (r > 0 && top) {
                struct berth_resources *res = berth_vps_resources(&cfg->limits, err);
                r = res ? berth_cgroup_update(top, res, err) : -err->code;
                berth_resources_free(res);
                if (r >= 0)
                        vps_trace(v, "VPS %s: limits on %s", cfg->name, berth_cgroup_path(top));
        }
        berth_cgroup_free(top);
        berth_cgroup_free(cg);
        return r < 0 ? berth_err_wrap(err, "limits of VPS %s", cfg->name) : 0;
}

int vps_keeper_join(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg,
                    const char *cgroup_dump, pid_t keeper, struct berth_err *err)
{
        struct berth_cgroup *cg, *top;
        int r = vps_cgroups(v, cfg->name, cgroup_dump, &cg, &top, err);
        if (r > 0 && top) {
                r = berth_cgroup_attach_child(top, CONSOLE_CGROUP, keeper, err);
                if (r >= 0)
                        vps_trace(v, "VPS %s: console keeper %d in %s/" CONSOLE_CGROUP, cfg->name,
                                  (int)keeper, berth_cgroup_path(top));
        } else if (r > 0 && berth_cgroup_layout(cg) != BERTH_CG_UNIFIED) {
                r = berth_cgroup_attach(cg, keeper, err);
                if (r >= 0)
                        vps_trace(v, "VPS %s: console keeper %d in the VPS's cgroups", cfg->name,
                                  (int)keeper);
        }
        berth_cgroup_free(top);
        berth_cgroup_free(cg);
        return r < 0 ? berth_err_wrap(err, "move the console keeper into the VPS's cgroup") : 0;
}

/* The VPS's cgroups as start makes them, found by name alone: its top
 * level in every hierarchy (the container's level and the keeper's are
 * below it on cgroup v2, the same level elsewhere). */
static struct berth_cgroup *cgroup_by_name(const struct berth_vps_ctx *v, const char *name,
                                           struct berth_err *err)
{
        char top[BERTH_VPS_NAME_MAX + 32];
        berth_vps_cgroup_name(v, name, top, sizeof(top));
        struct berth_cgroup_opts o = {.id = name, .path = top, .join_all_v1 = true};
        return berth_cgroup_new(&o, err);
}

int vps_cgroup_probe(const struct berth_vps_ctx *v, const char *name, int *n_dirs, int *n_procs,
                     struct berth_err *err)
{
        struct berth_cgroup *cg = cgroup_by_name(v, name, err);
        if (!cg)
                return -err->code;
        int r = berth_cgroup_probe(cg, n_dirs, n_procs);
        berth_cgroup_free(cg);
        return r;
}

int vps_cgroup_salvage(const struct berth_vps_ctx *v, const char *name, int *killed, int *removed,
                       struct berth_err *err)
{
        struct berth_cgroup *cg = cgroup_by_name(v, name, err);
        if (!cg)
                return -err->code;
        int r = berth_cgroup_salvage(cg, killed, removed, err);
        if (r >= 0)
                vps_trace(v, "VPS %s: cgroup %s: %d processes killed, removed in %d hierarchies", name,
                          berth_cgroup_path(cg), *killed, *removed);
        berth_cgroup_free(cg);
        return r;
}

/* "berth-vps-<name>[-<hash>]" of this data directory -> name. With the
 * default data directory (no hash) a name ending in "-<8 hex digits>"
 * may be another data directory's VPS: not taken. */
static bool cgroup_entry_name(const struct berth_vps_ctx *v, const char *entry, char *name, size_t len)
{
        static const char prefix[] = "berth-vps-";
        char probe[BERTH_VPS_NAME_MAX + 32];
        berth_vps_cgroup_name(v, "", probe, sizeof(probe));
        const char *suffix = probe + strlen(prefix); /* "" or "-<hash>" */
        size_t el = strlen(entry), sl = strlen(suffix), pl = strlen(prefix);
        if (strncmp(entry, prefix, pl) || el < pl + sl + 1 || strcmp(entry + el - sl, suffix))
                return false;
        size_t n = el - pl - sl;
        if (n >= len)
                return false;
        memcpy(name, entry + pl, n);
        name[n] = '\0';
        if (!sl && n > 9 && name[n - 9] == '-' && strspn(name + n - 8, "0123456789abcdef") == 8)
                return false;
        return berth_vps_name_valid(name);
}

int vps_cgroup_names(const struct berth_vps_ctx *v, char ***names, struct berth_err *err)
{
        *names = calloc(1, sizeof(char *));
        struct berth_cgroup *cg = *names ? cgroup_by_name(v, "x", err) : NULL;
        if (!cg)
                return *names ? -err->code : berth_err_set(err, ENOMEM, "out of memory");
        char parent[PATH_MAX];
        const char *dir = berth_cgroup_dir(cg);
        snprintf(parent, sizeof(parent), "%s", dir ? dir : "");
        berth_cgroup_free(cg);
        char *slash = strrchr(parent, '/');
        if (!slash)
                return 0;
        *slash = '\0';
        _cleanup_closedir_ DIR *d = opendir(parent);
        struct dirent *de;
        size_t n = 0;
        char name[BERTH_VPS_NAME_MAX + 1];
        while (d && (de = readdir(d))) {
                if (de->d_type != DT_DIR || !cgroup_entry_name(v, de->d_name, name, sizeof(name)))
                        continue;
                char **nv = realloc(*names, (n + 2) * sizeof(char *));
                if (!nv)
                        return berth_err_set(err, ENOMEM, "out of memory");
                *names = nv;
                if (!(nv[n] = strdup(name)))
                        return berth_err_set(err, ENOMEM, "out of memory");
                nv[++n] = NULL;
        }
        return 0;
}
