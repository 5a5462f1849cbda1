/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers shared by the runtime/vps*.c files. */
#ifndef BERTH_RUNTIME_VPS_INTERNAL_H
#define BERTH_RUNTIME_VPS_INTERNAL_H

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "berth/nft.h"
#include "berth/vps.h"

struct berth_cgroup;

/* The trace (--debug) and warnings of a VPS verb, through its berth_ctx. */
#define vps_trace(v, ...) berth_trace((v)->ctx, __VA_ARGS__)
#define vps_warn(v, ...)  berth_warn((v)->ctx, __VA_ARGS__)

void vps_strv_free(char **v);
/* data and a newline into path: path.tmp + fsync + rename (1), or nothing
 * when path holds exactly that already (0); -errno. */
int vps_write_file_atomic(const char *path, const char *data, size_t len);
/* fsync of a directory (after a rename or a new entry in it). */
int vps_fsync_dir(const char *dir);
/* berth_err_sys for a failed write, except that a full file system (or
 * quota) says "no space left on <where>" (ENOSPC). */
int vps_err_write(struct berth_err *err, int code, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Hints: small files in a VPS's directory that save a start a search
 * (disk.loop, bridge.last). Never trusted: the reader checks the value,
 * and a missing or stale hint only costs the slow way, so they are
 * written without fsync. read: false when there is none; an empty file
 * reads as "". */
/* vps_parallel (parallel.c): fn(i) for every i < n, in up to `workers`
 * forked processes, then done(i, r, err) for each in order, here. fn
 * must be safe to run again for an item a worker did not finish. */
typedef int (*vps_par_fn)(size_t i, void *arg, struct berth_err *err);
typedef void (*vps_par_done)(size_t i, int r, struct berth_err *err, void *arg);
void vps_parallel(size_t n, unsigned workers, vps_par_fn fn, vps_par_done done, void *arg);
#define VPS_BRIDGE_HINT "bridge.last" /* the bridge of the last start (network.c) */
bool vps_hint_read(const char *dir, const char *file, char *buf, size_t len);
void vps_hint_write(const char *dir, const char *file, const char *value);
/* A failure for want of space (ENOSPC, EDQUOT) that does not say so
 * yet gets "no space left on <data dir>: " in front; returns -err->code. */
int vps_err_space(const struct berth_vps_ctx *v, struct berth_err *err);
/* vps.json and config.json of cfg into dir (the VPS's directory, or the
 * one a create builds it in). */
int vps_config_save_in(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg, const char *dir,
                       struct berth_err *err);

/* claims.c: which VPS of a data directory holds an address or a host
 * interface name, without reading every vps.json. */
int vps_claims_write(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg,
                     struct berth_err *err);
void vps_claims_drop(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg);
/* Whether every VPS of the data directory has its claims (else: a full
 * read of the vps.json files, vps_claims_mark_indexed after it). */
bool vps_claims_indexed(const struct berth_vps_ctx *v);
int vps_claims_mark_indexed(const struct berth_vps_ctx *v, struct berth_err *err);
/* 1 with the name of the VPS other than self that holds it in out; 0. */
int vps_claim_addr_holder(const struct berth_vps_ctx *v, const char *self, const struct berth_ip_addr *a,
                          char *out, size_t len);
int vps_claim_if_holder(const struct berth_vps_ctx *v, const char *self, const char *ifname, char *out,
                        size_t len);

json_t *vps_config_json(const struct berth_vps_config *cfg);
/* A JSON array of the strings of v: n of them, or up to a NULL. */
json_t *vps_strv_json(const char *const *v, size_t n);

/* The network config of cfg for netns/ (points into cfg and v); undo
 * failures go to v's warnings. */
void vps_net_config(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg,
                    struct berth_net_config *nc);
/* Opens the init's network namespace and wires it; tears down on failure. */
int vps_net_up(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg, pid_t init_pid,
               struct berth_err *err);
/* Removes what vps_net_up made (idempotent); the bridge goes with its last port. */
int vps_net_down(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg, struct berth_err *err);
/* The same with BERTH_NET_TEARDOWN_* flags (start: KEEP_FILTER). */
int vps_net_down_flags(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg, unsigned flags,
                       struct berth_err *err);

/* Writes /etc/hostname, /etc/hosts and /etc/resolv.conf below root_fd. */
int vps_guest_files(int root_fd, const struct berth_vps_config *cfg, struct berth_err *err);

/* <data>/templates/<template>/users/<name>: created / removed. */
int vps_template_mark(const struct berth_vps_ctx *v, const char *tmpl, const char *name, bool used,
                      struct berth_err *err);

/* Container info for the VPS; returns 0 (and info filled) when the
 * container exists, -ENOENT when not. */
int vps_container_load(const struct berth_vps_ctx *v, const char *name, struct berth_container_info *info,
                       struct berth_err *err);
/* For a container whose state is damaged (BERTH_STATUS_UNKNOWN, counted
 * as ours): 1 when processes still run in the VPS's cgroups (or that
 * cannot be told), 0 when they are empty or gone. */
int vps_damaged_live(const struct berth_vps_ctx *v, const char *name);
/* Kills and deletes a leftover container and its network; a damaged one
 * through delete --force and the VPS's cgroups found by name. */
int vps_container_cleanup(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg,
                          struct berth_err *err);

/* Boots a VPS: creates and starts its container with console_socket as
 * create's --console-socket, cleaning up after itself on failure. */
typedef int (*vps_boot_fn)(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg,
                           const char *console_socket, struct berth_err *err);
/* Starts a VPS whose lock the caller holds and whose container is gone
 * (the console keeper, after its guest rebooted): console.log goes on. */
typedef int (*vps_restart_fn)(const struct berth_vps_ctx *v, struct berth_vps_config *cfg,
                              struct berth_err *err);
struct vps_boot_ops {
        vps_boot_fn boot;       /* in the worker */
        vps_restart_fn restart; /* in the keeper, when the guest rebooted */
};
/* vps_console_boot flags: console.log is appended to, not started anew. */
#define VPS_BOOT_LOG_APPEND 1u
/* Runs ops->boot in a worker below a new console keeper (console.c),
 * which logs and relays the guest's console and reaps its init, and then
 * cleans up or restarts the VPS (guest_exit.c). Returns boot's result. */
int vps_console_boot(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg,
                     const struct vps_boot_ops *ops, unsigned flags, struct berth_err *err);

/* A child the console keeper reaped, with its wait status. */
struct vps_reaped {
        pid_t pid;
        int status;
};
/* In the console keeper once the guest's init is gone (guest_exit.c),
 * reaped: the keeper's children of late. Unless a verb has dealt with the
 * VPS already (a stop, which holds the lock while it waits for the init),
 * removes its container, cgroups and network as `vps stop` does, under the
 * VPS's lock, and starts it again through restart when the guest rebooted
 * (its init ended by SIGHUP). What it did goes to v's log. */
void vps_guest_exited(const struct berth_vps_ctx *v, const char *name, const struct vps_reaped *reaped,
                      size_t n_reaped, vps_restart_fn restart);
/* vps_guest_exited in two steps, for a keeper that cannot clean up itself
 * (the small one, keeper_exec.c). claim: whether the cleanup is the
 * keeper's; then the VPS's lock (its fd) and the init's wait status in
 * *status; -1 when a verb has dealt with the VPS or will. clean: the
 * cleanup (and restart) under that lock. */
int vps_guest_exit_claim(const struct berth_vps_ctx *v, const char *name, const struct vps_reaped *reaped,
                         size_t n_reaped, int *status);
void vps_guest_exit_clean(const struct berth_vps_ctx *v, const char *name, int status,
                          vps_restart_fn restart);

/* --cpu-weight -> config.json's cpu shares for a host whose CPU
 * controller is v1 (linear: 100 -> 1024, 200 -> 2048) or v2 (the inverse
 * of the runtime's shares -> weight curve). */
uint64_t vps_cpu_weight_shares(uint64_t weight, bool v1);

/* sysinfo(2) answered for the VPS by its console keeper (sysinfo.c): the
 * seccomp listeners of the VPS's processes, handed over at
 * VPS_SYSINFO_SOCK, and what the answers come from. */
#define VPS_SYSINFO_SOCK    "sysinfo.sock"
#define VPS_SYSINFO_MAX_FDS 64
/* A guest's syncs answered at once, each by a child of the keeper. */
#define VPS_SYNC_CHILDREN_MAX 4
struct vps_sysinfo {
        const struct berth_vps_ctx *v;
        char name[BERTH_VPS_NAME_MAX + 1];
        int fds[VPS_SYSINFO_MAX_FDS];
        size_t notif_size, resp_size;
        struct berth_cgroup *cg; /* the container's, once its state is there */
        bool hybrid;
        uint64_t start_ticks; /* the init's, since boot */
        /* The children answering a guest's sync now (0: a free slot). */
        pid_t syncers[VPS_SYNC_CHILDREN_MAX];
};
struct pollfd;
struct sysinfo;
struct berth_cgroup_stats;
void vps_sysinfo_init(struct vps_sysinfo *s, const struct berth_vps_ctx *v, const char *name);
void vps_sysinfo_clear(struct vps_sysinfo *s);
/* Accepts one connection on listen_fd and keeps the listener fd it carries. */
void vps_sysinfo_accept(struct vps_sysinfo *s, int listen_fd);
/* Fills VPS_SYSINFO_MAX_FDS pollfds (unused: fd -1); returns that count. */
size_t vps_sysinfo_pollfds(const struct vps_sysinfo *s, struct pollfd *f);
/* Answers what poll reported on the pollfds that pollfds() filled. */
void vps_sysinfo_events(struct vps_sysinfo *s, const struct pollfd *f);
/* True when pid, just reaped, was one of s's sync children (its slot is
 * free again). */
bool vps_sysinfo_reaped(struct vps_sysinfo *s, pid_t pid);
/* The answer: host's sysinfo with the cgroup's memory, swap and tasks and
 * the VPS's uptime (seconds) in, mem_unit 1. Pure: unit-tested. */
int vps_sysinfo_compute(const struct sysinfo *host, const struct berth_cgroup_stats *st, bool hybrid,
                        uint64_t uptime, struct sysinfo *out);
/* Whether [addr, addr + len) lies in writable mappings of maps (the text
 * of /proc/<pid>/maps). */
bool vps_maps_writable(const char *maps, uint64_t addr, uint64_t len);

/* A guest's sync(2), answered by the keeper as syncfs of the guest's own
 * filesystems (sync.c): 0 answered (sync's 0), 1 the task is gone, -1
 * the kernel's own sync. */
int vps_sync_answer(int notify_fd, uint64_t id, pid_t pid);
/* A line of /proc/<pid>/mountinfo: true, its mount point (unescaped) and
 * device, for a filesystem on a block device (major not 0). */
bool vps_sync_mount_wanted(const char *line, char *mount_point, size_t len, dev_t *dev);

/* The VPS's cgroups (runtime/vps/cgroup.c: why two levels on cgroup v2).
 * cgroupsPath of its container: <vps-cgroup>, or <vps-cgroup>/guest on a
 * pure cgroup-v2 host. */
int vps_cgroup_path(const struct berth_vps_ctx *v, const char *name, char *out, size_t len);
/* The top level <vps-cgroup> above the container's cgroup cg: 1 and *top
 * (the caller frees it), or 0 and NULL when the VPS has none (hybrid host,
 * a container made before); -errno. */
int vps_cgroup_top(const struct berth_vps_ctx *v, const char *name, const struct berth_cgroup *cg,
                   struct berth_cgroup **top, struct berth_err *err);
/* On a pure v2 host, the VPS's limits on the top level above the
 * container's cgroup (cgroup_dump, from its state): guest and keeper
 * together; nothing elsewhere. Part of a boot: its failure fails it. */
int vps_cgroup_top_limits(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg,
                          const char *cgroup_dump, struct berth_err *err);
/* Charges the console keeper (pid) to the VPS whose container's cgroup is
 * cgroup_dump: the container's cgroups on a hybrid host,
 * <vps-cgroup>/console under the top level on a pure v2 one, none for a
 * container made before the top level. */
int vps_keeper_join(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg,
                    const char *cgroup_dump, pid_t keeper, struct berth_err *err);

/* The VPS's cgroups found by name, whatever any state file says (the
 * ground truth after a crash): in how many hierarchies they exist and how
 * many processes they hold; salvage kills those and removes them. */
int vps_cgroup_probe(const struct berth_vps_ctx *v, const char *name, int *n_dirs, int *n_procs,
                     struct berth_err *err);
int vps_cgroup_salvage(const struct berth_vps_ctx *v, const char *name, int *killed, int *removed,
                       struct berth_err *err);
/* The names of the VPS of this data directory that have cgroups below
 * the caller's own (NULL-terminated; free with vps_strv_free). */
int vps_cgroup_names(const struct berth_vps_ctx *v, char ***names, struct berth_err *err);

/* The locked, atomic part of create for a filled cfg (create.c; also
 * restore and clone): refuses a taken name, address or id range, picks
 * the host end and the id range (host_id 0: any free one), builds the
 * VPS in .new.<name>.<pid> (its layers, its disk), calls populate (when
 * not NULL) with that directory to fill its upper layer, writes vps.json
 * and config.json, and renames the directory into place. A failure
 * leaves nothing (a kill: a leftover for the next create or repair). */
typedef int (*vps_populate_fn)(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg,
                               const char *dir, void *arg, struct berth_err *err);
int vps_create_config(const struct berth_vps_ctx *v, struct berth_vps_config *cfg, const char *lower,
                      vps_populate_fn populate, void *arg, struct berth_err *err);

/* Leftovers of an interrupted create (.new.<name>.<pid>), destroy
 * (.rm.<name>.<pid>) or incoming migration (.mig.<name>.<pid>, receive.c)
 * in <data>/vps (leftover.c). */
struct vps_leftover {
        char entry[BERTH_VPS_NAME_MAX + 32]; /* the directory's name */
        char name[BERTH_VPS_NAME_MAX + 1];   /* the VPS's */
        bool is_new;                         /* a create's (else a destroy's) */
        bool is_mig;                         /* .mig.*: an incoming migration's (is_new too) */
};
typedef int (*vps_leftover_fn)(const struct berth_vps_ctx *v, int parent, const struct vps_leftover *lo,
                               void *arg, struct berth_err *err);
/* Calls fn for each leftover of parent (<data>/vps) whose maker is gone,
 * holding its lock meanwhile; one still being worked on is skipped. */
int vps_leftovers_each(const struct berth_vps_ctx *v, int parent, vps_leftover_fn fn, void *arg,
                       struct berth_err *err);
/* Removes the leftover and the template marker its vps.json names
 * (unless a VPS of its name exists now). */
int vps_leftover_remove(const struct berth_vps_ctx *v, int parent, const struct vps_leftover *lo,
                        struct berth_err *err);

/* Without vps.json (damaged, or the VPS gone): the host ends a VPS of
 * this name may have had that exist and no other VPS claims (up to max
 * into out; how many), and the removal of one (destroy.c). */
size_t vps_orphan_links(const struct berth_vps_ctx *v, const char *name, char (*out)[16], size_t max);
int vps_link_remove(const char *ifname, struct berth_err *err);

/* Loads name's vps.json into cfg and takes its lock (the fd returned);
 * *status is its container's (enum berth_status), or -1 without one. On
 * failure nothing is held and cfg is clear. */
int vps_open_locked(const struct berth_vps_ctx *v, const char *name, struct berth_vps_config *cfg,
                    int *status, struct berth_err *err);
/* flock()s the VPS directory (released by closing the fd). */
int vps_lock(const struct berth_vps_ctx *v, const char *name, struct berth_err *err);
bool vps_hostname_valid(const char *h);
int vps_limits_check(const struct berth_vps_limits *l, struct berth_err *err);
/* Parses a VPS address; bridged addresses without "/len" take the subnet
 * prefix of their gateway. */
int vps_parse_ip(const struct berth_vps_net *n, const char *s, struct berth_ip_addr *a,
                 struct berth_err *err);

/* $BERTH_CONFIG_DIR/file (default /etc/berth) as a JSON object into *doc
 * (NULL when there is no such file), its path into path; EINVAL naming
 * the file when it is not a JSON object. */
int vps_host_config_load(const char *file, char *path, size_t path_len, json_t **doc, struct berth_err *err);

/* Host defaults for create's limits (defaults.c): loaded (none without
 * the file; EINVAL naming file and key), and applied to what is unset. */
int vps_defaults_load(struct berth_vps_limits *d, struct berth_err *err);
void vps_defaults_apply(struct berth_vps_limits *l, const struct berth_vps_limits *d);

/* The host-wide registry of user-id ranges (idrange.c). */
/* Takes its lock (released by closing the fd). */
int vps_idrange_lock(struct berth_err *err);
/* Picks (or checks the asked-for) range of cfg against local (this data
 * directory's VPS), every registered VPS and the host's users, groups and
 * subordinate ids; under the lock. */
int vps_idrange_assign(struct berth_vps_config *cfg, const struct berth_vps_userns *local, size_t n_local,
                       struct berth_err *err);
/* Records cfg's range (under the lock) / drops it (takes the lock). */
int vps_idrange_register(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg,
                         struct berth_err *err);
int vps_idrange_release(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg,
                        struct berth_err *err);
/* The other data directories of this host (those the registry names),
 * NULL-terminated; free with vps_strv_free. */
/* vps repair: the stale lines of v's data directory in the registry (a
 * VPS whose vps.json is gone, which keeps its range taken: a destroy of
 * several that did not get to its prune). Unless dry_run, the registry is
 * rewritten without the stale lines (of any data directory); then fn for
 * each of v's, with the rewrite's error or NULL. Returns their count. */
typedef void (*vps_idrange_stale_fn)(const char *name, uint64_t start, uint64_t size,
                                     const struct berth_err *failed, void *arg);
int vps_idrange_repair(const struct berth_vps_ctx *v, bool dry_run, vps_idrange_stale_fn fn, void *arg,
                       struct berth_err *err);
int vps_idrange_other_data_dirs(const struct berth_vps_ctx *v, char ***dirs, struct berth_err *err);
/* Records cfg's range unless it is already (VPS from before the registry). */
int vps_idrange_ensure(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg,
                       struct berth_err *err);

/* ---- what the guest sees (view.c, identity.c, devices.c) ---- */
/* The bundle-relative file bound over the guest's boot_id. */
#define VPS_BOOT_ID_FILE "boot_id"
/* berth_spec_vps_json plus the guest's view: lxcfs annotation, cpuset of
 * ceil(--cpus) CPUs, boot_id, /proc/sys/net writable, devices. */
char *vps_spec_json(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg, char *const *init,
                    const char *cgroup, struct berth_err *err);
/* At start, before the container is created (root_fd: the mounted
 * overlay): identity files and device nodes. */
int vps_view_prepare(const struct berth_vps_ctx *v, int root_fd, const struct berth_vps_config *cfg,
                     struct berth_err *err);
/* machine-id and SSH host keys of the guest (below root_fd, the mounted
 * overlay) when still the template's; a new boot_id file. */
int vps_identity_files(const struct berth_vps_ctx *v, int root_fd, const struct berth_vps_config *cfg,
                       struct berth_err *err);
/* Sets res's cpuset for limits l of the running VPS name: ceil(--cpus) CPUs
 * picked as at start, or every CPU without --cpus (vps set, live). */
struct berth_resources;
int vps_view_cpuset_live(const struct berth_vps_ctx *v, const char *name, const struct berth_vps_limits *l,
                         struct berth_resources *res, struct berth_err *err);
/* True when the guest of init pid has lxcfs bound over /proc/meminfo and
 * lxcfs answers there. */
bool vps_view_lxcfs_active(pid_t pid);
/* --device names (each may be a comma list; "none" alone: no device). */
int vps_devices_parse_list(const char *const *names, unsigned *set, struct berth_err *err);
json_t *vps_devices_json(unsigned set);
int vps_devices_from_json(json_t *v, unsigned *set, struct berth_err *err);
/* Binds of the nodes and device cgroup rules of set into the spec doc. */
#define VPS_DEVICES_DIR "devices"
int vps_devices_patch(json_t *doc, unsigned set);
/* <dir>/devices/<name> for each device of cfg (mknod, guest root's). */
int vps_devices_nodes(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg,
                      struct berth_err *err);

/* ---- NAT and bandwidth (runtime/vps/bandwidth.c) ---- */
/* vps.json's net keys "nat", "rate_in", "rate_out": read into n / added
 * to the net object o. */
int vps_bandwidth_parse(json_t *o, struct berth_vps_net *n, struct berth_err *err);
int vps_bandwidth_json(json_t *o, const struct berth_vps_net *n);
/* --nat (the effective value) and --rate-in/--rate-out (NULL: unchanged;
 * "none" clears when set) into n, checked against its mode. */
int vps_bandwidth_opts(struct berth_vps_net *n, bool nat, const char *rate_in, const char *rate_out, bool set,
                       struct berth_err *err);
void vps_ifb_name(const struct berth_vps_config *cfg, char out[16]);
/* Removes the IFB device of host end host_if (0 when there is none). */
int vps_ifb_remove(const char *host_if, struct berth_err *err);
/* The shapers on the host end (after the network is up) / the IFB gone. */
int vps_bandwidth_up(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg,
                     struct berth_err *err);
int vps_bandwidth_down(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg,
                       struct berth_err *err);
int vps_bandwidth_live(const struct berth_vps_ctx *v, const struct berth_vps_config *old,
                       const struct berth_vps_config *cfg, struct berth_err *err);
void vps_bandwidth_status(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg,
                          struct berth_vps_status *st);
/* vps set on a running VPS (guest_live.c): a changed host name (the
 * guest's files and its UTS name) and nameservers written at once. */
int vps_guest_live(const struct berth_vps_ctx *v, const struct berth_vps_config *old,
                   const struct berth_vps_config *cfg, pid_t pid, struct berth_err *err);
/* --nameserver values (each an IP address, or "none" alone) into a new
 * NULL-terminated list. */
int vps_nameservers_parse(const char *const *list, char ***out, size_t *n, struct berth_err *err);

/* ---- network policy (runtime/vps/netpolicy.c) ---- */
/* "02:ab:..." -> 6 bytes; -EINVAL unless a unicast MAC other than zero. */
int vps_mac_parse(const char *s, unsigned char mac[6]);
void vps_mac_format(const unsigned char mac[6], char out[18]);
/* A random locally administered unicast MAC. */
int vps_mac_random(unsigned char mac[6], struct berth_err *err);
/* Refuses what a VPS cannot own (gateway, network, broadcast, multicast,
 * loopback, unspecified, link-local, IPv4-mapped, /0, outside the bridge's
 * subnet); s is the text as given, for the message. */
int vps_addr_check(const struct berth_vps_net *n, const struct berth_ip_addr *a, const char *s,
                   struct berth_err *err);
/* -EEXIST naming the other VPS when one of this host has address a:
 * this data directory's, and (other_dirs) every other data directory the
 * host's id range registry names (VPS with their own user namespace are
 * registered there). s is the text as given, for the message. */
/* start.c's pieces that a live restore (live.c) shares: the VPS's root
 * (overlay, idmapped lower) mounted in a new private mount namespace /
 * unmounted again; the host side of a container whose init exists (cgroup
 * delegation, the keeper, network), run in the keeper's worker; a start
 * under the caller's lock of a VPS without a container (console.log goes
 * on). */
int vps_root_mount(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg, struct berth_err *err);
void vps_root_umount(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg);
int vps_boot_wire(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg, struct berth_err *err);
int vps_start_locked_again(const struct berth_vps_ctx *v, struct berth_vps_config *cfg,
                           struct berth_err *err);
/* A start's sequence under the caller's lock (st: the container's status,
 * -1 without one): leftovers removed, disk attached, config.json
 * regenerated, then ops->boot below a new console keeper. */
int vps_boot_locked(const struct berth_vps_ctx *v, struct berth_vps_config *cfg, int st, unsigned flags,
                    const struct vps_boot_ops *ops, struct berth_err *err);

/* Live checkpoint/restore of a VPS with criu (live.c). vps_live_check:
 * criu installed and `criu check` passes here. vps_live_predump: the
 * memory of the running VPS into <vps>/criu-pre (it runs on). vps_live_dump:
 * its network's host end removed, the final dump into <vps>/criu (on top
 * of criu-pre with pre), its processes ended, its container removed as at
 * a stop; on failure it runs on here. vps_live_restore: the VPS, without a
 * container, restored from <vps>/criu below a new console keeper, with its
 * network wired again. */
#define VPS_LIVE_PRE    "criu-pre"
#define VPS_LIVE_IMAGES "criu"
int vps_live_check(struct berth_err *err);
int vps_live_predump(const struct berth_vps_ctx *v, const char *name, struct berth_err *err);
int vps_live_dump(const struct berth_vps_ctx *v, const char *name, bool pre, struct berth_err *err);
int vps_live_restore(const struct berth_vps_ctx *v, const char *name, struct berth_err *err);
bool vps_live_images_exist(const struct berth_vps_ctx *v, const char *name);
void vps_live_images_remove(const struct berth_vps_ctx *v, const char *name);

/* berth_vps_start / berth_vps_destroy without the migration guard: for
 * migrate and repair, which hold or settle a migration marker. */
int vps_start_unguarded(const struct berth_vps_ctx *v, const char *name, struct berth_err *err);
int vps_destroy_unguarded(const struct berth_vps_ctx *v, const char *name, bool force, struct berth_err *err);
/* Records the network namespace this data directory's VPS attach to
 * (netpolicy.c: which other data directories share its addresses). */
void vps_netns_record(const struct berth_vps_ctx *v);
int vps_addr_check_other_dirs(const struct berth_vps_ctx *v, const struct berth_ip_addr *a, const char *s,
                              struct berth_err *err);
int vps_addr_check_others(const struct berth_vps_ctx *v, const char *self, const struct berth_ip_addr *a,
                          const char *s, struct berth_err *err);
/* The host ports guests may reach: "host_ports" of
 * $BERTH_CONFIG_DIR/network.json (default /etc/berth); none when the file
 * does not exist. */
int vps_host_ports_load(struct berth_nft_port **ports, size_t *n, struct berth_err *err);
/* vps_net_config plus what the filter needs from the host (ports): free
 * *ports after use. */
int vps_net_config_full(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg,
                        struct berth_net_config *nc, struct berth_nft_port **ports, struct berth_err *err);

/* The user namespace (runtime/vps_userns.c). */
json_t *vps_userns_json(const struct berth_vps_userns *u);
/* NULL (absent) means privileged: vps.json from before user namespaces. */
int vps_userns_from_json(json_t *v, struct berth_vps_userns *u, struct berth_err *err);
/* The host uid (and gid) of guest id guest_uid. */
uid_t vps_host_uid(const struct berth_vps_config *cfg, uid_t guest_uid);
/* Attaches the template tmpl, idmapped through the VPS's range and
 * read-only, on target (in the caller's private mount namespace). */
int vps_userns_lower(const struct berth_vps_config *cfg, const char *tmpl, const char *target,
                     struct berth_err *err);
/* Whether this kernel can make that mount (nothing attached, nothing left). */
int vps_userns_lower_check(const struct berth_vps_config *cfg, const char *tmpl, struct berth_err *err);
/* Lets the guest's root reach <dir>/rootfs (see there); EACCES naming the
 * directory when one above <data>/vps is closed. No-op when privileged. */
int vps_userns_reachable(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg,
                         struct berth_err *err);
/* Gives the guest's root the VPS's unified cgroup and its delegation files
 * (cgroup_dump: the container state's). No-op when privileged. */
int vps_userns_delegate_cgroup(const struct berth_vps_config *cfg, const char *cgroup_dump,
                               struct berth_err *err);

/* ---- disk quota and I/O limits (runtime/vps/disk*.c) ---- */
/* Refuses disk and I/O limits out of range. */
int vps_storage_limits_check(const struct berth_vps_limits *l, struct berth_err *err);
/* At create, after the upper and work directories exist in dir (the
 * VPS's directory, or the one it is built in): picks the backend for a VPS
 * with a disk limit (cfg->disk) and sets it up there. */
int vps_disk_create(const struct berth_vps_ctx *v, struct berth_vps_config *cfg, const char *dir,
                    struct berth_err *err);
/* At destroy: drops what lives outside the VPS's directory (a project
 * quota's limits). Best effort, warnings to v. */
void vps_disk_destroy(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg);
/* At start, before config.json is written: makes the VPS's disk
 * reachable (attaches its image to a loop device) and fills the limits'
 * io device. vps_disk_detach ends the start's hold on it: the loop device
 * goes when the guest's last mount of it does (or now, after a failure). */
int vps_disk_attach(const struct berth_vps_ctx *v, struct berth_vps_config *cfg, struct berth_err *err);
void vps_disk_detach(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg);
/* Fills the limits' io device of cfg without attaching anything (vps set):
 * a stopped image VPS has none. */
void vps_disk_io_dev(const struct berth_vps_ctx *v, struct berth_vps_config *cfg);
/* In the start's private mount namespace: mounts the disk image (if any)
 * and the overlay of lower and the VPS's layers on target, the overlay
 * made without CAP_SYS_RESOURCE so that quotas and reserved blocks hold
 * against what the guest writes through it. */
int vps_disk_overlay_mount(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg,
                           const char *lower, const char *target, struct berth_err *err);
/* vps set: applies a changed disk or inode limit (live when running is
 * true); refuses a shrink below what the VPS uses. */
int vps_disk_set(const struct berth_vps_ctx *v, const struct berth_vps_config *old,
                 const struct berth_vps_config *cfg, pid_t running, struct berth_err *err);
/* vps status: disk usage (and I/O done, from the init's cgroup when pid). */
void vps_disk_status(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg, pid_t pid,
                     struct berth_vps_status *st);
/* How often the VPS hit its disk and inode limits (disk_hits.c), counted
 * by its console keeper into <dir>/disk-hits: n[0] blocks, n[1] inodes. */
struct vps_disk_hits {
        int fd; /* quota warnings socket (project) or a 1 s timer (image); -EBADF */
        enum berth_vps_disk_backend backend;
        uint32_t project_id;
        dev_t dev;    /* project: the data file system's */
        pid_t pid;    /* image: the guest's init, whose root shows the image */
        bool full[2]; /* image: full at the last look */
        uint64_t n[2];
        char path[PATH_MAX];
};
/* In `vps start`, before the keeper forks: opens what the keeper polls
 * (nothing without a disk limit: fd stays -EBADF). */
int vps_disk_hits_open(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg,
                       struct vps_disk_hits *h, struct berth_err *err);
/* In the small keeper after its exec (keeper_exec.c): h as open left it,
 * from the fd and what it was opened for; the counts from the file. */
void vps_disk_hits_resume(struct vps_disk_hits *h, const struct berth_vps_ctx *v, const char *name, int fd,
                          enum berth_vps_disk_backend backend, uint32_t project_id, dev_t dev);
/* In the keeper, when fd is readable: counts and saves. */
void vps_disk_hits_event(struct vps_disk_hits *h, const struct berth_vps_ctx *v, const char *name);
void vps_disk_hits_close(struct vps_disk_hits *h);
/* Counts the quota warnings of one netlink datagram that are h's (a hard
 * limit of its project on its file system); true when one was. */
bool vps_disk_hits_datagram(struct vps_disk_hits *h, const void *buf, size_t len);
/* The counts saved at path (and the image's last look, full, unless
 * NULL): 0, or -errno (-ENOENT: nothing counted yet). */
int vps_disk_hits_read(const char *path, uint64_t n[2], bool full[2]);
/* What the backend's count means, for status. */
const char *vps_disk_hits_kind(enum berth_vps_disk_backend b);
/* Host defaults: a disk/io key of vps-defaults.json into d (-ENOENT: not
 * one of them), and applied to what is unset. */
int vps_storage_default_key(const char *key, json_t *v, struct berth_vps_limits *d);
void vps_storage_defaults_apply(struct berth_vps_limits *l, const struct berth_vps_limits *d);
/* vps set: set's disk/io limits over l (clear's flags remove them); equal. */
void vps_storage_limits_merge(struct berth_vps_limits *l, const struct berth_vps_limits *set,
                              const struct berth_vps_limits *clear);
bool vps_storage_limits_equal(const struct berth_vps_limits *a, const struct berth_vps_limits *b);
/* True when l has an I/O limit: only then does the VPS join the blkio
 * hierarchy (config.json's blockIO), so a running VPS without one gets
 * new I/O limits at its next start. */
bool vps_storage_has_io(const struct berth_vps_limits *l);
/* vps.json: the limits' disk/io keys, and the "disk" object. */
int vps_storage_limits_parse(json_t *o, struct berth_vps_limits *l, struct berth_err *err);
int vps_storage_limits_json(json_t *o, const struct berth_vps_limits *l);
int vps_disk_parse(json_t *o, struct berth_vps_disk *d, struct berth_err *err);
json_t *vps_disk_json(const struct berth_vps_disk *d);

/* The console keeper (console.c starts it, keeper.c is its loop): what it
 * holds. The fds are opened by `vps start` before the keeper forks. */
#define VPS_KEEPER_REAPED_MAX 8
struct vps_keeper {
        int handoff; /* listening: create's --console-socket */
        int master, slave, log, listen, client, sigfd;
        int result;         /* write end of the pipe to `vps start` */
        int sysinfo_listen; /* sysinfo.sock: seccomp listeners come in */
        struct vps_sysinfo sysinfo;
        struct vps_disk_hits hits;
        pid_t worker;
        pid_t pid; /* the keeper itself: the worker checks that it is still its parent */
        char name[BERTH_VPS_NAME_MAX + 1];
        char log_path[PATH_MAX], handoff_path[PATH_MAX];
        off_t log_size;
        /* The last children reaped but the worker and the sync children
         * (sysinfo.c): the init and any orphan of the guest's creation;
         * n_reaped counts them all. */
        struct vps_reaped reaped[VPS_KEEPER_REAPED_MAX];
        size_t n_reaped;
        /* The keeper's own context: its warnings and trace go to console.log. */
        struct berth_ctx ctx;
        struct berth_vps_ctx v;
};
/* An empty k: its fds -EBADF, nothing reaped. */
void vps_keeper_init(struct vps_keeper *k);
/* Opens k->log_path: appended to, or started anew. */
int vps_keeper_open_log(struct vps_keeper *k, bool append, struct berth_err *err);
/* k's context: base's (NULL: the defaults) with the state root and data
 * directory of v, its log into console.log. */
void vps_keeper_bind(struct vps_keeper *k, const struct berth_ctx *base, const char *data_dir);
/* The keeper's life: relays and logs the console, answers sysinfo, counts
 * disk hits and reaps, until the guest's init is gone; then closes all of
 * k but the log. k->reaped holds what it reaped. */
void vps_keeper_serve(struct vps_keeper *k);
/* The reaped children, the most recent VPS_KEEPER_REAPED_MAX. */
size_t vps_keeper_n_reaped(const struct vps_keeper *k);
/* In the keeper forked by `vps start`, before serve: runs the rest of its
 * life in the small static berth next to berth-full (`berth _vps-keeper`,
 * keeper_exec.c), which holds a fraction of what a fork of berth-full
 * does. Returns only when that cannot be (traced): the keeper serves
 * itself then. */
void vps_keeper_exec(struct vps_keeper *k);
/* berth_vps_keeper_end_main (start.c) with the restart after a reboot. */
int vps_keeper_end_main(const struct berth_ctx *ctx, int argc, char **argv, vps_restart_fn restart);

#endif
