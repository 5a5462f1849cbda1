// SPDX-License-Identifier: GPL-2.0-or-later
/* Checkpoint and restore of a running VPS with criu: what `vps migrate
 * --live` does on each side (runtime/checkpoint/ drives criu).
 *
 * The images live in the VPS's own directory (criu-pre/ for the pre-copy
 * of the memory while the guest runs, criu/ for the final dump), so that
 * the migration's rsync passes carry them with the files.
 *
 * What is not in the images, and why:
 *   - the terminal: its master is the console keeper's; the dump declares
 *     it external, the restore gives the guest a new one whose master goes
 *     to a new keeper (the restore runs as the keeper's worker, like a
 *     start's create, vps_console_boot);
 *   - the veth: its host end is the host's (bridge, routes, filter, rate
 *     limits). It is removed before the final dump, so criu saves a network
 *     namespace with only lo in it; after the restore vps_net_up wires a
 *     new pair into it with the same MAC and addresses, as a start does.
 *     Established TCP connections survive (--tcp-established): their
 *     addresses come back before the guest runs on;
 *   - the root: the overlay is mounted again (criu's --root), with the
 *     template idmapped through the VPS's range as at a start. The range
 *     must therefore be the same on both sides (the restored user
 *     namespace has the dumped mappings): the destination's preflight
 *     refuses a live migration into another range;
 *   - sysinfo(2): the keeper answered it through a seccomp listener that
 *     a restored filter no longer has; the guest's sysinfo then fails with
 *     ENOSYS until its next start (free and uptime read /proc). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/checkpoint.h"
#include "berth/cleanup.h"
#include "berth/rmtree.h"
#include "berth/vps.h"
#include "runtime/vps/internal.h"

int vps_live_check(struct berth_err *err)
{
        char criu[PATH_MAX];
        if (!berth_criu_find(NULL, criu, sizeof(criu)))
                return berth_err_set(err, ENOTSUP, "criu is not installed (the criu package)");
        return berth_criu_check(criu, err);
}

static int live_dir(const struct berth_vps_ctx *v, const char *name, const char *sub, char *out, size_t len,
                    struct berth_err *err)
{
        berth_vps_path(v, name, sub, out, len);
        if (mkdir(out, 0700) < 0 && errno != EEXIST)
                return berth_err_sys(err, errno, "create %s", out);
        return 0;
}

static void dump_opts(struct berth_checkpoint_opts *o, const char *id, const char *images)
{
        *o = (struct berth_checkpoint_opts){
            .id = id, .image_path = images, .tcp_established = true, .file_locks = true};
}

int vps_live_predump(const struct berth_vps_ctx *v, const char *name, struct berth_err *err)
{
        char images[PATH_MAX], id[BERTH_VPS_ID_MAX];
        vps_live_images_remove(v, name);
        int r = live_dir(v, name, VPS_LIVE_PRE, images, sizeof(images), err);
        struct berth_checkpoint_opts o;
        dump_opts(&o, berth_vps_container_id(v, name, id, sizeof(id)), images);
        o.pre_dump = true;
        if (r >= 0)
                r = berth_container_checkpoint(v->ctx, &o, err);
        return r < 0 ? berth_err_wrap(err, "VPS %s: pre-dump", name) : 0;
}

/* Under the VPS's lock: the network's host end goes, criu dumps and ends
 * the processes, the container goes as at a stop. On a failed dump the
 * guest runs on (criu resumes it) and gets its network back. */
static int dump_locked(const struct berth_vps_ctx *v, struct berth_vps_config *cfg, bool pre,
                       struct berth_err *err)
{
        char images[PATH_MAX], id[BERTH_VPS_ID_MAX];
        struct berth_container_info info;
        int r = vps_container_load(v, cfg->name, &info, err);
        if (r == -ENOENT)
                return berth_err_set(err, ESRCH, "VPS %s is not running", cfg->name);
        if (r < 0)
                return r;
        pid_t pid = info.st.pid;
        berth_container_info_clear(&info);
        r = live_dir(v, cfg->name, VPS_LIVE_IMAGES, images, sizeof(images), err);
        if (r >= 0)
                r = vps_net_down_flags(v, cfg, BERTH_NET_TEARDOWN_KEEP_FILTER, err);
        if (r < 0)
                return r;
        struct berth_checkpoint_opts o;
        dump_opts(&o, berth_vps_container_id(v, cfg->name, id, sizeof(id)), images);
        o.keep_stopped = true;
        o.parent_path = pre ? "../" VPS_LIVE_PRE : NULL;
        r = berth_container_checkpoint(v->ctx, &o, err);
        if (r < 0) {
                struct berth_err net = {0};
                if (vps_net_up(v, cfg, pid, &net) < 0)
                        vps_warn(v, "VPS %s: runs on after the failed dump, without its network: %s",
                                 cfg->name, net.msg);
                return r;
        }
        vps_trace(v, "VPS %s: dumped to %s; removing its container", cfg->name, images);
        /* The dump holds the VPS now: a leftover of the old container is
         * not its failure (a start removes leftovers). */
        struct berth_err left = {0};
        if (vps_container_cleanup(v, cfg, &left) < 0)
                vps_warn(v, "VPS %s: dumped, but its old container was not all removed: %s", cfg->name,
                         left.msg);
        return 0;
}

int vps_live_dump(const struct berth_vps_ctx *v, const char *name, bool pre, struct berth_err *err)
{
        struct berth_vps_config cfg;
        int st;
        _cleanup_close_ int lock = vps_open_locked(v, name, &cfg, &st, err);
        if (lock < 0)
                return berth_err_wrap(err, "VPS %s: dump", name);
        int r = st == BERTH_STATUS_RUNNING ? dump_locked(v, &cfg, pre, err)
                                           : berth_err_set(err, ESRCH, "VPS %s is not running", name);
        berth_vps_config_clear(&cfg);
        return r < 0 ? berth_err_wrap(err, "VPS %s: dump", name) : 0;
}

/* criu opens some images from inside the restored user namespace, as the
 * guest's root: the images (its own memory) become its root's. */
static int images_own(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg,
                      struct berth_err *err)
{
        if (!cfg->userns.enabled)
                return 0;
        const char *subs[] = {VPS_LIVE_IMAGES, VPS_LIVE_PRE};
        uid_t id = cfg->userns.host_id;
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(subs); i++) {
                char path[PATH_MAX];
                berth_vps_path(v, cfg->name, subs[i], path, sizeof(path));
                _cleanup_closedir_ DIR *d = opendir(path);
                if (!d && errno == ENOENT)
                        continue;
                if (!d || fchown(dirfd(d), id, id) < 0)
                        return berth_err_sys(err, errno, "chown %s", path);
                for (struct dirent *e; (e = readdir(d));)
                        if (strcmp(e->d_name, "..") &&
                            fchownat(dirfd(d), e->d_name, id, id, AT_SYMLINK_NOFOLLOW) < 0)
                                return berth_err_sys(err, errno, "chown %s/%s", path, e->d_name);
        }
        return 0;
}

/* In the keeper's worker, as a start's boot: the root mounted again in a
 * private mount namespace, criu restores into the VPS's new cgroup, the
 * new terminal's master goes to the keeper, then the host side. */
static int live_boot(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg, const char *handoff,
                     struct berth_err *err)
{
        char dir[PATH_MAX], images[PATH_MAX], id[BERTH_VPS_ID_MAX];
        berth_vps_path(v, cfg->name, NULL, dir, sizeof(dir));
        berth_vps_path(v, cfg->name, VPS_LIVE_IMAGES, images, sizeof(images));
        int r = images_own(v, cfg, err);
        if (r >= 0)
                r = vps_root_mount(v, cfg, err);
        if (r < 0)
                return r;
        struct berth_restore_opts o = {.bundle = dir, .console_socket = handoff, .detach = true};
        dump_opts(&o.c, berth_vps_container_id(v, cfg->name, id, sizeof(id)), images);
        int code = 0;
        r = berth_container_restore(v->ctx, &o, &code, err);
        vps_root_umount(v, cfg);
        if (r >= 0)
                r = vps_boot_wire(v, cfg, err);
        if (r >= 0) {
                vps_trace(v, "VPS %s: restored from %s", cfg->name, images);
                return 0;
        }
        struct berth_err undo = {0};
        if (vps_container_cleanup(v, cfg, &undo) < 0)
                vps_warn(v, "VPS %s: could not clean up after the failed restore: %s", cfg->name, undo.msg);
        return r;
}

/* A guest that reboots after its restore boots afresh. */
static int live_restart(const struct berth_vps_ctx *v, struct berth_vps_config *cfg, struct berth_err *err)
{
        return vps_start_locked_again(v, cfg, err);
}

static const struct vps_boot_ops live_ops = {.boot = live_boot, .restart = live_restart};

int vps_live_restore(const struct berth_vps_ctx *v, const char *name, struct berth_err *err)
{
        struct berth_vps_config cfg;
        int st;
        _cleanup_close_ int lock = vps_open_locked(v, name, &cfg, &st, err);
        if (lock < 0)
                return berth_err_wrap(err, "VPS %s: restore", name);
        /* As a start (a live container refuses, leftovers go, this host's
         * paths in config.json, the same id range), but criu's restore
         * instead of a create. */
        int r = vps_boot_locked(v, &cfg, st, VPS_BOOT_LOG_APPEND, &live_ops, err);
        berth_vps_config_clear(&cfg);
        return r < 0 ? berth_err_wrap(err, "VPS %s: restore", name) : 0;
}
