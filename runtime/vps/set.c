/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vps set: changes saved to vps.json (and config.json), and applied at once
 * to a running VPS: limits through the container's cgroup, addresses from
 * the host side inside its network namespace. When a live step fails, the
 * steps already done are undone and nothing is saved. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "berth/cleanup.h"
#include "berth/vps.h"
#include "runtime/vps/internal.h"

static void merge_limits(struct berth_vps_limits *l, const struct berth_vps_change *c)
{
        const struct berth_vps_limits *s = &c->set, *x = &c->clear;
        if (x->has_memory)
                l->has_memory = l->has_swap = false;
        if (x->has_swap)
                l->has_swap = false;
        if (x->has_cpus)
                l->has_cpus = false;
        if (x->has_cpu_weight)
                l->has_cpu_weight = false;
        if (x->has_pids)
                l->has_pids = false;
        if (s->has_memory)
                l->has_memory = true, l->memory = s->memory;
        if (s->has_swap)
                l->has_swap = true, l->swap = s->swap;
        if (s->has_cpus)
                l->has_cpus = true, l->cpu_quota = s->cpu_quota;
        if (s->has_cpu_weight)
                l->has_cpu_weight = true, l->cpu_weight = s->cpu_weight;
        if (s->has_pids)
                l->has_pids = true, l->pids = s->pids;
        vps_storage_limits_merge(l, s, x);
}

static bool limits_equal(const struct berth_vps_limits *a, const struct berth_vps_limits *b)
{
        return a->has_memory == b->has_memory && (!a->has_memory || a->memory == b->memory) &&
               a->has_swap == b->has_swap && (!a->has_swap || a->swap == b->swap) &&
               a->has_cpus == b->has_cpus && (!a->has_cpus || a->cpu_quota == b->cpu_quota) &&
               a->has_cpu_weight == b->has_cpu_weight &&
               (!a->has_cpu_weight || a->cpu_weight == b->cpu_weight) && a->has_pids == b->has_pids &&
               (!a->has_pids || a->pids == b->pids) && vps_storage_limits_equal(a, b);
}

static ssize_t find_addr(const struct berth_vps_net *n, const struct berth_ip_addr *a)
{
        for (size_t i = 0; i < n->n_addrs; i++)
                if (n->addrs[i].family == a->family &&
                    !memcmp(n->addrs[i].u.raw, a->u.raw, berth_ip_addr_len(a)))
                        return (ssize_t)i;
        return -1;
}

/* New address list = old - ip_del + ip_add; *added / *removed list what
 * changed for the live step. */
static int merge_addrs(struct berth_vps_net *n, const struct berth_vps_change *c, struct berth_ip_addr *added,
                       size_t *n_added, struct berth_ip_addr *removed, size_t *n_removed,
                       struct berth_err *err)
{
        for (size_t i = 0; c->ip_del && c->ip_del[i]; i++) {
                struct berth_ip_addr a;
                if (vps_parse_ip(n, c->ip_del[i], &a, err) < 0)
                        return -err->code;
                ssize_t at = find_addr(n, &a);
                if (at < 0)
                        return berth_err_set(err, ENOENT, "--ip-del %s: not an address of the VPS",
                                             c->ip_del[i]);
                removed[(*n_removed)++] = n->addrs[at];
                memmove(&n->addrs[at], &n->addrs[at + 1], (n->n_addrs - (size_t)at - 1) * sizeof(*n->addrs));
                n->n_addrs--;
        }
        for (size_t i = 0; c->ip_add && c->ip_add[i]; i++) {
                struct berth_ip_addr a;
                if (vps_parse_ip(n, c->ip_add[i], &a, err) < 0 ||
                    vps_addr_check(n, &a, c->ip_add[i], err) < 0)
                        return -err->code;
                if (find_addr(n, &a) >= 0)
                        return berth_err_set(err, EEXIST, "--ip-add %s: already an address of the VPS",
                                             c->ip_add[i]);
                struct berth_ip_addr *na = realloc(n->addrs, (n->n_addrs + 1) * sizeof(*na));
                if (!na)
                        return berth_err_set(err, ENOMEM, "out of memory");
                n->addrs = na;
                n->addrs[n->n_addrs++] = a;
                added[(*n_added)++] = a;
        }
        return 0;
}

static size_t count(const char *const *v)
{
        size_t n = 0;
        while (v && v[n])
                n++;
        return n;
}

struct live_change {
        struct berth_ip_addr *added, *removed;
        size_t n_added, n_removed;
        bool mac_changed, filter_changed;
};

/* Addresses one by one; on failure the ones done are put back. */
static int apply_addrs(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg, pid_t pid,
                       const struct live_change *lc, struct berth_err *err)
{
        if (!lc->n_added && !lc->n_removed)
                return 0;
        _cleanup_close_ int netns = berth_netns_open_pid(pid, err);
        if (netns < 0)
                return netns;
        struct berth_net_config nc;
        vps_net_config(v, cfg, &nc);
        size_t del = 0, add = 0;
        int r = 0;
        while (r >= 0 && del < lc->n_removed)
                if ((r = berth_net_addr_del(&nc, netns, &lc->removed[del], err)) >= 0)
                        del++;
        while (r >= 0 && add < lc->n_added)
                if ((r = berth_net_addr_add(&nc, netns, &lc->added[add], err)) >= 0)
                        add++;
        if (r >= 0) {
                vps_trace(v, "VPS %s: %zu addresses added, %zu removed live", cfg->name, add, del);
                return 0;
        }
        struct berth_err undo = {0};
        for (size_t i = 0; i < add; i++)
                if (berth_net_addr_del(&nc, netns, &lc->added[i], &undo) < 0)
                        vps_warn(v, "VPS %s: could not take back an added address: %s", cfg->name, undo.msg);
        for (size_t i = 0; i < del; i++)
                if (berth_net_addr_add(&nc, netns, &lc->removed[i], &undo) < 0)
                        vps_warn(v, "VPS %s: could not put back a removed address: %s", cfg->name, undo.msg);
        return r;
}

/* The filter follows the addresses, the MAC and --no-filter (berth/nft.h):
 * old's elements replaced by cfg's in one transaction. */
static int apply_filter(const struct berth_vps_ctx *v, const struct berth_vps_config *old,
                        const struct berth_vps_config *cfg, pid_t pid, const struct live_change *lc,
                        struct berth_err *err)
{
        if (!lc->n_added && !lc->n_removed && !lc->mac_changed && !lc->filter_changed)
                return 0;
        struct berth_net_config nc, oc;
        _cleanup_free_ struct berth_nft_port *ports = NULL;
        int r = vps_net_config_full(v, cfg, &nc, &ports, err);
        if (r < 0)
                return r;
        vps_net_config(v, old, &oc);
        if (!lc->mac_changed)
                return berth_net_filter_update(&oc, &nc, err);
        _cleanup_close_ int netns = berth_netns_open_pid(pid, err);
        return netns < 0 ? netns : berth_net_set_mac(&oc, &nc, netns, err);
}

/* The filter, then bandwidth and NAT, then the guest's host name and
 * nameservers; the rates go back when the last step fails. */
static int apply_net_live(const struct berth_vps_ctx *v, const struct berth_vps_config *old,
                          const struct berth_vps_config *cfg, pid_t pid, const struct live_change *lc,
                          struct berth_err *err)
{
        int r = apply_filter(v, old, cfg, pid, lc, err);
        if (r >= 0)
                r = vps_bandwidth_live(v, old, cfg, err);
        if (r >= 0 && (r = vps_guest_live(v, old, cfg, pid, err)) < 0) {
                struct berth_err undo = {0};
                if (vps_bandwidth_live(v, cfg, old, &undo) < 0)
                        vps_warn(v, "VPS %s: could not restore the old rates: %s", cfg->name, undo.msg);
        }
        return r;
}

/* The running VPS's top level (if it has one) gets res too. */
static int cgroup_top_update(const struct berth_vps_ctx *v, const char *name,
                             const struct berth_resources *res, struct berth_err *err)
{
        struct berth_container_info info;
        int r = vps_container_load(v, name, &info, err);
        if (r < 0)
                return r == -ENOENT ? 0 : r;
        struct berth_cgroup *cg = info.st.cgroup ? berth_cgroup_restore(info.st.cgroup, err) : NULL,
                            *top = NULL;
        r = info.st.cgroup && !cg ? -err->code : 0;
        berth_container_info_clear(&info);
        if (cg)
                r = vps_cgroup_top(v, name, cg, &top, err);
        if (r > 0 && (r = berth_cgroup_update(top, res, err)) >= 0)
                vps_trace(v, "VPS %s: limits updated on %s too", name, berth_cgroup_path(top));
        berth_cgroup_free(top);
        berth_cgroup_free(cg);
        return r < 0 ? r : 0;
}

static int apply_limits(const struct berth_vps_ctx *v, const char *name, const struct berth_vps_limits *l,
                        struct berth_err *err)
{
        struct berth_resources *res = berth_vps_resources(l, err);
        if (!res)
                return -err->code;
        char id[BERTH_VPS_ID_MAX];
        /* The cpuset follows --cpus (view.c). */
        int r = vps_view_cpuset_live(v, name, l, res, err);
        if (r >= 0)
                r = berth_container_update(v->ctx, berth_vps_container_id(v, name, id, sizeof(id)), res, err);
        if (r >= 0)
                r = cgroup_top_update(v, name, res, err);
        berth_resources_free(res);
        return r;
}

/* A stopped VPS has no filter elements, unless its guest died without a
 * stop: those of the old addresses and MAC go now, since the next start
 * replaces only the new ones'. Best effort (nothing to remove as a rule). */
static void drop_stale_filter(const struct berth_vps_ctx *v, const struct berth_vps_config *old,
                              const struct live_change *lc)
{
        if (!lc->n_added && !lc->n_removed && !lc->mac_changed)
                return;
        struct berth_net_config oc;
        struct berth_err ignore = {0};
        vps_net_config(v, old, &oc);
        if (berth_net_filter_remove(&oc, &ignore) < 0)
                vps_trace(v, "VPS %s: no stale filter entries removed: %s", old->name, ignore.msg);
}

static int apply_live(const struct berth_vps_ctx *v, const struct berth_vps_config *old,
                      const struct berth_vps_config *cfg, const struct live_change *lc, struct berth_err *err)
{
        struct berth_container_info info;
        int r = vps_container_load(v, cfg->name, &info, err);
        if (r < 0 && r != -ENOENT)
                return r;
        bool live = r == 0 && (info.status == BERTH_STATUS_RUNNING || info.status == BERTH_STATUS_PAUSED);
        pid_t pid = r == 0 ? info.st.pid : 0;
        vps_trace(v, "VPS %s: container %s%s", cfg->name, r == 0 ? berth_status_name(info.status) : "absent",
                  live ? ": changes applied live" : ": changes saved only");
        if (r == 0)
                berth_container_info_clear(&info);
        if ((r = vps_disk_set(v, old, cfg, live ? pid : 0, err)) < 0)
                return r;
        if (!live) {
                drop_stale_filter(v, old, lc);
                berth_err_clear(err);
                return 0;
        }
        bool limits_changed = !limits_equal(&old->limits, &cfg->limits);
        if (limits_changed && (r = apply_limits(v, cfg->name, &cfg->limits, err)) < 0)
                return r;
        if (limits_changed)
                vps_trace(v, "VPS %s: limits updated in its cgroup", cfg->name);
        r = apply_addrs(v, cfg, pid, lc, err);
        if (r >= 0 && (r = apply_net_live(v, old, cfg, pid, lc, err)) < 0) {
                /* The addresses back as they were: nothing is saved. */
                struct live_change undo = {.added = lc->removed,
                                           .n_added = lc->n_removed,
                                           .removed = lc->added,
                                           .n_removed = lc->n_added};
                struct berth_err ignore = {0};
                if (apply_addrs(v, old, pid, &undo, &ignore) < 0)
                        vps_warn(v, "VPS %s: could not put the addresses back: %s", cfg->name, ignore.msg);
        }
        if (r < 0 && limits_changed) {
                struct berth_err undo = {0};
                if (apply_limits(v, cfg->name, &old->limits, &undo) < 0)
                        vps_warn(v, "VPS %s: could not restore the old limits: %s", cfg->name, undo.msg);
        }
        return r;
}

static int merge_misc(struct berth_vps_config *cfg, const struct berth_vps_change *c, struct berth_err *err)
{
        if (c->hostname) {
                if (!vps_hostname_valid(c->hostname))
                        return berth_err_set(err, EINVAL, "--hostname: invalid host name \"%s\"",
                                             c->hostname);
                char *h = strdup(c->hostname);
                if (!h)
                        return berth_err_set(err, ENOMEM, "out of memory");
                free(cfg->hostname);
                cfg->hostname = h;
        }
        if (c->stop_signal && (cfg->stop_signal = berth_signal_parse(c->stop_signal)) < 0)
                return berth_err_set(err, EINVAL, "--stop-signal: unknown signal \"%s\"", c->stop_signal);
        if (c->autostart >= 0)
                cfg->autostart = c->autostart;
        if (c->allow_io_uring >= 0)
                cfg->allow_io_uring = c->allow_io_uring;
        int dr = c->devices ? vps_devices_parse_list(c->devices, &cfg->devices, err) : 0;
        if (dr < 0)
                return dr;
        merge_limits(&cfg->limits, c);
        return vps_limits_check(&cfg->limits, err);
}

/* --nat, --rate-in/--rate-out, --nameserver. */
static int merge_outbound(struct berth_vps_config *cfg, const struct berth_vps_change *c,
                          struct berth_err *err)
{
        int r = vps_bandwidth_opts(&cfg->net, c->nat >= 0 ? c->nat : cfg->net.nat, c->rate_in, c->rate_out,
                                   true, err);
        if (r < 0 || !c->nameservers)
                return r;
        char **ns = NULL;
        size_t n = 0;
        r = vps_nameservers_parse(c->nameservers, &ns, &n, err);
        if (r < 0) {
                vps_strv_free(ns);
                return r;
        }
        vps_strv_free(cfg->net.nameservers);
        cfg->net.nameservers = ns;
        cfg->net.n_nameservers = n;
        return 0;
}

static int merge_net(const struct berth_vps_ctx *v, struct berth_vps_config *cfg,
                     const struct berth_vps_change *c, struct live_change *lc, struct berth_err *err)
{
        for (size_t i = 0; c->ip_add && c->ip_add[i]; i++)
                if (vps_addr_check_others(v, cfg->name, &lc->added[i], c->ip_add[i], err) < 0)
                        return -err->code;
        if (c->mac) {
                unsigned char mac[6];
                if (vps_mac_parse(c->mac, mac) < 0)
                        return berth_err_set(err, EINVAL, "--mac: not a unicast MAC address: %s", c->mac);
                lc->mac_changed = !cfg->net.has_mac || memcmp(mac, cfg->net.mac, 6);
                memcpy(cfg->net.mac, mac, 6);
                cfg->net.has_mac = true;
        }
        if (c->filter >= 0) {
                lc->filter_changed = cfg->net.no_filter != !c->filter;
                cfg->net.no_filter = !c->filter;
        }
        return merge_outbound(cfg, c, err);
}

static int set_locked(const struct berth_vps_ctx *v, struct berth_vps_config *old,
                      struct berth_vps_config *cfg, const struct berth_vps_change *c, struct berth_err *err)
{
        size_t na = count(c->ip_add), nd = count(c->ip_del);
        _cleanup_free_ struct berth_ip_addr *added = calloc(na + 1, sizeof(*added));
        _cleanup_free_ struct berth_ip_addr *removed = calloc(nd + 1, sizeof(*removed));
        if (!added || !removed)
                return berth_err_set(err, ENOMEM, "out of memory");
        struct live_change lc = {.added = added, .removed = removed};
        int r = merge_misc(cfg, c, err);
        if (r >= 0)
                r = merge_addrs(&cfg->net, c, added, &lc.n_added, removed, &lc.n_removed, err);
        if (r >= 0)
                r = merge_net(v, cfg, c, &lc, err);
        /* The I/O limits' device: the running VPS's (a stopped image has none). */
        vps_disk_io_dev(v, cfg);
        if (!vps_storage_has_io(&old->limits)) /* not in the blkio hierarchy: at the next start */
                cfg->limits.io_major = cfg->limits.io_minor = 0;
        old->limits.io_major = cfg->limits.io_major, old->limits.io_minor = cfg->limits.io_minor;
        if (r >= 0)
                r = apply_live(v, old, cfg, &lc, err);
        if (r < 0)
                return r;
        r = berth_vps_config_save(v, cfg, err);
        if (r < 0) {
                /* Not saved (a full disk): the running VPS goes back to
                 * what vps.json still says. */
                struct live_change back = {.added = lc.removed,
                                           .n_added = lc.n_removed,
                                           .removed = lc.added,
                                           .n_removed = lc.n_added,
                                           .mac_changed = lc.mac_changed,
                                           .filter_changed = lc.filter_changed};
                struct berth_err undo = {0};
                if (apply_live(v, cfg, old, &back, &undo) < 0)
                        vps_warn(v, "VPS %s: could not take back the live change: %s", cfg->name, undo.msg);
        }
        return r;
}

int berth_vps_set(const struct berth_vps_ctx *v, const char *name, const struct berth_vps_change *c,
                  struct berth_err *err)
{
        struct berth_vps_config old, cfg;
        vps_trace(v, "VPS %s: set", name);
        int r = berth_vps_config_load(v, name, &old, err);
        if (r < 0)
                return r;
        _cleanup_close_ int lock = vps_lock(v, name, err);
        /* A second parse gives an independent copy to change. */
        r = lock < 0 ? lock : berth_vps_config_load(v, name, &cfg, err);
        if (r >= 0) {
                r = set_locked(v, &old, &cfg, c, err);
                berth_vps_config_clear(&cfg);
        }
        berth_vps_config_clear(&old);
        if (r < 0)
                vps_err_space(v, err);
        return r < 0 ? berth_err_wrap(err, "set VPS %s", name) : 0;
}
