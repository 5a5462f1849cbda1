/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Interface addresses (IPv4 and IPv6): add, delete, list. */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <string.h>

#include "berth/netns.h"

static int check_addr(const struct berth_ip_addr *a, struct berth_err *err)
{
        if (!a || (a->family != AF_INET && a->family != AF_INET6))
                return berth_err_set(err, EAFNOSUPPORT, "address without a family");
        unsigned max = a->family == AF_INET ? 32 : 128;
        if (a->prefixlen > max)
                return berth_err_set(err, EINVAL, "invalid prefix length %u", a->prefixlen);
        return 0;
}

static struct nlmsghdr *addr_msg(struct berth_nl *nl, uint16_t type, uint16_t flags, int ifindex,
                                 const struct berth_ip_addr *a)
{
        struct nlmsghdr *nlh = berth_nl_msg(nl, type, flags, sizeof(struct ifaddrmsg));
        struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
        ifa->ifa_family = (unsigned char)a->family;
        ifa->ifa_prefixlen = a->prefixlen;
        ifa->ifa_index = (unsigned)ifindex;
        ifa->ifa_scope = berth_ip_addr_is_link_local(a) ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
        size_t len = berth_ip_addr_len(a);
        mnl_attr_put(nlh, IFA_LOCAL, len, a->u.raw);
        mnl_attr_put(nlh, IFA_ADDRESS, len, a->u.raw);
        return nlh;
}

/* Checks a, formats it into text and returns the index of ifname; a
 * failure reads "<verb> address <a> <prep> <ifname>: ...". */
static int addr_target(struct berth_nl *nl, const char *ifname, const struct berth_ip_addr *a,
                       char text[BERTH_IP_ADDR_STRLEN], const char *verb, const char *prep,
                       struct berth_err *err)
{
        int r = check_addr(a, err);
        if (r < 0)
                return r;
        berth_ip_addr_format(a, true, text, BERTH_IP_ADDR_STRLEN);
        int index = berth_link_index(nl, ifname, err);
        if (index < 0)
                return berth_err_wrap(err, "%s address %s %s %s", verb, text, prep, ifname);
        return index;
}

int berth_addr_add(struct berth_nl *nl, const char *ifname, const struct berth_ip_addr *a, unsigned flags,
                   struct berth_err *err)
{
        char text[BERTH_IP_ADDR_STRLEN];
        int index = addr_target(nl, ifname, a, text, "add", "to", err);
        if (index < 0)
                return index;
        int r;
        uint16_t nlflags = NLM_F_CREATE | ((flags & BERTH_ADDR_REPLACE) ? NLM_F_REPLACE : NLM_F_EXCL);
        struct nlmsghdr *nlh = addr_msg(nl, RTM_NEWADDR, nlflags, index, a);
        if (a->family == AF_INET && a->prefixlen < 31) {
                /* ip(8) adds the broadcast address too; so do we, or
                 * broadcasts on the subnet are not received. */
                struct in_addr brd = a->u.v4;
                brd.s_addr |= htonl(a->prefixlen ? 0xffffffffu >> a->prefixlen : 0xffffffffu);
                mnl_attr_put(nlh, IFA_BROADCAST, sizeof(brd), &brd);
        }
        if (a->family == AF_INET6 && (flags & BERTH_ADDR_NODAD))
                mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
        r = berth_nl_call(nl, nlh);
        if (r < 0)
                return berth_nl_fail(nl, err, r, "add address %s to %s", text, ifname);
        return 0;
}

int berth_addr_del(struct berth_nl *nl, const char *ifname, const struct berth_ip_addr *a,
                   struct berth_err *err)
{
        char text[BERTH_IP_ADDR_STRLEN];
        int index = addr_target(nl, ifname, a, text, "delete", "from", err);
        if (index < 0)
                return index;
        int r = berth_nl_call(nl, addr_msg(nl, RTM_DELADDR, 0, index, a));
        if (r < 0)
                return berth_nl_fail(nl, err, r, "delete address %s from %s", text, ifname);
        return 0;
}

struct addr_list {
        int ifindex;
        struct berth_ip_addr *out;
        size_t max;
        size_t n;
};

static int addr_attr_cb(const struct nlattr *attr, void *data)
{
        const struct nlattr **tb = data;
        int type = mnl_attr_get_type(attr);
        if (type == IFA_LOCAL || type == IFA_ADDRESS)
                tb[type] = attr;
        return MNL_CB_OK;
}

static int addr_list_cb(const struct nlmsghdr *nlh, void *data)
{
        struct addr_list *l = data;
        const struct nlattr *tb[IFA_MAX + 1] = {NULL};
        const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
        if (nlh->nlmsg_type != RTM_NEWADDR || (l->ifindex && (int)ifa->ifa_index != l->ifindex))
                return MNL_CB_OK;
        mnl_attr_parse(nlh, sizeof(*ifa), addr_attr_cb, tb);
        /* IFA_LOCAL is the interface's own address (IFA_ADDRESS is the
         * peer on point-to-point links); IPv6 only sends IFA_ADDRESS. */
        const struct nlattr *at = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
        struct berth_ip_addr a = {.family = ifa->ifa_family, .prefixlen = ifa->ifa_prefixlen};
        if (!at || mnl_attr_get_payload_len(at) != berth_ip_addr_len(&a))
                return MNL_CB_OK;
        memcpy(a.u.raw, mnl_attr_get_payload(at), berth_ip_addr_len(&a));
        if (l->n < l->max)
                l->out[l->n] = a;
        l->n++;
        return MNL_CB_OK;
}

int berth_addr_list(struct berth_nl *nl, int ifindex, int family, struct berth_ip_addr *out, size_t max,
                    struct berth_err *err)
{
        struct addr_list l = {ifindex, out, max, 0};
        struct nlmsghdr *nlh = berth_nl_msg(nl, RTM_GETADDR, 0, sizeof(struct ifaddrmsg));
        struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
        ifa->ifa_family = (unsigned char)family;
        ifa->ifa_index = (unsigned)ifindex; /* honoured with strict checking */
        int r = berth_nl_dump(nl, nlh, addr_list_cb, &l);
        if (r < 0)
                return berth_nl_fail(nl, err, r, "list addresses");
        return (int)l.n;
}
