/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pause/resume. v2 (and hybrid, through the cgroup2 mirror, which freezes
 * the whole subtree): cgroup.freeze, then cgroup.events "frozen" is waited
 * for with poll(POLLPRI). v1 freezer has no notification: freezer.state is
 * re-read with a short, growing back-off. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "cgroups/internal.h"

static int v1_state(int fd, char **state, struct berth_err *err)
{
        int r = cg_read(fd, "freezer.state", state, err);
        if (r >= 0)
                (*state)[strcspn(*state, "\n")] = '\0';
        return r;
}

static int freeze_v1(struct cg_hier *h, bool frozen, struct berth_err *err)
{
        int fd = cg_hier_fd(h, err);
        if (fd < 0)
                return fd;
        const char *want = frozen ? "FROZEN" : "THAWED";
        int delay = 1;
        for (int waited = 0; waited < CG_WAIT_TIMEOUT_MS;
             waited += delay, delay = delay < 64 ? delay * 2 : 64) {
                int r = cg_write(fd, "freezer.state", want, frozen ? "pause" : "resume", err);
                if (r < 0)
                        return r;
                _cleanup_free_ char *st = NULL;
                if ((r = v1_state(fd, &st, err)) < 0)
                        return r;
                if (strcmp(st, want) == 0)
                        return 0;
                poll(NULL, 0, delay); /* FREEZING: no event to wait for on v1 */
        }
        return berth_err_set(err, ETIMEDOUT, "cgroup: freezer did not reach %s", want);
}

int berth_cgroup_freeze(struct berth_cgroup *cg, bool frozen, struct berth_err *err)
{
        struct cg_hier *h = cg_unified(cg);
        if (!h) {
                h = cg_v1(cg, CG_FREEZER);
                if (!h)
                        return berth_err_set(err, ENODEV, "cgroup: no freezer (v1 freezer not joined)");
                return freeze_v1(h, frozen, err);
        }
        int fd = cg_hier_fd(h, err);
        if (fd < 0)
                return fd;
        int r = cg_write(fd, "cgroup.freeze", frozen ? "1" : "0", frozen ? "pause" : "resume", err);
        if (r < 0)
                return r;
        return cg_wait_events(fd, "frozen", frozen ? 1 : 0, CG_WAIT_TIMEOUT_MS, err);
}

int berth_cgroup_is_frozen(struct berth_cgroup *cg, bool *frozen, struct berth_err *err)
{
        struct cg_hier *h = cg_unified(cg);
        _cleanup_free_ char *buf = NULL;
        if (h) {
                int fd = cg_hier_fd(h, err), r;
                if (fd < 0 || (r = cg_read(fd, "cgroup.events", &buf, err)) < 0)
                        return fd < 0 ? fd : r;
                uint64_t v = 0;
                cg_keyed_u64(buf, "frozen", &v);
                *frozen = v == 1;
                /* Hybrid: the v1 freezer (what runc and older tools use
                 * there) can hold the tasks as well. */
                h = cg_v1(cg, CG_FREEZER);
                if (*frozen || !h || (h->fd < 0 && access(h->dir, F_OK) < 0))
                        return 0;
                buf = (free(buf), NULL);
        }
        h = cg_v1(cg, CG_FREEZER);
        if (!h) {
                *frozen = false;
                return 0;
        }
        int fd = cg_hier_fd(h, err), r;
        if (fd < 0 || (r = v1_state(fd, &buf, err)) < 0)
                return fd < 0 ? fd : r;
        *frozen = strcmp(buf, "FROZEN") == 0;
        return 0;
}
