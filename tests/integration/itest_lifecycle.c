/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The OCI lifecycle through the runc command line: state, start, kill,
 * delete, list, error reporting, config validation and `spec`. */
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void create_ok(struct itest_bundle *b, const char *name, const json_t *cfg)
{
        struct itest_result r;
        itest_bundle_new(b, name, cfg);
        itest_rt(&r, "create", "--bundle", b->dir, b->id, NULL);
        itest_assert_status(&r, 0);
}

static void start_ok(const char *id)
{
        struct itest_result r;
        itest_rt(&r, "start", id, NULL);
        itest_assert_status(&r, 0);
}

START_TEST(state_through_lifecycle)
{
        struct itest_bundle b;
        struct itest_result r;
        json_t *cfg = itest_spec("probe", "sleep", NULL);
        char proc[64];

        itest_set(cfg, "annotations", json_pack("{s:s}", "org.itest.key", "value-1"));
        create_ok(&b, "state", cfg);
        json_t *st = itest_state(b.id);
        ck_assert_msg(st, "state of a created container failed");
        ck_assert_msg(json_is_string(json_object_get(st, "ociVersion")), "no ociVersion");
        ck_assert_str_eq(json_string_value(json_object_get(st, "id")), b.id);
        ck_assert_str_eq(json_string_value(json_object_get(st, "status")), "created");
        ck_assert_str_eq(json_string_value(json_object_get(st, "bundle")), b.dir);
        ck_assert_str_eq(
            json_string_value(json_object_get(json_object_get(st, "annotations"), "org.itest.key")),
            "value-1");
        int pid = (int)json_integer_value(json_object_get(st, "pid"));
        snprintf(proc, sizeof(proc), "/proc/%d", pid);
        ck_assert_msg(pid > 0 && access(proc, F_OK) == 0, "pid %d of a created container does not exist",
                      pid);

        start_ok(b.id);
        ck_assert_str_eq(itest_state_status(b.id), "running");
        itest_rt(&r, "kill", b.id, "KILL", NULL);
        itest_assert_status(&r, 0);
        ck_assert_msg(itest_wait_status(b.id, "stopped", 10000), "killed container not stopped: %s",
                      itest_state_status(b.id));
        itest_rt(&r, "delete", b.id, NULL);
        itest_assert_status(&r, 0);
        ck_assert_msg(itest_state(b.id) == NULL, "state of a deleted container succeeded");
        itest_assert_clean(b.id, b.dir);
}
END_TEST

START_TEST(duplicate_id)
{
        struct itest_bundle b;
        struct itest_result r;

        create_ok(&b, "dup", itest_spec("probe", "sleep", NULL));
        itest_rt(&r, "create", "--bundle", b.dir, b.id, NULL);
        ck_assert_msg(r.status != 0, "second create with the same id succeeded");
        ck_assert_str_eq(itest_state_status(b.id), "created");
}
END_TEST

START_TEST(start_twice)
{
        struct itest_bundle b;
        struct itest_result r;

        create_ok(&b, "start2", itest_spec("probe", "sleep", NULL));
        start_ok(b.id);
        itest_rt(&r, "start", b.id, NULL);
        ck_assert_msg(r.status != 0, "start of a running container succeeded");
        ck_assert_str_eq(itest_state_status(b.id), "running");
}
END_TEST

START_TEST(kill_stopped)
{
        struct itest_bundle b;
        struct itest_result r;

        create_ok(&b, "killstop", itest_spec("probe", "exit", "0", NULL));
        start_ok(b.id);
        ck_assert(itest_wait_status(b.id, "stopped", 10000));
        itest_rt(&r, "kill", b.id, "KILL", NULL);
        ck_assert_msg(r.status != 0, "kill of a stopped container succeeded");
}
END_TEST

START_TEST(delete_running)
{
        struct itest_bundle b;
        struct itest_result r;

        create_ok(&b, "delrun", itest_spec("probe", "sleep", NULL));
        start_ok(b.id);
        itest_rt(&r, "delete", b.id, NULL);
        ck_assert_msg(r.status != 0, "delete of a running container succeeded without --force");
        ck_assert_str_eq(itest_state_status(b.id), "running");
        itest_rt(&r, "delete", "--force", b.id, NULL);
        itest_assert_status(&r, 0);
        itest_assert_clean(b.id, b.dir);
}
END_TEST

START_TEST(delete_force_unknown)
{
        struct itest_result r;
        itest_rt(&r, "delete", "--force", "no-such-container", NULL);
        itest_assert_status(&r, 0);
}
END_TEST

/* Each signal spelling reaches the process: probe exits with 128+signal. */
START_TEST(kill_signal_names)
{
        static const char *const names[] = {"TERM", "SIGTERM", "15"};
        struct itest_bundle b[3];
        struct itest_proc p[3];
        struct itest_opts o = ITEST_OPTS_DEFAULT;

        for (int i = 0; i < 3; i++) {
                itest_bundle_new(&b[i], "killname", itest_spec("probe", "sleep", NULL));
                const char *argv[] = {"run", "--bundle", b[i].dir, b[i].id, NULL};
                ck_assert_int_eq(itest_rt_spawn(&p[i], &o, argv), 0);
        }
        for (int i = 0; i < 3; i++) {
                struct itest_result r;
                /* pid 1 ignores signals it has no handler for: wait for it. */
                if (!itest_wait_file(p[i].out_path, "ready=1", 10000)) {
                        char *err = itest_read_file(p[i].err_path);
                        ck_abort_msg("probe %d not ready; run's stderr: %s", i, err ? err : "(none)");
                }
                itest_rt(&r, "kill", b[i].id, names[i], NULL);
                itest_assert_status(&r, 0);
                itest_proc_wait(&p[i], &r, 10000);
                ck_assert_msg(r.status == 128 + SIGTERM, "kill %s: run exited %d; stderr: %s", names[i],
                              r.status, r.err);
                itest_assert_clean(b[i].id, b[i].dir);
        }
}
END_TEST

/* Without a pid namespace killing pid 1 would orphan its children; --all
 * signals every process of the container. */
START_TEST(kill_all)
{
        struct itest_bundle b;
        struct itest_proc p;
        struct itest_result r;
        struct itest_opts o = ITEST_OPTS_DEFAULT;
        json_t *cfg = itest_spec("sh", "-c", "probe sleep & probe sleep & wait", NULL);

        itest_ns_remove(cfg, "pid");
        itest_bundle_new(&b, "killall", cfg);
        const char *argv[] = {"create", "--bundle", b.dir, b.id, NULL};
        ck_assert_int_eq(itest_rt_spawn(&p, &o, argv), 0);
        itest_proc_wait(&p, &r, 0);
        itest_assert_status(&r, 0);
        start_ok(b.id);
        /* The container writes to create's stdout file. */
        ck_assert_msg(itest_wait_file(p.out_path, "ready=1\nready=1\n", 10000), "probes not ready");
        ck_assert_int_eq(itest_cgroup_nprocs(b.id), 3);
        itest_rt(&r, "kill", "--all", b.id, "KILL", NULL);
        itest_assert_status(&r, 0);
        ck_assert_msg(itest_wait_status(b.id, "stopped", 10000), "not stopped after kill --all");
        for (int i = 0; i < 100 && itest_cgroup_nprocs(b.id) > 0; i++)
                usleep(20 * 1000);
        ck_assert_int_eq(itest_cgroup_nprocs(b.id), 0);
}
END_TEST

static int count_lines(const char *s)
{
        int n = 0;
        for (; *s; s++)
                n += *s == '\n';
        return n;
}

START_TEST(list_formats)
{
        struct itest_bundle a, b;
        struct itest_result r;
        char id[128], pid[32], status[32], bundle[PATH_MAX], created[64], owner[64];

        create_ok(&a, "lista", itest_spec("probe", "sleep", NULL));
        create_ok(&b, "listb", itest_spec("probe", "sleep", NULL));

        itest_rt(&r, "list", NULL);
        itest_assert_status(&r, 0);
        ck_assert_msg(
            sscanf(r.out, "%127s %31s %31s %4095s %63s %63s", id, pid, status, bundle, created, owner) == 6,
            "list header: %s", r.out);
        ck_assert_msg(!strcmp(id, "ID") && !strcmp(pid, "PID") && !strcmp(status, "STATUS") &&
                          !strcmp(bundle, "BUNDLE") && !strcmp(created, "CREATED") && !strcmp(owner, "OWNER"),
                      "list header: %s", r.out);
        ck_assert_int_eq(count_lines(r.out), 3);
        const char *row = strstr(r.out, a.id);
        ck_assert_msg(row, "%s not listed: %s", a.id, r.out);
        ck_assert_int_eq(
            sscanf(row, "%127s %31s %31s %4095s %63s %63s", id, pid, status, bundle, created, owner), 6);
        ck_assert_str_eq(status, "created");
        ck_assert_str_eq(bundle, a.dir);
        ck_assert_str_eq(owner, "root");
        ck_assert_msg(atoi(pid) > 0, "pid column: %s", pid);

        itest_rt(&r, "list", "--format", "json", NULL);
        itest_assert_status(&r, 0);
        json_t *arr = json_loads(r.out, 0, NULL);
        ck_assert_msg(json_array_size(arr) == 2, "list --format json: %s", r.out);
        for (size_t i = 0; i < 2; i++) {
                json_t *c = json_array_get(arr, i);
                const char *cid = json_string_value(json_object_get(c, "id"));
                ck_assert_msg(cid && (!strcmp(cid, a.id) || !strcmp(cid, b.id)), "%s", r.out);
                ck_assert_str_eq(json_string_value(json_object_get(c, "status")), "created");
                ck_assert_msg(json_integer_value(json_object_get(c, "pid")) > 0, "%s", r.out);
                ck_assert_str_eq(json_string_value(json_object_get(c, "bundle")),
                                 !strcmp(cid, a.id) ? a.dir : b.dir);
                ck_assert_msg(json_is_string(json_object_get(c, "created")), "%s", r.out);
                ck_assert_str_eq(json_string_value(json_object_get(c, "owner")), "root");
        }

        itest_rt(&r, "list", "--quiet", NULL);
        itest_assert_status(&r, 0);
        char want1[300], want2[300];
        snprintf(want1, sizeof(want1), "%s\n%s\n", a.id, b.id);
        snprintf(want2, sizeof(want2), "%s\n%s\n", b.id, a.id);
        ck_assert_msg(!strcmp(r.out, want1) || !strcmp(r.out, want2), "list -q: '%s'", r.out);
}
END_TEST

/* runc's machine-readable errors: exactly one JSON line per failure. */
START_TEST(log_json_error)
{
        struct itest_result r;
        const char *log = itest_path("runtime.log");

        itest_rt(&r, "--log", log, "--log-format", "json", "state", "no-such-container", NULL);
        ck_assert_msg(r.status != 0, "state of an unknown container succeeded");
        char *text = itest_read_file(log);
        ck_assert_msg(count_lines(text) == 1, "log is not one line: '%s'", text);
        json_t *line = json_loads(text, 0, NULL);
        ck_assert_msg(json_is_object(line), "log line is not a JSON object: %s", text);
        ck_assert_str_eq(json_string_value(json_object_get(line, "level")), "error");
        ck_assert_msg(json_string_length(json_object_get(line, "msg")) > 0, "no msg: %s", text);
        ck_assert_msg(json_string_length(json_object_get(line, "time")) > 0, "no time: %s", text);
}
END_TEST

START_TEST(invalid_config)
{
        struct itest_bundle b;
        struct itest_result r;
        json_t *cfg = itest_spec("probe", NULL);

        itest_set(cfg, "process.args", json_string("probe exit 0"));
        itest_bundle_new(&b, "badcfg", cfg);
        itest_rt(&r, "create", "--bundle", b.dir, b.id, NULL);
        ck_assert_msg(r.status != 0, "a config with a string process.args was accepted");
        ck_assert_msg(strstr(r.err, "args"), "error does not name the field: %s", r.err);
        itest_assert_clean(b.id, b.dir);
}
END_TEST

/* A limit the kernel refuses (no CPU 4095 here) fails create with the
 * resource and the file named, and leaves no cgroup, state or process:
 * on a hybrid host the v1 cgroups are made after the init is cloned. */
START_TEST(rejected_limit)
{
        struct itest_bundle b;
        struct itest_result r;
        json_t *cfg = itest_spec("probe", "exit", "0", NULL);

        itest_set(cfg, "linux.resources.cpu", json_pack("{s:s}", "cpus", "4095"));
        itest_bundle_new(&b, "badcpus", cfg);
        itest_rt(&r, "create", "--bundle", b.dir, b.id, NULL);
        ck_assert_msg(r.status != 0, "cpu.cpus 4095 was accepted");
        ck_assert_msg(strstr(r.err, "cpu.cpus") && strstr(r.err, "cpuset.cpus"), "unclear error: %s", r.err);
        ck_assert_msg(count_lines(r.err) == 1, "not one error line: %s", r.err);
        itest_assert_clean(b.id, b.dir);
}
END_TEST

/* `spec` output is a usable config once args and root are adjusted. */
START_TEST(spec_then_run)
{
        struct itest_result r;
        const char *dir = itest_mkdtemp("spec");
        char path[PATH_MAX + 16], cg[128];

        itest_rt(&r, "spec", "--bundle", dir, NULL);
        itest_assert_status(&r, 0);
        snprintf(path, sizeof(path), "%s/config.json", dir);
        json_t *cfg = json_load_file(path, 0, NULL);
        ck_assert_msg(cfg, "spec wrote no valid %s", path);
        itest_set(cfg, "process.args", json_pack("[s,s]", "probe", "pid"));
        itest_set(cfg, "process.terminal", json_false());
        itest_set(cfg, "root.path", json_string(itest()->rootfs));
        snprintf(cg, sizeof(cg), "%s/fromspec", itest()->cgparent);
        itest_set(cfg, "linux.cgroupsPath", json_string(cg));
        ck_assert_int_eq(json_dump_file(cfg, path, 0), 0);
        itest_rt(&r, "run", "--bundle", dir, "fromspec", NULL);
        itest_assert_status(&r, 0);
        itest_assert_kv(r.out, "pid", "1");
        itest_assert_clean("fromspec", dir);
}
END_TEST

Suite *test_suite(void)
{
        Suite *s = itest_suite("integration/lifecycle");

        itest_add(s, "state_through_lifecycle", state_through_lifecycle);
        itest_add(s, "duplicate_id", duplicate_id);
        itest_add(s, "start_twice", start_twice);
        itest_add(s, "kill_stopped", kill_stopped);
        itest_add(s, "delete_running", delete_running);
        itest_add(s, "delete_force_unknown", delete_force_unknown);
        itest_add(s, "kill_signal_names", kill_signal_names);
        itest_add(s, "kill_all", kill_all);
        itest_add(s, "list_formats", list_formats);
        itest_add(s, "log_json_error", log_json_error);
        itest_add(s, "invalid_config", invalid_config);
        itest_add(s, "rejected_limit", rejected_limit);
        itest_add(s, "spec_then_run", spec_then_run);
        return s;
}
