/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Everything `create` sets up on the host before it clones the init. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/file.h"
#include "runtime/verbs/create_job.h"
#include "runtime/seccomp/cache.h"

/* A new file in the state directory, written in place: neither needs to
 * be atomic, because what comes after it tells a complete one from a
 * partial one (see the callers). */
static int write_new_file(int dir_fd, const char *name, const char *text, size_t len, struct berth_err *err)
{
        _cleanup_close_ int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
                return berth_err_sys(err, errno, "write %s in the state directory", name);
        int r = berth_write_all(fd, text, len);
        return r < 0 ? berth_err_sys(err, -r, "write %s in the state directory", name) : 0;
}

/* exec, delete (poststop hooks) and update need the config later, even if
 * the bundle is gone by then. state.json is written after it: a crash
 * while it is written leaves a directory without state.json, which the
 * next command repairs. */
static int write_config_copy(const struct create_job *j, struct berth_err *err)
{
        return write_new_file(j->state_fd, "config.json", j->config_text, j->config_len, err);
}

/* Which cgroup manager and paths, and why. */
static void trace_cgroup(const struct create_job *j)
{
        const struct berth_ctx *ctx = j->setup.ctx;
        enum berth_cgroup_layout l = berth_cgroup_layout(j->cgroup);
        const char *why = l == BERTH_CG_UNIFIED ? "cgroup2 only: one directory, clone3 CLONE_INTO_CGROUP"
                          : l == BERTH_CG_HYBRID
                              ? "v1 controllers + cgroup2: every v1 hierarchy, the init joins "
                                "them itself after the clone"
                              : "v1 only: every v1 hierarchy, the init joins them itself";
        berth_trace(ctx, "cgroup: host layout %s (%s); path %s (%s)", berth_cgroup_layout_name(l), why,
                    berth_cgroup_path(j->cgroup),
                    j->systemd ? "systemd unit"
                    : j->spec->cgroups_path
                        ? (j->spec->cgroups_path[0] == '/' ? "cgroupsPath, absolute"
                                                           : "cgroupsPath, below our own cgroup")
                        : "default, below our own cgroup");
        if (j->systemd) {
                berth_trace(ctx, "cgroup: made by systemd after the clone (a scope needs the init's pid)");
                return;
        }
        berth_trace(ctx, "cgroup: made for the clone (%s)",
                    berth_cgroup_clone_fd(j->cgroup) >= 0 ? "clone3 lands in it: CLONE_INTO_CGROUP"
                                                          : "the init is attached after the clone");
}

/* A pre-existing cgroup someone froze would freeze the init in the middle
 * of its setup, and us with it, waiting for it: refuse, in runc's words. */
int job_check_not_frozen(struct create_job *j, struct berth_err *err)
{
        bool frozen = false;
        int r = berth_cgroup_is_frozen(j->cgroup, &frozen, err);
        if (r < 0)
                return r;
        return frozen ? berth_err_set(err, EBUSY, "container's cgroup unexpectedly frozen") : 0;
}

/* A cgroup that already holds processes (another container's, shared
 * through cgroupsPath) works, but kill --all, pause and delete will hit
 * them too: warn, in runc's words. Called before the init is in it. */
void job_warn_not_empty(struct create_job *j)
{
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        struct berth_err ignore = {0};
        if (berth_cgroup_pids(j->cgroup, &pids, &n, &ignore) == 0 && n > 0)
                berth_warn(j->setup.ctx, "container's cgroup is not empty: %zu process(es) found", n);
}

/* --systemd-cgroup: cgroupsPath is "slice:prefix:name"; the cgroup is
 * the unit's, made by systemd after the clone (job_start_unit). */
static int plan_unit(struct create_job *j, const struct berth_ctx *ctx, struct berth_err *err)
{
        if (!ctx->systemd)
                return berth_err_set(err, ENOTSUP,
                                     "--systemd-cgroup: this binary has no systemd driver (use berth-full)");
        int r = berth_systemd_unit_parse(j->spec->cgroups_path, j->setup.id, &j->unit, err);
        if (r < 0)
                return r;
        j->systemd = true;
        j->st.systemd_cgroup = true;
        berth_trace(ctx, "cgroup: systemd unit %s%s%s, cgroup %s", j->unit.name,
                    j->unit.is_slice ? "" : " in ", j->unit.slice, j->unit.path);
        return 0;
}

/* What the clone needs (the unified level), or, with systemd, nothing
 * yet. */
static int create_for_clone(struct create_job *j, struct berth_err *err)
{
        if (j->systemd)
                return 0;
        int r = berth_cgroup_create_for_clone(j->cgroup, err);
        /* On cgroup v2 the init is cloned into it: check now. The v1
         * hierarchies are checked once made (finish_cgroup). */
        if (r >= 0 && berth_cgroup_layout(j->cgroup) == BERTH_CG_UNIFIED)
                r = job_check_not_frozen(j, err);
        /* The unified level is where the processes are, hybrid hosts
         * included; a legacy host's v1 levels are checked once made. */
        if (r >= 0 && berth_cgroup_layout(j->cgroup) != BERTH_CG_LEGACY)
                job_warn_not_empty(j);
        return r;
}

static int setup_cgroup(struct create_job *j, const struct berth_ctx *ctx, struct berth_err *err)
{
        if (ctx->cgroup_disabled) {
                berth_trace(ctx, "cgroup: none (--cgroup-manager disabled)");
                return 0;
        }
        int r = ctx->systemd_cgroup ? plan_unit(j, ctx, err) : 0;
        if (r < 0)
                return r;
        struct berth_cgroup_opts co = {
            .id = j->setup.id,
            .path = j->systemd ? j->unit.path : j->spec->cgroups_path,
            .resources = j->spec->has_resources ? &j->spec->resources : NULL,
            .default_devices = true,
            /* Like runc: every v1 controller hierarchy and the named
             * name=systemd one, so that `update` can set any limit later, clients that
             * read the init's cgroups from /proc/<pid>/cgroup (containerd's
             * metrics) find them all, and the container's cgroupfs shows
             * only its own part of each. The init attaches itself, which
             * keeps this cheap. */
            .join_all_v1 = true,
        };
        j->cgroup = berth_cgroup_new(&co, err);
        if (!j->cgroup)
                return -err->code;
        /* Recorded before any directory exists: whatever happens to this
         * process or to state.json, delete --force finds the cgroup. A
         * record cut short by a crash means no cgroup was made yet. */
        _cleanup_free_ char *dump = berth_cgroup_dump_before_create(j->cgroup);
        r = dump ? write_new_file(j->state_fd, BERTH_STATE_CGROUP_FILE, dump, strlen(dump), err)
                 : berth_err_set(err, ENOMEM, "cgroup record");
        if (r < 0) {
                berth_cgroup_free(j->cgroup);
                j->cgroup = NULL;
                return r;
        }
        /* Only what the clone needs: the v1 hierarchies are made after it,
         * while the init creates its namespaces (job_spawn). */
        r = create_for_clone(j, err);
        if (r < 0) {
                berth_cgroup_free(j->cgroup);
                j->cgroup = NULL;
                return r;
        }
        trace_cgroup(j);
        return 0;
}

/* The seccomp program, from the cache under the state root when this
 * profile was compiled before (~16 ms saved for the default profile): the
 * init only loads it. A NOTIFY profile stays with the init, which must
 * hand the listener fd on. */
static int compile_seccomp(struct create_job *j, struct berth_err *err)
{
        const struct berth_seccomp *s = &j->spec->seccomp;
        if (!j->spec->has_seccomp) {
                berth_trace(j->setup.ctx, "seccomp: none in the spec");
                return 0;
        }
        if (berth_seccomp_has_notify(s)) {
                berth_trace(j->setup.ctx,
                            "seccomp: NOTIFY profile, compiled by the init (it hands on the listener)");
                return 0;
        }
        bool hit = false;
        j->seccomp_filter = seccomp_cached_compile(j->root_fd, s, &hit, err);
        if (!j->seccomp_filter)
                return -err->code;
        berth_trace(j->setup.ctx, "seccomp: %s", hit ? "program from the cache" : "compiled (and cached)");
        j->setup.seccomp_filter = j->seccomp_filter;
        return 0;
}

static int setup_fifo(struct create_job *j, struct berth_err *err)
{
        if (j->run_mode)
                return 0;
        /* 0622: the init may already run as the process's (non-root) user
         * when it opens the fifo; the state dir (0711) keeps others out. */
        if (mkfifoat(j->state_fd, "exec.fifo", 0622) < 0 || fchmodat(j->state_fd, "exec.fifo", 0622, 0) < 0)
                return berth_err_sys(err, errno, "create exec fifo");
        j->setup.fifo_fd = openat(j->state_fd, "exec.fifo", O_PATH | O_CLOEXEC);
        return j->setup.fifo_fd >= 0 ? 0 : berth_err_sys(err, errno, "open exec fifo");
}

/* The pty master goes to the client's --console-socket or, for a
 * foreground run without one, to our own proxy, which relays it to our
 * stdio (as runc does). */
static int connect_console(struct create_job *j, const struct berth_create_opts *o, struct berth_err *err)
{
        const char *path = o->console_socket;
        if (!path && j->spec->process.terminal && j->run_mode && !o->detach) {
                j->proxy = berth_tty_proxy_new(&j->setup.console_sock, err);
                j->setup.console_relayed = true;
                berth_tty_proxy_initial_size(&j->spec->process);
                return j->proxy ? 0 : -err->code;
        }
        if (!path)
                return 0;
        j->setup.console_sock = berth_connect_unix(path, err);
        return j->setup.console_sock < 0 ? j->setup.console_sock : 0;
}

/* The creator's user name for `list`. Read from /etc/passwd directly: a
 * getpwuid() goes through NSS (nscd sockets, nsswitch.conf) on every
 * container start for a cosmetic field. */
static char *owner_name(uid_t uid)
{
        _cleanup_fclose_ FILE *f = fopen("/etc/passwd", "re");
        struct passwd *pw;
        while (f && (pw = fgetpwent(f)))
                if (pw->pw_uid == uid)
                        return strdup(pw->pw_name);
        char num[16];
        snprintf(num, sizeof(num), "%u", (unsigned)uid);
        return strdup(num);
}

static void fill_state(struct create_job *j)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        char created[64];
        size_t n = strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(created + n, sizeof(created) - n, ".%09ldZ", ts.tv_nsec);
        j->st.id = strdup(j->setup.id);
        j->st.bundle = strdup(j->setup.bundle);
        j->st.rootfs = strdup(j->setup.rootfs);
        j->st.created = strdup(created);
        j->st.annotations = j->spec->annotations;
        j->st.n_annotations = j->spec->n_annotations;
}

int job_record(struct create_job *j, struct berth_err *err)
{
        j->st.owner = owner_name(geteuid());
        return write_config_copy(j, err);
}

static void trace_namespaces(const struct container_setup *s)
{
        if (!s->ctx->log.debug)
                return;
        char clone[64], early[64], later[64], joined[64];
        unsigned long join = 0;
        for (int t = 0; t < BERTH_NS_COUNT; t++)
                if (s->ns_fds[t] >= 0)
                        join |= container_ns_flag(t);
        berth_trace(s->ctx,
                    "namespaces: clone3 creates %s; the init creates %s at once, %s later; joins %s%s",
                    container_ns_names(s->clone_flags, clone, sizeof(clone)),
                    container_ns_names(s->early_unshare_flags, early, sizeof(early)),
                    container_ns_names(s->unshare_flags, later, sizeof(later)),
                    container_ns_names(join, joined, sizeof(joined)),
                    s->two_stage             ? " (two-stage: a user namespace with paths)"
                    : s->early_unshare_flags ? " (deferred: the cgroups are made meanwhile)"
                                             : "");
}

int job_prepare(struct create_job *j, const struct berth_create_opts *o, struct berth_err *err)
{
        const struct berth_ctx *ctx = j->setup.ctx;
        j->root_fd = berth_state_root_open(ctx->state_root, err);
        if (j->root_fd < 0)
                return j->root_fd;
        berth_trace(ctx, "state root %s", ctx->state_root);
        int r = compile_seccomp(j, err);
        if (r < 0)
                return r;
        /* Locked until state.json is written: until then a reader tells a
         * create in progress (locked) from one that died (not locked). */
        j->state_fd = berth_state_dir_create_locked(j->root_fd, j->setup.id, &j->lock_fd, err);
        if (j->state_fd < 0)
                return j->state_fd;
        berth_trace(ctx, "state dir %s/%s created", ctx->state_root, j->setup.id);
        fill_state(j);
        r = setup_cgroup(j, ctx, err);
        if (r >= 0)
                r = container_plan_namespaces(&j->setup, err);
        /* The init makes its namespaces while we create the cgroups (v1,
         * or systemd's unit) after the clone. */
        if (r >= 0 && j->cgroup && (j->systemd || berth_cgroup_layout(j->cgroup) != BERTH_CG_UNIFIED))
                container_defer_namespaces(&j->setup);
        if (r >= 0)
                trace_namespaces(&j->setup);
        if (r >= 0)
                r = setup_fifo(j, err);
        if (r >= 0)
                r = connect_console(j, o, err);
        if (r >= 0)
                berth_trace(ctx, "start gate: %s; console: %s",
                            j->run_mode ? "sync socket (run)" : "exec.fifo",
                            o->console_socket ? o->console_socket
                            : j->proxy        ? "a pty relayed to our stdio"
                                              : "none (the caller's stdio)");
        return r;
}
