/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the console keeper does once the guest's init is gone.
 *
 * A guest that powers off, halts or reboots by itself calls reboot(2),
 * which in a pid namespace ends the namespace's init: by SIGINT for a
 * power-off or halt, by SIGHUP for a reboot. The keeper, its parent, sees
 * that wait status. Nothing else would clean the host side (cgroups,
 * container state, veth, filter rules) until an admin's next command, so
 * the keeper does what `vps stop` does after its init went, and after a
 * reboot starts the VPS again, as OpenVZ does.
 *
 * A verb may be at the VPS at the same time: the keeper takes the VPS's
 * lock like any verb, and acts only if the container is still the one
 * whose init it reaped, stopped. Otherwise a verb has dealt with it:
 *
 *   vps stop     holds the lock from its signal to its cleanup: the keeper
 *                waits, then finds no container and ends (an init that a
 *                stop's signal made reboot is not restarted).
 *   vps start    (between the power-off and the keeper's lock) removes the
 *                stopped container as a leftover and starts a new one: the
 *                keeper finds a running container with another init.
 *   destroy      the VPS directory is gone.
 *
 * The keeper first moves out of the VPS's cgroups (it is charged to them
 * while the guest runs, console.c): the cleanup kills what is in them and
 * removes them, and must not kill the keeper doing it, nor wait for it (a
 * stop's cleanup gives the keeper a moment to end before it kills it).
 * It moves out again once it holds the lock: a start's worker moves it in
 * after the start has answered, which an init that ends at once beats.
 * While it waits for the lock it holds nothing of the VPS but that. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "berth/cgroup.h"
#include "berth/cleanup.h"
#include "berth/vps.h"
#include "runtime/vps/internal.h"

/* The init's wait status, if the keeper reaped it: true and *status. */
static bool reaped_status(const struct vps_reaped *reaped, size_t n, pid_t pid, int *status)
{
        for (size_t i = 0; i < n; i++)
                if (reaped[i].pid == pid) {
                        *status = reaped[i].status;
                        return true;
                }
        return false;
}

/* Out of the VPS's cgroups, into the level above them (where `vps start`
 * ran): the container's cgroup on a hybrid host, its top level on a pure
 * v2 one (console.c, cgroup.c). A keeper of a container from before the
 * top level is outside already. */
static int leave_cgroups(const struct berth_vps_ctx *v, const char *name, const char *cgroup_dump,
                         struct berth_err *err)
{
        if (!cgroup_dump)
                return 0;
        struct berth_cgroup *cg = berth_cgroup_restore(cgroup_dump, err), *top = NULL;
        if (!cg)
                return -err->code;
        int r = 0;
        if (berth_cgroup_layout(cg) != BERTH_CG_UNIFIED)
                r = berth_cgroup_move_above(cg, getpid(), err);
        else if ((r = vps_cgroup_top(v, name, cg, &top, err)) > 0)
                r = berth_cgroup_move_above(top, getpid(), err);
        if (r >= 0)
                vps_trace(v, "VPS %s: the console keeper left the VPS's cgroups", name);
        berth_cgroup_free(top);
        berth_cgroup_free(cg);
        return r;
}

/* What the init's end means, for the log. */
static const char *exit_reason(int status, char *buf, size_t len)
{
        if (WIFSIGNALED(status) && WTERMSIG(status) == SIGHUP)
                return "the guest rebooted (its init ended by SIGHUP)";
        if (WIFSIGNALED(status) && WTERMSIG(status) == SIGINT)
                return "the guest powered off or halted (its init ended by SIGINT)";
        if (WIFSIGNALED(status))
                snprintf(buf, len, "the guest's init was killed by signal %d (%s)", WTERMSIG(status),
                         strsignal(WTERMSIG(status)));
        else
                snprintf(buf, len, "the guest's init exited with status %d", WEXITSTATUS(status));
        return buf;
}

/* Under the lock: true when the container is still the one whose init
 * ended (pid and start time as before the lock) and not running. */
static bool still_ours(const struct berth_vps_ctx *v, const char *name, pid_t init, uint64_t start_time)
{
        struct berth_container_info info;
        struct berth_err err = {0};
        if (vps_container_load(v, name, &info, &err) < 0)
                return false;
        bool same = info.st.pid == init && info.st.pid_start_time == start_time &&
                    info.status != BERTH_STATUS_RUNNING && info.status != BERTH_STATUS_PAUSED;
        berth_container_info_clear(&info);
        return same;
}

/* Under the lock: vps stop's cleanup, then the restart after a reboot. */
void vps_guest_exit_clean(const struct berth_vps_ctx *v, const char *name, int status, vps_restart_fn restart)
{
        struct berth_vps_config cfg;
        struct berth_err err = {0};
        /* vps.json as it is now: `vps set` may have changed it live. */
        if (berth_vps_config_load(v, name, &cfg, &err) < 0) {
                vps_trace(v, "VPS %s: its configuration is gone (%s): nothing to clean", name, err.msg);
                return;
        }
        if (vps_container_cleanup(v, &cfg, &err) < 0) {
                vps_warn(
                    v, "VPS %s: cleaning up after its guest failed (the next vps start or stop retries): %s",
                    name, err.msg);
        } else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGHUP) {
                vps_warn(v, "VPS %s: stopped; starting it again after the guest's reboot", name);
                if (restart(v, &cfg, &err) < 0)
                        vps_warn(v, "VPS %s: the restart after the guest's reboot failed: %s", name, err.msg);
        } else {
                vps_warn(v, "VPS %s: stopped: container, cgroups and network removed", name);
        }
        berth_vps_config_clear(&cfg);
}

int vps_guest_exit_claim(const struct berth_vps_ctx *v, const char *name, const struct vps_reaped *reaped,
                         size_t n_reaped, int *status)
{
        struct berth_container_info info;
        struct berth_err err = {0};
        /* No lock yet: a stop holds it while it waits for this very init. */
        if (vps_container_load(v, name, &info, &err) < 0) {
                vps_trace(v, "VPS %s: the init is gone and so is its container: nothing to do", name);
                return -1;
        }
        bool ours =
            info.status == BERTH_STATUS_STOPPED && reaped_status(reaped, n_reaped, info.st.pid, status);
        pid_t init = info.st.pid;
        uint64_t start_time = info.st.pid_start_time;
        int r = ours ? leave_cgroups(v, name, info.st.cgroup, &err) : 0;
        _cleanup_free_ char *cgroup_dump = ours && info.st.cgroup ? strdup(info.st.cgroup) : NULL;
        berth_container_info_clear(&info);
        if (!ours) {
                vps_trace(v, "VPS %s: the container is not the one whose init ended: left alone", name);
                return -1;
        }
        char buf[128];
        vps_warn(v, "VPS %s: %s", name, exit_reason(*status, buf, sizeof(buf)));
        if (r < 0) {
                vps_warn(v,
                         "VPS %s: the console keeper cannot leave the VPS's cgroups to remove them (the "
                         "next vps start, stop or repair does): %s",
                         name, err.msg);
                return -1;
        }
        int lock = vps_lock(v, name, &err);
        if (lock < 0) {
                vps_trace(v, "VPS %s: %s: nothing to clean", name, err.msg);
                return -1;
        }
        if (!still_ours(v, name, init, start_time)) {
                vps_trace(v, "VPS %s: a verb dealt with the VPS while the keeper waited for its lock", name);
                close(lock);
                return -1;
        }
        /* The start's worker moves the keeper into the VPS's cgroups after
         * the start has answered, holding the lock (console.c): an init
         * that ended at once may have been reaped, and the keeper left,
         * before that. Now that the lock is ours no one moves it again. */
        if (leave_cgroups(v, name, cgroup_dump, &err) < 0) {
                vps_warn(v, "VPS %s: the console keeper cannot leave the VPS's cgroups to remove them: %s",
                         name, err.msg);
                close(lock);
                return -1;
        }
        return lock;
}

void vps_guest_exited(const struct berth_vps_ctx *v, const char *name, const struct vps_reaped *reaped,
                      size_t n_reaped, vps_restart_fn restart)
{
        int status = 0;
        _cleanup_close_ int lock = vps_guest_exit_claim(v, name, reaped, n_reaped, &status);
        if (lock >= 0)
                vps_guest_exit_clean(v, name, status, restart);
}
