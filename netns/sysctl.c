/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Per-network-namespace sysctls (/proc/sys/net/...).
 *
 * The files under /proc/sys/net belong to the network namespace of the
 * thread that opens them, so the file is opened inside the target namespace;
 * once open it stays bound to it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "berth/netns.h"

/* Relative, no ".." component: the key names a file under /proc/sys/net. */
static bool key_valid(const char *key)
{
        if (!key || !*key || key[0] == '/')
                return false;
        for (const char *p = key; *p;) {
                size_t n = strcspn(p, "/");
                if (n == 0 || (n == 2 && p[0] == '.' && p[1] == '.') || (n == 1 && p[0] == '.'))
                        return false;
                p += n;
                if (*p == '/')
                        p++;
        }
        return key[strlen(key) - 1] != '/';
}

struct sysctl_open {
        const char *key;
        int flags;
        int fd;
};

static int open_here(void *data, struct berth_err *err)
{
        struct sysctl_open *so = data;
        char path[512];
        if (snprintf(path, sizeof(path), "/proc/sys/net/%s", so->key) >= (int)sizeof(path))
                return berth_err_set(err, ENAMETOOLONG, "sysctl net/%s: name too long", so->key);
        so->fd = open(path, so->flags | O_CLOEXEC | O_NOFOLLOW);
        if (so->fd < 0)
                return berth_err_sys(err, errno, "open sysctl net/%s", so->key);
        return 0;
}

static int sysctl_open(int netns_fd, const char *key, int flags, struct berth_err *err)
{
        struct sysctl_open so = {key, flags, -EBADF};
        if (!key_valid(key))
                return berth_err_set(err, EINVAL, "invalid sysctl name 'net/%s'", key ? key : "(null)");
        int r = netns_fd >= 0 ? berth_netns_run(netns_fd, open_here, &so, err) : open_here(&so, err);
        if (r < 0) {
                if (so.fd >= 0)
                        close(so.fd);
                return r;
        }
        return so.fd;
}

int berth_sysctl_net_write(int netns_fd, const char *key, const char *value, struct berth_err *err)
{
        _cleanup_close_ int fd = sysctl_open(netns_fd, key, O_WRONLY, err);
        if (fd < 0)
                return fd;
        size_t len = strlen(value);
        ssize_t n = write(fd, value, len);
        if (n < 0)
                return berth_err_sys(err, errno, "write sysctl net/%s=%s", key, value);
        if ((size_t)n != len)
                return berth_err_set(err, EIO, "write sysctl net/%s=%s: short write", key, value);
        return 0;
}

int berth_sysctl_net_read(int netns_fd, const char *key, char *buf, size_t len, struct berth_err *err)
{
        if (len == 0)
                return berth_err_set(err, EINVAL, "read sysctl net/%s: no buffer", key);
        _cleanup_close_ int fd = sysctl_open(netns_fd, key, O_RDONLY, err);
        if (fd < 0)
                return fd;
        ssize_t n = read(fd, buf, len - 1);
        if (n < 0)
                return berth_err_sys(err, errno, "read sysctl net/%s", key);
        buf[n] = '\0';
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
                buf[--n] = '\0';
        return 0;
}
