// SPDX-License-Identifier: GPL-2.0-or-later
/* Seccomp as runc applies it: the notify listener gets its fd (and the
 * container's state) at linux.seccomp.listenerPath and answers the
 * container's syscalls; syscalls newer than the profile get ENOSYS. */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

/* ---- a small seccomp agent --------------------------------------------- */

struct agent {
        int listen_fd;
        int stop[2]; /* the test closes stop[1] when the container is gone */
        char message[65536];
        int answered; /* notifications answered with ENOMSG */
        bool got_fd;
};

static int agent_accept(struct agent *a)
{
        struct pollfd p[2] = {{.fd = a->listen_fd, .events = POLLIN}, {.fd = a->stop[0], .events = POLLIN}};
        if (poll(p, 2, 15000) <= 0 || !(p[0].revents & POLLIN))
                return -1;
        return accept4(a->listen_fd, NULL, NULL, SOCK_CLOEXEC);
}

/* The runtime's message: one fd with the start of the state text, the
 * rest of the text until EOF. */
static int agent_receive(struct agent *a, int conn)
{
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } u;
        struct iovec iov = {.iov_base = a->message, .iov_len = sizeof(a->message) - 1};
        struct msghdr mh = {
            .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
        ssize_t n = recvmsg(conn, &mh, MSG_CMSG_CLOEXEC);
        if (n <= 0)
                return -1;
        size_t len = (size_t)n;
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        int fd = -1;
        if (c && c->cmsg_type == SCM_RIGHTS)
                memcpy(&fd, CMSG_DATA(c), sizeof(int));
        while (len < sizeof(a->message) - 1 &&
               (n = read(conn, a->message + len, sizeof(a->message) - 1 - len)) > 0)
                len += (size_t)n;
        a->message[len] = '\0';
        return fd;
}

static void agent_answer(struct agent *a, int fd)
{
        for (;;) {
                struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = a->stop[0], .events = POLLIN}};
                if (poll(p, 2, 15000) <= 0 || (p[1].revents) || (p[0].revents & (POLLHUP | POLLERR)))
                        return;
                struct seccomp_notif req;
                struct seccomp_notif_resp resp;
                memset(&req, 0, sizeof(req));
                if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0)
                        continue;
                resp = (struct seccomp_notif_resp){.id = req.id, .error = -ENOMSG};
                if (ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp) == 0)
                        a->answered++;
        }
}

static void *agent_main(void *arg)
{
        struct agent *a = arg;
        int conn = agent_accept(a);
        if (conn < 0)
                return NULL;
        int fd = agent_receive(a, conn);
        close(conn);
        a->got_fd = fd >= 0;
        if (fd >= 0)
                agent_answer(a, fd);
        if (fd >= 0)
                close(fd);
        return NULL;
}

static void agent_start(struct agent *a, pthread_t *t, const char *path)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        unlink(path); /* the previous agent's */
        memset(a, 0, sizeof(*a));
        a->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ck_assert_int_ge(a->listen_fd, 0);
        ck_assert_int_eq(bind(a->listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        ck_assert_int_eq(listen(a->listen_fd, 4), 0);
        ck_assert_int_eq(pipe2(a->stop, O_CLOEXEC), 0);
        ck_assert_int_eq(pthread_create(t, NULL, agent_main, a), 0);
}

static void agent_stop(struct agent *a, pthread_t t)
{
        close(a->stop[1]);
        pthread_join(t, NULL);
        close(a->stop[0]);
        close(a->listen_fd);
}

static json_t *notify_profile(const char *listener)
{
        return json_pack("{s:s, s:s, s:s, s:[{s:[s,s], s:s}]}", "defaultAction", "SCMP_ACT_ALLOW",
                         "listenerPath", listener, "listenerMetadata", "itest-meta", "syscalls", "names",
                         "mkdir", "mkdirat", "action", "SCMP_ACT_NOTIFY");
}

/* run: the agent receives the fd with the state, and its answer (ENOMSG)
 * is what mkdir in the container gets. */
START_TEST(notify_listener_run)
{
        struct agent a;
        pthread_t t;
        struct itest_result r;
        const char *sock = itest_path("agent.sock");
        json_t *cfg = itest_spec("sh", "-c", "mkdir /tmp/itest-notified; echo mkdir=$?", NULL);

        itest_set(cfg, "linux.seccomp", notify_profile(sock));
        agent_start(&a, &t, sock);
        itest_run_cfg(&r, "notify", cfg);
        agent_stop(&a, t);

        itest_assert_status(&r, 0);
        ck_assert_msg(a.got_fd, "the listener got no fd (message: %s)", a.message);
        ck_assert_msg(a.answered >= 1, "no notification reached the listener");
        itest_assert_kv(r.out, "mkdir", "1");
        ck_assert_msg(strstr(r.err, strerror(ENOMSG)), "mkdir did not get the listener's answer: %s", r.err);

        json_t *m = json_loads(a.message, 0, NULL);
        ck_assert_msg(m, "the listener's message is not JSON: %s", a.message);
        ck_assert_str_eq(json_string_value(json_array_get(json_object_get(m, "fds"), 0)), "seccompFd");
        ck_assert_int_eq(json_array_size(json_object_get(m, "fds")), 1);
        ck_assert_str_eq(json_string_value(json_object_get(m, "metadata")), "itest-meta");
        ck_assert_msg(json_integer_value(json_object_get(m, "pid")) > 0, "no pid: %s", a.message);
        json_t *st = json_object_get(m, "state");
        ck_assert_msg(json_string_length(json_object_get(st, "id")) > 0, "no state.id: %s", a.message);
        ck_assert_str_eq(json_string_value(json_object_get(st, "status")), "creating");
}
END_TEST

/* exec: the exec'd process loads the profile too and its fd reaches the
 * agent the same way. */
START_TEST(notify_listener_exec)
{
        struct agent a;
        pthread_t t;
        struct itest_bundle b;
        struct itest_result r;
        const char *sock = itest_path("agent.sock");
        json_t *cfg = itest_spec("probe", "sleep", NULL);

        itest_set(cfg, "linux.seccomp", notify_profile(sock));
        itest_bundle_new(&b, "notifyexec", cfg);
        agent_start(&a, &t, sock);
        itest_rt(&r, "create", "--bundle", b.dir, b.id, NULL);
        itest_assert_status(&r, 0);
        agent_stop(&a, t); /* the init's fd: answered nothing yet */
        ck_assert_msg(a.got_fd, "create: the listener got no fd");
        itest_rt(&r, "start", b.id, NULL);
        itest_assert_status(&r, 0);

        agent_start(&a, &t, sock);
        itest_rt(&r, "exec", b.id, "sh", "-c", "mkdir /tmp/itest-notified; echo mkdir=$?", NULL);
        agent_stop(&a, t);
        itest_assert_status(&r, 0);
        ck_assert_msg(a.got_fd && a.answered >= 1, "exec: the listener got %s and answered %d",
                      a.got_fd ? "its fd" : "no fd", a.answered);
        ck_assert_msg(strstr(r.err, strerror(ENOMSG)), "mkdir did not get the listener's answer: %s", r.err);
        itest_rt(&r, "delete", "--force", b.id, NULL);
        itest_assert_status(&r, 0);
        itest_assert_clean(b.id, b.dir);
}
END_TEST

/* A profile that names every syscall below clone3 except getpriority,
 * EPERM by default: getpriority (older than the profile) gets EPERM,
 * clone3 (newer) gets ENOSYS, so that glibc falls back to clone. */
START_TEST(newer_syscalls_get_enosys)
{
        struct itest_result r;
        char clone3[16], getprio[16];
        json_t *names = json_array();
        int last = __NR_clone3 - 1;

        for (int nr = 0; nr <= last; nr++) {
                char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
                if (name && nr != __NR_getpriority)
                        json_array_append_new(names, json_string(name));
                free(name);
        }
        snprintf(clone3, sizeof(clone3), "%d", __NR_clone3);
        snprintf(getprio, sizeof(getprio), "%d", __NR_getpriority);
        json_t *cfg = itest_spec("probe", "syscall", clone3, "syscall", getprio, NULL);
        itest_set(cfg, "linux.seccomp",
                  json_pack("{s:s, s:[{s:o, s:s}]}", "defaultAction", "SCMP_ACT_ERRNO", "syscalls", "names",
                            names, "action", "SCMP_ACT_ALLOW"));
        itest_run_cfg(&r, "enosys", cfg);
        itest_assert_status(&r, 0);
        char key[32];
        snprintf(key, sizeof(key), "syscall:%s", clone3);
        itest_assert_kv(r.out, key, "ENOSYS");
        snprintf(key, sizeof(key), "syscall:%s", getprio);
        itest_assert_kv(r.out, key, "EPERM");
}
END_TEST

Suite *test_suite(void)
{
        Suite *s = itest_suite("integration/seccomp");
        itest_add(s, "notify_listener_run", notify_listener_run);
        itest_add(s, "notify_listener_exec", notify_listener_exec);
        itest_add(s, "newer_syscalls_get_enosys", newer_syscalls_get_enosys);
        return s;
}
