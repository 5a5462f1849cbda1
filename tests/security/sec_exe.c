/* CVE-2019-5736: a container overwriting the runtime binary through
 * /proc/<pid>/exe while the runtime execs into it.
 *
 * The test runs a private copy of the runtime binary (so a vulnerable
 * runtime damages only the copy). The container's init is the attacker: it
 * scans /proc/<pid>/exe of every process it can see for that very inode,
 * keeps O_PATH fds of it and keeps trying to reopen them for writing, the
 * way the original exploit did. Meanwhile the test runs `exec` into the
 * container many times: a plain process, and "/proc/self/exe" (which would
 * run the runtime's own binary inside the container). Afterwards the copy
 * must be byte-identical and the attacker must have written nothing. */
#include "sec.h"

#include <errno.h>
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

static void exec_rounds(const char *id, int *ran_self)
{
        for (int i = 0; i < EXEC_ROUNDS; i++) {
                struct itest_result r;
                itest_rt(&r, "exec", id, "/bin/attacker", "noop", NULL);
                itest_assert_status(&r, 0);
                free(r.out);
                free(r.err);
                /* Whatever happens, this must not run the host runtime
                 * inside the container. */
                itest_rt(&r, "exec", id, "/proc/self/exe", "--version", NULL);
                if (r.status == 0 && strstr(r.out, "berth"))
                        (*ran_self)++;
                free(r.out);
                free(r.err);
        }
}

START_TEST(runtime_binary_not_overwritten)
{
        sec_begin();
        struct stat st;
        use_private_runtime(&st);
        size_t len_before;
        char *before = sec_slurp(itest()->bin, &len_before);
        char dev[32], ino[32];
        snprintf(dev, sizeof(dev), "%llu", (unsigned long long)st.st_dev);
        snprintf(ino, sizeof(ino), "%llu", (unsigned long long)st.st_ino);

        struct itest_bundle b;
        itest_bundle_new(&b, "exe", sec_spec("exe", dev, ino, ATTACK_SECS, NULL));
        struct itest_proc p;
        struct itest_opts o = ITEST_OPTS_DEFAULT;
        const char *argv[] = {"run", "--bundle", b.dir, b.id, NULL};
        ck_assert_int_eq(itest_rt_spawn(&p, &o, argv), 0);
        ck_assert_msg(itest_wait_status(b.id, "running", 10000), "container never ran");
        int ran_self = 0;
        exec_rounds(b.id, &ran_self);
        struct itest_result r;
        itest_proc_wait(&p, &r, 60000);
        itest_assert_status(&r, 0);

        size_t len_after;
        char *after = sec_slurp(itest()->bin, &len_after);
        ck_assert_msg(len_before == len_after && memcmp(before, after, len_before) == 0,
                      "the runtime binary was modified from inside the container\n%s", r.out);
        itest_assert_kv(r.out, "exe.written", "0");
        /* Non-dumpable until execve: the container never even gets an fd. */
        itest_assert_kv(r.out, "exe.opened", "0");
        ck_assert_msg(ran_self == 0,
                      "exec of /proc/self/exe ran the host runtime inside the container (%d times)",
                      ran_self);
        printf("exe attack: %s", r.out);
        sec_assert_clean(b.id, b.dir);
        free(before);
        free(after);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("sec_exe");
        itest_add(s, "runtime_binary_not_overwritten", runtime_binary_not_overwritten);
        return sec_main(s);
}
