// SPDX-License-Identifier: GPL-2.0-or-later
/* vps receive: the destination's half of `vps migrate` (migrate.c says
 * how the two talk), started by the source over ssh with the control
 * connection on its stdin and stdout.
 *
 *   preflight  the checks of receive_check.c; then the staging directory
 *              <data>/vps/.mig.NAME.PID, flock()ed while we live, which
 *              rsync fills (nothing names it a VPS: list skips it, and
 *              `vps repair` removes one whose receive is gone)
 *   commit     under the VPS directory's and the id registry's locks: the
 *              id range (the source's when free here), the owners shifted
 *              into it, vps.json with this host's host end, the template
 *              marker, then the rename to <data>/vps/NAME and the start
 *              (live: the restore from the source's criu images, which
 *              needs the source's id range here and `criu check` passing,
 *              both checked in the preflight; the images are removed after)
 *   done       the source has it; we exit
 *
 * The end of the input before the commit (the source failed, was killed,
 * or its connection dropped) removes the staging directory; a start that
 * fails destroys the published copy and says so, and the source restarts
 * its own. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/rmtree.h"
#include "berth/vps_migrate.h"
#include "runtime/vps/disk.h"
#include "runtime/vps/internal.h"
#include "runtime/vps/migrate.h"
#include "runtime/vps/receive.h"

struct recv {
        const struct berth_vps_ctx *v;
        const char *name;
        int in, out;
        struct berth_vps_config cfg;
        uint32_t src_host_id;
        char entry[BERTH_VPS_NAME_MAX + 32]; /* .mig.NAME.PID */
        char staging[PATH_MAX];
        int parent; /* <data>/vps */
        int staging_lock;
        bool published;
        bool live; /* restored from the source's criu images, not started */
};

static int reply_error(struct recv *rc, const struct berth_err *e)
{
        json_t *msg = json_pack("{s:b, s:s, s:i}", "ok", 0, "error", e->msg, "errno", e->code);
        struct berth_err ignore = {0};
        int r = vps_line_send(rc->out, msg, &ignore);
        json_decref(msg);
        return r;
}

static int parse_preflight(struct recv *rc, json_t *msg, const char **sum, uint64_t *need,
                           struct berth_err *err)
{
        const char *op = json_string_value(json_object_get(msg, "op"));
        const char *ver = json_string_value(json_object_get(msg, "version"));
        json_int_t fmt = json_integer_value(json_object_get(msg, "format"));
        if (!op || strcmp(op, "preflight"))
                return berth_err_set(err, EPROTO, "expected a preflight, got \"%s\"", op ? op : "?");
        if (!ver || strcmp(ver, BERTH_VERSION))
                return berth_err_set(err, EPROTO,
                                     "berth %s here, %s on the source: the same version is needed",
                                     BERTH_VERSION, ver ? ver : "?");
        if (fmt != VPS_MIGRATE_FORMAT)
                return berth_err_set(err, EPROTO, "on-disk format %d here, %lld on the source",
                                     VPS_MIGRATE_FORMAT, (long long)fmt);
        _cleanup_free_ char *text = json_dumps(json_object_get(msg, "config"), JSON_COMPACT);
        if (!text || berth_vps_config_parse(text, strlen(text), &rc->cfg, err) < 0)
                return berth_err_set(err, EPROTO, "the source sent no usable vps.json");
        if (strcmp(rc->cfg.name, rc->name))
                return berth_err_set(err, EPROTO, "the source sent VPS %s, not %s", rc->cfg.name, rc->name);
        rc->src_host_id = rc->cfg.userns.host_id;
        rc->live = json_is_true(json_object_get(msg, "live"));
        *sum = json_string_value(json_object_get(msg, "template_sum"));
        *need = (uint64_t)json_integer_value(json_object_get(msg, "need_bytes"));
        return 0;
}

static int open_parent(struct recv *rc, struct berth_err *err)
{
        char path[PATH_MAX];
        if (mkdir(rc->v->data_dir, 0755) < 0 && errno != EEXIST)
                return berth_err_sys(err, errno, "mkdir %s", rc->v->data_dir);
        snprintf(path, sizeof(path), "%s/vps", rc->v->data_dir);
        if (mkdir(path, 0711) < 0 && errno != EEXIST) /* as create makes it */
                return berth_err_sys(err, errno, "mkdir %s", path);
        rc->parent = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return rc->parent < 0 ? berth_err_sys(err, errno, "open %s", path) : 0;
}

static int make_staging(struct recv *rc, struct berth_err *err)
{
        int r = open_parent(rc, err);
        if (r < 0)
                return r;
        snprintf(rc->entry, sizeof(rc->entry), VPS_MIGRATE_STAGING "%s.%d", rc->name, (int)getpid());
        snprintf(rc->staging, sizeof(rc->staging), "%s/vps/%s", rc->v->data_dir, rc->entry);
        if (mkdirat(rc->parent, rc->entry, 0700) < 0)
                return vps_err_write(err, errno, rc->v->data_dir, "mkdir %s", rc->staging);
        rc->staging_lock = openat(rc->parent, rc->entry, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (rc->staging_lock < 0 || flock(rc->staging_lock, LOCK_EX) < 0)
                return berth_err_sys(err, errno, "lock %s", rc->staging);
        if (rc->cfg.disk.backend != BERTH_VPS_DISK_PROJECT)
                return 0;
        /* Files rsync makes below upper/ and work/ inherit the project. */
        char p[PATH_MAX];
        for (int i = 0; i < 2; i++) {
                snprintf(p, sizeof(p), "%s/%s", rc->staging, i ? "work" : "upper");
                if (mkdir(p, 0755) < 0)
                        return berth_err_sys(err, errno, "mkdir %s", p);
        }
        return vps_quota_setup(rc->staging, rc->cfg.disk.project_id, rc->cfg.limits.disk,
                               rc->cfg.limits.inodes, err);
}

/* A live restore recreates the dumped user namespace: the files and the
 * range must stay where they were. */
static int check_live_range(const struct recv *rc, struct berth_err *err)
{
        if (!rc->live || !rc->cfg.userns.enabled || rc->cfg.userns.host_id == rc->src_host_id)
                return 0;
        return berth_err_set(err, EADDRINUSE,
                             "a live migration keeps the VPS's id range (host id %u), which is taken here "
                             "(free would be %u): migrate it offline",
                             rc->src_host_id, rc->cfg.userns.host_id);
}

static int preflight(struct recv *rc, json_t *msg, struct berth_err *err)
{
        const char *sum = NULL;
        uint64_t need = 0;
        int r = parse_preflight(rc, msg, &sum, &need, err);
        if (r >= 0)
                r = recv_check_name(rc->v, rc->name, NULL, err);
        if (r >= 0)
                r = recv_check_template(rc->v, &rc->cfg, sum, err);
        if (r >= 0)
                r = recv_check_addrs(rc->v, &rc->cfg, err);
        if (r >= 0)
                r = recv_check_disk(rc->v, &rc->cfg, need, err);
        if (r >= 0)
                r = recv_check_kernel(rc->v, &rc->cfg, err);
        if (r >= 0 && rc->cfg.userns.enabled) {
                _cleanup_close_ int idlock = vps_idrange_lock(err);
                struct berth_vps_config probe = rc->cfg;
                r = idlock < 0 ? idlock : recv_pick_range(rc->v, &probe, err);
                if (r >= 0)
                        rc->cfg.userns = probe.userns;
        }
        if (r >= 0)
                r = check_live_range(rc, err);
        if (r >= 0 && rc->live && (r = vps_live_check(err)) < 0)
                berth_err_wrap(err, "live migration");
        if (r >= 0)
                r = make_staging(rc, err);
        return r < 0 ? berth_err_wrap(err, "preflight") : 0;
}

/* ---- commit ---- */

/* Under the data directory's lock (creates wait, as they do for each
 * other) and the id registry's. */
static int publish_locked(struct recv *rc, bool *registered, bool *marked, struct berth_err *err)
{
        _cleanup_close_ int idlock = rc->cfg.userns.enabled ? vps_idrange_lock(err) : -EBADF;
        if (rc->cfg.userns.enabled && idlock < 0)
                return idlock;
        int r = recv_check_name(rc->v, rc->name, rc->entry, err);
        if (r >= 0)
                r = recv_check_addrs(rc->v, &rc->cfg, err);
        if (r >= 0)
                r = recv_pick_range(rc->v, &rc->cfg, err);
        if (r >= 0)
                r = check_live_range(rc, err);
        if (r >= 0)
                r = recv_host_if(rc->v, &rc->cfg, err);
        if (r >= 0 && rc->cfg.userns.enabled)
                r = vps_tree_shift(rc->staging, rc->src_host_id, rc->cfg.userns.host_id, rc->cfg.userns.size,
                                   err);
        if (r >= 0)
                r = vps_config_save_in(rc->v, &rc->cfg, rc->staging, err);
        if (r >= 0 && rc->cfg.userns.enabled && (r = vps_idrange_register(rc->v, &rc->cfg, err)) >= 0)
                *registered = true;
        if (r >= 0 && (r = vps_template_mark(rc->v, rc->cfg.template_name, rc->name, true, err)) >= 0)
                *marked = true;
        if (r >= 0 && fsync(rc->staging_lock) < 0)
                r = vps_err_write(err, errno, rc->v->data_dir, "fsync %s", rc->staging);
        if (r >= 0 && renameat2(rc->parent, rc->entry, rc->parent, rc->name, RENAME_NOREPLACE) < 0)
                r = berth_err_sys(err, errno, "rename %s to %s", rc->entry, rc->name);
        return r;
}

static int publish(struct recv *rc, struct berth_err *err)
{
        if (flock(rc->parent, LOCK_EX) < 0)
                return berth_err_sys(err, errno, "lock %s/vps", rc->v->data_dir);
        bool registered = false, marked = false;
        int r = publish_locked(rc, &registered, &marked, err);
        if (r >= 0) {
                rc->published = true;
                fsync(rc->parent);
        }
        struct berth_err e = {0};
        if (r < 0 && marked)
                vps_template_mark(rc->v, rc->cfg.template_name, rc->name, false, &e);
        if (r < 0 && registered) /* takes the registry's lock: ours is gone */
                vps_idrange_release(rc->v, &rc->cfg, &e);
        flock(rc->parent, LOCK_UN);
        return r;
}

static int commit(struct recv *rc, json_t *msg, struct berth_err *err)
{
        const char *op = json_string_value(json_object_get(msg, "op"));
        if (!op || strcmp(op, "commit"))
                return berth_err_set(err, EPROTO, "expected a commit, got \"%s\"", op ? op : "?");
        int r = publish(rc, err);
        /* The VPS's own lock from here on: start takes it. */
        close(rc->staging_lock);
        rc->staging_lock = -EBADF;
        bool start = json_is_true(json_object_get(msg, "start"));
        if (r >= 0 && start && rc->live) {
                r = vps_live_restore(rc->v, rc->name, err);
                vps_live_images_remove(rc->v, rc->name); /* its memory: not kept on disk */
        } else if (r >= 0 && start) {
                r = berth_vps_start(rc->v, rc->name, err);
        }
        if (r < 0 && rc->published) {
                struct berth_err e = {0};
                if (berth_vps_destroy(rc->v, rc->name, true, &e) < 0)
                        vps_warn(rc->v, "VPS %s: could not remove the failed copy: %s", rc->name, e.msg);
                rc->published = false;
        }
        return r < 0 ? berth_err_wrap(err, "commit") : 0;
}

/* Not published: the staging directory goes. rsync's server may still be
 * writing into it for a moment after the source died: try again. */
static void drop_staging(struct recv *rc)
{
        if (rc->published || !rc->entry[0] || rc->parent < 0)
                return;
        struct berth_err e = {0};
        for (int i = 0; i < 20; i++) {
                berth_err_clear(&e);
                if (berth_rmtree_at(rc->parent, rc->entry, &e) >= 0 || e.code == ENOENT)
                        return;
                usleep(100 * 1000);
        }
        vps_warn(rc->v, "VPS %s: could not remove %s (`berth vps repair` does): %s", rc->name, rc->staging,
                 e.msg);
}

static int session(struct recv *rc, struct berth_err *err)
{
        _cleanup_json_ json_t *pre = vps_line_recv(rc->in, err);
        if (!pre)
                return -err->code;
        if (preflight(rc, pre, err) < 0) {
                reply_error(rc, err);
                return 1;
        }
        json_t *ok = json_pack("{s:b, s:s, s:I}", "ok", 1, "staging", rc->staging, "host_id",
                               (json_int_t)(rc->cfg.userns.enabled ? rc->cfg.userns.host_id : 0));
        int r = vps_line_send(rc->out, ok, err);
        json_decref(ok);
        if (r < 0)
                return r;
        _cleanup_json_ json_t *cm = vps_line_recv(rc->in, err);
        if (!cm)
                return 1; /* the source gave up (or died): drop_staging */
        if (commit(rc, cm, err) < 0) {
                reply_error(rc, err);
                return 1;
        }
        ok = json_pack("{s:b, s:b, s:I}", "ok", 1, "running", json_is_true(json_object_get(cm, "start")),
                       "host_id", (json_int_t)(rc->cfg.userns.enabled ? rc->cfg.userns.host_id : 0));
        vps_line_send(rc->out, ok, err);
        json_decref(ok);
        /* "done", or the end of the input: the VPS is ours either way (the
         * source wrote its hand-over before it asked us to commit). */
        json_t *done = vps_line_recv(rc->in, err);
        json_decref(done);
        berth_err_clear(err);
        return 0;
}

int berth_vps_receive(const struct berth_vps_ctx *v, const char *name, int in_fd, int out_fd,
                      struct berth_err *err)
{
        if (!berth_vps_name_valid(name))
                return berth_err_set(err, EINVAL, "invalid VPS name \"%s\"", name ? name : "");
        struct recv rc = {
            .v = v, .name = name, .in = in_fd, .out = out_fd, .parent = -EBADF, .staging_lock = -EBADF};
        int r = session(&rc, err);
        drop_staging(&rc);
        if (rc.staging_lock >= 0)
                close(rc.staging_lock);
        if (rc.parent >= 0)
                close(rc.parent);
        berth_vps_config_clear(&rc.cfg);
        return r < 0 ? berth_err_wrap(err, "receive VPS %s", name) : r;
}
