/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Component tests of VPS templates (runtime/vps/template/), as root:
 * owners kept on import, the busybox template's shell and init for real
 * (chroot, namespaces), debootstrap. The rest: tests/unit/test_template.c.
 *
 * The real debootstrap run needs the network: it runs only with
 * BERTH_TEST_DEBOOTSTRAP=1 and a mirror that answers within 3 seconds. */
#include <archive.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_main.h"
#include "berth/cleanup.h"
#include "berth/template.h"
#include "tmpl_util.h"

#define NO_BUSYBOX "no /bin/busybox (install busybox-static)"

/* Checked setup: chown, chroot and namespaces. */
static void need_root(void)
{
        SKIP_IF(geteuid() != 0, "needs root (chown, chroot, namespaces)");
}

/* ---- import keeps owners ------------------------------------------------ */

START_TEST(import_directory_keeps_owners)
{
        char src[512], p[1024];
        pathf(src, sizeof(src), "%s/src", data);
        ck_assert_int_eq(mkdir(src, 0755), 0);
        pathf(p, sizeof(p), "%s/secret", src);
        write_file(p, "s3cret\n", 7);
        ck_assert_int_eq(chown(p, 1234, 5678), 0);
        struct berth_err err = {0};
        ck_assert_msg(berth_template_import(data, "dir", src, &err) == 0, "%s", err.msg);
        struct stat a;
        pathf(p, sizeof(p), "%s/templates/dir/rootfs/secret", data);
        ck_assert_int_eq(stat(p, &a), 0);
        ck_assert_msg(a.st_uid == 1234 && a.st_gid == 5678, "owner %d:%d", a.st_uid, a.st_gid);
}
END_TEST

START_TEST(import_tarball_keeps_owners)
{
        static const struct tent ents[] = {
            {"./", 'd', 0755, NULL, 0},
            {"./etc/", 'd', 0755, NULL, 0},
            {"./etc/hello", 'f', 0600, "hello world\n", 42},
        };
        size_t len = 0;
        _cleanup_free_ char *buf = make_tar(ARCHIVE_FILTER_GZIP, ents, BERTH_ARRAY_SIZE(ents), &len);
        char path[512], p[1024];
        pathf(path, sizeof(path), "%s/owners.tar", data);
        write_file(path, buf, len);
        struct berth_err err = {0};
        ck_assert_msg(berth_template_import(data, "tar", path, &err) == 0, "%s", err.msg);
        struct stat a;
        pathf(p, sizeof(p), "%s/templates/tar/rootfs/etc/hello", data);
        ck_assert_int_eq(stat(p, &a), 0);
        ck_assert_msg(a.st_uid == 42 && a.st_gid == 42, "owner %d:%d", a.st_uid, a.st_gid);
}
END_TEST

/* ---- busybox ------------------------------------------------------------ */

/* Runs the template's shell in a chroot: the applets really work. */
START_TEST(busybox_runs)
{
        SKIP_IF(access("/bin/busybox", X_OK) != 0, NO_BUSYBOX);
        struct berth_err err = {0};
        ck_assert_int_eq(berth_template_create_busybox(data, "run", &err), 0);
        char root[512];
        ck_assert_int_eq(berth_template_rootfs(data, "run", root, sizeof(root), &err), 0);
        int p[2];
        ck_assert_int_eq(pipe(p), 0);
        pid_t pid = fork();
        if (pid == 0) {
                dup2(p[1], 1);
                if (chroot(root) < 0 || chdir("/") < 0)
                        _exit(100);
                execl("/bin/sh", "sh", "-c", "echo $(cat /etc/hostname) $(ls /bin | grep -c .) ok",
                      (char *)NULL);
                _exit(101);
        }
        close(p[1]);
        char out[256] = "";
        ssize_t n = read(p[0], out, sizeof(out) - 1);
        close(p[0]);
        int status;
        waitpid(pid, &status, 0);
        ck_assert_int_gt(n, 0);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
        ck_assert_msg(strstr(out, "localhost") && strstr(out, " ok"), "output: %s", out);
}
END_TEST

/* The template's busybox init boots (rcS prints "booted") as pid 1 of a
 * new pid namespace and powers off on the recorded stop signal. */
static void __attribute__((noreturn)) init_child(const char *root, int out, int pidpipe)
{
        if (unshare(CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWUTS) < 0)
                _exit(100);
        pid_t pid = fork();
        if (pid == 0) {
                dup2(out, 1);
                dup2(out, 2);
                if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 || chroot(root) < 0 ||
                    chdir("/") < 0)
                        _exit(102);
                execl("/sbin/init", "init", (char *)NULL);
                _exit(103);
        }
        if (write(pidpipe, &pid, sizeof(pid)) != sizeof(pid))
                _exit(104);
        int status;
        if (waitpid(pid, &status, 0) < 0)
                _exit(105);
        _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

static bool read_until(int fd, const char *want, int timeout_ms, char *buf, size_t len)
{
        size_t n = 0;
        buf[0] = '\0';
        for (int waited = 0; waited < timeout_ms && !strstr(buf, want); waited += 50) {
                struct pollfd pfd = {.fd = fd, .events = POLLIN};
                if (poll(&pfd, 1, 50) > 0) {
                        ssize_t r = read(fd, buf + n, len - 1 - n);
                        if (r <= 0)
                                break;
                        n += (size_t)r;
                        buf[n] = '\0';
                }
        }
        return strstr(buf, want) != NULL;
}

START_TEST(busybox_init_stops_on_signal)
{
        SKIP_IF(access("/bin/busybox", X_OK) != 0, NO_BUSYBOX);
        struct berth_err err = {0};
        ck_assert_int_eq(berth_template_create_busybox(data, "boot", &err), 0);
        struct berth_template_info info;
        ck_assert_int_eq(berth_template_info(data, "boot", &info, &err), 0);
        ck_assert_str_eq(info.stop_signal, "SIGUSR2");
        int out[2], pp[2];
        ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
        ck_assert_int_eq(pipe2(pp, O_CLOEXEC), 0);
        pid_t child = fork();
        if (child == 0)
                init_child(info.rootfs, out[1], pp[1]);
        close(out[1]);
        close(pp[1]);
        pid_t init = 0;
        ck_assert_int_eq(read(pp[0], &init, sizeof(init)), (ssize_t)sizeof(init));
        char buf[4096];
        bool booted = read_until(out[0], "booted", 5000, buf, sizeof(buf));
        if (booted)
                usleep(200 * 1000); /* init installs its handlers before running sysinit */
        kill(init, booted ? SIGUSR2 : SIGKILL);
        int status = -1;
        for (int i = 0; i < 100 && waitpid(child, &status, WNOHANG) == 0; i++)
                usleep(100 * 1000);
        if (status == -1) {
                kill(init, SIGKILL);
                waitpid(child, &status, 0);
                ck_abort_msg("busybox init did not stop on SIGUSR2 within 10 s");
        }
        close(out[0]);
        close(pp[0]);
        berth_template_info_clear(&info);
        ck_assert_msg(booted, "init never printed 'booted': %s", buf);
}
END_TEST

/* ---- debootstrap -------------------------------------------------------- */

START_TEST(debootstrap_failure_leaves_nothing)
{
        SKIP_IF(access("/usr/sbin/debootstrap", X_OK) != 0, "debootstrap is not installed");
        struct berth_err err = {0};
        /* port 9 (discard) on loopback: refused at once, no network used */
        int r = berth_template_create_debootstrap(data, "deb", "bookworm", "http://127.0.0.1:9/debian", NULL,
                                                  NULL, NULL, &err);
        ck_assert_int_eq(r, -EIO);
        ck_assert_ptr_nonnull(strstr(err.msg, "debootstrap failed"));
        ck_assert_int_eq(berth_exit_code_from_errno(err.code), BERTH_EXIT_RESOURCE);
        ck_assert_int_eq(count_entries(false), 0);
        ck_assert_int_eq(
            berth_template_create_debootstrap(data, "deb", "--help", NULL, NULL, NULL, NULL, &err), -EINVAL);
}
END_TEST

/* The mirror's host answers a TCP connect within 3 s. */
static bool mirror_reachable(const char *mirror)
{
        char host[256] = "";
        const char *p = strstr(mirror, "://");
        if (!p)
                return false;
        p += 3;
        size_t len = strcspn(p, ":/");
        snprintf(host, sizeof(host), "%.*s", (int)len, p);
        const char *port = !strncmp(mirror, "https", 5) ? "443" : "80";
        struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
        if (getaddrinfo(host, port, &hints, &ai) != 0)
                return false;
        int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        bool ok = false;
        if (fd >= 0 && (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 || errno == EINPROGRESS)) {
                struct pollfd pfd = {.fd = fd, .events = POLLOUT};
                int soerr = 0;
                socklen_t sl = sizeof(soerr);
                ok = poll(&pfd, 1, 3000) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 &&
                     soerr == 0;
        }
        if (fd >= 0)
                close(fd);
        freeaddrinfo(ai);
        return ok;
}

static void count_line(void *data_, const char *line)
{
        (void)line;
        (*(int *)data_)++;
}

START_TEST(debootstrap_real)
{
        const char *opt = getenv("BERTH_TEST_DEBOOTSTRAP");
        SKIP_IF(!opt || strcmp(opt, "1"), "set BERTH_TEST_DEBOOTSTRAP=1 to run it (downloads ~50 MB)");
        struct berth_err err = {0};
        _cleanup_free_ char *mirror = NULL;
        SKIP_IF(berth_template_find_mirror(NULL, "bookworm", &mirror, &err) < 0 || !mirror_reachable(mirror),
                "no reachable mirror (%s)", mirror ? mirror : err.msg);
        int lines = 0;
        const char *suite = getenv("BERTH_TEST_SUITE") ? getenv("BERTH_TEST_SUITE") : "bookworm";
        int r = berth_template_create_debootstrap(data, "deb", suite, NULL, NULL, count_line, &lines, &err);
        ck_assert_msg(r == 0, "%s", err.msg);
        ck_assert_int_gt(lines, 10);
        ck_assert(exists_in("deb", "usr/bin/apt-get"));
        ck_assert(exists_in("deb", "sbin/init"));
        json_t *j = metadata("deb");
        char want[64];
        pathf(want, sizeof(want), "debootstrap:%s", suite);
        ck_assert_str_eq(json_string_value(json_object_get(j, "source")), want);
        ck_assert_str_eq(json_string_value(json_object_get(j, "stop_signal")), "SIGRTMIN+3");
        json_decref(j);
}
END_TEST

Suite *test_suite(void)
{
        Suite *s = suite_create("template_root");
        struct {
                const char *name;
                const TTest *test;
                int timeout;
        } cases[] = {
            {"import_directory_keeps_owners", import_directory_keeps_owners, 10},
            {"import_tarball_keeps_owners", import_tarball_keeps_owners, 10},
            {"busybox_runs", busybox_runs, 10},
            {"busybox_init_stops_on_signal", busybox_init_stops_on_signal, 30},
            {"debootstrap_failure_leaves_nothing", debootstrap_failure_leaves_nothing, 60},
            {"debootstrap_real", debootstrap_real, 1800},
        };
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(cases); i++) {
                TCase *tc = tcase_create(cases[i].name);
                tcase_add_unchecked_fixture(tc, tmpl_setup, tmpl_teardown);
                tcase_add_checked_fixture(tc, need_root, NULL);
                tcase_set_timeout(tc, cases[i].timeout);
                tcase_add_test(tc, cases[i].test);
                suite_add_tcase(s, tc);
        }
        return s;
}
