/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Signalling every process of the container, and listing them (ps). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>

#include "berth/cleanup.h"
#include "cgroups/internal.h"

int berth_cgroup_pids(struct berth_cgroup *cg, pid_t **pids, size_t *n, struct berth_err *err)
{
        struct cg_hier *h = cg_primary(cg);
        if (!h)
                return berth_err_set(err, ENOENT, "cgroup: no hierarchy");
        int fd = cg_hier_fd(h, err);
        return fd < 0 ? fd : cg_read_pids(fd, pids, n, err);
}

/* cgroup.kill (5.14+) kills the whole subtree atomically, including
 * processes forked while we would be walking cgroup.procs. */
static int kill_v2(struct cg_hier *h, struct berth_err *err)
{
        int fd = cg_hier_fd(h, err);
        if (fd < 0)
                return fd;
        if (!cg_exists(fd, "cgroup.kill"))
                return -EOPNOTSUPP;
        return cg_write(fd, "cgroup.kill", "1", "kill", err);
}

int berth_cgroup_kill(struct berth_cgroup *cg, int sig, struct berth_err *err)
{
        struct cg_hier *h = cg_primary(cg);
        if (!h)
                return berth_err_set(err, ENOENT, "cgroup: no hierarchy");
        if (sig == SIGKILL && h->unified) {
                int r = kill_v2(h, err);
                if (r != -EOPNOTSUPP)
                        return r;
        }
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        int r = berth_cgroup_pids(cg, &pids, &n, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if (kill(pids[i], sig) < 0 && errno != ESRCH)
                        return berth_err_sys(err, errno, "cgroup: kill %d", (int)pids[i]);
        return 0;
}
