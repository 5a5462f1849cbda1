/* SPDX-License-Identifier: GPL-2.0-or-later */
/* checkpoint: dumps a running container with criu into an image
 * directory; without --leave-running (and unless it is a pre-dump) the
 * container is gone afterwards, as with runc. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "runtime/checkpoint/internal.h"
#include "runtime/container.h"
#include "runtime/verbs/destroy.h"

static void spec_freep(struct berth_spec **s)
{
        berth_spec_free(*s);
}

static int make_dir(const char *path, const char *what, struct berth_err *err)
{
        if (mkdir(path, 0700) < 0 && errno != EEXIST)
                return berth_err_sys(err, errno, "create %s %s", what, path);
        return 0;
}

/* The key criu knows a terminal by ("tty[rdev:dev]", hex, as crun and
 * runc write it), or "" when fd is not a pty slave. */
static void tty_key(pid_t pid, int fd, char *key, size_t len)
{
        char link[64];
        struct stat st;
        key[0] = '\0';
        snprintf(link, sizeof(link), "/proc/%d/fd/%d", (int)pid, fd);
        /* 136-143: the kernel's pty slave majors (devices.txt). */
        if (stat(link, &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) >= 136 &&
            major(st.st_rdev) <= 143)
                snprintf(key, len, "tty[%llx:%llx]", (unsigned long long)st.st_rdev,
                         (unsigned long long)st.st_dev);
}

/* The init's fds 0-2 as /proc shows them ("pipe:[123]", "/dev/null"), or
 * a terminal's criu key, so that restore can hand criu the new pipes or
 * the new terminal for the old ones. */
static int write_descriptors(const char *image, pid_t pid, struct berth_err *err)
{
        _cleanup_json_ json_t *a = json_array();
        for (int fd = 0; a && fd < 3; fd++) {
                char link[64], target[PATH_MAX];
                tty_key(pid, fd, target, sizeof(target));
                if (target[0]) {
                        json_array_append_new(a, json_string(target));
                        continue;
                }
                snprintf(link, sizeof(link), "/proc/%d/fd/%d", (int)pid, fd);
                ssize_t n = readlink(link, target, sizeof(target) - 1);
                target[n < 0 ? 0 : n] = '\0';
                json_array_append_new(a, json_string(n < 0 ? "/dev/null" : target));
        }
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/%s", image, CRIU_DESCRIPTORS);
        int r = a ? json_dump_file(a, path, JSON_COMPACT) : -1;
        return r < 0 ? berth_err_set(err, EIO, "write %s", path) : 0;
}

/* A terminal's other end (the master) lives outside the container, with
 * whoever took it from --console-socket: criu is told that the terminal
 * is external (restore hands it a new one), and so is /dev/console, a
 * bind of the old terminal's slave (restore binds the new slave there). */
static int add_terminal(struct criu_argv *a, pid_t pid, struct berth_err *err)
{
        char key[64];
        tty_key(pid, 0, key, sizeof(key));
        if (!key[0])
                return berth_err_set(err, ENOTSUP, "the container's terminal is not on its init's stdin");
        criu_argv_add(a, "--external");
        criu_argv_add(a, key);
        criu_argv_add(a, "--external");
        criu_argv_add(a, "mnt[/dev/console]:" CRIU_CONSOLE_KEY);
        return 0;
}

static int dump_args(struct criu_argv *a, const char *criu, const struct berth_checkpoint_opts *o,
                     const struct berth_container_info *info, const char *work)
{
        criu_argv_add(a, criu);
        criu_argv_add(a, o->pre_dump ? "pre-dump" : "dump");
        criu_argv_addf(a, "--tree=%d", (int)info->st.pid);
        criu_argv_addf(a, "--root=%s", info->st.rootfs);
        criu_add_common(a, o, work, o->pre_dump ? "pre-dump.log" : "dump.log");
        if (o->leave_running)
                criu_argv_add(a, "--leave-running");
        if (o->manage_cgroups_mode)
                criu_argv_addf(a, "--manage-cgroups=%s", o->manage_cgroups_mode);
        if (o->parent_path)
                criu_argv_addf(a, "--prev-images-dir=%s", o->parent_path);
        if (o->parent_path || o->pre_dump)
                criu_argv_add(a, "--track-mem");
        return 0;
}

static int checkpoint_loaded(const struct berth_ctx *ctx, int root_fd, int state_fd,
                             const struct berth_checkpoint_opts *o, const char *criu,
                             const struct berth_container_info *info, struct berth_err *err)
{
        if (info->status != BERTH_STATUS_RUNNING)
                return berth_err_set(err, EINVAL, "container %s is not running: %s", o->id,
                                     berth_status_name(info->status));
        _cleanup_(spec_freep) struct berth_spec *spec = berth_spec_load(state_fd, err);
        if (!spec)
                return berth_err_wrap(err, "container %s", o->id);
        const char *work = o->work_path ? o->work_path : o->image_path;
        int r = make_dir(o->image_path, "image directory", err);
        if (r >= 0)
                r = make_dir(work, "work directory", err);
        if (r < 0)
                return r;
        struct criu_argv a = {0};
        dump_args(&a, criu, o, info, work);
        if (!o->pre_dump) {
                r = criu_add_externals(&a, spec, info->st.bundle, info->st.pid, NULL, false, err);
                if (r >= 0 && spec->process.terminal)
                        r = add_terminal(&a, info->st.pid, err);
                if (r >= 0)
                        r = write_descriptors(o->image_path, info->st.pid, err);
        }
        const struct criu_run run = {.keep_fds = {-1}};
        if (r >= 0)
                r = criu_run(criu, &a, &run, work, o->pre_dump ? "pre-dump.log" : "dump.log",
                             o->pre_dump ? "pre-dump" : "dump", err);
        criu_argv_free(&a);
        if (r < 0 || o->leave_running || o->pre_dump || o->keep_stopped)
                return r;
        /* criu killed the processes; the container is gone like runc's. */
        struct berth_cgroup *cg = NULL;
        if (info->st.cgroup && !(cg = berth_cgroup_restore(info->st.cgroup, err)))
                return berth_err_wrap(err, "remove the checkpointed container");
        r = container_destroy(ctx, root_fd, o->id, cg, spec, &info->st, err);
        berth_cgroup_free(cg);
        return r;
}

int berth_container_checkpoint(const struct berth_ctx *ctx, const struct berth_checkpoint_opts *o,
                               struct berth_err *err)
{
        char criu[PATH_MAX];
        if (!o->image_path)
                return berth_err_set(err, EINVAL, "checkpoint: an image path is required");
        int r = criu_prepare(o->criu, criu, sizeof(criu), "checkpoint", err);
        if (r < 0)
                return r;
        struct container_locked c;
        r = container_open_locked(ctx, o->id, &c, err);
        if (r >= 0) {
                r = checkpoint_loaded(ctx, c.root_fd, c.state_fd, o, criu, &c.info, err);
                container_close_locked(&c);
        }
        return r < 0 ? berth_err_wrap(err, "checkpoint container '%s'", o->id) : 0;
}
