// SPDX-License-Identifier: GPL-2.0-or-later
/* Hooks as the runtime spec words them: a failing poststart or poststop
 * hook is a warning and the others still run; prestart sees the state
 * "created" (runtime-tools' hooks_stdin). */
#include "harness.h"

#include <stdio.h>
#include <string.h>

static json_t *hook_sh(const char *cmd)
{
        return json_pack("{s:s,s:[s,s,s]}", "path", "/bin/sh", "args", "sh", "-c", cmd);
}

START_TEST(failing_hooks_warn_and_the_rest_run)
{
        struct itest_bundle b;
        struct itest_result r;
        const char *dir = itest_mkdtemp("hookspec");
        char cmd[PATH_MAX + 64], log[PATH_MAX + 8];
        json_t *cfg = itest_spec("probe", "exit", "0", NULL);

        snprintf(log, sizeof(log), "%s/log", dir);
        itest_push(cfg, "hooks.poststart", hook_sh("exit 3"));
        snprintf(cmd, sizeof(cmd), "echo poststart2 >> %s", log);
        itest_push(cfg, "hooks.poststart", hook_sh(cmd));
        itest_push(cfg, "hooks.poststop", hook_sh("exit 4"));
        snprintf(cmd, sizeof(cmd), "echo poststop2 >> %s", log);
        itest_push(cfg, "hooks.poststop", hook_sh(cmd));
        itest_bundle_new(&b, "hookspec", cfg);

        itest_rt(&r, "create", "--bundle", b.dir, b.id, NULL);
        itest_assert_status(&r, 0);
        itest_rt(&r, "start", b.id, NULL);
        itest_assert_status(&r, 0);
        ck_assert_msg(strstr(r.err, "poststart hook #0"), "no warning for the failed poststart hook: %s",
                      r.err);
        ck_assert_msg(itest_wait_status(b.id, "stopped", 10000), "container did not stop");
        itest_rt(&r, "delete", b.id, NULL);
        itest_assert_status(&r, 0);
        ck_assert_msg(strstr(r.err, "poststop hook #0"), "no warning for the failed poststop hook: %s",
                      r.err);
        ck_assert_str_eq(itest_read_file(log), "poststart2\npoststop2\n");
        itest_assert_clean(b.id, b.dir);
}
END_TEST

START_TEST(prestart_state_created)
{
        struct itest_result r;
        const char *dir = itest_mkdtemp("hookstate");
        char cmd[PATH_MAX + 64], file[PATH_MAX + 16];
        json_t *cfg = itest_spec("probe", "exit", "0", NULL);

        snprintf(file, sizeof(file), "%s/prestart.json", dir);
        snprintf(cmd, sizeof(cmd), "cat > %s", file);
        itest_push(cfg, "hooks.prestart", hook_sh(cmd));
        itest_run_cfg(&r, "hookstate", cfg);
        itest_assert_status(&r, 0);
        json_t *st = json_loads(itest_read_file(file), 0, NULL);
        ck_assert_msg(st, "prestart stdin is not JSON: %s", itest_read_file(file));
        ck_assert_str_eq(json_string_value(json_object_get(st, "status")), "created");
}
END_TEST

Suite *test_suite(void)
{
        Suite *s = itest_suite("integration/hooks_spec");
        itest_add(s, "failing_hooks_warn_and_the_rest_run", failing_hooks_warn_and_the_rest_run);
        itest_add(s, "prestart_state_created", prestart_state_created);
        return s;
}
