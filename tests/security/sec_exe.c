/* SPDX-License-Identifier: GPL-2.0-or-later */
/* CVE-2019-5736: a container overwriting the runtime binary through
 * /proc/<pid>/exe while the runtime execs into it.
 *
 * The tests run a private copy of the runtime binary (so a vulnerable
 * runtime damages only the copy) against a private copy of the test rootfs
 * to which the copy's shared libraries are added: a runtime that ever
 * execs /proc/self/exe inside the container then really runs there (the
 * bare busybox rootfs has no libc, which would hide the bug for a dynamic
 * runtime). A precondition check runs the copy chrooted into that rootfs.
 *
 * The container's init is the attacker: it scans /proc/<pid>/exe of every
 * process it can see for the runtime's inode, keeps O_PATH fds of it and
 * keeps trying to reopen them for writing, the way the original exploit
 * did. Meanwhile the test runs `exec` into the container many times: a
 * plain process, "/proc/self/exe" and a script whose interpreter is
 * /proc/self/exe (each would run the runtime's own binary inside the
 * container). Afterwards the copy must be byte-identical, the attacker
 * must have opened and written nothing, and the runtime must never have
 * run inside. The same holds for a container whose own process is
 * /proc/self/exe. The runtime's exec trampoline must not change what the
 * container's process sees (argv[0], comm, exe, capabilities), and a
 * failing execve must still be reported by exec, start and run. */
#include "sec.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ATTACK_SECS "12"
#define EXEC_ROUNDS 40

/* Copies the runtime into the test's temp dir and makes it the one run. */
static void use_private_runtime(struct stat *st)
{
        char copy[PATH_MAX];
        snprintf(copy, sizeof(copy), "%s/berth-copy", itest()->tmp);
        sec_copy(itest()->bin, copy, 0755);
        snprintf(itest()->bin, sizeof(itest()->bin), "%s", copy);
        ck_assert_int_eq(stat(copy, st), 0);
}

static void write_file(const char *root, const char *name, const char *text)
{
        char path[PATH_MAX + 64];
        snprintf(path, sizeof(path), "%s%s", root, name);
        FILE *f = fopen(path, "we");
        ck_assert_msg(f, "create %s: %s", path, strerror(errno));
        fputs(text, f);
        fclose(f);
        ck_assert_int_eq(chmod(path, 0755), 0);
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
        char cmd[3 * PATH_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(cmd, sizeof(cmd), fmt, ap);
        va_end(ap);
        return system(cmd);
}

/* The runtime copy must really run chrooted into root: otherwise a test
 * that it never runs inside the container proves nothing. */
static void assert_runtime_runs_in(const char *root)
{
        char check[PATH_MAX + 32], cmd[2 * PATH_MAX];
        snprintf(check, sizeof(check), "%s/berth-check", root);
        sec_copy(itest()->bin, check, 0755);
        /* With /proc, which a sanitizer build needs, in a mount namespace
         * of its own so that nothing is left mounted. */
        snprintf(cmd, sizeof(cmd),
                 "unshare -m sh -c 'mount -t proc proc \"$1/proc\" && chroot \"$1\" /berth-check --version' "
                 "sh '%s' 2>&1",
                 root);
        FILE *p = popen(cmd, "re");
        ck_assert(p);
        char out[512] = "";
        size_t n = fread(out, 1, sizeof(out) - 1, p);
        out[n] = '\0';
        pclose(p);
        unlink(check);
        ck_assert_msg(strstr(out, "berth version"),
                      "precondition: the runtime does not run in the test rootfs, so this test would "
                      "prove nothing:\n%s",
                      out);
}

/* A private copy of the security rootfs plus the runtime's shared
 * libraries and the scripts these tests exec. */
static const char *exe_rootfs(void)
{
        static char root[PATH_MAX];
        snprintf(root, sizeof(root), "%s/rootfs-exe", itest()->tmp);
        ck_assert_int_eq(sh("cp -a '%s' '%s'", itest()->rootfs, root), 0);
        /* ldd prints "name => /path (addr)" and "/loader (addr)"; nothing
         * (and fails) for a static binary. */
        ck_assert_int_eq(sh("ldd '%s' 2>/dev/null | awk '$2 == \"=>\" && $3 ~ /^\\// { print $3 } "
                            "$1 ~ /^\\// { print $1 }' | xargs -r cp -L --parents -t '%s'",
                            itest()->bin, root),
                         0);
        write_file(root, "/bin/selfexe", "#!/proc/self/exe --version\n");
        write_file(root, "/bin/badinterp", "#!/nonexistent/interpreter\n");
        write_file(root, "/bin/notelf", "plain text, no #! line\n");
        assert_runtime_runs_in(root);
        return root;
}

static json_t *exe_spec(const char *root, const char *arg0, ...) __attribute__((sentinel));
static json_t *exe_spec(const char *root, const char *arg0, ...)
{
        json_t *cfg = itest_spec("true", NULL);
        json_t *args = json_array();
        va_list ap;
        va_start(ap, arg0);
        for (const char *a = arg0; a; a = va_arg(ap, const char *))
                json_array_append_new(args, json_string(a));
        va_end(ap);
        itest_set(cfg, "process.args", args);
        itest_set(cfg, "root.path", json_string(root));
        return cfg;
}

/* Runs `exec id ARGS...` and counts a run of the runtime inside. */
static void exec_self(const char *id, const char *path, const char *arg, int *ran_self)
{
        struct itest_result r;
        itest_rt(&r, "exec", id, path, arg, NULL);
        if (r.status == 0 && strstr(r.out, "berth"))
                (*ran_self)++;
        free(r.out);
        free(r.err);
}

static void exec_rounds(const char *id, int *ran_self)
{
        for (int i = 0; i < EXEC_ROUNDS; i++) {
                struct itest_result r;
                itest_rt(&r, "exec", id, "/bin/attacker", "noop", NULL);
                /* The attacker runs for ATTACK_SECS: on a slow build (ASan,
                 * a loaded machine) fewer rounds fit, which is no failure. */
                if (r.status != 0 && i > 0 && itest_wait_status(id, "stopped", 0)) {
                        free(r.out);
                        free(r.err);
                        break;
                }
                ck_assert_msg(r.status == 0, "exec round %d: exit %d (runtime binary overwritten?)\n%s", i,
                              r.status, r.err);
                free(r.out);
                free(r.err);
                /* Whatever happens, these must not run the host runtime
                 * inside the container. */
                exec_self(id, "/proc/self/exe", "--version", ran_self);
                exec_self(id, "/bin/selfexe", NULL, ran_self);
        }
}

START_TEST(runtime_binary_not_overwritten)
{
        sec_begin();
        struct stat st;
        use_private_runtime(&st);
        const char *root = exe_rootfs();
        size_t len_before;
        char *before = sec_slurp(itest()->bin, &len_before);
        char dev[32], ino[32];
        snprintf(dev, sizeof(dev), "%llu", (unsigned long long)st.st_dev);
        snprintf(ino, sizeof(ino), "%llu", (unsigned long long)st.st_ino);

        json_t *cfg = sec_spec("exe", dev, ino, ATTACK_SECS, NULL);
        itest_set(cfg, "root.path", json_string(root));
        struct itest_bundle b;
        itest_bundle_new(&b, "exe", cfg);
        /* Detached: no runtime process stays behind to keep the binary busy
         * (ETXTBSY), so the attacker gets its chance between the execs and
         * after the last one, as in the real exploit. */
        struct itest_proc p;
        struct itest_opts o = ITEST_OPTS_DEFAULT;
        const char *argv[] = {"run", "--detach", "--bundle", b.dir, b.id, NULL};
        ck_assert_int_eq(itest_rt_spawn(&p, &o, argv), 0);
        struct itest_result r;
        itest_proc_wait(&p, &r, 10000);
        itest_assert_status(&r, 0);
        ck_assert_msg(itest_wait_status(b.id, "running", 10000), "container never ran");
        int ran_self = 0;
        exec_rounds(b.id, &ran_self);
        ck_assert_msg(itest_wait_status(b.id, "stopped", 60000), "the attacker never finished");
        char *out = itest_proc_out(&p);

        size_t len_after;
        char *after = sec_slurp(itest()->bin, &len_after);
        ck_assert_msg(len_before == len_after && memcmp(before, after, len_before) == 0,
                      "the runtime binary was modified from inside the container\n%s", out);
        itest_assert_kv(out, "exe.written", "0");
        /* Non-dumpable until execve: the container never even gets an fd. */
        itest_assert_kv(out, "exe.opened", "0");
        ck_assert_msg(ran_self == 0,
                      "exec of /proc/self/exe ran the host runtime inside the container (%d times)",
                      ran_self);
        printf("exe attack: %s", out);
        sec_delete(b.id);
        sec_assert_clean(b.id, b.dir);
        free(before);
        free(after);
}
END_TEST

/* The container's own process: the init must not exec the runtime either. */
START_TEST(init_never_runs_runtime)
{
        sec_begin();
        struct stat st;
        use_private_runtime(&st);
        const char *root = exe_rootfs();
        size_t len_before;
        char *before = sec_slurp(itest()->bin, &len_before);
        const char *cases[][2] = {{"/proc/self/exe", "--version"}, {"/bin/selfexe", NULL}};
        for (size_t i = 0; i < 2; i++) {
                json_t *cfg = exe_spec(root, cases[i][0], cases[i][1], NULL);
                struct itest_result r;
                itest_run_cfg(&r, "self", cfg);
                ck_assert_msg(!strstr(r.out, "berth"), "%s ran the host runtime as the container's init:\n%s",
                              cases[i][0], r.out);
                ck_assert_msg(r.status != 0, "%s: exit 0\n%s%s", cases[i][0], r.out, r.err);
                json_decref(cfg);
        }
        size_t len_after;
        char *after = sec_slurp(itest()->bin, &len_after);
        ck_assert(len_before == len_after && memcmp(before, after, len_before) == 0);
        free(before);
        free(after);
}
END_TEST

#define IDENTITY_SCRIPT                                                                                      \
        "echo argv0=$0; read c </proc/$$/comm; echo comm=$c; echo exe=$(readlink /proc/$$/exe); "            \
        "grep -E '^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Uid):' /proc/$$/status | tr -d ' \\t' | tr : ="

static void assert_identity(const char *out, const char *who)
{
        ck_assert_msg(strstr(out, "argv0=sh\n") && strstr(out, "comm=sh\n") &&
                          strstr(out, "exe=/bin/busybox\n"),
                      "%s: argv[0], comm or exe changed:\n%s", who, out);
        /* The base spec's three capabilities (AUDIT_WRITE, KILL,
         * NET_BIND_SERVICE) as root, no_new_privs set. */
        itest_assert_kv(out, "CapEff", "0000000020000420");
        itest_assert_kv(out, "CapPrm", "0000000020000420");
        itest_assert_kv(out, "CapBnd", "0000000020000420");
        itest_assert_kv(out, "CapInh", "0000000000000000");
        itest_assert_kv(out, "CapAmb", "0000000000000000");
        itest_assert_kv(out, "NoNewPrivs", "1");
        itest_assert_kv(out, "Uid", "0000");
}

START_TEST(process_identity_unchanged)
{
        sec_begin();
        struct itest_result r;
        json_t *cfg = itest_spec("sh", "-c", IDENTITY_SCRIPT, NULL);
        itest_run_cfg(&r, "ident", cfg);
        itest_assert_status(&r, 0);
        assert_identity(r.out, "run");
        free(r.out);
        free(r.err);

        json_t *idle = itest_spec("sleep", "30", NULL);
        struct itest_bundle b;
        itest_bundle_new(&b, "identx", idle);
        itest_rt(&r, "run", "--detach", "--bundle", b.dir, b.id, NULL);
        itest_assert_status(&r, 0);
        itest_rt(&r, "exec", b.id, "sh", "-c", IDENTITY_SCRIPT, NULL);
        itest_assert_status(&r, 0);
        assert_identity(r.out, "exec");
        sec_delete(b.id);
        sec_assert_clean(b.id, b.dir);
        json_decref(cfg);
        json_decref(idle);
}
END_TEST

static void assert_failed_with(const struct itest_result *r, const char *verb, const char *msg)
{
        ck_assert_msg(r->status != 0 && strstr(r->err, msg), "%s: expected failure \"%s\", got exit %d\n%s%s",
                      verb, msg, r->status, r->out, r->err);
}

/* Errors of the execve itself (after the lookup succeeded) come from the
 * trampoline now: they must still reach exec, start and run. */
START_TEST(exec_errors_reported)
{
        sec_begin();
        struct stat st;
        use_private_runtime(&st);
        const char *root = exe_rootfs();
        const char *badinterp = "exec /bin/badinterp: No such file or directory";
        struct itest_result r;

        json_t *cfg = exe_spec(root, "/bin/badinterp", NULL);
        itest_run_cfg(&r, "badrun", cfg);
        assert_failed_with(&r, "run", badinterp);

        struct itest_bundle b;
        itest_bundle_new(&b, "badstart", cfg);
        itest_rt(&r, "create", "--bundle", b.dir, b.id, NULL);
        itest_assert_status(&r, 0);
        itest_rt(&r, "start", b.id, NULL);
        assert_failed_with(&r, "start", badinterp);
        sec_delete(b.id);
        sec_assert_clean(b.id, b.dir);

        json_t *idle = exe_spec(root, "/bin/sleep", "30", NULL);
        itest_bundle_new(&b, "badexec", idle);
        itest_rt(&r, "run", "--detach", "--bundle", b.dir, b.id, NULL);
        itest_assert_status(&r, 0);
        itest_rt(&r, "exec", b.id, "/bin/badinterp", NULL);
        assert_failed_with(&r, "exec", badinterp);
        itest_rt(&r, "exec", b.id, "/bin/notelf", NULL);
        assert_failed_with(&r, "exec", "exec /bin/notelf: Exec format error");
        sec_delete(b.id);
        sec_assert_clean(b.id, b.dir);
        json_decref(cfg);
        json_decref(idle);
}
END_TEST

Suite *test_suite(void)
{
        Suite *s = sec_suite("sec_exe");
        itest_add(s, "runtime_binary_not_overwritten", runtime_binary_not_overwritten);
        itest_add(s, "init_never_runs_runtime", init_never_runs_runtime);
        itest_add(s, "process_identity_unchanged", process_identity_unchanged);
        itest_add(s, "exec_errors_reported", exec_errors_reported);
        return s;
}
