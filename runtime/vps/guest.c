/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The guest files berth owns, written at every start through the mounted
 * overlay (so copy-up and whiteouts come out right) with every path
 * resolved inside the guest's root: /etc/hostname, berth's lines of
 * /etc/hosts, and /etc/resolv.conf when nameservers are configured. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/file.h"
#include "berth/rootfs.h"
#include "berth/vps.h"
#include "runtime/vps/internal.h"

#define HOSTS_MARK "# berth"
#define HOSTS_MAX  (64 * 1024)

/* What the guest has at name must be a regular file (or nothing) for us
 * to replace it: a directory is the guest's and is refused (rename would
 * fail with a less clear error); a FIFO, device, socket or symlink is
 * replaced, never opened. */
static int check_target(int etc_fd, const char *name, struct berth_err *err)
{
        struct stat sb;
        if (fstatat(etc_fd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : berth_err_sys(err, errno, "stat /etc/%s", name);
        if (S_ISDIR(sb.st_mode))
                return berth_err_set(err, EISDIR, "replace /etc/%s: a directory in the guest (remove it)",
                                     name);
        return 0;
}

/* The file at name is already exactly what we would write: a regular
 * file of ours (owner, mode) with these bytes. Then nothing is written,
 * so a VPS whose disk the guest filled still starts when nothing changed
 * (a rename needs new blocks even for the same bytes). */
static bool already_there(int etc_fd, const char *name, const char *data, size_t len, uid_t owner)
{
        _cleanup_close_ int fd = openat(etc_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        struct stat sb;
        if (fd < 0 || fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || (size_t)sb.st_size != len ||
            sb.st_uid != owner || sb.st_gid != owner || (sb.st_mode & 07777) != 0644)
                return false;
        char buf[4096];
        for (size_t off = 0; off < len;) {
                size_t want = len - off < sizeof(buf) ? len - off : sizeof(buf);
                ssize_t n = read(fd, buf, want);
                if (n <= 0 || memcmp(buf, data + off, (size_t)n))
                        return false;
                off += (size_t)n;
        }
        return true;
}

/* A new file renamed over the old one: a symlink placed there by the guest
 * is replaced, never followed out of the root. We write it as host root:
 * it goes to the guest's root (its host uid when the VPS has its own user
 * namespace, else a file root could not edit inside). */
static int replace_file(int etc_fd, const char *name, const char *data, size_t len, uid_t owner,
                        struct berth_err *err)
{
        char tmp[64];
        snprintf(tmp, sizeof(tmp), ".berth-%s.tmp", name);
        int r = check_target(etc_fd, name, err);
        if (r < 0 || already_there(etc_fd, name, data, len, owner))
                return r;
        struct iovec iov = {(void *)data, len};
        struct berth_atomic_opts o = {
            .tmp = tmp, .mode = 0644, .exact_mode = true, .chown = true, .uid = owner, .gid = owner};
        r = berth_write_file_atomic_at(etc_fd, name, &iov, 1, &o);
        if (r == -EISDIR)
                return berth_err_set(err, EEXIST,
                                     "write /etc/%s: /etc/%s in the guest is a directory, not berth's "
                                     "temporary file (remove it)",
                                     name, tmp);
        if (r == -ENOSPC || r == -EDQUOT)
                return berth_err_sys(err, -r,
                                     "replace /etc/%s: the VPS's disk is full (free space in it, or grow it "
                                     "with `berth vps set --disk`)",
                                     name);
        return r < 0 ? berth_err_sys(err, -r, "replace /etc/%s", name) : 0;
}

/* The guest's own /etc/hosts lines (those without berth's mark), or the
 * usual localhost lines when there is no file yet. */
static int hosts_keep(int root_fd, FILE *out)
{
        /* Read only a regular file: O_NONBLOCK so that opening a FIFO does
         * not wait, O_NOFOLLOW for a symlink as the last component (the
         * resolution stays inside the root anyway). */
        _cleanup_close_ int fd =
            berth_in_root_open(root_fd, "/etc/hosts", O_RDONLY | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
        struct stat sb;
        if (fd >= 0 && (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)))
                berth_closep(&fd);
        if (fd < 0) {
                fputs("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n", out);
                return 0;
        }
        _cleanup_free_ char *buf = malloc(HOSTS_MAX + 1);
        if (!buf)
                return -ENOMEM;
        ssize_t n = read(fd, buf, HOSTS_MAX);
        if (n < 0)
                return -errno;
        buf[n] = '\0';
        char *save = NULL;
        for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
                if (!strstr(line, HOSTS_MARK))
                        fprintf(out, "%s\n", line);
        return 0;
}

static int write_hosts(int root_fd, int etc_fd, const struct berth_vps_config *cfg, struct berth_err *err)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&text, &len);
        if (!out)
                return berth_err_sys(err, errno, "/etc/hosts");
        int r = hosts_keep(root_fd, out);
        for (size_t i = 0; i < cfg->net.n_addrs; i++) {
                char a[BERTH_IP_ADDR_STRLEN];
                berth_ip_addr_format(&cfg->net.addrs[i], false, a, sizeof(a));
                fprintf(out, "%s\t%s\t" HOSTS_MARK "\n", a, cfg->hostname);
        }
        if (cfg->net.n_addrs == 0)
                fprintf(out, "127.0.1.1\t%s\t" HOSTS_MARK "\n", cfg->hostname);
        if (fclose(out) != 0 || r < 0)
                return berth_err_sys(err, r < 0 ? -r : ENOMEM, "/etc/hosts");
        return replace_file(etc_fd, "hosts", text, len, vps_host_uid(cfg, 0), err);
}

static int write_resolv(int etc_fd, const struct berth_vps_config *cfg, struct berth_err *err)
{
        if (!cfg->net.n_nameservers)
                return 0; /* the template's (or the guest's) own file stays */
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&text, &len);
        if (!out)
                return berth_err_sys(err, errno, "/etc/resolv.conf");
        fputs("# written by berth at every start (vps set --nameserver)\n", out);
        for (size_t i = 0; i < cfg->net.n_nameservers; i++)
                fprintf(out, "nameserver %s\n", cfg->net.nameservers[i]);
        if (fclose(out) != 0)
                return berth_err_sys(err, ENOMEM, "/etc/resolv.conf");
        return replace_file(etc_fd, "resolv.conf", text, len, vps_host_uid(cfg, 0), err);
}

int vps_guest_files(int root_fd, const struct berth_vps_config *cfg, struct berth_err *err)
{
        _cleanup_close_ int etc = berth_in_root_mkdir_p(root_fd, "/etc", 0755);
        if (etc < 0)
                return berth_err_sys(err, -etc, "guest /etc");
        /* mkdir_p hands out an O_PATH fd; the *at calls need a real one. */
        _cleanup_close_ int etc_fd = openat(etc, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (etc_fd < 0)
                return berth_err_sys(err, errno, "guest /etc");
        char hostname[BERTH_VPS_NAME_MAX + 256];
        int n = snprintf(hostname, sizeof(hostname), "%s\n", cfg->hostname);
        int r = replace_file(etc_fd, "hostname", hostname, (size_t)n, vps_host_uid(cfg, 0), err);
        if (r >= 0)
                r = write_hosts(root_fd, etc_fd, cfg, err);
        if (r >= 0)
                r = write_resolv(etc_fd, cfg, err);
        return r < 0 ? berth_err_wrap(err, "VPS %s: guest files", cfg->name) : 0;
}
