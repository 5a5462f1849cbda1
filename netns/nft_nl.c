/* nf_tables batches through libnftnl and libmnl (see nft_nl.h). The
 * messages are those nft 1.0.6 sends for the same commands (nft
 * --debug=mnl), so a change made here equals the one libnftables made. */
#include <netinet/in.h> /* before linux/netfilter.h: glibc's types win */

#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

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

struct nft_batch *nft_batch_new(void)
{
        struct nft_batch *b = calloc(1, sizeof(*b));
        if (!b || !(b->buf = malloc(b->cap = 4096))) {
                free(b);
                return NULL;
        }
        b->seq = 1;
        done(b, nftnl_batch_begin(room(b), b->seq));
        return b;
}

void nft_batch_free(struct nft_batch *b)
{
        if (b)
                free(b->buf);
        free(b);
}

static void nftnl_set_freep(struct nftnl_set **s)
{
        if (*s)
                nftnl_set_free(*s);
}

/* A set-element message on set e->set of table berth: with e's key, or
 * none (a flush) when e->len is 0. */
static int elem_msg(struct nft_batch *b, uint16_t type, uint16_t flags, const struct berth_nft_elem *e)
{
        __attribute__((cleanup(nftnl_set_freep))) struct nftnl_set *s = nftnl_set_alloc();
        char *buf = room(b);
        if (!s || !buf || nftnl_set_set_str(s, NFTNL_SET_TABLE, "berth") < 0 ||
            nftnl_set_set_str(s, NFTNL_SET_NAME, e->set) < 0)
                return -ENOMEM;
        if (e->len) {
                struct nftnl_set_elem *se = nftnl_set_elem_alloc();
                if (!se)
                        return -ENOMEM;
                nftnl_set_elem_add(s, se); /* s owns it now */
                if (nftnl_set_elem_set(se, NFTNL_SET_ELEM_KEY, e->key, (uint32_t)e->len) < 0)
                        return -ENOMEM;
        }
        struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, type, e->family, flags | NLM_F_ACK, b->seq);
        nftnl_set_elems_nlmsg_build_payload(nlh, s);
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

static void nftnl_chain_freep(struct nftnl_chain **c)
{
        if (*c)
                nftnl_chain_free(*c);
}

int nft_batch_hook_dev(struct nft_batch *b, const char *dev)
{
        /* The whole hook, as declared (an update must repeat it), plus the
         * new device: the kernel adds it to the chain's devices. */
        __attribute__((cleanup(nftnl_chain_freep))) struct nftnl_chain *c = nftnl_chain_alloc();
        char *buf = room(b);
        if (!c || !buf || nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, "berth") < 0 ||
            nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, "guest") < 0 ||
            nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter") < 0 ||
            nftnl_chain_set_str(c, NFTNL_CHAIN_DEV, dev) < 0)
                return -ENOMEM;
        nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, NF_NETDEV_INGRESS);
        nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, 0);
        nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
        struct nlmsghdr *nlh =
            nftnl_nlmsg_build_hdr(buf, NFT_MSG_NEWCHAIN, NFPROTO_NETDEV, NLM_F_CREATE | NLM_F_ACK, b->seq);
        nftnl_chain_nlmsg_build_payload(nlh, c);
        done(b, nlh);
        return 0;
}

static void mnl_socket_closep(struct mnl_socket **nl)
{
        if (*nl)
                mnl_socket_close(*nl);
}

/* Reads the kernel's answers up to the last message's ack (every message
 * asks for one; a failed batch still answers all of them, errors first in
 * order) or an error on the batch itself. */
static int answers(struct mnl_socket *nl, uint32_t last)
{
        char buf[MNL_SOCKET_BUFFER_SIZE];
        int first = 0;
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
        done(b, nftnl_batch_end(buf, b->seq));
        __attribute__((cleanup(mnl_socket_closep))) struct mnl_socket *nl =
            mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
        if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
                return -errno;
        if (mnl_socket_sendto(nl, b->buf, b->len) < 0)
                return -errno;
        return answers(nl, last);
}
