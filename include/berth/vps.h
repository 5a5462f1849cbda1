/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Virtual private servers: persistent OCI bundles booted from templates.
 *
 * A VPS lives in <data>/vps/<NAME>/:
 *
 *   vps.json     its own configuration (struct berth_vps_config), the source
 *                of truth; config.json is regenerated from it
 *   config.json  the OCI config the container is created from
 *   upper/ work/ the overlay's private layers (the template is the lower one)
 *   rootfs/      the overlay's mount point (mounted only in a private mount
 *                namespace while the container is created: never on the host)
 *   console.log  what the guest wrote on its console (/dev/console, the
 *                init's stdio: a terminal kept by the console keeper,
 *                runtime/vps_console.c); console.log.1 the previous MiB
 *   console.sock the keeper's socket for `vps console --attach`
 *
 * `start` runs the bundle through berth_container_create/start (container id
 * berth_vps_container_id: "vps-<NAME>[-<data dir tag>]", cgroupsPath "berth-vps-<NAME>" relative to the caller's own
 * cgroup) in a new network namespace that is wired from the host side. While
 * a VPS exists, <data>/templates/<T>/users/<NAME> marks its template as used. */
#ifndef BERTH_VPS_H
#define BERTH_VPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "berth/cgroup.h"
#include "berth/container.h"
#include "berth/err.h"
#include "berth/netns.h"

#define BERTH_VPS_NAME_MAX        64
#define BERTH_VPS_DEFAULT_DATA    "/var/lib/berth"
#define BERTH_VPS_DEFAULT_BRIDGE  "berth0"
#define BERTH_VPS_DEFAULT_GW4     "10.77.0.1/16"
#define BERTH_VPS_DEFAULT_GW6     "fd77::1/64"
#define BERTH_VPS_DEFAULT_TIMEOUT 30     /* seconds for a graceful stop */
#define BERTH_VPS_CPU_PERIOD      100000 /* us; --cpus N is N * period of quota */

struct berth_vps_ctx {
        const struct berth_ctx *ctx; /* state root, warnings */
        const char *data_dir;        /* <data>: templates/ and vps/ */
        /* Set by a destroy of many VPS: each destroy leaves its line in
         * the host's id-range registry, and berth_vps_idrange_prune drops
         * them all at the end. Dropping one line rewrites the registry,
         * one line per VPS of the host: N destroys one by one cost N^2. */
        bool defer_id_release;
};

/* Limits; a field is unset (no limit) when its has_ flag is false. */
struct berth_vps_limits {
        bool has_memory, has_swap, has_cpus, has_cpu_weight, has_pids;
        int64_t memory;      /* bytes */
        int64_t swap;        /* bytes of swap beyond memory (needs memory) */
        uint64_t cpu_quota;  /* us per BERTH_VPS_CPU_PERIOD */
        uint64_t cpu_weight; /* 1..10000, cgroup v2 scale (100 = default) */
        int64_t pids;        /* max processes */
        /* Disk and I/O (runtime/vps/disk*.c): the VPS's whole upper layer
         * in bytes and inodes; bytes and operations per second on the block
         * device holding its data. */
        bool has_disk, has_inodes, has_io_rbps, has_io_wbps, has_io_riops, has_io_wiops;
        int64_t disk, inodes;
        int64_t io_rbps, io_wbps, io_riops, io_wiops;
        /* Not saved: the device the I/O limits apply to, filled in by the
         * storage code before the limits reach a cgroup (0:0 = none). */
        unsigned io_major, io_minor;
};

/* Where the disk limit of a VPS lives (runtime/vps/disk*.c). */
enum berth_vps_disk_backend {
        BERTH_VPS_DISK_NONE,    /* no --disk: the upper layer on the data file system */
        BERTH_VPS_DISK_IMAGE,   /* a sparse image (ext4 or btrfs), loop-mounted under the overlay */
        BERTH_VPS_DISK_PROJECT, /* a project quota on the data file system (ext4/XFS prjquota) */
};
const char *berth_vps_disk_backend_name(enum berth_vps_disk_backend b);

/* The file system of an image (BERTH_VPS_DISK_IMAGE): btrfs where the
 * kernel and mkfs.btrfs have it and no inode limit is asked for (its
 * snapshots are subvolumes: constant time, running or not), else ext4. */
enum berth_vps_disk_fs {
        BERTH_VPS_DISK_FS_EXT4,
        BERTH_VPS_DISK_FS_BTRFS,
};
const char *berth_vps_disk_fs_name(enum berth_vps_disk_fs fs);

struct berth_vps_disk {
        enum berth_vps_disk_backend backend;
        uint32_t project_id;       /* BERTH_VPS_DISK_PROJECT */
        enum berth_vps_disk_fs fs; /* BERTH_VPS_DISK_IMAGE */
};

struct berth_vps_net {
        enum berth_net_mode mode;
        char bridge[16];  /* bridged only */
        char host_if[16]; /* "bth" + hash of the name, fixed at create */
        struct berth_ip_addr gw4, gw6;
        struct berth_ip_addr *addrs;
        size_t n_addrs;
        char **nameservers; /* NULL-terminated or NULL */
        size_t n_nameservers;
        /* The guest's MAC: chosen at create (locally administered), kept
         * across restarts; has_mac false only in vps.json from before. */
        bool has_mac;
        unsigned char mac[6];
        bool no_filter; /* no nftables filter (berth/nft.h): hosts without nf_tables */
        /* Bridged: the bridge masquerades its IPv4 subnet out of the
         * host's default route (berth_nat_apply) once this VPS starts on
         * it, until the bridge goes. */
        bool nat;
        /* Bandwidth limits of the host end in bits per second (0: none):
         * rate_in what the guest receives, rate_out what it sends. */
        uint64_t rate_in, rate_out;
};

/* "100mbit", "1gbit", "500kbit", "10M" (bytes per second, binary suffixes
 * as --memory), "1250000" (bytes per second) into bits per second; -EINVAL
 * for anything else or 0. */
int berth_vps_parse_rate(const char *s, uint64_t *bps);

/* The VPS's own user namespace: guest ids 0..size-1 are host ids
 * host_id..host_id+size-1 (uids and gids alike), so that the guest's root is
 * an unprivileged host uid. Disabled, the guest's root is host root: a
 * "privileged" VPS, only on request (and for vps.json written before user
 * namespaces existed, whose upper layer holds host ids). */
#define BERTH_VPS_USERNS_BASE  0x40000000u /* host id of the first range */
#define BERTH_VPS_USERNS_SIZE  65536u      /* ids per VPS */
#define BERTH_VPS_USERNS_LIMIT 0x70000000u /* ranges end below (systemd's container range) */

struct berth_vps_userns {
        bool enabled;
        uint32_t host_id; /* host id of the guest's 0 */
        uint32_t size;
};

/* Character devices a VPS may be given (vps create|set --device): a short
 * allow-list of devices that are safe to share with an untrusted guest
 * (runtime/vps/devices.c). */
#define BERTH_VPS_DEV_TUN  (1u << 0) /* /dev/net/tun: VPNs (tun/tap in its own netns) */
#define BERTH_VPS_DEV_FUSE (1u << 1) /* /dev/fuse: FUSE file systems */
#define BERTH_VPS_DEV_PPP  (1u << 2) /* /dev/ppp: PPP links */
/* "tun", "fuse" or "ppp" into its bit; -EINVAL for any other name. */
int berth_vps_device_parse(const char *name, unsigned *bit);
/* The comma-separated names of the bits of set ("" when none) into out. */
void berth_vps_devices_format(unsigned set, char *out, size_t len);

struct berth_vps_config {
        char *name;
        char *template_name;
        char *hostname;
        char **init;     /* NULL-terminated argv; NULL = the template's (else /sbin/init) */
        int stop_signal; /* 0 = the template's (else SIGTERM) */
        bool autostart;
        /* io_uring_setup/enter/register allowed by its seccomp filter: off
         * unless asked for (the filter cannot see the operations io_uring
         * runs, and it is a frequent source of kernel exploits). */
        bool allow_io_uring;
        unsigned devices; /* BERTH_VPS_DEV_*: nodes made in the guest at start */
        char *created;    /* RFC 3339 */
        struct berth_vps_limits limits;
        struct berth_vps_net net;
        struct berth_vps_userns userns;
        struct berth_vps_disk disk;
};

/* ---- names, paths, config store (runtime/vps_config.c) ------------------- */

/* [a-z0-9][a-z0-9-]*, at most BERTH_VPS_NAME_MAX, so that it is also a host
 * name and part of a container id. */
bool berth_vps_name_valid(const char *name);
/* The OCI container id of VPS name: "vps-<name>" with the default data
 * directory, else "vps-<name>-<8 hex digits of a hash of the data
 * directory's real path>", so that two data directories never name (stop,
 * delete) each other's container; a container of the old form whose bundle
 * is this VPS's directory (made before the change) is still found. */
#define BERTH_VPS_ID_MAX (BERTH_VPS_NAME_MAX + 16)
const char *berth_vps_container_id(const struct berth_vps_ctx *v, const char *name, char *buf, size_t len);
/* 8 hex digits identifying the data directory (its real path); "" for the
 * default one. */
void berth_vps_data_tag(const struct berth_vps_ctx *v, char out[12]);
/* "bth" + 8 hex digits of a hash of name (+ salt when salt > 0). */
void berth_vps_host_ifname(const char *name, unsigned salt, char out[16]);

/* <data>/vps/<name> (+ "/" file when file is not NULL). */
int berth_vps_path(const struct berth_vps_ctx *v, const char *name, const char *file, char *out, size_t len);

int berth_vps_config_load(const struct berth_vps_ctx *v, const char *name, struct berth_vps_config *cfg,
                          struct berth_err *err);
/* Parses vps.json text (for tests). */
int berth_vps_config_parse(const char *json, size_t len, struct berth_vps_config *cfg, struct berth_err *err);
char *berth_vps_config_format(const struct berth_vps_config *cfg);
/* Writes vps.json atomically and regenerates config.json. */
int berth_vps_config_save(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg,
                          struct berth_err *err);
void berth_vps_config_clear(struct berth_vps_config *cfg);

/* Names of every VPS (sorted, NULL-terminated; free with berth_strv_freep). */
int berth_vps_list_names(const struct berth_vps_ctx *v, char ***names, struct berth_err *err);

/* Parses "512M", "2G", "1048576" (bytes, K/M/G/T binary suffixes). */
int berth_vps_parse_size(const char *s, int64_t *out);
/* Parses "1.5" CPUs into a quota of BERTH_VPS_CPU_PERIOD. */
int berth_vps_parse_cpus(const char *s, uint64_t *quota);

/* ---- templates as a VPS sees them (runtime/vps_template.c) ---------------- */

struct berth_vps_template {
        char rootfs[4096];
        char **init;     /* from template.json, NULL-terminated; NULL = none given */
        int stop_signal; /* 0 = none given */
};
int berth_vps_template_load(const struct berth_vps_ctx *v, const char *name, struct berth_vps_template *t,
                            struct berth_err *err);
void berth_vps_template_clear(struct berth_vps_template *t);

/* ---- the OCI config (runtime/spec_vps.c) ------------------------------------ */

/* config.json for the VPS: berth's default config made a system container
 * (full root file system, the init as process, a broad capability set, new
 * network namespace, limits as linux.resources). init is the effective argv. */
char *berth_spec_vps_json(const struct berth_vps_config *cfg, char *const *init, const char *cgroup,
                          struct berth_err *err);
/* The VPS's cgroup, below the caller's own: "berth-vps-NAME" with the default
 * data directory, else with a hash of the data directory appended, so that
 * two data directories holding a VPS of the same name never share (and
 * kill) each other's cgroup. */
void berth_vps_cgroup_name(const struct berth_vps_ctx *v, const char *name, char *out, size_t len);
/* The limits as OCI resources, for berth_container_update (free with
 * berth_resources_free). */
struct berth_resources *berth_vps_resources(const struct berth_vps_limits *l, struct berth_err *err);

/* ---- overlay root (rootfs/overlay.c) ------------------------------------------ */

/* Moves the calling process into a new mount namespace where nothing
 * propagates back to the host (/ becomes rslave): mounts made afterwards are
 * seen only here and by containers created from here. */
int berth_private_mount_ns(struct berth_err *err);
/* Mounts overlay(lower ro, upper, work) on target. Paths must not contain
 * ',' or ':' (overlay's option syntax). */
int berth_overlay_mount(const char *lower, const char *upper, const char *work, const char *target,
                        struct berth_err *err);

/* ---- user namespace (runtime/vps_userns.c) ------------------------------------ */

/* Parses --userns ("auto", "none", a host id) into u; "auto" leaves
 * host_id 0 for berth_vps_userns_pick. */
int berth_vps_userns_parse(const char *s, struct berth_vps_userns *u, struct berth_err *err);
/* True when the two ranges share an id (disabled ones share none). */
bool berth_vps_userns_overlap(const struct berth_vps_userns *a, const struct berth_vps_userns *b);
/* The lowest range of BERTH_VPS_USERNS_SIZE ids at BERTH_VPS_USERNS_BASE +
 * k * BERTH_VPS_USERNS_SIZE that overlaps none of used[0..n); -ENOSPC when
 * all are taken. */
int berth_vps_userns_pick(const struct berth_vps_userns *used, size_t n, struct berth_vps_userns *out,
                          struct berth_err *err);

/* ---- lifecycle (runtime/vps_*.c) -------------------------------------------------- */

struct berth_vps_create_opts {
        const char *name;
        const char *template_name;
        const char *hostname;    /* NULL = name */
        const char *init;        /* NULL = the template's */
        const char *stop_signal; /* NULL = the template's */
        enum berth_net_mode mode;
        const char *bridge;     /* NULL = BERTH_VPS_DEFAULT_BRIDGE */
        const char *gw4, *gw6;  /* NULL = defaults of the mode */
        const char *const *ips; /* NULL-terminated or NULL */
        const char *const *nameservers;
        const char *mac; /* NULL = a random locally administered one */
        bool no_filter;
        bool nat;            /* see berth_vps_net */
        const char *rate_in; /* NULL or a rate (berth_vps_parse_rate) */
        const char *rate_out;
        struct berth_vps_limits limits;
        bool autostart;
        bool allow_io_uring; /* see berth_vps_config */
        /* NULL or "auto": a free range of its own; "none": privileged (the
         * guest's root is host root: unsafe with untrusted guests); a
         * number: that host id as the guest's 0 (must not overlap another
         * VPS). */
        const char *userns;
        const char *const *devices; /* NULL-terminated names (berth_vps_device_parse) or NULL */
};

int berth_vps_create(const struct berth_vps_ctx *v, const struct berth_vps_create_opts *o,
                     struct berth_err *err);
/* Boots the VPS; on failure nothing is left running (-EBUSY when it runs). */
int berth_vps_start(const struct berth_vps_ctx *v, const char *name, struct berth_err *err);
/* Stop signal to the init, waits up to timeout_s, then kills everything.
 * *forced (may be NULL) tells whether the timeout ran out. -ESRCH when the
 * VPS is not running. */
int berth_vps_stop(const struct berth_vps_ctx *v, const char *name, int timeout_s, bool *forced,
                   struct berth_err *err);
/* One VPS of berth_vps_stop_many: name in, the rest out. */
struct berth_vps_stop_result {
        const char *name;
        int r;                /* 0, or -errno with err set (-ESRCH: not running) */
        bool forced;          /* the timeout ran out and the VPS was killed */
        struct berth_err err; /* "stop VPS NAME: ..." */
};
/* Stops several VPS together: every init gets its stop signal first, all
 * are waited for against one deadline (timeout_s from the start), then
 * the ones left are killed; so N guests take as long as the slowest, not
 * the sum. Locks are taken in name order (overlapping concurrent calls
 * cannot deadlock); a name given twice is stopped once. Returns how many
 * failed. */
size_t berth_vps_stop_many(const struct berth_vps_ctx *v, struct berth_vps_stop_result *res, size_t n,
                           int timeout_s);
/* Removes container, network, layers, marker and directory; a running VPS
 * needs force (-EBUSY otherwise). */
int berth_vps_destroy(const struct berth_vps_ctx *v, const char *name, bool force, struct berth_err *err);
/* Rewrites the host's id-range registry without the lines of VPS that are
 * gone (their data directory is there, their vps.json is not): after
 * destroys with defer_id_release. */
int berth_vps_idrange_prune(const struct berth_vps_ctx *v, struct berth_err *err);

/* A change for `vps set`: only the has_ flags of `set` are applied; `clear`
 * removes limits (its has_ flags select which). */
struct berth_vps_change {
        struct berth_vps_limits set, clear;
        const char *const *ip_add; /* NULL-terminated or NULL */
        const char *const *ip_del;
        const char *hostname;
        const char *stop_signal;
        int autostart;      /* -1 unchanged, 0, 1 */
        int allow_io_uring; /* -1 unchanged, 0, 1 (applies at the next start) */
        const char *mac;    /* NULL unchanged */
        int filter;         /* -1 unchanged, 0 (--no-filter), 1 */
        /* NULL unchanged, else the new device set (replaces the old one;
         * "none" alone: no device); applies at the next start. */
        const char *const *devices;
        int nat; /* -1 unchanged, 0, 1 (adds the bridge's NAT at once) */
        /* NULL unchanged, "none" no limit, else a rate: live. */
        const char *rate_in, *rate_out;
        /* NULL unchanged, else the new list ("none" alone: none, and the
         * guest's resolv.conf stays its own); written into a running
         * guest at once, like the host name (also its UTS name). */
        const char *const *nameservers;
};
/* Saves the change and applies limits and addresses live when running. */
int berth_vps_set(const struct berth_vps_ctx *v, const char *name, const struct berth_vps_change *c,
                  struct berth_err *err);

/* ---- backup, restore, clone (runtime/vps/backup*.c, restore*.c, clone.c) ----
 * One self-describing archive per VPS (runtime/vps/backup.h has the
 * format): a manifest (vps.json, the template's name and checksum), the
 * VPS's own files with guest ids, optionally its template. */

/* Progress: bytes of file data and entries so far; total: the bytes
 * expected (0: unknown); done on the last call. */
struct berth_vps_progress {
        uint64_t bytes, files, total;
        bool done;
};
typedef void (*berth_vps_progress_fn)(void *arg, const struct berth_vps_progress *p);

struct berth_vps_backup_opts {
        bool with_template;             /* the template too: restores where it is missing */
        berth_vps_progress_fn progress; /* with it, the data is measured first (a total) */
        void *arg;
};

struct berth_vps_archive_result {
        uint64_t bytes, files; /* file data and entries of the VPS (and template) */
        double seconds;
        bool frozen;                       /* backup: the running VPS was frozen for the copy */
        char name[BERTH_VPS_NAME_MAX + 1]; /* restore: the VPS made */
        char template_name[256];           /* restore: the template it uses */
        bool template_restored;            /* restore: the template came from the archive */
};

/* Writes the archive of VPS name on fd. A running VPS is frozen (its
 * cgroup) while its files are read, so the copy is consistent. Moves the
 * caller into a private mount namespace (berth_private_mount_ns) when the
 * VPS's disk is an image, which is mounted there to be read. */
int berth_vps_backup(const struct berth_vps_ctx *v, const char *name, int fd,
                     const struct berth_vps_backup_opts *o, struct berth_vps_archive_result *res,
                     struct berth_err *err);

struct berth_vps_restore_opts {
        const char *name;       /* NULL: the archive's */
        const char *const *ips; /* NULL-terminated, replacing the archive's addresses; NULL: keep them */
        berth_vps_progress_fn progress;
        void *arg;
};
/* Recreates a VPS from the archive on fd: a new id range (ids shifted
 * into it), a new MAC when the name changes; limits, disk limit,
 * addresses and autostart as archived. Refuses a taken name or address
 * and a template that is missing or differs (unless the archive carries
 * it: then it is restored, under "<T>-<checksum prefix>" when a
 * different T exists). A damaged or truncated archive leaves nothing. */
int berth_vps_restore(const struct berth_vps_ctx *v, int fd, const struct berth_vps_restore_opts *o,
                      struct berth_vps_archive_result *res, struct berth_err *err);

/* A new VPS dst from src (running: frozen for the copy): its own id
 * range, MAC, machine-id and SSH host keys (made at its first start);
 * ips replace src's addresses (NULL: none, since src keeps its own). */
int berth_vps_clone(const struct berth_vps_ctx *v, const char *src, const char *dst, const char *const *ips,
                    struct berth_vps_archive_result *res, struct berth_err *err);

/* ---- repair (runtime/vps/repair.c) ------------------------------------------ */

/* What a crash left inconsistent, found and fixed without touching a
 * running VPS: leftovers of interrupted creates and destroys, stale or
 * damaged containers of VPS that do not run, their leaked cgroups,
 * mounts and host ends (with their filter entries), template markers of
 * no VPS and VPS without theirs. */
enum berth_vps_repair_state {
        BERTH_VPS_REPAIRED,
        BERTH_VPS_WOULD_REPAIR,  /* --dry-run */
        BERTH_VPS_REPAIR_LEFT,   /* not for repair to fix: the item says who does */
        BERTH_VPS_REPAIR_FAILED, /* the fix failed: the item says why */
        BERTH_VPS_REPAIR_SKIPPED /* a command works on the VPS: not looked at */
};
const char *berth_vps_repair_state_name(enum berth_vps_repair_state s);

struct berth_vps_repair_item {
        const char *vps;  /* the VPS it concerns */
        const char *kind; /* leftover, container, cgroup, mount, network, marker, config, busy */
        const char *what; /* what was found and done (or would be) */
        enum berth_vps_repair_state state;
};

struct berth_vps_repair_opts {
        const char *name; /* one VPS (also one whose directory is gone); NULL: all */
        bool dry_run;     /* only report */
        /* Called for each item; NULL: each goes to the warnings. */
        void (*report)(void *arg, const struct berth_vps_repair_item *it);
        void *arg;
};

struct berth_vps_repair_counts {
        size_t found;   /* inconsistencies (repaired, would be, or left) */
        size_t left;    /* of which not repaired */
        size_t skipped; /* VPS not looked at (busy) */
};

int berth_vps_repair(const struct berth_vps_ctx *v, const struct berth_vps_repair_opts *o,
                     struct berth_vps_repair_counts *n, struct berth_err *err);

/* Runs args in the running VPS with env (NULL: root's login environment);
 * the command's exit code in *exit_code. When exec itself fails, *exit_code
 * is docker's: 125 (the VPS or exec failed), 126 (the command cannot run),
 * 127 (no such command). */
int berth_vps_exec(const struct berth_vps_ctx *v, const char *name, char **args, char **env, bool tty,
                   int *exit_code, struct berth_err *err);

/* An interactive login shell on a new pty: shell, or root's shell from
 * the guest's /etc/passwd (/bin/sh when it names none). Exit codes as
 * berth_vps_exec's. */
int berth_vps_enter(const struct berth_vps_ctx *v, const char *name, const char *shell, int *exit_code,
                    struct berth_err *err);

/* Relays our terminal to the running VPS's console until it stops or the
 * user types Ctrl-]. */
int berth_vps_console_attach(const struct berth_vps_ctx *v, const char *name, struct berth_err *err);

/* The console keeper's own verbs, which `vps start`'s keeper execs
 * (runtime/vps/keeper_exec.c), never a user: argv from the verb's name
 * on; ctx from the global options. keeper: the keeper's loop, in the
 * small static berth. keeper_end: in berth-full, the cleanup after a
 * guest that ended by itself. Exit codes. */
int berth_vps_keeper_main(const struct berth_ctx *ctx, int argc, char **argv);
int berth_vps_keeper_end_main(const struct berth_ctx *ctx, int argc, char **argv);

struct berth_vps_status {
        bool running;
        /* The container's state file is damaged (damage says how): running
         * then means processes are still in the VPS's cgroups; `vps stop`,
         * `vps destroy --force` and (when none are) `vps repair` clear it. */
        bool damaged;
        char damage[256];
        pid_t pid;
        bool has_stats;
        struct berth_cgroup_stats stats;
        /* The guest sees its own limits in /proc (lxcfs bound and alive). */
        bool lxcfs;
        /* The VPS's disk (has_disk: it has a --disk limit): bytes and
         * inodes used and available to it. */
        bool has_disk;
        uint64_t disk_used, disk_total, inodes_used, inodes_total;
        /* How often it hit its disk and inode limits since create, as its
         * console keeper counts them (has_disk_hits); hits_counted says
         * what is counted: "quota warnings" (project backend: each run
         * into the limit, from the kernel) or "full seen" (image backend:
         * the keeper's look each second found it full). */
        bool has_disk_hits;
        uint64_t disk_limit_hits, inode_limit_hits;
        const char *hits_counted;
        /* I/O done on its data's device while running (has_io). */
        bool has_io;
        uint64_t io_read_bytes, io_write_bytes, io_read_ops, io_write_ops;
        /* How many snapshots it has (berth/vps_snapshot.h). */
        size_t snapshots;
        /* The host end's shapers while running (has_rate: read). */
        bool has_rate;
        struct berth_tc_stats rate_in, rate_out;
        /* Its bridge masquerades (berth_nat_active), while running. */
        bool nat_active;
};
int berth_vps_status_get(const struct berth_vps_ctx *v, const char *name, struct berth_vps_status *st,
                         struct berth_err *err);
/* Only running, pid and damage: no usage, disk or snapshot count (what
 * --all selects by, a few ms less per VPS). */
int berth_vps_state_get(const struct berth_vps_ctx *v, const char *name, struct berth_vps_status *st,
                        struct berth_err *err);

#endif
