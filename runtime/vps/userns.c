/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The user namespace of a VPS: its id range (chosen at create, kept in
 * vps.json), the template seen through it, and the cgroup files its root
 * must own.
 *
 * Why: a guest's root holds CAP_SYS_ADMIN. Without a user namespace that
 * is host root's CAP_SYS_ADMIN, and the kernel then lets the guest mount a
 * cgroup v1 hierarchy and set its release_agent (run as host root), raise
 * its own v1 limits, and so on. In its own user namespace the guest's root
 * is host uid host_id, which owns nothing on the host.
 *
 * The template stays owned by host root on disk and is shared by every VPS
 * using it: each VPS sees it through an idmapped mount (host id 0 shows as
 * host_id, i.e. as the guest's root) used as the overlay's lower layer. The
 * overlay itself is not idmapped (the kernel refuses idmapped overlay
 * mounts on some versions); its upper layer holds host ids of the range,
 * which is what copy-up writes and what the guest's file creation gives. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "berth/cgroup.h"
#include "berth/cleanup.h"
#include "berth/file.h"
#include "berth/idmap.h"
#include "berth/rootfs.h"
#include "berth/vps.h"
#include "runtime/vps/internal.h"

int berth_vps_userns_parse(const char *s, struct berth_vps_userns *u, struct berth_err *err)
{
        memset(u, 0, sizeof(*u));
        if (!s || !strcmp(s, "auto")) {
                u->enabled = true;
                u->size = BERTH_VPS_USERNS_SIZE;
                return 0;
        }
        if (!strcmp(s, "none"))
                return 0;
        char *end;
        errno = 0;
        unsigned long long id = strtoull(s, &end, 10);
        /* Host id 0 would make the guest's root host root again. */
        if (end == s || *end || errno || *s == '-' || id == 0 ||
            id + BERTH_VPS_USERNS_SIZE > (unsigned long long)UINT32_MAX)
                return berth_err_set(err, EINVAL, "--userns: auto, none or a host id (1 to %u), not \"%s\"",
                                     UINT32_MAX - BERTH_VPS_USERNS_SIZE, s);
        u->enabled = true;
        u->host_id = (uint32_t)id;
        u->size = BERTH_VPS_USERNS_SIZE;
        return 0;
}

bool berth_vps_userns_overlap(const struct berth_vps_userns *a, const struct berth_vps_userns *b)
{
        if (!a->enabled || !b->enabled)
                return false;
        uint64_t a0 = a->host_id, a1 = a0 + a->size, b0 = b->host_id, b1 = b0 + b->size;
        return a0 < b1 && b0 < a1;
}

static int by_start(const void *a, const void *b)
{
        const struct berth_vps_userns *x = a, *y = b;
        return x->host_id < y->host_id ? -1 : x->host_id > y->host_id;
}

/* The lowest free aligned range: one sweep over the uses sorted by start
 * (n log n), where trying each range against every use was n squared
 * (10^8 comparisons at 10,000 VPS). */
int berth_vps_userns_pick(const struct berth_vps_userns *used, size_t n, struct berth_vps_userns *out,
                          struct berth_err *err)
{
        const uint64_t size = BERTH_VPS_USERNS_SIZE;
        _cleanup_free_ struct berth_vps_userns *s = calloc(n + 1, sizeof(*s));
        if (!s)
                return berth_err_set(err, ENOMEM, "out of memory");
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
                if (used[i].enabled && used[i].size)
                        s[k++] = used[i];
        qsort(s, k, sizeof(*s), by_start);
        uint64_t id = BERTH_VPS_USERNS_BASE;
        for (size_t i = 0; i < k && id + size <= BERTH_VPS_USERNS_LIMIT; i++) {
                uint64_t b0 = s[i].host_id, b1 = b0 + s[i].size;
                if (b1 <= id)
                        continue; /* wholly below the candidate */
                if (b0 >= id + size)
                        break; /* the candidate is free */
                /* Overlaps: the next aligned range at or after its end. */
                id = BERTH_VPS_USERNS_BASE + (b1 - BERTH_VPS_USERNS_BASE + size - 1) / size * size;
        }
        if (id + size <= BERTH_VPS_USERNS_LIMIT) {
                *out = (struct berth_vps_userns){
                    .enabled = true, .host_id = (uint32_t)id, .size = (uint32_t)size};
                return 0;
        }
        return berth_err_set(err, ENOSPC, "no free id range for a user namespace (%u VPS at most)",
                             (BERTH_VPS_USERNS_LIMIT - BERTH_VPS_USERNS_BASE) / BERTH_VPS_USERNS_SIZE);
}

/* ---- vps.json ---------------------------------------------------------------- */

json_t *vps_userns_json(const struct berth_vps_userns *u)
{
        if (!u->enabled)
                return json_string("none");
        return json_pack("{s:I, s:I}", "host_id", (json_int_t)u->host_id, "size", (json_int_t)u->size);
}

/* Absent (vps.json from before user namespaces): privileged, as it was
 * made; its upper layer holds host ids, which a new range would show as
 * nobody's. */
int vps_userns_from_json(json_t *v, struct berth_vps_userns *u, struct berth_err *err)
{
        memset(u, 0, sizeof(*u));
        if (!v || json_is_null(v) || (json_is_string(v) && !strcmp(json_string_value(v), "none")))
                return 0;
        json_t *id = json_object_get(v, "host_id"), *size = json_object_get(v, "size");
        if (!json_is_object(v) || !json_is_integer(id) || !json_is_integer(size))
                return berth_err_set(err, EINVAL, "vps.json: userns: \"none\" or {host_id, size}");
        json_int_t i = json_integer_value(id), n = json_integer_value(size);
        if (i <= 0 || n <= 0 || i + n > (json_int_t)UINT32_MAX)
                return berth_err_set(err, EINVAL, "vps.json: userns: range out of bounds");
        u->enabled = true;
        u->host_id = (uint32_t)i;
        u->size = (uint32_t)n;
        return 0;
}

/* ---- host side of a start ---------------------------------------------------- */

uid_t vps_host_uid(const struct berth_vps_config *cfg, uid_t guest_uid)
{
        return cfg->userns.enabled ? cfg->userns.host_id + guest_uid : guest_uid;
}

/* The kernel idmaps mounts of most disk filesystems (ext4, xfs, btrfs
 * since 5.12-5.15), of tmpfs from 6.3, of neither 9p, NFS nor overlayfs. */
static int idmap_unsupported(const char *tmpl, struct berth_err *err)
{
        struct statfs sfs;
        char type[32] = "?";
        if (statfs(tmpl, &sfs) == 0)
                snprintf(type, sizeof(type), "0x%lx", (unsigned long)sfs.f_type);
        return berth_err_set(err, EOPNOTSUPP,
                             "template %s: this kernel cannot idmap its filesystem (type %s) for the VPS's "
                             "user namespace: keep templates on ext4, xfs or btrfs (tmpfs from Linux 6.3), "
                             "or create the VPS with --userns none (unsafe)",
                             tmpl, type);
}

/* A detached mount of the template seen through the VPS's id range. */
static int idmapped_template(const struct berth_vps_config *cfg, const char *tmpl, struct berth_err *err)
{
        struct berth_id_mapping m = {
            .container_id = 0, .host_id = cfg->userns.host_id, .size = cfg->userns.size};
        _cleanup_close_ int ns = berth_userns_new(&m, 1, &m, 1, err);
        if (ns < 0)
                return ns;
        int mnt = berth_idmap_clone(AT_FDCWD, tmpl, false, false, ns, err);
        return mnt == -EINVAL || mnt == -EOPNOTSUPP ? idmap_unsupported(tmpl, err) : mnt;
}

int vps_userns_lower_check(const struct berth_vps_config *cfg, const char *tmpl, struct berth_err *err)
{
        int mnt = idmapped_template(cfg, tmpl, err);
        if (mnt >= 0)
                close(mnt);
        return mnt < 0 ? mnt : 0;
}

int vps_userns_lower(const struct berth_vps_config *cfg, const char *tmpl, const char *target,
                     struct berth_err *err)
{
        _cleanup_close_ int mnt = idmapped_template(cfg, tmpl, err);
        if (mnt < 0)
                return mnt;
        /* The overlay only reads its lower layer; nobody else sees it. */
        int r = berth_mount_set_attrs(mnt, false, MOUNT_ATTR_RDONLY, 0, false);
        if (r < 0)
                return berth_err_sys(err, -r, "idmapped template %s: read-only", tmpl);
        _cleanup_close_ int tfd = open(target, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (tfd < 0)
                return berth_err_sys(err, errno, "open %s", target);
        r = berth_mount_attach(mnt, tfd);
        return r < 0 ? berth_err_sys(err, -r, "mount idmapped template on %s", target) : 0;
}

/* The files of a cgroup its owner may write to manage its subtree: the
 * kernel lists them in /sys/kernel/cgroup/delegate (one per line); these
 * three where that file is missing. */
static char *delegate_files(void)
{
        char *text = NULL;
        size_t len = 0;
        if (berth_read_file_at(AT_FDCWD, "/sys/kernel/cgroup/delegate", 0, 16 << 20, &text, &len) == 0)
                return text;
        return strdup("cgroup.procs\ncgroup.threads\ncgroup.subtree_control\n");
}

/* The guest's systemd runs its own tree below the VPS's cgroup (its
 * cgroup2 root): the directory and its delegation files must belong to the
 * guest's root, as systemd's own Delegate= hands them out. Only the unified
 * hierarchy: the v1 cgroups (the limits on a hybrid host) stay host root's. */
int vps_userns_delegate_cgroup(const struct berth_vps_config *cfg, const char *cgroup_dump,
                               struct berth_err *err)
{
        if (!cfg->userns.enabled || !cgroup_dump)
                return 0;
        struct berth_cgroup *cg = berth_cgroup_restore(cgroup_dump, err);
        if (!cg)
                return -err->code;
        int dir = berth_cgroup_clone_fd(cg);
        uid_t uid = vps_host_uid(cfg, 0);
        int r = 0;
        if (dir >= 0 && fchownat(dir, "", uid, uid, AT_EMPTY_PATH) < 0)
                r = berth_err_sys(err, errno, "chown the VPS's cgroup");
        _cleanup_free_ char *files = dir >= 0 && r >= 0 ? delegate_files() : NULL;
        char *save = NULL;
        for (char *f = files ? strtok_r(files, "\n", &save) : NULL; f && r >= 0;
             f = strtok_r(NULL, "\n", &save))
                if (fchownat(dir, f, uid, uid, AT_SYMLINK_NOFOLLOW) < 0 && errno != ENOENT)
                        r = berth_err_sys(err, errno, "chown %s of the VPS's cgroup", f);
        berth_cgroup_free(cg);
        return r;
}

/* May the guest's root (host uid and gid `id`, no capability over host
 * files) search directory sb? */
static bool searchable_by(const struct stat *sb, uid_t id)
{
        if (sb->st_uid == id)
                return sb->st_mode & S_IXUSR;
        if (sb->st_gid == id)
                return sb->st_mode & S_IXGRP;
        return sb->st_mode & S_IXOTH;
}

/* The container's init resolves the root's path (<dir>/rootfs) already in
 * the VPS's user namespace, where host root's files give it no privilege:
 * every directory on the way must be searchable by the guest's root. As
 * LXD does: <data>/vps lets anyone search (not list), and the VPS's own
 * directory only its root's group (host root keeps it; no other host user
 * reaches the guest's files, e.g. a set-uid program in its upper layer). */
int vps_userns_reachable(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg,
                         struct berth_err *err)
{
        if (!cfg->userns.enabled)
                return 0;
        char path[PATH_MAX];
        uid_t id = vps_host_uid(cfg, 0);
        int r = berth_vps_path(v, cfg->name, NULL, path, sizeof(path));
        if (r < 0)
                return berth_err_sys(err, -r, "VPS %s", cfg->name);
        if (chown(path, 0, id) < 0 || chmod(path, 0710) < 0)
                return berth_err_sys(err, errno, "chmod %s", path);
        *strrchr(path, '/') = '\0'; /* <data>/vps */
        struct stat sb;
        if (stat(path, &sb) < 0 || (!(sb.st_mode & S_IXOTH) && chmod(path, (sb.st_mode & 07777) | 0011) < 0))
                return berth_err_sys(err, errno, "chmod %s", path);
        /* Then every directory above: the administrator's to open. */
        for (char *slash = strrchr(path, '/'); slash; slash = strrchr(path, '/')) {
                *slash = '\0';
                const char *d = path[0] ? path : "/";
                if (stat(d, &sb) < 0)
                        return berth_err_sys(err, errno, "stat %s", d);
                if (!searchable_by(&sb, id))
                        return berth_err_set(err, EACCES,
                                             "%s is not searchable by the VPS's root (host uid %u): "
                                             "chmod o+x %s, or use --data-dir elsewhere",
                                             d, (unsigned)id, d);
        }
        return 0;
}
