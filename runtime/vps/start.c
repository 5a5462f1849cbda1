/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vps start: the same create/start path as the OCI verbs, with the overlay
 * root mounted just long enough for the container to take its copy, and
 * the network wired between create (the init exists, waiting) and start
 * (the guest's init runs with its network already up). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/vps.h"
#include "runtime/vps/internal.h"
#include "runtime/vps/migrate.h"

/* The overlay's lower layer: the template itself, or for a VPS with its
 * own user namespace the template idmapped through its range, attached on
 * <dir>/lower (a directory made here: VPS created before user namespaces
 * have none). */
static int mount_lower(const struct berth_vps_config *cfg, const char *tmpl, const char *dir, char *lower,
                       size_t len, struct berth_err *err)
{
        if (!cfg->userns.enabled) {
                snprintf(lower, len, "%s", tmpl);
                return 0;
        }
        snprintf(lower, len, "%s/lower", dir);
        if (mkdir(lower, 0700) < 0 && errno != EEXIST)
                return berth_err_sys(err, errno, "mkdir %s", lower);
        return vps_userns_lower(cfg, tmpl, lower, err);
}

int vps_root_mount(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg, struct berth_err *err)
{
        struct berth_vps_template t;
        char dir[PATH_MAX], rootfs[PATH_MAX], lower[PATH_MAX] = "";
        int r = berth_vps_template_load(v, cfg->template_name, &t, err);
        if (r < 0)
                return r;
        berth_vps_path(v, cfg->name, NULL, dir, sizeof(dir));
        snprintf(rootfs, sizeof(rootfs), "%s/rootfs", dir);
        r = vps_userns_reachable(v, cfg, err);
        if (r >= 0)
                r = berth_private_mount_ns(err);
        if (r >= 0)
                r = mount_lower(cfg, t.rootfs, dir, lower, sizeof(lower), err);
        if (r >= 0)
                r = vps_disk_overlay_mount(v, cfg, lower, rootfs, err);
        berth_vps_template_clear(&t);
        if (r < 0) {
                if (cfg->userns.enabled && lower[0]) /* unset when a step before mount_lower failed */
                        umount2(lower, MNT_DETACH);
                return r;
        }
        vps_trace(v, "VPS %s: overlay mounted on %s (lower %s%s) in a private mount namespace", cfg->name,
                  rootfs, lower, cfg->userns.enabled ? ", idmapped" : "");
        return 0;
}

void vps_root_umount(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg)
{
        char dir[PATH_MAX], path[PATH_MAX + 8];
        berth_vps_path(v, cfg->name, NULL, dir, sizeof(dir));
        snprintf(path, sizeof(path), "%s/rootfs", dir);
        umount2(path, MNT_DETACH);
        snprintf(path, sizeof(path), "%s/lower", dir);
        if (cfg->userns.enabled)
                umount2(path, MNT_DETACH);
}

/* Mount, write the guest files, create, unmount our copy. The init sends
 * its console to the socket at handoff_path (see vps_console.c). */
static int create_container(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg,
                            const char *handoff_path, struct berth_err *err)
{
        char dir[PATH_MAX], rootfs[PATH_MAX];
        int r = vps_root_mount(v, cfg, err);
        if (r < 0)
                return r;
        berth_vps_path(v, cfg->name, NULL, dir, sizeof(dir));
        snprintf(rootfs, sizeof(rootfs), "%s/rootfs", dir);
        _cleanup_close_ int root_fd = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                r = berth_err_sys(err, errno, "open %s", rootfs);
        if (r >= 0)
                r = vps_guest_files(root_fd, cfg, err);
        if (r >= 0)
                r = vps_view_prepare(v, root_fd, cfg, err);
        if (r >= 0)
                vps_trace(v, "VPS %s: guest files written (hostname, hosts, resolv.conf)", cfg->name);
        char id[BERTH_VPS_ID_MAX];
        struct berth_create_opts o = {.id = berth_vps_container_id(v, cfg->name, id, sizeof(id)),
                                      .bundle = dir,
                                      .console_socket = handoff_path};
        if (r >= 0)
                r = berth_container_create(v->ctx, &o, err);
        berth_closep(&root_fd);
        /* The container holds its own copy of the mounts now. */
        vps_root_umount(v, cfg);
        if (r >= 0)
                vps_trace(v, "VPS %s: container %s created; our overlay mount detached", cfg->name, o.id);
        return r;
}

/* The host side of a container whose init exists: its cgroup delegated,
 * the VPS's limits, its network. (The keeper joins the VPS's cgroups once
 * the start has answered: console.c.) */
int vps_boot_wire(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg, struct berth_err *err)
{
        struct berth_container_info info;
        int r = vps_container_load(v, cfg->name, &info, err);
        if (r == -ENOENT)
                r = berth_err_set(err, ENOENT, "container vanished after create");
        if (r < 0)
                return r;
        r = vps_userns_delegate_cgroup(cfg, info.st.cgroup, err);
        if (r >= 0 && cfg->userns.enabled)
                vps_trace(v, "VPS %s: cgroup delegated to the guest's root", cfg->name);
        if (r >= 0)
                r = vps_cgroup_top_limits(v, cfg, info.st.cgroup, err);
        if (r >= 0)
                r = vps_net_up(v, cfg, info.st.pid, err);
        berth_container_info_clear(&info);
        return r;
}

/* Runs in the worker below the console keeper (vps_console.c). */
static int boot(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg, const char *console_socket,
                struct berth_err *err)
{
        int r = create_container(v, cfg, console_socket, err);
        if (r < 0)
                return r;
        r = vps_boot_wire(v, cfg, err);
        char id[BERTH_VPS_ID_MAX];
        if (r >= 0)
                r = berth_container_start(v->ctx, berth_vps_container_id(v, cfg->name, id, sizeof(id)), err);
        if (r >= 0)
                vps_trace(v, "VPS %s: guest init started", cfg->name);
        if (r < 0) {
                /* Nothing may stay behind a failed start. */
                vps_trace(v, "VPS %s: start failed; removing what was made", cfg->name);
                struct berth_err undo = {0};
                if (vps_container_cleanup(v, cfg, &undo) < 0)
                        vps_warn(v, "VPS %s: could not clean up after the failed start: %s", cfg->name,
                                 undo.msg);
        }
        return r;
}

static int restart(const struct berth_vps_ctx *v, struct berth_vps_config *cfg, struct berth_err *err);

static const struct vps_boot_ops boot_ops = {.boot = boot, .restart = restart};

/* Under the lock, st: the container's status, or -1 without one: a
 * leftover container goes, the host side is prepared and ops->boot runs
 * below a new console keeper. */
int vps_boot_locked(const struct berth_vps_ctx *v, struct berth_vps_config *cfg, int st, unsigned flags,
                    const struct vps_boot_ops *ops, struct berth_err *err)
{
        const char *name = cfg->name;
        int r;
        if (st >= 0) {
                vps_trace(v, "VPS %s: a container exists (%s)%s", name, berth_status_name(st),
                          st == BERTH_STATUS_RUNNING || st == BERTH_STATUS_PAUSED ? ""
                                                                                  : ": a leftover, removed");
                /* A guest that halted itself leaves a stopped container
                 * until its keeper has cleaned up, a start that crashed a
                 * created one (we hold the lock, so no start is under
                 * way): both are leftovers. */
                bool live = st == BERTH_STATUS_RUNNING || st == BERTH_STATUS_PAUSED;
                /* A damaged state is a leftover unless its processes run. */
                if (st == BERTH_STATUS_UNKNOWN && vps_damaged_live(v, name))
                        r = berth_err_set(err, EBUSY,
                                          "VPS %s: its container state is damaged and processes still run in "
                                          "its cgroups; `berth vps stop %s` stops them",
                                          name, name);
                else
                        r = live ? berth_err_set(err, EBUSY, "VPS %s is already running (%s)", name,
                                                 berth_status_name(st))
                                 : vps_container_cleanup(v, cfg, err);
        } else {
                vps_trace(v, "VPS %s: no container; tearing down any network left by a crash", name);
                /* The filter's leftovers go with the start's own filter. */
                r = vps_net_down_flags(v, cfg, BERTH_NET_TEARDOWN_BRIDGE | BERTH_NET_TEARDOWN_KEEP_FILTER,
                                       err);
        }
        /* A VPS from before stable MACs gets its own now, kept from here on. */
        if (r >= 0 && !cfg->net.has_mac && (r = vps_mac_random(cfg->net.mac, err)) >= 0)
                cfg->net.has_mac = true;
        /* Before config.json: the I/O limits name the disk's device. */
        bool attached = r >= 0 && (r = vps_disk_attach(v, cfg, err)) >= 0;
        /* Regenerated at every start: a changed template or berth applies. */
        if (r >= 0)
                r = berth_vps_config_save(v, cfg, err);
        if (r >= 0)
                r = vps_idrange_ensure(v, cfg, err);
        if (r >= 0)
                r = vps_console_boot(v, cfg, ops, flags, err);
        /* The guest's mount holds the image from here (see disk_image.c). */
        if (attached)
                vps_disk_detach(v, cfg);
        if (r >= 0)
                vps_trace(v, "VPS %s: running", name);
        return r;
}

/* The keeper's restart after a guest reboot: the lock is held, the old
 * container removed, and the console log goes on across the reboot. */
static int restart(const struct berth_vps_ctx *v, struct berth_vps_config *cfg, struct berth_err *err)
{
        return vps_boot_locked(v, cfg, -1, VPS_BOOT_LOG_APPEND, &boot_ops, err);
}

int vps_start_locked_again(const struct berth_vps_ctx *v, struct berth_vps_config *cfg, struct berth_err *err)
{
        return restart(v, cfg, err);
}

/* The cleanup after a guest that ended by itself, for the small keeper,
 * which cannot do it (keeper_exec.c); a reboot restarts the VPS here. */
int berth_vps_keeper_end_main(const struct berth_ctx *ctx, int argc, char **argv)
{
        return vps_keeper_end_main(ctx, argc, argv, restart);
}

static int start_named(const struct berth_vps_ctx *v, const char *name, bool guard, struct berth_err *err)
{
        struct berth_vps_config cfg;
        vps_trace(v, "VPS %s: start", name);
        int st;
        _cleanup_close_ int lock = vps_open_locked(v, name, &cfg, &st, err);
        if (lock < 0)
                return berth_err_wrap(err, "start VPS %s", name);
        int r = guard ? vps_migration_guard(v, name, true, err) : 0;
        /* A live migration killed after its dump leaves its images: a
         * start makes them stale (and they hold the guest's memory). */
        if (r >= 0)
                vps_live_images_remove(v, name);
        if (r >= 0)
                r = vps_boot_locked(v, &cfg, st, 0, &boot_ops, err);
        berth_vps_config_clear(&cfg);
        if (r < 0)
                vps_err_space(v, err);
        return r < 0 ? berth_err_wrap(err, "start VPS %s", name) : 0;
}

int berth_vps_start(const struct berth_vps_ctx *v, const char *name, struct berth_err *err)
{
        return start_named(v, name, true, err);
}

int vps_start_unguarded(const struct berth_vps_ctx *v, const char *name, struct berth_err *err)
{
        return start_named(v, name, false, err);
}
