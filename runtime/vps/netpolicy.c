/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a VPS may own and reach on the network: the addresses it may be
 * given, and the host ports the provider opens to guests. */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "berth/cleanup.h"
#include "berth/file.h"
#include "berth/nft.h"
#include "berth/vps.h"
#include "runtime/vps/internal.h"

/* Bits plen.. of a are all zero (ones = false) or all one (ones = true). */
static bool host_bits(const struct berth_ip_addr *a, unsigned plen, bool ones)
{
        size_t bits = berth_ip_addr_len(a) * 8;
        for (size_t i = plen; i < bits; i++) {
                bool set = a->u.raw[i / 8] & (0x80 >> (i % 8));
                if (set != ones)
                        return false;
        }
        return true;
}

static bool same_prefix(const struct berth_ip_addr *a, const struct berth_ip_addr *b, unsigned plen)
{
        for (size_t i = 0; i < plen; i++) {
                unsigned char m = (unsigned char)(0x80 >> (i % 8));
                if ((a->u.raw[i / 8] & m) != (b->u.raw[i / 8] & m))
                        return false;
        }
        return true;
}

/* The kind of address that no VPS can own, or NULL. */
static const char *special(const struct berth_ip_addr *a)
{
        if (a->family == AF_INET) {
                uint32_t h = ntohl(a->u.v4.s_addr);
                if (h >> 24 == 0)
                        return "the unspecified address (0.0.0.0/8)";
                if (h >> 24 == 127)
                        return "a loopback address";
                if (h >> 28 == 14)
                        return "a multicast address";
                if (h >> 16 == 0xa9fe)
                        return "a link-local address";
                if (h == 0xffffffffu)
                        return "the broadcast address";
                return NULL;
        }
        const struct in6_addr *v = &a->u.v6;
        if (IN6_IS_ADDR_UNSPECIFIED(v))
                return "the unspecified address";
        if (IN6_IS_ADDR_LOOPBACK(v))
                return "a loopback address";
        if (IN6_IS_ADDR_MULTICAST(v))
                return "a multicast address";
        if (IN6_IS_ADDR_LINKLOCAL(v))
                return "a link-local address";
        if (IN6_IS_ADDR_V4MAPPED(v) || IN6_IS_ADDR_V4COMPAT(v))
                return "an IPv4-mapped address";
        return NULL;
}

int vps_addr_check(const struct berth_vps_net *n, const struct berth_ip_addr *a, const char *s,
                   struct berth_err *err)
{
        if (a->prefixlen == 0)
                return berth_err_set(err, EINVAL, "--ip %s: a /0 is not an address", s);
        const char *what = special(a);
        if (what)
                return berth_err_set(err, EINVAL, "--ip %s: %s cannot be a VPS's", s, what);
        const struct berth_ip_addr *gw = a->family == AF_INET ? &n->gw4 : &n->gw6;
        if (gw->family && !memcmp(gw->u.raw, a->u.raw, berth_ip_addr_len(a)))
                return berth_err_set(err, EINVAL, "--ip %s: that is the gateway address", s);
        bool bridged = n->mode == BERTH_NET_BRIDGED && gw->family;
        unsigned plen = bridged ? gw->prefixlen : a->prefixlen;
        char net[BERTH_IP_ADDR_STRLEN];
        if (bridged && !same_prefix(a, gw, plen))
                return berth_err_set(err, EINVAL, "--ip %s: outside the bridge's subnet (gateway %s)", s,
                                     berth_ip_addr_format(gw, true, net, sizeof(net)));
        unsigned bits = (unsigned)berth_ip_addr_len(a) * 8;
        if (plen < bits - 1 && host_bits(a, plen, false))
                return berth_err_set(err, EINVAL, "--ip %s: the network address of its subnet", s);
        if (a->family == AF_INET && plen < bits - 1 && host_bits(a, plen, true))
                return berth_err_set(err, EINVAL, "--ip %s: the broadcast address of its subnet", s);
        return 0;
}

/* The VPS of data directory v other than self that has address a, into
 * holder: 1; 0 when none has it. */
static int addr_holder(const struct berth_vps_ctx *v, const char *self, const struct berth_ip_addr *a,
                       char *holder, size_t len)
{
        if (vps_claims_indexed(v))
                return vps_claim_addr_holder(v, self, a, holder, len);
        _cleanup_strv_ char **names = NULL;
        struct berth_err ignore = {0};
        if (berth_vps_list_names(v, &names, &ignore) < 0)
                return 0; /* another data directory gone or unreadable: nothing to clash with */
        int found = 0;
        for (size_t i = 0; !found && names[i]; i++) {
                struct berth_vps_config o;
                if ((self && !strcmp(names[i], self)) || berth_vps_config_load(v, names[i], &o, &ignore) < 0)
                        continue;
                for (size_t k = 0; !found && k < o.net.n_addrs; k++)
                        if (o.net.addrs[k].family == a->family &&
                            !memcmp(o.net.addrs[k].u.raw, a->u.raw, berth_ip_addr_len(a)))
                                found = snprintf(holder, len, "%s", names[i]) >= 0;
                berth_vps_config_clear(&o);
        }
        return found;
}

/* -EEXIST naming the VPS of data directory v that has address a. */
static int check_data_dir(const struct berth_vps_ctx *v, const char *self, const struct berth_ip_addr *a,
                          const char *s, struct berth_err *err)
{
        char holder[BERTH_VPS_NAME_MAX + 1];
        if (!addr_holder(v, self, a, holder, sizeof(holder)))
                return 0;
        return self ? berth_err_set(err, EEXIST, "--ip %s: address already used by VPS %s", s, holder)
                    : berth_err_set(err, EEXIST, "--ip %s: address already used by VPS %s of %s", s, holder,
                                    v->data_dir);
}

/* Data directories share one address space only when their VPS attach to
 * the same network, that is, when berth runs for them in the same network
 * namespace: several hosts on one machine (a network namespace each, as
 * tests and labs build them) may each give a VPS 10.0.0.2; two data
 * directories on one host's bridge may not. Each data directory records
 * the namespace its VPS were last created from in HOST_NETNS_FILE
 * ("DEV:INODE" of /proc/self/ns/net); one without the record counts as
 * sharing ours. An inode reused by a later namespace can only make the
 * check stricter. */
#define HOST_NETNS_FILE "host-netns"

static int own_netns(char *out, size_t len)
{
        struct stat sb;
        if (stat("/proc/self/ns/net", &sb) < 0)
                return -errno;
        snprintf(out, len, "%llu:%llu", (unsigned long long)sb.st_dev, (unsigned long long)sb.st_ino);
        return 0;
}

static bool netns_recorded(const char *data_dir, char *out, size_t len)
{
        char path[PATH_MAX];
        _cleanup_free_ char *text = NULL;
        size_t n = 0;
        if (snprintf(path, sizeof(path), "%s/" HOST_NETNS_FILE, data_dir) >= (int)sizeof(path) ||
            berth_read_file_at(AT_FDCWD, path, 0, 64, &text, &n) < 0)
                return false;
        snprintf(out, len, "%.*s", (int)strcspn(text, "\n"), text);
        return true;
}

void vps_netns_record(const struct berth_vps_ctx *v)
{
        char own[64], seen[64], path[PATH_MAX];
        if (own_netns(own, sizeof(own)) < 0 ||
            (netns_recorded(v->data_dir, seen, sizeof(seen)) && !strcmp(own, seen)))
                return;
        if (snprintf(path, sizeof(path), "%s/" HOST_NETNS_FILE, v->data_dir) >= (int)sizeof(path) ||
            vps_write_file_atomic(path, own, strlen(own)) < 0)
                vps_trace(v,
                          "cannot record the network namespace of %s: address checks of other data "
                          "directories count it as theirs",
                          v->data_dir);
}

static bool shares_our_network(const char *data_dir)
{
        char own[64], seen[64];
        return own_netns(own, sizeof(own)) < 0 || !netns_recorded(data_dir, seen, sizeof(seen)) ||
               !strcmp(own, seen);
}

int vps_addr_check_other_dirs(const struct berth_vps_ctx *v, const struct berth_ip_addr *a, const char *s,
                              struct berth_err *err)
{
        _cleanup_strv_ char **dirs = NULL;
        int r = vps_idrange_other_data_dirs(v, &dirs, err);
        for (size_t i = 0; r >= 0 && dirs[i]; i++) {
                struct berth_vps_ctx other = *v;
                other.data_dir = dirs[i];
                if (shares_our_network(dirs[i]))
                        r = check_data_dir(&other, NULL, a, s, err);
        }
        return r;
}

int vps_addr_check_others(const struct berth_vps_ctx *v, const char *self, const struct berth_ip_addr *a,
                          const char *s, struct berth_err *err)
{
        int r = check_data_dir(v, self, a, s, err);
        return r < 0 ? r : vps_addr_check_other_dirs(v, a, s, err);
}

static int ports_from_json(json_t *doc, const char *path, struct berth_nft_port **ports, size_t *n,
                           struct berth_err *err)
{
        json_t *a = json_object_get(doc, "host_ports");
        if (!a || json_is_null(a))
                return 0;
        if (!json_is_array(a))
                return berth_err_set(err, EINVAL, "%s: host_ports: not an array", path);
        if (!(*ports = calloc(json_array_size(a) + 1, sizeof(**ports))))
                return berth_err_set(err, ENOMEM, "out of memory");
        size_t i;
        json_t *e;
        json_array_foreach(a, i, e)
        {
                if (!json_is_string(e) || berth_nft_port_parse(json_string_value(e), &(*ports)[i], err) < 0)
                        return berth_err_set(
                            err, EINVAL, "%s: host_ports[%zu]: not \"tcp/PORT\" or \"udp/PORT\"", path, i);
                (*n)++;
        }
        return 0;
}

int vps_host_ports_load(struct berth_nft_port **ports, size_t *n, struct berth_err *err)
{
        *ports = NULL;
        *n = 0;
        char path[4096];
        _cleanup_json_ json_t *doc = NULL;
        int r = vps_host_config_load("network.json", path, sizeof(path), &doc, err);
        if (r < 0 || !doc)
                return r;
        r = ports_from_json(doc, path, ports, n, err);
        if (r < 0) {
                free(*ports);
                *ports = NULL;
                *n = 0;
        }
        return r;
}
