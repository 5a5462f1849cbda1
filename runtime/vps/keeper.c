/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The console keeper's loop: one small process per running VPS (console.c
 * says why it exists and how `vps start` makes it).
 *
 * It drains the guest's terminal into console.log (rotated to
 * console.log.1 at CONSOLE_LOG_MAX) and relays it to one `vps console
 * --attach` client at a time; answers the guest's sysinfo(2) calls
 * (sysinfo.c); counts the VPS's disk limit hits (disk_hits.c); and reaps
 * the guest's init, which ends the loop.
 *
 * This file is all of the keeper that runs while the guest does, and it
 * needs nothing of the network or the VPS's configuration: the small
 * static berth runs it (keeper_exec.c), where a fork of berth-full would
 * keep berth-full's memory for as long as the guest runs. */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/unix_socket.h"
#include "runtime/vps/internal.h"

#define CONSOLE_LOG_MAX (1 << 20)

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

void vps_keeper_init(struct vps_keeper *k)
{
        *k = (struct vps_keeper){0};
        int *fds[] = {&k->handoff, &k->master, &k->slave,          &k->log,    &k->listen, &k->client,
                      &k->sigfd,   &k->result, &k->sysinfo_listen, &k->hits.fd};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(fds); i++)
                *fds[i] = -EBADF;
}

int vps_keeper_open_log(struct vps_keeper *k, bool append, struct berth_err *err)
{
        k->log = open(k->log_path,
                      O_WRONLY | O_CREAT | (append ? 0 : O_TRUNC) | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
        struct stat st;
        k->log_size = append && k->log >= 0 && fstat(k->log, &st) == 0 ? st.st_size : 0;
        return k->log < 0 ? berth_err_sys(err, errno, "open %s", k->log_path) : 0;
}

static void log_write(struct vps_keeper *k, const char *buf, size_t n)
{
        if (k->log_size + (off_t)n > CONSOLE_LOG_MAX) {
                char old[PATH_MAX + 4];
                snprintf(old, sizeof(old), "%s.1", k->log_path);
                rename(k->log_path, old);
                close(k->log);
                struct berth_err ignore = {0};
                if (vps_keeper_open_log(k, false, &ignore) < 0)
                        return;
        }
        if (write(k->log, buf, n) > 0)
                k->log_size += (off_t)n;
}

/* The keeper's log sink: "berth: ..." lines in console.log, among the
 * guest's. */
static void keeper_emit(void *data, enum berth_log_level level, const char *msg)
{
        char line[BERTH_ERR_MSG_MAX + 64];
        int n = snprintf(line, sizeof(line), "berth: %s%s\n", level == BERTH_LOG_DEBUG ? "debug: " : "", msg);
        if (n > 0)
                log_write(data, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

void vps_keeper_bind(struct vps_keeper *k, const struct berth_ctx *base, const char *data_dir)
{
        k->ctx = base ? *base : (struct berth_ctx){0};
        k->ctx.log.emit = keeper_emit;
        k->ctx.log.data = k;
        k->v = (struct berth_vps_ctx){.ctx = &k->ctx, .data_dir = data_dir};
}

/* Guest output: into the log, and to the attached client if it keeps up
 * (a stalled client loses output; the guest never waits for it). */
static void from_guest(struct vps_keeper *k)
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
static void accept_client(struct vps_keeper *k)
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

static void from_client(struct vps_keeper *k)
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

/* The init sent its terminal while the worker ran `create`. The keeper
 * also holds the terminal's other side: a guest that closes every console
 * fd for a while (systemd does) must not hang it up. */
static void receive_master(struct vps_keeper *k)
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

/* The worker ends with status 0 once it has sent its result (console.c):
 * anything else leaves `vps start` without one, and the log says why. */
static void worker_ended(struct vps_keeper *k, int status)
{
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return;
        if (WIFSIGNALED(status))
                vps_warn(&k->v, "VPS %s: the start worker was killed by signal %d (%s)", k->name,
                         WTERMSIG(status), strsignal(WTERMSIG(status)));
        else
                vps_warn(&k->v, "VPS %s: the start worker exited with status %d", k->name,
                         WEXITSTATUS(status));
}

/* Reaps the worker, then the init (ours once the worker is gone); true
 * when no child is left. */
static bool reap_children(struct vps_keeper *k)
{
        struct signalfd_siginfo si;
        while (read(k->sigfd, &si, sizeof(si)) == sizeof(si))
                ;
        for (;;) {
                int status;
                pid_t pid = waitpid(-1, &status, WNOHANG);
                if (pid > 0 && pid == k->worker) {
                        k->worker = 0;
                        worker_ended(k, status);
                } else if (pid > 0 && !vps_sysinfo_reaped(&k->sysinfo, pid))
                        k->reaped[k->n_reaped++ % VPS_KEEPER_REAPED_MAX] = (struct vps_reaped){pid, status};
                if (pid == 0)
                        return false;
                if (pid < 0)
                        return errno == ECHILD;
        }
}

size_t vps_keeper_n_reaped(const struct vps_keeper *k)
{
        return k->n_reaped < VPS_KEEPER_REAPED_MAX ? k->n_reaped : VPS_KEEPER_REAPED_MAX;
}

static void keeper_loop(struct vps_keeper *k)
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
                        return;
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
                        return;
                }
                if (f[3].revents)
                        accept_client(k);
                if (k->client >= 0 && f[4].revents)
                        from_client(k);
                if (f[6].revents)
                        vps_disk_hits_event(&k->hits, &k->v, k->name);
        }
}

void vps_keeper_serve(struct vps_keeper *k)
{
        vps_sysinfo_init(&k->sysinfo, &k->v, k->name);
        /* The keeper lives as long as the guest: what the process grew and
         * freed before goes back to the kernel. */
        malloc_trim(0);
        keeper_loop(k);
        /* The socket files stay: a `vps start` right after this one has
         * made its own already, which must not be unlinked here. Only the
         * log stays open, for what comes next (the cleanup, and a
         * restart's new keeper, which must not be our child). */
        int *fds[] = {&k->handoff, &k->master, &k->slave,         &k->listen,
                      &k->client,  &k->sigfd,  &k->sysinfo_listen};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(fds); i++)
                berth_closep(fds[i]);
        vps_sysinfo_clear(&k->sysinfo);
        vps_disk_hits_close(&k->hits);
}
