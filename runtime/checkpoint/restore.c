/* SPDX-License-Identifier: GPL-2.0-or-later */
/* restore: brings a checkpointed container back from its criu images.
 *
 * The state directory and the cgroup are made the way `create` makes them
 * (same code), then criu runs inside that cgroup (with --systemd-cgroup:
 * in the container's new scope, place_in_unit) and forks the restored
 * tree from there (--restore-sibling makes the restored init our child,
 * like an init `run` clones). The state file then records the new init. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/rootfs.h"
#include "berth/unix_socket.h"
#include "runtime/checkpoint/internal.h"
#include "runtime/verbs/create_job.h"
#include "runtime/verbs/destroy.h"
#include "runtime/verbs/wait.h"

struct restore_job {
        struct create_job j;
        char criu[PATH_MAX];
        char root_mnt[PATH_MAX];
        const char *work;
        int keep[8];
        size_t n_keep;
        int master; /* the new terminal's master, for --console-socket */
};

static void restore_job_init(struct restore_job *r, const struct berth_ctx *ctx,
                             const struct berth_restore_opts *o)
{
        memset(r, 0, sizeof(*r));
        struct create_job *j = &r->j;
        j->setup.ctx = ctx;
        j->setup.id = o->c.id;
        j->setup.sync_fd = j->setup.fifo_fd = j->setup.console_sock = j->setup.self_fd_dir = -EBADF;
        for (int t = 0; t < BERTH_NS_COUNT; t++)
                j->setup.ns_fds[t] = -EBADF;
        j->root_fd = j->state_fd = j->sync_parent = j->pidfd = -EBADF;
        j->run_mode = true; /* no exec fifo: the restored init is already running */
        stdio_guard_clear(&j->guard);
        r->work = o->c.work_path ? o->c.work_path : o->c.image_path;
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(r->keep); i++)
                r->keep[i] = -1;
        r->master = -EBADF;
}

static void restore_job_release(struct restore_job *r)
{
        for (size_t i = 0; i < r->n_keep; i++)
                close(r->keep[i]);
        berth_closep(&r->master);
        if (r->root_mnt[0])
                rmdir(r->root_mnt);
        job_release(&r->j);
}

/* Mount points the restored mounts need in the rootfs (criu does not
 * create them), except below tmpfs mounts whose content criu restores. */
static bool below_tmpfs(const struct berth_spec *s, const char *dest)
{
        for (size_t i = 0; i < s->n_mounts; i++) {
                const struct berth_mount *m = &s->mounts[i];
                size_t n = strlen(m->destination);
                if (m->type && !strcmp(m->type, "tmpfs") && !strncmp(dest, m->destination, n) &&
                    dest[n] == '/')
                        return true;
        }
        return false;
}

static int make_mountpoints(struct restore_job *r, struct berth_err *err)
{
        const struct berth_spec *s = r->j.spec;
        _cleanup_close_ int rootfd = open(r->j.setup.rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return berth_err_sys(err, errno, "open rootfs %s", r->j.setup.rootfs);
        for (size_t i = 0; i < s->n_mounts; i++) {
                const struct berth_mount *m = &s->mounts[i];
                if ((m->type && !strncmp(m->type, "cgroup", 6)) || below_tmpfs(s, m->destination))
                        continue;
                bool dir = true;
                if (berth_mount_is_bind(m)) {
                        char src[PATH_MAX * 2];
                        struct stat st;
                        snprintf(src, sizeof(src), "%s%s%s", m->source[0] == '/' ? "" : r->j.setup.bundle,
                                 m->source[0] == '/' ? "" : "/", m->source);
                        dir = stat(src, &st) < 0 || S_ISDIR(st.st_mode);
                }
                int fd = berth_in_root_mount_target(rootfd, m->destination, dir);
                if (fd < 0)
                        return berth_err_sys(err, -fd, "mount point %s", m->destination);
                close(fd);
        }
        return 0;
}

/* The host id of the container's root in a mapping list, or 0. */
static uint32_t host_root(const struct berth_id_mapping *m, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (m[i].container_id == 0)
                        return m[i].host_id;
        return 0;
}

/* A new terminal for a restored one: the slave goes to criu for the old
 * terminal's fds (--inherit-fd) and is bound on /dev/console; the master
 * goes to --console-socket once the tree runs. The slave belongs to the
 * container's root, who may open /dev/console again. */
static int new_terminal(struct restore_job *r, struct criu_argv *a, const char *key, struct berth_err *err)
{
        if (r->master >= 0)
                return 0; /* fds 0-2 share one terminal: one slave for them all */
        r->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        char slave[64];
        if (r->master < 0 || unlockpt(r->master) < 0 || ptsname_r(r->master, slave, sizeof(slave)) != 0)
                return berth_err_sys(err, errno, "restore: open a new terminal");
        const struct berth_spec *s = r->j.spec;
        if (chown(slave, host_root(s->uid_mappings, s->n_uid_mappings),
                  host_root(s->gid_mappings, s->n_gid_mappings)) < 0)
                return berth_err_sys(err, errno, "restore: chown %s", slave);
        int fd = open(slave, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return berth_err_sys(err, errno, "restore: open %s", slave);
        r->keep[r->n_keep++] = fd;
        criu_argv_add(a, "--inherit-fd");
        criu_argv_addf(a, "fd[%d]:%s", fd, key);
        criu_argv_add(a, "--external");
        criu_argv_addf(a, "mnt[%s]:%s", CRIU_CONSOLE_KEY, slave);
        return 0;
}

/* The old pipes on fds 0-2 are replaced with ours, the old terminal with
 * a new one (criu --inherit-fd). */
static int add_inherited_stdio(struct restore_job *r, struct criu_argv *a, const char *image,
                               struct berth_err *err)
{
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/%s", image, CRIU_DESCRIPTORS);
        json_error_t jerr;
        _cleanup_json_ json_t *fds = json_load_file(path, 0, &jerr);
        if (!json_is_array(fds))
                return berth_err_set(err, EINVAL, "%s: %s", path, jerr.text);
        for (size_t i = 0; i < json_array_size(fds) && i < 3; i++) {
                const char *d = json_string_value(json_array_get(fds, i));
                if (d && !strncmp(d, "tty[", 4) && r->j.spec->process.terminal) {
                        int ret = new_terminal(r, a, d, err);
                        if (ret < 0)
                                return ret;
                } else if (d && strstr(d, "pipe:")) {
                        criu_argv_add(a, "--inherit-fd");
                        criu_argv_addf(a, "fd[%zu]:%s", i, d);
                }
        }
        if (r->j.spec->process.terminal && r->master < 0)
                return berth_err_set(err, EINVAL, "%s: the checkpoint has no terminal to restore", path);
        return 0;
}

/* Namespaces joined by path: net/pid were dumped as external and are
 * handed over as fds; the others criu joins itself (--join-ns). */
static int add_namespaces(struct restore_job *r, struct criu_argv *a, struct berth_err *err)
{
        static const char *const names[BERTH_NS_COUNT] = {
            [BERTH_NS_PID] = "pid",       [BERTH_NS_NET] = "net",   [BERTH_NS_MOUNT] = "mnt",
            [BERTH_NS_IPC] = "ipc",       [BERTH_NS_UTS] = "uts",   [BERTH_NS_USER] = "user",
            [BERTH_NS_CGROUP] = "cgroup", [BERTH_NS_TIME] = "time",
        };
        for (int t = 0; t < BERTH_NS_COUNT; t++) {
                const char *path = r->j.spec->namespaces[t].path;
                if (!path)
                        continue;
                if (t == BERTH_NS_CGROUP)
                        return berth_err_set(err, ENOTSUP,
                                             "a cgroup namespace joined by path cannot be restored");
                if (t != BERTH_NS_NET && t != BERTH_NS_PID) {
                        criu_argv_add(a, "--join-ns");
                        criu_argv_addf(a, "%s:%s", names[t], path);
                        continue;
                }
                int fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        return berth_err_sys(err, errno, "%s namespace %s", names[t], path);
                r->keep[r->n_keep++] = fd;
                criu_argv_add(a, "--inherit-fd");
                criu_argv_addf(a, "fd[%d]:extRoot%sNS", fd, t == BERTH_NS_NET ? "Net" : "Pid");
        }
        return 0;
}

static int restore_args(struct restore_job *r, struct criu_argv *a, const struct berth_restore_opts *o,
                        struct berth_err *err)
{
        criu_argv_add(a, r->criu);
        criu_argv_add(a, "restore");
        criu_add_common(a, &o->c, r->work, "restore.log");
        criu_argv_addf(a, "--root=%s", r->root_mnt);
        criu_argv_add(a, "--restore-detached");
        criu_argv_add(a, "--restore-sibling");
        criu_argv_add(a, "--evasive-devices");
        criu_argv_addf(a, "--pidfile=%s/restore.pid", r->work);
        criu_argv_addf(a, "--manage-cgroups=%s",
                       o->c.manage_cgroups_mode ? o->c.manage_cgroups_mode : "ignore");
        const char *cg = r->j.cgroup ? berth_cgroup_dir(r->j.cgroup) : NULL;
        int ret = criu_add_externals(a, r->j.spec, r->j.setup.bundle, 0, cg, true, err);
        if (ret >= 0)
                ret = add_namespaces(r, a, err);
        return ret < 0 ? ret : add_inherited_stdio(r, a, o->c.image_path, err);
}

static int read_restored_pid(struct restore_job *r, struct berth_err *err)
{
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/restore.pid", r->work);
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        int pid = 0;
        if (!f || fscanf(f, "%d", &pid) != 1 || pid <= 0)
                return berth_err_set(err, EIO, "criu left no pid in %s", path);
        unlink(path);
        r->j.pid = pid;
        r->j.pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        return r->j.pidfd >= 0 ? 0 : berth_err_sys(err, errno, "pidfd_open of the restored init %d", pid);
}

/* Where criu gets the rootfs as a mount point: <state>/<id>/criu-root. */
static int make_root_mnt(struct restore_job *r, struct berth_err *err)
{
        char root[PATH_MAX];
        if (!realpath(r->j.setup.ctx->state_root, root))
                return berth_err_sys(err, errno, "state root %s", r->j.setup.ctx->state_root);
        if (mkdirat(r->j.state_fd, "criu-root", 0700) < 0)
                return berth_err_sys(err, errno, "create criu-root in the state directory");
        snprintf(r->root_mnt, sizeof(r->root_mnt), "%s/%s/criu-root", root, r->j.setup.id);
        return 0;
}

/* --systemd-cgroup: criu forks the restored tree from itself, so the tree
 * lands in criu's cgroup; a scope cannot exist before some process is in
 * it. So the scope is started with the criu process as its pid (as runc
 * applies its cgroup manager, systemd's too, to criu's pid before the
 * restore): systemd moves criu into the new scope with the container's
 * limits before criu runs, the restored tree is born there, and when
 * criu exits the scope holds exactly the container. The alternative,
 * criu's --cgroup-root with a cgroup-managing mode, would make criu write
 * cgroups systemd owns; a helper process of our own would be one more
 * thing to kill and reap. */
static int place_in_unit(void *arg, pid_t criu_pid, struct berth_err *err)
{
        struct create_job *j = arg;
        j->pid = criu_pid;
        int r = job_start_unit(j, err);
        /* criu is not the container's init: abort must not kill it by
         * this pid (criu_run reaps it). */
        j->pid = 0;
        return r;
}

static int restore_spawn(struct restore_job *r, const struct berth_restore_opts *o, struct berth_err *err)
{
        struct criu_argv a = {0};
        int ret = make_root_mnt(r, err);
        if (ret >= 0)
                ret = make_mountpoints(r, err);
        if (ret >= 0)
                ret = restore_args(r, &a, o, err);
        struct criu_run run = {.root_bind = r->j.setup.rootfs, .root_mnt = r->root_mnt, .cg = r->j.cgroup};
        memcpy(run.keep_fds, r->keep, sizeof(run.keep_fds));
        if (r->j.systemd) {
                run.place = place_in_unit;
                run.place_arg = &r->j;
        }
        if (ret >= 0)
                ret = criu_run(r->criu, &a, &run, r->work, "restore.log", "restore", err);
        criu_argv_free(&a);
        if (ret >= 0)
                ret = read_restored_pid(r, err);
        if (ret >= 0 && r->master >= 0)
                ret = berth_send_fd(r->j.setup.console_sock, r->master, "console", err);
        if (ret < 0)
                return ret;
        struct create_job *j = &r->j;
        j->st.pid = j->pid;
        j->st.pid_start_time = berth_proc_start_time(j->pid);
        if (j->cgroup)
                j->st.cgroup = berth_cgroup_dump(j->cgroup);
        ret = berth_state_write(j->state_fd, &j->st, err);
        return ret < 0 ? ret : write_pid_file(o->pid_file, j->pid, err);
}

static int restore_checks(const struct berth_restore_opts *o, struct restore_job *r, struct berth_err *err)
{
        if (!o->c.image_path)
                return berth_err_set(err, EINVAL, "restore: an image path is required");
        if (!berth_id_valid(o->c.id))
                return berth_err_set(err, EINVAL, "invalid container id \"%s\"", o->c.id);
        return criu_prepare(o->c.criu, r->criu, sizeof(r->criu), "restore", err);
}

int berth_container_restore(const struct berth_ctx *ctx, const struct berth_restore_opts *o, int *exit_code,
                            struct berth_err *err)
{
        struct restore_job r;
        restore_job_init(&r, ctx, o);
        int ret = restore_checks(o, &r, err);
        if (ret < 0) {
                restore_job_release(&r);
                return ret;
        }
        /* Not "detached" for the bundle checks: a terminal without a
         * console socket is refused below with a clearer message. */
        struct berth_create_opts co = {
            .id = o->c.id, .bundle = o->bundle, .pid_file = o->pid_file, .console_socket = o->console_socket};
        if (!o->detach)
                prctl(PR_SET_CHILD_SUBREAPER, 1);
        ret = job_load_bundle(&r.j, &co, err);
        if (ret >= 0 && r.j.spec->process.terminal && !o->console_socket)
                ret = berth_err_set(err, ENOTSUP,
                                    "a container with a terminal is restored with --console-socket only");
        if (ret >= 0)
                ret = job_prepare(&r.j, &co, err);
        if (ret >= 0)
                ret = job_record(&r.j, err);
        if (ret >= 0)
                ret = restore_spawn(&r, o, err);
        if (ret < 0) {
                if (r.root_mnt[0] && rmdir(r.root_mnt) == 0)
                        r.root_mnt[0] = '\0';
                job_abort(&r.j);
                restore_job_release(&r);
                return berth_err_wrap(err, "restore container '%s'", o->c.id);
        }
        if (!o->detach) {
                ret = container_wait_forwarding(r.j.pid, r.j.pidfd, NULL, exit_code, err);
                struct berth_err del = {0};
                int dr = container_destroy(ctx, r.j.root_fd, o->c.id, r.j.cgroup, r.j.spec, &r.j.st, &del);
                if (dr < 0 && ret >= 0) {
                        *err = del;
                        ret = -del.code;
                } else if (dr < 0) { /* the wait's error is reported; this one must not vanish */
                        berth_warn(ctx, "container '%s': could not delete it after the run: %s", o->c.id,
                                   del.msg);
                }
        }
        restore_job_release(&r);
        return ret;
}
