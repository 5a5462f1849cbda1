/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What clients of runc parse and rely on, through the command line: kill
 * of stopped and missing containers (containerd's runc shim), signal 0,
 * options after the container id, ps's header, exec's exit code 255,
 * update --memory -1 with a swap limit, checkpoint --parent-path. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void run_detached(struct itest_bundle *b, const char *name, json_t *cfg)
{
        struct itest_result r;
        itest_bundle_new(b, name, cfg);
        itest_rt(&r, "run", "--detach", "--bundle", b->dir, b->id, NULL);
        itest_assert_status(&r, 0);
}

static void delete_force(const struct itest_bundle *b)
{
        struct itest_result r;
        itest_rt(&r, "delete", "--force", b->id, NULL);
        itest_assert_status(&r, 0);
        itest_assert_clean(b->id, b->dir);
}

#define assert_err_has(r, text)                                                                              \
        ck_assert_msg(strstr((r)->err, text), "stderr lacks \"%s\": %s", text, (r)->err)

/* runc: kill of a stopped container fails with "container not running"
 * (which containerd's shim maps to "process already finished"), kill
 * --all of one succeeds (the shim sends it whenever a task exits), and an
 * unknown id "does not exist" either way. */
START_TEST(kill_stopped_and_missing)
{
        struct itest_bundle b;
        struct itest_result r;

        run_detached(&b, "killstop", itest_spec("sh", "-c", "exit 0", NULL));
        ck_assert(itest_wait_status(b.id, "stopped", 10000));
        itest_rt(&r, "kill", b.id, "KILL", NULL);
        itest_assert_status(&r, 1);
        assert_err_has(&r, "container not running");
        itest_rt(&r, "kill", b.id, "0", NULL);
        itest_assert_status(&r, 1);
        itest_rt(&r, "kill", "--all", b.id, "KILL", NULL);
        itest_assert_status(&r, 0);
        itest_rt(&r, "kill", "--all", b.id, NULL);
        itest_assert_status(&r, 0);
        ck_assert_str_eq(itest_state_status(b.id), "stopped");
        itest_rt(&r, "delete", b.id, NULL);
        itest_assert_status(&r, 0);
        itest_assert_clean(b.id, b.dir);
        itest_rt(&r, "kill", b.id, "KILL", NULL);
        itest_assert_status(&r, 1);
        assert_err_has(&r, "does not exist");
        itest_rt(&r, "kill", "--all", b.id, "KILL", NULL);
        itest_assert_status(&r, 1);
        assert_err_has(&r, "does not exist");
}
END_TEST

/* Without a pid namespace the init can exit while its children live on in
 * the cgroup: the container is stopped, and kill --all reaches them. */
START_TEST(kill_all_stopped_leftovers)
{
        struct itest_bundle b;
        struct itest_result r;
        json_t *cfg = itest_spec("sh", "-c", "sleep 60 </dev/null >/dev/null 2>&1 & exit 0", NULL);

        itest_ns_remove(cfg, "pid");
        run_detached(&b, "killleft", cfg);
        ck_assert(itest_wait_status(b.id, "stopped", 10000));
        ck_assert_int_eq(itest_cgroup_nprocs(b.id), 1);
        itest_rt(&r, "kill", "--all", b.id, "KILL", NULL);
        itest_assert_status(&r, 0);
        for (int i = 0; i < 100 && itest_cgroup_nprocs(b.id) > 0; i++)
                usleep(20 * 1000);
        ck_assert_int_eq(itest_cgroup_nprocs(b.id), 0);
        delete_force(&b);
}
END_TEST

/* Signal 0 sends nothing: it tests that the init is alive. */
START_TEST(kill_signal_zero)
{
        struct itest_bundle b;
        struct itest_result r;

        run_detached(&b, "killzero", itest_spec("sleep", "60", NULL));
        itest_rt(&r, "kill", b.id, "0", NULL);
        itest_assert_status(&r, 0);
        itest_rt(&r, "kill", "--all", b.id, "0", NULL);
        itest_assert_status(&r, 0);
        ck_assert_str_eq(itest_state_status(b.id), "running");
        delete_force(&b);
}
END_TEST

/* The value of `file` in the container's cgroup dir of any hierarchy
 * (trailing newline cut), or NULL. */
static char *cgroup_value(const char *id, const char *file)
{
        char rel[256];
        size_t n;
        char *value = NULL;
        snprintf(rel, sizeof(rel), "%s/%s", itest()->cgparent, id);
        char **dirs = itest_cgroup_dirs(rel, &n);
        for (size_t i = 0; i < n; i++) {
                char path[PATH_MAX + 64];
                snprintf(path, sizeof(path), "%s/%s", dirs[i], file);
                if (!value && access(path, F_OK) == 0) {
                        value = itest_read_file(path);
                        value[strcspn(value, "\n")] = '\0';
                }
                free(dirs[i]);
        }
        free(dirs);
        return value;
}

static char *pids_max(const char *id)
{
        char *v = cgroup_value(id, "pids.max");
        ck_assert_msg(v, "no pids.max for %s", id);
        return v;
}

/* runc's command line takes options after the container id (create,
 * update, ...): berth takes them for every verb but exec and ps. */
START_TEST(options_after_id)
{
        struct itest_bundle b;
        struct itest_result r;

        itest_bundle_new(&b, "optafter", itest_spec("sleep", "60", NULL));
        itest_rt(&r, "create", b.id, "--bundle", b.dir, NULL);
        itest_assert_status(&r, 0);
        itest_rt(&r, "start", b.id, NULL);
        itest_assert_status(&r, 0);
        itest_rt(&r, "update", b.id, "--pids-limit", "23", NULL);
        itest_assert_status(&r, 0);
        ck_assert_str_eq(pids_max(b.id), "23");
        itest_rt(&r, "update", b.id, "--cpu-share", "512", NULL); /* runc's spelling */
        itest_assert_status(&r, 0);
        char *shares = cgroup_value(b.id, "cpu.shares");
        ck_assert_msg(!shares || !strcmp(shares, "512"), "cpu.shares %s", shares);
        itest_rt(&r, "list", "--format", "json", NULL);
        itest_assert_status(&r, 0);
        itest_rt(&r, "kill", "--all", b.id, "KILL", NULL); /* runc's kill takes no options after it */
        itest_assert_status(&r, 0);
        ck_assert(itest_wait_status(b.id, "stopped", 10000));
        itest_rt(&r, "delete", b.id, NULL);
        itest_assert_status(&r, 0);
        itest_assert_clean(b.id, b.dir);
}
END_TEST

/* run --keep leaves the stopped container for state and delete. */
START_TEST(run_keep)
{
        struct itest_bundle b;
        struct itest_result r;

        itest_bundle_new(&b, "runkeep", itest_spec("sh", "-c", "exit 5", NULL));
        itest_rt(&r, "run", "--keep", "--bundle", b.dir, b.id, NULL);
        itest_assert_status(&r, 5);
        ck_assert_str_eq(itest_state_status(b.id), "stopped");
        itest_rt(&r, "delete", b.id, NULL);
        itest_assert_status(&r, 0);
        itest_assert_clean(b.id, b.dir);
}
END_TEST

/* ps prints ps's header, then the container's rows; for a stopped
 * container just the header (runc's output). */
START_TEST(ps_header)
{
        struct itest_bundle b;
        struct itest_result r;
        char want[32];

        run_detached(&b, "psheader", itest_spec("sleep", "60", NULL));
        json_t *st = itest_state(b.id);
        ck_assert_ptr_nonnull(st);
        snprintf(want, sizeof(want), " %d ", (int)json_integer_value(json_object_get(st, "pid")));
        itest_rt(&r, "ps", b.id, NULL);
        itest_assert_status(&r, 0);
        ck_assert_msg(!strncmp(r.out, "UID ", 4) && strstr(r.out, " PID "), "no header: %s", r.out);
        ck_assert_msg(strstr(r.out, want), "the init's row is missing: %s", r.out);
        itest_rt(&r, "ps", b.id, "-o", "pid,comm", NULL);
        itest_assert_status(&r, 0);
        ck_assert_msg(strstr(r.out, "PID") && strstr(r.out, "sleep"), "ps -o pid,comm: %s", r.out);
        itest_rt(&r, "kill", b.id, "KILL", NULL);
        itest_assert_status(&r, 0);
        ck_assert(itest_wait_status(b.id, "stopped", 10000));
        itest_rt(&r, "ps", b.id, NULL);
        itest_assert_status(&r, 0);
        ck_assert_msg(strstr(r.out, " PID ") && strchr(r.out, '\n') == r.out + strlen(r.out) - 1,
                      "stopped: not just the header: %s", r.out);
        delete_force(&b);
}
END_TEST

/* The process's own exit code, or 255 when the runtime cannot run it. */
START_TEST(exec_exit_codes)
{
        struct itest_bundle b;
        struct itest_result r;

        run_detached(&b, "execcode", itest_spec("sleep", "60", NULL));
        itest_rt(&r, "exec", b.id, "sh", "-c", "exit 3", NULL);
        itest_assert_status(&r, 3);
        itest_rt(&r, "exec", b.id, "/no/such/program", NULL);
        itest_assert_status(&r, 255);
        assert_err_has(&r, "no such file or directory");
        itest_rt(&r, "exec", "no-such-container", "true", NULL);
        itest_assert_status(&r, 255);
        delete_force(&b);
}
END_TEST

/* A process exec cannot start is reported in runc's words, on stderr and in
 * the JSON log containerd reads ("OCI runtime exec failed: exec failed:
 * unable to start container process: exec: ..."): clients match them. */
START_TEST(exec_failure_words)
{
        struct itest_bundle b;
        struct itest_result r;
        const char *want = "exec failed: unable to start container process: exec: \"nosuchbin\": "
                           "executable file not found in $PATH";
        const char *log = itest_path("exec-log.json");

        run_detached(&b, "execwords", itest_spec("sleep", "60", NULL));
        itest_rt(&r, "exec", b.id, "nosuchbin", NULL);
        itest_assert_status(&r, 255);
        assert_err_has(&r, want);
        itest_rt(&r, "--log", log, "--log-format", "json", "exec", b.id, "nosuchbin", NULL);
        itest_assert_status(&r, 255);
        char *text = itest_read_file(log);
        ck_assert_msg(text, "no log written at %s", log);
        json_error_t je;
        json_t *line = json_loads(text, JSON_DISABLE_EOF_CHECK, &je);
        ck_assert_msg(line, "log is not JSON: %s", text);
        ck_assert_str_eq(json_string_value(json_object_get(line, "level")), "error");
        const char *msg = json_string_value(json_object_get(line, "msg"));
        ck_assert_msg(msg && strstr(msg, want), "log msg: %s", msg ? msg : "(none)");
        delete_force(&b);
}
END_TEST

/* What the init fails at is said in runc's words too ("runc create failed:
 * unable to start container process: exec: ..."). */
START_TEST(create_failure_words)
{
        struct itest_result r;

        itest_run_cfg(&r, "createwords", itest_spec("nosuchbin", NULL));
        ck_assert_msg(r.status != 0, "a missing program ran");
        assert_err_has(&r, "unable to start container process: exec: \"nosuchbin\": "
                           "executable file not found in $PATH");
}
END_TEST

/* --memory -1 alone lifts the memory+swap limit too (runc): otherwise v1
 * refuses a memory limit above memsw and the container stays capped. */
START_TEST(update_memory_unlimited)
{
        struct itest_bundle b;
        struct itest_result r;
        struct stat sb;
        bool v1 = stat("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", &sb) == 0;
        bool v2 = stat("/sys/fs/cgroup/cgroup.controllers", &sb) == 0;
        SKIP_IF(!v1 && !v2, "no swap accounting (memory.memsw) on this host");
        json_t *cfg = itest_spec("sleep", "60", NULL);

        itest_set(cfg, "linux.resources",
                  json_pack("{s:{s:I,s:I}}", "memory", "limit", (json_int_t)64 << 20, "swap",
                            (json_int_t)128 << 20));
        run_detached(&b, "updswap", cfg);
        itest_rt(&r, "update", "--memory", "-1", b.id, NULL);
        itest_assert_status(&r, 0);
        if (v1) {
                char *mem = cgroup_value(b.id, "memory.limit_in_bytes");
                char *sw = cgroup_value(b.id, "memory.memsw.limit_in_bytes");
                ck_assert_msg(mem && sw && strtoll(mem, NULL, 10) > (1LL << 40) &&
                                  strtoll(sw, NULL, 10) > (1LL << 40),
                              "not unlimited: memory %s, memsw %s", mem, sw);
        } else {
                char *mem = cgroup_value(b.id, "memory.max");
                char *sw = cgroup_value(b.id, "memory.swap.max");
                ck_assert_msg(mem && !strcmp(mem, "max") && (!sw || !strcmp(sw, "max")),
                              "not unlimited: memory.max %s, memory.swap.max %s", mem, sw);
        }
        delete_force(&b);
}
END_TEST

/* --parent-path names an existing directory relative to the image dir;
 * anything else is refused before criu runs, the container untouched. */
START_TEST(checkpoint_parent_path)
{
        struct itest_bundle b;
        struct itest_result r;
        const char *img = itest_mkdtemp("ckpt");
        char file[PATH_MAX + 16];

        run_detached(&b, "ckparent", itest_spec("sleep", "60", NULL));
        itest_rt(&r, "checkpoint", "--image-path", img, "--parent-path", "/tmp", b.id, NULL);
        itest_assert_status(&r, 1);
        assert_err_has(&r, "must be relative");
        itest_rt(&r, "checkpoint", "--image-path", img, "--parent-path", "../no-such-dir", b.id, NULL);
        itest_assert_status(&r, 1);
        assert_err_has(&r, "invalid --parent-path");
        snprintf(file, sizeof(file), "%s/afile", img);
        FILE *f = fopen(file, "w");
        ck_assert_ptr_nonnull(f);
        fclose(f);
        itest_rt(&r, "checkpoint", "--image-path", img, "--parent-path", "afile", b.id, NULL);
        itest_assert_status(&r, 1);
        ck_assert_msg(strcasestr(r.err, "not a directory"), "stderr: %s", r.err);
        ck_assert_str_eq(itest_state_status(b.id), "running");
        delete_force(&b);
}
END_TEST

Suite *test_suite(void)
{
        Suite *s = itest_suite("integration/cli");

        itest_add(s, "kill_stopped_and_missing", kill_stopped_and_missing);
        itest_add(s, "kill_all_stopped_leftovers", kill_all_stopped_leftovers);
        itest_add(s, "kill_signal_zero", kill_signal_zero);
        itest_add(s, "options_after_id", options_after_id);
        itest_add(s, "run_keep", run_keep);
        itest_add(s, "ps_header", ps_header);
        itest_add(s, "exec_exit_codes", exec_exit_codes);
        itest_add(s, "exec_failure_words", exec_failure_words);
        itest_add(s, "create_failure_words", create_failure_words);
        itest_add(s, "update_memory_unlimited", update_memory_unlimited);
        itest_add(s, "checkpoint_parent_path", checkpoint_parent_path);
        return s;
}
