/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The console of a VPS, and the process that keeps it.
 *
 * The guest's /dev/console and its init's stdio are a pseudo-terminal.
 * Why: systemd, as pid 1, writes its boot and shutdown messages only to
 * /dev/console, and only when that is a terminal. A terminal must be
 * drained by someone or the guest blocks once its buffer fills: that is
 * the keeper, one small process per running VPS (as conmon is per
 * container; there is still no daemon). It appends everything to
 * console.log (rotated to console.log.1 at CONSOLE_LOG_MAX) and relays the
 * terminal to one `vps console --attach` client at a time (console.sock).
 *
 * The keeper is also the parent of the guest's init (a child subreaper),
 * so the init is reaped when it ends instead of becoming a zombie of
 * whatever pid 1 the host has, and the keeper learns how it ended: a guest
 * that powers off or reboots by itself ends its init by SIGINT or SIGHUP
 * (reboot(2) in a pid namespace). The keeper then cleans the host side up
 * as `vps stop` would, and starts the VPS again after a reboot
 * (guest_exit.c), then ends.
 *
 *   vps start (P) --fork--> M --fork--> keeper (K) --fork--> worker (W)
 *
 * W creates and starts the container (its init becomes K's child when W
 * exits) and sends its result to P over a pipe; M exits at once so that K
 * belongs to nobody P must wait for. Everything that can fail before the
 * container exists (log file, sockets) is opened by P, so it is reported;
 * K itself only loops.
 *
 * K also answers the guest's sysinfo(2) calls (sysinfo.c): the VPS's
 * processes hand their seccomp listeners to it at sysinfo.sock, and counts
 * how often the VPS hits its disk limit (disk_hits.c). */
#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/unix_socket.h"
#include "berth/tty.h"
#include "runtime/vps/internal.h"

#define CONSOLE_LOG_MAX (1 << 20)

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

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

/* The last children the keeper reaped: W, the init, and any orphan of
 * the guest's creation. */
#define KEEPER_REAPED_MAX 8

struct keeper {
        int handoff; /* listening: create's --console-socket */
        int master, slave, log, listen, client, sigfd;
        int result;         /* write end of the pipe to P */
        int sysinfo_listen; /* sysinfo.sock: seccomp listeners come in */
        struct vps_sysinfo sysinfo;
        struct vps_disk_hits hits;
        pid_t worker;
        pid_t pid; /* K itself: the worker checks that K is still its parent */
        char handoff_path[PATH_MAX], log_path[PATH_MAX], sock_path[PATH_MAX], sysinfo_path[PATH_MAX];
        off_t log_size;
        struct vps_reaped reaped[KEEPER_REAPED_MAX];
        size_t n_reaped; /* how many ever: reaped[i % KEEPER_REAPED_MAX] */
        /* K's own context: its warnings and trace go to console.log. */
        struct berth_ctx ctx;
        struct berth_vps_ctx v;
};

static int open_log(struct keeper *k, bool append, struct berth_err *err)
{
        k->log = open(k->log_path,
                      O_WRONLY | O_CREAT | (append ? 0 : O_TRUNC) | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
        struct stat st;
        k->log_size = append && k->log >= 0 && fstat(k->log, &st) == 0 ? st.st_size : 0;
        return k->log < 0 ? berth_err_sys(err, errno, "open %s", k->log_path) : 0;
}

static void log_write(struct keeper *k, const char *buf, size_t n)
{
        if (k->log_size + (off_t)n > CONSOLE_LOG_MAX) {
                char old[PATH_MAX + 4];
                snprintf(old, sizeof(old), "%s.1", k->log_path);
                rename(k->log_path, old);
                close(k->log);
                struct berth_err ignore = {0};
                if (open_log(k, false, &ignore) < 0)
                        return;
        }
        if (write(k->log, buf, n) > 0)
                k->log_size += (off_t)n;
}

/* Guest output: into the log, and to the attached client if it keeps up
 * (a stalled client loses output; the guest never waits for it). */
static void from_guest(struct keeper *k)
{
        char buf[8192];
        ssize_t n;
        while ((n = read(k->master, buf, sizeof(buf))) > 0) {
                log_write(k, buf, (size_t)n);
                if (k->client >= 0 && send(k->client, buf, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 &&
                    errno != EAGAIN)
                        berth_closep(&k->client);
        }
}

/* A new client replaces the previous one (as `virsh console --force`); it
 * gets the master too, for window size changes only. */
static void accept_client(struct keeper *k)
{
        int c = accept4(k->listen, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0)
                return;
        berth_closep(&k->client);
        k->client = c;
        struct berth_err ignore = {0};
        if (berth_send_fd(c, k->master, "console", &ignore) < 0)
                berth_closep(&k->client);
}

static void from_client(struct keeper *k)
{
        char buf[4096];
        ssize_t n = read(k->client, buf, sizeof(buf));
        if (n <= 0) {
                berth_closep(&k->client);
                return;
        }
        /* Input the guest does not read is dropped rather than blocking the
         * keeper (which must keep draining the guest's output). */
        if (write(k->master, buf, (size_t)n) < 0 && errno != EAGAIN)
                berth_closep(&k->client);
}

/* The init sent its terminal while W ran `create`. The keeper also holds
 * the terminal's other side: a guest that closes every console fd for a
 * while (systemd does) must not hang it up. */
static void receive_master(struct keeper *k)
{
        _cleanup_close_ int conn = accept4(k->handoff, NULL, NULL, SOCK_CLOEXEC);
        if (conn < 0)
                return;
        berth_closep(&k->handoff);
        unlink(k->handoff_path);
        struct berth_err ignore = {0};
        k->master = berth_recv_fd(conn, &ignore);
        if (k->master < 0 || fcntl(k->master, F_SETFL, O_NONBLOCK) < 0)
                return;
        k->slave = ioctl(k->master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
}

/* Reaps W, then the init (ours once W is gone); true when no child is left. */
static bool reap_children(struct keeper *k)
{
        struct signalfd_siginfo si;
        while (read(k->sigfd, &si, sizeof(si)) == sizeof(si))
                ;
        for (;;) {
                int status;
                pid_t pid = waitpid(-1, &status, WNOHANG);
                if (pid == k->worker)
                        k->worker = 0;
                else if (pid > 0)
                        k->reaped[k->n_reaped++ % KEEPER_REAPED_MAX] = (struct vps_reaped){pid, status};
                if (pid == 0)
                        return false;
                if (pid < 0)
                        return errno == ECHILD;
        }
}

/* K's log sink: "berth: ..." lines in console.log, among the guest's. */
static void keeper_emit(void *data, enum berth_log_level level, const char *msg)
{
        char line[BERTH_ERR_MSG_MAX + 64];
        int n = snprintf(line, sizeof(line), "berth: %s%s\n", level == BERTH_LOG_DEBUG ? "debug: " : "", msg);
        if (n > 0)
                log_write(data, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

/* The guest's init is gone: only the log stays open for what comes next
 * (the cleanup, and a restart's new keeper, which must not be our child). */
__attribute__((noreturn)) static void keeper_end(struct keeper *k, const struct berth_vps_config *cfg,
                                                 const struct vps_boot_ops *ops)
{
        int *fds[] = {&k->handoff, &k->master, &k->slave,         &k->listen,
                      &k->client,  &k->sigfd,  &k->sysinfo_listen};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(fds); i++)
                berth_closep(fds[i]);
        vps_sysinfo_clear(&k->sysinfo);
        vps_disk_hits_close(&k->hits);
        prctl(PR_SET_CHILD_SUBREAPER, 0);
        signal(SIGPIPE, SIG_DFL); /* a restarted guest must not inherit K's */
        size_t n = k->n_reaped < KEEPER_REAPED_MAX ? k->n_reaped : KEEPER_REAPED_MAX;
        vps_guest_exited(&k->v, cfg->name, k->reaped, n, ops->restart);
        _exit(0);
}

__attribute__((noreturn)) static void keeper_loop(struct keeper *k, const struct berth_vps_config *cfg,
                                                  const struct vps_boot_ops *ops)
{
        for (;;) {
                bool live = k->master >= 0;
                struct pollfd f[7 + VPS_SYSINFO_MAX_FDS] = {
                    {.fd = k->handoff, .events = POLLIN}, {.fd = k->master, .events = POLLIN},
                    {.fd = k->sigfd, .events = POLLIN},   {.fd = live ? k->listen : -1, .events = POLLIN},
                    {.fd = k->client, .events = POLLIN},  {.fd = k->sysinfo_listen, .events = POLLIN},
                    {.fd = k->hits.fd, .events = POLLIN}};
                nfds_t n = 7 + vps_sysinfo_pollfds(&k->sysinfo, f + 7);
                if (poll(f, n, -1) < 0 && errno != EINTR)
                        break;
                /* First: a guest process waits for each of these. */
                vps_sysinfo_events(&k->sysinfo, f + 7);
                if (f[5].revents)
                        vps_sysinfo_accept(&k->sysinfo, k->sysinfo_listen);
                if (f[0].revents)
                        receive_master(k);
                if (f[1].revents)
                        from_guest(k);
                if (f[2].revents && reap_children(k)) {
                        if (k->master >= 0)
                                from_guest(k); /* the last words */
                        break;
                }
                if (f[3].revents)
                        accept_client(k);
                if (k->client >= 0 && f[4].revents)
                        from_client(k);
                if (f[6].revents)
                        vps_disk_hits_event(&k->hits, &k->v, cfg->name);
        }
        /* The socket files stay: a `vps start` right after this one has
         * made its own already, which must not be unlinked here. */
        keeper_end(k, cfg, ops);
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
static void keeper_detach(struct keeper *k, const struct berth_vps_ctx *v, const char *name)
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
        k->ctx = *v->ctx;
        k->ctx.log.emit = keeper_emit;
        k->ctx.log.data = k;
        k->v = (struct berth_vps_ctx){.ctx = &k->ctx, .data_dir = v->data_dir};
        vps_sysinfo_init(&k->sysinfo, &k->v, name);
        /* K lives as long as the guest, one per VPS: the heap `vps start`
         * grew and freed before the fork goes back to the kernel (most of
         * K's private memory otherwise, ~140 KiB). */
        malloc_trim(0);
}

struct boot_result {
        int r;
        struct berth_err err;
};

__attribute__((noreturn)) static void worker_main(const struct berth_vps_ctx *v,
                                                  const struct berth_vps_config *cfg,
                                                  const struct vps_boot_ops *ops, struct keeper *k)
{
        sigset_t chld;
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        sigprocmask(SIG_UNBLOCK, &chld, NULL); /* blocked for K's signalfd only */
        /* boot() moves its parent, K, into the VPS's cgroups: should K
         * die, the worker dies too, rather than take whoever inherits it
         * (the host's init) for K. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != k->pid)
                _exit(1);
        struct boot_result res = {0};
        res.r = ops->boot(v, cfg, k->handoff_path, &res.err);
        if (write(k->result, &res, sizeof(res)) != sizeof(res))
                _exit(1);
        _exit(0);
}

__attribute__((noreturn)) static void keeper_main(const struct berth_vps_ctx *v,
                                                  const struct berth_vps_config *cfg,
                                                  const struct vps_boot_ops *ops, struct keeper *k)
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
        keeper_detach(k, v, cfg->name);
        keeper_loop(k, cfg, ops);
}

static void keeper_close(struct keeper *k)
{
        int *fds[] = {&k->handoff, &k->master, &k->slave,  &k->log,           &k->listen,
                      &k->client,  &k->sigfd,  &k->result, &k->sysinfo_listen};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(fds); i++)
                berth_closep(fds[i]);
        vps_disk_hits_close(&k->hits);
}

/* P's share: what can fail is opened here, where it can be reported. */
static int keeper_prepare(const struct berth_vps_ctx *v, const char *name, unsigned flags, struct keeper *k,
                          int result_pipe[2], struct berth_err *err)
{
        berth_vps_path(v, name, "console.handoff", k->handoff_path, sizeof(k->handoff_path));
        berth_vps_path(v, name, "console.log", k->log_path, sizeof(k->log_path));
        berth_vps_path(v, name, "console.sock", k->sock_path, sizeof(k->sock_path));
        berth_vps_path(v, name, VPS_SYSINFO_SOCK, k->sysinfo_path, sizeof(k->sysinfo_path));
        int r = open_log(k, flags & VPS_BOOT_LOG_APPEND, err);
        if (r >= 0)
                r = k->handoff = listen_unix(k->handoff_path, 1, err);
        if (r >= 0)
                r = k->listen = listen_unix(k->sock_path, 4, err);
        if (r >= 0)
                r = k->sysinfo_listen = listen_unix(k->sysinfo_path, 16, err);
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

/* W's result, or why there is none. */
static int read_result(int fd, struct berth_err *err)
{
        struct boot_result res;
        ssize_t n;
        while ((n = read(fd, &res, sizeof(res))) < 0 && errno == EINTR)
                ;
        if (n != sizeof(res))
                return berth_err_set(err, EPIPE, "the VPS start worker ended without a result");
        if (res.r < 0)
                *err = res.err;
        return res.r;
}

int vps_console_boot(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg,
                     const struct vps_boot_ops *ops, unsigned flags, struct berth_err *err)
{
        struct keeper k = {.handoff = -EBADF,
                           .master = -EBADF,
                           .slave = -EBADF,
                           .log = -EBADF,
                           .listen = -EBADF,
                           .client = -EBADF,
                           .sigfd = -EBADF,
                           .result = -EBADF,
                           .sysinfo_listen = -EBADF};
        int result_pipe[2] = {-EBADF, -EBADF};
        k.hits.fd = -EBADF;
        int r = keeper_prepare(v, cfg->name, flags, &k, result_pipe, err);
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
        pid_t mid = -1;
        if (r >= 0) {
                sigprocmask(SIG_BLOCK, &chld, &old);
                mid = fork();
                if (mid == 0) {
                        k.result = result_pipe[1];
                        if (fork() == 0)
                                keeper_main(v, cfg, ops, &k);
                        _exit(0);
                }
                sigprocmask(SIG_SETMASK, &old, NULL);
                if (mid < 0)
                        r = berth_err_sys(err, errno, "fork the console keeper");
        }
        berth_closep(&result_pipe[1]);
        keeper_close(&k);
        if (mid > 0) {
                vps_trace(v, "VPS %s: console keeper started (log %s, socket %s); the worker boots the guest",
                          cfg->name, k.log_path, k.sock_path);
                while (waitpid(mid, NULL, 0) < 0 && errno == EINTR)
                        ;
                r = read_result(result_pipe[0], err);
        } else {
                unlink(k.handoff_path);
                unlink(k.sock_path);
                unlink(k.sysinfo_path);
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
