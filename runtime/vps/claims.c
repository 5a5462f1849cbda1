// SPDX-License-Identifier: GPL-2.0-or-later
/* Which VPS of a data directory holds an address or a host interface
 * name, in O(1) rather than by reading every vps.json (a create on a host
 * of 1000 VPS spent ~130 ms doing that).
 *
 * A claim is a symlink <data>/claims/addr-<IP> or if-<NAME> whose target
 * is the name of the VPS holding it. vps.json stays the truth and the
 * claim only says where to look: it counts only while the VPS it names
 * has that address or interface in its vps.json. So a stale claim (its VPS
 * destroyed, its address changed, a crash between the two writes) costs a
 * readlink and one vps.json read, and is replaced by the next holder.
 * Every save of a vps.json writes its claims first (vps_config_save_in):
 * no VPS is on disk with an address it has no claim for.
 *
 * A data directory from before claims is indexed once, by the first create
 * (which holds the create lock): every vps.json read, as before, and the
 * claims written; claims/.indexed records that it was done. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/netns.h"
#include "runtime/vps/internal.h"

#define CLAIMS_DIR     "claims"
#define CLAIMS_INDEXED ".indexed"

/* The claims directory of v, made if need be (make), as an fd. */
static int claims_open(const struct berth_vps_ctx *v, bool make)
{
        char path[PATH_MAX];
        if (snprintf(path, sizeof(path), "%s/" CLAIMS_DIR, v->data_dir) >= (int)sizeof(path))
                return -ENAMETOOLONG;
        if (make && mkdir(path, 0700) < 0 && errno != EEXIST)
                return -errno;
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

static void addr_key(const struct berth_ip_addr *a, char *key, size_t len)
{
        char text[BERTH_IP_ADDR_STRLEN];
        snprintf(key, len, "addr-%s", berth_ip_addr_format(a, false, text, sizeof(text)));
}

static void if_key(const char *ifname, char *key, size_t len)
{
        snprintf(key, len, "if-%s", ifname);
}

/* key now names name: a new symlink renamed over the old claim; whether
 * anything changed in *changed. */
static int claim_set(int dir, const char *key, const char *name, bool *changed)
{
        char cur[BERTH_VPS_NAME_MAX + 2], tmp[BERTH_IP_ADDR_STRLEN + 48];
        ssize_t n = readlinkat(dir, key, cur, sizeof(cur) - 1);
        if (n > 0 && (cur[n] = '\0', !strcmp(cur, name)))
                return 0;
        snprintf(tmp, sizeof(tmp), ".%s.%d", key, (int)getpid());
        unlinkat(dir, tmp, 0);
        if (symlinkat(name, dir, tmp) < 0)
                return -errno;
        if (renameat(dir, tmp, dir, key) < 0) {
                int e = errno;
                unlinkat(dir, tmp, 0);
                return -e;
        }
        *changed = true;
        return 0;
}

int vps_claims_write(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg, struct berth_err *err)
{
        _cleanup_close_ int dir = claims_open(v, true);
        if (dir < 0)
                return berth_err_sys(err, -dir, "claims of VPS %s in %s/" CLAIMS_DIR, cfg->name, v->data_dir);
        char key[BERTH_IP_ADDR_STRLEN + 8] = "";
        bool changed = false;
        int r = 0;
        if (cfg->net.host_if[0]) {
                if_key(cfg->net.host_if, key, sizeof(key));
                r = claim_set(dir, key, cfg->name, &changed);
        }
        for (size_t i = 0; r >= 0 && i < cfg->net.n_addrs; i++) {
                addr_key(&cfg->net.addrs[i], key, sizeof(key));
                r = claim_set(dir, key, cfg->name, &changed);
        }
        /* Durable before the vps.json that relies on it. */
        if (r >= 0 && changed && fsync(dir) < 0)
                r = -errno;
        return r < 0 ? vps_err_write(err, -r, v->data_dir, "claim %s for VPS %s", key, cfg->name) : 0;
}

static void claim_drop(int dir, const char *key, const char *name)
{
        char cur[BERTH_VPS_NAME_MAX + 2];
        ssize_t n = readlinkat(dir, key, cur, sizeof(cur) - 1);
        if (n > 0 && (cur[n] = '\0', !strcmp(cur, name)))
                unlinkat(dir, key, 0);
}

void vps_claims_drop(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg)
{
        _cleanup_close_ int dir = claims_open(v, false);
        if (dir < 0)
                return;
        char key[BERTH_IP_ADDR_STRLEN + 8];
        if_key(cfg->net.host_if, key, sizeof(key));
        claim_drop(dir, key, cfg->name);
        for (size_t i = 0; i < cfg->net.n_addrs; i++) {
                addr_key(&cfg->net.addrs[i], key, sizeof(key));
                claim_drop(dir, key, cfg->name);
        }
}

bool vps_claims_indexed(const struct berth_vps_ctx *v)
{
        _cleanup_close_ int dir = claims_open(v, false);
        return dir >= 0 && faccessat(dir, CLAIMS_INDEXED, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

int vps_claims_mark_indexed(const struct berth_vps_ctx *v, struct berth_err *err)
{
        _cleanup_close_ int dir = claims_open(v, true);
        _cleanup_close_ int fd =
            dir < 0 ? dir : openat(dir, CLAIMS_INDEXED, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0 || fsync(dir) < 0)
                return vps_err_write(err, fd < 0 ? (dir < 0 ? -dir : errno) : errno, v->data_dir,
                                     "mark the claims of %s indexed", v->data_dir);
        return 0;
}

/* The VPS other than self that a claim names and that holds what it
 * claims (checked by held), into holder: 1; 0 when nobody else holds it. */
static int holder(const struct berth_vps_ctx *v, const char *key, const char *self,
                  bool (*held)(const struct berth_vps_config *o, const void *what), const void *what,
                  char *out, size_t len)
{
        _cleanup_close_ int dir = claims_open(v, false);
        char name[BERTH_VPS_NAME_MAX + 2];
        ssize_t n = dir < 0 ? -1 : readlinkat(dir, key, name, sizeof(name) - 1);
        if (n <= 0)
                return 0;
        name[n] = '\0';
        if ((self && !strcmp(name, self)) || !berth_vps_name_valid(name))
                return 0;
        struct berth_vps_config o;
        struct berth_err ignore = {0};
        if (berth_vps_config_load(v, name, &o, &ignore) < 0)
                return 0; /* destroyed (or unreadable, as the full scan saw it) */
        bool yes = held(&o, what);
        berth_vps_config_clear(&o);
        if (yes)
                snprintf(out, len, "%s", name);
        return yes;
}

/* The same address, whatever the prefix length. */
static bool addr_held(const struct berth_vps_config *o, const void *what)
{
        const struct berth_ip_addr *a = what;
        for (size_t k = 0; k < o->net.n_addrs; k++)
                if (o->net.addrs[k].family == a->family &&
                    !memcmp(o->net.addrs[k].u.raw, a->u.raw, berth_ip_addr_len(a)))
                        return true;
        return false;
}

static bool if_held(const struct berth_vps_config *o, const void *what)
{
        return !strcmp(o->net.host_if, what);
}

int vps_claim_addr_holder(const struct berth_vps_ctx *v, const char *self, const struct berth_ip_addr *a,
                          char *out, size_t len)
{
        char key[BERTH_IP_ADDR_STRLEN + 8];
        addr_key(a, key, sizeof(key));
        return holder(v, key, self, addr_held, a, out, len);
}

int vps_claim_if_holder(const struct berth_vps_ctx *v, const char *self, const char *ifname, char *out,
                        size_t len)
{
        char key[BERTH_IP_ADDR_STRLEN + 8];
        if_key(ifname, key, sizeof(key));
        return holder(v, key, self, if_held, ifname, out, len);
}
