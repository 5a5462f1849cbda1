/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The OCI config.json of a VPS, generated from vps.json: berth's default
 * config turned into a system container.
 *
 * What changes against `berth spec`: the init is the process (no terminal,
 * no rlimits of our own: it inherits ours, and a host without
 * CAP_SYS_RESOURCE could not raise them anyway), the root is writable, the
 * capability set is that of a privileged system container (LXC's choice:
 * everything but module loading, raw I/O, the clock and the MAC policy), a
 * small seccomp deny list replaces the application profile (a guest init
 * mounts, unshares and reboots), and every limit is always present so that
 * the container joins the memory, cpu and pids hierarchies on hybrid hosts
 * and `vps set` can change them later. */
#include <errno.h>
#include <jansson.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/prctl.h>
#include <sys/vfs.h>

#include "berth/cgroup.h"
#include "berth/cleanup.h"
#include "berth/cpu_weight.h"
#include "berth/rootfs.h"
#include "berth/spec.h"
#include "berth/vps.h"
#include "runtime/vps/internal.h"

static const struct {
        const char *name;
        int cap;
} vps_caps[] = {
    {"CAP_CHOWN", CAP_CHOWN},
    {"CAP_DAC_OVERRIDE", CAP_DAC_OVERRIDE},
    {"CAP_DAC_READ_SEARCH", CAP_DAC_READ_SEARCH},
    {"CAP_FOWNER", CAP_FOWNER},
    {"CAP_FSETID", CAP_FSETID},
    {"CAP_KILL", CAP_KILL},
    {"CAP_SETGID", CAP_SETGID},
    {"CAP_SETUID", CAP_SETUID},
    {"CAP_SETPCAP", CAP_SETPCAP},
    {"CAP_LINUX_IMMUTABLE", CAP_LINUX_IMMUTABLE},
    {"CAP_NET_BIND_SERVICE", CAP_NET_BIND_SERVICE},
    {"CAP_NET_BROADCAST", CAP_NET_BROADCAST},
    {"CAP_NET_ADMIN", CAP_NET_ADMIN},
    {"CAP_NET_RAW", CAP_NET_RAW},
    {"CAP_IPC_LOCK", CAP_IPC_LOCK},
    {"CAP_IPC_OWNER", CAP_IPC_OWNER},
    {"CAP_SYS_CHROOT", CAP_SYS_CHROOT},
    {"CAP_SYS_PTRACE", CAP_SYS_PTRACE},
    {"CAP_SYS_ADMIN", CAP_SYS_ADMIN},
    /* reboot(2) in a pid namespace only ends that namespace's init. */
    {"CAP_SYS_BOOT", CAP_SYS_BOOT},
    {"CAP_SYS_NICE", CAP_SYS_NICE},
    {"CAP_SYS_RESOURCE", CAP_SYS_RESOURCE},
    {"CAP_SYS_TTY_CONFIG", CAP_SYS_TTY_CONFIG},
    {"CAP_MKNOD", CAP_MKNOD},
    {"CAP_LEASE", CAP_LEASE},
    {"CAP_AUDIT_WRITE", CAP_AUDIT_WRITE},
    {"CAP_SETFCAP", CAP_SETFCAP},
};

/* Host-wide operations a guest's root must not reach even with the
 * capabilities above. */
static const char *const denied_syscalls[] = {
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module", "open_by_handle_at",
    "iopl",       "ioperm",          "swapon",      "swapoff",      "bpf",           "lookup_dcookie",
};

/* Only what we hold ourselves: asking for more fails the capset(2). */
static json_t *caps_array(void)
{
        json_t *a = json_array();
        for (size_t i = 0; a && i < BERTH_ARRAY_SIZE(vps_caps); i++) {
                if (prctl(PR_CAPBSET_READ, vps_caps[i].cap, 0, 0, 0) != 1)
                        continue;
                if (json_array_append_new(a, json_string(vps_caps[i].name)) < 0) {
                        json_decref(a);
                        return NULL;
                }
        }
        return a;
}

static json_t *make_process(char *const *init)
{
        size_t n = 0;
        while (init[n])
                n++;
        static const char *const env[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                                          "TERM=linux", "container=berth"};
        /* The same set in bounding, permitted and effective: the guest's
         * root is root of its system. A terminal: the guest's /dev/console,
         * kept by `vps start`'s console keeper (runtime/vps_console.c). */
        return json_pack("{s:b, s:{s:i, s:i}, s:o, s:o, s:s, s:{s:o, s:o, s:o}, s:b}", "terminal", 1, "user",
                         "uid", 0, "gid", 0, "args", vps_strv_json((const char *const *)init, n), "env",
                         vps_strv_json(env, BERTH_ARRAY_SIZE(env)), "cwd", "/", "capabilities", "bounding",
                         caps_array(), "permitted", caps_array(), "effective", caps_array(),
                         "noNewPrivileges", 0);
}

/* As Docker's and the OCI default profile: io_uring only when the VPS asks
 * for it (vps create/set --allow-io-uring). Its operations are not
 * syscalls, so no filter sees what it does, and it has been a steady source
 * of kernel privilege escalations. */
static const char *const io_uring_syscalls[] = {"io_uring_setup", "io_uring_enter", "io_uring_register"};

static json_t *make_seccomp(const struct berth_vps_config *cfg)
{
        json_t *names = vps_strv_json(denied_syscalls, BERTH_ARRAY_SIZE(denied_syscalls));
        for (size_t i = 0; names && !cfg->allow_io_uring && i < BERTH_ARRAY_SIZE(io_uring_syscalls); i++)
                if (json_array_append_new(names, json_string(io_uring_syscalls[i])) < 0) {
                        json_decref(names);
                        return NULL;
                }
        return json_pack("{s:s, s:[{s:o, s:s, s:i}]}", "defaultAction", "SCMP_ACT_ALLOW", "syscalls", "names",
                         names, "action", "SCMP_ACT_ERRNO", "errnoRet", EPERM);
}

/* The I/O limits on the device of the VPS's data (runtime/vps/disk*.c),
 * all four once there is one: rate 0 is "no limit" to the cgroup code, so
 * that `vps set` can change or drop each live. A VPS without I/O limits
 * stays out of the blkio hierarchy. */
static json_t *make_block_io(const struct berth_vps_limits *l)
{
        static const char *const keys[] = {"throttleReadBpsDevice", "throttleWriteBpsDevice",
                                           "throttleReadIOPSDevice", "throttleWriteIOPSDevice"};
        const int64_t rate[] = {l->has_io_rbps ? l->io_rbps : 0, l->has_io_wbps ? l->io_wbps : 0,
                                l->has_io_riops ? l->io_riops : 0, l->has_io_wiops ? l->io_wiops : 0};
        json_t *b = json_object();
        for (size_t i = 0; b && i < BERTH_ARRAY_SIZE(keys); i++)
                if (json_object_set_new(b, keys[i],
                                        json_pack("[{s:I, s:I, s:I}]", "major", (json_int_t)l->io_major,
                                                  "minor", (json_int_t)l->io_minor, "rate",
                                                  (json_int_t)rate[i])) < 0) {
                        json_decref(b);
                        return NULL;
                }
        return b;
}

uint64_t vps_cpu_weight_shares(uint64_t weight, bool v1)
{
        if (!v1)
                return berth_cpu_weight_to_shares(weight);
        uint64_t shares = weight * 1024 / 100;
        return shares < 2 ? 2 : shares > 262144 ? 262144 : shares;
}

/* --cpu-weight as config.json's shares, so that 200 is twice the default
 * share on the host's CPU controller: a v1 one compares cpu.shares with
 * its default 1024, linearly (200 -> 2048); on cgroup v2 the runtime
 * turns shares into cpu.weight on crun's curve (cgroups/), whose inverse
 * gives back the weight itself (200 -> 2452 -> 200). The curve is not
 * linear, so one value cannot serve both. */
static uint64_t weight_shares(uint64_t weight)
{
        enum berth_cgroup_layout layout;
        struct berth_err ignore = {0};
        bool v1 = berth_cgroup_detect_layout(&layout, &ignore) == 0 && layout != BERTH_CG_UNIFIED;
        return vps_cpu_weight_shares(weight, v1);
}

/* Unset limits are written as "unlimited" rather than left out (see top). */
static json_t *make_resources(const struct berth_vps_limits *l)
{
        json_int_t mem = l->has_memory ? l->memory : -1;
        /* OCI's swap is memory+swap: without --swap a VPS gets no swap, so a
         * memory limit is not an unlimited swap allowance in disguise. */
        json_int_t swap = l->has_memory ? l->memory + (l->has_swap ? l->swap : 0) : -1;
        json_int_t quota = l->has_cpus ? (json_int_t)l->cpu_quota : -1;
        json_int_t shares = (json_int_t)weight_shares(l->has_cpu_weight ? l->cpu_weight : 100);
        json_t *res =
            json_pack("{s:{s:I, s:I}, s:{s:I, s:I, s:I}, s:{s:I}}", "memory", "limit", mem, "swap", swap,
                      "cpu", "shares", shares, "quota", quota, "period", (json_int_t)BERTH_VPS_CPU_PERIOD,
                      "pids", "limit", (json_int_t)(l->has_pids ? l->pids : -1));
        bool io = l->has_io_rbps || l->has_io_wbps || l->has_io_riops || l->has_io_wiops;
        if (res && io && l->io_major && json_object_set_new(res, "blockIO", make_block_io(l)) < 0) {
                json_decref(res);
                return NULL;
        }
        return res;
}

struct berth_resources *berth_vps_resources(const struct berth_vps_limits *l, struct berth_err *err)
{
        _cleanup_json_ json_t *res = make_resources(l);
        char *text = res ? json_dumps(res, JSON_COMPACT) : NULL;
        if (!text) {
                berth_err_set(err, ENOMEM, "VPS limits: out of memory");
                return NULL;
        }
        struct berth_resources *r = berth_resources_parse(text, strlen(text), err);
        free(text);
        return r;
}

/* cg: one level, made by create and removed by delete (a shared "berth/"
 * parent would outlive the last VPS: no create owns it). */
static int patch_linux(json_t *lx, const struct berth_vps_config *cfg, const char *cg)
{
        json_t *res = json_object_get(lx, "resources");
        _cleanup_json_ json_t *limits = make_resources(&cfg->limits);
        int r = !res || !limits ? -1 : json_object_update(res, limits);
        if (r < 0 || json_object_set_new(lx, "cgroupsPath", json_string(cg)) < 0 ||
            json_object_set_new(lx, "seccomp", make_seccomp(cfg)) < 0)
                return -1;
        return 0;
}

/* A guest systemd runs its own cgroup tree: it needs /sys/fs/cgroup
 * writable, holding only its own subtree, in a layout it accepts. The
 * unified hierarchy mounted in the VPS's cgroup namespace is exactly that
 * (runc and LXC give systemd the same), on a pure v2 host and on a hybrid
 * one alike: there the v2 tree carries no controllers, and the v1 limits
 * stay in force on the host's side of the VPS's v1 cgroups, which the guest
 * no longer sees. A host without a cgroup2 mount keeps the default. */
static int patch_cgroup_mount(json_t *mounts)
{
        struct statfs root, unified;
        bool v2 = (statfs("/sys/fs/cgroup", &root) == 0 && root.f_type == CGROUP2_SUPER_MAGIC) ||
                  (statfs("/sys/fs/cgroup/unified", &unified) == 0 && unified.f_type == CGROUP2_SUPER_MAGIC);
        if (!v2)
                return 0;
        size_t i;
        json_t *m;
        json_array_foreach(mounts, i, m)
        {
                if (strcmp(json_string_value(json_object_get(m, "destination")) ?: "", "/sys/fs/cgroup") != 0)
                        continue;
                return json_array_set_new(mounts, i,
                                          json_pack("{s:s, s:s, s:s, s:[s, s, s, s]}", "destination",
                                                    "/sys/fs/cgroup", "type", "cgroup2", "source", "cgroup2",
                                                    "options", "nosuid", "noexec", "nodev", "rw"));
        }
        return 0;
}

/* A guest always gets its own cgroup namespace (its systemd mounts its
 * tree there, see patch_cgroup_mount), whereas the OCI default has one
 * only on pure v2 hosts, as runc's. */
static int patch_cgroupns(json_t *lx)
{
        json_t *ns = json_object_get(lx, "namespaces"), *n;
        size_t i;
        json_array_foreach(ns, i, n)
        {
                if (strcmp(json_string_value(json_object_get(n, "type")) ?: "", "cgroup") == 0)
                        return 0;
        }
        return json_array_append_new(ns, json_pack("{s:s}", "type", "cgroup"));
}

/* The VPS's own user namespace: the guest's ids are its range of host ids
 * (created with the other namespaces, so that it owns them: the guest's
 * root may mount proc, sysfs and cgroup2 there, not on the host). */
static int patch_userns(json_t *lx, const struct berth_vps_userns *u)
{
        if (!u->enabled)
                return 0;
        json_t *ns = json_object_get(lx, "namespaces");
        if (json_array_append_new(ns, json_pack("{s:s}", "type", "user")) < 0)
                return -1;
        static const char *const keys[] = {"uidMappings", "gidMappings"};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(keys); i++)
                if (json_object_set_new(lx, keys[i],
                                        json_pack("[{s:i, s:I, s:I}]", "containerID", 0, "hostID",
                                                  (json_int_t)u->host_id, "size", (json_int_t)u->size)) < 0)
                        return -1;
        return 0;
}

/* /dev/shm is a directory of the VPS's /dev tmpfs (BERTH_DEV_TMPFS_ANNOTATION),
 * sharing its 64 MiB: a tmpfs of its own would be one more superblock per
 * VPS. A systemd guest mounts its own there anyway. */
static int drop_mount(json_t *mounts, const char *destination)
{
        size_t i;
        json_t *m;
        json_array_foreach(mounts, i, m)
        {
                if (!strcmp(json_string_value(json_object_get(m, "destination")) ?: "", destination))
                        return json_array_remove(mounts, i);
        }
        return 0;
}

static int patch(json_t *doc, const struct berth_vps_config *cfg, char *const *init, const char *cgroup)
{
        json_t *lx = json_object_get(doc, "linux");
        if (!lx || patch_linux(lx, cfg, cgroup) < 0 || patch_cgroupns(lx) < 0 ||
            patch_userns(lx, &cfg->userns) < 0 || patch_cgroup_mount(json_object_get(doc, "mounts")) < 0)
                return -1;
        if (json_object_set_new(doc, "process", make_process(init)) < 0 ||
            json_object_set_new(doc, "root", json_pack("{s:s, s:b}", "path", "rootfs", "readonly", 0)) < 0 ||
            json_object_set_new(doc, "hostname", json_string(cfg->hostname)) < 0 ||
            json_object_set_new(doc, "annotations",
                                json_pack("{s:s, s:s, s:s}", "org.berth.vps", cfg->name, "org.berth.template",
                                          cfg->template_name, BERTH_DEV_TMPFS_ANNOTATION,
                                          BERTH_DEV_TMPFS_SHARED)) < 0 ||
            drop_mount(json_object_get(doc, "mounts"), "/dev/shm") < 0)
                return -1;
        return 0;
}

char *berth_spec_vps_json(const struct berth_vps_config *cfg, char *const *init, const char *cgroup,
                          struct berth_err *err)
{
        if (!init || !init[0]) {
                berth_err_set(err, EINVAL, "VPS %s: no init", cfg->name);
                return NULL;
        }
        _cleanup_free_ char *base = berth_spec_default_json(false, err);
        if (!base)
                return NULL;
        json_error_t jerr;
        _cleanup_json_ json_t *doc = json_loads(base, 0, &jerr);
        if (!doc) {
                berth_err_set(err, EINVAL, "VPS %s: the default config.json: %s", cfg->name, jerr.text);
                return NULL;
        }
        char *text = NULL;
        if (patch(doc, cfg, init, cgroup) == 0)
                text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (!text) {
                berth_err_set(err, ENOMEM, "VPS %s: config.json: out of memory", cfg->name);
                return NULL;
        }
        /* Never hand out a config the runtime would refuse. */
        struct berth_spec *check = berth_spec_parse(text, strlen(text), err);
        if (!check) {
                free(text);
                berth_err_wrap(err, "VPS %s: generated config.json", cfg->name);
                return NULL;
        }
        berth_spec_free(check);
        return text;
}
