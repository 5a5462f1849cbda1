/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Private to cgroups/: the host's hierarchies, the container object, and
 * the helpers the backends share. Nothing outside cgroups/ includes this. */
#ifndef BERTH_CGROUPS_INTERNAL_H
#define BERTH_CGROUPS_INTERNAL_H

#include <linux/bpf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "berth/cgroup.h"
#include "berth/err.h"
#include "berth/oci.h"

enum cg_ctrl {
        CG_CPU,
        CG_CPUACCT,
        CG_CPUSET,
        CG_MEMORY,
        CG_DEVICES,
        CG_FREEZER,
        CG_BLKIO,
        CG_PIDS,
        CG_HUGETLB,
        CG_NET_CLS,
        CG_NET_PRIO,
        CG_PERF_EVENT,
        CG_RDMA,
        CG_MISC,
        CG_NCTRL,
};
#define CG_BIT(c) (1u << (c))

const char *cg_ctrl_name(enum cg_ctrl c);
int cg_ctrl_from_name(const char *name); /* -1 when unknown */

/* One hierarchy as the host mounts it. */
struct cg_mount {
        bool unified;
        unsigned mask;    /* v1 controllers of this hierarchy */
        char *name;       /* named v1 hierarchy ("systemd") or NULL */
        char *mountpoint; /* where it is mounted */
        char *root;       /* mountinfo root: the part of the hierarchy the mount shows */
        char *own;        /* our cgroup in it, from /proc/self/cgroup, or NULL */
        char *ctrls;      /* v1: its controllers field there ("cpu,cpuacct", "name=systemd") */
};

struct cg_host {
        enum berth_cgroup_layout layout;
        struct cg_mount *m;
        size_t n;
};

void cg_host_clear(struct cg_host *h);
/* Parsers take buffers so tests run without root. */
int cg_parse_mountinfo(const char *buf, struct cg_host *h, struct berth_err *err);
int cg_parse_proc_cgroup(const char *buf, struct cg_host *h, struct berth_err *err);
/* The path of one hierarchy in a /proc/<pid>/cgroup text, malloc'd, or NULL:
 * the unified one, or the v1 one with exactly these controllers and, for a
 * named hierarchy (mask 0), this name ("systemd"). */
char *cg_proc_cgroup_path(const char *buf, bool unified, unsigned mask, const char *named);
enum berth_cgroup_layout cg_layout_from_magic(unsigned long root_magic, unsigned long unified_magic);
int cg_host_load(struct cg_host *h, struct berth_err *err);

/* Resolves the container's absolute path in one hierarchy:
 * absolute cgroupsPath as is, relative under own, none: own/berth/id.
 * ".." components are refused. Returns a malloc'd normalized path. */
char *cg_resolve_path(const char *own, const char *cgroups_path, const char *id, struct berth_err *err);
/* mountpoint + (path below root); NULL + err when path is outside root. */
char *cg_fs_dir(const char *mountpoint, const char *root, const char *path, struct berth_err *err);

/* v1 controllers whose files the resources write. */
unsigned cg_needed_v1(const struct berth_resources *r, enum berth_cgroup_layout layout);

/* The container in one hierarchy. */
struct cg_hier {
        bool unified;
        unsigned mask;
        char *name;       /* "memory", "cpu,cpuacct", "unified", ... for messages */
        char *path;       /* absolute inside the hierarchy */
        char *dir;        /* filesystem path */
        size_t mount_len; /* dir[0..mount_len) is the mount point */
        int n_existing;   /* levels of dir that existed before create, -1 = none created by us */
        int fd;           /* O_DIRECTORY fd of dir, or -EBADF */
};

struct berth_cgroup {
        enum berth_cgroup_layout layout;
        char *id;
        struct cg_hier *h;
        size_t n;
        const struct berth_resources *res; /* create() only; not owned */
        bool default_devices;
        char *warnings;
        struct berth_cgroup_mount *mounts; /* berth_cgroup_new only */
        size_t n_mounts;
};

struct cg_hier *cg_unified(const struct berth_cgroup *cg);
struct cg_hier *cg_v1(const struct berth_cgroup *cg, enum cg_ctrl c);
/* The hierarchy that holds every process: unified, else freezer/first v1. */
struct cg_hier *cg_primary(const struct berth_cgroup *cg);
int cg_hier_fd(struct cg_hier *h, struct berth_err *err);
void cg_warn(struct berth_cgroup *cg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cg_hier_clear(struct cg_hier *h);

/* cgroupfs file helpers: errors name `what` (the OCI resource) and the file. */
int cg_write(int dfd, const char *file, const char *value, const char *what, struct berth_err *err);
int cg_writef(int dfd, const char *file, const char *what, struct berth_err *err, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
int cg_read(int dfd, const char *file, char **out, struct berth_err *err);
bool cg_exists(int dfd, const char *file);
int cg_read_u64(int dfd, const char *file, uint64_t *v, struct berth_err *err); /* "max" = UNLIMITED */

/* ---- conversions (convert.c) ---- */
uint64_t cg_blkio_to_io_weight(uint64_t blkio_weight);
/* cpu.max value: "quota period", "max period", "quota" or "max"; 0 when nothing to write. */
int cg_cpu_max(const struct berth_cpu *c, const char *current, char *buf, size_t len);
/* v2 memory.swap.max from OCI swap (= memory+swap) and limit; *max true for "max". */
int cg_swap_v2(const struct berth_memory *m, int64_t *value, bool *max, struct berth_err *err);
void cg_fmt_limit(int64_t v, char *buf, size_t len);                /* -1 (or < 0) -> "max" */
int cg_hugepage_size(const char *page_size, char *out, size_t len); /* "2MB" -> "2MB"; checked */

/* ---- devices (devices.c, devices_bpf.c) ---- */
struct cg_dev_rules {
        struct berth_device_rule *r;
        size_t n;
};
/* deny-all + spec rules (+ runc's default allowlist). */
int cg_dev_rules_build(const struct berth_resources *res, bool defaults, struct cg_dev_rules *out);
void cg_dev_rules_clear(struct cg_dev_rules *d);
int cg_dev_v1_line(const struct berth_device_rule *r, char *buf, size_t len);
/* The v1 writes: (file, line) pairs in order; files are devices.allow / devices.deny. */
struct cg_dev_v1_write {
        const char *file;
        char line[64];
};
int cg_dev_v1_plan(const struct cg_dev_rules *d, struct cg_dev_v1_write **w, size_t *n);
int cg_dev_v1_apply(int dfd, const struct cg_dev_rules *d, struct berth_err *err);
/* eBPF BPF_CGROUP_DEVICE program: last matching rule wins, default deny. */
int cg_dev_bpf_build(const struct cg_dev_rules *d, struct bpf_insn **insns, size_t *n);
int cg_dev_bpf_apply(int cgroup_fd, const struct bpf_insn *insns, size_t n, struct berth_err *err);
/* Detaches every device program (a negative fd: its error is in err). */
int cg_dev_bpf_clear(int cgroup_fd, struct berth_err *err);

/* Removes every sub-cgroup below dfd (where: its name for messages),
 * deepest first; they must be empty. */
int cg_remove_children(int dfd, const char *where, int depth, struct berth_err *err);
/* ---- backends ---- */
int cg_v1_apply(struct berth_cgroup *cg, const struct berth_resources *r, bool update, struct berth_err *err);
int cg_v2_apply(struct berth_cgroup *cg, const struct berth_resources *r, bool update, struct berth_err *err);
int cg_count_levels(const struct cg_hier *h);
int cg_remove_levels(struct cg_hier *h, struct berth_err *err);
int cg_v1_cpuset_init(int parent_fd, int child_fd, struct berth_err *err);
int cg_apply_devices(struct berth_cgroup *cg, const struct berth_resources *r, struct berth_err *err);
/* Update: the same, and the other place (hybrid) stops filtering. */
int cg_update_devices(struct berth_cgroup *cg, const struct berth_resources *r, struct berth_err *err);
/* Where the device rules go: v1 devices.allow/deny, or an eBPF program on the unified level. */
bool cg_devices_on_v1(const struct berth_cgroup *cg, const struct berth_resources *r);

/* ---- stats parsers (stats_parse.c) ---- */
bool cg_keyed_u64(const char *buf, const char *key, uint64_t *v); /* "key value" lines */
void cg_parse_io_stat(const char *buf, uint64_t *rb, uint64_t *wb, uint64_t *rio, uint64_t *wio);
/* blkio.*_recursive: "maj:min Read N" lines; sums Read and Write. */
void cg_parse_blkio(const char *buf, uint64_t *read, uint64_t *write);

/* ---- waiting (wait.c) ---- */
/* Waits until cgroup.events has key at value (populated 0, frozen 0/1). */
int cg_wait_events(int dfd, const char *key, uint64_t want, int timeout_ms, struct berth_err *err);
int cg_read_pids(int dfd, pid_t **pids, size_t *n, struct berth_err *err);

#define CG_WAIT_TIMEOUT_MS 10000

#endif
