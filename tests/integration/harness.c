/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Integration-test harness: context, suite plumbing, running the runtime,
 * specs and bundles. Host-state inspection and cleanup live in host.c. */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef ITEST_DEFAULT_BIN
#define ITEST_DEFAULT_BIN "berth"
#endif
#ifndef ITEST_DEFAULT_ROOTFS
#define ITEST_DEFAULT_ROOTFS "rootfs"
#endif

/* Test-only global: Check's fixtures take no arguments. */
static struct itest_ctx ctx;

struct itest_ctx *itest(void)
{
        return &ctx;
}

static char *ring_next(void)
{
        static char ring[32][PATH_MAX];
        static unsigned idx;
        return ring[idx++ % 32];
}

/* ---- suite plumbing ------------------------------------------------------ */

static void fill_paths(struct itest_ctx *c)
{
        const char *bin = getenv("BERTH_BIN");
        const char *rootfs = getenv("BERTH_ITEST_ROOTFS");

        snprintf(c->bin, sizeof(c->bin), "%s", bin && *bin ? bin : ITEST_DEFAULT_BIN);
        snprintf(c->rootfs, sizeof(c->rootfs), "%s", rootfs && *rootfs ? rootfs : ITEST_DEFAULT_ROOTFS);
        snprintf(c->cgparent, sizeof(c->cgparent), "berth-itest-%d", (int)getpid());
}

/* Test-only global: a further executable the suite needs in the rootfs. */
static char required[PATH_MAX];

void itest_require(const char *rel)
{
        snprintf(required, sizeof(required), "%s", rel);
}

static bool executable_in(const char *root, const char *rel)
{
        char path[PATH_MAX * 2];
        snprintf(path, sizeof(path), "%s/%s", root, rel);
        return access(path, X_OK) == 0;
}

const char *itest_unavailable(void)
{
        static char why[PATH_MAX + 128];

        fill_paths(&ctx);
        if (geteuid() != 0)
                return "integration tests need root";
        if (!executable_in(ctx.rootfs, "bin/busybox"))
                snprintf(why, sizeof(why), "no static busybox in the test rootfs %s (install busybox-static)",
                         ctx.rootfs);
        else if (!executable_in(ctx.rootfs, "bin/probe"))
                snprintf(why, sizeof(why), "no probe in the test rootfs %s", ctx.rootfs);
        else if (required[0] && !executable_in(ctx.rootfs, required))
                snprintf(why, sizeof(why), "no %s in the test rootfs %s", required, ctx.rootfs);
        else if (access(ctx.bin, X_OK) != 0)
                snprintf(why, sizeof(why), "runtime binary %s is not executable", ctx.bin);
        else
                return NULL;
        return why;
}

/* Unchecked: runs in the runner, so a test's leftovers go even when its
 * process dies. One test per TCase: a skip here skips that test. */
static void fixture_setup(void)
{
        const char *why = itest_unavailable();
        SKIP_IF(why, "%s", why);
        fill_paths(&ctx);
        snprintf(ctx.tmp, sizeof(ctx.tmp), "/tmp/berth-itest.XXXXXX");
        if (!mkdtemp(ctx.tmp)) {
                perror("mkdtemp");
                abort();
        }
        chmod(ctx.tmp, 0755);
        snprintf(ctx.state, sizeof(ctx.state), "%s/state", ctx.tmp);
        ctx.counter = 0;
}

static void fixture_teardown(void)
{
        itest_cleanup(&ctx);
}

Suite *itest_suite(const char *name)
{
        fill_paths(&ctx);
        printf("runtime: %s\n", ctx.bin);
        return suite_create(name);
}

void itest_add_timeout(Suite *s, const char *name, const TTest *test, double seconds)
{
        TCase *tc = tcase_create(name);
        tcase_add_unchecked_fixture(tc, fixture_setup, fixture_teardown);
        tcase_set_timeout(tc, seconds);
        _tcase_add_test(tc, test, 0, 0, 0, 1);
        suite_add_tcase(s, tc);
}

void itest_add(Suite *s, const char *name, const TTest *test)
{
        itest_add_timeout(s, name, test, 60);
}

/* ---- running the runtime ------------------------------------------------- */

static int pidfd_open_(pid_t pid)
{
        return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* In the forked child: stdio, extra fds at 3.., defaults for signals. */
static void child_exec(const struct itest_proc *p, const struct itest_opts *o, const char *const *argv)
{
        int in = o->stdin_fd >= 0 ? o->stdin_fd : open("/dev/null", O_RDONLY);
        int out = o->stdout_fd >= 0 ? o->stdout_fd : open(p->out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int err = o->stderr_fd >= 0 ? o->stderr_fd : open(p->err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int high[16];
        sigset_t all;

        /* Move everything above the target range first so dup2 cannot
         * clobber a source fd. */
        in = fcntl(in, F_DUPFD, 100);
        out = fcntl(out, F_DUPFD, 100);
        err = fcntl(err, F_DUPFD, 100);
        for (size_t i = 0; i < o->n_extra_fds && i < 16; i++)
                high[i] = fcntl(o->extra_fds[i], F_DUPFD, 100);
        dup2(in, 0);
        dup2(out, 1);
        dup2(err, 2);
        for (size_t i = 0; i < o->n_extra_fds && i < 16; i++)
                dup2(high[i], 3 + (int)i);
        syscall(SYS_close_range, 3 + o->n_extra_fds, ~0U, 0);
        for (int sig = 1; sig < NSIG; sig++)
                signal(sig, SIG_DFL);
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        execv(argv[0], (char *const *)argv);
        dprintf(2, "itest: exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
}

int itest_rt_spawn(struct itest_proc *p, const struct itest_opts *o, const char *const *argv)
{
        const char *full[64];
        size_t n = 0;
        int k = ++ctx.counter;

        full[n++] = ctx.bin;
        full[n++] = "--root";
        full[n++] = ctx.state;
        for (size_t i = 0; argv[i] && n < 63; i++)
                full[n++] = argv[i];
        full[n] = NULL;
        snprintf(p->out_path, sizeof(p->out_path), "%s/rt-%d-%d.out", ctx.tmp, (int)getpid(), k);
        snprintf(p->err_path, sizeof(p->err_path), "%s/rt-%d-%d.err", ctx.tmp, (int)getpid(), k);
        fflush(NULL);
        p->pid = fork();
        if (p->pid < 0)
                return -errno;
        if (p->pid == 0)
                child_exec(p, o, full);
        p->pidfd = pidfd_open_(p->pid);
        return 0;
}

char *itest_read_file(const char *path)
{
        FILE *f = fopen(path, "re");
        char *buf = NULL;
        size_t len = 0;

        if (!f)
                return strdup("");
        FILE *m = open_memstream(&buf, &len);
        char chunk[4096];
        size_t n;
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
                fwrite(chunk, 1, n, m);
        fclose(f);
        fclose(m);
        return buf;
}

char *itest_proc_out(const struct itest_proc *p)
{
        return itest_read_file(p->out_path);
}

int itest_proc_wait(struct itest_proc *p, struct itest_result *r, int timeout_ms)
{
        struct pollfd pfd = {.fd = p->pidfd, .events = POLLIN};
        int status = 0;

        if (timeout_ms <= 0)
                timeout_ms = ITEST_TIMEOUT_MS;
        r->status = -1;
        if (p->pidfd >= 0 && poll(&pfd, 1, timeout_ms) == 0) {
                fprintf(stderr, "itest: runtime pid %d timed out after %d ms, killing it\n", (int)p->pid,
                        timeout_ms);
                kill(p->pid, SIGKILL);
                waitpid(p->pid, &status, 0);
        } else if (waitpid(p->pid, &status, 0) == p->pid) {
                r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        if (p->pidfd >= 0)
                close(p->pidfd);
        p->pidfd = -1;
        r->out = itest_read_file(p->out_path);
        r->err = itest_read_file(p->err_path);
        return r->status;
}

int itest_rt_opts(struct itest_result *r, const struct itest_opts *o, const char *const *argv)
{
        struct itest_proc p;
        int ret = itest_rt_spawn(&p, o, argv);

        if (ret < 0) {
                r->status = -1;
                r->out = strdup("");
                r->err = strdup(strerror(-ret));
                return -1;
        }
        return itest_proc_wait(&p, r, o->timeout_ms);
}

int itest_rt(struct itest_result *r, const char *arg, ...)
{
        const char *argv[64];
        size_t n = 0;
        va_list ap;
        struct itest_opts o = ITEST_OPTS_DEFAULT;

        va_start(ap, arg);
        for (const char *a = arg; a && n < 63; a = va_arg(ap, const char *))
                argv[n++] = a;
        va_end(ap);
        argv[n] = NULL;
        return itest_rt_opts(r, &o, argv);
}

/* ---- specs and bundles --------------------------------------------------- */

/* Mirrors `runc spec` (runc 1.1), without the cgroup mount and terminal. */
static const char base_spec[] =
    "{\"ociVersion\":\"1.0.2\","
    "\"process\":{\"terminal\":false,\"user\":{\"uid\":0,\"gid\":0},\"args\":[],"
    "\"env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\"TERM=xterm\"],"
    "\"cwd\":\"/\","
    "\"capabilities\":{"
    "\"bounding\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
    "\"effective\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
    "\"permitted\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
    "\"ambient\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"]},"
    "\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1024,\"soft\":1024}],"
    "\"noNewPrivileges\":true},"
    "\"root\":{\"path\":\"rootfs\",\"readonly\":true},"
    "\"hostname\":\"itest\","
    "\"mounts\":["
    "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
    "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
    "\"options\":[\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]},"
    "{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\","
    "\"options\":[\"nosuid\",\"noexec\",\"newinstance\",\"ptmxmode=0666\",\"mode=0620\",\"gid=5\"]},"
    "{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\","
    "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"mode=1777\",\"size=65536k\"]},"
    "{\"destination\":\"/dev/mqueue\",\"type\":\"mqueue\",\"source\":\"mqueue\","
    "\"options\":[\"nosuid\",\"noexec\",\"nodev\"]},"
    "{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\","
    "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"ro\"]}],"
    "\"linux\":{\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]},"
    "\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\"},{\"type\":\"ipc\"},"
    "{\"type\":\"uts\"},{\"type\":\"mount\"}],"
    "\"maskedPaths\":[\"/proc/acpi\",\"/proc/asound\",\"/proc/kcore\",\"/proc/keys\","
    "\"/proc/latency_stats\",\"/proc/timer_list\",\"/proc/timer_stats\",\"/proc/sched_debug\","
    "\"/sys/firmware\",\"/proc/scsi\"],"
    "\"readonlyPaths\":[\"/proc/bus\",\"/proc/fs\",\"/proc/irq\",\"/proc/sys\","
    "\"/proc/sysrq-trigger\"]}}";

json_t *itest_spec(const char *arg0, ...)
{
        json_error_t jerr;
        json_t *cfg = json_loads(base_spec, 0, &jerr);
        json_t *args = json_array();
        va_list ap;

        ck_assert_msg(cfg, "base spec: %s", jerr.text);
        va_start(ap, arg0);
        for (const char *a = arg0; a; a = va_arg(ap, const char *))
                json_array_append_new(args, json_string(a));
        va_end(ap);
        itest_set(cfg, "process.args", args);
        itest_set(cfg, "root.path", json_string(ctx.rootfs));
        return cfg;
}

/* Walks a dotted path, creating objects; returns the parent of the last
 * component and points *last at it (inside a ring buffer). */
static json_t *walk(json_t *cfg, const char *path, const char **last)
{
        char *buf = ring_next();
        json_t *cur = cfg;

        snprintf(buf, PATH_MAX, "%s", path);
        char *part = buf, *dot;
        while ((dot = strchr(part, '.'))) {
                *dot = '\0';
                json_t *next = json_object_get(cur, part);
                if (!json_is_object(next)) {
                        next = json_object();
                        json_object_set_new(cur, part, next);
                }
                cur = next;
                part = dot + 1;
        }
        *last = part;
        return cur;
}

void itest_set(json_t *cfg, const char *path, json_t *value)
{
        const char *last;
        json_t *parent = walk(cfg, path, &last);
        json_object_set_new(parent, last, value);
}

void itest_push(json_t *cfg, const char *path, json_t *value)
{
        const char *last;
        json_t *parent = walk(cfg, path, &last);
        json_t *arr = json_object_get(parent, last);
        if (!json_is_array(arr)) {
                arr = json_array();
                json_object_set_new(parent, last, arr);
        }
        json_array_append_new(arr, value);
}

void itest_ns_remove(json_t *cfg, const char *type)
{
        json_t *nss = json_object_get(json_object_get(cfg, "linux"), "namespaces");
        for (size_t i = 0; i < json_array_size(nss); i++) {
                const char *t = json_string_value(json_object_get(json_array_get(nss, i), "type"));
                if (t && !strcmp(t, type)) {
                        json_array_remove(nss, i);
                        return;
                }
        }
}

void itest_ns_set(json_t *cfg, const char *type, const char *path)
{
        itest_ns_remove(cfg, type);
        json_t *ns = json_pack("{s:s}", "type", type);
        if (path)
                json_object_set_new(ns, "path", json_string(path));
        itest_push(cfg, "linux.namespaces", ns);
}

void itest_bundle_new(struct itest_bundle *b, const char *name, const json_t *cfg)
{
        char path[PATH_MAX + 16];
        json_t *copy = json_deep_copy(cfg);

        snprintf(b->id, sizeof(b->id), "%s-%d", name, ++ctx.counter);
        snprintf(b->dir, sizeof(b->dir), "%s/%s", ctx.tmp, b->id);
        ck_assert_msg(mkdir(b->dir, 0755) == 0, "mkdir %s: %s", b->dir, strerror(errno));
        json_t *linux_ = json_object_get(copy, "linux");
        if (linux_ && !json_object_get(linux_, "cgroupsPath")) {
                snprintf(path, sizeof(path), "%s/%s", ctx.cgparent, b->id);
                json_object_set_new(linux_, "cgroupsPath", json_string(path));
        }
        snprintf(path, sizeof(path), "%s/config.json", b->dir);
        ck_assert_msg(json_dump_file(copy, path, JSON_INDENT(2)) == 0, "write %s", path);
        json_decref(copy);
}

int itest_run_cfg(struct itest_result *r, const char *name, const json_t *cfg)
{
        struct itest_bundle b;
        itest_bundle_new(&b, name, cfg);
        return itest_rt(r, "run", "--bundle", b.dir, b.id, NULL);
}

/* ---- reading results ----------------------------------------------------- */

const char *itest_kv(const char *text, const char *key)
{
        size_t klen = strlen(key);

        for (const char *line = text; line && *line;) {
                const char *nl = strchr(line, '\n');
                size_t len = nl ? (size_t)(nl - line) : strlen(line);
                if (len > 0 && line[len - 1] == '\r') /* output read from a tty */
                        len--;
                if (len > klen && !strncmp(line, key, klen) && line[klen] == '=') {
                        char *v = ring_next();
                        snprintf(v, PATH_MAX, "%.*s", (int)(len - klen - 1), line + klen + 1);
                        return v;
                }
                line = nl ? nl + 1 : NULL;
        }
        return NULL;
}

json_t *itest_state(const char *id)
{
        struct itest_result r;
        if (itest_rt(&r, "state", id, NULL) != 0)
                return NULL;
        return json_loads(r.out, 0, NULL);
}

const char *itest_state_status(const char *id)
{
        json_t *st = itest_state(id);
        const char *s = json_string_value(json_object_get(st, "status"));
        char *v = ring_next();
        snprintf(v, PATH_MAX, "%s", s ? s : "");
        json_decref(st);
        return st ? v : NULL;
}

static long long now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

bool itest_wait_status(const char *id, const char *status, int timeout_ms)
{
        long long end = now_ms() + timeout_ms;
        do {
                const char *s = itest_state_status(id);
                if (status ? s && !strcmp(s, status) : !s)
                        return true;
                usleep(20 * 1000);
        } while (now_ms() < end);
        return false;
}

bool itest_wait_file(const char *path, const char *needle, int timeout_ms)
{
        long long end = now_ms() + timeout_ms;
        do {
                char *s = itest_read_file(path);
                bool found = strstr(s, needle) != NULL;
                free(s);
                if (found)
                        return true;
                usleep(10 * 1000);
        } while (now_ms() < end);
        return false;
}

const char *itest_path(const char *name)
{
        char *p = ring_next();
        snprintf(p, PATH_MAX, "%s/%s", ctx.tmp, name);
        return p;
}

const char *itest_mkdtemp(const char *name)
{
        char *p = ring_next();
        snprintf(p, PATH_MAX, "%s/%s-%d", ctx.tmp, name, ++ctx.counter);
        ck_assert_msg(mkdir(p, 0755) == 0, "mkdir %s: %s", p, strerror(errno));
        return p;
}

unsigned long long itest_host_ns(const char *type)
{
        char path[64];
        struct stat st;
        snprintf(path, sizeof(path), "/proc/self/ns/%s", type);
        return stat(path, &st) == 0 ? (unsigned long long)st.st_ino : 0;
}
