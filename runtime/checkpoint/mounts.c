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

static int add_mounts(struct criu_argv *a, const struct berth_spec *spec, const char *bundle, bool restore,
                      struct berth_err *err)
{
        char src[PATH_MAX * 2];
        for (size_t i = 0; i < spec->n_mounts; i++) {
                const struct berth_mount *m = &spec->mounts[i];
                if (is_cgroup_mount(m)) {
                        int r = check_cgroup_mount(spec, err);
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
        return 0;
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

int criu_add_externals(struct criu_argv *a, const struct berth_spec *spec, const char *bundle, pid_t pid,
                       bool restore, struct berth_err *err)
{
        int r = add_mounts(a, spec, bundle, restore, err);
        if (r >= 0)
                r = add_masks(a, spec, pid, restore, err);
        if (r >= 0 && !restore)
                r = add_dump_namespaces(a, spec, err);
        return r;
}
