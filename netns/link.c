/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Links: veth pairs, bridges, macvlans; up/down, rename, master, mtu, netns
 * moves, deletion, lookups. */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <string.h>
#include <sys/random.h>

#include "berth/netns.h"

bool berth_ifname_valid(const char *name)
{
        if (!name || !*name || strlen(name) >= IFNAMSIZ)
                return false;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
                return false;
        for (const char *p = name; *p; p++) {
                /* '/' would escape /proc/sys paths, ':' is the old alias
                 * syntax, white space breaks every tool that prints names. */
                if (*p == '/' || *p == ':' || *p <= ' ' || *p == 0x7f)
                        return false;
        }
        return true;
}

static int check_name(const char *name, struct berth_err *err)
{
        if (!berth_ifname_valid(name))
                return berth_err_set(err, EINVAL, "invalid interface name '%s'", name ? name : "(null)");
        return 0;
}

/* RTM_NEWLINK/RTM_DELLINK/RTM_GETLINK addressed by name. */
static struct nlmsghdr *link_msg(struct berth_nl *nl, uint16_t type, uint16_t flags, const char *name)
{
        struct nlmsghdr *nlh = berth_nl_msg(nl, type, flags, sizeof(struct ifinfomsg));
        struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
        ifm->ifi_family = AF_UNSPEC;
        if (name)
                mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
        return nlh;
}

static int linkinfo_cb(const struct nlattr *attr, void *data)
{
        struct berth_link_info *info = data;
        if (mnl_attr_get_type(attr) == IFLA_INFO_KIND && mnl_attr_validate(attr, MNL_TYPE_STRING) == 0)
                snprintf(info->kind, sizeof(info->kind), "%.*s", (int)mnl_attr_get_payload_len(attr),
                         (const char *)mnl_attr_get_payload(attr));
        return MNL_CB_OK;
}

static int link_attr_cb(const struct nlattr *attr, void *data)
{
        struct berth_link_info *info = data;
        switch (mnl_attr_get_type(attr)) {
        case IFLA_MTU:
                if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
                        info->mtu = mnl_attr_get_u32(attr);
                break;
        case IFLA_MASTER:
                if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
                        info->master = (int)mnl_attr_get_u32(attr);
                break;
        case IFLA_ADDRESS:
                if (mnl_attr_get_payload_len(attr) == sizeof(info->mac))
                        memcpy(info->mac, mnl_attr_get_payload(attr), sizeof(info->mac));
                break;
        case IFLA_LINKINFO:
                if (mnl_attr_validate(attr, MNL_TYPE_NESTED) == 0)
                        mnl_attr_parse_nested(attr, linkinfo_cb, info);
                break;
        }
        return MNL_CB_OK;
}

static int link_msg_cb(const struct nlmsghdr *nlh, void *data)
{
        struct berth_link_info *info = data;
        if (nlh->nlmsg_type != RTM_NEWLINK)
                return MNL_CB_OK;
        const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
        memset(info, 0, sizeof(*info));
        info->ifindex = ifm->ifi_index;
        info->flags = ifm->ifi_flags;
        return mnl_attr_parse(nlh, sizeof(*ifm), link_attr_cb, info);
}

int berth_link_get(struct berth_nl *nl, const char *name, struct berth_link_info *info, struct berth_err *err)
{
        int r = check_name(name, err);
        if (r < 0)
                return r;
        memset(info, 0, sizeof(*info));
        struct nlmsghdr *nlh = link_msg(nl, RTM_GETLINK, 0, name);
        /* Leave the statistics out of the answer: only names and flags. */
        mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
        r = berth_nl_query(nl, nlh, link_msg_cb, info);
        if (r == 0 && info->ifindex <= 0)
                r = -ENODEV;
        if (r < 0)
                return berth_nl_fail(nl, err, r, "get link %s", name);
        return 0;
}

int berth_link_index(struct berth_nl *nl, const char *name, struct berth_err *err)
{
        struct berth_link_info info;
        int r = berth_link_get(nl, name, &info, err);
        return r < 0 ? r : info.ifindex;
}

static void put_peer(struct nlmsghdr *nlh, const char *peer, const struct berth_veth_opts *o)
{
        struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
        struct nlattr *p = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
        struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
        ifm->ifi_family = AF_UNSPEC;
        mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
        if (o->mtu)
                mnl_attr_put_u32(nlh, IFLA_MTU, o->mtu);
        if (o->peer_mac)
                mnl_attr_put(nlh, IFLA_ADDRESS, 6, o->peer_mac);
        /* Creating the peer directly in the guest's namespace avoids a
         * second request to move it and a rename there. */
        if (o->peer_netns_fd >= 0)
                mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)o->peer_netns_fd);
        else if (o->peer_netns_pid > 0)
                mnl_attr_put_u32(nlh, IFLA_NET_NS_PID, (uint32_t)o->peer_netns_pid);
        mnl_attr_nest_end(nlh, p);
        mnl_attr_nest_end(nlh, data);
}

int berth_link_add_veth(struct berth_nl *nl, const char *name, const char *peer,
                        const struct berth_veth_opts *o, struct berth_err *err)
{
        int r = check_name(name, err);
        if (r >= 0)
                r = check_name(peer, err);
        if (r < 0)
                return r;
        int master = 0;
        if (o->master) {
                master = berth_link_index(nl, o->master, err);
                if (master < 0)
                        return berth_err_wrap(err, "create veth %s/%s", name, peer);
        }
        struct nlmsghdr *nlh = link_msg(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, name);
        struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
        if (o->up) {
                ifm->ifi_flags = IFF_UP;
                ifm->ifi_change = IFF_UP;
        }
        if (o->mtu)
                mnl_attr_put_u32(nlh, IFLA_MTU, o->mtu);
        if (master)
                mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)master);
        struct nlattr *li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
        mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
        put_peer(nlh, peer, o);
        mnl_attr_nest_end(nlh, li);
        r = berth_nl_call(nl, nlh);
        if (r < 0)
                return berth_nl_fail(nl, err, r, "create veth %s/%s", name, peer);
        return 0;
}

int berth_link_add_bridge(struct berth_nl *nl, const char *name, const unsigned char *mac, unsigned mtu,
                          struct berth_err *err)
{
        unsigned char rnd[6];
        int r = check_name(name, err);
        if (r < 0)
                return r;
        if (!mac) {
                if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
                        return berth_err_sys(err, errno, "create bridge %s: random MAC address", name);
                rnd[0] = (unsigned char)((rnd[0] & 0xfe) | 0x02); /* unicast, locally administered */
                mac = rnd;
        }
        struct nlmsghdr *nlh = link_msg(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, name);
        /* A MAC set by hand stays: otherwise the bridge takes the lowest
         * port MAC, and the guests' gateway MAC changes under them. */
        mnl_attr_put(nlh, IFLA_ADDRESS, 6, mac);
        if (mtu)
                mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
        struct nlattr *li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
        mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
        struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
        mnl_attr_put_u32(nlh, IFLA_BR_STP_STATE, 0); /* ports forward at once */
        mnl_attr_nest_end(nlh, data);
        mnl_attr_nest_end(nlh, li);
        r = berth_nl_call(nl, nlh);
        if (r < 0)
                return berth_nl_fail(nl, err, r, "create bridge %s", name);
        return 0;
}

int berth_link_set_mac(struct berth_nl *nl, const char *name, const unsigned char mac[6],
                       struct berth_err *err)
{
        int r = check_name(name, err);
        if (r < 0)
                return r;
        struct nlmsghdr *nlh = link_msg(nl, RTM_NEWLINK, 0, name);
        mnl_attr_put(nlh, IFLA_ADDRESS, 6, mac);
        r = berth_nl_call(nl, nlh);
        if (r < 0)
                return berth_nl_fail(nl, err, r, "set MAC address of %s", name);
        return 0;
}

/* IFLA_AF_SPEC -> family: the nest a per-family device setting goes in. */
static void af_spec_start(struct nlmsghdr *nlh, int family, struct nlattr *nest[2])
{
        nest[0] = mnl_attr_nest_start(nlh, IFLA_AF_SPEC);
        nest[1] = mnl_attr_nest_start(nlh, (uint16_t)family);
}

static void af_spec_end(struct nlmsghdr *nlh, struct nlattr *nest[2])
{
        mnl_attr_nest_end(nlh, nest[1]);
        mnl_attr_nest_end(nlh, nest[0]);
}

int berth_link_set_ipv4_conf(struct berth_nl *nl, const char *name, const struct berth_ipv4_conf *conf,
                             size_t n, struct berth_err *err)
{
        int r = check_name(name, err);
        if (r < 0)
                return r;
        struct nlmsghdr *nlh = link_msg(nl, RTM_NEWLINK, 0, name);
        struct nlattr *af[2];
        af_spec_start(nlh, AF_INET, af);
        struct nlattr *cf = mnl_attr_nest_start(nlh, IFLA_INET_CONF);
        for (size_t i = 0; i < n; i++)
                mnl_attr_put_u32(nlh, (uint16_t)conf[i].key, conf[i].value);
        mnl_attr_nest_end(nlh, cf);
        af_spec_end(nlh, af);
        r = berth_nl_call(nl, nlh);
        if (r < 0)
                return berth_nl_fail(nl, err, r, "set the IPv4 settings of %s", name);
        return 0;
}

int berth_link_set_ipv6_addr_gen(struct berth_nl *nl, const char *name, uint8_t mode, struct berth_err *err)
{
        int r = check_name(name, err);
        if (r < 0)
                return r;
        struct nlmsghdr *nlh = link_msg(nl, RTM_NEWLINK, 0, name);
        struct nlattr *af[2];
        af_spec_start(nlh, AF_INET6, af);
        mnl_attr_put_u8(nlh, IFLA_INET6_ADDR_GEN_MODE, mode);
        af_spec_end(nlh, af);
        r = berth_nl_call(nl, nlh);
        if (r < 0)
                return berth_nl_fail(nl, err, r, "set the IPv6 address generation of %s", name);
        return 0;
}

static uint32_t macvlan_mode(enum berth_macvlan_mode mode)
{
        switch (mode) {
        case BERTH_MACVLAN_PRIVATE:
                return MACVLAN_MODE_PRIVATE;
        case BERTH_MACVLAN_VEPA:
                return MACVLAN_MODE_VEPA;
        case BERTH_MACVLAN_PASSTHRU:
                return MACVLAN_MODE_PASSTHRU;
        case BERTH_MACVLAN_BRIDGE:
        default:
                return MACVLAN_MODE_BRIDGE;
        }
}

int berth_link_add_macvlan(struct berth_nl *nl, const char *name, const char *parent,
                           enum berth_macvlan_mode mode, int netns_fd, struct berth_err *err)
{
        int r = check_name(name, err);
        if (r < 0)
                return r;
        int link = berth_link_index(nl, parent, err);
        if (link < 0)
                return berth_err_wrap(err, "create macvlan %s", name);
        struct nlmsghdr *nlh = link_msg(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, name);
        mnl_attr_put_u32(nlh, IFLA_LINK, (uint32_t)link);
        if (netns_fd >= 0)
                mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)netns_fd);
        struct nlattr *li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
        mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "macvlan");
        struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
        mnl_attr_put_u32(nlh, IFLA_MACVLAN_MODE, macvlan_mode(mode));
        mnl_attr_nest_end(nlh, data);
        mnl_attr_nest_end(nlh, li);
        r = berth_nl_call(nl, nlh);
        if (r < 0)
                return berth_nl_fail(nl, err, r, "create macvlan %s on %s", name, parent);
        return 0;
}

int berth_link_set_up(struct berth_nl *nl, const char *name, bool up, struct berth_err *err)
{
        int r = check_name(name, err);
        if (r < 0)
                return r;
        struct nlmsghdr *nlh = link_msg(nl, RTM_NEWLINK, 0, name);
        struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
        ifm->ifi_flags = up ? IFF_UP : 0;
        ifm->ifi_change = IFF_UP;
        r = berth_nl_call(nl, nlh);
        if (r < 0)
                return berth_nl_fail(nl, err, r, "set link %s %s", name, up ? "up" : "down");
        return 0;
}

int berth_link_rename(struct berth_nl *nl, const char *name, const char *newname, struct berth_err *err)
{
        int r = check_name(newname, err);
        if (r < 0)
                return r;
        /* The name in the request is the new one, so address the link by
         * its index. */
        int index = berth_link_index(nl, name, err);
        if (index < 0)
                return berth_err_wrap(err, "rename link %s to %s", name, newname);
        struct nlmsghdr *nlh = link_msg(nl, RTM_NEWLINK, 0, newname);
        struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
        ifm->ifi_index = index;
        r = berth_nl_call(nl, nlh);
        if (r < 0)
                return berth_nl_fail(nl, err, r, "rename link %s to %s", name, newname);
        return 0;
}

int berth_link_set_master(struct berth_nl *nl, const char *name, const char *master, struct berth_err *err)
{
        int r = check_name(name, err);
        if (r < 0)
                return r;
        int index = 0;
        if (master) {
                index = berth_link_index(nl, master, err);
                if (index < 0)
                        return berth_err_wrap(err, "attach link %s to %s", name, master);
        }
        struct nlmsghdr *nlh = link_msg(nl, RTM_NEWLINK, 0, name);
        mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)index);
        r = berth_nl_call(nl, nlh);
        if (r < 0 && master)
                return berth_nl_fail(nl, err, r, "attach link %s to %s", name, master);
        if (r < 0)
                return berth_nl_fail(nl, err, r, "release link %s from its master", name);
        return 0;
}

int berth_link_set_mtu(struct berth_nl *nl, const char *name, unsigned mtu, struct berth_err *err)
{
        int r = check_name(name, err);
        if (r < 0)
                return r;
        struct nlmsghdr *nlh = link_msg(nl, RTM_NEWLINK, 0, name);
        mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
        r = berth_nl_call(nl, nlh);
        if (r < 0)
                return berth_nl_fail(nl, err, r, "set mtu %u on link %s", mtu, name);
        return 0;
}

static int link_move(struct berth_nl *nl, const char *name, uint16_t attr, uint32_t value,
                     struct berth_err *err)
{
        int r = check_name(name, err);
        if (r < 0)
                return r;
        struct nlmsghdr *nlh = link_msg(nl, RTM_NEWLINK, 0, name);
        mnl_attr_put_u32(nlh, attr, value);
        r = berth_nl_call(nl, nlh);
        if (r < 0 && attr == IFLA_NET_NS_PID)
                return berth_nl_fail(nl, err, r, "move link %s to the network namespace of pid %u", name,
                                     value);
        if (r < 0)
                return berth_nl_fail(nl, err, r, "move link %s to another network namespace", name);
        return 0;
}

int berth_link_move_netns_fd(struct berth_nl *nl, const char *name, int netns_fd, struct berth_err *err)
{
        if (netns_fd < 0)
                return berth_err_set(err, EBADF, "move link %s: no network namespace", name);
        return link_move(nl, name, IFLA_NET_NS_FD, (uint32_t)netns_fd, err);
}

int berth_link_move_netns_pid(struct berth_nl *nl, const char *name, pid_t pid, struct berth_err *err)
{
        if (pid <= 0)
                return berth_err_set(err, EINVAL, "move link %s: invalid pid %d", name, (int)pid);
        return link_move(nl, name, IFLA_NET_NS_PID, (uint32_t)pid, err);
}

int berth_link_del(struct berth_nl *nl, const char *name, struct berth_err *err)
{
        int r = check_name(name, err);
        if (r < 0)
                return r;
        r = berth_nl_call(nl, link_msg(nl, RTM_DELLINK, 0, name));
        if (r < 0)
                return berth_nl_fail(nl, err, r, "delete link %s", name);
        return 0;
}

struct port_count {
        int master;
        int n;
};

static int port_count_cb(const struct nlmsghdr *nlh, void *data)
{
        struct port_count *pc = data;
        struct berth_link_info info;
        if (nlh->nlmsg_type == RTM_NEWLINK && link_msg_cb(nlh, &info) >= 0 && info.master == pc->master)
                pc->n++;
        return MNL_CB_OK;
}

int berth_link_count_ports(struct berth_nl *nl, const char *master, struct berth_err *err)
{
        struct port_count pc = {0, 0};
        pc.master = berth_link_index(nl, master, err);
        if (pc.master < 0)
                return pc.master;
        /* The kernel filters the dump by master when it can; the callback
         * checks again for kernels that return every link. */
        struct nlmsghdr *nlh = link_msg(nl, RTM_GETLINK, 0, NULL);
        mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)pc.master);
        mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
        int r = berth_nl_dump(nl, nlh, port_count_cb, &pc);
        if (r < 0)
                return berth_nl_fail(nl, err, r, "list ports of %s", master);
        return pc.n;
}

static int port_any_cb(const struct nlmsghdr *nlh, void *data)
{
        struct port_count *pc = data;
        struct berth_link_info info;
        if (nlh->nlmsg_type == RTM_NEWLINK && link_msg_cb(nlh, &info) >= 0 && info.master == pc->master) {
                pc->n = 1;
                return MNL_CB_STOP;
        }
        return MNL_CB_OK;
}

int berth_link_has_ports(struct berth_nl *nl, const char *master, struct berth_err *err)
{
        struct port_count pc = {0, 0};
        pc.master = berth_link_index(nl, master, err);
        if (pc.master < 0)
                return pc.master;
        /* A socket of its own: the dump is dropped unread after the first
         * port, which leaves that socket useless for further requests. */
        _cleanup_nl_ struct berth_nl *own = berth_nl_open(err);
        if (!own)
                return -(err && err->code ? err->code : EIO);
        struct nlmsghdr *nlh = link_msg(own, RTM_GETLINK, 0, NULL);
        mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)pc.master);
        mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
        int r = berth_nl_dump_head(own, nlh, port_any_cb, &pc);
        if (r < 0)
                return berth_nl_fail(own, err, r, "list ports of %s", master);
        return pc.n;
}

int berth_link_add_ifb(struct berth_nl *nl, const char *name, struct berth_err *err)
{
        int r = check_name(name, err);
        if (r < 0)
                return r;
        struct nlmsghdr *nlh = link_msg(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, name);
        struct nlattr *li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
        mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "ifb");
        mnl_attr_nest_end(nlh, li);
        r = berth_nl_call(nl, nlh);
        if (r < 0)
                return berth_nl_fail(nl, err, r, "create ifb %s", name);
        return 0;
}
