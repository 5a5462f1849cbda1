/* SPDX-License-Identifier: GPL-2.0-or-later */
/* process.rlimits -> setrlimit(2), with the limit named in every error. */
#include <errno.h>
#include <inttypes.h>
#include <sys/resource.h>

#include "berth/cleanup.h"
#include "berth/process.h"

static const struct {
        int resource;
        const char *name;
} rlimit_names[] = {
    {RLIMIT_AS, "RLIMIT_AS"},
    {RLIMIT_CORE, "RLIMIT_CORE"},
    {RLIMIT_CPU, "RLIMIT_CPU"},
    {RLIMIT_DATA, "RLIMIT_DATA"},
    {RLIMIT_FSIZE, "RLIMIT_FSIZE"},
    {RLIMIT_LOCKS, "RLIMIT_LOCKS"},
    {RLIMIT_MEMLOCK, "RLIMIT_MEMLOCK"},
    {RLIMIT_MSGQUEUE, "RLIMIT_MSGQUEUE"},
    {RLIMIT_NICE, "RLIMIT_NICE"},
    {RLIMIT_NOFILE, "RLIMIT_NOFILE"},
    {RLIMIT_NPROC, "RLIMIT_NPROC"},
    {RLIMIT_RSS, "RLIMIT_RSS"},
    {RLIMIT_RTPRIO, "RLIMIT_RTPRIO"},
    {RLIMIT_RTTIME, "RLIMIT_RTTIME"},
    {RLIMIT_SIGPENDING, "RLIMIT_SIGPENDING"},
    {RLIMIT_STACK, "RLIMIT_STACK"},
};

const char *berth_rlimit_name(int resource)
{
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(rlimit_names); i++)
                if (rlimit_names[i].resource == resource)
                        return rlimit_names[i].name;
        return NULL;
}

int berth_rlimits_apply(const struct berth_rlimit *rl, size_t n, struct berth_err *err)
{
        for (size_t i = 0; i < n; i++) {
                /* Set while we are still root in the container: raising a
                 * hard limit needs CAP_SYS_RESOURCE, lost with the uid change. */
                struct rlimit lim = {.rlim_cur = (rlim_t)rl[i].soft, .rlim_max = (rlim_t)rl[i].hard};
                if (setrlimit((__rlimit_resource_t)rl[i].resource, &lim) < 0) {
                        const char *name = berth_rlimit_name(rl[i].resource);
                        int e = errno;
                        if (name)
                                return berth_err_sys(err, e,
                                                     "setrlimit %s (soft %" PRIu64 ", hard %" PRIu64 ")",
                                                     name, rl[i].soft, rl[i].hard);
                        return berth_err_sys(err, e, "setrlimit resource %d", rl[i].resource);
                }
        }
        return 0;
}
