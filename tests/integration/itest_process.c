/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The container process: exit codes, pid 1, identity, environment, limits,
 * capabilities, inherited fds and stdio. Checked from inside by the probe. */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

START_TEST(exit_codes)
{
        struct itest_result r;

        itest_run_cfg(&r, "exit0", itest_spec("probe", "exit", "0", NULL));
        itest_assert_status(&r, 0);
        itest_run_cfg(&r, "exit3", itest_spec("probe", "exit", "3", NULL));
        itest_assert_status(&r, 3);
}
END_TEST

/* `run` reports 128+9 when the container is killed from outside. */
START_TEST(exit_sigkill)
{
        struct itest_bundle b;
        struct itest_proc p;
        struct itest_result r, k;
        struct itest_opts o = ITEST_OPTS_DEFAULT;

        itest_bundle_new(&b, "sigkill", itest_spec("probe", "sleep", NULL));
        const char *argv[] = {"run", "--bundle", b.dir, b.id, NULL};
        ck_assert_int_eq(itest_rt_spawn(&p, &o, argv), 0);
        ck_assert_msg(itest_wait_status(b.id, "running", 10000), "container never ran");
        itest_rt(&k, "kill", b.id, "KILL", NULL);
        itest_assert_status(&k, 0);
        itest_proc_wait(&p, &r, 10000);
        itest_assert_status(&r, 137);
        itest_assert_clean(b.id, b.dir);
}
END_TEST

START_TEST(pid_one)
{
        struct itest_result r;

        itest_run_cfg(&r, "pid1", itest_spec("probe", "pid", NULL));
        itest_assert_status(&r, 0);
        itest_assert_kv(r.out, "pid", "1");
        itest_assert_kv(r.out, "ppid", "0");
}
END_TEST

START_TEST(hostname_domainname)
{
        struct itest_result r;
        json_t *cfg = itest_spec("probe", "hostname", NULL);

        itest_set(cfg, "hostname", json_string("itest-host"));
        itest_set(cfg, "domainname", json_string("itest.example"));
        itest_run_cfg(&r, "uts", cfg);
        itest_assert_status(&r, 0);
        itest_assert_kv(r.out, "nodename", "itest-host");
        itest_assert_kv(r.out, "domainname", "itest.example");
}
END_TEST

START_TEST(env_and_cwd)
{
        struct itest_result r;
        json_t *cfg = itest_spec("probe", "env", "cwd", NULL);

        itest_set(cfg, "process.env", json_pack("[s,s,s]", "PATH=/bin", "FOO=bar baz", "EMPTY="));
        itest_set(cfg, "process.cwd", json_string("/mnt/rw"));
        itest_run_cfg(&r, "env", cfg);
        itest_assert_status(&r, 0);
        itest_assert_kv(r.out, "FOO", "bar baz");
        itest_assert_kv(r.out, "PATH", "/bin");
        ck_assert_msg(strstr(r.out, "\nEMPTY=\n") || !strncmp(r.out, "EMPTY=\n", 7), "EMPTY= missing:\n%s",
                      r.out);
        itest_assert_kv(r.out, "cwd", "/mnt/rw");
}
END_TEST

START_TEST(user_ids_umask)
{
        struct itest_result r;
        json_t *cfg = itest_spec("probe", "ids", NULL);

        itest_set(cfg, "process.user",
                  json_pack("{s:i,s:i,s:[i,i],s:i}", "uid", 1000, "gid", 1001, "additionalGids", 2000, 3000,
                            "umask", 027));
        itest_run_cfg(&r, "user", cfg);
        itest_assert_status(&r, 0);
        itest_assert_kv(r.out, "uid", "1000");
        itest_assert_kv(r.out, "euid", "1000");
        itest_assert_kv(r.out, "gid", "1001");
        itest_assert_kv(r.out, "egid", "1001");
        itest_assert_kv(r.out, "groups", "2000,3000");
        itest_assert_kv(r.out, "umask", "0027");
}
END_TEST

START_TEST(rlimits)
{
        struct itest_result r;
        json_t *cfg = itest_spec("probe", "rlimits", NULL);

        itest_set(cfg, "process.rlimits",
                  json_pack("[{s:s,s:i,s:i},{s:s,s:i,s:i}]", "type", "RLIMIT_NOFILE", "soft", 256, "hard",
                            512, "type", "RLIMIT_CORE", "soft", 0, "hard", 0));
        itest_run_cfg(&r, "rlimits", cfg);
        itest_assert_status(&r, 0);
        itest_assert_kv(r.out, "rlimit.nofile", "256 512");
        itest_assert_kv(r.out, "rlimit.core", "0 0");
}
END_TEST

static unsigned long long kv_hex(const char *out, const char *key)
{
        const char *v = itest_kv(out, key);
        ck_assert_msg(v, "%s missing:\n%s", key, out);
        return strtoull(v, NULL, 16);
}

/* runc spec's default: CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE. */
START_TEST(caps_default)
{
        struct itest_result r;
        const unsigned long long want = (1ULL << 29) | (1ULL << 5) | (1ULL << 10);

        itest_run_cfg(&r, "capsdef", itest_spec("probe", "caps", NULL));
        itest_assert_status(&r, 0);
        ck_assert_uint_eq(kv_hex(r.out, "CapBnd"), want);
        ck_assert_uint_eq(kv_hex(r.out, "CapPrm"), want);
        ck_assert_uint_eq(kv_hex(r.out, "CapEff"), want);
        ck_assert_uint_eq(kv_hex(r.out, "CapInh"), 0);
}
END_TEST

START_TEST(caps_reduced)
{
        struct itest_result r;
        json_t *cfg = itest_spec("probe", "caps", NULL);
        const unsigned long long want = (1ULL << 5) | (1ULL << 0); /* CAP_KILL, CAP_CHOWN */

        itest_set(cfg, "process.capabilities",
                  json_pack("{s:[s,s],s:[s,s],s:[s,s],s:[],s:[]}", "bounding", "CAP_KILL", "CAP_CHOWN",
                            "effective", "CAP_KILL", "CAP_CHOWN", "permitted", "CAP_KILL", "CAP_CHOWN",
                            "inheritable", "ambient"));
        itest_run_cfg(&r, "capsred", cfg);
        itest_assert_status(&r, 0);
        ck_assert_uint_eq(kv_hex(r.out, "CapBnd"), want);
        ck_assert_uint_eq(kv_hex(r.out, "CapPrm"), want);
        ck_assert_uint_eq(kv_hex(r.out, "CapEff"), want);
        ck_assert_uint_eq(kv_hex(r.out, "CapInh"), 0);
        ck_assert_uint_eq(kv_hex(r.out, "CapAmb"), 0);
}
END_TEST

/* A non-root user keeps an ambient capability across exec. */
START_TEST(caps_ambient_nonroot)
{
        struct itest_result r;
        json_t *cfg = itest_spec("probe", "caps", NULL);

        itest_set(cfg, "process.user", json_pack("{s:i,s:i}", "uid", 1000, "gid", 1000));
        itest_set(cfg, "process.capabilities",
                  json_pack("{s:[s],s:[s],s:[s],s:[s],s:[s]}", "bounding", "CAP_KILL", "effective",
                            "CAP_KILL", "permitted", "CAP_KILL", "inheritable", "CAP_KILL", "ambient",
                            "CAP_KILL"));
        itest_run_cfg(&r, "capsamb", cfg);
        itest_assert_status(&r, 0);
        ck_assert_uint_eq(kv_hex(r.out, "CapAmb"), 1ULL << 5);
        ck_assert_uint_eq(kv_hex(r.out, "CapEff"), 1ULL << 5);
        ck_assert_uint_eq(kv_hex(r.out, "CapBnd"), 1ULL << 5);
}
END_TEST

/* `exec -c CAP` adds the capability to the bounding, permitted and
 * effective sets only, as runc does: in the inheritable and ambient sets
 * it would pass on across execve to every program the process runs
 * (CVE-2022-29162). */
START_TEST(exec_cap_not_inherited)
{
        struct itest_bundle b;
        struct itest_proc p;
        struct itest_result r;
        struct itest_opts o = ITEST_OPTS_DEFAULT;
        const unsigned long long raw = 1ULL << 13; /* CAP_NET_RAW: not in the default set */

        itest_bundle_new(&b, "execcap", itest_spec("probe", "sleep", NULL));
        const char *argv[] = {"create", "--bundle", b.dir, b.id, NULL};
        ck_assert_int_eq(itest_rt_spawn(&p, &o, argv), 0);
        itest_proc_wait(&p, &r, 0);
        itest_assert_status(&r, 0);
        itest_rt(&r, "start", b.id, NULL);
        itest_assert_status(&r, 0);
        ck_assert_msg(itest_wait_file(p.out_path, "ready=1\n", 10000), "probe not ready");
        itest_rt(&r, "exec", "-c", "CAP_NET_RAW", b.id, "probe", "caps", NULL);
        itest_assert_status(&r, 0);
        ck_assert_msg(kv_hex(r.out, "CapBnd") & raw, "CapBnd lacks the added cap: %s", r.out);
        ck_assert_msg(kv_hex(r.out, "CapPrm") & raw, "CapPrm lacks the added cap: %s", r.out);
        ck_assert_msg(kv_hex(r.out, "CapEff") & raw, "CapEff lacks the added cap: %s", r.out);
        ck_assert_msg(!(kv_hex(r.out, "CapInh") & raw), "CapInh has the added cap: %s", r.out);
        ck_assert_msg(!(kv_hex(r.out, "CapAmb") & raw), "CapAmb has the added cap: %s", r.out);
        itest_rt(&r, "delete", "--force", b.id, NULL);
        itest_assert_status(&r, 0);
}
END_TEST

START_TEST(no_new_privileges)
{
        struct itest_result r;
        json_t *cfg = itest_spec("probe", "nnp", NULL);

        itest_run_cfg(&r, "nnp1", cfg);
        itest_assert_status(&r, 0);
        itest_assert_kv(r.out, "nnp", "1");
        itest_set(cfg, "process.noNewPrivileges", json_false());
        itest_run_cfg(&r, "nnp0", cfg);
        itest_assert_status(&r, 0);
        itest_assert_kv(r.out, "nnp", "0");
}
END_TEST

/* CVE-2024-21626: no runtime fd (cgroup dirs, state dir, sockets) may reach
 * the container process. */
START_TEST(only_stdio_fds)
{
        struct itest_result r;

        itest_run_cfg(&r, "fds", itest_spec("probe", "fds", NULL));
        itest_assert_status(&r, 0);
        itest_assert_kv(r.out, "fds", "0,1,2");
}
END_TEST

START_TEST(preserve_fds)
{
        struct itest_bundle b;
        struct itest_result r;
        struct itest_opts o = ITEST_OPTS_DEFAULT;
        const char *f1 = itest_path("extra-one"), *f2 = itest_path("extra-two");
        int fds[2] = {open(f1, O_RDWR | O_CREAT | O_CLOEXEC, 0644),
                      open(f2, O_RDWR | O_CREAT | O_CLOEXEC, 0644)};

        ck_assert(fds[0] >= 0 && fds[1] >= 0);
        o.extra_fds = fds;
        o.n_extra_fds = 2;
        itest_bundle_new(&b, "keepfds", itest_spec("probe", "fds", NULL));
        const char *argv[] = {"run", "--preserve-fds", "2", "--bundle", b.dir, b.id, NULL};
        itest_rt_opts(&r, &o, argv);
        itest_assert_status(&r, 0);
        itest_assert_kv(r.out, "fds", "0,1,2,3,4");
        /* The container cannot resolve host paths; the fd names them anyway. */
        ck_assert_msg(strstr(itest_kv(r.out, "fd.3"), "extra-one"), "fd 3: %s", r.out);
        ck_assert_msg(strstr(itest_kv(r.out, "fd.4"), "extra-two"), "fd 4: %s", r.out);
}
END_TEST

/* Without a terminal the container writes straight to the caller's stdout:
 * a client can read the output from the pipe it gave to `create`. */
START_TEST(stdio_is_callers)
{
        struct itest_bundle b;
        struct itest_result r;
        struct itest_opts o = ITEST_OPTS_DEFAULT;
        int out[2], err[2];
        char buf[8192] = "", link[64];
        size_t len = 0;
        struct stat st_out, st_err;

        ck_assert(pipe2(out, O_CLOEXEC) == 0 && pipe2(err, O_CLOEXEC) == 0);
        o.stdout_fd = out[1];
        o.stderr_fd = err[1];
        itest_bundle_new(&b, "stdio", itest_spec("probe", "hostname", "fds", NULL));
        const char *argv[] = {"create", "--bundle", b.dir, b.id, NULL};
        itest_rt_opts(&r, &o, argv);
        close(out[1]);
        close(err[1]);
        itest_assert_status(&r, 0);
        itest_rt(&r, "start", b.id, NULL);
        itest_assert_status(&r, 0);
        struct pollfd pfd = {.fd = out[0], .events = POLLIN};
        while (len < sizeof(buf) - 1 && poll(&pfd, 1, 10000) == 1) {
                ssize_t n = read(out[0], buf + len, sizeof(buf) - 1 - len);
                if (n <= 0)
                        break;
                len += n;
        }
        buf[len] = '\0';
        itest_assert_kv(buf, "nodename", "itest");
        fstat(out[0], &st_out);
        fstat(err[0], &st_err);
        snprintf(link, sizeof(link), "pipe:[%llu]", (unsigned long long)st_out.st_ino);
        itest_assert_kv(buf, "fd.1", link);
        snprintf(link, sizeof(link), "pipe:[%llu]", (unsigned long long)st_err.st_ino);
        itest_assert_kv(buf, "fd.2", link);
        ck_assert(itest_wait_status(b.id, "stopped", 10000));
        itest_rt(&r, "delete", b.id, NULL);
        itest_assert_status(&r, 0);
        itest_assert_clean(b.id, b.dir);
}
END_TEST

/* The executable is looked up when the container is created, not started. */
START_TEST(missing_binary)
{
        struct itest_bundle b;
        struct itest_result r;

        itest_bundle_new(&b, "nobin", itest_spec("nosuchbinary", NULL));
        itest_rt(&r, "create", "--bundle", b.dir, b.id, NULL);
        ck_assert_msg(r.status != 0, "create of a missing binary succeeded");
        ck_assert_msg(strstr(r.err, "executable file not found in $PATH"), "stderr: %s", r.err);
        itest_assert_clean(b.id, b.dir);
}
END_TEST

Suite *test_suite(void)
{
        Suite *s = itest_suite("integration/process");

        itest_add(s, "exit_codes", exit_codes);
        itest_add(s, "exit_sigkill", exit_sigkill);
        itest_add(s, "pid_one", pid_one);
        itest_add(s, "hostname_domainname", hostname_domainname);
        itest_add(s, "env_and_cwd", env_and_cwd);
        itest_add(s, "user_ids_umask", user_ids_umask);
        itest_add(s, "rlimits", rlimits);
        itest_add(s, "caps_default", caps_default);
        itest_add(s, "caps_reduced", caps_reduced);
        itest_add(s, "caps_ambient_nonroot", caps_ambient_nonroot);
        itest_add(s, "exec_cap_not_inherited", exec_cap_not_inherited);
        itest_add(s, "no_new_privileges", no_new_privileges);
        itest_add(s, "only_stdio_fds", only_stdio_fds);
        itest_add(s, "preserve_fds", preserve_fds);
        itest_add(s, "stdio_is_callers", stdio_is_callers);
        itest_add(s, "missing_binary", missing_binary);
        return s;
}
