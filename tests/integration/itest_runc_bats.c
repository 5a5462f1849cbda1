// SPDX-License-Identifier: GPL-2.0-or-later
/* What runc v1.1.5's own integration suite (tests/conformance/runc-bats.sh)
 * found berth doing differently from runc: the default spec's namespaces
 * on a host that is not pure cgroup v2, the cwd of createContainer hooks,
 * the key order of the state JSON that scripts match as text, seccomp in
 * startContainer hooks, the v1 cfs period below a limited parent, the
 * shared-cgroup warning and exec --ignore-paused. */
#include "harness.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

/* `berth spec` has a cgroup namespace only where runc's has one: on a
 * pure v2 host. Elsewhere a container made from it sees its real cgroup
 * path (runc's "cgroup v1+hybrid joins correct cgroup" test), and the
 * suite's configs that add a cgroup namespace themselves stay valid. */
START_TEST(spec_cgroupns_like_runc)
{
        struct itest_result r;
        const char *dir = itest_mkdtemp("spec");
        itest_rt(&r, "spec", "--bundle", dir, NULL);
        itest_assert_status(&r, 0);
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/config.json", dir);
        json_error_t jerr;
        json_t *spec = json_load_file(path, 0, &jerr);
        ck_assert_msg(spec, "config.json: %s", jerr.text);

        struct statfs fs;
        bool unified = statfs("/sys/fs/cgroup", &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC;
        json_t *nss = json_object_get(json_object_get(spec, "linux"), "namespaces"), *ns;
        size_t i;
        bool cgroupns = false;
        json_array_foreach(nss, i, ns)
        {
                if (strcmp(json_string_value(json_object_get(ns, "type")) ?: "", "cgroup") == 0)
                        cgroupns = true;
        }
        ck_assert_msg(cgroupns == unified, "cgroup namespace in the default spec: %d, pure v2 host: %d",
                      cgroupns, unified);

        /* A container with exactly those namespaces, and the suite's
         * config that adds a cgroup namespace on top of them. */
        json_t *cfg = itest_spec("cat", "/proc/self/cgroup", NULL);
        itest_set(cfg, "linux.namespaces", json_deep_copy(nss));
        struct itest_bundle b;
        itest_bundle_new(&b, "specns", cfg);
        itest_rt(&r, "run", "--bundle", b.dir, b.id, NULL);
        itest_assert_status(&r, 0);
        if (!unified)
                ck_assert_msg(strstr(r.out, b.id), "the container does not see its cgroup path:\n%s", r.out);
        itest_assert_clean(b.id, b.dir);

        if (!cgroupns)
                itest_push(cfg, "linux.namespaces", json_pack("{s:s}", "type", "cgroup"));
        itest_bundle_new(&b, "specns2", cfg);
        itest_rt(&r, "run", "--bundle", b.dir, b.id, NULL);
        itest_assert_status(&r, 0);
        ck_assert_msg(strstr(r.out, ":memory:/\n") || strstr(r.out, "0::/\n"),
                      "not in a cgroup namespace of its own:\n%s", r.out);
        itest_assert_clean(b.id, b.dir);
        json_decref(cfg);
        json_decref(spec);
}
END_TEST

/* createContainer hooks run in the container's mount namespace with the
 * rootfs as cwd, as runc's: hooks written for runc use relative paths
 * ("touch ./lib/x && mount --bind ... ./lib/x", runc's hooks.bats). The
 * hook leaves a mark in a tmpfs of the container that the process then
 * reads from the inside. */
START_TEST(create_container_hook_cwd)
{
        struct itest_result r;
        json_t *cfg = itest_spec("probe", "read", "/mnt/hook-cwd", NULL);
        itest_push(cfg, "mounts",
                   json_pack("{s:s, s:s, s:s, s:[s]}", "destination", "/mnt", "type", "tmpfs", "source",
                             "tmpfs", "options", "mode=755"));
        itest_set(cfg, "hooks.createContainer",
                  json_pack("[{s:s, s:[s, s, s]}]", "path", "/bin/sh", "args", "sh", "-c",
                            "test -d ./mnt && test -d ./proc && touch ./mnt/hook-cwd"));
        itest_run_cfg(&r, "hookcwd", cfg);
        itest_assert_status(&r, 0);
        ck_assert_msg(strcmp(itest_kv(r.out, "read:/mnt/hook-cwd") ?: "", "ok") == 0,
                      "the hook did not run in the rootfs:\n%s%s", r.out, r.err);
        json_decref(cfg);
}
END_TEST

/* state and list --format json: pid before status, in runc's order. */
START_TEST(state_json_key_order)
{
        struct itest_bundle b;
        struct itest_result r;
        itest_bundle_new(&b, "order", itest_spec("probe", "sleep", NULL));
        itest_rt(&r, "create", "--bundle", b.dir, b.id, NULL);
        itest_assert_status(&r, 0);
        itest_rt(&r, "list", "--format", "json", NULL);
        itest_assert_status(&r, 0);
        const char *me = strstr(r.out, b.id);
        ck_assert_msg(me, "not listed:\n%s", r.out);
        const char *pid = strstr(me, "\"pid\":"), *status = strstr(me, "\"status\":");
        ck_assert_msg(pid && status && pid < status, "list: pid not before status:\n%s", r.out);
        itest_rt(&r, "state", b.id, NULL);
        itest_assert_status(&r, 0);
        pid = strstr(r.out, "\"pid\":");
        status = strstr(r.out, "\"status\":");
        ck_assert_msg(pid && status && pid < status, "state: pid not before status:\n%s", r.out);
        itest_rt(&r, "delete", "--force", b.id, NULL);
        itest_assert_status(&r, 0);
        itest_assert_clean(b.id, b.dir);
}
END_TEST

/* A startContainer hook runs with the container's seccomp filter in force
 * (runc's seccomp.bats): here mkdir kills, so the hook's mkdir fails the
 * container; without the filter in force the hook succeeds. */
START_TEST(start_container_hook_seccomp)
{
        struct itest_result r;
        json_t *cfg = itest_spec("probe", "exit", "0", NULL);
        itest_push(cfg, "mounts",
                   json_pack("{s:s, s:s, s:s, s:[s]}", "destination", "/mnt", "type", "tmpfs", "source",
                             "tmpfs", "options", "mode=755"));
        itest_set(cfg, "linux.seccomp",
                  json_pack("{s:s, s:[{s:[s, s], s:s}]}", "defaultAction", "SCMP_ACT_ALLOW", "syscalls",
                            "names", "mkdir", "mkdirat", "action", "SCMP_ACT_KILL"));
        itest_set(cfg, "hooks.startContainer",
                  json_pack("[{s:s, s:[s, s, s]}]", "path", "/bin/sh", "args", "sh", "-c", "mkdir /mnt/foo"));
        itest_run_cfg(&r, "hookscmp", cfg);
        ck_assert_msg(r.status != 0, "the startContainer hook ran without the seccomp filter:\n%s", r.err);
        /* runc's words, which its suite matches. */
        ck_assert_msg(strstr(r.err, "error running hook") && strstr(r.err, "bad system call"),
                      "unexpected error: %s", r.err);
        json_decref(cfg);
}
END_TEST

static void write_file(const char *dir, const char *file, const char *value)
{
        char path[PATH_MAX + 64];
        snprintf(path, sizeof(path), "%s/%s", dir, file);
        FILE *f = fopen(path, "we");
        ck_assert_msg(f, "open %s", path);
        ck_assert_msg(fputs(value, f) >= 0 && fclose(f) == 0, "write %s", path);
}

/* The v1 cpu dir of rel (below our own cgroup), or NULL. */
static const char *cpu_dir(const char *rel)
{
        size_t n;
        char **dirs = itest_cgroup_dirs(rel, &n);
        for (size_t i = 0; i < n; i++)
                if (strstr(dirs[i], "/cpu/") || strstr(dirs[i], "/cpu,cpuacct/"))
                        return dirs[i];
        return NULL;
}

/* update --cpu-period P --cpu-quota Q below a parent with a quota: the
 * kernel refuses the shorter period first; runc then writes the quota and
 * the period again (runc's update.bats, "pod cgroup with pod limit"). */
START_TEST(update_cfs_period_under_limited_parent)
{
        struct itest_bundle b;
        struct itest_result r;
        char parent[128], rel[192];
        snprintf(parent, sizeof(parent), "%s/runcbats-pod", itest()->cgparent);
        const char *pdir = cpu_dir(parent);
        SKIP_IF(!pdir, "no v1 cpu hierarchy");
        /* Our cgroup parent too: made by the first container otherwise. */
        char up[PATH_MAX];
        snprintf(up, sizeof(up), "%s", pdir);
        *strrchr(up, '/') = '\0';
        mkdir(up, 0755);
        ck_assert_msg(mkdir(pdir, 0755) == 0, "mkdir %s", pdir);
        write_file(pdir, "cpu.cfs_quota_us", "50000");

        snprintf(rel, sizeof(rel), "%s/ct", parent);
        json_t *cfg = itest_spec("probe", "sleep", NULL);
        itest_set(cfg, "linux.cgroupsPath", json_string(rel));
        itest_bundle_new(&b, "cfs", cfg);
        json_decref(cfg);
        itest_rt(&r, "run", "--detach", "--bundle", b.dir, b.id, NULL);
        itest_assert_status(&r, 0);
        itest_rt(&r, "update", "--cpu-quota", "60000", b.id, NULL);
        ck_assert_msg(r.status != 0, "a quota above the parent's was accepted");
        itest_rt(&r, "update", "--cpu-period", "10000", "--cpu-quota", "3000", b.id, NULL);
        int status = r.status;
        char err[512];
        snprintf(err, sizeof(err), "%s", r.err);
        char path[PATH_MAX + 64];
        snprintf(path, sizeof(path), "%s/cpu.cfs_period_us", cpu_dir(rel));
        char *period = itest_read_file(path);
        snprintf(path, sizeof(path), "%s/cpu.cfs_quota_us", cpu_dir(rel));
        char *quota = itest_read_file(path);
        itest_rt(&r, "delete", "--force", b.id, NULL);
        rmdir(pdir);
        ck_assert_msg(status == 0, "update failed: %s", err);
        ck_assert_str_eq(period, "10000\n");
        ck_assert_str_eq(quota, "3000\n");
}
END_TEST

/* A second container in the first one's cgroup: created, with runc's
 * warning. */
START_TEST(shared_cgroup_warned)
{
        struct itest_bundle a, b;
        struct itest_result r;
        char rel[128];
        snprintf(rel, sizeof(rel), "%s/runcbats-shared", itest()->cgparent);
        json_t *cfg = itest_spec("probe", "sleep", NULL);
        itest_set(cfg, "linux.cgroupsPath", json_string(rel));
        itest_bundle_new(&a, "share1", cfg);
        itest_rt(&r, "run", "--detach", "--bundle", a.dir, a.id, NULL);
        itest_assert_status(&r, 0);
        ck_assert_msg(!strstr(r.err, "not empty"), "warned for an empty cgroup: %s", r.err);
        itest_bundle_new(&b, "share2", cfg);
        json_decref(cfg);
        itest_rt(&r, "create", "--bundle", b.dir, b.id, NULL);
        int status = r.status;
        bool warned = strstr(r.err, "container's cgroup is not empty") != NULL;
        char err[512];
        snprintf(err, sizeof(err), "%s", r.err);
        itest_rt(&r, "delete", "--force", b.id, NULL);
        itest_rt(&r, "delete", "--force", a.id, NULL);
        itest_assert_status(&r, 0);
        ck_assert_msg(status == 0, "create in a shared cgroup failed: %s", err);
        ck_assert_msg(warned, "no warning: %s", err);
}
END_TEST

/* exec --ignore-paused: accepted on a paused container, the process runs
 * once it is resumed (runc's flag; without it exec refuses). */
START_TEST(exec_ignore_paused)
{
        struct itest_bundle b;
        struct itest_result r;
        itest_bundle_new(&b, "paused", itest_spec("probe", "sleep", NULL));
        itest_rt(&r, "run", "--detach", "--bundle", b.dir, b.id, NULL);
        itest_assert_status(&r, 0);
        itest_rt(&r, "pause", b.id, NULL);
        itest_assert_status(&r, 0);
        itest_rt(&r, "exec", b.id, "probe", "pid", NULL);
        ck_assert_msg(r.status != 0, "exec into a paused container without --ignore-paused");

        struct itest_proc p;
        struct itest_opts o = ITEST_OPTS_DEFAULT;
        const char *argv[] = {"exec", "--ignore-paused", b.id, "probe", "pid", NULL};
        ck_assert_int_eq(itest_rt_spawn(&p, &o, argv), 0);
        usleep(500 * 1000);
        itest_rt(&r, "resume", b.id, NULL);
        itest_assert_status(&r, 0);
        itest_proc_wait(&p, &r, 10000);
        itest_assert_status(&r, 0);
        ck_assert_msg(itest_kv(r.out, "pid"), "the exec'd probe did not run:\n%s", r.out);
        itest_rt(&r, "delete", "--force", b.id, NULL);
        itest_assert_status(&r, 0);
        itest_assert_clean(b.id, b.dir);
}
END_TEST

/* Device rules: letters other than r, w, m are ignored, as runc does
 * ("rwa" in runc's update.bats); the rule still applies: /dev/kmsg,
 * denied by default, is writable through a "wa" rule. */
START_TEST(device_access_extra_letters)
{
        struct itest_result r;
        json_t *cfg = itest_spec("probe", "write", "/dev/kmsg", NULL);
        itest_push(
            cfg, "linux.devices",
            json_pack("{s:s, s:s, s:i, s:i}", "path", "/dev/kmsg", "type", "c", "major", 1, "minor", 11));
        itest_set(cfg, "linux.resources.devices",
                  json_pack("[{s:b, s:s}, {s:b, s:s, s:i, s:i, s:s}]", "allow", 0, "access", "rwm", "allow",
                            1, "type", "c", "major", 1, "minor", 11, "access", "wa"));
        itest_run_cfg(&r, "devrwa", cfg);
        itest_assert_status(&r, 0);
        itest_assert_kv(r.out, "write:/dev/kmsg", "ok");
        json_decref(cfg);
}
END_TEST

/* events: an "oom" event within seconds of an OOM kill, and no "oom"
 * word in the stats lines before it (runc's events.bats greps the stream
 * for "oom" and then for the event). */
START_TEST(events_oom)
{
        struct itest_bundle b;
        struct itest_result r;
        json_t *cfg = itest_spec("probe", "sleep", NULL);
        itest_set(cfg, "linux.resources.memory",
                  json_pack("{s:I, s:I}", "limit", (json_int_t)(32 << 20), "swap", (json_int_t)(32 << 20)));
        itest_bundle_new(&b, "memhog", cfg);
        json_decref(cfg);
        itest_rt(&r, "run", "--detach", "--bundle", b.dir, b.id, NULL);
        itest_assert_status(&r, 0);

        struct itest_proc ev;
        struct itest_opts o = ITEST_OPTS_DEFAULT;
        const char *argv[] = {"events", b.id, NULL};
        ck_assert_int_eq(itest_rt_spawn(&ev, &o, argv), 0);
        char *out = NULL;
        for (int i = 0; i < 80 && !(out && strstr(out, "\"stats\"")); i++) {
                free(out);
                usleep(100 * 1000);
                out = itest_proc_out(&ev);
        }
        ck_assert_msg(out && strstr(out, "\"stats\""), "no stats line");
        ck_assert_msg(!strstr(out, "oom"), "the stats mention oom before any OOM:\n%.600s", out);
        free(out);
        itest_rt(&r, "exec", "--detach", b.id, "sh", "-c", "x=$(dd if=/dev/urandom bs=1M count=128)", NULL);
        itest_assert_status(&r, 0);
        char want[128];
        snprintf(want, sizeof(want), "{\"type\":\"oom\",\"id\":\"%s\"}", b.id);
        out = NULL;
        for (int i = 0; i < 100 && !(out && strstr(out, want)); i++) {
                free(out);
                usleep(100 * 1000);
                out = itest_proc_out(&ev);
        }
        bool seen = out && strstr(out, want);
        itest_rt(&r, "delete", "--force", b.id, NULL);
        itest_assert_status(&r, 0);
        itest_proc_wait(&ev, &r, 10000);
        size_t len = out ? strlen(out) : 0;
        ck_assert_msg(seen, "no oom event within 10 s, the stream ends:\n%s",
                      out ? out + (len > 600 ? len - 600 : 0) : "");
        free(out);
        itest_assert_clean(b.id, b.dir);
}
END_TEST

/* Foreground run with a terminal: the output comes with "\n", not
 * "\r\n", as with runc (x=$(runc run ...) gets no "\r"). */
START_TEST(run_foreground_tty_no_cr)
{
        struct itest_result r;
        json_t *cfg = itest_spec("sh", "-c", "echo line1; echo line2", NULL);
        itest_set(cfg, "process.terminal", json_true());
        itest_run_cfg(&r, "ttynl", cfg);
        itest_assert_status(&r, 0);
        ck_assert_msg(strstr(r.out, "line1\nline2\n"), "lines not as written: %s", r.out);
        ck_assert_msg(!strchr(r.out, '\r'), "a \\r in the output: %s", r.out);
        json_decref(cfg);
}
END_TEST

/* Texts runc's suite (and scripts) match, in runc's words: a seccomp
 * agent that is not listening, and unified resources a host without
 * cgroup v2 controllers cannot take. */
START_TEST(runc_error_texts)
{
        struct itest_result r;
        json_t *cfg = itest_spec("probe", "exit", "0", NULL);
        itest_set(cfg, "linux.seccomp",
                  json_pack("{s:s, s:s, s:[{s:[s], s:s}]}", "defaultAction", "SCMP_ACT_ALLOW", "listenerPath",
                            itest_path("no-agent.sock"), "syscalls", "names", "mkdir", "action",
                            "SCMP_ACT_NOTIFY"));
        itest_run_cfg(&r, "noagent", cfg);
        ck_assert_msg(r.status != 0, "ran without its seccomp agent");
        ck_assert_msg(strstr(r.err, "failed to connect with seccomp agent"), "unexpected error: %s", r.err);
        json_decref(cfg);

        struct statfs fs;
        SKIP_IF(statfs("/sys/fs/cgroup", &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC,
                "a pure v2 host takes memory.min");
        cfg = itest_spec("probe", "exit", "0", NULL);
        itest_set(cfg, "linux.resources.unified", json_pack("{s:s}", "memory.min", "131072"));
        itest_run_cfg(&r, "unified", cfg);
        ck_assert_msg(r.status != 0, "memory.min accepted without a v2 memory controller");
        ck_assert_msg(strstr(r.err, "invalid configuration"), "unexpected error: %s", r.err);
        json_decref(cfg);
}
END_TEST

Suite *test_suite(void)
{
        Suite *s = itest_suite("integration/runc_bats");
        itest_add(s, "spec_cgroupns_like_runc", spec_cgroupns_like_runc);
        itest_add(s, "create_container_hook_cwd", create_container_hook_cwd);
        itest_add(s, "state_json_key_order", state_json_key_order);
        itest_add(s, "start_container_hook_seccomp", start_container_hook_seccomp);
        itest_add(s, "update_cfs_period_under_limited_parent", update_cfs_period_under_limited_parent);
        itest_add(s, "shared_cgroup_warned", shared_cgroup_warned);
        itest_add(s, "exec_ignore_paused", exec_ignore_paused);
        itest_add(s, "device_access_extra_letters", device_access_extra_letters);
        itest_add(s, "events_oom", events_oom);
        itest_add(s, "run_foreground_tty_no_cr", run_foreground_tty_no_cr);
        itest_add(s, "runc_error_texts", runc_error_texts);
        return s;
}
