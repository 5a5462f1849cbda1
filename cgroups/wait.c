/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Waiting on a cgroup without sleep loops: cgroup.events is a kernfs file
 * that signals POLLPRI whenever "populated" or "frozen" changes. And the
 * recursive process list, used by ps, kill and the legacy wait. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "cgroups/internal.h"

static int64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int read_events_key(int fd, const char *key, uint64_t *v)
{
        char buf[512];
        ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
        if (n < 0)
                return -errno;
        buf[n] = '\0';
        return cg_keyed_u64(buf, key, v) ? 0 : -ENOENT;
}

int cg_wait_events(int dfd, const char *key, uint64_t want, int timeout_ms, struct berth_err *err)
{
        _cleanup_close_ int fd = openat(dfd, "cgroup.events", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return berth_err_sys(err, errno, "cgroup: open cgroup.events");
        int64_t deadline = now_ms() + timeout_ms;
        for (;;) {
                /* Read first: the read re-arms the notification, so a
                 * change after it makes the poll return at once. */
                uint64_t v;
                int r = read_events_key(fd, key, &v);
                if (r < 0)
                        return berth_err_sys(err, -r, "cgroup: read '%s' from cgroup.events", key);
                if (v == want)
                        return 0;
                int64_t left = deadline - now_ms();
                if (left <= 0)
                        return berth_err_set(err, ETIMEDOUT, "cgroup: timed out waiting for %s=%llu", key,
                                             (unsigned long long)want);
                struct pollfd p = {.fd = fd, .events = POLLPRI};
                if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
                        return berth_err_sys(err, errno, "cgroup: poll cgroup.events");
        }
}

static int push_pid(pid_t **pids, size_t *n, size_t *cap, pid_t pid)
{
        if (*n == *cap) {
                size_t nc = *cap ? *cap * 2 : 32;
                pid_t *np = realloc(*pids, nc * sizeof(*np));
                if (!np)
                        return -ENOMEM;
                *pids = np;
                *cap = nc;
        }
        (*pids)[(*n)++] = pid;
        return 0;
}

/* Appends the pids of dfd and, depth first, of all its sub-cgroups. */
static int collect(int dfd, pid_t **pids, size_t *n, size_t *cap, int depth, struct berth_err *err)
{
        _cleanup_free_ char *procs = NULL;
        int r = cg_read(dfd, "cgroup.procs", &procs, err);
        if (r < 0)
                return r;
        for (char *p = procs; *p;) {
                char *end;
                long v = strtol(p, &end, 10);
                if (end == p)
                        break;
                if (v > 0 && push_pid(pids, n, cap, (pid_t)v) < 0)
                        return berth_err_sys(err, ENOMEM, "cgroup: pids");
                p = end + (*end == '\n');
        }
        if (depth > 64)
                return 0;
        int dup_fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dup_fd < 0)
                return berth_err_sys(err, errno, "cgroup: open");
        _cleanup_closedir_ DIR *d = fdopendir(dup_fd);
        if (!d) {
                close(dup_fd);
                return berth_err_sys(err, errno, "cgroup: opendir");
        }
        struct dirent *e;
        while ((e = readdir(d))) {
                if (e->d_type != DT_DIR || e->d_name[0] == '.')
                        continue;
                _cleanup_close_ int sub = openat(dfd, e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (sub < 0)
                        continue; /* removed meanwhile */
                if ((r = collect(sub, pids, n, cap, depth + 1, err)) < 0)
                        return r;
        }
        return 0;
}

int cg_read_pids(int dfd, pid_t **pids, size_t *n, struct berth_err *err)
{
        pid_t *p = NULL;
        size_t cnt = 0, cap = 0;
        int r = collect(dfd, &p, &cnt, &cap, 0, err);
        if (r < 0) {
                free(p);
                return r;
        }
        *pids = p;
        *n = cnt;
        return 0;
}
