/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Running the criu program: finding it, `criu check`, the command line
 * pieces checkpoint and restore share, and reporting its failures with the
 * error lines of its log (criu's exit status alone says nothing). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/file.h"
#include "runtime/checkpoint/internal.h"

void criu_argv_add(struct criu_argv *a, const char *arg)
{
        if (a->oom)
                return;
        if (a->n + 2 > a->cap) {
                size_t cap = a->cap ? a->cap * 2 : 32;
                char **v = realloc(a->v, cap * sizeof(*v));
                if (!v) {
                        a->oom = true;
                        return;
                }
                a->v = v;
                a->cap = cap;
        }
        a->v[a->n] = strdup(arg);
        if (!a->v[a->n]) {
                a->oom = true;
                return;
        }
        a->v[++a->n] = NULL;
}

void criu_argv_addf(struct criu_argv *a, const char *fmt, ...)
{
        _cleanup_free_ char *s = NULL;
        va_list ap;
        va_start(ap, fmt);
        int r = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (r < 0) {
                s = NULL;
                a->oom = true;
                return;
        }
        criu_argv_add(a, s);
}

void criu_argv_free(struct criu_argv *a)
{
        for (size_t i = 0; i < a->n; i++)
                free(a->v[i]);
        free(a->v);
        *a = (struct criu_argv){0};
}

void criu_add_common(struct criu_argv *a, const struct berth_checkpoint_opts *o, const char *work,
                     const char *log)
{
        criu_argv_addf(a, "--images-dir=%s", o->image_path);
        criu_argv_addf(a, "--work-dir=%s", work);
        criu_argv_addf(a, "--log-file=%s", log);
        criu_argv_add(a, "-v4");
        static const struct {
                size_t off;
                const char *flag;
        } flags[] = {
            {offsetof(struct berth_checkpoint_opts, tcp_established), "--tcp-established"},
            {offsetof(struct berth_checkpoint_opts, ext_unix_sk), "--ext-unix-sk"},
            {offsetof(struct berth_checkpoint_opts, shell_job), "--shell-job"},
            {offsetof(struct berth_checkpoint_opts, file_locks), "--file-locks"},
        };
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(flags); i++)
                if (*(const bool *)((const char *)o + flags[i].off))
                        criu_argv_add(a, flags[i].flag);
}

bool berth_criu_find(const char *criu, char *out, size_t out_len)
{
        if (!criu)
                criu = "criu";
        if (strchr(criu, '/'))
                return access(criu, X_OK) == 0 && (size_t)snprintf(out, out_len, "%s", criu) < out_len;
        const char *path = getenv("PATH");
        _cleanup_free_ char *dirs =
            strdup(path && *path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        char *save = NULL;
        for (char *d = dirs ? strtok_r(dirs, ":", &save) : NULL; d; d = strtok_r(NULL, ":", &save)) {
                if ((size_t)snprintf(out, out_len, "%s/%s", d, criu) >= out_len)
                        continue;
                if (access(out, X_OK) == 0)
                        return true;
        }
        /* criu lives in /usr/sbin, which a user's PATH may lack. */
        if ((size_t)snprintf(out, out_len, "/usr/sbin/%s", criu) < out_len && access(out, X_OK) == 0)
                return true;
        return false;
}

/* The lines of `text` that carry "Error", joined with "; " into out. */
static void error_lines(const char *text, char *out, size_t len)
{
        out[0] = '\0';
        size_t used = 0;
        for (const char *p = text; p && *p;) {
                const char *nl = strchr(p, '\n');
                size_t n = nl ? (size_t)(nl - p) : strlen(p);
                const char *e = memmem(p, n, "Error", 5);
                if (e && used + 3 < len) {
                        n -= (size_t)(e - p);
                        int w = snprintf(out + used, len - used, "%s%.*s", used ? "; " : "", (int)n, e);
                        used = w < 0 ? used : used + (size_t)w >= len ? len - 1 : used + (size_t)w;
                }
                p = nl ? nl + 1 : NULL;
        }
}

/* What fd holds, or NULL: for error messages only. */
static char *read_all(int fd)
{
        char *text = NULL;
        return berth_read_fd(fd, 1 << 20, &text, NULL) < 0 ? NULL : text;
}

static int wait_child(pid_t pid, int *status)
{
        while (waitpid(pid, status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        return 0;
}

int berth_criu_check(const char *criu_path, struct berth_err *err)
{
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return berth_err_sys(err, errno, "criu check: pipe");
        pid_t pid = fork();
        if (pid < 0) {
                close(p[0]);
                close(p[1]);
                return berth_err_sys(err, errno, "criu check: fork");
        }
        if (pid == 0) {
                dup2(p[1], STDOUT_FILENO); /* no CLOEXEC: criu's stdio */
                dup2(p[1], STDERR_FILENO);
                execl(criu_path, criu_path, "check", (char *)NULL);
                dprintf(STDERR_FILENO, "Error: exec %s: %s\n", criu_path, strerror(errno));
                _exit(127);
        }
        close(p[1]);
        _cleanup_free_ char *out = read_all(p[0]);
        close(p[0]);
        int status = 0;
        if (wait_child(pid, &status) < 0)
                return berth_err_sys(err, errno, "criu check: wait");
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        char lines[700];
        error_lines(out, lines, sizeof(lines));
        return berth_err_set(err, ENOTSUP, "criu check failed on this kernel: %s",
                             lines[0] ? lines : "criu exited without saying why");
}

int criu_prepare(const char *criu_opt, char *criu, size_t len, const char *verb, struct berth_err *err)
{
        if (!berth_criu_find(criu_opt, criu, len))
                return berth_err_set(err, ENOENT, "%s: criu (\"%s\") not found: install the criu package",
                                     verb, criu_opt ? criu_opt : "criu");
        int r = berth_criu_check(criu, err);
        return r < 0 ? berth_err_wrap(err, "%s", verb) : 0;
}

/* In the forked child, before exec: with run->place, the parent's word
 * that it has been placed (a systemd scope); its own mount namespace for the
 * restore root (so nothing is left mounted on the host if criu dies), the
 * container's cgroup (criu forks the restored tasks from itself), and the
 * fds criu must inherit. Reports failures over errfd. */
static __attribute__((noreturn)) void criu_child(const char *criu, char **argv, const struct criu_run *run,
                                                 int errfd, int gofd)
{
        struct berth_err err = {0};
        char go = 0;
        /* Placed first (restore into a systemd scope): nothing of ours
         * runs before the parent says where we are; EOF means it failed
         * and reports why itself. */
        if (gofd >= 0 && read(gofd, &go, 1) != 1)
                _exit(126);
        if (run->root_bind &&
            (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0 ||
             mount(run->root_bind, run->root_mnt, NULL, MS_BIND | MS_REC, NULL) < 0))
                berth_err_sys(&err, errno, "bind the root %s onto %s", run->root_bind, run->root_mnt);
        if (!err.code && run->cg && !run->place && berth_cgroup_attach(run->cg, getpid(), &err) < 0)
                berth_err_wrap(&err, "join the container's cgroup");
        for (size_t i = 0; !err.code && i < BERTH_ARRAY_SIZE(run->keep_fds) && run->keep_fds[i] >= 0; i++)
                if (fcntl(run->keep_fds[i], F_SETFD, 0) < 0)
                        berth_err_sys(&err, errno, "pass fd %d to criu", run->keep_fds[i]);
        if (!err.code) {
                execv(criu, argv);
                berth_err_sys(&err, errno, "exec %s", criu);
        }
        if (write(errfd, &err, sizeof(err)) < 0)
                _exit(126);
        _exit(126);
}

static int criu_wait(pid_t pid, int errfd, const char *work, const char *log, const char *what,
                     struct berth_err *err)
{
        struct berth_err child = {0};
        ssize_t n = read(errfd, &child, sizeof(child));
        close(errfd);
        int status = 0;
        if (wait_child(pid, &status) < 0)
                return berth_err_sys(err, errno, "criu %s: wait", what);
        if (n == (ssize_t)sizeof(child) && child.code) {
                *err = child;
                return berth_err_wrap(err, "criu %s", what);
        }
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/%s", work, log);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        _cleanup_free_ char *text = fd >= 0 ? read_all(fd) : NULL;
        char lines[700];
        error_lines(text, lines, sizeof(lines));
        return berth_err_set(err, EIO, "criu %s failed (%s %d; log: %s)%s%s", what,
                             WIFEXITED(status) ? "exit status" : "signal",
                             WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), path,
                             lines[0] ? ": " : "", lines);
}

/* The criu child waits (gofd) until place() has put it where the
 * restored tree must live; on failure it is told nothing and exits. */
static int place_and_wait(pid_t pid, int errfd, int go[2], const struct criu_run *run, const char *work,
                          const char *log, const char *what, struct berth_err *err)
{
        close(go[0]);
        int r = run->place(run->place_arg, pid, err);
        if (r >= 0 && send(go[1], "g", 1, MSG_NOSIGNAL) != 1)
                r = berth_err_sys(err, errno, "criu %s: wake the criu child", what);
        close(go[1]);
        if (r >= 0)
                return criu_wait(pid, errfd, work, log, what, err);
        close(errfd);
        int status;
        wait_child(pid, &status);
        return r;
}

int criu_run(const char *criu, const struct criu_argv *a, const struct criu_run *run, const char *work,
             const char *log, const char *what, struct berth_err *err)
{
        if (a->oom)
                return berth_err_set(err, ENOMEM, "criu %s: out of memory", what);
        int p[2], go[2] = {-1, -1};
        if (pipe2(p, O_CLOEXEC) < 0)
                return berth_err_sys(err, errno, "criu %s: pipe", what);
        /* A socket, not a pipe: a child killed before it reads the go
         * byte must not take us down with SIGPIPE (MSG_NOSIGNAL). */
        if (run->place && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, go) < 0) {
                close(p[0]);
                close(p[1]);
                return berth_err_sys(err, errno, "criu %s: socketpair", what);
        }
        pid_t pid = fork();
        if (pid < 0) {
                close(p[0]);
                close(p[1]);
                if (run->place) {
                        close(go[0]);
                        close(go[1]);
                }
                return berth_err_sys(err, errno, "criu %s: fork", what);
        }
        if (pid == 0) {
                close(p[0]);
                if (run->place)
                        close(go[1]);
                criu_child(criu, a->v, run, p[1], go[0]);
        }
        close(p[1]);
        if (run->place)
                return place_and_wait(pid, p[0], go, run, work, log, what, err);
        return criu_wait(pid, p[0], work, log, what, err);
}
