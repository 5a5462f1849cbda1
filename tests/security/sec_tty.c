/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Terminal injection: a process in a container (every binary there belongs
 * to the container's owner) that gets the admin's terminal as its stdio can
 * push a command line into that terminal's input with TIOCSTI (or a paste
 * with TIOCLINUX); the admin's shell then runs it, as root, on the host.
 *
 * berth runs from a real pseudo-terminal here, which is its controlling
 * terminal, as an admin's shell would have it; /bin/attacker inside tries
 * the ioctls on fds 0-2 and /dev/tty. Nothing may arrive in the terminal's
 * input queue, and the attacker must see no terminal at all. */
#include "sec.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define PAYLOAD     "touch /tmp/tty-pwned\n"
#define LEGACY_PATH "/proc/sys/dev/tty/legacy_tiocsti"

struct pty_result {
        int status;
        char out[16384];  /* what berth and the process wrote to the terminal */
        char queued[256]; /* the terminal's input queue afterwards */
        int n_queued;
};

static void child_on_pty(const char *slave_path, const char *const *argv)
{
        setsid();
        int s = open(slave_path, O_RDWR); /* a session leader's first tty: its ctty */
        if (s < 0 || ioctl(s, TIOCSCTTY, 0) < 0)
                _exit(126);
        for (int fd = 0; fd < 3; fd++)
                dup2(s, fd);
        if (s > 2)
                close(s);
        execv(argv[0], (char *const *)argv);
        _exit(127);
}

static long long now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs `berth --root STATE ARGS...` on a new raw pty that is its
 * controlling terminal; `input` is typed into the terminal once it runs. */
static void pty_run(struct pty_result *r, const char *input, const char *const *args)
{
        memset(r, 0, sizeof(*r));
        const char *argv[32] = {itest()->bin, "--root", itest()->state};
        size_t n = 3;
        for (size_t i = 0; args[i] && n < 31; i++)
                argv[n++] = args[i];
        int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        ck_assert_msg(master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0, "posix_openpt");
        char slave_path[64];
        ck_assert(ptsname_r(master, slave_path, sizeof(slave_path)) == 0);
        /* Ours, kept open: the input queue outlives berth's end. */
        int slave = open(slave_path, O_RDWR | O_NOCTTY | O_CLOEXEC);
        ck_assert(slave >= 0);
        struct termios t;
        ck_assert(tcgetattr(slave, &t) == 0);
        cfmakeraw(&t); /* no echo, no line editing: FIONREAD counts every byte */
        ck_assert(tcsetattr(slave, TCSANOW, &t) == 0);
        fflush(NULL);
        pid_t pid = fork();
        ck_assert(pid >= 0);
        if (pid == 0)
                child_on_pty(slave_path, argv);
        size_t len = 0;
        long long deadline = now_ms() + ITEST_TIMEOUT_MS;
        bool typed = !input, done = false;
        while (!done && now_ms() < deadline) {
                struct pollfd p = {.fd = master, .events = POLLIN};
                if (poll(&p, 1, 100) == 1 && len < sizeof(r->out) - 1) {
                        ssize_t k = read(master, r->out + len, sizeof(r->out) - 1 - len);
                        len += k > 0 ? (size_t)k : 0;
                }
                if (!typed && now_ms() > deadline - ITEST_TIMEOUT_MS + 1000)
                        typed = write(master, input, strlen(input)) == (ssize_t)strlen(input);
                done = waitpid(pid, &r->status, WNOHANG) == pid;
        }
        if (!done) {
                kill(pid, SIGKILL);
                waitpid(pid, &r->status, 0);
                r->status = -1;
        }
        struct pollfd p = {.fd = master, .events = POLLIN};
        while (len < sizeof(r->out) - 1 && poll(&p, 1, 0) == 1) {
                ssize_t k = read(master, r->out + len, sizeof(r->out) - 1 - len);
                if (k <= 0)
                        break;
                len += (size_t)k;
        }
        r->out[len] = '\0';
        if (r->status >= 0)
                r->status = WIFEXITED(r->status) ? WEXITSTATUS(r->status) : 128 + WTERMSIG(r->status);
        /* What the shell would read next: anything injected. */
        ck_assert(ioctl(slave, FIONREAD, &r->n_queued) == 0);
        fcntl(slave, F_SETFL, O_NONBLOCK);
        ssize_t q = read(slave, r->queued, sizeof(r->queued) - 1);
        r->queued[q > 0 ? q : 0] = '\0';
        close(slave);
        close(master);
}

/* dev.tty.legacy_tiocsti (Linux 6.2+) at 1: TIOCSTI works for anyone on
 * their controlling terminal, as on every older kernel (Debian 12's 6.1).
 * The host's own value is put back before any assertion. */
static int legacy_set(int value)
{
        int fd = open(LEGACY_PATH, O_RDWR | O_CLOEXEC);
        if (fd < 0)
                return -1;
        char buf[16] = "";
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        int old = n > 0 ? atoi(buf) : -1;
        char v[16];
        int len = snprintf(v, sizeof(v), "%d\n", value);
        if (old < 0 || pwrite(fd, v, (size_t)len, 0) != len)
                old = -1;
        close(fd);
        return old;
}

static void assert_not_injected(const struct pty_result *r, const char *what)
{
        ck_assert_msg(r->n_queued == 0, "%s: %d bytes were pushed into the admin's terminal input: '%s'\n%s",
                      what, r->n_queued, r->queued, r->out);
        for (int fd = 0; fd < 3; fd++) {
                char key[32];
                snprintf(key, sizeof(key), "fd%d.isatty", fd);
                itest_assert_kv(r->out, key, "0");
                snprintf(key, sizeof(key), "fd%d.tiocsti", fd);
                const char *v = itest_kv(r->out, key);
                ck_assert_msg(v && strcmp(v, "ok"), "%s: %s=%s\n%s", what, key, v ? v : "(missing)", r->out);
                snprintf(key, sizeof(key), "fd%d.tioclinux", fd);
                v = itest_kv(r->out, key);
                ck_assert_msg(v && strcmp(v, "ok"), "%s: %s=%s\n%s", what, key, v ? v : "(missing)", r->out);
        }
        const char *ctty = itest_kv(r->out, "ctty");
        ck_assert_msg(ctty && strcmp(ctty, "ok"), "%s: the process has a controlling terminal\n%s", what,
                      r->out);
}

/* A container running `sleep`, with CAP_SYS_ADMIN when asked. */
static const char *start_sleeper(struct itest_bundle *b, bool sys_admin)
{
        json_t *cfg = sec_spec("noop", NULL);
        json_t *args = json_array();
        json_array_append_new(args, json_string("sleep"));
        json_array_append_new(args, json_string("300"));
        itest_set(cfg, "process.args", args);
        if (sys_admin)
                sec_add_cap(cfg, "CAP_SYS_ADMIN");
        itest_bundle_new(b, "tty", cfg);
        json_decref(cfg);
        struct itest_result r;
        itest_rt(&r, "run", "--detach", "--bundle", b->dir, b->id, NULL);
        itest_assert_status(&r, 0);
        return b->id;
}

/* legacy: the sysctl's value for the test (as kernels before 6.2, e.g.
 * Debian 12's, behave) or 0 (a hardened host, where CAP_SYS_ADMIN still
 * allows TIOCSTI). */
static void exec_from_pty(bool sys_admin, int legacy)
{
        sec_begin();
        struct itest_bundle b;
        const char *id = start_sleeper(&b, sys_admin);
        int old = legacy_set(legacy);
        struct pty_result r;
        const char *args[] = {"exec", id, "/bin/attacker", "tty", PAYLOAD, NULL};
        pty_run(&r, NULL, args);
        if (old >= 0)
                legacy_set(old);
        ck_assert_msg(r.status == 0, "exec exited %d\n%s", r.status, r.out);
        assert_not_injected(&r, "exec");
        sec_delete(id);
        sec_assert_clean(id, b.dir);
}

/* No CAP_SYS_ADMIN: TIOCSTI wants the terminal to be the caller's
 * controlling one (and the legacy sysctl on 6.2+). */
START_TEST(exec_from_pty_legacy)
{
        if (access(LEGACY_PATH, F_OK) != 0)
                printf("no %s: this kernel always allows TIOCSTI on the own terminal\n", LEGACY_PATH);
        exec_from_pty(false, 1);
}
END_TEST

/* CAP_SYS_ADMIN (a container without a user namespace may have it) lifts
 * the controlling-terminal check and the sysctl: a new session is not
 * enough. */
START_TEST(exec_from_pty_sys_admin)
{
        exec_from_pty(true, 0);
}
END_TEST

/* run with process.terminal false: its init is in a session of its own
 * already; CAP_SYS_ADMIN still reaches the terminal it inherits. */
START_TEST(run_from_pty_sys_admin)
{
        sec_begin();
        json_t *cfg = sec_spec("tty", PAYLOAD, NULL);
        sec_add_cap(cfg, "CAP_SYS_ADMIN");
        struct itest_bundle b;
        itest_bundle_new(&b, "ttyrun", cfg);
        json_decref(cfg);
        int old = legacy_set(0);
        struct pty_result r;
        const char *args[] = {"run", "--bundle", b.dir, b.id, NULL};
        pty_run(&r, NULL, args);
        if (old >= 0)
                legacy_set(old);
        ck_assert_msg(r.status == 0, "run exited %d\n%s", r.status, r.out);
        assert_not_injected(&r, "run");
        sec_assert_clean(b.id, b.dir);
}
END_TEST

/* The relay still carries what the admin types to the process, and the
 * process's output and exit code back. */
START_TEST(exec_from_pty_relays_input)
{
        sec_begin();
        struct itest_bundle b;
        const char *id = start_sleeper(&b, false);
        struct pty_result r;
        const char *args[] = {
            "exec",
            id,
            "sh",
            "-c",
            "read x; echo got=$x; echo err=1 >&2; head -c 12000 /dev/zero | tr '\\0' x; echo; "
            "echo END; exit 3",
            NULL};
        pty_run(&r, "typed-line\n", args);
        ck_assert_msg(r.status == 3, "exec exited %d\n%s", r.status, r.out);
        ck_assert_msg(strstr(r.out, "got=typed-line"), "typed input did not reach the process:\n%s", r.out);
        ck_assert_msg(strstr(r.out, "err=1"), "stderr did not reach the terminal:\n%s", r.out);
        /* All of a burst written just before the exit arrives. */
        size_t xs = 0;
        for (const char *c = r.out; *c; c++)
                xs += *c == 'x';
        ck_assert_msg(xs == 12000 && strstr(r.out, "END"), "%zu of 12000 bytes arrived:\n%.300s", xs, r.out);
        ck_assert_msg(r.n_queued == 0, "input left in the terminal: '%s'", r.queued);
        sec_delete(id);
        sec_assert_clean(id, b.dir);
}
END_TEST

/* The host pid written to pid_file by the runtime. */
static pid_t read_pid(const char *pid_file)
{
        char *text = itest_read_file(pid_file);
        pid_t pid = (pid_t)atoi(text);
        free(text);
        ck_assert_msg(pid > 0, "no pid in %s", pid_file);
        return pid;
}

/* Nobody relays for a process berth leaves running: it gets /dev/null
 * where berth had its terminal. */
static void assert_no_terminal_fds(pid_t pid, const char *what)
{
        for (int fd = 0; fd < 3; fd++) {
                char path[64], target[PATH_MAX] = "";
                snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, fd);
                ssize_t n = readlink(path, target, sizeof(target) - 1);
                if (n < 0) /* e.g. killed by the SIGHUP of our terminal's end */
                        snprintf(target, sizeof(target), "unreadable (%s)", strerror(errno));
                else
                        target[n] = '\0';
                ck_assert_msg(!strcmp(target, "/dev/null"), "%s: fd %d of the process is %s, not /dev/null",
                              what, fd, target);
        }
}

START_TEST(detached_from_pty)
{
        sec_begin();
        struct itest_bundle b;
        const char *id = start_sleeper(&b, false);
        const char *exec_pid = itest_path("exec.pid");
        struct pty_result r;
        const char *exec_args[] = {"exec", "--detach", "--pid-file", exec_pid, id, "sleep", "60", NULL};
        pty_run(&r, NULL, exec_args);
        ck_assert_msg(r.status == 0, "exec --detach exited %d\n%s", r.status, r.out);
        assert_no_terminal_fds(read_pid(exec_pid), "exec --detach");
        /* create: the init waits for start with the stdio it will exec with. */
        json_t *cfg = sec_spec("noop", NULL);
        struct itest_bundle c;
        itest_bundle_new(&c, "ttycreate", cfg);
        json_decref(cfg);
        const char *init_pid = itest_path("init.pid");
        const char *create_args[] = {"create", "--bundle", c.dir, "--pid-file", init_pid, c.id, NULL};
        pty_run(&r, NULL, create_args);
        ck_assert_msg(r.status == 0, "create exited %d\n%s", r.status, r.out);
        assert_no_terminal_fds(read_pid(init_pid), "create");
        sec_delete(c.id);
        sec_delete(id);
        sec_assert_clean(c.id, c.dir);
        sec_assert_clean(id, b.dir);
}
END_TEST

Suite *test_suite(void)
{
        Suite *s = sec_suite("sec_tty");
        itest_add(s, "exec_from_pty_legacy", exec_from_pty_legacy);
        itest_add(s, "exec_from_pty_sys_admin", exec_from_pty_sys_admin);
        itest_add(s, "run_from_pty_sys_admin", run_from_pty_sys_admin);
        itest_add(s, "exec_from_pty_relays_input", exec_from_pty_relays_input);
        itest_add(s, "detached_from_pty", detached_from_pty);
        return s;
}
