// SPDX-License-Identifier: GPL-2.0-or-later
/* vps repair: finds what a crash (of berth, or of the host) left
 * inconsistent and fixes it, without touching a running VPS.
 *
 *   leftover   .new.* / .rm.* directories of an interrupted create or
 *              destroy (leftover.c), and vps.json.tmp / config.json.tmp
 *   container  the container of a VPS that does not run: stopped (the
 *              guest halted), created or creating (a start killed before
 *              it started the guest), or with a damaged state file
 *   cgroup     cgroups of a VPS that does not run, found by name, and
 *              (--all) those named for a VPS no longer in the data directory
 *   mount      mounts below the VPS's directory on the host
 *   network    the host end (and with it the filter entries) of a VPS
 *              that does not run
 *   marker     a template marker of no VPS, or a VPS without its marker
 *   migration  the marker (migration.json) of a `vps migrate` that died:
 *              the VPS restarted when migrate had stopped it, kept
 *              stopped (autostart off) with what to do when it died
 *              after handing the VPS over (migrate_proto.c)
 *
 * Each VPS is looked at under its lock, taken without waiting: a VPS a
 * command is working on is skipped (and said so). What cannot be fixed
 * here (a damaged vps.json, a damaged container whose processes still
 * run, a missing template) is reported as left, with the command that
 * deals with it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/file.h"
#include "berth/proc.h"
#include "berth/vps.h"
#include "runtime/vps/internal.h"
#include "runtime/vps/snapshot.h"
#include "runtime/vps/migrate.h"

struct repair {
        const struct berth_vps_ctx *v;
        const struct berth_vps_repair_opts *o;
        struct berth_vps_repair_counts *n;
};

static void report(struct repair *rp, const char *vps, const char *kind, enum berth_vps_repair_state state,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void report(struct repair *rp, const char *vps, const char *kind, enum berth_vps_repair_state state,
                   const char *fmt, ...)
{
        char what[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(what, sizeof(what), fmt, ap);
        va_end(ap);
        struct berth_vps_repair_item it = {.vps = vps, .kind = kind, .what = what, .state = state};
        switch (state) {
        case BERTH_VPS_REPAIRED:
        case BERTH_VPS_WOULD_REPAIR:
                rp->n->found++;
                break;
        case BERTH_VPS_REPAIR_LEFT:
        case BERTH_VPS_REPAIR_FAILED:
                rp->n->found++;
                rp->n->left++;
                break;
        case BERTH_VPS_REPAIR_SKIPPED:
                rp->n->skipped++;
                break;
        }
        if (rp->o->report)
                rp->o->report(rp->o->arg, &it);
        else if (state != BERTH_VPS_REPAIR_SKIPPED)
                vps_warn(rp->v, "%s%s%s%s: %s", vps ? "VPS " : "", vps ? vps : "", vps ? ": " : "",
                         berth_vps_repair_state_name(state), what);
}

/* Reports the outcome of one fix: r < 0 failed (e says why). */
#define FIXED(rp, vps, kind, r, e, ...)                                                                      \
        do {                                                                                                 \
                char what_[768];                                                                             \
                snprintf(what_, sizeof(what_), __VA_ARGS__);                                                 \
                if ((r) < 0)                                                                                 \
                        report(rp, vps, kind, BERTH_VPS_REPAIR_FAILED, "%s: %s", what_, (e)->msg);           \
                else                                                                                         \
                        report(rp, vps, kind,                                                                \
                               (rp)->o->dry_run ? BERTH_VPS_WOULD_REPAIR : BERTH_VPS_REPAIRED, "%s", what_); \
        } while (0)

const char *berth_vps_repair_state_name(enum berth_vps_repair_state s)
{
        switch (s) {
        case BERTH_VPS_REPAIRED:
                return "repaired";
        case BERTH_VPS_WOULD_REPAIR:
                return "would repair";
        case BERTH_VPS_REPAIR_LEFT:
                return "not repaired";
        case BERTH_VPS_REPAIR_FAILED:
                return "repair failed";
        case BERTH_VPS_REPAIR_SKIPPED:
                return "skipped";
        }
        return "?";
}

/* ---- leftovers of create and destroy ---------------------------------------- */

static int leftover_fn(const struct berth_vps_ctx *v, int parent, const struct vps_leftover *lo, void *arg,
                       struct berth_err *err)
{
        (void)err;
        struct repair *rp = arg;
        if (rp->o->name && strcmp(rp->o->name, lo->name))
                return 0;
        struct berth_err e = {0};
        int r = rp->o->dry_run ? 0 : vps_leftover_remove(v, parent, lo, &e);
        FIXED(rp, lo->name, "leftover", r, &e, "remove %s/vps/%s, left by an interrupted %s", v->data_dir,
              lo->entry,
              lo->is_mig   ? "incoming migration"
              : lo->is_new ? "create"
                           : "destroy");
        return 0;
}

static void temp_files(struct repair *rp, const char *name, int dir_fd)
{
        static const char *const tmps[] = {"vps.json.tmp", "config.json.tmp"};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(tmps); i++) {
                if (faccessat(dir_fd, tmps[i], F_OK, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                struct berth_err e = {0};
                int r = 0;
                if (!rp->o->dry_run && unlinkat(dir_fd, tmps[i], 0) < 0)
                        r = berth_err_sys(&e, errno, "unlink");
                FIXED(rp, name, "leftover", r, &e, "remove %s, left by an interrupted write", tmps[i]);
        }
}

/* ---- one VPS ------------------------------------------------------------------ */

/* Its container, when it is not running. Returns true when it runs (or
 * might: a damaged one with processes), and nothing else is looked at. */
static bool check_container(struct repair *rp, const struct berth_vps_config *cfg)
{
        const struct berth_vps_ctx *v = rp->v;
        struct berth_container_info info;
        struct berth_err e = {0};
        int r = vps_container_load(v, cfg->name, &info, &e);
        if (r == -ENOENT)
                return false;
        if (r < 0) {
                report(rp, cfg->name, "container", BERTH_VPS_REPAIR_LEFT, "its container cannot be read: %s",
                       e.msg);
                return true;
        }
        enum berth_status st = info.status;
        char damage[sizeof(info.damage)], what[400];
        snprintf(damage, sizeof(damage), "%s", info.damage);
        pid_t pid = info.st.pid;
        berth_container_info_clear(&info);
        if (st == BERTH_STATUS_RUNNING || st == BERTH_STATUS_PAUSED)
                return true;
        if (st == BERTH_STATUS_UNKNOWN && vps_damaged_live(v, cfg->name)) {
                report(rp, cfg->name, "container", BERTH_VPS_REPAIR_LEFT,
                       "its container state is damaged (%s) while processes still run in its cgroups; "
                       "`berth vps stop %s` stops them",
                       damage, cfg->name);
                return true;
        }
        if (st == BERTH_STATUS_UNKNOWN)
                snprintf(what, sizeof(what), "remove its damaged container state (%s)", damage);
        else
                snprintf(what, sizeof(what), "remove its %s container (init %d%s)", berth_status_name(st),
                         (int)pid,
                         st == BERTH_STATUS_STOPPED ? " gone" : ", never started: a start was killed");
        r = rp->o->dry_run ? 0 : vps_container_cleanup(v, cfg, &e);
        FIXED(rp, cfg->name, "container", r, &e, "%s", what);
        return false;
}

static void check_cgroups(struct repair *rp, const char *name)
{
        int dirs = 0, procs = 0, removed = 0;
        struct berth_err e = {0};
        if (vps_cgroup_probe(rp->v, name, &dirs, &procs, &e) < 0) {
                report(rp, name, "cgroup", BERTH_VPS_REPAIR_LEFT, "its cgroups cannot be looked at: %s",
                       e.msg);
                return;
        }
        if (dirs == 0)
                return;
        char cg[BERTH_VPS_NAME_MAX + 32];
        berth_vps_cgroup_name(rp->v, name, cg, sizeof(cg));
        int r = rp->o->dry_run ? 0 : vps_cgroup_salvage(rp->v, name, &procs, &removed, &e);
        FIXED(rp, name, "cgroup", r, &e, "remove its leaked cgroup %s in %d hierarch%s, holding %d process%s",
              cg, dirs, dirs == 1 ? "y" : "ies", procs, procs == 1 ? "" : "es");
}

/* Mounts whose mount point is below dir (a crash of the mount helper
 * in the host's namespace; start mounts in a private one). */
static void check_mounts(struct repair *rp, const char *name, const char *dir)
{
        _cleanup_free_ char *text = NULL;
        if (berth_read_file_at(AT_FDCWD, "/proc/self/mountinfo", 0, 64 << 20, &text, NULL) < 0)
                return;
        char real[PATH_MAX];
        if (realpath(dir, real))
                dir = real;
        size_t dl = strlen(dir);
        char *cursor = text;
        struct berth_mountinfo_entry m;
        /* Innermost last in mountinfo: collect, then unmount backwards. */
        char *points[64];
        size_t n = 0;
        while (n < BERTH_ARRAY_SIZE(points) && berth_mountinfo_next(&cursor, &m))
                if (!strncmp(m.mount_point, dir, dl) && m.mount_point[dl] == '/')
                        points[n++] = m.mount_point;
        while (n-- > 0) {
                struct berth_err e = {0};
                int r = 0;
                if (!rp->o->dry_run && umount2(points[n], MNT_DETACH) < 0 && errno != EINVAL)
                        r = berth_err_sys(&e, errno, "umount");
                FIXED(rp, name, "mount", r, &e, "unmount %s", points[n]);
        }
}

static void check_network(struct repair *rp, const struct berth_vps_config *cfg)
{
        char ifb[16];
        vps_ifb_name(cfg, ifb);
        /* The host end, or the IFB of its shaper (bandwidth.c), left. */
        if (!cfg->net.host_if[0] || (if_nametoindex(cfg->net.host_if) == 0 && if_nametoindex(ifb) == 0))
                return;
        struct berth_err e = {0};
        int r = rp->o->dry_run ? 0 : vps_net_down(rp->v, cfg, &e);
        FIXED(rp, cfg->name, "network", r, &e, "remove its host end %s and its filter entries",
              cfg->net.host_if);
}

/* A snapshot operation a crash interrupted (snapshot_layers.c). */
static void check_snapshot(struct repair *rp, const struct berth_vps_config *cfg, bool running)
{
        char what[512];
        struct berth_err e = {0};
        int r = vps_snap_repair(rp->v, cfg, running, rp->o->dry_run, what, sizeof(what), &e);
        if (r != 0)
                FIXED(rp, cfg->name, "snapshot", r, &e, "%s", r < 0 ? "recover a half-made snapshot" : what);
}

static void check_marker(struct repair *rp, const struct berth_vps_config *cfg)
{
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/templates/%s/rootfs", rp->v->data_dir, cfg->template_name);
        if (access(path, F_OK) < 0) {
                report(rp, cfg->name, "marker", BERTH_VPS_REPAIR_LEFT,
                       "its template %s does not exist: it cannot start", cfg->template_name);
                return;
        }
        snprintf(path, sizeof(path), "%s/templates/%s/users/%s", rp->v->data_dir, cfg->template_name,
                 cfg->name);
        if (access(path, F_OK) == 0)
                return;
        struct berth_err e = {0};
        int r = rp->o->dry_run ? 0 : vps_template_mark(rp->v, cfg->template_name, cfg->name, true, &e);
        FIXED(rp, cfg->name, "marker", r, &e, "mark template %s as used by it (the marker was missing)",
              cfg->template_name);
}

/* The VPS's lock without waiting: -EBUSY while a command works on it. */
static int trylock(const char *dir)
{
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                int e = errno;
                close(fd);
                return e == EWOULDBLOCK ? -EBUSY : -e;
        }
        return fd;
}

/* Taken before the VPS's lock: start and set take it themselves. True
 * when a migrate works on the VPS: it is not looked at. */
static bool check_migration(struct repair *rp, const char *name)
{
        char phase[32], dest[256];
        int st = vps_migrate_marker_stale(rp->v, name, phase, sizeof(phase), dest, sizeof(dest));
        if (st == -EBUSY)
                report(rp, name, "busy", BERTH_VPS_REPAIR_SKIPPED,
                       "a migration to another host is under way");
        if (st <= 0)
                return st == -EBUSY;
        struct berth_err e = {0};
        int r = 0;
        if (!strcmp(phase, "copy")) {
                r = rp->o->dry_run ? 0 : vps_migrate_marker_remove(rp->v, name);
                FIXED(rp, name, "migration", r, &e,
                      "remove the marker of a migration to %s that died before "
                      "it stopped the VPS",
                      dest);
        } else if (!strcmp(phase, "stopped")) {
                if (!rp->o->dry_run && (r = vps_start_unguarded(rp->v, name, &e)) == -EBUSY)
                        r = 0; /* running already */
                if (r >= 0 && !rp->o->dry_run)
                        r = vps_migrate_marker_remove(rp->v, name);
                FIXED(rp, name, "migration", r, &e,
                      "restart it: a migration to %s stopped it and died "
                      "before %s took it over",
                      dest, dest);
        } else {
                struct berth_vps_change c = {.autostart = 0, .allow_io_uring = -1, .filter = -1};
                if (!rp->o->dry_run && (r = berth_vps_set(rp->v, name, &c, &e)) >= 0)
                        r = vps_migrate_marker_remove(rp->v, name);
                report(rp, name, "migration", r < 0 ? BERTH_VPS_REPAIR_FAILED : BERTH_VPS_REPAIR_LEFT,
                       "a migration to %s died after it handed the VPS over: it may run there; kept stopped "
                       "here (autostart off): `berth vps destroy %s` if it runs on %s, else `berth vps "
                       "start %s`%s%s",
                       dest, name, dest, name, r < 0 ? ": " : "", r < 0 ? e.msg : "");
        }
        return false;
}

static void repair_one(struct repair *rp, const char *name)
{
        if (check_migration(rp, name))
                return;
        char dir[PATH_MAX];
        if (berth_vps_path(rp->v, name, NULL, dir, sizeof(dir)) < 0)
                return;
        _cleanup_close_ int lock = trylock(dir);
        if (lock == -EBUSY) {
                report(rp, name, "busy", BERTH_VPS_REPAIR_SKIPPED, "a command is working on it: not checked");
                return;
        }
        if (lock < 0)
                return; /* destroyed meanwhile */
        temp_files(rp, name, lock);
        struct berth_vps_config cfg;
        struct berth_err e = {0};
        if (berth_vps_config_load(rp->v, name, &cfg, &e) < 0) {
                report(rp, name, "config", BERTH_VPS_REPAIR_LEFT,
                       "%s; `berth vps destroy --force %s` removes it",
                       e.code == ENOENT ? "no vps.json" : e.msg, name);
                return;
        }
        if (check_container(rp, &cfg)) {
                vps_trace(rp->v, "VPS %s: running: not touched (but a live snapshot's leftovers)", name);
                check_snapshot(rp, &cfg, true);
        } else {
                check_cgroups(rp, name);
                check_mounts(rp, name, dir);
                check_network(rp, &cfg);
                check_snapshot(rp, &cfg, false);
        }
        check_marker(rp, &cfg);
        berth_vps_config_clear(&cfg);
}

/* A VPS whose directory is gone: its container and cgroups, by name. */
static void repair_gone(struct repair *rp, const char *name)
{
        struct berth_vps_config cfg = {.name = (char *)name};
        struct berth_container_info info;
        struct berth_err e = {0};
        if (vps_container_load(rp->v, name, &info, &e) == 0) {
                bool live = info.status == BERTH_STATUS_RUNNING || info.status == BERTH_STATUS_PAUSED;
                berth_container_info_clear(&info);
                char id[BERTH_VPS_ID_MAX];
                berth_vps_container_id(rp->v, name, id, sizeof(id));
                int r = rp->o->dry_run ? 0 : berth_container_delete(rp->v->ctx, id, true, &e);
                FIXED(rp, name, "container", r, &e, "remove container %s of a VPS that no longer exists%s",
                      id, live ? " (its processes killed)" : "");
        }
        check_cgroups(rp, cfg.name);
        char links[4][16];
        size_t n = vps_orphan_links(rp->v, name, links, 4);
        for (size_t i = 0; i < n; i++) {
                int r = rp->o->dry_run ? 0 : vps_link_remove(links[i], &e);
                FIXED(rp, name, "network", r, &e, "remove host end %s of a VPS that no longer exists",
                      links[i]);
        }
}

/* Cgroups named for a VPS of this data directory that no longer exists
 * (a destroy that died or failed after its container's delete). */
static void orphan_cgroups(struct repair *rp, int vps_dir)
{
        char **cgs = NULL;
        struct berth_err e = {0};
        if (vps_cgroup_names(rp->v, &cgs, &e) < 0) {
                vps_trace(rp->v, "repair: cgroups not listed: %s", e.msg);
                vps_strv_free(cgs);
                return;
        }
        for (size_t i = 0; cgs[i]; i++)
                if (faccessat(vps_dir, cgs[i], F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
                        repair_gone(rp, cgs[i]);
        vps_strv_free(cgs);
}

/* ---- template markers -------------------------------------------------------- */

/* users/<u> of template tmpl: a VPS u of this data directory that uses tmpl. */
static void check_users(struct repair *rp, const char *tmpl, int vps_dir)
{
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/templates/%s/users", rp->v->data_dir, tmpl);
        _cleanup_closedir_ DIR *d = opendir(path);
        struct dirent *de;
        while (d && (de = readdir(d))) {
                const char *u = de->d_name;
                if (u[0] == '.' || (rp->o->name && strcmp(rp->o->name, u)))
                        continue;
                struct berth_vps_config cfg;
                struct berth_err e = {0};
                bool exists = faccessat(vps_dir, u, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
                int lr = exists ? berth_vps_config_load(rp->v, u, &cfg, &e) : -ENOENT;
                if (exists && lr < 0)
                        continue; /* damaged: its marker may be right */
                bool other = lr == 0 && strcmp(cfg.template_name, tmpl);
                if (lr == 0)
                        berth_vps_config_clear(&cfg);
                if (exists && !other)
                        continue;
                int r = rp->o->dry_run ? 0 : vps_template_mark(rp->v, tmpl, u, false, &e);
                FIXED(rp, u, "marker", r, &e, "remove the marker on template %s (%s)", tmpl,
                      exists ? "it uses another template" : "no such VPS");
        }
}

static void check_markers(struct repair *rp, int vps_dir)
{
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/templates", rp->v->data_dir);
        _cleanup_closedir_ DIR *d = opendir(path);
        struct dirent *de;
        while (d && (de = readdir(d)))
                if (de->d_name[0] != '.')
                        check_users(rp, de->d_name, vps_dir);
}

/* ---- the host's id-range registry ------------------------------------------------ */

struct id_check {
        struct repair *rp;
        size_t reported;
};

static void stale_range(const char *name, uint64_t start, uint64_t size, const struct berth_err *failed,
                        void *arg)
{
        struct id_check *c = arg;
        int r = failed ? -failed->code : 0;
        c->reported++;
        FIXED(c->rp, name, "id-range", r, failed,
              "its line in the id-range registry (ids %llu-%llu) outlived it: dropped",
              (unsigned long long)start, (unsigned long long)(start + size - 1));
}

/* Lines of VPS that are gone keep their ids from every new VPS of the host. */
static void check_id_ranges(struct repair *rp)
{
        struct berth_err e = {0};
        struct id_check c = {.rp = rp};
        if (vps_idrange_repair(rp->v, rp->o->dry_run, stale_range, &c, &e) < 0 && !c.reported)
                report(rp, NULL, "id-range", BERTH_VPS_REPAIR_FAILED, "the id-range registry: %s", e.msg);
}

/* ---- the verb ------------------------------------------------------------------- */

static int open_vps_dir(const struct berth_vps_ctx *v, struct berth_err *err)
{
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/vps", v->data_dir);
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? -ENOENT : berth_err_sys(err, errno, "open %s", path);
        /* Creates wait meanwhile: a .new.* directory is then a leftover. */
        if (flock(fd, LOCK_EX) < 0) {
                int e = errno;
                close(fd);
                return berth_err_sys(err, e, "lock %s", path);
        }
        return fd;
}

int berth_vps_repair(const struct berth_vps_ctx *v, const struct berth_vps_repair_opts *o,
                     struct berth_vps_repair_counts *n, struct berth_err *err)
{
        memset(n, 0, sizeof(*n));
        if (o->name && !berth_vps_name_valid(o->name))
                return berth_err_set(err, EINVAL, "invalid VPS name \"%s\"", o->name);
        struct repair rp = {.v = v, .o = o, .n = n};
        _cleanup_close_ int parent = open_vps_dir(v, err);
        if (parent == -ENOENT) {
                vps_trace(v, "repair: no %s/vps: nothing to do", v->data_dir);
                return o->name ? berth_err_set(err, ENOENT, "VPS %s does not exist", o->name) : 0;
        }
        if (parent < 0)
                return parent;
        int r = vps_leftovers_each(v, parent, leftover_fn, &rp, err);
        if (r < 0)
                return r;
        if (o->name && faccessat(parent, o->name, F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
                size_t before = n->found;
                repair_gone(&rp, o->name);
                check_markers(&rp, parent);
                if (n->found == before)
                        return berth_err_set(err, ENOENT, "VPS %s does not exist", o->name);
                return 0;
        }
        _cleanup_strv_ char **names = NULL;
        if (!o->name && (r = berth_vps_list_names(v, &names, err)) < 0)
                return r;
        for (size_t i = 0; o->name ? i < 1 : names[i] != NULL; i++)
                repair_one(&rp, o->name ? o->name : names[i]);
        if (!o->name) {
                orphan_cgroups(&rp, parent);
                check_id_ranges(&rp);
        }
        check_markers(&rp, parent);
        vps_trace(v, "repair: %zu found, %zu left, %zu skipped%s", n->found, n->left, n->skipped,
                  o->dry_run ? " (dry run)" : "");
        return 0;
}
