// SPDX-License-Identifier: GPL-2.0-or-later
/* vps set --hostname / --nameserver on a running VPS: the guest's
 * /etc/hostname, berth's lines of /etc/hosts and /etc/resolv.conf written
 * at once, as at start (guest.c: each path resolved inside the guest's
 * root, a symlink the guest put there replaced, never followed), through
 * the init's root; and the new host name set in the guest's UTS namespace. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/netns.h"
#include "berth/vps.h"
#include "runtime/vps/internal.h"

int vps_nameservers_parse(const char *const *list, char ***out, size_t *n, struct berth_err *err)
{
        size_t count = 0;
        while (list && list[count])
                count++;
        *n = 0;
        if (!(*out = calloc(count + 1, sizeof(char *))))
                return berth_err_set(err, ENOMEM, "out of memory");
        if (count == 1 && !strcmp(list[0], "none"))
                return 0;
        for (size_t i = 0; i < count; i++) {
                struct berth_ip_addr tmp;
                struct berth_err ignore = {0};
                if (!strcmp(list[i], "none"))
                        return berth_err_set(err, EINVAL, "--nameserver none: only alone");
                if (berth_ip_addr_parse(list[i], &tmp, &ignore) < 0 || strchr(list[i], '/'))
                        return berth_err_set(err, EINVAL, "--nameserver: not an IP address: %s", list[i]);
                if (!((*out)[i] = strdup(list[i])))
                        return berth_err_set(err, ENOMEM, "out of memory");
                (*n)++;
        }
        return 0;
}

static bool strv_equal(char *const *a, char *const *b)
{
        for (; a && b && *a && *b; a++, b++)
                if (strcmp(*a, *b))
                        return false;
        return !(a && *a) && !(b && *b);
}

/* In a child, so that this process keeps its own UTS namespace. */
static int set_uts_name(pid_t pid, const char *hostname, struct berth_err *err)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/ns/uts", (int)pid);
        _cleanup_close_ int ns = open(path, O_RDONLY | O_CLOEXEC);
        if (ns < 0)
                return berth_err_sys(err, errno, "open %s", path);
        pid_t child = fork();
        if (child < 0)
                return berth_err_sys(err, errno, "fork");
        if (child == 0)
                _exit(setns(ns, CLONE_NEWUTS) < 0 ? 1 : sethostname(hostname, strlen(hostname)) < 0 ? 2 : 0);
        int status;
        while (waitpid(child, &status, 0) < 0)
                if (errno != EINTR)
                        return berth_err_sys(err, errno, "wait for the host name setter");
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return berth_err_set(err, EPERM, "set the host name in the guest's UTS namespace: %s",
                                     WIFEXITED(status) && WEXITSTATUS(status) == 1 ? "setns failed"
                                                                                   : "sethostname failed");
        return 0;
}

int vps_guest_live(const struct berth_vps_ctx *v, const struct berth_vps_config *old,
                   const struct berth_vps_config *cfg, pid_t pid, struct berth_err *err)
{
        bool host = strcmp(old->hostname, cfg->hostname) != 0;
        bool dns = !strv_equal(old->net.nameservers, cfg->net.nameservers);
        if (!host && !dns)
                return 0;
        char root[64];
        snprintf(root, sizeof(root), "/proc/%d/root", (int)pid);
        /* The guest's root as its init sees it: every path below is
         * resolved inside it (vps_guest_files). */
        _cleanup_close_ int root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return berth_err_sys(err, errno, "VPS %s: open the guest's root", cfg->name);
        int r = vps_guest_files(root_fd, cfg, err);
        if (r >= 0 && host)
                r = set_uts_name(pid, cfg->hostname, err);
        if (r >= 0)
                vps_trace(v, "VPS %s: guest files%s written live", cfg->name, host ? " and host name" : "");
        return r < 0 ? berth_err_wrap(err, "VPS %s: live guest settings", cfg->name) : 0;
}
