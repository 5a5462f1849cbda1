/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What criu must be told about the container's mounts and namespaces.
 *
 * criu dumps a mount namespace by itself, except for mounts whose source
 * lies outside it: bind mounts from the host, device nodes bound from the
 * host (user namespaces), the /dev/null binds over masked files. Those are
 * declared external at dump time (name = mountpoint) and given a host
 * source again at restore time, as runc does. Namespaces the container
 * joined by path are external too. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/file.h"
#include "berth/proc.h"
#include "berth/rootfs.h"
#include "runtime/checkpoint/internal.h"

static bool is_cgroup_mount(const struct berth_mount *m)
{
        return m->type && (!strcmp(m->type, "cgroup") || !strcmp(m->type, "cgroup2"));
}

/* A relative bind source is relative to the bundle. */
static void bind_source(const struct berth_mount *m, const char *bundle, char *out, size_t len)
{
        const char *src = m->source ? m->source : "";
        if (src[0] == '/' || !bundle)
                snprintf(out, len, "%s", src);
        else
                snprintf(out, len, "%s/%s", bundle, src);
}

/* On a v1/hybrid host without a cgroup namespace, the cgroup mount is a set
 * of binds of host directories that criu cannot name; refuse clearly. */
static int check_cgroup_mount(const struct berth_spec *spec, struct berth_err *err)
{
        bool cgns = spec->namespaces[BERTH_NS_CGROUP].present;
        enum berth_cgroup_layout layout;
        if (cgns || berth_cgroup_detect_layout(&layout, err) < 0 || layout == BERTH_CG_UNIFIED)
                return 0;
        return berth_err_set(err, ENOTSUP,
                             "a cgroup mount without a cgroup namespace on a %s host is not supported "
                             "(add a cgroup namespace, or drop the mount)",
                             berth_cgroup_layout_name(layout));
}

static bool in_devices(const struct berth_spec *spec, const char *path)
{
        for (size_t i = 0; i < spec->n_devices; i++)
                if (!strcmp(spec->devices[i].path, path))
                        return true;
        return false;
}

/* In a new user namespace the default nodes are binds of the host's
 * (rootfs/dev.c), like linux.devices; at restore the key /dev/null is
 * given already when masked files are binds of it (add_masks). */
static int add_default_devices(struct criu_argv *a, const struct berth_spec *spec, bool restore)
{
        const struct berth_namespace *user = &spec->namespaces[BERTH_NS_USER];
        if (!user->present || user->path)
                return 0;
        const char *d;
        for (size_t i = 0; (d = berth_rootfs_default_device(i)); i++) {
                if (in_devices(spec, d) || (restore && !strcmp(d, "/dev/null") && spec->n_masked_paths))
                        continue;
                criu_argv_add(a, "--external");
                criu_argv_addf(a, "mnt[%s]:%s", d, d);
        }
        return 0;
}

/* criu cannot mount cgroup2 again from inside a new user namespace
 * (EPERM: its cgroup namespace is not restored before the mounts), so
 * there the mount is external: at restore a bind of the container's new
 * cgroup directory, which is what the guest saw through its namespace. */
static bool cgroup_external(const struct berth_spec *spec)
{
        const struct berth_namespace *user = &spec->namespaces[BERTH_NS_USER];
        enum berth_cgroup_layout layout;
        struct berth_err ignore = {0};
        return user->present && !user->path && spec->namespaces[BERTH_NS_CGROUP].present &&
               berth_cgroup_detect_layout(&layout, &ignore) >= 0 && layout == BERTH_CG_UNIFIED;
}

static int add_cgroup_mount(struct criu_argv *a, const struct berth_spec *spec, const struct berth_mount *m,
                            const char *cgroup_dir, bool restore, struct berth_err *err)
{
        int r = check_cgroup_mount(spec, err);
        if (r < 0 || !cgroup_external(spec))
                return r;
        if (restore && !cgroup_dir)
                return berth_err_set(err, ENOTSUP, "restore: the cgroup mount needs the container's cgroup");
        criu_argv_add(a, "--external");
        if (restore)
                criu_argv_addf(a, "mnt[%s]:%s", CRIU_CGROUP_KEY, cgroup_dir);
        else
                criu_argv_addf(a, "mnt[%s]:%s", m->destination, CRIU_CGROUP_KEY);
        return 0;
}

static int add_mounts(struct criu_argv *a, const struct berth_spec *spec, const char *bundle,
                      const char *cgroup_dir, bool restore, struct berth_err *err)
{
        char src[PATH_MAX * 2];
        for (size_t i = 0; i < spec->n_mounts; i++) {
                const struct berth_mount *m = &spec->mounts[i];
                if (is_cgroup_mount(m)) {
                        int r = add_cgroup_mount(a, spec, m, cgroup_dir, restore, err);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (!berth_mount_is_bind(m))
                        continue;
                bind_source(m, bundle, src, sizeof(src));
                criu_argv_add(a, "--external");
                criu_argv_addf(a, "mnt[%s]:%s", m->destination, restore ? src : m->destination);
        }
        for (size_t i = 0; i < spec->n_devices; i++) {
                criu_argv_add(a, "--external");
                criu_argv_addf(a, "mnt[%s]:%s", spec->devices[i].path, spec->devices[i].path);
        }
        return add_default_devices(a, spec, restore);
}

/* Masked files are binds of the container's /dev/null: named "/dev/null"
 * at dump time, the host's /dev/null at restore. Masked directories are
 * tmpfs mounts criu handles itself. */
static int add_masks(struct criu_argv *a, const struct berth_spec *spec, pid_t pid, bool restore,
                     struct berth_err *err)
{
        if (!spec->n_masked_paths)
                return 0;
        if (restore) {
                criu_argv_add(a, "--external");
                criu_argv_add(a, "mnt[/dev/null]:/dev/null");
                return 0;
        }
        char proc[64];
        snprintf(proc, sizeof(proc), "/proc/%d/root", (int)pid);
        _cleanup_close_ int rootfd = open(proc, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return berth_err_sys(err, errno, "open %s", proc);
        for (size_t i = 0; i < spec->n_masked_paths; i++) {
                _cleanup_close_ int fd =
                    berth_in_root_open(rootfd, spec->masked_paths[i], O_PATH | O_NOFOLLOW);
                struct stat st;
                if (fd < 0 || fstat(fd, &st) < 0 || S_ISDIR(st.st_mode))
                        continue;
                criu_argv_add(a, "--external");
                criu_argv_addf(a, "mnt[%s]:/dev/null", spec->masked_paths[i]);
        }
        return 0;
}

/* A network or pid namespace joined by path stays outside the dump. */
static int add_dump_namespaces(struct criu_argv *a, const struct berth_spec *spec, struct berth_err *err)
{
        static const struct {
                enum berth_ns_type t;
                const char *name, *key;
        } ext[] = {{BERTH_NS_NET, "net", "extRootNetNS"}, {BERTH_NS_PID, "pid", "extRootPidNS"}};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(ext); i++) {
                const char *path = spec->namespaces[ext[i].t].path;
                struct stat st;
                if (!path)
                        continue;
                if (stat(path, &st) < 0)
                        return berth_err_sys(err, errno, "%s namespace %s", ext[i].name, path);
                criu_argv_add(a, "--external");
                criu_argv_addf(a, "%s[%llu]:%s", ext[i].name, (unsigned long long)st.st_ino, ext[i].key);
        }
        if (spec->namespaces[BERTH_NS_CGROUP].path)
                return berth_err_set(err, ENOTSUP,
                                     "a cgroup namespace joined by path cannot be checkpointed");
        return 0;
}

/* FUSE mounts (lxcfs's files, bound at create when lxcfs runs, which the
 * stored config does not list) cannot be dumped: external, by mount
 * point. At restore create's code binds them again where lxcfs runs
 * (the bundle's spec lists them then, as bind mounts). */
static int add_fuse_mounts(struct criu_argv *a, pid_t pid, struct berth_err *err)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int)pid);
        _cleanup_free_ char *text = NULL;
        int r = berth_read_file_at(AT_FDCWD, path, 0, 1 << 22, &text, NULL);
        if (r < 0)
                return berth_err_sys(err, -r, "read %s", path);
        char *cursor = text;
        struct berth_mountinfo_entry e;
        while (berth_mountinfo_next(&cursor, &e)) {
                if (strncmp(e.fstype, "fuse", 4))
                        continue;
                criu_argv_add(a, "--external");
                criu_argv_addf(a, "mnt[%s]:%s", e.mount_point, e.mount_point);
        }
        return 0;
}

int criu_add_externals(struct criu_argv *a, const struct berth_spec *spec, const char *bundle, pid_t pid,
                       const char *cgroup_dir, bool restore, struct berth_err *err)
{
        int r = add_mounts(a, spec, bundle, cgroup_dir, restore, err);
        if (r >= 0)
                r = add_masks(a, spec, pid, restore, err);
        if (r >= 0 && !restore)
                r = add_dump_namespaces(a, spec, err);
        if (r >= 0 && !restore)
                r = add_fuse_mounts(a, pid, err);
        return r;
}
