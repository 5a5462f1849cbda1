/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vps create (destroy is in destroy.c).
 *
 * Create writes vps.json and config.json and three empty directories: it
 * copies nothing from the template, so its cost does not depend on the
 * template's size. The VPS is built under a temporary name and renamed
 * into place (leftover.c): killed at any point, a create leaves either no
 * VPS or a complete one, whose template is marked as used. */
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/rmtree.h"
#include "berth/vps.h"
#include "runtime/vps/internal.h"

bool vps_hostname_valid(const char *h)
{
        size_t n = strlen(h);
        if (n == 0 || n > 63 || h[0] == '-' || h[0] == '.')
                return false;
        for (const char *p = h; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                      *p == '-' || *p == '.'))
                        return false;
        return true;
}

int vps_limits_check(const struct berth_vps_limits *l, struct berth_err *err)
{
        if (l->has_memory && l->memory < 4096)
                return berth_err_set(err, EINVAL, "--memory: at least 4K");
        if (l->has_swap && !l->has_memory)
                return berth_err_set(err, EINVAL, "--swap: needs --memory");
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        if (l->has_cpus && cpus > 0 && l->cpu_quota > (uint64_t)cpus * BERTH_VPS_CPU_PERIOD)
                return berth_err_set(err, EINVAL, "--cpus: at most %ld, the host's CPUs", cpus);
        if (l->has_cpu_weight && (l->cpu_weight < 1 || l->cpu_weight > 10000))
                return berth_err_set(err, EINVAL, "--cpu-weight: 1 to 10000");
        if (l->has_pids && l->pids < 1)
                return berth_err_set(err, EINVAL, "--pids: at least 1");
        return vps_storage_limits_check(l, err);
}

/* "a b c" -> argv. */
static int split_words(const char *s, char ***out, struct berth_err *err)
{
        _cleanup_free_ char *copy = strdup(s);
        char **v = calloc(strlen(s) / 2 + 2, sizeof(char *));
        if (!copy || !v) {
                free(v);
                return berth_err_set(err, ENOMEM, "out of memory");
        }
        size_t n = 0;
        char *save = NULL;
        for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
                if (!(v[n++] = strdup(w))) {
                        vps_strv_free(v);
                        return berth_err_set(err, ENOMEM, "out of memory");
                }
        *out = v;
        if (n == 0 || v[0][0] != '/')
                return berth_err_set(err, EINVAL, "--init: an absolute path, not \"%s\"", s);
        return 0;
}

static int parse_gateways(const struct berth_vps_create_opts *o, struct berth_vps_net *n,
                          struct berth_err *err)
{
        bool bridged = o->mode == BERTH_NET_BRIDGED;
        const char *g4 = o->gw4 ? o->gw4 : bridged ? BERTH_VPS_DEFAULT_GW4 : NULL;
        const char *g6 = o->gw6 ? o->gw6 : bridged ? BERTH_VPS_DEFAULT_GW6 : NULL;
        if (g4 && (berth_ip_addr_parse(g4, &n->gw4, err) < 0 || n->gw4.family != AF_INET))
                return berth_err_set(err, EINVAL, "--gateway4: not an IPv4 address/prefix: %s", g4);
        if (g6 && (berth_ip_addr_parse(g6, &n->gw6, err) < 0 || n->gw6.family != AF_INET6))
                return berth_err_set(err, EINVAL, "--gateway6: not an IPv6 address/prefix: %s", g6);
        if (bridged && ((g4 && n->gw4.prefixlen == 32) || (g6 && n->gw6.prefixlen == 128)))
                return berth_err_set(err, EINVAL, "bridged gateway needs the subnet prefix (e.g. %s)",
                                     BERTH_VPS_DEFAULT_GW4);
        return 0;
}

/* A bridged address given without "/len" takes the subnet of its gateway. */
int vps_parse_ip(const struct berth_vps_net *n, const char *s, struct berth_ip_addr *a, struct berth_err *err)
{
        if (berth_ip_addr_parse(s, a, err) < 0)
                return berth_err_wrap(err, "--ip %s", s);
        const struct berth_ip_addr *gw = a->family == AF_INET ? &n->gw4 : &n->gw6;
        if (n->mode == BERTH_NET_BRIDGED && !strchr(s, '/') && gw->family)
                a->prefixlen = gw->prefixlen;
        if (berth_ip_addr_is_link_local(a))
                return berth_err_set(err, EINVAL, "--ip %s: link-local addresses are not assigned", s);
        return 0;
}

static int fill_net(const struct berth_vps_create_opts *o, struct berth_vps_net *n, struct berth_err *err)
{
        n->mode = o->mode;
        if (o->mode == BERTH_NET_BRIDGED) {
                const char *br = o->bridge ? o->bridge : BERTH_VPS_DEFAULT_BRIDGE;
                if (!berth_ifname_valid(br))
                        return berth_err_set(err, EINVAL, "--bridge: invalid interface name \"%s\"", br);
                snprintf(n->bridge, sizeof(n->bridge), "%s", br);
        }
        int r = parse_gateways(o, n, err);
        size_t count = 0;
        while (o->ips && o->ips[count])
                count++;
        if (r < 0 || !(n->addrs = calloc(count + 1, sizeof(*n->addrs))))
                return r < 0 ? r : berth_err_set(err, ENOMEM, "out of memory");
        for (; n->n_addrs < count; n->n_addrs++)
                if ((r = vps_parse_ip(n, o->ips[n->n_addrs], &n->addrs[n->n_addrs], err)) < 0 ||
                    (r = vps_addr_check(n, &n->addrs[n->n_addrs], o->ips[n->n_addrs], err)) < 0)
                        return r;
        n->no_filter = o->no_filter;
        if ((r = vps_bandwidth_opts(n, o->nat, o->rate_in, o->rate_out, false, err)) < 0)
                return r;
        n->has_mac = true;
        if (o->mac && vps_mac_parse(o->mac, n->mac) < 0)
                return berth_err_set(err, EINVAL, "--mac: not a unicast MAC address: %s", o->mac);
        if (!o->mac && (r = vps_mac_random(n->mac, err)) < 0)
                return r;
        size_t ns = 0;
        while (o->nameservers && o->nameservers[ns])
                ns++;
        if (!(n->nameservers = calloc(ns + 1, sizeof(char *))))
                return berth_err_set(err, ENOMEM, "out of memory");
        for (; n->n_nameservers < ns; n->n_nameservers++) {
                struct berth_ip_addr tmp;
                if (berth_ip_addr_parse(o->nameservers[n->n_nameservers], &tmp, err) < 0 ||
                    strchr(o->nameservers[n->n_nameservers], '/'))
                        return berth_err_set(err, EINVAL, "--nameserver: not an IP address: %s",
                                             o->nameservers[n->n_nameservers]);
                if (!(n->nameservers[n->n_nameservers] = strdup(o->nameservers[n->n_nameservers])))
                        return berth_err_set(err, ENOMEM, "out of memory");
        }
        return 0;
}

static int fill_config(const struct berth_vps_create_opts *o, struct berth_vps_config *cfg,
                       struct berth_err *err)
{
        const char *host = o->hostname ? o->hostname : o->name;
        if (!vps_hostname_valid(host))
                return berth_err_set(err, EINVAL, "--hostname: invalid host name \"%s\"", host);
        if (!(cfg->name = strdup(o->name)) || !(cfg->template_name = strdup(o->template_name)) ||
            !(cfg->hostname = strdup(host)))
                return berth_err_set(err, ENOMEM, "out of memory");
        int r;
        if (o->init && (r = split_words(o->init, &cfg->init, err)) < 0)
                return r;
        if (o->stop_signal && (cfg->stop_signal = berth_signal_parse(o->stop_signal)) < 0)
                return berth_err_set(err, EINVAL, "--stop-signal: unknown signal \"%s\"", o->stop_signal);
        cfg->autostart = o->autostart;
        cfg->allow_io_uring = o->allow_io_uring;
        if (o->devices && (r = vps_devices_parse_list(o->devices, &cfg->devices, err)) < 0)
                return r;
        if ((r = berth_vps_userns_parse(o->userns, &cfg->userns, err)) < 0)
                return r;
        cfg->limits = o->limits;
        struct berth_vps_limits defaults;
        if ((r = vps_defaults_load(&defaults, err)) < 0)
                return r;
        vps_defaults_apply(&cfg->limits, &defaults);
        if ((r = vps_limits_check(&cfg->limits, err)) < 0)
                return r;
        char stamp[64];
        time_t now = time(NULL);
        struct tm tm;
        strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
        if (!(cfg->created = strdup(stamp)))
                return berth_err_set(err, ENOMEM, "out of memory");
        return fill_net(o, &cfg->net, err);
}

/* The host interface name of cfg (the 32-bit hash of its name collides
 * now and then: the salt moves this one aside). The data directory is part
 * of the hash: two data directories with a VPS of the same name must not
 * share (and delete) one host link; one already on the host is someone's. */
static void pick_host_if(const struct berth_vps_ctx *v, struct berth_vps_config *cfg, unsigned salt)
{
        char tag[12], key[BERTH_VPS_NAME_MAX + 16];
        berth_vps_data_tag(v, tag);
        snprintf(key, sizeof(key), "%s%s%s", cfg->name, tag[0] ? "@" : "", tag);
        berth_vps_host_ifname(key, salt, cfg->net.host_if);
}

/* A data directory without claims yet: every vps.json read once, each
 * one's claims written, and the id ranges they hold in *used (*n). */
static int index_claims(const struct berth_vps_ctx *v, struct berth_vps_userns **used, size_t *n,
                        struct berth_err *err)
{
        _cleanup_strv_ char **names = NULL;
        int r = berth_vps_list_names(v, &names, err);
        if (r < 0)
                return r;
        while (names[*n])
                (*n)++;
        if (!(*used = calloc(*n + 1, sizeof(**used))))
                return berth_err_set(err, ENOMEM, "out of memory");
        vps_trace(v, "claims: indexing the %zu VPS of %s", *n, v->data_dir);
        for (size_t i = 0; names[i] && r >= 0; i++) {
                struct berth_vps_config o;
                struct berth_err ignore = {0};
                if (berth_vps_config_load(v, names[i], &o, &ignore) < 0) {
                        vps_trace(v, "VPS %s: not indexed (%s)", names[i], ignore.msg);
                        continue;
                }
                (*used)[i] = o.userns;
                r = vps_claims_write(v, &o, err);
                berth_vps_config_clear(&o);
        }
        return r < 0 ? r : vps_claims_mark_indexed(v, err);
}

/* Another VPS with the same address, the same host interface name or ids
 * of the same user namespace range: asked of the claims and the host's id
 * range registry, in a time independent of the number of VPS (but for the
 * first create in a data directory from before claims). */
static int check_others(const struct berth_vps_ctx *v, struct berth_vps_config *cfg, struct berth_err *err)
{
        _cleanup_free_ struct berth_vps_userns *used = NULL;
        size_t n = 0;
        int r = vps_claims_indexed(v) ? 0 : index_claims(v, &used, &n, err);
        if (r < 0)
                return r;
        char holder[BERTH_VPS_NAME_MAX + 1];
        for (unsigned salt = 0;; salt++) {
                pick_host_if(v, cfg, salt);
                if (!if_nametoindex(cfg->net.host_if) &&
                    !vps_claim_if_holder(v, cfg->name, cfg->net.host_if, holder, sizeof(holder)))
                        break;
        }
        for (size_t i = 0; i < cfg->net.n_addrs; i++)
                if (vps_claim_addr_holder(v, cfg->name, &cfg->net.addrs[i], holder, sizeof(holder)))
                        return berth_err_set(err, EEXIST, "address already used by VPS %s", holder);
        return vps_idrange_assign(cfg, used, n, err);
}

/* The upper directory is the root directory of the VPS as the guest sees
 * it: give it the template root's owner (through the VPS's id range) and
 * mode. The work directory belongs to the guest's root too. */
static int make_dirs(const struct berth_vps_config *cfg, const char *dir, const char *lower,
                     struct berth_err *err)
{
        char path[PATH_MAX];
        struct stat sb;
        if (stat(lower, &sb) < 0)
                return berth_err_sys(err, errno, "stat %s", lower);
        static const char *const subdirs[] = {"upper", "work", "rootfs"};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(subdirs); i++) {
                snprintf(path, sizeof(path), "%s/%s", dir, subdirs[i]);
                if (mkdir(path, i == 0 ? (sb.st_mode & 07777) : 0700) < 0)
                        return vps_err_write(err, errno, dir, "mkdir %s", path);
                uid_t uid = vps_host_uid(cfg, i == 0 ? sb.st_uid : 0);
                gid_t gid = vps_host_uid(cfg, i == 0 ? sb.st_gid : 0);
                if (i < 2 && (chown(path, uid, gid) < 0 || (i == 0 && chmod(path, sb.st_mode & 07777) < 0)))
                        return berth_err_sys(err, errno, "chown %s", path);
        }
        return 0;
}

/* Makes <data>/vps and returns it flock()ed: creates run one at a time
 * from their check of the other VPS (addresses, id ranges) to vps.json. */
static int lock_vps_parent(const struct berth_vps_ctx *v, struct berth_err *err)
{
        char path[PATH_MAX];
        if (mkdir(v->data_dir, 0755) < 0 && errno != EEXIST)
                return berth_err_sys(err, errno, "mkdir %s", v->data_dir);
        snprintf(path, sizeof(path), "%s/vps", v->data_dir);
        /* Searchable, not listable: a VPS with its own user namespace walks
         * through to its root (each VPS's directory is closed to others). */
        if (mkdir(path, 0711) < 0 && errno != EEXIST)
                return berth_err_sys(err, errno, "mkdir %s", path);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return berth_err_sys(err, errno, "open %s", path);
        if (flock(fd, LOCK_EX) < 0)
                return berth_err_sys(err, errno, "lock %s", path);
        return TAKE_FD(fd);
}

/* A create killed on its way leaves its .new.* directory (and maybe its
 * template marker): the next create sweeps them, under the parent's lock. */
static int sweep_one(const struct berth_vps_ctx *v, int parent, const struct vps_leftover *lo, void *arg,
                     struct berth_err *err)
{
        (void)arg;
        struct berth_err e = {0};
        if (vps_leftover_remove(v, parent, lo, &e) < 0)
                vps_warn(v, "%s", e.msg);
        else
                vps_warn(v, "VPS %s: repaired: removed %s, left by an interrupted %s", lo->name, lo->entry,
                         lo->is_mig   ? "incoming migration"
                         : lo->is_new ? "create"
                                      : "destroy");
        (void)err;
        return 0;
}

/* Builds the VPS in <data>/vps/.new.<name>.<pid> (locked, so that no sweep
 * takes it while we work): directories, vps.json and config.json, the id
 * range, the template marker; then renames it into place. Before the
 * rename nothing names the VPS but its marker; after it, it is complete. */
struct build {
        char tmp[BERTH_VPS_NAME_MAX + 32];
        char tmpdir[PATH_MAX];
        bool marked;
        vps_populate_fn populate; /* restore, clone: the files of the upper layer */
        void *arg;
};

static int build_files(const struct berth_vps_ctx *v, struct berth_vps_config *cfg, const char *lower,
                       struct build *b, struct berth_err *err)
{
        int r = make_dirs(cfg, b->tmpdir, lower, err);
        if (r >= 0)
                r = vps_disk_create(v, cfg, b->tmpdir, err);
        if (r >= 0 && b->populate)
                r = b->populate(v, cfg, b->tmpdir, b->arg, err);
        if (r >= 0)
                r = vps_config_save_in(v, cfg, b->tmpdir, err);
        /* A new VPS (not a restore or clone): no neighbour knows its MAC,
         * so its first start announces it nowhere (berth_net_config). */
        if (r >= 0 && !b->populate)
                vps_hint_write(b->tmpdir, VPS_BRIDGE_HINT, "");
        if (r >= 0 && cfg->userns.enabled)
                r = vps_idrange_register(v, cfg, err);
        if (r >= 0 && (r = vps_template_mark(v, cfg->template_name, cfg->name, true, err)) >= 0)
                b->marked = true;
        return r;
}

static int publish(const struct berth_vps_ctx *v, int parent, int tmp_fd, const struct build *b,
                   const char *name, struct berth_err *err)
{
        char dir[PATH_MAX];
        snprintf(dir, sizeof(dir), "%s/vps", v->data_dir);
        if (fsync(tmp_fd) < 0)
                return vps_err_write(err, errno, dir, "fsync %s", b->tmpdir);
        if (renameat2(parent, b->tmp, parent, name, RENAME_NOREPLACE) < 0)
                return errno == EEXIST ? berth_err_set(err, EEXIST, "VPS %s already exists", name)
                                       : berth_err_sys(err, errno, "rename %s to %s", b->tmp, name);
        if (fsync(parent) < 0)
                return vps_err_write(err, errno, dir, "fsync %s", dir);
        return 0;
}

static int create_files(const struct berth_vps_ctx *v, int parent, struct berth_vps_config *cfg,
                        const char *lower, vps_populate_fn populate, void *arg, struct berth_err *err)
{
        struct build b = {.populate = populate, .arg = arg};
        snprintf(b.tmp, sizeof(b.tmp), ".new.%s.%d", cfg->name, (int)getpid());
        snprintf(b.tmpdir, sizeof(b.tmpdir), "%s/vps/%s", v->data_dir, b.tmp);
        if (mkdirat(parent, b.tmp, 0700) < 0)
                return vps_err_write(err, errno, v->data_dir, "mkdir %s", b.tmpdir);
        _cleanup_close_ int tmp_fd = openat(parent, b.tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int r = tmp_fd < 0 || flock(tmp_fd, LOCK_EX) < 0 ? berth_err_sys(err, errno, "lock %s", b.tmpdir) : 0;
        if (r >= 0)
                r = build_files(v, cfg, lower, &b, err);
        if (r >= 0)
                r = publish(v, parent, tmp_fd, &b, cfg->name, err);
        if (r >= 0)
                return 0;
        /* A failed create leaves nothing: what cannot be removed is named
         * (and the next create or `vps repair` removes it). */
        struct berth_err e = {0};
        if (b.marked && vps_template_mark(v, cfg->template_name, cfg->name, false, &e) < 0)
                vps_warn(v, "VPS %s: could not unmark template %s: %s", cfg->name, cfg->template_name, e.msg);
        berth_err_clear(&e);
        if (berth_rmtree_at(parent, b.tmp, &e) < 0)
                vps_warn(v, "VPS %s: could not remove %s: %s", cfg->name, b.tmpdir, e.msg);
        return r;
}

static const char *userns_text(const struct berth_vps_userns *u, char *buf, size_t len)
{
        if (!u->enabled)
                return "none (privileged)";
        snprintf(buf, len, "ids %u-%u", u->host_id, u->host_id + u->size - 1);
        return buf;
}

int vps_create_config(const struct berth_vps_ctx *v, struct berth_vps_config *cfg, const char *lower,
                      vps_populate_fn populate, void *arg, struct berth_err *err)
{
        char dir[PATH_MAX], range[64], text[INET6_ADDRSTRLEN + 8];
        _cleanup_close_ int lock = lock_vps_parent(v, err);
        int r = lock < 0 ? lock : 0;
        /* Held until vps.json is written: ranges are host-wide. */
        _cleanup_close_ int idlock = r >= 0 && cfg->userns.enabled ? vps_idrange_lock(err) : -EBADF;
        if (r >= 0 && cfg->userns.enabled && idlock < 0)
                r = idlock;
        if (r >= 0)
                r = vps_leftovers_each(v, lock, sweep_one, NULL, err);
        if (r >= 0 && faccessat(lock, cfg->name, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                r = berth_err_set(err, EEXIST, "VPS %s already exists", cfg->name);
        if (r >= 0)
                r = check_others(v, cfg, err);
        if (r >= 0 && cfg->net.n_addrs)
                vps_netns_record(v);
        for (size_t i = 0; r >= 0 && i < cfg->net.n_addrs; i++)
                r = vps_addr_check_other_dirs(
                    v, &cfg->net.addrs[i],
                    berth_ip_addr_format(&cfg->net.addrs[i], false, text, sizeof(text)), err);
        if (r >= 0 && berth_vps_path(v, cfg->name, NULL, dir, sizeof(dir)) < 0)
                r = berth_err_set(err, ENAMETOOLONG, "VPS %s: path too long", cfg->name);
        if (r >= 0)
                r = create_files(v, lock, cfg, lower, populate, arg, err);
        if (r >= 0)
                vps_trace(v, "VPS %s: created in %s (template %s; host end %s; user namespace %s)", cfg->name,
                          dir, cfg->template_name, cfg->net.host_if,
                          userns_text(&cfg->userns, range, sizeof(range)));
        return r;
}

int berth_vps_create(const struct berth_vps_ctx *v, const struct berth_vps_create_opts *o,
                     struct berth_err *err)
{
        if (!berth_vps_name_valid(o->name))
                return berth_err_set(err, EINVAL, "invalid VPS name \"%s\" (a-z, 0-9, '-', at most %d)",
                                     o->name ? o->name : "", BERTH_VPS_NAME_MAX);
        struct berth_vps_template t;
        int r = berth_vps_template_load(v, o->template_name, &t, err);
        if (r < 0)
                return r;
        vps_trace(v, "VPS %s: create from template %s (%s)", o->name, o->template_name, t.rootfs);
        struct berth_vps_config cfg = {0};
        r = fill_config(o, &cfg, err);
        if (r >= 0)
                r = vps_create_config(v, &cfg, t.rootfs, NULL, NULL, err);
        /* One runaway guest takes the host's memory or fills its process
         * table: say so where the provider sees it. */
        if (r >= 0 && (!cfg.limits.has_memory || !cfg.limits.has_pids))
                berth_warn(v->ctx,
                           "VPS %s has no %s limit (give --memory/--pids, or set host defaults in "
                           "/etc/berth/vps-defaults.json)",
                           o->name,
                           !cfg.limits.has_memory && !cfg.limits.has_pids ? "memory and no pids"
                           : !cfg.limits.has_memory                       ? "memory"
                                                                          : "pids");
        berth_vps_config_clear(&cfg);
        berth_vps_template_clear(&t);
        if (r < 0)
                vps_err_space(v, err);
        return r < 0 ? berth_err_wrap(err, "create VPS %s", o->name) : 0;
}
