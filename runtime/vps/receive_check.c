// SPDX-License-Identifier: GPL-2.0-or-later
/* vps receive: the preflight checks of the destination and what they
 * share with the commit (the other VPS's id ranges, the host end's name).
 * Nothing here changes anything. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "berth/cgroup.h"
#include "berth/cleanup.h"
#include "berth/file.h"
#include "runtime/vps/disk.h"
#include "runtime/vps/internal.h"
#include "runtime/vps/migrate.h"
#include "runtime/vps/receive.h"

/* A live staging directory for name other than self (NULL: none of
 * ours): another migration of it is coming in. */
static bool incoming(const struct berth_vps_ctx *v, const char *name, const char *self)
{
        char path[PATH_MAX], prefix[BERTH_VPS_NAME_MAX + 8];
        snprintf(path, sizeof(path), "%s/vps", v->data_dir);
        snprintf(prefix, sizeof(prefix), VPS_MIGRATE_STAGING "%s.", name);
        _cleanup_closedir_ DIR *d = opendir(path);
        struct dirent *de;
        bool busy = false;
        while (!busy && d && (de = readdir(d))) {
                if (strncmp(de->d_name, prefix, strlen(prefix)) || (self && !strcmp(de->d_name, self)))
                        continue;
                _cleanup_close_ int fd =
                    openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                busy = fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK;
        }
        return busy;
}

int recv_check_name(const struct berth_vps_ctx *v, const char *name, const char *self, struct berth_err *err)
{
        char path[PATH_MAX];
        berth_vps_path(v, name, NULL, path, sizeof(path));
        if (access(path, F_OK) == 0)
                return berth_err_set(err, EEXIST, "a VPS named %s exists already", name);
        if (incoming(v, name, self))
                return berth_err_set(err, EBUSY, "VPS %s is being migrated here already", name);
        return 0;
}

int recv_check_template(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg, const char *sum,
                        struct berth_err *err)
{
        struct berth_vps_template t;
        int r = berth_vps_template_load(v, cfg->template_name, &t, err);
        if (r < 0)
                return r;
        berth_vps_template_clear(&t);
        char tdir[PATH_MAX], tjson[PATH_MAX], mine[33];
        snprintf(tdir, sizeof(tdir), "%s/templates/%s/rootfs", v->data_dir, cfg->template_name);
        snprintf(tjson, sizeof(tjson), "%s/templates/%s/template.json", v->data_dir, cfg->template_name);
        if ((r = vps_tree_sum(tdir, tjson, mine, err)) < 0)
                return r;
        if (!sum || strcmp(sum, mine))
                return berth_err_set(err, ENOTUNIQ,
                                     "template %s differs from the source's (checksum %s here, %s there)",
                                     cfg->template_name, mine, sum ? sum : "none");
        return 0;
}

/* An interface of this host (its network namespace) that has address a. */
static bool host_has(const struct berth_ip_addr *a, char ifname[IF_NAMESIZE])
{
        struct ifaddrs *all = NULL, *i;
        bool found = false;
        if (getifaddrs(&all) < 0)
                return false;
        for (i = all; i && !found; i = i->ifa_next) {
                if (!i->ifa_addr || i->ifa_addr->sa_family != a->family)
                        continue;
                const void *raw = a->family == AF_INET
                                      ? (const void *)&((struct sockaddr_in *)i->ifa_addr)->sin_addr
                                      : (const void *)&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
                found = !memcmp(raw, a->u.raw, a->family == AF_INET ? 4 : 16);
                if (found)
                        snprintf(ifname, IF_NAMESIZE, "%s", i->ifa_name);
        }
        freeifaddrs(all);
        return found;
}

int recv_check_addrs(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg, struct berth_err *err)
{
        for (size_t i = 0; i < cfg->net.n_addrs; i++) {
                char text[BERTH_IP_ADDR_STRLEN], ifname[IF_NAMESIZE];
                berth_ip_addr_format(&cfg->net.addrs[i], false, text, sizeof(text));
                int r = vps_addr_check_others(v, cfg->name, &cfg->net.addrs[i], text, err);
                if (r < 0)
                        return r;
                if (host_has(&cfg->net.addrs[i], ifname))
                        return berth_err_set(err, EEXIST, "address %s is in use here (on %s)", text, ifname);
        }
        return 0;
}

int recv_check_disk(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg, uint64_t need,
                    struct berth_err *err)
{
        struct statvfs sv;
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/vps", v->data_dir);
        if (statvfs(path, &sv) < 0 && statvfs(v->data_dir, &sv) < 0)
                return berth_err_sys(err, errno, "statvfs %s", v->data_dir);
        uint64_t avail = (uint64_t)sv.f_bavail * sv.f_frsize;
        if (avail < need)
                return berth_err_set(err, ENOSPC, "not enough disk: %llu bytes needed, %llu free on %s",
                                     (unsigned long long)need, (unsigned long long)avail, v->data_dir);
        if (cfg->disk.backend == BERTH_VPS_DISK_PROJECT && !vps_quota_enforced(path))
                return berth_err_set(err, EOPNOTSUPP,
                                     "the VPS's disk limit is a project quota, which %s does not enforce",
                                     v->data_dir);
        return 0;
}

static int kernel_has_fs(const char *type, const char *what, struct berth_err *err)
{
        int r = vps_kernel_fs_open(type);
        return r < 0 ? berth_err_sys(err, -r, "this kernel cannot mount %s (%s), which the VPS's %s needs",
                                     type, r == -ENODEV ? "no such file system" : "fsopen", what)
                     : 0;
}

static bool has_word(const char *list, const char *word)
{
        size_t n = strlen(word);
        for (const char *p = list; (p = strstr(p, word)); p += n)
                if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\n' || !p[n]))
                        return true;
        return false;
}

/* I/O limits are throttled by blkio (v1 hierarchies) or io (v2). */
static int kernel_has_io_controller(struct berth_err *err)
{
        enum berth_cgroup_layout layout;
        int r = berth_cgroup_detect_layout(&layout, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *ctl = NULL;
        size_t len = 0;
        bool ok;
        if (layout != BERTH_CG_UNIFIED)
                ok = access("/sys/fs/cgroup/blkio/blkio.throttle.read_bps_device", F_OK) == 0;
        else
                ok = berth_read_file_at(AT_FDCWD, "/sys/fs/cgroup/cgroup.controllers", 0, 4096, &ctl, &len) ==
                         0 &&
                     has_word(ctl, "io");
        return ok ? 0
                  : berth_err_set(err, EOPNOTSUPP,
                                  "no I/O controller here (blkio or io), which the VPS's I/O "
                                  "limits need");
}

int recv_check_kernel(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg,
                      struct berth_err *err)
{
        int r = kernel_has_fs("overlay", "root", err);
        if (r >= 0 && cfg->disk.backend == BERTH_VPS_DISK_IMAGE) {
                r = kernel_has_fs(berth_vps_disk_fs_name(cfg->disk.fs), "disk image", err);
                if (r >= 0 && access("/dev/loop-control", R_OK | W_OK) < 0)
                        r = berth_err_sys(err, errno,
                                          "no loop devices here (/dev/loop-control), which the VPS's "
                                          "disk image needs");
        }
        if (r >= 0 && vps_storage_has_io(&cfg->limits))
                r = kernel_has_io_controller(err);
        if (r >= 0 && cfg->userns.enabled) {
                char tmpl[PATH_MAX];
                snprintf(tmpl, sizeof(tmpl), "%s/templates/%s/rootfs", v->data_dir, cfg->template_name);
                r = vps_userns_lower_check(cfg, tmpl, err);
        }
        return r;
}

/* The id ranges of this data directory's VPS (into *used, n of them). */
static int local_ranges(const struct berth_vps_ctx *v, struct berth_vps_userns **used, size_t *n,
                        struct berth_err *err)
{
        _cleanup_strv_ char **names = NULL;
        int r = berth_vps_list_names(v, &names, err);
        if (r < 0)
                return r;
        size_t k = 0;
        while (names[k])
                k++;
        *used = calloc(k + 1, sizeof(**used));
        if (!*used)
                return berth_err_set(err, ENOMEM, "out of memory");
        for (size_t i = 0; i < k; i++) {
                struct berth_vps_config o;
                struct berth_err ignore = {0};
                if (berth_vps_config_load(v, names[i], &o, &ignore) < 0)
                        continue;
                (*used)[i] = o.userns;
                berth_vps_config_clear(&o);
        }
        *n = k;
        return 0;
}

/* The source's range when it is free here; else (unless the VPS's files
 * sit in a disk image, where they cannot be shifted) the lowest free one.
 * Called with the id range registry's lock held. */
int recv_pick_range(const struct berth_vps_ctx *v, struct berth_vps_config *cfg, struct berth_err *err)
{
        if (!cfg->userns.enabled)
                return 0;
        _cleanup_free_ struct berth_vps_userns *used = NULL;
        size_t n = 0;
        int r = local_ranges(v, &used, &n, err);
        if (r < 0)
                return r;
        struct berth_vps_config trial = *cfg;
        if (vps_idrange_assign(&trial, used, n, err) >= 0) {
                cfg->userns = trial.userns;
                return 0;
        }
        if (cfg->disk.backend == BERTH_VPS_DISK_IMAGE)
                return berth_err_wrap(err, "its files sit in a disk image and need the same id range here");
        berth_err_clear(err);
        trial.userns.host_id = 0;
        if ((r = vps_idrange_assign(&trial, used, n, err)) < 0)
                return r;
        cfg->userns = trial.userns;
        return 0;
}

/* Like create's: "bth" + a hash of name and this data directory's tag,
 * salted until neither a link of the host nor another VPS has it. */
int recv_host_if(const struct berth_vps_ctx *v, struct berth_vps_config *cfg, struct berth_err *err)
{
        _cleanup_strv_ char **names = NULL;
        int r = berth_vps_list_names(v, &names, err);
        if (r < 0)
                return r;
        char tag[12], key[BERTH_VPS_NAME_MAX + 16];
        berth_vps_data_tag(v, tag);
        snprintf(key, sizeof(key), "%s%s%s", cfg->name, tag[0] ? "@" : "", tag);
        for (unsigned salt = 0; salt < 64; salt++) {
                berth_vps_host_ifname(key, salt, cfg->net.host_if);
                bool clash = if_nametoindex(cfg->net.host_if) != 0;
                for (size_t i = 0; !clash && names[i]; i++) {
                        struct berth_vps_config o;
                        struct berth_err ignore = {0};
                        if (berth_vps_config_load(v, names[i], &o, &ignore) < 0)
                                continue;
                        clash = !strcmp(o.net.host_if, cfg->net.host_if);
                        berth_vps_config_clear(&o);
                }
                if (!clash)
                        return 0;
        }
        return berth_err_set(err, EEXIST, "no free name for the host end of VPS %s", cfg->name);
}
