/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The compiled-seccomp-program cache (see seccomp_cache.h for the design).
 *
 * File layout (native endianness: the cache never leaves the machine, and a
 * kernel upgrade already changes the key):
 *
 *   struct cache_header   magic, format, lengths, flags, checksum
 *   key bytes             the canonical profile serialisation, compared in full
 *   0-7 zero bytes        so that the program starts 8-byte aligned
 *   BPF instructions      n_insns * struct sock_filter */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/file.h"
#include "runtime/seccomp/cache.h"

#define CACHE_MAGIC  "BSCMPBPF"
#define CACHE_FORMAT 2u         /* 2: programs carry the ENOSYS prologue */
#define KEY_MAX      (4u << 20) /* a sanity bound on what we read back */
#define INSNS_MAX    4096u      /* BPF_MAXINSNS */

struct cache_header {
        char magic[8];
        uint32_t format;
        uint32_t key_len;
        uint32_t n_insns;
        uint32_t notify;
        uint64_t flags;    /* SECCOMP_FILTER_FLAG_* to load with */
        uint64_t checksum; /* FNV-1a of header (checksum 0) + key + insns */
};

/* ---- FNV-1a ------------------------------------------------------------- */

#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME  0x100000001b3ull

static uint64_t fnv1a(uint64_t h, const void *buf, size_t len)
{
        const unsigned char *p = buf;
        for (size_t i = 0; i < len; i++) {
                h ^= p[i];
                h *= FNV_PRIME;
        }
        return h;
}

/* ---- the key: a canonical serialisation of the profile ------------------ */

struct keybuf {
        unsigned char *p;
        size_t len, cap;
        bool oom;
};

static void put(struct keybuf *k, const void *data, size_t n)
{
        if (k->oom)
                return;
        if (k->len + n > k->cap) {
                size_t cap = k->cap ? k->cap : 4096;
                while (cap < k->len + n)
                        cap *= 2;
                unsigned char *p = realloc(k->p, cap);
                if (!p) {
                        k->oom = true;
                        return;
                }
                k->p = p;
                k->cap = cap;
        }
        memcpy(k->p + k->len, data, n);
        k->len += n;
}

static void put_u64(struct keybuf *k, uint64_t v)
{
        put(k, &v, sizeof(v));
}

/* Length-prefixed, so that ["ab","c"] and ["a","bc"] differ. */
static void put_str(struct keybuf *k, const char *s)
{
        size_t n = s ? strlen(s) : 0;
        put_u64(k, s ? n : UINT64_MAX);
        put(k, s, n);
}

/* Everything besides the profile that changes the program: berth (how it
 * reads profiles), libseccomp (its syscall tables and code generator) and
 * the kernel (which flags and actions it accepts: its release and build
 * string stand for that, so libseccomp's API-level probe, ten seccomp(2)
 * calls, stays off the hot path). */
static void put_environment(struct keybuf *k)
{
        const struct scmp_version *v = seccomp_version();
        struct utsname u;

        put_str(k, "berth-seccomp-cache/1");
        put_str(k, BERTH_VERSION);
        put_u64(k, v ? v->major : 0);
        put_u64(k, v ? v->minor : 0);
        put_u64(k, v ? v->micro : 0);
        if (uname(&u) == 0) {
                put_str(k, u.release);
                put_str(k, u.version);
                put_str(k, u.machine);
        }
}

static void put_rule(struct keybuf *k, const struct berth_seccomp_rule *r)
{
        put_u64(k, r->action);
        put_u64(k, r->has_errno_ret);
        put_u64(k, r->errno_ret);
        put_u64(k, r->n_names);
        for (size_t i = 0; i < r->n_names; i++)
                put_str(k, r->names[i]);
        put_u64(k, r->n_args);
        for (size_t i = 0; i < r->n_args; i++) {
                put_u64(k, r->args[i].index);
                put_u64(k, r->args[i].op);
                put_u64(k, r->args[i].value);
                put_u64(k, r->args[i].value_two);
        }
}

int seccomp_cache_key(const struct berth_seccomp *s, unsigned char **key, size_t *len, struct berth_err *err)
{
        struct keybuf k = {0};

        put_environment(&k);
        put_u64(&k, s->default_action);
        put_u64(&k, s->has_default_errno_ret);
        put_u64(&k, s->default_errno_ret);
        put_u64(&k, s->flags);
        put_u64(&k, s->n_architectures);
        for (size_t i = 0; i < s->n_architectures; i++)
                put_str(&k, s->architectures[i]);
        put_u64(&k, s->n_rules);
        for (size_t i = 0; i < s->n_rules; i++)
                put_rule(&k, &s->rules[i]);
        /* listenerPath and listenerMetadata do not shape the program. */
        if (k.oom) {
                free(k.p);
                return berth_err_sys(err, ENOMEM, "seccomp cache key");
        }
        *key = k.p;
        *len = k.len;
        return 0;
}

void seccomp_cache_name(const unsigned char *key, size_t len, char name[32])
{
        snprintf(name, 32, "%016llx.bpf", (unsigned long long)fnv1a(FNV_OFFSET, key, len));
}

static size_t key_padding(size_t key_len)
{
        return (8 - key_len % 8) % 8;
}

static uint64_t file_checksum(const struct cache_header *h, const void *key, const void *insns)
{
        struct cache_header zeroed = *h;
        zeroed.checksum = 0;
        uint64_t c = fnv1a(FNV_OFFSET, &zeroed, sizeof(zeroed));
        c = fnv1a(c, key, h->key_len);
        return fnv1a(c, insns, (size_t)h->n_insns * sizeof(struct sock_filter));
}

/* ---- the cache directory ------------------------------------------------ */

/* Only a directory we own and nobody else can write to: its files decide
 * which syscalls containers may make. */
static bool trusted(int fd, bool want_dir)
{
        struct stat st;
        if (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)))
                return false;
        return want_dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode);
}

static int open_cache_dir(int root_fd)
{
        int fd = openat(root_fd, BERTH_SECCOMP_CACHE_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT) {
                if (mkdirat(root_fd, BERTH_SECCOMP_CACHE_DIR, 0700) < 0 && errno != EEXIST)
                        return -errno;
                fd =
                    openat(root_fd, BERTH_SECCOMP_CACHE_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (fd < 0)
                return -errno;
        if (!trusted(fd, true)) {
                close(fd);
                return -EPERM;
        }
        return fd;
}

/* ---- reading ------------------------------------------------------------ */

static int read_all(int fd, void *buf, size_t n)
{
        size_t done = 0;
        while (done < n) {
                ssize_t r = pread(fd, (char *)buf + done, n - done, (off_t)done);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        return -EIO;
                done += (size_t)r;
        }
        return 0;
}

/* The cached program for `key`, or NULL on any kind of miss. */
static struct berth_seccomp_filter *cache_read(int dir_fd, const char *name, const unsigned char *key,
                                               size_t key_len)
{
        _cleanup_close_ int fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || !trusted(fd, false) || fstat(fd, &st) < 0)
                return NULL;
        size_t size = (size_t)st.st_size;
        size_t prefix = sizeof(struct cache_header) + key_len + key_padding(key_len);
        if (size < prefix + sizeof(struct sock_filter) ||
            size > prefix + INSNS_MAX * sizeof(struct sock_filter))
                return NULL;
        _cleanup_free_ unsigned char *buf = malloc(size);
        if (!buf || read_all(fd, buf, size) < 0)
                return NULL;
        struct cache_header h;
        memcpy(&h, buf, sizeof(h));
        const unsigned char *fkey = buf + sizeof(h);
        const void *insns = buf + prefix; /* 8-byte aligned: malloc'd, prefix padded */
        if (memcmp(h.magic, CACHE_MAGIC, sizeof(h.magic)) || h.format != CACHE_FORMAT ||
            h.key_len != key_len || h.n_insns == 0 || h.n_insns > INSNS_MAX ||
            size != prefix + (size_t)h.n_insns * sizeof(struct sock_filter))
                return NULL;
        if (memcmp(fkey, key, key_len) || file_checksum(&h, fkey, insns) != h.checksum)
                return NULL;
        struct berth_err ignored = {0};
        return berth_seccomp_filter_new(insns, h.n_insns, h.flags, h.notify != 0, &ignored);
}

/* ---- writing ------------------------------------------------------------ */

static void cache_write(int dir_fd, const char *name, const unsigned char *key, size_t key_len,
                        const struct berth_seccomp_filter *f)
{
        size_t n = 0;
        const struct sock_filter *insns = berth_seccomp_filter_insns(f, &n);
        if (!insns || n == 0 || n > INSNS_MAX || key_len > KEY_MAX)
                return;
        struct cache_header h = {.format = CACHE_FORMAT,
                                 .key_len = (uint32_t)key_len,
                                 .n_insns = (uint32_t)n,
                                 .notify = berth_seccomp_filter_has_notify(f),
                                 .flags = berth_seccomp_filter_flags(f)};
        memcpy(h.magic, CACHE_MAGIC, sizeof(h.magic));
        h.checksum = file_checksum(&h, key, insns);

        char tmp[64];
        snprintf(tmp, sizeof(tmp), "%s.%d.tmp", name, (int)getpid());
        static const char zeros[8];
        struct iovec iov[] = {{&h, sizeof(h)},
                              {(void *)key, key_len},
                              {(void *)zeros, key_padding(key_len)},
                              {(void *)insns, n * sizeof(*insns)}};
        /* No fsync: a file torn by a crash fails its checksum and is
         * simply compiled and written again. Best effort: a cache. */
        (void)berth_write_file_atomic_at(dir_fd, name, iov, BERTH_ARRAY_SIZE(iov),
                                         &(struct berth_atomic_opts){.tmp = tmp, .mode = 0600});
}

/* ---- the entry point ---------------------------------------------------- */

struct berth_seccomp_filter *seccomp_cached_compile(int state_root_fd, const struct berth_seccomp *s,
                                                    bool *hit, struct berth_err *err)
{
        _cleanup_free_ unsigned char *key = NULL;
        _cleanup_close_ int dir_fd = -EBADF;
        size_t key_len = 0;
        struct berth_err ignored = {0};
        char name[32];

        if (hit)
                *hit = false;
        /* Whatever goes wrong with the cache, the compile still runs. */
        if (state_root_fd < 0 || seccomp_cache_key(s, &key, &key_len, &ignored) < 0 ||
            (dir_fd = open_cache_dir(state_root_fd)) < 0)
                return berth_seccomp_compile(s, err);
        seccomp_cache_name(key, key_len, name);
        struct berth_seccomp_filter *f = cache_read(dir_fd, name, key, key_len);
        if (f) {
                if (hit)
                        *hit = true;
                return f;
        }
        f = berth_seccomp_compile(s, err);
        if (f)
                cache_write(dir_fd, name, key, key_len, f);
        return f;
}
