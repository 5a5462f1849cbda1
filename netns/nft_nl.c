/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nf_tables batches over libmnl (see nft_nl.h). The messages are those nft
 * 1.0.6 sends for the same commands (nft --debug=mnl), so a change made
 * here equals the one libnftables made. libmnl rather than libnftnl, which
 * builds the same attributes: linked, libnftnl would be loaded by every
 * berth-full command (~0.5 ms here); libmnl is loaded anyway. */
#include <netinet/in.h> /* before linux/netfilter.h: glibc's types win */

#include <errno.h>
#include <libmnl/libmnl.h>
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "netns/nft_nl.h"

_Static_assert(BERTH_NFT_NETDEV == NFPROTO_NETDEV && BERTH_NFT_INET == NFPROTO_INET, "nfproto values");

/* Every message of a batch fits in this (the largest, a set element with a
 * 32-byte key and names of 16 bytes, is ~130 bytes). */
#define MSG_MAX 512

struct nft_batch {
        char *buf;
        size_t len, cap;
        uint32_t seq; /* of the next message; the batch begins at 1 */
};

/* Room for one more message at buf + len. */
static char *room(struct nft_batch *b)
{
        if (b->cap - b->len < MSG_MAX) {
                char *n = realloc(b->buf, b->cap * 2);
                if (!n)
                        return NULL;
                b->buf = n;
                b->cap *= 2;
        }
        memset(b->buf + b->len, 0, MSG_MAX);
        return b->buf + b->len;
}

static void done(struct nft_batch *b, const struct nlmsghdr *nlh)
{
        b->len += NLMSG_ALIGN(nlh->nlmsg_len);
        b->seq++;
}

/* A message of nf_tables (type) on a table of family, with its headers. */
static struct nlmsghdr *msg(struct nft_batch *b, char *buf, uint16_t type, uint16_t flags, uint8_t family)
{
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
        nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | type;
        nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
        nlh->nlmsg_seq = b->seq;
        struct nfgenmsg *nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
        nfg->nfgen_family = family;
        nfg->version = NFNETLINK_V0;
        return nlh;
}

/* A batch delimiter (NFNL_MSG_BATCH_BEGIN/END) for nf_tables. */
static struct nlmsghdr *delimiter(struct nft_batch *b, char *buf, uint16_t type)
{
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
        nlh->nlmsg_type = type;
        nlh->nlmsg_flags = NLM_F_REQUEST;
        nlh->nlmsg_seq = b->seq;
        struct nfgenmsg *nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
        nfg->nfgen_family = AF_UNSPEC;
        nfg->version = NFNETLINK_V0;
        nfg->res_id = htons(NFNL_SUBSYS_NFTABLES);
        return nlh;
}

struct nft_batch *nft_batch_new(void)
{
        struct nft_batch *b = calloc(1, sizeof(*b));
        if (!b || !(b->buf = malloc(b->cap = 4096))) {
                free(b);
                return NULL;
        }
        b->seq = 1;
        done(b, delimiter(b, room(b), NFNL_MSG_BATCH_BEGIN));
        return b;
}

void nft_batch_free(struct nft_batch *b)
{
        if (b)
                free(b->buf);
        free(b);
}

/* A set-element message on set e->set of table berth: with e's key, or
 * none (a flush) when e->len is 0. */
static int elem_msg(struct nft_batch *b, uint16_t type, uint16_t flags, const struct berth_nft_elem *e)
{
        char *buf = room(b);
        if (!buf)
                return -ENOMEM;
        struct nlmsghdr *nlh = msg(b, buf, type, flags, e->family);
        mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, "berth");
        mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, e->set);
        if (e->len) {
                struct nlattr *list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
                struct nlattr *elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
                struct nlattr *key = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);
                mnl_attr_put(nlh, NFTA_DATA_VALUE, e->len, e->key);
                mnl_attr_nest_end(nlh, key);
                mnl_attr_nest_end(nlh, elem);
                mnl_attr_nest_end(nlh, list);
        }
        done(b, nlh);
        return 0;
}

int nft_batch_elem_add(struct nft_batch *b, const struct berth_nft_elem *e)
{
        /* No NLM_F_EXCL: an element already there is no error ("add"). */
        return elem_msg(b, NFT_MSG_NEWSETELEM, NLM_F_CREATE, e);
}

int nft_batch_elem_del(struct nft_batch *b, const struct berth_nft_elem *e)
{
        return elem_msg(b, NFT_MSG_DELSETELEM, 0, e);
}

int nft_batch_set_flush(struct nft_batch *b, uint8_t family, const char *set)
{
        struct berth_nft_elem e = {.family = family, .set = set};
        return elem_msg(b, NFT_MSG_DELSETELEM, 0, &e);
}

/* A chain message of table "netdev berth" with its name. */
static struct nlmsghdr *chain_msg(struct nft_batch *b, char *buf, uint16_t type, uint16_t flags,
                                  const char *chain)
{
        struct nlmsghdr *nlh = msg(b, buf, type, flags, NFPROTO_NETDEV);
        mnl_attr_put_strz(nlh, NFTA_CHAIN_TABLE, "berth");
        mnl_attr_put_strz(nlh, NFTA_CHAIN_NAME, chain);
        return nlh;
}

int nft_batch_chain_hook(struct nft_batch *b, const char *chain, const char *dev)
{
        char *buf = room(b);
        if (!buf)
                return -ENOMEM;
        /* The whole hook, as declared (an update must repeat it). */
        struct nlmsghdr *nlh = chain_msg(b, buf, NFT_MSG_NEWCHAIN, NLM_F_CREATE, chain);
        mnl_attr_put_strz(nlh, NFTA_CHAIN_TYPE, "filter");
        mnl_attr_put_u32(nlh, NFTA_CHAIN_POLICY, htonl(NF_ACCEPT));
        struct nlattr *hook = mnl_attr_nest_start(nlh, NFTA_CHAIN_HOOK);
        mnl_attr_put_u32(nlh, NFTA_HOOK_HOOKNUM, htonl(NF_NETDEV_INGRESS));
        mnl_attr_put_u32(nlh, NFTA_HOOK_PRIORITY, htonl(0));
        mnl_attr_put_strz(nlh, NFTA_HOOK_DEV, dev);
        mnl_attr_nest_end(nlh, hook);
        done(b, nlh);
        return 0;
}

int nft_batch_chain_add(struct nft_batch *b, const char *chain)
{
        char *buf = room(b);
        if (!buf)
                return -ENOMEM;
        done(b, chain_msg(b, buf, NFT_MSG_NEWCHAIN, NLM_F_CREATE, chain));
        return 0;
}

int nft_batch_chain_del(struct nft_batch *b, const char *chain)
{
        char *buf = room(b);
        if (!buf)
                return -ENOMEM;
        done(b, chain_msg(b, buf, NFT_MSG_DELCHAIN, 0, chain));
        return 0;
}

/* A rule message of table "netdev berth" on chain. */
static struct nlmsghdr *rule_msg(struct nft_batch *b, char *buf, uint16_t type, uint16_t flags,
                                 const char *chain)
{
        struct nlmsghdr *nlh = msg(b, buf, type, flags, NFPROTO_NETDEV);
        mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, "berth");
        mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, chain);
        return nlh;
}

int nft_batch_chain_flush(struct nft_batch *b, const char *chain)
{
        char *buf = room(b);
        if (!buf)
                return -ENOMEM;
        /* A rule deletion without a handle: every rule of the chain. */
        done(b, rule_msg(b, buf, NFT_MSG_DELRULE, 0, chain));
        return 0;
}

int nft_batch_rule_jump(struct nft_batch *b, const char *chain, const char *target)
{
        char *buf = room(b);
        if (!buf)
                return -ENOMEM;
        struct nlmsghdr *nlh = rule_msg(b, buf, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND, chain);
        struct nlattr *exprs = mnl_attr_nest_start(nlh, NFTA_RULE_EXPRESSIONS);
        struct nlattr *elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
        mnl_attr_put_strz(nlh, NFTA_EXPR_NAME, "immediate");
        struct nlattr *data = mnl_attr_nest_start(nlh, NFTA_EXPR_DATA);
        mnl_attr_put_u32(nlh, NFTA_IMMEDIATE_DREG, htonl(NFT_REG_VERDICT));
        struct nlattr *imm = mnl_attr_nest_start(nlh, NFTA_IMMEDIATE_DATA);
        struct nlattr *verdict = mnl_attr_nest_start(nlh, NFTA_DATA_VERDICT);
        mnl_attr_put_u32(nlh, NFTA_VERDICT_CODE, htonl((uint32_t)NFT_JUMP));
        mnl_attr_put_strz(nlh, NFTA_VERDICT_CHAIN, target);
        mnl_attr_nest_end(nlh, verdict);
        mnl_attr_nest_end(nlh, imm);
        mnl_attr_nest_end(nlh, data);
        mnl_attr_nest_end(nlh, elem);
        mnl_attr_nest_end(nlh, exprs);
        done(b, nlh);
        return 0;
}

/* The nfnetlink sockets of this process, kept open until it exits.
 *
 * Closing an nfnetlink socket waits until nf_tables has released what the
 * commits before it replaced or deleted (NETLINK_URELEASE flushes its
 * destroy work, which waits for an RCU grace period: 15-25 ms on this
 * 2-CPU host). `vps start` would pay that on its path for its filter;
 * kept open, the socket goes with the process's exit, which the start's
 * worker reaches after it has answered (runtime/vps/console.c). One per
 * network namespace, reused by the next batch there; never one that a
 * fork inherited (two processes' answers would mix). */
#define KEPT_MAX 4
static struct kept_socket {
        struct mnl_socket *nl;
        pid_t owner;
        dev_t ns_dev;
        ino_t ns_ino;
} kept[KEPT_MAX];

static void kept_drop(size_t i)
{
        mnl_socket_close(kept[i].nl);
        memmove(&kept[i], &kept[i + 1], (KEPT_MAX - 1 - i) * sizeof(kept[0]));
        kept[KEPT_MAX - 1] = (struct kept_socket){0};
}

static struct mnl_socket *socket_open(void)
{
        struct mnl_socket *nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
        /* The kernel answers every batch; a bound on the wait all the same,
         * so that a start never hangs here. */
        const struct timeval wait = {.tv_sec = 10};
        if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
            setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof(wait)) < 0) {
                int e = errno;
                if (nl)
                        mnl_socket_close(nl);
                errno = e;
                return NULL;
        }
        return nl;
}

/* This process's socket in the current network namespace: *slot its
 * index in kept[]. */
static struct mnl_socket *socket_get(size_t *slot)
{
        struct stat ns;
        if (stat("/proc/thread-self/ns/net", &ns) < 0)
                return NULL;
        pid_t self = getpid();
        for (size_t i = 0; i < KEPT_MAX && kept[i].nl;) {
                if (kept[i].owner != self) {
                        kept_drop(i); /* a fork's copy: the parent's stays */
                        continue;
                }
                if (kept[i].ns_dev == ns.st_dev && kept[i].ns_ino == ns.st_ino) {
                        *slot = i;
                        return kept[i].nl;
                }
                i++;
        }
        struct mnl_socket *nl = socket_open();
        if (!nl)
                return NULL;
        if (kept[KEPT_MAX - 1].nl)
                kept_drop(0);
        size_t i = 0;
        while (kept[i].nl)
                i++;
        kept[i] = (struct kept_socket){nl, self, ns.st_dev, ns.st_ino};
        *slot = i;
        return nl;
}

/* Reads the kernel's answers up to the last message's ack (every message
 * asks for one; a failed batch still answers all of them, errors first in
 * order) or an error on the batch itself. *drained: every answer read,
 * the socket fit for the next batch. */
static int answers(struct mnl_socket *nl, uint32_t last, bool *drained)
{
        char buf[MNL_SOCKET_BUFFER_SIZE];
        int first = 0;
        *drained = false;
        for (;;) {
                ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
                if (n < 0)
                        return -errno;
                int left = (int)n;
                for (struct nlmsghdr *nlh = (struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, left);
                     nlh = mnl_nlmsg_next(nlh, &left)) {
                        if (nlh->nlmsg_type != NLMSG_ERROR)
                                continue;
                        const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
                        if (e->error && !first)
                                first = e->error;
                        *drained = nlh->nlmsg_seq == last; /* the kernel's last word on the batch */
                        if (nlh->nlmsg_seq == last || (nlh->nlmsg_seq == 1 && e->error))
                                return first;
                }
        }
}

int nft_batch_run(struct nft_batch *b)
{
        uint32_t last = b->seq - 1;
        if (last == 1)
                return 0; /* nothing to do */
        char *buf = room(b);
        if (!buf)
                return -ENOMEM;
        done(b, delimiter(b, buf, NFNL_MSG_BATCH_END));
        size_t slot;
        struct mnl_socket *nl = socket_get(&slot);
        if (!nl)
                return -errno;
        bool drained = false;
        int r = mnl_socket_sendto(nl, b->buf, b->len) < 0 ? -errno : answers(nl, last, &drained);
        /* Answers may still be on their way: not reused. */
        if (!drained)
                kept_drop(slot);
        return r;
}
