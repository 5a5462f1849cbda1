/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Names, paths and file helpers of the VPS store. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/file.h"
#include "berth/vps.h"
#include "runtime/vps/internal.h"

void vps_strv_free(char **v)
{
        for (size_t i = 0; v && v[i]; i++)
                free(v[i]);
        free(v);
}

bool berth_vps_name_valid(const char *name)
{
        if (!name || !*name || strlen(name) > BERTH_VPS_NAME_MAX || name[0] == '-')
                return false;
        for (const char *p = name; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
                        return false;
        return true;
}

void berth_vps_data_tag(const struct berth_vps_ctx *v, char out[12])
{
        out[0] = '\0';
        char real[PATH_MAX];
        const char *d = realpath(v->data_dir, real) ? real : v->data_dir;
        if (strcmp(d, BERTH_VPS_DEFAULT_DATA) == 0)
                return;
        uint32_t h = 2166136261u; /* FNV-1a */
        for (const char *c = d; *c; c++)
                h = (h ^ (unsigned char)*c) * 16777619u;
        snprintf(out, 12, "%08x", h);
}

/* Is the container id ours: its bundle this VPS's directory? */
static bool bundle_is(const struct berth_vps_ctx *v, const char *name, const char *id)
{
        char dir[PATH_MAX], real[PATH_MAX];
        struct berth_container_info info;
        struct berth_err ignore = {0};
        if (berth_vps_path(v, name, NULL, dir, sizeof(dir)) < 0 ||
            berth_container_load(v->ctx, id, &info, &ignore) < 0)
                return false;
        bool same = info.st.bundle && !strcmp(info.st.bundle, realpath(dir, real) ? real : dir);
        berth_container_info_clear(&info);
        return same;
}

const char *berth_vps_container_id(const struct berth_vps_ctx *v, const char *name, char *buf, size_t len)
{
        char tag[12];
        berth_vps_data_tag(v, tag);
        if (!tag[0]) {
                snprintf(buf, len, "vps-%s", name);
                return buf;
        }
        snprintf(buf, len, "vps-%s-%s", name, tag);
        char legacy[BERTH_VPS_ID_MAX];
        snprintf(legacy, sizeof(legacy), "vps-%s", name);
        /* Started before ids named the data directory: still running under
         * the old id, which is ours only when its bundle is our directory. */
        if (!bundle_is(v, name, buf) && bundle_is(v, name, legacy))
                snprintf(buf, len, "%s", legacy);
        return buf;
}

/* FNV-1a: stable across versions and hosts, which is all the name needs. */
void berth_vps_host_ifname(const char *name, unsigned salt, char out[16])
{
        uint32_t h = 2166136261u;
        for (const char *p = name; *p; p++)
                h = (h ^ (unsigned char)*p) * 16777619u;
        for (unsigned i = 0; i < salt; i++)
                h = (h ^ 0x5au) * 16777619u;
        snprintf(out, 16, "bth%08x", h);
}

int berth_vps_path(const struct berth_vps_ctx *v, const char *name, const char *file, char *out, size_t len)
{
        int n = file ? snprintf(out, len, "%s/vps/%s/%s", v->data_dir, name, file)
                     : snprintf(out, len, "%s/vps/%s", v->data_dir, name);
        return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

void berth_vps_cgroup_name(const struct berth_vps_ctx *v, const char *name, char *out, size_t len)
{
        if (strcmp(v->data_dir, BERTH_VPS_DEFAULT_DATA) == 0) {
                snprintf(out, len, "berth-vps-%s", name);
                return;
        }
        uint32_t h = 2166136261u; /* FNV-1a */
        for (const char *c = v->data_dir; *c; c++)
                h = (h ^ (unsigned char)*c) * 16777619u;
        snprintf(out, len, "berth-vps-%s-%08x", name, h);
}

/* Does path hold data and a newline, byte for byte? */
static bool file_holds(const char *path, const char *data, size_t len)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        struct stat sb;
        if (fd < 0 || fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || (size_t)sb.st_size != len + 1)
                return false;
        _cleanup_free_ char *cur = malloc(len + 1);
        return cur && read(fd, cur, len + 1) == (ssize_t)(len + 1) && memcmp(cur, data, len) == 0 &&
               cur[len] == '\n';
}

int vps_write_file_atomic(const char *path, const char *data, size_t len)
{
        /* `vps start` rewrites vps.json and config.json every time, mostly
         * unchanged: skip the fsync (0.5 ms each here, and thousands of
         * them when a host boots its VPS). */
        if (file_holds(path, data, len))
                return 0;
        char tmp[PATH_MAX];
        if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
                return -ENAMETOOLONG;
        struct iovec iov[] = {{(void *)data, len}, {"\n", 1}};
        int r = berth_write_file_atomic_at(
            AT_FDCWD, path, iov, 2, &(struct berth_atomic_opts){.tmp = tmp, .mode = 0644, .fsync = true});
        if (r < 0)
                return r;
        /* The rename is on disk only with its directory: a crash right
         * after would otherwise bring the old file back. */
        char *slash = strrchr(tmp, '/');
        if (slash && slash != tmp)
                *slash = '\0';
        r = slash ? vps_fsync_dir(tmp) : 0;
        return r < 0 ? r : 1;
}

int vps_fsync_dir(const char *dir)
{
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || fsync(fd) < 0)
                return -errno;
        return 0;
}

int vps_err_write(struct berth_err *err, int code, const char *where, const char *fmt, ...)
{
        char what[sizeof(err->msg)];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(what, sizeof(what), fmt, ap);
        va_end(ap);
        if (code == ENOSPC || code == EDQUOT)
                return berth_err_set(err, ENOSPC, "%s: no space left on %s%s", what, where,
                                     code == EDQUOT ? " (disk quota)" : "");
        return berth_err_sys(err, code, "%s", what);
}

static int cmp_names(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

int berth_vps_list_names(const struct berth_vps_ctx *v, char ***names, struct berth_err *err)
{
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/vps", v->data_dir);
        *names = calloc(1, sizeof(char *));
        if (!*names)
                return berth_err_set(err, ENOMEM, "list VPS: out of memory");
        _cleanup_closedir_ DIR *d = opendir(path);
        if (!d)
                return errno == ENOENT ? 0 : berth_err_sys(err, errno, "list VPS in %s", path);
        size_t n = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (!berth_vps_name_valid(de->d_name))
                        continue;
                char **nv = realloc(*names, (n + 2) * sizeof(char *));
                if (!nv || !(nv[n] = strdup(de->d_name))) {
                        if (nv)
                                *names = nv;
                        return berth_err_set(err, ENOMEM, "list VPS: out of memory");
                }
                nv[++n] = NULL;
                *names = nv;
        }
        vps_trace(v, "list: %zu VPS in %s", n, path);
        qsort(*names, n, sizeof(char *), cmp_names); /* a host may hold 1000+ VPS */
        return 0;
}

bool vps_hint_read(const char *dir, const char *file, char *buf, size_t len)
{
        char p[PATH_MAX];
        if (len < 2 || snprintf(p, sizeof(p), "%s/%s", dir, file) >= (int)sizeof(p))
                return false;
        _cleanup_close_ int fd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        ssize_t n = fd < 0 ? -1 : read(fd, buf, len - 1);
        if (n < 0)
                return false;
        buf[n] = 0;
        return true;
}

void vps_hint_write(const char *dir, const char *file, const char *value)
{
        char p[PATH_MAX];
        if (snprintf(p, sizeof(p), "%s/%s", dir, file) >= (int)sizeof(p))
                return;
        _cleanup_close_ int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0 && *value && write(fd, value, strlen(value)) != (ssize_t)strlen(value))
                unlink(p); /* a partial hint would only cost the slow way */
}

int vps_err_space(const struct berth_vps_ctx *v, struct berth_err *err)
{
        if ((err->code == ENOSPC || err->code == EDQUOT) && !strstr(err->msg, "no space left on ") &&
            !strstr(err->msg, BERTH_ERR_NO_PTY)) {
                err->code = ENOSPC;
                berth_err_wrap(err, "no space left on %s", v->data_dir);
        }
        return -err->code;
}
