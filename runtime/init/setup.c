/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The init's remaining steps: names, sysctls, keyring, cwd, exe lookup. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/process.h"
#include "berth/rootfs.h"
#include "runtime/init/steps.h"
#include "runtime/init/sync.h"

#define KEYCTL_JOIN_SESSION_KEYRING 1

static int write_sysctl(const char *key, const char *value, struct berth_err *err)
{
        char path[PATH_MAX] = "/proc/sys/";
        size_t off = strlen(path);
        if (strstr(key, "..") || key[0] == '/' || strlen(key) + off >= sizeof(path))
                return berth_err_set(err, EINVAL, "linux.sysctl: invalid key %s", key);
        for (const char *p = key; *p; p++)
                path[off++] = *p == '.' ? '/' : *p;
        path[off] = '\0';
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return berth_err_sys(err, errno, "linux.sysctl: %s", key);
        size_t len = strlen(value);
        if (write(fd, value, len) != (ssize_t)len)
                return berth_err_sys(err, errno, "linux.sysctl: set %s=%s", key, value);
        return 0;
}

/* A new network namespace starts with lo down; runc and crun bring it up
 * (podman --network none relies on it). */
static int bring_up_loopback(struct berth_err *err)
{
        _cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        struct ifreq ifr = {0};
        strcpy(ifr.ifr_name, "lo");
        if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
                return berth_err_sys(err, errno, "loopback: get flags");
        ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
        if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
                return berth_err_sys(err, errno, "loopback: bring up");
        return 0;
}

int child_set_names_and_sysctls(struct container_setup *s, struct berth_err *err)
{
        const struct berth_spec *spec = s->spec;
        const struct berth_namespace *net = &spec->namespaces[BERTH_NS_NET];
        if (net->present && !net->path && bring_up_loopback(err) < 0)
                return -err->code;
        if (spec->hostname && sethostname(spec->hostname, strlen(spec->hostname)) < 0)
                return berth_err_sys(err, errno, "set hostname %s", spec->hostname);
        if (spec->domainname && setdomainname(spec->domainname, strlen(spec->domainname)) < 0)
                return berth_err_sys(err, errno, "set domainname %s", spec->domainname);
        for (size_t i = 0; i < spec->n_sysctl; i++) {
                int r = write_sysctl(spec->sysctl[i].key, spec->sysctl[i].value, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int child_join_keyring(struct container_setup *s, struct berth_err *err)
{
        if (s->no_new_keyring)
                return 0;
        /* A fresh anonymous session keyring, so the container cannot read
         * the caller's keys. Kernels or sandboxes without keyctl are fine. */
        if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0 && errno != ENOSYS && errno != EPERM &&
            errno != EACCES)
                return berth_err_sys(err, errno, "join a new session keyring");
        return 0;
}

int child_chdir_and_lookup(struct container_setup *s, char *exe, size_t exe_len, struct berth_err *err)
{
        const struct berth_process *p = &s->spec->process;
        int r = chdir_in_root(p->cwd, err);
        if (r < 0)
                return r;
        return berth_exe_lookup(p->args[0], p->env, exe, exe_len, err);
}

void child_fail_late(struct container_setup *s, const struct berth_err *err)
{
        /* `run` still listens on the sync socket; `start` reads the fifo. */
        if (s->fifo_write_fd >= 0)
                dprintf(s->fifo_write_fd, "%s", err->msg);
        else if (sync_send(s->sync_fd, SYNC_ERROR, err->code, err->msg) < 0)
                dprintf(STDERR_FILENO, "berth: %s\n", err->msg);
        _exit(127);
}

int chdir_in_root(const char *cwd, struct berth_err *err)
{
        /* Resolved inside our root, refusing magic links: a cwd such as
         * "/proc/self/fd/7" pointing at a leaked host directory must not
         * put the process outside the container (CVE-2024-21626). */
        _cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root < 0)
                return berth_err_sys(err, errno, "open /");
        _cleanup_close_ int dir = berth_in_root_open(root, cwd, O_PATH | O_DIRECTORY);
        if (dir < 0)
                return berth_err_sys(err, -dir, "chdir to cwd (\"%s\") set in config.json", cwd);
        if (fchdir(dir) < 0)
                return berth_err_sys(err, errno, "chdir to cwd (\"%s\") set in config.json", cwd);
        return 0;
}
