/* SPDX-License-Identifier: GPL-2.0-or-later */
/* delete: kill what is left, wait until the cgroup is empty, then remove
 * the sub-cgroups the container made and the levels create() made. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
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

/* One round on a legacy host: a pidfd per remaining process, SIGKILL again
 * (a fork may have raced the first kill), wait until they exit. Returns
 * the number of processes seen. */
static int legacy_round(int dfd, int timeout_ms, struct berth_err *err)
{
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        int r = cg_read_pids(dfd, &pids, &n, err);
        if (r < 0 || n == 0)
                return r < 0 ? r : 0;
        _cleanup_free_ struct pollfd *p = calloc(n, sizeof(*p));
        if (!p)
                return berth_err_sys(err, ENOMEM, "cgroup");
        size_t np = 0;
        for (size_t i = 0; i < n; i++) {
                int fd = pidfd_open(pids[i], 0);
                if (fd < 0)
                        continue;
                kill(pids[i], SIGKILL);
                p[np++] = (struct pollfd){.fd = fd, .events = POLLIN};
        }
        /* Gone already but still listed: give the kernel a moment. */
        if (np == 0)
                poll(NULL, 0, 1);
        for (size_t done = 0; done < np;) {
                if (poll(p, np, timeout_ms) <= 0)
                        break;
                for (size_t i = 0; i < np; i++)
                        if (p[i].revents) {
                                p[i].events = 0;
                                p[i].revents = 0;
                                p[i].fd = -p[i].fd - 1; /* ignored by poll from now on */
                                done++;
                        }
        }
        for (size_t i = 0; i < np; i++)
                close(p[i].fd < 0 ? -p[i].fd - 1 : p[i].fd);
        return (int)n;
}

static int wait_empty(struct berth_cgroup *cg, struct berth_err *err)
{
        struct cg_hier *h = cg_primary(cg);
        int fd = h ? cg_hier_fd(h, err) : -ENOENT;
        if (fd < 0)
                return fd == -ENOENT ? 0 : fd;
        if (h->unified) {
                /* A cgroup someone else already removed is empty; ENODEV:
                 * removed while we had it open (systemd collects a scope
                 * as soon as its last process is gone). */
                int r = cg_wait_events(fd, "populated", 0, CG_WAIT_TIMEOUT_MS, err);
                return r == -ENOENT || r == -ENODEV ? 0 : r;
        }
        int64_t deadline = now_ms() + CG_WAIT_TIMEOUT_MS;
        for (;;) {
                int64_t left = deadline - now_ms();
                if (left <= 0)
                        return berth_err_set(err, ETIMEDOUT, "cgroup: processes still running in %s", h->dir);
                int r = legacy_round(fd, (int)left, err);
                if (r <= 0)
                        return r;
        }
}

int cg_remove_children(int dfd, const char *where, int depth, struct berth_err *err)
{
        int dup_fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dup_fd < 0)
                return berth_err_sys(err, errno, "cgroup: open %s", where);
        _cleanup_closedir_ DIR *d = fdopendir(dup_fd);
        if (!d) {
                close(dup_fd);
                return berth_err_sys(err, errno, "cgroup: opendir %s", where);
        }
        struct dirent *e;
        while ((e = readdir(d))) {
                if (e->d_type != DT_DIR || e->d_name[0] == '.')
                        continue;
                _cleanup_close_ int sub = openat(dfd, e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                int r = sub >= 0 && depth < 64 ? cg_remove_children(sub, e->d_name, depth + 1, err) : 0;
                if (r < 0)
                        return r;
                if (unlinkat(dfd, e->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                        return berth_err_sys(err, errno, "cgroup: rmdir %s/%s", where, e->d_name);
        }
        return 0;
}

static int remove_hier(struct cg_hier *h, struct berth_err *err)
{
        /* A leaf that existed before create() is not ours, nor below it. */
        if (h->n_existing < 0 || h->n_existing >= cg_count_levels(h))
                return 0;
        /* The leaf usually has no sub-cgroups: remove the levels at once,
         * and read the directory only when the kernel says it has (EBUSY). */
        int r = cg_remove_levels(h, err);
        if (r != -EBUSY)
                return r;
        int fd = cg_hier_fd(h, err);
        r = fd == -ENOENT ? 0 : fd < 0 ? fd : cg_remove_children(fd, h->dir, 0, err);
        berth_closep(&h->fd);
        return r < 0 ? r : cg_remove_levels(h, err);
}

int berth_cgroup_destroy(struct berth_cgroup *cg, struct berth_err *err)
{
        int r = berth_cgroup_kill(cg, SIGKILL, err);
        if (r < 0 && r != -ENOENT && r != -ENODEV)
                return berth_err_wrap(err, "delete cgroup");
        /* v1 frozen tasks cannot act on SIGKILL until thawed; v2 ones can. */
        struct cg_hier *fz = cg_unified(cg) ? NULL : cg_v1(cg, CG_FREEZER);
        if (fz && (r = berth_cgroup_freeze(cg, false, err)) < 0)
                return berth_err_wrap(err, "delete cgroup");
        if ((r = wait_empty(cg, err)) < 0)
                return berth_err_wrap(err, "delete cgroup");
        for (size_t i = 0; i < cg->n; i++)
                if ((r = remove_hier(&cg->h[i], err)) < 0)
                        return berth_err_wrap(err, "delete cgroup");
        return 0;
}
