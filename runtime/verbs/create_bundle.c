/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading the bundle and checking the config against what berth can do. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/file.h"
#include "berth/lxcfs.h"
#include "berth/process.h"
#include "runtime/verbs/create_job.h"

/* Rules the parser cannot check alone because they span fields or options. */
static int validate_for_create(const struct berth_spec *spec, const struct berth_create_opts *o,
                               bool run_mode, struct berth_err *err)
{
        if (!spec->has_process)
                return berth_err_set(err, EINVAL, "config.json: process: required to create a container");
        if (berth_lsm_check(&spec->process, spec->mount_label, err) < 0)
                return berth_err_wrap(err, "config.json");
        /* A uts namespace joined by path is the container's too (runc and
         * crun set the name there); only the runtime's own is refused. */
        if ((spec->hostname || spec->domainname) && !spec->namespaces[BERTH_NS_UTS].present)
                return berth_err_set(err, EINVAL,
                                     "config.json: hostname: cannot be set without a private uts namespace");
        bool new_user = spec->namespaces[BERTH_NS_USER].present && !spec->namespaces[BERTH_NS_USER].path;
        if (new_user && (!spec->n_uid_mappings || !spec->n_gid_mappings))
                return berth_err_set(err, EINVAL,
                                     "config.json: linux.uidMappings: required with a new user namespace");
        if (!new_user && (spec->n_uid_mappings || spec->n_gid_mappings))
                return berth_err_set(err, EINVAL,
                                     "config.json: linux.uidMappings: given without a new user namespace");
        bool new_time = spec->namespaces[BERTH_NS_TIME].present && !spec->namespaces[BERTH_NS_TIME].path;
        if ((spec->time_offsets[0].present || spec->time_offsets[1].present) && !new_time)
                return berth_err_set(err, EINVAL,
                                     "config.json: linux.timeOffsets: need a new time namespace");
        if (spec->process.terminal && !o->console_socket && !(run_mode && !o->detach))
                return berth_err_set(err, EINVAL,
                                     "process.terminal is true: --console-socket is required to detach");
        if (!spec->process.terminal && o->console_socket)
                return berth_err_set(err, EINVAL, "--console-socket given but process.terminal is false");
        return 0;
}

static size_t spec_n_hooks(const struct berth_spec *spec)
{
        size_t n = 0;
        for (int k = 0; k < BERTH_HOOK_KIND_COUNT; k++)
                n += spec->hooks.n[k];
        return n;
}

static int resolve_rootfs(struct create_job *j, struct berth_err *err)
{
        const char *root = j->spec->root_path;
        char joined[PATH_MAX * 2];
        if (root[0] == '/')
                snprintf(joined, sizeof(joined), "%s", root);
        else
                snprintf(joined, sizeof(joined), "%s/%s", j->setup.bundle, root);
        if (!realpath(joined, j->setup.rootfs))
                return berth_err_sys(err, errno, "rootfs (\"%s\")", joined);
        struct stat sb;
        if (stat(j->setup.rootfs, &sb) < 0 || !S_ISDIR(sb.st_mode))
                return berth_err_set(err, ENOTDIR, "rootfs (\"%s\"): not a directory", j->setup.rootfs);
        return 0;
}

/* run.berth.lxcfs=true|auto (berth/lxcfs.h): the container starts either
 * way, with the host's /proc when lxcfs does not run (a warning for true;
 * auto, a VPS's, only traces it: a host without lxcfs is a choice). */
static int add_lxcfs(struct create_job *j, struct berth_err *err)
{
        enum berth_lxcfs_want want = berth_spec_wants_lxcfs(j->spec);
        if (want == BERTH_LXCFS_OFF)
                return 0;
        const char *dir = berth_lxcfs_dir();
        if (!berth_lxcfs_running(dir)) {
                if (want == BERTH_LXCFS_ON)
                        berth_warn(j->setup.ctx,
                                   "%s: lxcfs does not run at %s: the container sees the host's /proc",
                                   BERTH_LXCFS_ANNOTATION, dir);
                else
                        berth_trace(j->setup.ctx, "lxcfs does not run at %s: the host's /proc", dir);
                return 0;
        }
        size_t n = 0;
        int r = berth_spec_add_lxcfs(j->spec, dir, &n, err);
        if (r < 0)
                return berth_err_wrap(err, "lxcfs at %s", dir);
        berth_trace(j->setup.ctx, "lxcfs at %s: %zu files bound over /proc and /sys", dir, n);
        return 0;
}

/* Without a mount namespace the container shares the runtime's mount table
 * (the spec: an absent namespace is inherited): the init only chroots into
 * the root. Mounts made there would change the host's table and outlive
 * the container, so berth makes none and says what it leaves out. */
static void warn_shared_mounts(const struct create_job *j)
{
        const struct berth_spec *s = j->spec;
        if (s->namespaces[BERTH_NS_MOUNT].present)
                return;
        if (s->n_mounts || s->n_masked_paths || s->n_readonly_paths || s->root_readonly)
                berth_warn(j->setup.ctx,
                           "config.json: no mount namespace: the container shares the runtime's mounts; "
                           "%zu mounts, %zu masked and %zu read-only paths%s are not applied",
                           s->n_mounts, s->n_masked_paths, s->n_readonly_paths,
                           s->root_readonly ? " and root.readonly" : "");
}

int job_load_bundle(struct create_job *j, const struct berth_create_opts *o, struct berth_err *err)
{
        const char *bundle = o->bundle ? o->bundle : ".";
        if (!realpath(bundle, j->setup.bundle))
                return berth_err_sys(err, errno, "bundle %s", bundle);
        _cleanup_close_ int dir = open(j->setup.bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0)
                return berth_err_sys(err, errno, "bundle %s", j->setup.bundle);
        /* 64 MiB: the limit of berth_spec_load too. */
        int r = berth_read_file_at(dir, "config.json", 0, 64 << 20, &j->config_text, &j->config_len);
        if (r < 0)
                return berth_err_sys(err, -r, "read config.json");
        berth_trace(j->setup.ctx, "bundle %s: config.json read (%zu bytes)", j->setup.bundle, j->config_len);
        j->spec = berth_spec_parse(j->config_text, j->config_len, err);
        if (!j->spec)
                return berth_err_wrap(err, "config.json");
        j->setup.spec = j->spec;
        berth_trace(j->setup.ctx, "spec parsed: process %s, %zu mounts, terminal %s, seccomp %s, %zu hooks",
                    j->spec->process.n_args ? j->spec->process.args[0] : "-", j->spec->n_mounts,
                    j->spec->process.terminal ? "yes" : "no", j->spec->has_seccomp ? "yes" : "no",
                    spec_n_hooks(j->spec));
        r = validate_for_create(j->spec, o, j->run_mode, err);
        if (r < 0 || (r = add_lxcfs(j, err)) < 0)
                return r;
        warn_shared_mounts(j);
        r = resolve_rootfs(j, err);
        if (r >= 0)
                berth_trace(j->setup.ctx, "rootfs %s", j->setup.rootfs);
        return r;
}
