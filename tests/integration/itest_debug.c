/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The --debug trace: `berth --debug run` names each step of create, start
 * and delete in order, the --log file gets them as JSON lines, BERTH_DEBUG=1
 * turns it on without the flag, and without either nothing changes. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* Each needle occurs in text after the previous one; fails naming the
 * first that does not. */
static void assert_in_order(const char *text, const char *const *needles, size_t n)
{
        const char *at = text;
        for (size_t i = 0; i < n; i++) {
                const char *hit = strstr(at, needles[i]);
                ck_assert_msg(hit, "trace lacks \"%s\" (after \"%s\"):\n%s", needles[i],
                              i ? needles[i - 1] : "", text);
                at = hit + strlen(needles[i]);
        }
}

static size_t count(const char *text, const char *needle)
{
        size_t n = 0;
        for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
                n++;
        return n;
}

static char *read_all(const char *path)
{
        FILE *f = fopen(path, "re");
        if (!f)
                return NULL;
        char *buf = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&buf, &len);
        char chunk[4096];
        size_t got;
        while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
                fwrite(chunk, 1, got, m);
        fclose(m);
        fclose(f);
        return buf;
}

/* Every line of the --log file is one JSON object with string level, msg
 * and time; returns how many are "debug". */
static size_t check_json_lines(const char *path)
{
        char *text = read_all(path);
        ck_assert_msg(text, "no --log file %s", path);
        size_t debug = 0;
        for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
                json_error_t je;
                json_t *o = json_loads(line, 0, &je);
                ck_assert_msg(json_is_object(o), "--log line is not a JSON object (%s): %s", je.text, line);
                const char *keys[] = {"level", "msg", "time"};
                for (size_t k = 0; k < 3; k++)
                        ck_assert_msg(json_is_string(json_object_get(o, keys[k])), "no string \"%s\" in %s",
                                      keys[k], line);
                debug += !strcmp(json_string_value(json_object_get(o, "level")), "debug");
                json_decref(o);
        }
        free(text);
        return debug;
}

START_TEST(run_trace_in_order)
{
        struct itest_bundle b;
        struct itest_result r;
        char log[PATH_MAX];
        json_t *cfg = itest_spec("probe", "pid", NULL);
        itest_bundle_new(&b, "dbgrun", cfg);
        snprintf(log, sizeof(log), "%s/dbg.json", itest()->tmp);
        itest_rt(&r, "--debug", "--log", log, "--log-format", "json", "run", "--bundle", b.dir, b.id, NULL);
        itest_assert_status(&r, 0);
        itest_assert_kv(r.out, "pid", "1"); /* the container's own output is untouched */
        char begin[128], done[128], ran[128], gone[128];
        snprintf(begin, sizeof(begin), "debug: +"); /* the stamp: milliseconds since start */
        snprintf(done, sizeof(done), "create '%s': done", b.id);
        snprintf(ran, sizeof(ran), "start '%s': the process runs", b.id);
        snprintf(gone, sizeof(gone), "delete '%s': done", b.id);
        const char *steps[] = {begin,
                               "config.json read",
                               "spec parsed: process probe",
                               "rootfs ",
                               "seccomp: ",
                               "state dir ",
                               "cgroup: host layout ",
                               "namespaces: clone3 creates ",
                               "clone: init ",
                               "sync: PROCEED sent",
                               "sync: the init reached RUNTIME_HOOKS",
                               "sync: the init is READY",
                               "state written: created",
                               done,
                               ran,
                               "exited with 0; deleting",
                               "state directory removed",
                               gone};
        assert_in_order(r.err, steps, N_ELEMS(steps));
        size_t on_stderr = count(r.err, "berth: debug: ");
        ck_assert_uint_ge(on_stderr, N_ELEMS(steps));
        ck_assert_uint_eq(check_json_lines(log), on_stderr);
        itest_assert_clean(b.id, b.dir);
}
END_TEST

/* Without --debug (or with BERTH_DEBUG=0) neither stderr nor the JSON log
 * get anything from a successful run. */
START_TEST(no_trace_when_off)
{
        struct itest_bundle b;
        struct itest_result r;
        char log[PATH_MAX];
        json_t *cfg = itest_spec("probe", "pid", NULL);
        snprintf(log, sizeof(log), "%s/quiet.json", itest()->tmp);
        for (int pass = 0; pass < 2; pass++) {
                if (pass)
                        setenv("BERTH_DEBUG", "0", 1);
                itest_bundle_new(&b, "dbgquiet", cfg);
                itest_rt(&r, "--log", log, "--log-format", "json", "run", "--bundle", b.dir, b.id, NULL);
                itest_assert_status(&r, 0);
                itest_assert_kv(r.out, "pid", "1");
                ck_assert_msg(r.err[0] == '\0', "stderr without --debug: %s", r.err);
                ck_assert_msg(access(log, F_OK) != 0, "--log file written without --debug or an error");
                itest_assert_clean(b.id, b.dir);
        }
        unsetenv("BERTH_DEBUG");
}
END_TEST

/* BERTH_DEBUG=1 (for clients that cannot pass flags): create, start, exec,
 * kill and delete each trace their steps. */
START_TEST(env_traces_lifecycle)
{
        struct itest_bundle b;
        struct itest_result r;
        json_t *cfg = itest_spec("probe", "sleep", NULL);
        itest_bundle_new(&b, "dbgenv", cfg);
        setenv("BERTH_DEBUG", "1", 1);
        itest_rt(&r, "create", "--bundle", b.dir, b.id, NULL);
        itest_assert_status(&r, 0);
        const char *create_steps[] = {"create '", "start gate: exec.fifo", "state written: created",
                                      "': done"};
        assert_in_order(r.err, create_steps, N_ELEMS(create_steps));

        itest_rt(&r, "start", b.id, NULL);
        itest_assert_status(&r, 0);
        const char *start_steps[] = {"locked, created, init ", "exec.fifo opened", "the init took the go",
                                     "the process runs (execve done: exec.fifo at EOF)"};
        assert_in_order(r.err, start_steps, N_ELEMS(start_steps));

        itest_rt(&r, "exec", b.id, "/bin/probe", "pid", NULL);
        itest_assert_status(&r, 0);
        ck_assert_msg(strstr(r.out, "pid="), "exec output: %s", r.out);
        const char *exec_steps[] = {"exec '",       "running, init ",      "joins namespaces ",
                                    "pid",          "stdio: the caller's", "runs (execve done",
                                    "exited with 0"};
        assert_in_order(r.err, exec_steps, N_ELEMS(exec_steps));

        itest_rt(&r, "kill", b.id, "KILL", NULL);
        itest_assert_status(&r, 0);
        const char *kill_steps[] = {"kill '", "running", "signal 9 to the init (pidfd)", "sent"};
        assert_in_order(r.err, kill_steps, N_ELEMS(kill_steps));
        ck_assert_msg(itest_wait_status(b.id, "stopped", 10000), "killed container not stopped");

        itest_rt(&r, "delete", b.id, NULL);
        itest_assert_status(&r, 0);
        const char *delete_steps[] = {"found stopped", "cgroup ", "removed", "state directory removed",
                                      "done"};
        assert_in_order(r.err, delete_steps, N_ELEMS(delete_steps));
        unsetenv("BERTH_DEBUG");
        itest_assert_clean(b.id, b.dir);
}
END_TEST

Suite *test_suite(void)
{
        Suite *s = itest_suite("integration/debug");
        itest_add(s, "run_trace_in_order", run_trace_in_order);
        itest_add(s, "no_trace_when_off", no_trace_when_off);
        itest_add(s, "env_traces_lifecycle", env_traces_lifecycle);
        return s;
}
