/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of runtime/trampoline.c and the trampoline program: the memfd
 * is sealed and execute-only, the trampoline runs the program with the
 * given argv and environment, the report fd closes on success and carries
 * berth's message (text or sync message) on failure, and a trampoline run
 * as /proc/self/exe has nothing to execute. No root needed: every exec
 * happens in a forked child. */
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_main.h"
#include "berth/process.h"
#include "runtime/init/sync.h"
#include "runtime/process/trampoline.h"

START_TEST(memfd_sealed_and_exec_only)
{
        struct berth_err err = {0};
        int fd = trampoline_create(&err);
        ck_assert_msg(fd >= 0, "%s", err.msg);
        int seals = fcntl(fd, F_GET_SEALS);
        int want = F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;
        ck_assert_int_eq(seals & want, want);
        struct stat st;
        ck_assert_int_eq(fstat(fd, &st), 0);
        ck_assert_int_eq(st.st_mode & 07777, 0111);
        ck_assert_int_eq((long long)st.st_size, (long long)trampoline_image_size);
        ck_assert_int_eq(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
        /* Nobody can change it any more, not even its creator. */
        ck_assert_int_lt(write(fd, "x", 1), 0);
        ck_assert_int_lt(ftruncate(fd, 0), 0);
        close(fd);
}
END_TEST

struct run {
        int status;
        char out[2048]; /* the program's stdout */
        char report[2048];
        size_t report_len;
};

/* Forks; the child runs the trampoline for exe/args, reporting on a pipe
 * (TEXT) or a seqpacket socket (SYNC). */
static void run_tramp(const char *exe, char *const args[], char *const env[], enum berth_exec_report kind,
                      struct run *res)
{
        int out[2], rep[2];
        ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
        if (kind == BERTH_EXEC_REPORT_SYNC)
                ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, rep), 0);
        else
                ck_assert_int_eq(pipe2(rep, O_CLOEXEC), 0);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                struct berth_err err = {0};
                /* Known fds: stdio, the report fd 3 (close-on-exec, as
                 * berth's are), the memfd 4; nothing else. */
                dup2(out[1], STDOUT_FILENO);
                dup2(rep[1], 3);
                fcntl(3, F_SETFD, FD_CLOEXEC);
                close_range(4, ~0U, 0);
                int fd = trampoline_create(&err);
                char **argv = fd >= 0 ? trampoline_argv(exe, args, &err) : NULL;
                if (argv)
                        trampoline_exec(fd, argv, env, kind, 3, &err);
                printf("berth returned: %s\n", err.msg);
                _exit(99);
        }
        close(out[1]);
        close(rep[1]);
        ssize_t n = read(rep[0], res->report, sizeof(res->report) - 1);
        res->report_len = n > 0 ? (size_t)n : 0;
        res->report[res->report_len] = '\0';
        size_t len = 0;
        while (len < sizeof(res->out) - 1 &&
               (n = read(out[0], res->out + len, sizeof(res->out) - 1 - len)) > 0)
                len += (size_t)n;
        res->out[len] = '\0';
        close(out[0]);
        close(rep[0]);
        ck_assert_int_eq(waitpid(pid, &res->status, 0), pid);
}

START_TEST(runs_program_with_argv_and_env)
{
        char *args[] = {
            "my-argv0",
            "-c",
            "echo \"$(head -c 8 /proc/$$/cmdline)|$0|$1|$FOO|$(cat /proc/$$/comm)\"; ls /proc/$$/fd",
            "zero",
            "one",
            NULL};
        char *env[] = {"FOO=bar", "PATH=/usr/bin:/bin", NULL};
        struct run r;
        run_tramp("/bin/sh", args, env, BERTH_EXEC_REPORT_TEXT, &r);
        ck_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0, "status 0x%x: %s", r.status, r.out);
        /* The report fd reached EOF without a word: the exec succeeded. */
        ck_assert_uint_eq(r.report_len, 0);
        const char *want = "my-argv0|zero|one|bar|sh\n";
        ck_assert_msg(!strncmp(r.out, want, strlen(want)), "%s", r.out);
        /* Only stdio in the program: neither the report fd (3) nor the
         * memfd (4) leaked through the trampoline. */
        ck_assert_msg(!strcmp(r.out + strlen(want), "0\n1\n2\n"), "fds: %s", r.out + strlen(want));
}
END_TEST

/* A file in a fresh temp dir; returns its path (static buffer). */
static const char *temp_file(const char *text, mode_t mode)
{
        static char path[64];
        char dir[] = "/tmp/berth-test-tramp-XXXXXX";
        ck_assert_ptr_nonnull(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/file", dir);
        FILE *f = fopen(path, "we");
        ck_assert_ptr_nonnull(f);
        fputs(text, f);
        fclose(f);
        ck_assert_int_eq(chmod(path, mode), 0);
        return path;
}

static void remove_temp_file(const char *path)
{
        unlink(path);
        char dir[64];
        snprintf(dir, sizeof(dir), "%.*s", (int)(strrchr(path, '/') - path), path);
        rmdir(dir);
}

START_TEST(failure_reported_as_text)
{
        char *args[] = {"nope", NULL};
        char *env[] = {NULL};
        struct run r;
        run_tramp("/nonexistent/prog", args, env, BERTH_EXEC_REPORT_TEXT, &r);
        ck_assert_str_eq(r.report, "exec /nonexistent/prog: No such file or directory");
        ck_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 127);

        const char *path = temp_file("data\n", 0644);
        run_tramp(path, args, env, BERTH_EXEC_REPORT_TEXT, &r);
        remove_temp_file(path);
        char want[128];
        snprintf(want, sizeof(want), "exec %s: Permission denied", path);
        ck_assert_str_eq(r.report, want);
        ck_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 126);
}
END_TEST

START_TEST(failure_reported_as_sync_message)
{
        const char *path = temp_file("no #! line\n", 0755);
        char *args[] = {"notelf", NULL};
        char *env[] = {NULL};
        struct run r;
        run_tramp(path, args, env, BERTH_EXEC_REPORT_SYNC, &r);
        remove_temp_file(path);
        struct sync_msg m;
        ck_assert_uint_ge(r.report_len, offsetof(struct sync_msg, text) + 1);
        memcpy(&m, r.report, r.report_len);
        ck_assert_uint_eq(m.type, SYNC_ERROR);
        ck_assert_int_eq(m.value, ENOEXEC);
        char want[128];
        snprintf(want, sizeof(want), "exec %s: Exec format error", path);
        ck_assert_str_eq(m.text, want);
        ck_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 126);
}
END_TEST

/* What a container gets when it runs /proc/self/exe during its execve. */
START_TEST(self_exec_has_nothing_to_run)
{
        char *args[] = {"/proc/self/exe", "--version", NULL};
        char *env[] = {NULL};
        struct run r;
        run_tramp("/proc/self/exe", args, env, BERTH_EXEC_REPORT_TEXT, &r);
        ck_assert_uint_eq(r.report_len, 0); /* the execve itself worked */
        ck_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 127);
        ck_assert_msg(!strstr(r.out, "berth returned"), "%s", r.out);
}
END_TEST

/* In a forked child: a filter that refuses execveat (and execve too when
 * both), then the trampoline for /bin/true. Returns the child's status;
 * berth's error, if it returned, is in msg. */
static int run_filtered(bool deny_execve, char *msg, size_t len)
{
        int p[2];
        ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                struct berth_err err = {0};
                char *args[] = {"true", NULL};
                char *env[] = {NULL};
                int fd = trampoline_create(&err);
                char **argv = trampoline_argv("/bin/true", args, &err);
                scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
                seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(execveat), 0);
                if (deny_execve)
                        seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(execve), 0);
                if (fd < 0 || !argv || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || seccomp_load(ctx) < 0)
                        _exit(98);
                trampoline_exec(fd, argv, env, BERTH_EXEC_REPORT_STDERR, -1, &err);
                dprintf(p[1], "%s", err.msg);
                _exit(99);
        }
        close(p[1]);
        ssize_t n = read(p[0], msg, len - 1);
        msg[n > 0 ? n : 0] = '\0';
        close(p[0]);
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        return status;
}

/* A seccomp profile without execveat: /proc/self/fd/N through execve. */
START_TEST(execveat_refused_falls_back)
{
        char msg[1024];
        int st = run_filtered(false, msg, sizeof(msg));
        ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status 0x%x: %s", st, msg);
}
END_TEST

/* Neither works: berth fails with a clear error, never execs directly. */
START_TEST(no_exec_at_all_fails_closed)
{
        char msg[1024];
        int st = run_filtered(true, msg, sizeof(msg));
        ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 99, "status 0x%x: %s", st, msg);
        ck_assert_msg(strstr(msg, "exec /bin/true: cannot run berth's exec trampoline"), "%s", msg);
}
END_TEST

Suite *test_suite(void)
{
        Suite *s = suite_create("trampoline");
        TCase *tc = tcase_create("trampoline");
        tcase_add_test(tc, memfd_sealed_and_exec_only);
        tcase_add_test(tc, runs_program_with_argv_and_env);
        tcase_add_test(tc, failure_reported_as_text);
        tcase_add_test(tc, failure_reported_as_sync_message);
        tcase_add_test(tc, self_exec_has_nothing_to_run);
        tcase_add_test(tc, execveat_refused_falls_back);
        tcase_add_test(tc, no_exec_at_all_fails_closed);
        suite_add_tcase(s, tc);
        return s;
}
