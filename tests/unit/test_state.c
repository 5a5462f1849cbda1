/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The state store: ids, atomic state.json round trips, listing, removal,
 * the init liveness check that a recycled pid cannot fool. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_main.h"
#include "berth/cleanup.h"
#include "berth/state.h"

static char root[64];
static int root_fd = -1;

static void setup(void)
{
        snprintf(root, sizeof(root), "/tmp/berth-state-test.XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(root));
        struct berth_err err = {0};
        root_fd = berth_state_root_open(root, &err);
        ck_assert_int_ge(root_fd, 0);
}

static void teardown(void)
{
        struct berth_err err = {0};
        char **ids = NULL;
        int n = berth_state_list(root_fd, &ids, &err);
        for (int i = 0; i < n; i++)
                berth_state_dir_remove(root_fd, ids[i], &err);
        berth_strv_freep(&ids);
        close(root_fd);
        rmdir(root);
}

START_TEST(id_rules)
{
        ck_assert(berth_id_valid("abc"));
        ck_assert(berth_id_valid("a1_b.c+d-e"));
        ck_assert(!berth_id_valid(""));
        ck_assert(!berth_id_valid("-x"));
        ck_assert(!berth_id_valid("../etc"));
        ck_assert(!berth_id_valid("a/b"));
        ck_assert(!berth_id_valid("a b"));
        char longid[BERTH_ID_MAX + 2];
        memset(longid, 'a', sizeof(longid) - 1);
        longid[sizeof(longid) - 1] = '\0';
        ck_assert(!berth_id_valid(longid));
}
END_TEST

static struct berth_key_value ann[] = {{"org.example/a", "1"}, {"b", "two"}};

START_TEST(round_trip)
{
        struct berth_err err = {0};
        _cleanup_close_ int dir = berth_state_dir_create(root_fd, "c1", &err);
        ck_assert_int_ge(dir, 0);
        struct berth_state st = {.id = "c1",
                                 .bundle = "/b",
                                 .rootfs = "/b/rootfs",
                                 .pid = 1234,
                                 .pid_start_time = 987654321,
                                 .created = "2026-01-01T00:00:00Z",
                                 .owner = "root",
                                 .cgroup = "{\"x\":1}",
                                 .annotations = ann,
                                 .n_annotations = 2};
        ck_assert_int_eq(berth_state_write(dir, &st, &err), 0);
        struct stat sb;
        ck_assert_int_ne(fstatat(dir, "state.json.tmp", &sb, 0), 0); /* renamed into place */
        struct berth_state back;
        ck_assert_int_eq(berth_state_read(dir, &back, &err), 0);
        ck_assert_str_eq(back.id, "c1");
        ck_assert_str_eq(back.bundle, "/b");
        ck_assert_int_eq(back.pid, 1234);
        ck_assert_uint_eq(back.pid_start_time, 987654321);
        ck_assert_str_eq(back.cgroup, "{\"x\":1}");
        ck_assert_uint_eq(back.n_annotations, 2);
        ck_assert_str_eq(back.annotations[1].value, "two");
        berth_state_clear(&back);
}
END_TEST

START_TEST(duplicate_and_missing)
{
        struct berth_err err = {0};
        int dir = berth_state_dir_create(root_fd, "dup", &err);
        ck_assert_int_ge(dir, 0);
        close(dir);
        ck_assert_int_eq(berth_state_dir_create(root_fd, "dup", &err), -EEXIST);
        ck_assert_ptr_nonnull(strstr(err.msg, "container with id exists: dup"));
        ck_assert_int_eq(berth_state_dir_open(root_fd, "nope", &err), -ENOENT);
        ck_assert_ptr_nonnull(strstr(err.msg, "container does not exist: nope"));
        ck_assert_int_eq(berth_state_dir_create(root_fd, "../x", &err), -EINVAL);
}
END_TEST

/* create's directory: made under a temporary name, locked, renamed into
 * place; the lock is visible to others (trylock fails) until closed. */
START_TEST(locked_create)
{
        struct berth_err err = {0};
        int lock = -1;
        _cleanup_close_ int dir = berth_state_dir_create_locked(root_fd, "lk", &lock, &err);
        ck_assert_int_ge(dir, 0);
        ck_assert_int_ge(lock, 0);
        ck_assert_int_eq(faccessat(root_fd, "lk", F_OK, 0), 0);
        char tmp[64];
        snprintf(tmp, sizeof(tmp), ".new.lk.%d", (int)getpid());
        ck_assert_int_ne(faccessat(root_fd, tmp, F_OK, 0), 0);
        int other = -1;
        ck_assert_int_eq(berth_state_trylock(dir, &other), 0);
        close(lock);
        ck_assert_int_eq(berth_state_trylock(dir, &other), 1);
        close(other);
        int lock2 = -1;
        ck_assert_int_eq(berth_state_dir_create_locked(root_fd, "lk", &lock2, &err), -EEXIST);
        ck_assert_int_lt(lock2, 0);
        ck_assert_ptr_nonnull(strstr(err.msg, "container with id exists: lk"));
        ck_assert_int_ne(faccessat(root_fd, tmp, F_OK, 0), 0); /* no temporary left */
}
END_TEST

/* A create killed between mkdir and rename leaves an empty .new.<id>.<pid>:
 * swept unless its creator still holds it; another id's stays. */
START_TEST(sweep_new_dirs)
{
        ck_assert_int_eq(mkdirat(root_fd, ".new.sw.1", 0711), 0);
        ck_assert_int_eq(mkdirat(root_fd, ".new.sw.2", 0711), 0);
        ck_assert_int_eq(mkdirat(root_fd, ".new.sw.x.3", 0711), 0);
        _cleanup_close_ int held = openat(root_fd, ".new.sw.2", O_RDONLY | O_DIRECTORY);
        int lock = -1;
        ck_assert_int_eq(berth_state_trylock(held, &lock), 1);
        ck_assert_int_eq(berth_state_sweep_new(root_fd, "sw"), 1);
        ck_assert_int_ne(faccessat(root_fd, ".new.sw.1", F_OK, 0), 0);
        ck_assert_int_eq(faccessat(root_fd, ".new.sw.2", F_OK, 0), 0);
        ck_assert_int_eq(faccessat(root_fd, ".new.sw.x.3", F_OK, 0), 0);
        close(lock);
        ck_assert_int_eq(berth_state_sweep_new(root_fd, "sw"), 1);
        ck_assert_int_eq(unlinkat(root_fd, ".new.sw.x.3", AT_REMOVEDIR), 0);
}
END_TEST

/* delete removes state.json first and the cgroup record last, and takes
 * .tmp leftovers with it. */
START_TEST(remove_with_leftovers)
{
        struct berth_err err = {0};
        _cleanup_close_ int dir = berth_state_dir_create(root_fd, "rm", &err);
        ck_assert_int_ge(dir, 0);
        static const char *const files[] = {"state.json", BERTH_STATE_CGROUP_FILE, "state.json.tmp",
                                            "config.json"};
        for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
                close(openat(dir, files[i], O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
        ck_assert_int_eq(berth_state_dir_remove(root_fd, "rm", &err), 0);
        ck_assert_int_ne(faccessat(root_fd, "rm", F_OK, 0), 0);
}
END_TEST

START_TEST(bad_state_files)
{
        static const char *const bad[] = {
            "",
            "[]",
            "{",
            "{\"id\":\"x\"}",
            "{\"id\":\"x\",\"bundle\":\"/b\",\"pid\":-1,\"pid_start_time\":1}",
            "{\"id\":\"x\",\"bundle\":\"/b\",\"pid\":\"1\",\"pid_start_time\":1}",
            "{\"id\":\"x\",\"bundle\":\"/b\",\"pid\":1,\"pid_start_time\":1,\"annotations\":{\"a\":1}}",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                struct berth_err err = {0};
                struct berth_state st;
                ck_assert_msg(berth_state_parse(bad[i], strlen(bad[i]), &st, &err) < 0, "accepted: %s",
                              bad[i]);
                ck_assert_ptr_nonnull(strstr(err.msg, "state.json"));
        }
}
END_TEST

START_TEST(list_and_remove)
{
        struct berth_err err = {0};
        const char *names[] = {"b", "a", "c"};
        for (int i = 0; i < 3; i++) {
                int dir = berth_state_dir_create(root_fd, names[i], &err);
                ck_assert_int_ge(dir, 0);
                int fd = openat(dir, "state.json", O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
                close(fd);
                close(dir);
        }
        char **ids = NULL;
        ck_assert_int_eq(berth_state_list(root_fd, &ids, &err), 3);
        ck_assert_str_eq(ids[0], "a");
        ck_assert_str_eq(ids[2], "c");
        ck_assert_ptr_null(ids[3]);
        berth_strv_freep(&ids);
        ck_assert_int_eq(berth_state_dir_remove(root_fd, "b", &err), 0);
        ck_assert_int_eq(berth_state_dir_open(root_fd, "b", &err), -ENOENT);
        ck_assert_int_eq(berth_state_dir_remove(root_fd, "b", &err), 0); /* idempotent */
}
END_TEST

START_TEST(stat_parsing)
{
        /* A command name with spaces and parentheses must not shift fields. */
        const char *line = "42 (a (b) c) S 1 42 42 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 5555 1000 10";
        ck_assert_uint_eq(berth_proc_stat_start_time(line), 5555);
        ck_assert_uint_eq(berth_proc_stat_start_time("garbage"), 0);
        ck_assert_uint_eq(berth_proc_stat_start_time("1 (x) S 1 2"), 0);
        ck_assert(!berth_proc_stat_exited(line));
        /* Zombie, dead, or running with PF_EXITING (0x4) in the flags. */
        ck_assert(berth_proc_stat_exited("42 (a (b) c) Z 1 42 42 0 -1 4194560 100"));
        ck_assert(berth_proc_stat_exited("42 (a (b) c) X 1 42 42 0 -1 4194560 100"));
        ck_assert(berth_proc_stat_exited("42 (a (b) c) S 1 42 42 0 -1 4194564 100"));
        ck_assert(berth_proc_stat_exited("42 (x) S 1 2"));
}
END_TEST

START_TEST(liveness)
{
        pid_t child = fork();
        if (child == 0) {
                pause();
                _exit(0);
        }
        struct berth_state st = {.id = "x", .pid = child, .pid_start_time = berth_proc_start_time(child)};
        ck_assert(berth_state_init_alive(&st));
        st.pid_start_time++; /* a recycled pid has another start time */
        ck_assert(!berth_state_init_alive(&st));
        st.pid_start_time--;
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        ck_assert(!berth_state_init_alive(&st));
}
END_TEST

/* The init of a pid namespace, killed, stays in its exit (not yet a
 * zombie, its namespaces already gone) for as long as a process of its
 * namespace waits to be reaped by a parent outside: here the helper that
 * made the namespace, until told to reap. Such an init is not running. */
START_TEST(liveness_exiting_ns_init)
{
        int up[2], go[2];
        ck_assert_int_eq(pipe(up), 0);
        ck_assert_int_eq(pipe(go), 0);
        pid_t helper = fork();
        if (helper == 0) {
                close(up[0]);
                close(go[1]);
                if (unshare(CLONE_NEWPID) < 0)
                        _exit(77);
                pid_t init = fork();
                if (init == 0) {
                        pause();
                        _exit(0);
                }
                if (fork() == 0) { /* pid 2 of the namespace, the helper's child */
                        pause();
                        _exit(0);
                }
                (void)!write(up[1], &init, sizeof(init));
                char c;
                (void)!read(go[0], &c, 1);
                while (wait(NULL) > 0)
                        ;
                _exit(0);
        }
        close(up[1]);
        close(go[0]);
        pid_t init = 0;
        if (read(up[0], &init, sizeof(init)) != sizeof(init)) {
                int status;
                waitpid(helper, &status, 0);
                ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 77, "helper failed");
                return; /* no CLONE_NEWPID here (not root): nothing to check */
        }
        struct berth_state st = {.id = "x", .pid = init, .pid_start_time = berth_proc_start_time(init)};
        ck_assert(berth_state_init_alive(&st));
        kill(init, SIGKILL);
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)init);
        struct stat sb;
        for (int i = 0; i < 500 && stat(path, &sb) == 0; i++)
                usleep(2000);
        ck_assert_int_eq(kill(init, 0), 0); /* in its exit, not reaped */
        ck_assert(!berth_state_init_alive(&st));
        close(go[1]);
        waitpid(helper, NULL, 0);
}
END_TEST

START_TEST(oci_state_document)
{
        struct berth_state st = {.id = "c9", .bundle = "/bundle", .pid = 77};
        char *s = berth_oci_state_format(&st, BERTH_STATUS_RUNNING, false, false);
        ck_assert_ptr_nonnull(strstr(s, "\"status\":\"running\""));
        ck_assert_ptr_nonnull(strstr(s, "\"pid\":77"));
        ck_assert_ptr_nonnull(strstr(s, "\"ociVersion\""));
        ck_assert_ptr_nonnull(strstr(s, "\"annotations\":{}"));
        free(s);
        s = berth_oci_state_format(&st, BERTH_STATUS_STOPPED, true, false);
        ck_assert_ptr_nonnull(strstr(s, "\"pid\":0"));
        ck_assert_ptr_nonnull(strstr(s, "\"rootfs\""));
        free(s);
}
END_TEST

Suite *test_suite(void)
{
        Suite *s = suite_create("state");
        TCase *tc = tcase_create("store");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, id_rules);
        tcase_add_test(tc, round_trip);
        tcase_add_test(tc, duplicate_and_missing);
        tcase_add_test(tc, bad_state_files);
        tcase_add_test(tc, locked_create);
        tcase_add_test(tc, sweep_new_dirs);
        tcase_add_test(tc, remove_with_leftovers);
        tcase_add_test(tc, list_and_remove);
        tcase_add_test(tc, stat_parsing);
        tcase_add_test(tc, liveness);
        tcase_add_test(tc, liveness_exiting_ns_init);
        tcase_add_test(tc, oci_state_document);
        suite_add_tcase(s, tc);
        return s;
}
