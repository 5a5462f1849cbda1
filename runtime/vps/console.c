/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The console of a VPS, and the process that keeps it.
 *
 * The guest's /dev/console and its init's stdio are a pseudo-terminal.
 * Why: systemd, as pid 1, writes its boot and shutdown messages only to
 * /dev/console, and only when that is a terminal. A terminal must be
 * drained by someone or the guest blocks once its buffer fills: that is
 * the keeper, one small process per running VPS (as conmon is per
 * container; there is still no daemon). It appends everything to
 * console.log and relays the terminal to one `vps console --attach`
 * client at a time (console.sock); its loop is keeper.c.
 *
 * The keeper is also the parent of the guest's init (a child subreaper),
 * so the init is reaped when it ends instead of becoming a zombie of
 * whatever pid 1 the host has, and the keeper learns how it ended: a guest
 * that powers off or reboots by itself ends its init by SIGINT or SIGHUP
 * (reboot(2) in a pid namespace). The keeper then cleans the host side up
 * as `vps stop` would, and starts the VPS again after a reboot
 * (guest_exit.c), then ends.
 *
 *   vps start (P) --fork--> keeper (K) --fork--> worker (W)
 *
 * W creates and starts the container (its init becomes K's child when W
 * exits), sends its result to P over a pipe, then moves K into the VPS's
 * cgroups (keeper_join_late says why only then) and exits. P never waits for K,
 * which outlives it and is adopted when P exits (an intermediate process
 * that exits at once would cost every start one more fork of berth-full).
 * Everything that can fail before the container exists (log file,
 * sockets) is opened by P, so it is reported; K itself only loops. Once W
 * is on its way, K execs the small static berth for its loop
 * (keeper_exec.c): a fork of berth-full would keep a private copy of what
 * `vps start` dirtied for as long as the guest runs.
 *
 * K also answers the guest's sysinfo(2) calls (sysinfo.c): the VPS's
 * processes hand their seccomp listeners to it at sysinfo.sock, and counts
 * how often the VPS hits its disk limit (disk_hits.c). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/tty.h"
#include "berth/unix_socket.h"
#include "runtime/vps/internal.h"

static int listen_unix(const char *path, int backlog, struct berth_err *err)
{
        struct sockaddr_un addr = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof(addr.sun_path))
                return berth_err_set(err, ENAMETOOLONG, "console socket path too long: %s", path);
        strcpy(addr.sun_path, path);
        unlink(path);
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return berth_err_sys(err, errno, "console socket %s", path);
        /* Only root may talk to a guest's console. */
        mode_t old = umask(0077);
        int r = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
        umask(old);
        if (r < 0 || listen(fd, backlog) < 0)
                return berth_err_sys(err, errno, "console socket %s", path);
        return TAKE_FD(fd);
}

static int cmp_fd(const void *a, const void *b)
{
        return *(const int *)a - *(const int *)b;
}

/* Closes every fd from 3 up but the n in keep: close_range over the gaps. */
static void close_all_but(int *keep, size_t n)
{
        qsort(keep, n, sizeof(*keep), cmp_fd);
        unsigned from = 3;
        for (size_t i = 0; i < n; i++) {
                if (keep[i] < 0 || (unsigned)keep[i] < from)
                        continue;
                if ((unsigned)keep[i] > from)
                        syscall(SYS_close_range, from, (unsigned)keep[i] - 1, 0);
                from = (unsigned)keep[i] + 1;
        }
        syscall(SYS_close_range, from, ~0U, 0);
}

/* In K: nothing of `vps start` stays open (its VPS lock above all, and the
 * stdio a calling script may be reading to EOF), and what K reports goes
 * to console.log, not to the caller's sink (its --log file is closed). */
static void keeper_detach(struct vps_keeper *k, const struct berth_vps_ctx *v)
{
        int keep[] = {k->handoff, k->log, k->listen, k->sigfd, k->sysinfo_listen, k->hits.fd};
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        for (int fd = 0; fd < 3 && null >= 0; fd++)
                dup3(null, fd, 0); /* no CLOEXEC: stdio stays /dev/null */
        close_all_but(keep, BERTH_ARRAY_SIZE(keep));
        for (int sig = 1; sig < NSIG; sig++)
                if (sig != SIGCHLD)
                        signal(sig, SIG_DFL);
        signal(SIGPIPE, SIG_IGN);
        prctl(PR_SET_NAME, "berth-console");
        vps_keeper_bind(k, v->ctx, v->data_dir);
}

struct boot_result {
        int r;
        struct berth_err err;
};

/* W, once P has its answer: K into the VPS's cgroups. Moving another
 * process (cgroup.procs) waits for an RCU grace period in the kernel
 * (cgroup_threadgroup_rwsem): 10-20 ms here, a third of a start, which P
 * need not wait for. W still holds the VPS's lock (its copy of P's flock
 * fd) until it exits, so no verb sees the VPS before K is in place; what
 * fails now can only be logged, to console.log. */
static void keeper_join_late(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg,
                             struct vps_keeper *k)
{
        vps_keeper_bind(k, v->ctx, v->data_dir);
        struct berth_container_info info;
        struct berth_err err = {0};
        int r = vps_container_load(&k->v, cfg->name, &info, &err);
        if (r == 0) {
                r = vps_keeper_join(&k->v, cfg, info.st.cgroup, k->pid, &err);
                berth_container_info_clear(&info);
        }
        if (r < 0)
                vps_warn(&k->v, "VPS %s: the console keeper is not charged to the VPS: %s", cfg->name,
                         err.msg);
}

__attribute__((noreturn)) static void worker_main(const struct berth_vps_ctx *v,
                                                  const struct berth_vps_config *cfg,
                                                  const struct vps_boot_ops *ops, struct vps_keeper *k)
{
        sigset_t chld;
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        sigprocmask(SIG_UNBLOCK, &chld, NULL); /* blocked for K's signalfd only */
        /* W moves its parent, K, into the VPS's cgroups: should K die,
         * the worker dies too, rather than take whoever inherits it (the
         * host's init) for K. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != k->pid)
                _exit(1);
        struct boot_result res = {0};
        res.r = ops->boot(v, cfg, k->handoff_path, &res.err);
        if (write(k->result, &res, sizeof(res)) != sizeof(res))
                _exit(1);
        berth_closep(&k->result);
        if (res.r >= 0)
                keeper_join_late(v, cfg, k);
        _exit(0);
}

/* K: forks W, then serves the guest (in the small static berth when it
 * can), and once the init is gone cleans up after it or restarts it. */
__attribute__((noreturn)) static void keeper_main(const struct berth_vps_ctx *v,
                                                  const struct berth_vps_config *cfg,
                                                  const struct vps_boot_ops *ops, struct vps_keeper *k)
{
        setsid();
        prctl(PR_SET_CHILD_SUBREAPER, 1);
        k->pid = getpid();
        k->worker = fork();
        if (k->worker == 0)
                worker_main(v, cfg, ops, k);
        if (k->worker < 0) {
                struct boot_result res = {.r = -errno};
                berth_err_sys(&res.err, errno, "fork the VPS start worker");
                if (write(k->result, &res, sizeof(res)) < 0)
                        _exit(1);
                _exit(1);
        }
        keeper_detach(k, v);
        vps_keeper_exec(k);
        vps_keeper_serve(k);
        prctl(PR_SET_CHILD_SUBREAPER, 0);
        signal(SIGPIPE, SIG_DFL); /* a restarted guest must not inherit K's */
        vps_guest_exited(&k->v, k->name, k->reaped, vps_keeper_n_reaped(k), ops->restart);
        _exit(0);
}

static void keeper_close(struct vps_keeper *k)
{
        int *fds[] = {&k->handoff, &k->master, &k->slave,  &k->log,           &k->listen,
                      &k->client,  &k->sigfd,  &k->result, &k->sysinfo_listen};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(fds); i++)
                berth_closep(fds[i]);
        vps_disk_hits_close(&k->hits);
}

/* The sockets the keeper listens on, which a failed start removes. */
struct keeper_socks {
        char console[PATH_MAX], sysinfo[PATH_MAX];
};

/* P's share: what can fail is opened here, where it can be reported. */
static int keeper_prepare(const struct berth_vps_ctx *v, const char *name, unsigned flags,
                          struct vps_keeper *k, const struct keeper_socks *socks, int result_pipe[2],
                          struct berth_err *err)
{
        snprintf(k->name, sizeof(k->name), "%s", name);
        berth_vps_path(v, name, "console.handoff", k->handoff_path, sizeof(k->handoff_path));
        berth_vps_path(v, name, "console.log", k->log_path, sizeof(k->log_path));
        int r = vps_keeper_open_log(k, flags & VPS_BOOT_LOG_APPEND, err);
        if (r >= 0)
                r = k->handoff = listen_unix(k->handoff_path, 1, err);
        if (r >= 0)
                r = k->listen = listen_unix(socks->console, 4, err);
        if (r >= 0)
                r = k->sysinfo_listen = listen_unix(socks->sysinfo, 16, err);
        if (r >= 0 && pipe2(result_pipe, O_CLOEXEC) < 0)
                r = berth_err_sys(err, errno, "VPS start: pipe");
        if (r < 0)
                return r;
        char stamp[64];
        time_t now = time(NULL);
        struct tm tm;
        strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
        dprintf(k->log, "berth: VPS %s starting at %s\n", name, stamp);
        return 0;
}

/* W ended without a result: it died, or K did (W dies with it). What W
 * made is removed as after a failed boot, under the lock P holds. K is
 * P's child: its status, if it has ended, tells which. */
static int no_result(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg, pid_t keeper,
                     struct berth_err *err)
{
        int status;
        char why[96] = "see console.log";
        if (waitpid(keeper, &status, WNOHANG) == keeper) {
                if (WIFSIGNALED(status))
                        snprintf(why, sizeof(why), "its console keeper was killed by signal %d",
                                 WTERMSIG(status));
                else
                        snprintf(why, sizeof(why), "its console keeper exited with status %d",
                                 WEXITSTATUS(status));
        }
        struct berth_err undo = {0};
        if (vps_container_cleanup(v, cfg, &undo) < 0)
                vps_warn(v, "VPS %s: could not clean up after the failed start: %s", cfg->name, undo.msg);
        return berth_err_set(err, EPIPE, "the VPS start worker ended without a result (%s)", why);
}

/* W's result, or why there is none. */
static int read_result(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg, pid_t keeper,
                       int fd, struct berth_err *err)
{
        struct boot_result res;
        ssize_t n;
        while ((n = read(fd, &res, sizeof(res))) < 0 && errno == EINTR)
                ;
        if (n != sizeof(res))
                return no_result(v, cfg, keeper, err);
        if (res.r < 0)
                *err = res.err;
        return res.r;
}

int vps_console_boot(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg,
                     const struct vps_boot_ops *ops, unsigned flags, struct berth_err *err)
{
        struct vps_keeper k;
        struct keeper_socks socks;
        vps_keeper_init(&k);
        berth_vps_path(v, cfg->name, "console.sock", socks.console, sizeof(socks.console));
        berth_vps_path(v, cfg->name, VPS_SYSINFO_SOCK, socks.sysinfo, sizeof(socks.sysinfo));
        int result_pipe[2] = {-EBADF, -EBADF};
        int r = keeper_prepare(v, cfg->name, flags, &k, &socks, result_pipe, err);
        /* Without its count the VPS still starts: status shows none. */
        struct berth_err herr = {0};
        if (r >= 0 && vps_disk_hits_open(v, cfg, &k.hits, &herr) < 0) {
                berth_warn(v->ctx, "VPS %s: its disk limit hits are not counted: %s", cfg->name, herr.msg);
                vps_disk_hits_close(&k.hits);
        }
        /* SIGCHLD is blocked in K before W exists, so no exit is missed. */
        sigset_t chld, old;
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        if (r >= 0 && (k.sigfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
                r = berth_err_sys(err, errno, "VPS start: signalfd");
        pid_t keeper = -1;
        if (r >= 0) {
                sigprocmask(SIG_BLOCK, &chld, &old);
                keeper = fork();
                if (keeper == 0) {
                        k.result = result_pipe[1];
                        keeper_main(v, cfg, ops, &k);
                }
                sigprocmask(SIG_SETMASK, &old, NULL);
                if (keeper < 0)
                        r = berth_err_sys(err, errno, "fork the console keeper");
        }
        berth_closep(&result_pipe[1]);
        keeper_close(&k);
        if (keeper > 0) {
                vps_trace(
                    v,
                    "VPS %s: console keeper started (pid %d, log %s, socket %s); the worker boots the guest",
                    cfg->name, (int)keeper, k.log_path, socks.console);
                r = read_result(v, cfg, keeper, result_pipe[0], err);
        } else {
                unlink(k.handoff_path);
                unlink(socks.console);
                unlink(socks.sysinfo);
        }
        berth_closep(&result_pipe[0]);
        return r;
}

int berth_vps_console_attach(const struct berth_vps_ctx *v, const char *name, struct berth_err *err)
{
        struct berth_container_info info;
        int r = vps_container_load(v, name, &info, err);
        bool running = r == 0 && info.status == BERTH_STATUS_RUNNING;
        if (r == 0)
                berth_container_info_clear(&info);
        if (r < 0 && r != -ENOENT)
                return r;
        if (!running)
                return berth_err_set(err, ESRCH, "VPS %s is not running", name);
        char path[PATH_MAX];
        berth_vps_path(v, name, "console.sock", path, sizeof(path));
        _cleanup_close_ int sock = berth_connect_unix(path, err);
        if (sock < 0)
                return berth_err_wrap(err, "console of VPS %s", name);
        vps_trace(v, "VPS %s: console: connected to the keeper at %s; relaying", name, path);
        return berth_tty_proxy_attach(sock, err);
}
