/* SPDX-License-Identifier: GPL-2.0-or-later */
/* process.user: supplementary groups, gid, uid. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/process.h"

/* /proc/self/setgroups says "deny" in a user namespace whose gid map was
 * written by an unprivileged process: setgroups(2) then always fails. */
static bool setgroups_denied(void)
{
        _cleanup_close_ int fd = open("/proc/self/setgroups", O_RDONLY | O_CLOEXEC);
        char buf[16] = {0};

        if (fd < 0 || read(fd, buf, sizeof(buf) - 1) <= 0)
                return false;
        return strncmp(buf, "deny", 4) == 0;
}

int berth_user_apply(const struct berth_user *user, struct berth_err *err)
{
        /* Replace the runtime's supplementary groups: without this the
         * container would keep the groups of whoever ran berth. Needs
         * CAP_SETGID, so it comes before the uid change. */
        if (setgroups(user->n_additional_gids, user->additional_gids) < 0) {
                int e = errno;
                if (!(e == EPERM && user->n_additional_gids == 0 && setgroups_denied()))
                        return berth_err_sys(err, e, "setgroups (%zu groups)", user->n_additional_gids);
        }
        /* All three gids (real, effective, saved) so the process cannot
         * switch back to the runtime's gid. */
        if (setresgid(user->gid, user->gid, user->gid) < 0)
                return berth_err_sys(err, errno, "setresgid %u", (unsigned)user->gid);
        /* Last: after this, unless PR_SET_KEEPCAPS is set, a non-zero uid
         * loses every capability. All three uids, for the same reason. */
        if (setresuid(user->uid, user->uid, user->uid) < 0)
                return berth_err_sys(err, errno, "setresuid %u", (unsigned)user->uid);
        return 0;
}
