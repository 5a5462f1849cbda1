/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The debootstrap template: Debian's own debootstrap (--variant=minbase,
 * plus an init and iproute2 so the VPS can boot and configure its network,
 * plus the packages of --include, e.g. openssh-server) into the temporary
 * build directory, then the suite's updates and security sources
 * (sources.c). Not a hot path: forking is fine. A template's SSH host
 * keys are replaced by each VPS's own at its first start (identity.c).
 *
 * debootstrap mounts /proc, /sys and sometimes /dev inside the target and
 * may leave them mounted when it fails. It therefore runs in a private
 * mount namespace of its own: every mount it makes dies with it, and the
 * removal of a failed build can never reach into a host filesystem. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/vps/template/internal.h"

#define DEBOOTSTRAP_INCLUDE "systemd-sysv,iproute2,iputils-ping"

/* The caller's PATH first (as a shell would run it), then where Debian
 * installs it (root's PATH under sudo may lack /usr/sbin). */
static const char *find_debootstrap(char *buf, size_t len)
{
        const char *path = getenv("PATH");
        for (const char *p = path; p && *p;) {
                const char *colon = strchrnul(p, ':');
                if (*p == '/' && snprintf(buf, len, "%.*s/debootstrap", (int)(colon - p), p) < (int)len &&
                    access(buf, X_OK) == 0)
                        return buf;
                p = *colon ? colon + 1 : colon;
        }
        static const char *const paths[] = {"/usr/sbin/debootstrap", "/usr/bin/debootstrap",
                                            "/sbin/debootstrap"};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(paths); i++)
                if (access(paths[i], X_OK) == 0)
                        return paths[i];
        return NULL;
}

/* Debian policy's package names: [a-z0-9][a-z0-9+.-]+. */
static bool package_valid(const char *s, size_t n)
{
        if (n < 2 || n > 128 || !strchr("abcdefghijklmnopqrstuvwxyz0123456789", s[0]))
                return false;
        for (size_t i = 1; i < n; i++)
                if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789+.-", s[i]) || !s[i])
                        return false;
        return true;
}

int berth_template_include_check(const char *include, struct berth_err *err)
{
        if (!include || !*include)
                return berth_err_set(err, EINVAL, "--include: no package given");
        for (const char *p = include;;) {
                const char *comma = strchrnul(p, ',');
                if (!package_valid(p, (size_t)(comma - p)))
                        return berth_err_set(err, EINVAL, "--include: \"%.*s\" is not a Debian package name",
                                             (int)(comma - p), p);
                if (!*comma)
                        return 0;
                p = comma + 1;
        }
}

static bool suite_valid(const char *s)
{
        return s && *s && *s != '-' && strlen(s) < 64 &&
               strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789.-_") == strlen(s);
}

/* In the child, after fork: only async-signal-safe calls until execve. */
static void __attribute__((noreturn)) exec_child(const char *prog, char **argv, char **envp, int out)
{
        /* A private mount namespace: debootstrap's mounts stay with it. */
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                _exit(126);
        int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
        /* dup2 without CLOEXEC on purpose: debootstrap's stdio. */
        if (devnull < 0 || dup2(devnull, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0 ||
            dup2(out, STDERR_FILENO) < 0)
                _exit(126);
        execve(prog, argv, envp);
        _exit(127);
}

/* Environment for debootstrap: a clean one, plus the host's proxy settings
 * (which a mirror may need). */
struct child_env {
        char *env[16];
        char store[5][512];
};

static void build_env(struct child_env *ce)
{
        static const char *const pass[] = {"http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY",
                                           "HTTPS_PROXY"};
        size_t n = 0;
        ce->env[n++] = (char *)"PATH=/usr/sbin:/usr/bin:/sbin:/bin";
        ce->env[n++] = (char *)"HOME=/root";
        ce->env[n++] = (char *)"LC_ALL=C";
        ce->env[n++] = (char *)"DEBIAN_FRONTEND=noninteractive";
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(pass); i++) {
                const char *v = getenv(pass[i]);
                if (v && snprintf(ce->store[i], sizeof(ce->store[i]), "%s=%s", pass[i], v) <
                             (int)sizeof(ce->store[i]))
                        ce->env[n++] = ce->store[i];
        }
        ce->env[n] = NULL;
}

struct progress {
        void (*fn)(void *data, const char *line);
        void *data;
        char last[512]; /* last non-empty line: the reason when debootstrap fails */
};

static void emit_lines(struct progress *p, char *buf, size_t *len, bool flush)
{
        char *start = buf, *end = buf + *len;
        for (;;) {
                char *nl = memchr(start, '\n', (size_t)(end - start));
                if (!nl && !(flush && start < end))
                        break;
                char *stop = nl ? nl : end;
                *stop = '\0';
                if (stop > start && stop[-1] == '\r')
                        stop[-1] = '\0';
                if (*start) {
                        snprintf(p->last, sizeof(p->last), "%s", start);
                        if (p->fn)
                                p->fn(p->data, start);
                }
                start = nl ? nl + 1 : end;
        }
        *len = (size_t)(end - start);
        memmove(buf, start, *len);
}

static int pump_output(int fd, struct progress *p)
{
        char buf[4096];
        size_t len = 0;
        for (;;) {
                ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                len += (size_t)n;
                emit_lines(p, buf, &len, len == sizeof(buf) - 1);
        }
        emit_lines(p, buf, &len, true);
        return 0;
}

static int run_debootstrap(const char *prog, char **argv, struct progress *p, struct berth_err *err)
{
        int pipefd[2];
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return berth_err_sys(err, errno, "debootstrap: pipe");
        struct child_env ce;
        build_env(&ce);
        pid_t pid = fork();
        if (pid < 0) {
                int e = errno;
                close(pipefd[0]);
                close(pipefd[1]);
                return berth_err_sys(err, e, "debootstrap: fork");
        }
        if (pid == 0)
                exec_child(prog, argv, ce.env, pipefd[1]);
        close(pipefd[1]);
        pump_output(pipefd[0], p);
        close(pipefd[0]);
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return berth_err_sys(err, errno, "debootstrap: wait");
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        if (WIFEXITED(status) && WEXITSTATUS(status) >= 126)
                return berth_err_set(err, EIO, "debootstrap: cannot run %s (private mount namespace or exec)",
                                     prog);
        return berth_err_set(
            err, EIO, "debootstrap failed (%s %d)%s%s", WIFEXITED(status) ? "exit status" : "signal",
            WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), p->last[0] ? ": " : "", p->last);
}

/* The absolute path of the build's rootfs/, checked to be the directory
 * the build holds open (debootstrap needs a path, not an fd). */
static int build_rootfs_path(const struct tmpl_build *b, const char *data_dir, char *out, size_t len)
{
        char tpath[PATH_MAX];
        snprintf(tpath, sizeof(tpath), "%s/templates", data_dir);
        char real[PATH_MAX];
        if (!realpath(tpath, real))
                return -errno;
        if (snprintf(out, len, "%s/%s/rootfs", real, b->tmpname) >= (int)len)
                return -ENAMETOOLONG;
        struct stat a, c;
        if (stat(out, &a) < 0 || fstat(b->rootfs_fd, &c) < 0)
                return -errno;
        return a.st_dev == c.st_dev && a.st_ino == c.st_ino ? 0 : -ESTALE;
}

static int check_prereqs(const char *name, const char *suite, const char *include, const char **prog,
                         char *buf, size_t len, struct berth_err *err)
{
        int r = tmpl_check_name(name, err);
        if (r < 0)
                return r;
        if (!suite_valid(suite))
                return berth_err_set(err, EINVAL, "invalid suite \"%s\"", suite ? suite : "");
        if (include && (r = berth_template_include_check(include, err)) < 0)
                return r;
        if (geteuid() != 0)
                return berth_err_set(err, EPERM, "create template %s: debootstrap needs root", name);
        *prog = find_debootstrap(buf, len);
        if (!*prog)
                return berth_err_set(err, ENOENT, "create template %s: debootstrap is not installed", name);
        return 0;
}

int berth_template_create_debootstrap(const char *data_dir, const char *name, const char *suite,
                                      const char *mirror, const char *include,
                                      void (*progress)(void *data, const char *line), void *progress_data,
                                      struct berth_err *err)
{
        const char *prog = NULL;
        char prog_buf[PATH_MAX];
        int r = check_prereqs(name, suite, include, &prog, prog_buf, sizeof(prog_buf), err);
        if (r < 0)
                return r;
        _cleanup_free_ char *found = NULL;
        if (!mirror && berth_template_find_mirror(NULL, suite, &found, err) < 0)
                return berth_err_wrap(err, "create template %s", name);
        mirror = mirror ? mirror : found;
        if (!*mirror || *mirror == '-')
                return berth_err_set(err, EINVAL, "invalid mirror \"%s\"", mirror);
        _cleanup_tmpl_build_ struct tmpl_build b = {
            .templates_fd = -EBADF, .tmp_fd = -EBADF, .rootfs_fd = -EBADF};
        r = tmpl_build_begin(&b, data_dir, name, err);
        if (r < 0)
                return r;
        char target[PATH_MAX];
        r = build_rootfs_path(&b, data_dir, target, sizeof(target));
        if (r < 0)
                return berth_err_sys(err, -r, "create template %s: build directory", name);
        _cleanup_free_ char *inc = NULL;
        if (asprintf(&inc, "--include=%s%s%s", DEBOOTSTRAP_INCLUDE, include ? "," : "",
                     include ? include : "") < 0)
                return berth_err_set(err, ENOMEM, "create template %s: out of memory", name);
        char *argv[] = {(char *)"debootstrap",
                        (char *)"--variant=minbase",
                        inc,
                        (char *)suite,
                        target,
                        (char *)mirror,
                        NULL};
        struct progress p = {.fn = progress, .data = progress_data};
        if (run_debootstrap(prog, argv, &p, err) < 0)
                return berth_err_wrap(err, "create template %s (%s from %s)", name, suite, mirror);
        if (tmpl_sources_write(b.rootfs_fd, NULL, mirror, suite, err) < 0)
                return berth_err_wrap(err, "create template %s", name);
        char source[128];
        snprintf(source, sizeof(source), "debootstrap:%s", suite);
        return tmpl_build_commit(&b, source, NULL, err);
}
