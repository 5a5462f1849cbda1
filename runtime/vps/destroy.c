// SPDX-License-Identifier: GPL-2.0-or-later
/* vps destroy: the container and network go first, then the directory is
 * renamed out of sight (.rm.<name>.<pid>, see leftover.c) before the
 * template is unmarked and the tree removed, so that a destroy killed
 * half-way leaves either the whole VPS or a leftover the next create or
 * `vps repair` removes; never a VPS without its template marker.
 *
 * The data directory and the cgroups are the ground truth: a VPS whose
 * vps.json is missing, empty or garbage still goes with --force (its
 * container by id, its cgroups by name, its markers wherever they are). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/rmtree.h"
#include "berth/vps.h"
#include "runtime/vps/internal.h"
#include "runtime/vps/migrate.h"

/* The markers of name in every template (its template is unknown). */
static int unmark_everywhere(const struct berth_vps_ctx *v, const char *name, struct berth_err *err)
{
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/templates", v->data_dir);
        _cleanup_closedir_ DIR *d = opendir(path);
        if (!d)
                return errno == ENOENT ? 0 : berth_err_sys(err, errno, "list %s", path);
        struct dirent *de;
        while ((de = readdir(d)))
                if (de->d_name[0] != '.' && vps_template_mark(v, de->d_name, name, false, err) < 0)
                        return -err->code;
        return 0;
}

/* Renames <name> out of sight, unmarks, removes the tree. */
static int remove_dir(const struct berth_vps_ctx *v, const char *name, const char *tmpl,
                      struct berth_err *err)
{
        char dir[PATH_MAX], gone[BERTH_VPS_NAME_MAX + 32];
        snprintf(dir, sizeof(dir), "%s/vps", v->data_dir);
        snprintf(gone, sizeof(gone), ".rm.%s.%d", name, (int)getpid());
        _cleanup_close_ int parent = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (parent < 0)
                return berth_err_sys(err, errno, "open %s", dir);
        if (renameat(parent, name, parent, gone) < 0)
                return berth_err_sys(err, errno, "rename %s/%s", dir, name);
        if (fsync(parent) < 0)
                vps_trace(v, "VPS %s: fsync %s: %s", name, dir, strerror(errno));
        int r = tmpl ? vps_template_mark(v, tmpl, name, false, err) : unmark_everywhere(v, name, err);
        if (r >= 0)
                vps_trace(v, "VPS %s: template %s unmarked", name, tmpl ? tmpl : "(any)");
        if (r >= 0)
                r = berth_rmtree_at(parent, gone, err);
        if (r >= 0)
                vps_trace(v, "VPS %s: directory %s/%s removed", name, dir, name);
        return r;
}

/* The host ends a VPS of this name may have had (its salt is unknown
 * without vps.json) that exist and no other VPS of the data directory
 * claims: up to max into out; returns how many. */
size_t vps_orphan_links(const struct berth_vps_ctx *v, const char *name, char (*out)[16], size_t max)
{
        char tag[12], key[BERTH_VPS_NAME_MAX + 16], ifname[16];
        berth_vps_data_tag(v, tag);
        snprintf(key, sizeof(key), "%s%s%s", name, tag[0] ? "@" : "", tag);
        _cleanup_strv_ char **names = NULL;
        struct berth_err e = {0};
        size_t n = 0;
        if (berth_vps_list_names(v, &names, &e) < 0)
                return 0;
        for (unsigned salt = 0; salt < 4 && n < max; salt++) {
                berth_vps_host_ifname(key, salt, ifname);
                bool skip = if_nametoindex(ifname) == 0; /* no such link */
                for (size_t i = 0; !skip && names[i]; i++) {
                        struct berth_vps_config o;
                        if (strcmp(names[i], name) && berth_vps_config_load(v, names[i], &o, &e) == 0) {
                                skip = !strcmp(o.net.host_if, ifname);
                                berth_vps_config_clear(&o);
                        }
                }
                if (!skip)
                        snprintf(out[n++], 16, "%s", ifname);
        }
        return n;
}

int vps_link_remove(const char *ifname, struct berth_err *err)
{
        struct berth_net_config nc = {.mode = BERTH_NET_ROUTED, .host_if = ifname};
        int r = berth_net_teardown(&nc, BERTH_NET_TEARDOWN_KEEP_FILTER, err);
        return r < 0 ? r : vps_ifb_remove(ifname, err); /* its shaper's IFB (bandwidth.c) */
}

static void links_down(const struct berth_vps_ctx *v, const char *name)
{
        char links[4][16];
        size_t n = vps_orphan_links(v, name, links, 4);
        for (size_t i = 0; i < n; i++) {
                struct berth_err e = {0};
                if (vps_link_remove(links[i], &e) == 0)
                        vps_warn(v, "VPS %s: repaired: removed its host end %s", name, links[i]);
                else
                        vps_warn(v, "VPS %s: %s", name, e.msg);
        }
}

/* --force of a VPS whose vps.json cannot be read (why). */
static int destroy_damaged(const struct berth_vps_ctx *v, const char *name, const struct berth_err *why,
                           struct berth_err *err)
{
        vps_warn(v, "VPS %s: %s; removing it all the same (--force)", name, why->msg);
        struct berth_container_info info;
        char id[BERTH_VPS_ID_MAX];
        int r = vps_container_load(v, name, &info, err);
        if (r == 0) {
                berth_container_info_clear(&info);
                r = berth_container_delete(v->ctx, berth_vps_container_id(v, name, id, sizeof(id)), true,
                                           err);
        } else if (r == -ENOENT) {
                r = 0;
        }
        int killed = 0, removed = 0;
        if (r >= 0 && (r = vps_cgroup_salvage(v, name, &killed, &removed, err)) >= 0 && removed > 0)
                vps_warn(v, "VPS %s: repaired: killed %d processes, removed its cgroups in %d hierarchies",
                         name, killed, removed);
        if (r >= 0)
                links_down(v, name);
        return r < 0 ? r : remove_dir(v, name, NULL, err);
}

static int destroy_loaded(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg, bool force,
                          struct berth_err *err)
{
        struct berth_container_info info;
        int r = vps_container_load(v, cfg->name, &info, err);
        if (r < 0 && r != -ENOENT)
                return r;
        if (r == 0) {
                bool live = info.status == BERTH_STATUS_UNKNOWN ? vps_damaged_live(v, cfg->name)
                                                                : info.status != BERTH_STATUS_STOPPED;
                vps_trace(v, "VPS %s: destroy: container %s%s", cfg->name, berth_status_name(info.status),
                          live && force ? ", --force" : "");
                berth_container_info_clear(&info);
                r = live && !force
                        ? berth_err_set(err, EBUSY, "VPS %s is running (stop it or use --force)", cfg->name)
                        : vps_container_cleanup(v, cfg, err);
        } else {
                /* No container: the network may still be up after a crash. */
                vps_trace(v, "VPS %s: destroy: no container; tearing down any network left", cfg->name);
                r = vps_net_down(v, cfg, err);
        }
        if (r >= 0)
                vps_disk_destroy(v, cfg); /* its loop device, its project quota */
        if (r >= 0)
                r = remove_dir(v, cfg->name, cfg->template_name, err);
        if (r >= 0)
                vps_claims_drop(v, cfg); /* stale now, and only tidied: see claims.c */
        if (r >= 0 && cfg->userns.enabled && !v->defer_id_release)
                r = vps_idrange_release(v, cfg, err);
        return r;
}

static int destroy_named(const struct berth_vps_ctx *v, const char *name, bool force, bool guard,
                         struct berth_err *err)
{
        if (!berth_vps_name_valid(name))
                return berth_err_set(err, EINVAL, "invalid VPS name \"%s\"", name ? name : "");
        _cleanup_close_ int lock = vps_lock(v, name, err);
        if (lock < 0)
                return berth_err_wrap(err, "destroy VPS %s", name);
        /* A migrate's second pass would copy a half-removed directory. */
        if (guard && vps_migration_guard(v, name, false, err) < 0)
                return berth_err_wrap(err, "destroy VPS %s", name);
        struct berth_vps_config cfg;
        struct berth_err why = {0};
        int r = berth_vps_config_load(v, name, &cfg, &why);
        if (r == -ENOENT)
                berth_err_set(&why, ENOENT, "VPS %s has no vps.json", name);
        if (r >= 0) {
                r = destroy_loaded(v, &cfg, force, err);
                berth_vps_config_clear(&cfg);
        } else if (force) {
                r = destroy_damaged(v, name, &why, err);
        } else {
                r = berth_err_set(err, why.code == ENOENT ? EUCLEAN : why.code,
                                  "%s; `berth vps destroy --force %s` removes it", why.msg, name);
        }
        return r < 0 ? berth_err_wrap(err, "destroy VPS %s", name) : 0;
}

int berth_vps_destroy(const struct berth_vps_ctx *v, const char *name, bool force, struct berth_err *err)
{
        return destroy_named(v, name, force, true, err);
}

int vps_destroy_unguarded(const struct berth_vps_ctx *v, const char *name, bool force, struct berth_err *err)
{
        return destroy_named(v, name, force, false, err);
}
