// SPDX-License-Identifier: GPL-2.0-or-later
/* The template's checksum in a backup's manifest: SHA-256 (FIPS 180-4;
 * berth links no crypto library) over a canonical walk of the template's
 * root, so that restore can tell "the same template" from "a template of
 * the same name" on another host. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/file.h"
#include "runtime/vps/backup.h"
#include "runtime/vps/internal.h"

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void block(struct vps_sha256 *c, const unsigned char *p)
{
        uint32_t w[64], s[8];
        for (int i = 0; i < 16; i++)
                w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 |
                       p[4 * i + 3];
        for (int i = 16; i < 64; i++) {
                uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
                uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
                w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        memcpy(s, c->h, sizeof(s));
        for (int i = 0; i < 64; i++) {
                uint32_t t1 = s[7] + (ROR(s[4], 6) ^ ROR(s[4], 11) ^ ROR(s[4], 25)) +
                              ((s[4] & s[5]) ^ (~s[4] & s[6])) + K[i] + w[i];
                uint32_t t2 = (ROR(s[0], 2) ^ ROR(s[0], 13) ^ ROR(s[0], 22)) +
                              ((s[0] & s[1]) ^ (s[0] & s[2]) ^ (s[1] & s[2]));
                memmove(s + 1, s, 7 * sizeof(uint32_t));
                s[4] += t1;
                s[0] = t1 + t2;
        }
        for (int i = 0; i < 8; i++)
                c->h[i] += s[i];
}

void vps_sha256_init(struct vps_sha256 *c)
{
        static const uint32_t h0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                       0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
        memcpy(c->h, h0, sizeof(h0));
        c->n = 0;
        c->used = 0;
}

void vps_sha256_update(struct vps_sha256 *c, const void *data, size_t len)
{
        const unsigned char *p = data;
        if (!len) /* data may be NULL then, which memcpy must not get */
                return;
        c->n += len;
        if (c->used) {
                size_t k = 64 - c->used < len ? 64 - c->used : len;
                memcpy(c->buf + c->used, p, k);
                c->used += k, p += k, len -= k;
                if (c->used < 64)
                        return;
                block(c, c->buf);
                c->used = 0;
        }
        for (; len >= 64; p += 64, len -= 64)
                block(c, p);
        memcpy(c->buf, p, len);
        c->used = len;
}

void vps_sha256_final(struct vps_sha256 *c, unsigned char out[32])
{
        uint64_t bits = c->n * 8;
        unsigned char pad[72] = {0x80};
        size_t k = (c->used < 56 ? 56 : 120) - c->used;
        for (int i = 0; i < 8; i++)
                pad[k + i] = (unsigned char)(bits >> (56 - 8 * i));
        vps_sha256_update(c, pad, k + 8);
        for (int i = 0; i < 8; i++)
                for (int j = 0; j < 4; j++)
                        out[4 * i + j] = (unsigned char)(c->h[i] >> (24 - 8 * j));
}

/* ---- the tree ---- */

static int by_name(const struct dirent **a, const struct dirent **b)
{
        return strcmp((*a)->d_name, (*b)->d_name);
}

static int hash_xattrs(struct vps_sha256 *c, const char *path)
{
        char names[16384];
        ssize_t n = llistxattr(path, names, sizeof(names));
        if (n < 0)
                return errno == ENOTSUP ? 0 : -errno;
        /* Names come in the file system's order: hash them sorted. */
        char *v[512];
        size_t k = 0;
        for (char *p = names; p < names + n && k < 512; p += strlen(p) + 1)
                v[k++] = p;
        for (size_t i = 1; i < k; i++)
                for (size_t j = i; j > 0 && strcmp(v[j - 1], v[j]) > 0; j--) {
                        char *t = v[j];
                        v[j] = v[j - 1], v[j - 1] = t;
                }
        for (size_t i = 0; i < k; i++) {
                unsigned char val[65536];
                ssize_t m = lgetxattr(path, v[i], val, sizeof(val));
                if (m < 0)
                        return -errno;
                vps_sha256_update(c, v[i], strlen(v[i]) + 1);
                vps_sha256_update(c, val, (size_t)m);
        }
        return 0;
}

static int hash_content(struct vps_sha256 *c, const char *path)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        /* Static, not on the stack; not __thread either: a thread-local
         * block is zeroed at every exec of berth-full, dirtying its pages
         * in every process (console keepers included) that never hashes. */
        static unsigned char buf[1 << 16];
        ssize_t n;
        while ((n = read(fd, buf, sizeof(buf))) > 0)
                vps_sha256_update(c, buf, (size_t)n);
        return n < 0 ? -errno : 0;
}

/* full: the checksum (content, xattrs, no times); else the fingerprint
 * (metadata only, with inode numbers and times). */
static int hash_entry(struct vps_sha256 *c, const char *path, const char *rel, const struct stat *st,
                      bool full)
{
        char meta[PATH_MAX + 256];
        int n = snprintf(
            meta, sizeof(meta), "%s%c%o %u %u %lld %llu", rel, 0, (unsigned)st->st_mode, (unsigned)st->st_uid,
            (unsigned)st->st_gid, S_ISREG(st->st_mode) ? (long long)st->st_size : 0LL,
            (unsigned long long)(S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode) ? st->st_rdev : 0));
        if (n > 0 && (size_t)n < sizeof(meta) && !full)
                n += snprintf(meta + n, sizeof(meta) - (size_t)n, " %llu %lld.%ld %lld.%ld",
                              (unsigned long long)st->st_ino, (long long)st->st_mtim.tv_sec,
                              st->st_mtim.tv_nsec, (long long)st->st_ctim.tv_sec, st->st_ctim.tv_nsec);
        if (n < 0 || (size_t)n >= sizeof(meta))
                return -ENAMETOOLONG;
        vps_sha256_update(c, meta, (size_t)n + 1);
        if (!full)
                return 0;
        if (S_ISLNK(st->st_mode)) {
                char target[PATH_MAX];
                ssize_t k = readlink(path, target, sizeof(target));
                if (k < 0)
                        return -errno;
                vps_sha256_update(c, target, (size_t)k);
        }
        int r = hash_xattrs(c, path);
        if (r >= 0 && S_ISREG(st->st_mode))
                r = hash_content(c, path);
        return r;
}

static int hash_dir(struct vps_sha256 *c, char *path, size_t plen, size_t rootlen, bool full)
{
        struct dirent **list = NULL;
        int n = scandir(path, &list, NULL, by_name);
        if (n < 0)
                return -errno;
        int r = 0;
        for (int i = 0; i < n; i++) {
                const char *name = list[i]->d_name;
                if (r < 0 || !strcmp(name, ".") || !strcmp(name, "..")) {
                        free(list[i]);
                        continue;
                }
                size_t len = strlen(path);
                struct stat st;
                if (len + strlen(name) + 2 > plen) {
                        r = -ENAMETOOLONG;
                } else {
                        snprintf(path + len, plen - len, "/%s", name);
                        const char *sub = path + rootlen; /* "/dir/name" */
                        if (lstat(path, &st) < 0)
                                r = -errno;
                        else if ((r = hash_entry(c, path, sub, &st, full)) >= 0 && S_ISDIR(st.st_mode))
                                r = hash_dir(c, path, plen, rootlen, full);
                        path[len] = '\0';
                }
                free(list[i]);
        }
        free(list);
        return r;
}

static int tree_hash(const char *root, bool full, char out[VPS_BACKUP_SUM_LEN], struct berth_err *err)
{
        struct vps_sha256 c;
        vps_sha256_init(&c);
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s", root);
        struct stat st;
        int r = lstat(path, &st) < 0 ? -errno : hash_entry(&c, path, "", &st, full);
        if (r >= 0)
                r = hash_dir(&c, path, sizeof(path), strlen(path), full);
        if (r < 0)
                return berth_err_sys(err, -r, "checksum of %s", root);
        unsigned char d[32];
        vps_sha256_final(&c, d);
        memcpy(out, "sha256:", 7);
        for (int i = 0; i < 32; i++)
                snprintf(out + 7 + 2 * i, 3, "%02x", d[i]);
        return 0;
}

int vps_tree_checksum(const char *root, char out[VPS_BACKUP_SUM_LEN], struct berth_err *err)
{
        return tree_hash(root, true, out, err);
}

/* The cache: "<fingerprint> <checksum>" in <template>/.checksum. Any
 * change to a file of the template changes its ctime (and so the
 * fingerprint, a walk of lstat calls): a matching fingerprint means the
 * cached checksum holds, without reading the template's contents. */
#define CACHE_FILE ".checksum"

int vps_template_checksum(const char *tmpl_dir, char out[VPS_BACKUP_SUM_LEN], struct berth_err *err)
{
        char rootfs[PATH_MAX], cache[PATH_MAX], fp[VPS_BACKUP_SUM_LEN], fp2[VPS_BACKUP_SUM_LEN];
        snprintf(rootfs, sizeof(rootfs), "%s/rootfs", tmpl_dir);
        snprintf(cache, sizeof(cache), "%s/" CACHE_FILE, tmpl_dir);
        int r = tree_hash(rootfs, false, fp, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        if (berth_read_file_at(AT_FDCWD, cache, O_NOFOLLOW, 4096, &text, &len) >= 0 &&
            len >= 2 * (VPS_BACKUP_SUM_LEN - 1) + 1 && !strncmp(text, fp, VPS_BACKUP_SUM_LEN - 1) &&
            text[VPS_BACKUP_SUM_LEN - 1] == ' ' && !strncmp(text + VPS_BACKUP_SUM_LEN, "sha256:", 7)) {
                snprintf(out, VPS_BACKUP_SUM_LEN, "%.*s", VPS_BACKUP_SUM_LEN - 1, text + VPS_BACKUP_SUM_LEN);
                return 0;
        }
        if ((r = vps_tree_checksum(rootfs, out, err)) < 0)
                return r;
        /* Cached only when nothing changed while it was read; a cache
         * that cannot be written costs the next backup the same read. */
        char line[2 * VPS_BACKUP_SUM_LEN + 2];
        struct berth_err ignore = {0};
        if (tree_hash(rootfs, false, fp2, &ignore) >= 0 && !strcmp(fp, fp2)) {
                int n = snprintf(line, sizeof(line), "%s %s", fp, out);
                vps_write_file_atomic(cache, line, (size_t)n);
        }
        return 0;
}
