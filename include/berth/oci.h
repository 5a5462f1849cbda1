/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The OCI runtime configuration (config.json) as typed structs: data only,
 * no functions, so that every layer (cgroups, rootfs, the runtime) can work
 * on it. runtime/spec/ (berth/spec.h) is the only code that touches the
 * JSON: it validates the whole document up front and fills these structs.
 * Strings are owned by the spec and freed by berth_spec_free(). Arrays are
 * a pointer plus a count (`n_*`). An optional scalar has a `has_*` flag
 * next to it. */
#ifndef BERTH_OCI_H
#define BERTH_OCI_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- process ------------------------------------------------------------ */

struct berth_rlimit {
        int resource; /* RLIMIT_* */
        uint64_t soft, hard;
};

/* Capability sets as bit masks indexed by CAP_* number. */
struct berth_caps {
        bool present; /* process.capabilities given at all */
        uint64_t bounding, effective, inheritable, permitted, ambient;
};

struct berth_console_size {
        unsigned height, width;
};

struct berth_user {
        uid_t uid;
        gid_t gid;
        bool has_umask;
        mode_t umask;
        gid_t *additional_gids;
        size_t n_additional_gids;
};

struct berth_process {
        bool terminal;
        bool has_console_size;
        struct berth_console_size console_size;
        struct berth_user user;
        char **args; /* NULL-terminated, at least one entry */
        size_t n_args;
        char **env; /* NULL-terminated, may be empty */
        size_t n_env;
        char *cwd; /* absolute */
        struct berth_caps caps;
        struct berth_rlimit *rlimits;
        size_t n_rlimits;
        bool no_new_privileges;
        bool has_oom_score_adj;
        int oom_score_adj;
        char *apparmor_profile;
        char *selinux_label;
};

/* ---- mounts ------------------------------------------------------------- */

enum berth_propagation {
        BERTH_PROP_NONE = 0,
        BERTH_PROP_PRIVATE,
        BERTH_PROP_RPRIVATE,
        BERTH_PROP_SHARED,
        BERTH_PROP_RSHARED,
        BERTH_PROP_SLAVE,
        BERTH_PROP_RSLAVE,
        BERTH_PROP_UNBINDABLE,
        BERTH_PROP_RUNBINDABLE,
};

struct berth_id_mapping {
        uint32_t container_id, host_id, size;
};

struct berth_mount {
        char *destination;         /* absolute, inside the container */
        char *type;                /* may be NULL (bind) */
        char *source;              /* may be NULL; relative sources are bundle-relative */
        unsigned long flags;       /* MS_* set by the options */
        unsigned long clear_flags; /* MS_* explicitly cleared (rw, dev, ...) */
        /* The recursive attributes (runtime-spec 1.1 "rro", "rnosuid", ...):
         * MS_* set and cleared on the whole mount tree (mount_setattr
         * AT_RECURSIVE), after the flags above. */
        unsigned long rec_flags, rec_clear_flags;
        bool bind;      /* bind or rbind given */
        bool recursive; /* rbind */
        enum berth_propagation propagation;
        bool idmap, ridmap; /* "idmap" / "ridmap" options */
        bool tmpcopyup;     /* tmpfs starts with a copy of what it hides */
        char *data;         /* filesystem options joined with ',' or NULL */
        struct berth_id_mapping *uid_mappings, *gid_mappings;
        size_t n_uid_mappings, n_gid_mappings;
};

/* ---- namespaces --------------------------------------------------------- */

enum berth_ns_type {
        BERTH_NS_PID,
        BERTH_NS_NET,
        BERTH_NS_MOUNT,
        BERTH_NS_IPC,
        BERTH_NS_UTS,
        BERTH_NS_USER,
        BERTH_NS_CGROUP,
        BERTH_NS_TIME,
        BERTH_NS_COUNT,
};

struct berth_namespace {
        bool present; /* listed in linux.namespaces */
        char *path;   /* join this one (setns) instead of creating; NULL = new */
};

struct berth_time_offset {
        bool present;
        int64_t secs;
        uint32_t nanosecs;
};

/* ---- devices ------------------------------------------------------------ */

struct berth_device {
        char *path;
        char type; /* 'c', 'b', 'u' or 'p' */
        int64_t major, minor;
        bool has_file_mode;
        mode_t file_mode;
        bool has_uid, has_gid;
        uid_t uid;
        gid_t gid;
};

struct berth_device_rule {
        bool allow;
        char type;            /* 'a', 'c' or 'b' */
        int64_t major, minor; /* -1 = wildcard */
        char access[4];       /* subset of "rwm" */
};

/* ---- resources (cgroups) ------------------------------------------------ */

struct berth_opt_u64 {
        bool set;
        uint64_t v;
};

struct berth_opt_i64 {
        bool set;
        int64_t v;
};

struct berth_memory {
        struct berth_opt_i64 limit, reservation, swap, kernel, kernel_tcp;
        struct berth_opt_u64 swappiness;
        bool has_disable_oom_killer, disable_oom_killer;
        bool has_use_hierarchy, use_hierarchy;
        bool has_check_before_update, check_before_update;
};

struct berth_cpu {
        struct berth_opt_u64 shares, period, realtime_period, burst;
        struct berth_opt_i64 quota, realtime_runtime, idle;
        char *cpus, *mems; /* NULL when not set */
};

struct berth_weight_device {
        int64_t major, minor;
        struct berth_opt_u64 weight, leaf_weight;
};

struct berth_throttle_device {
        int64_t major, minor;
        uint64_t rate;
};

struct berth_blkio {
        struct berth_opt_u64 weight, leaf_weight;
        struct berth_weight_device *weight_devices;
        size_t n_weight_devices;
        /* read_bps, write_bps, read_iops, write_iops */
        struct berth_throttle_device *throttle[4];
        size_t n_throttle[4];
};

enum {
        BERTH_THROTTLE_READ_BPS,
        BERTH_THROTTLE_WRITE_BPS,
        BERTH_THROTTLE_READ_IOPS,
        BERTH_THROTTLE_WRITE_IOPS
};

struct berth_hugepage_limit {
        char *page_size; /* "2MB", "1GB" */
        uint64_t limit;
};

struct berth_net_prio {
        char *name;
        uint32_t priority;
};

struct berth_key_value {
        char *key, *value;
};

struct berth_resources {
        struct berth_device_rule *devices;
        size_t n_devices;
        bool has_memory, has_cpu, has_pids, has_blkio;
        struct berth_memory memory;
        struct berth_cpu cpu;
        struct berth_opt_i64 pids_limit;
        struct berth_blkio blkio;
        struct berth_hugepage_limit *hugepages;
        size_t n_hugepages;
        bool has_network;
        struct berth_opt_u64 net_class_id;
        struct berth_net_prio *net_prios;
        size_t n_net_prios;
        struct berth_key_value *unified;
        size_t n_unified;
};

/* ---- seccomp ------------------------------------------------------------ */

enum berth_seccomp_op {
        BERTH_SCMP_OP_NE,
        BERTH_SCMP_OP_LT,
        BERTH_SCMP_OP_LE,
        BERTH_SCMP_OP_EQ,
        BERTH_SCMP_OP_GE,
        BERTH_SCMP_OP_GT,
        BERTH_SCMP_OP_MASKED_EQ,
};

enum berth_seccomp_action {
        BERTH_SCMP_ACT_KILL, /* = KILL_THREAD */
        BERTH_SCMP_ACT_KILL_PROCESS,
        BERTH_SCMP_ACT_KILL_THREAD,
        BERTH_SCMP_ACT_TRAP,
        BERTH_SCMP_ACT_ERRNO,
        BERTH_SCMP_ACT_TRACE,
        BERTH_SCMP_ACT_ALLOW,
        BERTH_SCMP_ACT_LOG,
        BERTH_SCMP_ACT_NOTIFY,
};

struct berth_seccomp_arg {
        unsigned index;
        uint64_t value, value_two;
        enum berth_seccomp_op op;
};

struct berth_seccomp_rule {
        char **names; /* NULL-terminated */
        size_t n_names;
        enum berth_seccomp_action action;
        bool has_errno_ret;
        unsigned errno_ret;
        struct berth_seccomp_arg *args;
        size_t n_args;
};

enum {
        BERTH_SCMP_FLAG_LOG = 1u << 0,
        BERTH_SCMP_FLAG_SPEC_ALLOW = 1u << 1,
        BERTH_SCMP_FLAG_WAIT_KILLABLE_RECV = 1u << 2,
};

struct berth_seccomp {
        enum berth_seccomp_action default_action;
        bool has_default_errno_ret;
        unsigned default_errno_ret;
        char **architectures; /* "SCMP_ARCH_X86_64", ... NULL-terminated */
        size_t n_architectures;
        unsigned flags; /* BERTH_SCMP_FLAG_* */
        char *listener_path;
        char *listener_metadata;
        struct berth_seccomp_rule *rules;
        size_t n_rules;
};

/* ---- hooks -------------------------------------------------------------- */

enum berth_hook_kind {
        BERTH_HOOK_PRESTART,
        BERTH_HOOK_CREATE_RUNTIME,
        BERTH_HOOK_CREATE_CONTAINER,
        BERTH_HOOK_START_CONTAINER,
        BERTH_HOOK_POSTSTART,
        BERTH_HOOK_POSTSTOP,
        BERTH_HOOK_KIND_COUNT,
};

struct berth_hook {
        char *path;
        char **args; /* NULL-terminated, may be NULL */
        char **env;  /* NULL-terminated, may be NULL */
        bool has_timeout;
        int timeout; /* seconds, > 0 */
};

struct berth_hooks {
        struct berth_hook *list[BERTH_HOOK_KIND_COUNT];
        size_t n[BERTH_HOOK_KIND_COUNT];
};

/* ---- the whole config --------------------------------------------------- */

struct berth_spec {
        char *oci_version;
        char *root_path; /* as written (may be relative to the bundle) */
        bool root_readonly;
        bool has_process;
        struct berth_process process;
        char *hostname;
        char *domainname;
        struct berth_mount *mounts;
        size_t n_mounts;
        struct berth_hooks hooks;
        struct berth_key_value *annotations;
        size_t n_annotations;

        /* linux */
        struct berth_namespace namespaces[BERTH_NS_COUNT];
        struct berth_id_mapping *uid_mappings, *gid_mappings;
        size_t n_uid_mappings, n_gid_mappings;
        struct berth_time_offset time_offsets[2]; /* [0]=monotonic [1]=boottime */
        struct berth_device *devices;
        size_t n_devices;
        char *cgroups_path; /* NULL when not set */
        bool has_resources;
        struct berth_resources resources;
        struct berth_key_value *sysctl;
        size_t n_sysctl;
        bool has_seccomp;
        struct berth_seccomp seccomp;
        enum berth_propagation rootfs_propagation;
        char **masked_paths;
        size_t n_masked_paths;
        char **readonly_paths;
        size_t n_readonly_paths;
        char *mount_label;
        bool has_personality;
        char *personality_domain; /* "LINUX" or "LINUX32" */
};

#endif
