/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Component test of seccomp with berth_process_exec (root: it sets ids and
 * groups): the default profile, as `berth spec` writes it and the spec
 * parser reads it, lets a real program run, loaded both before the
 * privilege drop (no no_new_privs: needs CAP_SYS_ADMIN) and last (with
 * no_new_privs). The filters themselves: tests/unit/test_seccomp.c. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_main.h"
#include "berth/process.h"
#include "berth/spec.h"

static void need_root(void)
{
        SKIP_IF(geteuid() != 0, "needs root (berth_process_exec sets ids and groups)");
        SKIP_IF(prctl(PR_GET_SECCOMP, 0, 0, 0, 0) != 0, "already running under a seccomp filter");
}

/* Runs `sh -c` under the default profile; its exit status. */
static int run_sh(const struct berth_seccomp *sc, bool nnp)
{
        char *args[] = {"sh", "-c", "ls / >/dev/null && grep -q '^Seccomp:.2' /proc/self/status && exit 7",
                        NULL};
        char *env[] = {"PATH=/usr/bin:/bin", NULL};
        struct berth_process p = {
            .args = args, .n_args = 3, .env = env, .n_env = 1, .cwd = "/", .no_new_privileges = nnp};
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                struct berth_err err = {0};
                char exe[PATH_MAX];
                if (berth_exe_lookup("sh", env, exe, sizeof(exe), &err) == 0) {
                        struct berth_exec_ctx ctx = {.process = &p, .seccomp = sc, .exe = exe};
                        berth_process_exec(&ctx, &err);
                }
                fprintf(stderr, "exec: %s\n", err.msg);
                _exit(99);
        }
        int st;
        ck_assert_int_eq(waitpid(pid, &st, 0), pid);
        return st;
}

START_TEST(default_profile_runs_a_program)
{
        struct berth_err err = {0};
        char *text = berth_spec_default_json(false, &err);
        ck_assert_msg(text != NULL, "%s", err.msg);
        struct berth_spec *spec = berth_spec_parse(text, strlen(text), &err);
        ck_assert_msg(spec != NULL, "%s", err.msg);
        ck_assert(spec->has_seccomp);
        int st = run_sh(&spec->seccomp, false);
        ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 7, "load before the drop: status 0x%x", st);
        st = run_sh(&spec->seccomp, true);
        ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 7, "load last (no_new_privs): status 0x%x", st);
        berth_spec_free(spec);
        free(text);
}
END_TEST

Suite *test_suite(void)
{
        Suite *s = suite_create("seccomp_exec");
        TCase *tc = tcase_create("exec");
        tcase_add_checked_fixture(tc, need_root, NULL);
        tcase_set_timeout(tc, 30);
        tcase_add_test(tc, default_profile_runs_a_program);
        suite_add_tcase(s, tc);
        return s;
}
