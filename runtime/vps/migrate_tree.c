// SPDX-License-Identifier: GPL-2.0-or-later
/* Walks over a VPS's or a template's tree for `vps migrate`: a content
 * checksum (is the destination's template the same?), the space it takes,
 * and the shift of its owners into another id range. Each walk goes down
 * through directory fds (openat with O_NOFOLLOW), never by path strings,
 * and does not cross into another file system. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "runtime/vps/backup.h"
#include "runtime/vps/migrate.h"

/* Largest xattr value (XATTR_SIZE_MAX) and a capability (v3). */
#define VPS_XATTR_MAX 65536
#define VPS_CAP_MAX   24

struct walk;
typedef int (*walk_fn)(struct walk *w, int dir_fd, const char *name, const struct stat *sb);

struct walk {
        walk_fn fn;
        dev_t dev;
        struct berth_err *err;
        char path[PATH_MAX]; /* relative path of the entry, for messages and the sum */
        /* checksum */
        uint64_t h[2];
        /* usage */
        uint64_t bytes;
        /* shift */
        struct vps_idrebase shift;
        unsigned char *xattr; /* VPS_XATTR_MAX bytes for an ACL */
};

static int cmp_names(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of dir (without . and ..), sorted: the checksum must not
 * depend on the order readdir happens to give. */
static int list_sorted(int dir_fd, char ***out, size_t *n)
{
        int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        if (!d) {
                int e = errno;
                if (fd >= 0)
                        close(fd);
                return -e;
        }
        char **v = NULL;
        size_t k = 0;
        struct dirent *de;
        int r = 0;
        while ((de = readdir(d))) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                char **nv = realloc(v, (k + 2) * sizeof(*nv));
                if (!nv || !(nv[k] = strdup(de->d_name))) {
                        if (nv)
                                v = nv;
                        r = -ENOMEM;
                        break;
                }
                v = nv;
                v[++k] = NULL;
        }
        closedir(d);
        if (r < 0) {
                for (size_t i = 0; i < k; i++)
                        free(v[i]);
                free(v);
                return r;
        }
        if (k)
                qsort(v, k, sizeof(*v), cmp_names);
        *out = v;
        *n = k;
        return 0;
}

static int walk_dir(struct walk *w, int dir_fd)
{
        char **names = NULL;
        size_t n = 0;
        int r = list_sorted(dir_fd, &names, &n);
        if (r < 0)
                return berth_err_sys(w->err, -r, "list %s", w->path[0] ? w->path : ".");
        size_t base = strlen(w->path);
        for (size_t i = 0; i < n && r >= 0; i++) {
                struct stat sb;
                snprintf(w->path + base, sizeof(w->path) - base, "/%s", names[i]);
                if (fstatat(dir_fd, names[i], &sb, AT_SYMLINK_NOFOLLOW) < 0) {
                        r = berth_err_sys(w->err, errno, "stat %s", w->path);
                        break;
                }
                r = w->fn(w, dir_fd, names[i], &sb);
                if (r >= 0 && S_ISDIR(sb.st_mode) && sb.st_dev == w->dev) {
                        _cleanup_close_ int sub =
                            openat(dir_fd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        r = sub < 0 ? berth_err_sys(w->err, errno, "open %s", w->path) : walk_dir(w, sub);
                }
                w->path[base] = '\0';
        }
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
        return r;
}

static int walk_tree(struct walk *w, const char *dir)
{
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct stat sb;
        if (fd < 0 || fstat(fd, &sb) < 0)
                return berth_err_sys(w->err, errno, "open %s", dir);
        w->dev = sb.st_dev;
        w->path[0] = '\0';
        int r = w->fn(w, fd, ".", &sb);
        return r < 0 ? r : walk_dir(w, fd);
}

/* ---- checksum: two FNV-1a 64 with different offset bases ---- */

static void mix(struct walk *w, const void *buf, size_t len)
{
        const unsigned char *p = buf;
        uint64_t a = w->h[0], b = w->h[1];
        for (size_t i = 0; i < len; i++) {
                a = (a ^ p[i]) * 0x100000001b3ull;
                b = (b ^ p[i]) * 0x100000001b3ull;
                b ^= b >> 29;
        }
        w->h[0] = a;
        w->h[1] = b;
}

static int mix_file(struct walk *w, int fd)
{
        char buf[65536];
        ssize_t n;
        while ((n = read(fd, buf, sizeof(buf))) > 0)
                mix(w, buf, (size_t)n);
        return n < 0 ? -errno : 0;
}

static int sum_entry(struct walk *w, int dir_fd, const char *name, const struct stat *sb)
{
        char head[PATH_MAX + 128];
        int n = snprintf(head, sizeof(head), "%s\n%o %u %u %u:%u %lld\n", w->path, (unsigned)sb->st_mode,
                         (unsigned)sb->st_uid, (unsigned)sb->st_gid, major(sb->st_rdev), minor(sb->st_rdev),
                         S_ISREG(sb->st_mode) ? (long long)sb->st_size : 0LL);
        mix(w, head, (size_t)n);
        if (S_ISLNK(sb->st_mode)) {
                char target[PATH_MAX];
                ssize_t len = readlinkat(dir_fd, name, target, sizeof(target));
                if (len < 0)
                        return berth_err_sys(w->err, errno, "readlink %s", w->path);
                mix(w, target, (size_t)len);
        } else if (S_ISREG(sb->st_mode)) {
                _cleanup_close_ int fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                int r = fd < 0 ? -errno : mix_file(w, fd);
                if (r < 0)
                        return berth_err_sys(w->err, -r, "read %s", w->path);
        }
        return 0;
}

int vps_tree_sum(const char *dir, const char *extra, char out[33], struct berth_err *err)
{
        struct walk w = {.fn = sum_entry, .err = err, .h = {0xcbf29ce484222325ull, 0x84222325cbf29ce4ull}};
        int r = walk_tree(&w, dir);
        if (r < 0)
                return berth_err_wrap(err, "checksum of %s", dir);
        _cleanup_close_ int fd = extra ? open(extra, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) : -EBADF;
        if (fd >= 0 && (r = mix_file(&w, fd)) < 0)
                return berth_err_sys(err, -r, "read %s", extra);
        snprintf(out, 33, "%016llx%016llx", (unsigned long long)w.h[0], (unsigned long long)w.h[1]);
        return 0;
}

/* ---- usage ---- */

static int usage_entry(struct walk *w, int dir_fd, const char *name, const struct stat *sb)
{
        (void)dir_fd, (void)name;
        /* A hard link's blocks once per link: an overestimate, on the safe side. */
        w->bytes += (uint64_t)sb->st_blocks * 512;
        return 0;
}

int vps_tree_usage(const char *dir, uint64_t *bytes, struct berth_err *err)
{
        struct walk w = {.fn = usage_entry, .err = err};
        int r = walk_tree(&w, dir);
        *bytes = w.bytes;
        return r < 0 ? berth_err_wrap(err, "disk usage of %s", dir) : 0;
}

/* ---- shift ---- */

/* One xattr whose value holds ids, read and rebased; *len 0 when absent. */
static int read_rebased(struct walk *w, const char *proc, const char *name, unsigned char *buf, size_t *len)
{
        ssize_t n = getxattr(proc, name, buf, VPS_XATTR_MAX);
        if (n < 0) {
                *len = 0;
                return errno == ENODATA || errno == EOPNOTSUPP
                           ? 0
                           : berth_err_sys(w->err, errno, "read %s of %s", name, w->path);
        }
        *len = (size_t)n;
        if (vps_xattr_rebase(&w->shift, name, buf, *len) < 0)
                return berth_err_set(w->err, EINVAL, "%s of %s: malformed", name, w->path);
        return 0;
}

static int write_back(struct walk *w, const char *proc, const char *name, const unsigned char *buf,
                      size_t len)
{
        if (len && setxattr(proc, name, buf, len, 0) < 0)
                return berth_err_sys(w->err, errno, "write %s of %s", name, w->path);
        return 0;
}

/* The named entries of a file's POSIX ACLs hold host ids too. */
static int shift_acls(struct walk *w, const char *proc, const struct stat *sb)
{
        static const char *const names[] = {"system.posix_acl_access", "system.posix_acl_default"};
        for (size_t i = 0; i < (S_ISDIR(sb->st_mode) ? 2u : 1u); i++) {
                size_t len;
                int r = read_rebased(w, proc, names[i], w->xattr, &len);
                if (r < 0 || (r = write_back(w, proc, names[i], w->xattr, len)) < 0)
                        return r;
        }
        return 0;
}

/* chown clears set-uid/set-gid bits and the file capability: both are put
 * back, the capability's root id (v3, a namespaced capability) shifted too. */
static int shift_owner(struct walk *w, int fd, const char *proc, const struct stat *sb)
{
        uid_t uid = vps_id_rebase(&w->shift, sb->st_uid);
        gid_t gid = vps_id_rebase(&w->shift, sb->st_gid);
        if (uid == sb->st_uid && gid == sb->st_gid)
                return 0;
        unsigned char cap[VPS_CAP_MAX];
        size_t caplen = 0;
        int r = S_ISREG(sb->st_mode) ? read_rebased(w, proc, "security.capability", cap, &caplen) : 0;
        if (r < 0)
                return r;
        if (fchownat(fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
                return berth_err_sys(w->err, errno, "chown %s", w->path);
        if (S_ISREG(sb->st_mode) && (sb->st_mode & (S_ISUID | S_ISGID)) &&
            chmod(proc, sb->st_mode & 07777) < 0)
                return berth_err_sys(w->err, errno, "chmod %s", w->path);
        return write_back(w, proc, "security.capability", cap, caplen);
}

static int shift_entry(struct walk *w, int dir_fd, const char *name, const struct stat *sb)
{
        char proc[64];
        _cleanup_close_ int fd = openat(dir_fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return berth_err_sys(w->err, errno, "open %s", w->path);
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        int r = shift_owner(w, fd, proc, sb);
        return r < 0 || !(S_ISREG(sb->st_mode) || S_ISDIR(sb->st_mode)) ? r : shift_acls(w, proc, sb);
}

int vps_tree_shift(const char *dir, uint32_t from, uint32_t to, uint32_t size, struct berth_err *err)
{
        if (from == to)
                return 0;
        _cleanup_free_ unsigned char *buf = malloc(VPS_XATTR_MAX);
        if (!buf)
                return berth_err_sys(err, ENOMEM, "shift the ids of %s", dir);
        struct walk w = {.fn = shift_entry, .err = err, .shift = {from, to, size}, .xattr = buf};
        int r = walk_tree(&w, dir);
        return r < 0 ? berth_err_wrap(err, "shift the ids of %s", dir) : 0;
}
