/* SPDX-License-Identifier: GPL-2.0-or-later */
/* OCI hooks: every kind runs, in the order of the spec, with the state on
 * stdin; a failing createRuntime hook fails create and leaves nothing. */
#include "harness.h"

#include <stdio.h>
#include <string.h>

/* A hook appending its name to log (a path valid where the hook runs). */
static json_t *hook_logging(const char *name, const char *log)
{
        char cmd[PATH_MAX + 64];
        snprintf(cmd, sizeof(cmd), "echo %s >> %s", name, log);
        return json_pack("{s:s,s:[s,s,s]}", "path", "/bin/sh", "args", "sh", "-c", cmd);
}

START_TEST(all_hooks_in_order)
{
        struct itest_bundle b;
        struct itest_result r;
        const char *dir = itest_mkdtemp("hooks");
        char log[PATH_MAX], state_file[PATH_MAX], save[PATH_MAX + 16];
        static const char *const host_hooks[] = {"prestart", "createRuntime", "createContainer", "poststart",
                                                 "poststop"};
        json_t *cfg = itest_spec("probe", "exit", "0", NULL);

        snprintf(log, sizeof(log), "%s/log", dir);
        snprintf(state_file, sizeof(state_file), "%s/state.json", dir);
        for (size_t i = 0; i < sizeof(host_hooks) / sizeof(host_hooks[0]); i++) {
                char path[64];
                snprintf(path, sizeof(path), "hooks.%s", host_hooks[i]);
                itest_push(cfg, path, hook_logging(host_hooks[i], log));
        }
        /* startContainer runs inside the container: its path and log too. */
        itest_push(cfg, "hooks.startContainer", hook_logging("startContainer", "/mnt/hooks/log"));
        itest_push(cfg, "mounts",
                   json_pack("{s:s,s:s,s:s,s:[s,s]}", "destination", "/mnt/hooks", "type", "bind", "source",
                             dir, "options", "rbind", "rw"));
        snprintf(save, sizeof(save), "cat > %s", state_file);
        itest_push(cfg, "hooks.createRuntime",
                   json_pack("{s:s,s:[s,s,s]}", "path", "/bin/sh", "args", "sh", "-c", save));
        itest_bundle_new(&b, "hooks", cfg);

        itest_rt(&r, "create", "--bundle", b.dir, b.id, NULL);
        itest_assert_status(&r, 0);
        itest_rt(&r, "start", b.id, NULL);
        itest_assert_status(&r, 0);
        ck_assert_msg(itest_wait_status(b.id, "stopped", 10000), "container did not stop");
        itest_rt(&r, "delete", b.id, NULL);
        itest_assert_status(&r, 0);
        ck_assert_str_eq(itest_read_file(log),
                         "prestart\ncreateRuntime\ncreateContainer\nstartContainer\npoststart\npoststop\n");

        json_t *st = json_loads(itest_read_file(state_file), 0, NULL);
        ck_assert_msg(st, "hook stdin is not JSON: %s", itest_read_file(state_file));
        ck_assert_str_eq(json_string_value(json_object_get(st, "id")), b.id);
        ck_assert_str_eq(json_string_value(json_object_get(st, "bundle")), b.dir);
        ck_assert_msg(json_integer_value(json_object_get(st, "pid")) > 0, "no pid in hook state");
        ck_assert_msg(json_string_length(json_object_get(st, "status")) > 0, "no status in hook state");
        ck_assert_msg(json_is_string(json_object_get(st, "ociVersion")), "no ociVersion in hook state");
        itest_assert_clean(b.id, b.dir);
}
END_TEST

START_TEST(failing_create_runtime_hook)
{
        struct itest_bundle b;
        struct itest_result r;
        json_t *cfg = itest_spec("probe", "exit", "0", NULL);

        itest_push(cfg, "hooks.createRuntime",
                   json_pack("{s:s,s:[s,s,s]}", "path", "/bin/sh", "args", "sh", "-c", "exit 1"));
        itest_bundle_new(&b, "badhook", cfg);
        itest_rt(&r, "create", "--bundle", b.dir, b.id, NULL);
        ck_assert_msg(r.status != 0, "create succeeded despite a failing createRuntime hook");
        itest_assert_clean(b.id, b.dir);
}
END_TEST

Suite *test_suite(void)
{
        Suite *s = itest_suite("integration/hooks");

        itest_add(s, "all_hooks_in_order", all_hooks_in_order);
        itest_add(s, "failing_create_runtime_hook", failing_create_runtime_hook);
        return s;
}
