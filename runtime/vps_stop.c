/* vps stop: the guest's own shutdown first (its init's stop signal), then,
 * when the timeout runs out, every process is killed. Waiting is a poll on
 * the init's pidfd: no sleep loop, and the stop returns the moment the init
 * is gone. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/vps.h"
#include "runtime/vps_internal.h"

static int stop_signal(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg)
{
        if (cfg->stop_signal)
                return cfg->stop_signal;
        struct berth_vps_template t;
        struct berth_err ignore = {0};
        int sig = SIGTERM;
        if (berth_vps_template_load(v, cfg->template_name, &t, &ignore) == 0) {
                if (t.stop_signal)
                        sig = t.stop_signal;
                berth_vps_template_clear(&t);
        }
        return sig;
}

/* Returns 1 when the init exited within the timeout, 0 when not. */
static int wait_exit(int pidfd, int timeout_s, struct berth_err *err)
{
        struct pollfd p = {.fd = pidfd, .events = POLLIN};
        int ms = timeout_s > 0 ? timeout_s * 1000 : 0;
        for (;;) {
                int n = poll(&p, 1, ms);
                if (n >= 0)
                        return n > 0;
                if (errno != EINTR)
                        return berth_err_sys(err, errno, "wait for the init");
        }
}

static int stop_running(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg,
                        const struct berth_container_info *info, int timeout_s, bool *forced,
                        struct berth_err *err)
{
        char id[BERTH_VPS_NAME_MAX + 8];
        berth_vps_container_id(cfg->name, id, sizeof(id));
        _cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, info->st.pid, 0);
        if (pidfd < 0 || !berth_state_init_alive(&info->st))
                return vps_container_cleanup(v, cfg, err);
        struct berth_err ignore = {0};
        /* A frozen init cannot act on its signal. */
        if (info->status == BERTH_STATUS_PAUSED)
                berth_container_resume(v->ctx, id, &ignore);
        int exited = 0;
        if (timeout_s > 0 && syscall(SYS_pidfd_send_signal, pidfd, stop_signal(v, cfg), NULL, 0) == 0)
                exited = wait_exit(pidfd, timeout_s, err);
        if (exited < 0)
                return exited;
        if (forced)
                *forced = !exited;
        return vps_container_cleanup(v, cfg, err);
}

int berth_vps_stop(const struct berth_vps_ctx *v, const char *name, int timeout_s, bool *forced,
                   struct berth_err *err)
{
        if (forced)
                *forced = false;
        struct berth_vps_config cfg;
        int r = berth_vps_config_load(v, name, &cfg, err);
        if (r < 0)
                return r;
        _cleanup_close_ int lock = vps_lock(v, name, err);
        struct berth_container_info info;
        if (lock < 0) {
                r = lock;
        } else if ((r = vps_container_load(v, name, &info, err)) == -ENOENT) {
                struct berth_err ignore = {0};
                vps_net_down(&cfg, &ignore);
                r = berth_err_set(err, ESRCH, "VPS %s is not running", name);
        } else if (r >= 0) {
                if (info.status == BERTH_STATUS_RUNNING || info.status == BERTH_STATUS_PAUSED)
                        r = stop_running(v, &cfg, &info, timeout_s, forced, err);
                else /* created, stopped, or half created: only leftovers */
                        r = vps_container_cleanup(v, &cfg, err);
                berth_container_info_clear(&info);
        }
        berth_vps_config_clear(&cfg);
        return r < 0 ? berth_err_wrap(err, "stop VPS %s", name) : 0;
}
