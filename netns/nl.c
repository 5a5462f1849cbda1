/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The rtnetlink socket: request building, acks with extended-ack text, dumps.
 *
 * One socket serves a whole sequence of operations (a VPS setup is a dozen
 * requests), and it is bound to the network namespace it was opened in, so
 * a socket opened inside a guest keeps working after the thread has left. */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "berth/netns.h"

#define NL_SEND_SIZE 8192
#define NL_RECV_SIZE 32768

struct berth_nl {
        struct mnl_socket *sk;
        unsigned portid;
        unsigned seq;
        char ext_msg[256]; /* kernel's extended-ack text of the last request */
        char send_buf[NL_SEND_SIZE];
        char recv_buf[NL_RECV_SIZE];
};

struct berth_nl *berth_nl_open(struct berth_err *err)
{
        _cleanup_free_ struct berth_nl *nl = calloc(1, sizeof(*nl));
        if (!nl) {
                berth_err_sys(err, ENOMEM, "netlink socket");
                return NULL;
        }
        nl->sk = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
        if (!nl->sk) {
                berth_err_sys(err, errno, "open netlink socket");
                return NULL;
        }
        /* Ask for the kernel's explanation with errors and for capped acks,
         * so an ack never echoes the whole request back. Old kernels lack
         * these options; the socket works without them. */
        int one = 1;
        mnl_socket_setsockopt(nl->sk, NETLINK_EXT_ACK, &one, sizeof(one));
        mnl_socket_setsockopt(nl->sk, NETLINK_CAP_ACK, &one, sizeof(one));
        /* Strict checking makes the kernel honour dump filters (by master,
         * by table) instead of returning everything. */
        mnl_socket_setsockopt(nl->sk, NETLINK_GET_STRICT_CHK, &one, sizeof(one));
        if (mnl_socket_bind(nl->sk, 0, MNL_SOCKET_AUTOPID) < 0) {
                int e = errno;
                mnl_socket_close(nl->sk);
                berth_err_sys(err, e, "bind netlink socket");
                return NULL;
        }
        nl->portid = mnl_socket_get_portid(nl->sk);
        nl->seq = (unsigned)time(NULL);
        return TAKE_PTR(nl);
}

void berth_nl_close(struct berth_nl *nl)
{
        if (!nl)
                return;
        mnl_socket_close(nl->sk);
        free(nl);
}

struct nlmsghdr *berth_nl_msg(struct berth_nl *nl, uint16_t type, uint16_t flags, size_t hdrlen)
{
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(nl->send_buf);
        nlh->nlmsg_type = type;
        nlh->nlmsg_flags = NLM_F_REQUEST | flags;
        nlh->nlmsg_seq = ++nl->seq;
        if (hdrlen)
                mnl_nlmsg_put_extra_header(nlh, hdrlen);
        return nlh;
}

static int ext_ack_attr_cb(const struct nlattr *attr, void *data)
{
        struct berth_nl *nl = data;
        if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG && mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
                snprintf(nl->ext_msg, sizeof(nl->ext_msg), "%s", mnl_attr_get_str(attr));
        return MNL_CB_OK;
}

/* Reads the error code (and extended-ack text) out of an NLMSG_ERROR. */
static int parse_ack(struct berth_nl *nl, const struct nlmsghdr *nlh)
{
        const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
        if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
                return -EBADMSG;
        if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
                size_t off = sizeof(*e);
                if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
                        off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
                if (mnl_nlmsg_size(off) <= nlh->nlmsg_len)
                        mnl_attr_parse(nlh, off, ext_ack_attr_cb, nl);
        }
        return e->error;
}

int berth_nl_query(struct berth_nl *nl, struct nlmsghdr *nlh, int (*cb)(const struct nlmsghdr *, void *),
                   void *data)
{
        unsigned seq = nlh->nlmsg_seq;
        int cb_result = 0;
        nl->ext_msg[0] = '\0';
        nlh->nlmsg_flags |= NLM_F_ACK;
        if (mnl_socket_sendto(nl->sk, nlh, nlh->nlmsg_len) < 0)
                return -errno;
        for (;;) {
                ssize_t n = mnl_socket_recvfrom(nl->sk, nl->recv_buf, sizeof(nl->recv_buf));
                if (n < 0)
                        return -errno;
                const struct nlmsghdr *m = (const struct nlmsghdr *)nl->recv_buf;
                int len = (int)n;
                for (; mnl_nlmsg_ok(m, len); m = mnl_nlmsg_next(m, &len)) {
                        /* Every request waits for its ack, so nothing of an
                         * earlier request can be pending; skip strays. */
                        if (m->nlmsg_seq != seq)
                                continue;
                        if (m->nlmsg_type == NLMSG_ERROR) {
                                int r = parse_ack(nl, m);
                                return r < 0 ? r : cb_result;
                        }
                        if (cb && cb_result == 0 && cb(m, data) < 0)
                                cb_result = -EIO;
                }
        }
}

int berth_nl_call(struct berth_nl *nl, struct nlmsghdr *nlh)
{
        return berth_nl_query(nl, nlh, NULL, NULL);
}

struct dump_state {
        unsigned seq;
        mnl_cb_t cb;
        void *data;
        bool active; /* the callback still wants messages */
        bool done;   /* NLMSG_DONE or an error ended the dump */
        int result;
};

static void dump_batch(struct berth_nl *nl, ssize_t n, struct dump_state *st)
{
        const struct nlmsghdr *m = (const struct nlmsghdr *)nl->recv_buf;
        int len = (int)n;
        for (; mnl_nlmsg_ok(m, len) && !st->done; m = mnl_nlmsg_next(m, &len)) {
                if (m->nlmsg_seq != st->seq)
                        continue;
                if (m->nlmsg_type == NLMSG_DONE) {
                        st->done = true;
                } else if (m->nlmsg_type == NLMSG_ERROR) {
                        int r = parse_ack(nl, m);
                        if (r < 0 && st->result == 0)
                                st->result = r;
                        st->done = true;
                } else if (st->active) {
                        int r = st->cb(m, st->data);
                        if (r < 0 && st->result == 0)
                                st->result = -EIO;
                        if (r <= MNL_CB_STOP)
                                st->active = false;
                }
        }
}

int berth_nl_dump(struct berth_nl *nl, struct nlmsghdr *nlh, int (*cb)(const struct nlmsghdr *, void *),
                  void *data)
{
        struct dump_state st = {.seq = nlh->nlmsg_seq, .cb = cb, .data = data, .active = true};
        nl->ext_msg[0] = '\0';
        nlh->nlmsg_flags |= NLM_F_DUMP;
        if (mnl_socket_sendto(nl->sk, nlh, nlh->nlmsg_len) < 0)
                return -errno;
        /* Even when the callback stops early, read up to NLMSG_DONE so that
         * the next request on this socket starts clean. */
        while (!st.done) {
                ssize_t n = mnl_socket_recvfrom(nl->sk, nl->recv_buf, sizeof(nl->recv_buf));
                if (n < 0)
                        return -errno;
                dump_batch(nl, n, &st);
        }
        return st.result;
}

int berth_nl_dump_head(struct berth_nl *nl, struct nlmsghdr *nlh, int (*cb)(const struct nlmsghdr *, void *),
                       void *data)
{
        struct dump_state st = {.seq = nlh->nlmsg_seq, .cb = cb, .data = data, .active = true};
        nl->ext_msg[0] = '\0';
        nlh->nlmsg_flags |= NLM_F_DUMP;
        if (mnl_socket_sendto(nl->sk, nlh, nlh->nlmsg_len) < 0)
                return -errno;
        /* The rest of the dump stays unread: the caller closes the socket,
         * and the kernel drops the unfinished dump with it. */
        while (!st.done && st.active) {
                ssize_t n = mnl_socket_recvfrom(nl->sk, nl->recv_buf, sizeof(nl->recv_buf));
                if (n < 0)
                        return -errno;
                dump_batch(nl, n, &st);
        }
        return st.result;
}

int berth_nl_fail(struct berth_nl *nl, struct berth_err *err, int r, const char *fmt, ...)
{
        char what[BERTH_ERR_MSG_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(what, sizeof(what), fmt, ap);
        va_end(ap);
        if (nl && nl->ext_msg[0])
                return berth_err_set(err, -r, "%s: %s (%s)", what, strerror(-r), nl->ext_msg);
        return berth_err_sys(err, -r, "%s", what);
}
