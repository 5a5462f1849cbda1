/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for runtime/seccomp*.c and runtime/spec_default_seccomp.c.
 * Every filter is loaded in a forked child (with no_new_privs), so the test
 * process itself stays unfiltered; the child reports through its exit code
 * or dies of SIGSYS. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <linux/sched.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_main.h"
#include "berth/process.h"
#include "berth/seccomp.h"
#include "runtime/spec/default_seccomp.h"

#define ERRNO_MARK 33 /* EDOM: an errno no syscall used here returns by itself */

static char *names_getppid[] = {"getppid", NULL};

static struct berth_seccomp allow_all(void)
{
        return (struct berth_seccomp){.default_action = BERTH_SCMP_ACT_ALLOW};
}

static struct berth_seccomp_rule rule(char **names, enum berth_seccomp_action a)
{
        size_t n = 0;
        while (names[n])
                n++;
        return (struct berth_seccomp_rule){.names = names, .n_names = n, .action = a};
}

static struct berth_seccomp_rule errno_rule(char **names, unsigned e)
{
        struct berth_seccomp_rule r = rule(names, BERTH_SCMP_ACT_ERRNO);
        r.has_errno_ret = true;
        r.errno_ret = e;
        return r;
}

typedef int (*child_fn)(void *arg);

/* Loads s in a child and returns its wait status; fn's return is the exit
 * code. 100: the filter did not load. */
static int run_filtered(const struct berth_seccomp *s, child_fn fn, void *arg)
{
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                struct berth_err err = {0};
                int nfd;
                /* No core files from the SIGSYS deaths. */
                prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || berth_seccomp_load(s, &nfd, &err) < 0) {
                        fprintf(stderr, "load: %s\n", err.msg);
                        _exit(100);
                }
                _exit(fn(arg));
        }
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        return status;
}

#define ck_assert_exit0(st)                                                                                  \
        ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status 0x%x (exit %d, signal %d)", st,   \
                      WIFEXITED(st) ? WEXITSTATUS(st) : -1, WIFSIGNALED(st) ? WTERMSIG(st) : 0)

/* 0 when syscall(nr, a0, a1) fails with errno e (e == 0: succeeds). */
struct sc_expect {
        long nr;
        long a0, a1;
        int e;
};

static int check_calls(void *arg)
{
        const struct sc_expect *x = arg;
        for (int i = 0; x[i].nr >= 0; i++) {
                errno = 0;
                long r = syscall(x[i].nr, x[i].a0, x[i].a1, 0, 0, 0);
                if (x[i].e == 0 ? r < 0 : (r != -1 || errno != x[i].e))
                        return 10 + i;
        }
        return 0;
}

/* ---- actions ------------------------------------------------------------ */

START_TEST(action_errno)
{
        char *names_uname[] = {"uname", NULL};
        struct berth_seccomp s = allow_all();
        struct berth_seccomp_rule rules[] = {errno_rule(names_uname, ENOTDIR),
                                             rule(names_getppid, BERTH_SCMP_ACT_ERRNO)};
        s.rules = rules;
        s.n_rules = 2;
        char buf[512];
        struct sc_expect x[] = {
            {SYS_uname, (long)buf, 0, ENOTDIR},
            {SYS_getppid, 0, 0, EPERM}, /* errnoRet absent: EPERM */
            {SYS_getpid, 0, 0, 0},
            {-1, 0, 0, 0},
        };
        ck_assert_exit0(run_filtered(&s, check_calls, x));
}
END_TEST

START_TEST(default_errno_and_allow)
{
        /* The memory and signal calls are for sanitizer runtimes, which
         * work behind the test's back in the filtered child. */
        char *allowed[] = {
            "exit_group", "exit",        "rt_sigreturn",   "getpid",       "write", "mmap",      "munmap",
            "madvise",    "sigaltstack", "rt_sigprocmask", "rt_sigaction", "prctl", "getrlimit", "prlimit64",
            "gettid",     "sched_yield", "futex",          "openat",       "read",  "close",     NULL};
        struct berth_seccomp s = {.default_action = BERTH_SCMP_ACT_ERRNO,
                                  .has_default_errno_ret = true,
                                  .default_errno_ret = ERRNO_MARK};
        struct berth_seccomp_rule rules[] = {rule(allowed, BERTH_SCMP_ACT_ALLOW)};
        s.rules = rules;
        s.n_rules = 1;
        struct sc_expect x[] = {
            {SYS_getpid, 0, 0, 0},
            {SYS_getppid, 0, 0, ERRNO_MARK},
            {SYS_getuid, 0, 0, ERRNO_MARK},
            {-1, 0, 0, 0},
        };
        ck_assert_exit0(run_filtered(&s, check_calls, x));
}
END_TEST

static int call_getppid(void *arg)
{
        syscall(SYS_getppid);
        return 0;
}

START_TEST(action_kill)
{
        enum berth_seccomp_action acts[] = {BERTH_SCMP_ACT_KILL_PROCESS, BERTH_SCMP_ACT_KILL,
                                            BERTH_SCMP_ACT_KILL_THREAD};
        for (size_t i = 0; i < sizeof(acts) / sizeof(acts[0]); i++) {
                struct berth_seccomp s = allow_all();
                struct berth_seccomp_rule r = rule(names_getppid, acts[i]);
                s.rules = &r;
                s.n_rules = 1;
                int st = run_filtered(&s, call_getppid, NULL);
                ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS, "action %d: status 0x%x", acts[i],
                              st);
        }
}
END_TEST

static volatile sig_atomic_t trapped_nr = -1;

static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
        if (si->si_code == 1 /* SYS_SECCOMP */)
                trapped_nr = si->si_syscall;
}

static int trap_child(void *arg)
{
        struct sigaction sa = {.sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO};
        if (sigaction(SIGSYS, &sa, NULL) < 0)
                return 2;
        syscall(SYS_getppid);
        return trapped_nr == SYS_getppid ? 0 : 3;
}

START_TEST(action_trap)
{
        struct berth_seccomp s = allow_all();
        struct berth_seccomp_rule r = rule(names_getppid, BERTH_SCMP_ACT_TRAP);
        s.rules = &r;
        s.n_rules = 1;
        ck_assert_exit0(run_filtered(&s, trap_child, NULL));
}
END_TEST

static int log_child(void *arg)
{
        pid_t want = *(pid_t *)arg;
        return syscall(SYS_getppid) == want ? 0 : 4;
}

START_TEST(action_log_and_trace)
{
        pid_t me = getpid();
        struct berth_seccomp s = allow_all();
        struct berth_seccomp_rule r = rule(names_getppid, BERTH_SCMP_ACT_LOG);
        s.rules = &r;
        s.n_rules = 1;
        /* LOG lets the call through (and logs it). */
        ck_assert_exit0(run_filtered(&s, log_child, &me));

        /* TRACE without a tracer: the call fails with ENOSYS. */
        r = rule(names_getppid, BERTH_SCMP_ACT_TRACE);
        r.has_errno_ret = true;
        r.errno_ret = 7;
        struct sc_expect x[] = {{SYS_getppid, 0, 0, ENOSYS}, {-1, 0, 0, 0}};
        ck_assert_exit0(run_filtered(&s, check_calls, x));
}
END_TEST

/* ---- arguments ---------------------------------------------------------- */

START_TEST(args_masked_eq)
{
        char *names[] = {"personality", NULL};
        struct berth_seccomp_arg a = {
            .index = 0, .op = BERTH_SCMP_OP_MASKED_EQ, .value = 0xff00, .value_two = 0x0100};
        struct berth_seccomp_rule r = errno_rule(names, ERRNO_MARK);
        r.args = &a;
        r.n_args = 1;
        struct berth_seccomp s = allow_all();
        s.rules = &r;
        s.n_rules = 1;
        struct sc_expect x[] = {
            {SYS_personality, 0x0108, 0, ERRNO_MARK},
            {SYS_personality, 0x01ff, 0, ERRNO_MARK},
            {SYS_personality, 0xffffffff, 0, 0}, /* query: (0xffffffff & 0xff00) != 0x100 */
            {-1, 0, 0, 0},
        };
        ck_assert_exit0(run_filtered(&s, check_calls, x));
}
END_TEST

START_TEST(args_same_index_is_or)
{
        char *names[] = {"getpgid", NULL};
        struct berth_seccomp_arg a[] = {{.index = 0, .op = BERTH_SCMP_OP_EQ, .value = 5},
                                        {.index = 0, .op = BERTH_SCMP_OP_EQ, .value = 7}};
        struct berth_seccomp_rule r = errno_rule(names, ERRNO_MARK);
        r.args = a;
        r.n_args = 2;
        struct berth_seccomp s = allow_all();
        s.rules = &r;
        s.n_rules = 1;
        struct sc_expect x[] = {
            {SYS_getpgid, 5, 0, ERRNO_MARK},
            {SYS_getpgid, 7, 0, ERRNO_MARK},
            {SYS_getpgid, 0, 0, 0},
            {-1, 0, 0, 0},
        };
        ck_assert_exit0(run_filtered(&s, check_calls, x));
}
END_TEST

START_TEST(args_distinct_indexes_are_and)
{
        char *names[] = {"getpriority", NULL};
        struct berth_seccomp_arg a[] = {{.index = 0, .op = BERTH_SCMP_OP_EQ, .value = PRIO_PROCESS},
                                        {.index = 1, .op = BERTH_SCMP_OP_EQ, .value = 0}};
        struct berth_seccomp_rule r = errno_rule(names, ERRNO_MARK);
        r.args = a;
        r.n_args = 2;
        struct berth_seccomp s = allow_all();
        s.rules = &r;
        s.n_rules = 1;
        struct sc_expect x[] = {
            {SYS_getpriority, PRIO_PROCESS, 0, ERRNO_MARK},
            {SYS_getpriority, PRIO_PGRP, 0, 0},
            {SYS_getpriority, PRIO_PROCESS, getpid(), 0},
            {-1, 0, 0, 0},
        };
        ck_assert_exit0(run_filtered(&s, check_calls, x));
}
END_TEST

static const struct {
        enum berth_seccomp_op op;
        bool blocks[3]; /* for 9, 10, 11 against value 10 */
} op_cases[] = {
    {BERTH_SCMP_OP_NE, {true, false, true}}, {BERTH_SCMP_OP_LT, {true, false, false}},
    {BERTH_SCMP_OP_LE, {true, true, false}}, {BERTH_SCMP_OP_EQ, {false, true, false}},
    {BERTH_SCMP_OP_GE, {false, true, true}}, {BERTH_SCMP_OP_GT, {false, false, true}},
};

START_TEST(args_operators)
{
        char *names[] = {"getpgid", NULL};
        struct berth_seccomp_arg a = {.index = 0, .op = op_cases[_i].op, .value = 10};
        struct berth_seccomp_rule r = errno_rule(names, ERRNO_MARK);
        r.args = &a;
        r.n_args = 1;
        struct berth_seccomp s = allow_all();
        s.rules = &r;
        s.n_rules = 1;
        struct sc_expect x[4] = {{-1, 0, 0, 0}, {-1, 0, 0, 0}, {-1, 0, 0, 0}, {-1, 0, 0, 0}};
        int n = 0;
        /* getpgid of a pid that may or may not exist: ESRCH or success,
         * never ERRNO_MARK; only the blocked values are checked. */
        for (int v = 9; v <= 11; v++)
                if (op_cases[_i].blocks[v - 9])
                        x[n++] = (struct sc_expect){SYS_getpgid, v, 0, ERRNO_MARK};
        ck_assert_exit0(run_filtered(&s, check_calls, x));

        /* And the others are not blocked. */
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                struct berth_err err = {0};
                int nfd;
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || berth_seccomp_load(&s, &nfd, &err) < 0)
                        _exit(100);
                for (int v = 9; v <= 11; v++) {
                        errno = 0;
                        if (!op_cases[_i].blocks[v - 9] && syscall(SYS_getpgid, v) < 0 && errno == ERRNO_MARK)
                                _exit(v);
                }
                _exit(0);
        }
        int st;
        ck_assert_int_eq(waitpid(pid, &st, 0), pid);
        ck_assert_exit0(st);
}
END_TEST

START_TEST(args_bad_index)
{
        struct berth_seccomp_arg a = {.index = 6, .op = BERTH_SCMP_OP_EQ};
        struct berth_seccomp_rule r = errno_rule(names_getppid, 1);
        r.args = &a;
        r.n_args = 1;
        struct berth_seccomp s = allow_all();
        s.rules = &r;
        s.n_rules = 1;
        struct berth_err err = {0};
        ck_assert_ptr_null(berth_seccomp_compile(&s, &err));
        ck_assert_msg(strstr(err.msg, "index 6"), "%s", err.msg);
}
END_TEST

/* ---- names, archs, flags ------------------------------------------------ */

START_TEST(unknown_syscall_skipped)
{
        char *names[] = {"no_such_syscall_xyz", "getppid", NULL};
        struct berth_seccomp_rule r = errno_rule(names, ERRNO_MARK);
        struct berth_seccomp s = allow_all();
        s.rules = &r;
        s.n_rules = 1;
        struct sc_expect x[] = {{SYS_getppid, 0, 0, ERRNO_MARK}, {-1, 0, 0, 0}};
        ck_assert_exit0(run_filtered(&s, check_calls, x));
}
END_TEST

START_TEST(architectures)
{
        char *good[] = {"SCMP_ARCH_X86_64",  "SCMP_ARCH_X86", "SCMP_ARCH_X32",
                        "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", NULL};
        char *bad[] = {"SCMP_ARCH_X86_64", "SCMP_ARCH_FOO", NULL};
        struct berth_seccomp_rule r = errno_rule(names_getppid, ERRNO_MARK);
        struct berth_seccomp s = allow_all();
        struct berth_err err = {0};
        s.rules = &r;
        s.n_rules = 1;
        s.architectures = good;
        s.n_architectures = 5;
        struct berth_seccomp_filter *f = berth_seccomp_compile(&s, &err);
        ck_assert_msg(f != NULL, "%s", err.msg);
        berth_seccomp_filter_free(f);
        struct sc_expect x[] = {{SYS_getppid, 0, 0, ERRNO_MARK}, {-1, 0, 0, 0}};
        ck_assert_exit0(run_filtered(&s, check_calls, x));

        s.architectures = bad;
        s.n_architectures = 2;
        ck_assert_ptr_null(berth_seccomp_compile(&s, &err));
        ck_assert_int_eq(err.code, EINVAL);
        ck_assert_msg(strstr(err.msg, "\"SCMP_ARCH_FOO\""), "%s", err.msg);
}
END_TEST

START_TEST(rule_equal_to_default_skipped)
{
        /* ERRNO without errnoRet is ERRNO(EPERM), the same as the default. */
        struct berth_seccomp_rule r[] = {rule(names_getppid, BERTH_SCMP_ACT_ERRNO),
                                         errno_rule(names_getppid, EPERM)};
        char *allowed[] = {"exit_group", NULL};
        struct berth_seccomp_rule r2 = rule(allowed, BERTH_SCMP_ACT_ALLOW);
        struct berth_seccomp_rule all[] = {r[0], r[1], r2};
        struct berth_seccomp s = {.default_action = BERTH_SCMP_ACT_ERRNO, .rules = all, .n_rules = 3};
        struct berth_err err = {0};
        struct berth_seccomp_filter *f = berth_seccomp_compile(&s, &err);
        ck_assert_msg(f != NULL, "%s", err.msg);
        berth_seccomp_filter_free(f);
}
END_TEST

START_TEST(errno_ret_checks)
{
        struct berth_seccomp_rule r = rule(names_getppid, BERTH_SCMP_ACT_ALLOW);
        struct berth_seccomp s = {.default_action = BERTH_SCMP_ACT_ERRNO, .rules = &r, .n_rules = 1};
        struct berth_err err = {0};
        r.has_errno_ret = true;
        ck_assert_ptr_null(berth_seccomp_compile(&s, &err));
        ck_assert_msg(strstr(err.msg, "errnoRet"), "%s", err.msg);
        r = errno_rule(names_getppid, 70000);
        ck_assert_ptr_null(berth_seccomp_compile(&s, &err));
        ck_assert_msg(strstr(err.msg, "70000"), "%s", err.msg);
}
END_TEST

START_TEST(flags_and_features)
{
        unsigned all[] = {BERTH_SCMP_FLAG_LOG, BERTH_SCMP_FLAG_SPEC_ALLOW,
                          BERTH_SCMP_FLAG_WAIT_KILLABLE_RECV};
        for (size_t i = 0; i < 3; i++) {
                ck_assert_ptr_nonnull(berth_seccomp_flag_name(all[i]));
                /* Kernel 6.0+ has all three; this host runs 6.18. */
                ck_assert_msg(berth_seccomp_flag_supported(all[i]), "%s", berth_seccomp_flag_name(all[i]));
        }
        ck_assert(!berth_seccomp_flag_supported(1u << 20));
        ck_assert_str_eq(berth_seccomp_flag_name(BERTH_SCMP_FLAG_LOG), "SECCOMP_FILTER_FLAG_LOG");
        for (int a = BERTH_SCMP_ACT_KILL; a <= BERTH_SCMP_ACT_NOTIFY; a++)
                ck_assert_msg(berth_seccomp_action_supported((enum berth_seccomp_action)a), "action %d", a);
        ck_assert(berth_seccomp_arch_supported("SCMP_ARCH_X86_64"));
        ck_assert(berth_seccomp_arch_supported("SCMP_ARCH_AARCH64"));
        ck_assert(!berth_seccomp_arch_supported("SCMP_ARCH_FOO"));
        ck_assert(!berth_seccomp_arch_supported("x86_64"));

        size_t n = 0;
        for (const char *const *p = berth_seccomp_known_actions(); *p; p++)
                n++;
        ck_assert_uint_eq(n, 9);
        ck_assert_str_eq(berth_seccomp_known_operators()[6], "SCMP_CMP_MASKED_EQ");
        ck_assert_str_eq(berth_seccomp_known_flags()[2], "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV");
        for (const char *const *p = berth_seccomp_known_archs(); *p; p++)
                ck_assert_msg(strncmp(*p, "SCMP_ARCH_", 10) == 0, "%s", *p);

        /* A filter with LOG and SPEC_ALLOW loads and works. */
        struct berth_seccomp_rule r = errno_rule(names_getppid, ERRNO_MARK);
        struct berth_seccomp s = allow_all();
        s.rules = &r;
        s.n_rules = 1;
        s.flags = BERTH_SCMP_FLAG_LOG | BERTH_SCMP_FLAG_SPEC_ALLOW;
        struct sc_expect x[] = {{SYS_getppid, 0, 0, ERRNO_MARK}, {-1, 0, 0, 0}};
        ck_assert_exit0(run_filtered(&s, check_calls, x));
        /* WAIT_KILLABLE_RECV without a listener is accepted (and unused). */
        s.flags = BERTH_SCMP_FLAG_WAIT_KILLABLE_RECV;
        ck_assert_exit0(run_filtered(&s, check_calls, x));
}
END_TEST

/* ---- notify ------------------------------------------------------------- */

static int recv_fd_and_text(int sock, char *buf, size_t len)
{
        union {
                struct cmsghdr h;
                char c[CMSG_SPACE(sizeof(int))];
        } ctrl;
        struct iovec iov = {.iov_base = buf, .iov_len = len - 1};
        struct msghdr mh = {
            .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl.c, .msg_controllen = sizeof(ctrl.c)};
        ssize_t n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
        ck_assert_int_gt(n, 0);
        size_t got = (size_t)n;
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        ck_assert_ptr_nonnull(c);
        ck_assert_int_eq(c->cmsg_type, SCM_RIGHTS);
        int fd;
        memcpy(&fd, CMSG_DATA(c), sizeof(int));
        /* The rest of a long state comes as plain stream data. */
        while (got < len - 1 && (n = read(sock, buf + got, len - 1 - got)) > 0)
                got += (size_t)n;
        buf[got] = '\0';
        return fd;
}

static void notify_child(const char *sock_path)
{
        struct berth_seccomp_rule r = rule(names_getppid, BERTH_SCMP_ACT_NOTIFY);
        struct berth_seccomp s = allow_all();
        struct berth_err err = {0};
        int nfd = -EBADF;
        s.rules = &r;
        s.n_rules = 1;
        s.flags = BERTH_SCMP_FLAG_WAIT_KILLABLE_RECV;
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || berth_seccomp_load(&s, &nfd, &err) < 0 || nfd < 0)
                _exit(100);
        if (berth_seccomp_send_listener(sock_path, "meta-x", nfd,
                                        "{\"ociVersion\":\"1.2.0\",\"id\":\"c1\",\"status\":\"creating\"}",
                                        getpid(), &err) < 0) {
                fprintf(stderr, "send: %s\n", err.msg);
                _exit(101);
        }
        close(nfd);
        _exit(syscall(SYS_getppid) == 4242 ? 0 : 102);
}

START_TEST(notify_listener)
{
        char path[] = "/tmp/berth-test-seccomp-XXXXXX";
        ck_assert_ptr_nonnull(mkdtemp(path));
        char sock_path[PATH_MAX];
        snprintf(sock_path, sizeof(sock_path), "%s/l.sock", path);
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        strcpy(sa.sun_path, sock_path);
        int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ck_assert_int_ge(ls, 0);
        ck_assert_int_eq(bind(ls, (struct sockaddr *)&sa, sizeof(sa)), 0);
        ck_assert_int_eq(listen(ls, 1), 0);

        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0)
                notify_child(sock_path);
        int conn = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
        ck_assert_int_ge(conn, 0);
        char text[8192] = "";
        int nfd = recv_fd_and_text(conn, text, sizeof(text));
        close(conn);
        close(ls);
        unlink(sock_path);
        rmdir(path);

        json_error_t jerr;
        json_t *j = json_loads(text, 0, &jerr);
        ck_assert_msg(j != NULL, "bad JSON: %s", text);
        ck_assert_str_eq(json_string_value(json_array_get(json_object_get(j, "fds"), 0)), "seccompFd");
        ck_assert_str_eq(json_string_value(json_object_get(j, "metadata")), "meta-x");
        ck_assert_int_eq(json_integer_value(json_object_get(j, "pid")), pid);
        ck_assert_ptr_nonnull(json_string_value(json_object_get(j, "ociVersion")));
        ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "state"), "id")), "c1");
        json_decref(j);

        struct seccomp_notif *req;
        struct seccomp_notif_resp *resp;
        ck_assert_int_ge(seccomp_api_get(), 5); /* also primes libseccomp's notify support check */
        ck_assert_int_eq(seccomp_notify_alloc(&req, &resp), 0);
        ck_assert_int_eq(seccomp_notify_receive(nfd, req), 0);
        ck_assert_int_eq(req->data.nr, SYS_getppid);
        ck_assert_int_eq(req->pid, pid);
        resp->id = req->id;
        resp->val = 4242;
        resp->error = 0;
        resp->flags = 0;
        ck_assert_int_eq(seccomp_notify_respond(nfd, resp), 0);
        seccomp_notify_free(req, resp);
        close(nfd);

        int st;
        ck_assert_int_eq(waitpid(pid, &st, 0), pid);
        ck_assert_exit0(st);
}
END_TEST

START_TEST(notify_fd_only_with_notify_rules)
{
        struct berth_seccomp s = allow_all();
        struct berth_seccomp_rule r = rule(names_getppid, BERTH_SCMP_ACT_NOTIFY);
        ck_assert(!berth_seccomp_has_notify(&s));
        s.rules = &r;
        s.n_rules = 1;
        ck_assert(berth_seccomp_has_notify(&s));
        struct berth_err err = {0};
        struct berth_seccomp_filter *f = berth_seccomp_compile(&s, &err);
        ck_assert_ptr_nonnull(f);
        ck_assert(berth_seccomp_filter_has_notify(f));
        berth_seccomp_filter_free(f);
        r.action = BERTH_SCMP_ACT_ERRNO;
        f = berth_seccomp_compile(&s, &err);
        ck_assert_ptr_nonnull(f);
        ck_assert(!berth_seccomp_filter_has_notify(f));
        berth_seccomp_filter_free(f);
}
END_TEST

/* ---- the default profile ------------------------------------------------ */

/* A small JSON -> struct berth_seccomp reader for the tests, so that the
 * default profile is checked independently of the spec parser. */
static int action_from(const char *s)
{
        static const char *const n[] = {"SCMP_ACT_KILL",  "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
                                        "SCMP_ACT_TRAP",  "SCMP_ACT_ERRNO",        "SCMP_ACT_TRACE",
                                        "SCMP_ACT_ALLOW", "SCMP_ACT_LOG",          "SCMP_ACT_NOTIFY"};
        for (int i = 0; i < 9; i++)
                if (strcmp(s, n[i]) == 0)
                        return i;
        ck_abort_msg("unknown action %s", s);
        return -1;
}

static int op_from(const char *s)
{
        static const char *const n[] = {"SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",       "SCMP_CMP_EQ",
                                        "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"};
        for (int i = 0; i < 7; i++)
                if (strcmp(s, n[i]) == 0)
                        return i;
        ck_abort_msg("unknown op %s", s);
        return -1;
}

static char **strv_from(json_t *a, size_t *n)
{
        *n = json_array_size(a);
        char **v = calloc(*n + 1, sizeof(char *));
        for (size_t i = 0; i < *n; i++)
                v[i] = (char *)json_string_value(json_array_get(a, i));
        return v;
}

static void rule_from(json_t *o, struct berth_seccomp_rule *r)
{
        r->names = strv_from(json_object_get(o, "names"), &r->n_names);
        r->action = action_from(json_string_value(json_object_get(o, "action")));
        r->has_errno_ret = json_object_get(o, "errnoRet") != NULL;
        r->errno_ret = (unsigned)json_integer_value(json_object_get(o, "errnoRet"));
        json_t *args = json_object_get(o, "args");
        r->n_args = json_array_size(args);
        r->args = calloc(r->n_args + 1, sizeof(*r->args));
        for (size_t k = 0; k < r->n_args; k++) {
                json_t *a = json_array_get(args, k);
                r->args[k].index = (unsigned)json_integer_value(json_object_get(a, "index"));
                r->args[k].value = (uint64_t)json_integer_value(json_object_get(a, "value"));
                r->args[k].value_two = (uint64_t)json_integer_value(json_object_get(a, "valueTwo"));
                r->args[k].op = op_from(json_string_value(json_object_get(a, "op")));
        }
}

static struct berth_seccomp default_profile(json_t *j)
{
        struct berth_seccomp s = {0};
        s.default_action = action_from(json_string_value(json_object_get(j, "defaultAction")));
        s.has_default_errno_ret = json_object_get(j, "defaultErrnoRet") != NULL;
        s.default_errno_ret = (unsigned)json_integer_value(json_object_get(j, "defaultErrnoRet"));
        s.architectures = strv_from(json_object_get(j, "architectures"), &s.n_architectures);
        json_t *sc = json_object_get(j, "syscalls");
        s.n_rules = json_array_size(sc);
        s.rules = calloc(s.n_rules, sizeof(*s.rules));
        for (size_t i = 0; i < s.n_rules; i++)
                rule_from(json_array_get(sc, i), &s.rules[i]);
        return s;
}

static void free_profile(struct berth_seccomp *s)
{
        for (size_t i = 0; i < s->n_rules; i++) {
                free(s->rules[i].names);
                free(s->rules[i].args);
        }
        free(s->rules);
        free(s->architectures);
}

START_TEST(default_profile_shape)
{
        json_t *j = default_seccomp_json();
        ck_assert_ptr_nonnull(j);
        ck_assert_str_eq(json_string_value(json_object_get(j, "defaultAction")), "SCMP_ACT_ERRNO");
        ck_assert_int_eq(json_integer_value(json_object_get(j, "defaultErrnoRet")), ENOSYS);
        json_t *sc = json_object_get(j, "syscalls");
        /* The two name lists are sorted, without duplicates, and disjoint. */
        for (int k = 0; k < 2; k++) {
                json_t *names = json_object_get(json_array_get(sc, k), "names");
                ck_assert_uint_gt(json_array_size(names), 40);
                for (size_t i = 1; i < json_array_size(names); i++)
                        ck_assert_msg(strcmp(json_string_value(json_array_get(names, i - 1)),
                                             json_string_value(json_array_get(names, i))) < 0,
                                      "list %d not sorted at %s", k,
                                      json_string_value(json_array_get(names, i)));
        }
        json_t *allow = json_object_get(json_array_get(sc, 0), "names");
        json_t *deny = json_object_get(json_array_get(sc, 1), "names");
        for (size_t i = 0; i < json_array_size(allow); i++)
                for (size_t k = 0; k < json_array_size(deny); k++)
                        ck_assert_str_ne(json_string_value(json_array_get(allow, i)),
                                         json_string_value(json_array_get(deny, k)));
        json_decref(j);
}
END_TEST

static int default_profile_child(void *arg)
{
        struct sc_expect x[] = {
            {SYS_keyctl, 0, 0, EPERM},
            {SYS_add_key, 0, 0, EPERM},
            {SYS_unshare, CLONE_NEWUSER, 0, EPERM},
            {SYS_unshare, CLONE_NEWNS, 0, EPERM},
            {SYS_setns, 0, 0, EPERM},
            {SYS_mount, 0, 0, EPERM},
            {SYS_bpf, 0, 0, EPERM},
            {SYS_io_uring_setup, 0, 0, EPERM},
            {SYS_open_by_handle_at, 0, 0, EPERM},
            {SYS_clone3, 0, 0, ENOSYS},              /* glibc falls back to clone */
            {SYS_personality, 0x0400000, 0, ENOSYS}, /* READ_IMPLIES_EXEC */
            {SYS_personality, 0xffffffff, 0, 0},
            {SYS_getppid, 0, 0, 0},
            {-1, 0, 0, 0},
        };
        int r = check_calls(x);
        if (r)
                return r;
        /* clone with a namespace flag: EPERM; the child of a broken filter
         * exits at once. */
        long c = syscall(SYS_clone, CLONE_NEWUTS | SIGCHLD, 0, 0, 0, 0);
        if (c == 0)
                _exit(0);
        if (c > 0) {
                waitpid((pid_t)c, NULL, 0);
                return 50;
        }
        if (errno != EPERM)
                return 51;
        /* Plain fork (clone without namespace flags) works. */
        pid_t p = fork();
        if (p == 0)
                _exit(7);
        int st;
        if (p < 0 || waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st) != 7)
                return 52;
        return 0;
}

START_TEST(default_profile_blocks)
{
        json_t *j = default_seccomp_json();
        struct berth_seccomp s = default_profile(j);
        ck_assert_exit0(run_filtered(&s, default_profile_child, NULL));
        free_profile(&s);
        json_decref(j);
}
END_TEST

/* The same profile as `berth spec` writes it and the spec parser reads it. */
START_TEST(default_profile_through_spec_parser)
{
        struct berth_err err = {0};
        char *text = berth_spec_default_json(false, &err);
        ck_assert_msg(text != NULL, "%s", err.msg);
        struct berth_spec *spec = berth_spec_parse(text, strlen(text), &err);
        ck_assert_msg(spec != NULL, "%s", err.msg);
        ck_assert(spec->has_seccomp);
        ck_assert_exit0(run_filtered(&spec->seccomp, default_profile_child, NULL));
        berth_spec_free(spec);
        free(text);
}
END_TEST

START_TEST(process_exec_refuses_unloaded_notify)
{
        struct berth_seccomp_rule r = rule(names_getppid, BERTH_SCMP_ACT_NOTIFY);
        struct berth_seccomp s = allow_all();
        s.rules = &r;
        s.n_rules = 1;
        char *args[] = {"true", NULL};
        struct berth_process p = {.args = args, .n_args = 1};
        struct berth_exec_ctx ctx = {.process = &p, .seccomp = &s, .exe = "/bin/true"};
        struct berth_err err = {0};
        /* Fails before changing anything, so it is safe in the test process. */
        ck_assert_int_eq(berth_process_exec(&ctx, &err), -EINVAL);
        ck_assert_msg(strstr(err.msg, "SCMP_ACT_NOTIFY"), "%s", err.msg);
}
END_TEST

/* Checked setup: the expectations assume no filter of someone else's. */
static void no_outer_filter(void)
{
        SKIP_IF(prctl(PR_GET_SECCOMP, 0, 0, 0, 0) != 0, "already running under a seccomp filter");
}

Suite *test_suite(void)
{
        Suite *s = suite_create("seccomp");
        TCase *tc = tcase_create("filter");
        tcase_add_checked_fixture(tc, no_outer_filter, NULL);
        tcase_set_timeout(tc, 30);
        tcase_add_test(tc, action_errno);
        tcase_add_test(tc, default_errno_and_allow);
        tcase_add_test(tc, action_kill);
        tcase_add_test(tc, action_trap);
        tcase_add_test(tc, action_log_and_trace);
        tcase_add_test(tc, args_masked_eq);
        tcase_add_test(tc, args_same_index_is_or);
        tcase_add_test(tc, args_distinct_indexes_are_and);
        tcase_add_loop_test(tc, args_operators, 0, (int)(sizeof(op_cases) / sizeof(op_cases[0])));
        tcase_add_test(tc, args_bad_index);
        tcase_add_test(tc, unknown_syscall_skipped);
        tcase_add_test(tc, architectures);
        tcase_add_test(tc, rule_equal_to_default_skipped);
        tcase_add_test(tc, errno_ret_checks);
        tcase_add_test(tc, flags_and_features);
        tcase_add_test(tc, notify_listener);
        tcase_add_test(tc, notify_fd_only_with_notify_rules);
        tcase_add_test(tc, default_profile_shape);
        tcase_add_test(tc, default_profile_blocks);
        tcase_add_test(tc, default_profile_through_spec_parser);
        tcase_add_test(tc, process_exec_refuses_unloaded_notify);
        suite_add_tcase(s, tc);

        return s;
}
