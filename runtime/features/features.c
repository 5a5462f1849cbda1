/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The OCI features document. Every claim is checked on the running host:
 * namespaces the kernel has, capabilities it knows, seccomp actions and
 * flags it accepts, architectures libseccomp can build, a criu to run. */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <unistd.h>

#include "berth/cgroup.h"
#include "berth/checkpoint.h"
#include "berth/cleanup.h"
#include <sys/syscall.h>
#include <unistd.h>

#include "berth/features.h"
#include "berth/process.h"
#include "berth/seccomp.h"
#include "berth/spec.h"

/* Flags, clear-flags, propagation, bind and the recursive r* attributes:
 * what spec_mounts.c maps and the rootfs code applies. Left out on purpose:
 * options the parser accepts but the new-mount-API code drops (acl,
 * iversion, mand, remount). Filesystem data options pass through untouched. */
static const char *const mount_options[] = {
    "async",
    "atime",
    "bind",
    "defaults",
    "dev",
    "diratime",
    "dirsync",
    "exec",
    "idmap",
    "lazytime",
    "loud",
    "noacl",
    "noatime",
    "nodev",
    "nodiratime",
    "noexec",
    "noiversion",
    "nolazytime",
    "nomand",
    "norelatime",
    "nostrictatime",
    "nosuid",
    "nosymfollow",
    "private",
    "ratime",
    "rbind",
    "rdev",
    "rdiratime",
    "relatime",
    "rexec",
    "ridmap",
    "rnoatime",
    "rnodev",
    "rnodiratime",
    "rnoexec",
    "rnorelatime",
    "rnostrictatime",
    "rnosuid",
    "rnosymfollow",
    "ro",
    "rprivate",
    "rrelatime",
    "rro",
    "rrw",
    "rshared",
    "rslave",
    "rstrictatime",
    "rsuid",
    "rsymfollow",
    "runbindable",
    "rw",
    "shared",
    "silent",
    "slave",
    "strictatime",
    "suid",
    "symfollow",
    "sync",
    "tmpcopyup",
    "unbindable",
    NULL,
};

const char *const *berth_features_mount_options(void)
{
        return mount_options;
}

static const char *const hook_names[] = {
    "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop", NULL,
};

static const struct {
        const char *oci, *proc;
} ns_names[] = {
    {"cgroup", "cgroup"}, {"ipc", "ipc"},   {"mount", "mnt"}, {"network", "net"},
    {"pid", "pid"},       {"time", "time"}, {"user", "user"}, {"uts", "uts"},
};

static json_t *strv_json(const char *const *v)
{
        json_t *a = json_array();
        for (size_t i = 0; a && v[i]; i++)
                json_array_append_new(a, json_string(v[i]));
        return a;
}

static json_t *namespaces_json(void)
{
        json_t *a = json_array();
        char path[64];
        for (size_t i = 0; a && i < BERTH_ARRAY_SIZE(ns_names); i++) {
                snprintf(path, sizeof(path), "/proc/self/ns/%s", ns_names[i].proc);
                if (access(path, F_OK) == 0)
                        json_array_append_new(a, json_string(ns_names[i].oci));
        }
        return a;
}

/* Every capability the running kernel knows, spelled the OCI way. */
static json_t *capabilities_json(void)
{
        json_t *a = json_array();
        int n = cap_max_bits();
        for (int c = 0; a && c < n && c < 64; c++) {
                char *name = cap_to_name((cap_value_t)c);
                char up[64];
                /* libcap prints caps it has no name for as numbers: the
                 * spec parser would not accept those, so leave them out. */
                if (name && isalpha((unsigned char)name[0]) && strlen(name) < sizeof(up)) {
                        size_t i = 0;
                        for (; name[i]; i++)
                                up[i] = (char)toupper((unsigned char)name[i]);
                        up[i] = '\0';
                        json_array_append_new(a, json_string(up));
                }
                cap_free(name);
        }
        return a;
}

static json_t *cgroup_json(struct berth_err *err)
{
        struct berth_cgroup_features f;
        if (berth_cgroup_features(&f, err) < 0)
                return NULL;
        return json_pack("{s:b, s:b, s:b, s:b, s:b}", "v1", f.v1, "v2", f.v2, "systemd", f.systemd,
                         "systemdUser", f.systemd_user, "rdma", f.rdma);
}

/* The known actions the kernel also has (SECCOMP_GET_ACTION_AVAIL). */
static json_t *seccomp_actions_json(void)
{
        json_t *a = json_array();
        const char *const *known = berth_seccomp_known_actions(); /* indexed by the enum */
        for (size_t k = 0; a && known[k]; k++)
                if (berth_seccomp_action_supported((enum berth_seccomp_action)k))
                        json_array_append_new(a, json_string(known[k]));
        return a;
}

static json_t *seccomp_archs_json(void)
{
        json_t *a = json_array();
        const char *const *known = berth_seccomp_known_archs();
        for (size_t i = 0; a && known[i]; i++)
                if (berth_seccomp_arch_supported(known[i]))
                        json_array_append_new(a, json_string(known[i]));
        return a;
}

static json_t *seccomp_supported_flags_json(void)
{
        static const unsigned flags[] = {BERTH_SCMP_FLAG_LOG, BERTH_SCMP_FLAG_SPEC_ALLOW,
                                         BERTH_SCMP_FLAG_WAIT_KILLABLE_RECV};
        json_t *a = json_array();
        for (size_t i = 0; a && i < BERTH_ARRAY_SIZE(flags); i++)
                if (berth_seccomp_flag_supported(flags[i]))
                        json_array_append_new(a, json_string(berth_seccomp_flag_name(flags[i])));
        return a;
}

static json_t *seccomp_json(void)
{
        return json_pack("{s:b, s:o, s:o, s:o, s:o, s:o}", "enabled", 1, "actions", seccomp_actions_json(),
                         "operators", strv_json(berth_seccomp_known_operators()), "archs",
                         seccomp_archs_json(), "knownFlags", strv_json(berth_seccomp_known_flags()),
                         "supportedFlags", seccomp_supported_flags_json());
}

/* The kernel has mount_setattr (ENOSYS otherwise; EBADF for our bad fd). */
static int idmap_supported(void)
{
        return syscall(SYS_mount_setattr, -1, "", 0, NULL, 0) < 0 && errno != ENOSYS;
}

static json_t *linux_json(struct berth_err *err)
{
        json_t *cg = cgroup_json(err);
        if (!cg)
                return NULL;
        /* idmapped mounts: made by the parent with mount_setattr (5.12+). */
        return json_pack("{s:o, s:o, s:o, s:o, s:{s:b}, s:{s:b}, s:{s:b}, s:{s:{s:b}}}", "namespaces",
                         namespaces_json(), "capabilities", capabilities_json(), "cgroup", cg, "seccomp",
                         seccomp_json(), "apparmor", "enabled", berth_lsm_apparmor_enabled(), "selinux",
                         "enabled", berth_lsm_selinux_enabled(), "intelRdt", "enabled", 0, "mountExtensions",
                         "idmap", "enabled", idmap_supported());
}

/* Checkpointing works only where criu is installed and `criu check` passes
 * on the running kernel (Debian's criu 3.17 fails on 6.18, for one). */
static bool checkpoint_works(void)
{
        char criu[4096];
        struct berth_err ignored = {0};
        return berth_criu_find(NULL, criu, sizeof(criu)) && berth_criu_check(criu, &ignored) == 0;
}

static json_t *annotations_json(void)
{
        return json_pack("{s:s, s:s}", "org.opencontainers.runc.checkpoint.enabled",
                         checkpoint_works() ? "true" : "false", "run.oci.berth.version", BERTH_VERSION);
}

char *berth_features_json(struct berth_err *err)
{
        json_t *lin = linux_json(err);
        if (!lin) {
                berth_err_wrap(err, "features");
                return NULL;
        }
        json_auto_t *doc =
            json_pack("{s:s, s:s, s:o, s:o, s:o, s:o}", "ociVersionMin", "1.0.0", "ociVersionMax",
                      BERTH_FEATURES_OCI_MAX, "hooks", strv_json(hook_names), "mountOptions",
                      strv_json(mount_options), "linux", lin, "annotations", annotations_json());
        char *text = doc ? json_dumps(doc, JSON_INDENT(4) | JSON_PRESERVE_ORDER) : NULL;
        if (!text)
                berth_err_set(err, ENOMEM, "features: out of memory");
        return text;
}
