/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Component tests of berth_process_exec (root): process_exec.c, caps.c,
 * rlimits.c, user.c. Each case runs berth_process_exec in a forked child
 * that execs /bin/cat on a /proc file; the parent reads what the kernel
 * says about the resulting process. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_main.h"
#include "berth/process.h"

#define BIT(c) (1ULL << (c))

/* ---- exec in a child ---------------------------------------------------- */

/* Checked setup: berth_process_exec sets ids, groups and capabilities. */
static void need_root(void)
{
        SKIP_IF(geteuid() != 0, "needs root (setuid, setgroups, capabilities)");
}

struct run_result {
        char out[16384];
        int status;
};

typedef void (*pre_fn)(void);

/* Forks; the child sends stdout (and any berth error, prefixed "ERR: ")
 * into a pipe and runs berth_process_exec. */
static void run_exec(const struct berth_process *p, pre_fn pre, struct run_result *res)
{
        int fds[2];
        ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                struct berth_err err = {0};
                char exe[PATH_MAX];
                dup2(fds[1], STDOUT_FILENO);
                if (pre)
                        pre();
                if (berth_exe_lookup(p->args[0], p->env, exe, sizeof(exe), &err) == 0) {
                        struct berth_exec_ctx ctx = {.process = p, .exe = exe};
                        berth_process_exec(&ctx, &err);
                }
                dprintf(STDOUT_FILENO, "ERR: %s\n", err.msg);
                _exit(99);
        }
        close(fds[1]);
        size_t n = 0;
        ssize_t r;
        while (n < sizeof(res->out) - 1 && (r = read(fds[0], res->out + n, sizeof(res->out) - 1 - n)) > 0)
                n += (size_t)r;
        res->out[n] = '\0';
        close(fds[0]);
        ck_assert_int_eq(waitpid(pid, &res->status, 0), pid);
}

/* The value after "key:" in /proc/<pid>/status text, whitespace-trimmed. */
static const char *status_field(const char *text, const char *key, char *buf, size_t len)
{
        size_t klen = strlen(key);
        for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                if (strncmp(l, key, klen) == 0 && l[klen] == ':') {
                        const char *v = l + klen + 1;
                        while (*v == ' ' || *v == '\t')
                                v++;
                        size_t vl = strcspn(v, "\n");
                        while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
                                vl--;
                        snprintf(buf, len, "%.*s", (int)vl, v);
                        return buf;
                }
        }
        ck_abort_msg("no %s in output:\n%s", key, text);
        return NULL;
}

static unsigned long long status_hex(const char *text, const char *key)
{
        char buf[64];
        return strtoull(status_field(text, key, buf, sizeof(buf)), NULL, 16);
}

static char *cat_status[] = {"cat", "/proc/self/status", NULL};
static char *cat_limits[] = {"cat", "/proc/self/limits", NULL};
static char *cat_oom[] = {"cat", "/proc/self/oom_score_adj", NULL};
static char *test_env[] = {"PATH=/usr/bin:/bin", NULL};

static struct berth_process base_process(char **args)
{
        struct berth_process p = {0};
        p.args = args;
        p.n_args = 2;
        p.env = test_env;
        p.n_env = 1;
        p.cwd = "/";
        return p;
}

START_TEST(exec_user_caps_nnp)
{
        gid_t gids[] = {1001, 1002};
        struct berth_process p = base_process(cat_status);
        struct run_result res;
        char buf[256];

        p.user = (struct berth_user){.uid = 1000,
                                     .gid = 1000,
                                     .has_umask = true,
                                     .umask = 027,
                                     .additional_gids = gids,
                                     .n_additional_gids = 2};
        uint64_t set = BIT(CAP_CHOWN) | BIT(CAP_KILL) | BIT(CAP_NET_BIND_SERVICE);
        p.caps = (struct berth_caps){.present = true,
                                     .bounding = set,
                                     .permitted = set,
                                     .effective = set,
                                     .inheritable = BIT(CAP_KILL) | BIT(CAP_NET_BIND_SERVICE),
                                     .ambient = BIT(CAP_NET_BIND_SERVICE)};
        p.no_new_privileges = true;
        run_exec(&p, NULL, &res);
        ck_assert_msg(WIFEXITED(res.status) && WEXITSTATUS(res.status) == 0, "status %x: %s", res.status,
                      res.out);

        ck_assert_uint_eq(status_hex(res.out, "CapBnd"), set);
        ck_assert_uint_eq(status_hex(res.out, "CapInh"), BIT(CAP_KILL) | BIT(CAP_NET_BIND_SERVICE));
        /* execve of a plain binary by a non-root uid: permitted and
         * effective become the ambient set. */
        ck_assert_uint_eq(status_hex(res.out, "CapAmb"), BIT(CAP_NET_BIND_SERVICE));
        ck_assert_uint_eq(status_hex(res.out, "CapPrm"), BIT(CAP_NET_BIND_SERVICE));
        ck_assert_uint_eq(status_hex(res.out, "CapEff"), BIT(CAP_NET_BIND_SERVICE));
        ck_assert_str_eq(status_field(res.out, "Uid", buf, sizeof(buf)), "1000\t1000\t1000\t1000");
        ck_assert_str_eq(status_field(res.out, "Gid", buf, sizeof(buf)), "1000\t1000\t1000\t1000");
        ck_assert_str_eq(status_field(res.out, "Groups", buf, sizeof(buf)), "1001 1002");
        ck_assert_str_eq(status_field(res.out, "Umask", buf, sizeof(buf)), "0027");
        ck_assert_str_eq(status_field(res.out, "NoNewPrivs", buf, sizeof(buf)), "1");
}
END_TEST

START_TEST(exec_root_no_groups_no_nnp)
{
        struct berth_process p = base_process(cat_status);
        struct run_result res;
        char buf[256];

        /* Root keeps root; the supplementary groups are cleared; a bounding
         * set of CAP_KILL alone is all root gets after execve. */
        p.caps = (struct berth_caps){.present = true,
                                     .bounding = BIT(CAP_KILL),
                                     .permitted = BIT(CAP_KILL),
                                     .effective = BIT(CAP_KILL)};
        run_exec(&p, NULL, &res);
        ck_assert_msg(WIFEXITED(res.status) && WEXITSTATUS(res.status) == 0, "status %x: %s", res.status,
                      res.out);
        ck_assert_uint_eq(status_hex(res.out, "CapBnd"), BIT(CAP_KILL));
        ck_assert_uint_eq(status_hex(res.out, "CapEff"), BIT(CAP_KILL));
        ck_assert_uint_eq(status_hex(res.out, "CapInh"), 0);
        ck_assert_str_eq(status_field(res.out, "Uid", buf, sizeof(buf)), "0\t0\t0\t0");
        ck_assert_str_eq(status_field(res.out, "Groups", buf, sizeof(buf)), "");
        ck_assert_str_eq(status_field(res.out, "NoNewPrivs", buf, sizeof(buf)), "0");
}
END_TEST

START_TEST(exec_rlimit_lower)
{
        struct berth_process p = base_process(cat_limits);
        struct berth_rlimit rl = {.resource = RLIMIT_NOFILE, .soft = 100, .hard = 200};
        struct run_result res;

        p.rlimits = &rl;
        p.n_rlimits = 1;
        run_exec(&p, NULL, &res);
        ck_assert_msg(WIFEXITED(res.status) && WEXITSTATUS(res.status) == 0, "status %x: %s", res.status,
                      res.out);
        const char *l = strstr(res.out, "Max open files");
        ck_assert_ptr_nonnull(l);
        unsigned long soft = 0, hard = 0;
        ck_assert_int_eq(sscanf(l + strlen("Max open files"), "%lu %lu", &soft, &hard), 2);
        ck_assert_uint_eq(soft, 100);
        ck_assert_uint_eq(hard, 200);
}
END_TEST

/* This host lacks CAP_SYS_RESOURCE; drop it anyway so the test means the
 * same thing everywhere. */
static void drop_sys_resource(void)
{
        cap_t c = cap_get_proc();
        cap_value_t v = CAP_SYS_RESOURCE;
        if (!c || cap_set_flag(c, CAP_EFFECTIVE, 1, &v, CAP_CLEAR) < 0 || cap_set_proc(c) < 0)
                _exit(98);
        cap_free(c);
}

START_TEST(exec_rlimit_raise_fails)
{
        struct berth_process p = base_process(cat_limits);
        struct rlimit cur;
        struct run_result res;

        ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &cur), 0);
        SKIP_IF(cur.rlim_max == RLIM_INFINITY, "hard RLIMIT_NOFILE is unlimited: nothing to raise it to");
        struct berth_rlimit rl = {.resource = RLIMIT_NOFILE, .soft = cur.rlim_cur, .hard = cur.rlim_max + 1};
        p.rlimits = &rl;
        p.n_rlimits = 1;
        run_exec(&p, drop_sys_resource, &res);
        ck_assert_msg(WIFEXITED(res.status) && WEXITSTATUS(res.status) == 99, "status %x: %s", res.status,
                      res.out);
        ck_assert_msg(strstr(res.out, "ERR: setrlimit RLIMIT_NOFILE") != NULL, "%s", res.out);
        ck_assert_msg(strstr(res.out, "Operation not permitted") != NULL, "%s", res.out);
}
END_TEST

START_TEST(exec_oom_score_adj)
{
        struct berth_process p = base_process(cat_oom);
        struct run_result res;

        p.has_oom_score_adj = true;
        p.oom_score_adj = 567;
        run_exec(&p, NULL, &res);
        ck_assert_msg(WIFEXITED(res.status) && WEXITSTATUS(res.status) == 0, "status %x: %s", res.status,
                      res.out);
        ck_assert_str_eq(res.out, "567\n");
}
END_TEST

/* The final execve is the exec trampoline's: its failure comes back on
 * the report fd in berth's wording, and it exits 127 like a shell. */
START_TEST(exec_failure_reported)
{
        struct berth_process p = base_process(cat_status);
        int fds[2];
        ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
        pid_t pid = fork();

        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                struct berth_err err = {0};
                struct berth_exec_ctx ctx = {.process = &p,
                                             .exe = "/nonexistent/cat",
                                             .report = BERTH_EXEC_REPORT_TEXT,
                                             .report_fd = fds[1]};
                berth_process_exec(&ctx, &err);
                dprintf(fds[1], "returned: %s", err.msg);
                _exit(99);
        }
        close(fds[1]);
        char msg[256];
        ssize_t n = read(fds[0], msg, sizeof(msg) - 1);
        msg[n > 0 ? n : 0] = '\0';
        close(fds[0]);
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert_str_eq(msg, "exec /nonexistent/cat: No such file or directory");
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 127);
}
END_TEST

Suite *test_suite(void)
{
        Suite *s = suite_create("process_exec");
        TCase *ex = tcase_create("exec");
        tcase_add_checked_fixture(ex, need_root, NULL);
        tcase_add_test(ex, exec_user_caps_nnp);
        tcase_add_test(ex, exec_root_no_groups_no_nnp);
        tcase_add_test(ex, exec_rlimit_lower);
        tcase_add_test(ex, exec_rlimit_raise_fails);
        tcase_add_test(ex, exec_oom_score_adj);
        tcase_add_test(ex, exec_failure_reported);
        suite_add_tcase(s, ex);
        return s;
}
