/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Integration-test harness: the host side. Finds our cgroups in every
 * hierarchy, detects what a container left behind, cleans up after a test
 * case, and receives console fds. */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* Appends a formatted note to why (bounded). */
static void note(char *why, size_t len, const char *fmt, ...)
{
        size_t used = strlen(why);
        va_list ap;
        if (used + 2 >= len)
                return;
        va_start(ap, fmt);
        vsnprintf(why + used, len - used, fmt, ap);
        va_end(ap);
}

/* ---- cgroup hierarchies -------------------------------------------------- */

struct mnt {
        char root[PATH_MAX], point[PATH_MAX], fstype[64], super[512];
};

static bool parse_mountinfo_line(const char *line, struct mnt *m)
{
        char opts[512];
        const char *sep = strstr(line, " - ");

        if (!sep || sscanf(line, "%*d %*d %*s %4095s %4095s %511s", m->root, m->point, opts) != 3)
                return false;
        return sscanf(sep + 3, "%63s %*s %511s", m->fstype, m->super) == 2;
}

static bool has_token(const char *list, const char *tok)
{
        size_t n = strlen(tok);
        for (const char *p = list; p && *p;) {
                if (!strncmp(p, tok, n) && (p[n] == ',' || p[n] == '\0'))
                        return true;
                p = strchr(p, ',');
                p = p ? p + 1 : NULL;
        }
        return false;
}

/* Mount of the hierarchy a /proc/self/cgroup line names. */
static bool find_hierarchy(const char *ctrls, struct mnt *out)
{
        char line[4096], first[128];
        FILE *f = fopen("/proc/self/mountinfo", "re");
        bool found = false;

        snprintf(first, sizeof(first), "%.*s", (int)strcspn(ctrls, ","), ctrls);
        while (f && !found && fgets(line, sizeof(line), f)) {
                if (!parse_mountinfo_line(line, out))
                        continue;
                if (!*ctrls)
                        found = !strcmp(out->fstype, "cgroup2");
                else
                        found = !strcmp(out->fstype, "cgroup") && has_token(out->super, first);
        }
        if (f)
                fclose(f);
        return found;
}

/* Our own cgroup directory in every mounted hierarchy. */
static char **own_cgroup_dirs(size_t *n)
{
        char line[4096];
        FILE *f = fopen("/proc/self/cgroup", "re");
        char **dirs = calloc(32, sizeof(char *));

        *n = 0;
        while (f && *n < 31 && fgets(line, sizeof(line), f)) {
                line[strcspn(line, "\n")] = '\0';
                char *c1 = strchr(line, ':');
                char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                struct mnt m;
                if (!c2)
                        continue;
                *c2 = '\0';
                const char *path = c2 + 1;
                if (!find_hierarchy(c1 + 1, &m))
                        continue;
                size_t rl = strlen(m.root);
                if (strcmp(m.root, "/") != 0 && !strncmp(path, m.root, rl))
                        path += rl;
                if (asprintf(&dirs[*n], "%s%s", m.point, strcmp(path, "/") ? path : "") > 0)
                        (*n)++;
        }
        if (f)
                fclose(f);
        return dirs;
}

char **itest_cgroup_dirs(const char *rel, size_t *n)
{
        char **dirs = own_cgroup_dirs(n);
        for (size_t i = 0; i < *n; i++) {
                char *full;
                if (asprintf(&full, "%s/%s", dirs[i], rel) < 0)
                        abort();
                free(dirs[i]);
                dirs[i] = full;
        }
        return dirs;
}

int itest_cgroup_nprocs(const char *id)
{
        char rel[256];
        size_t n;
        int most = -1;

        snprintf(rel, sizeof(rel), "%s/%s", itest()->cgparent, id);
        char **dirs = itest_cgroup_dirs(rel, &n);
        for (size_t i = 0; i < n; i++) {
                char path[PATH_MAX + 16];
                snprintf(path, sizeof(path), "%s/cgroup.procs", dirs[i]);
                if (access(path, F_OK) == 0) {
                        char *procs = itest_read_file(path);
                        int count = 0;
                        for (char *p = procs; *p; p++)
                                count += *p == '\n';
                        most = count > most ? count : most;
                        free(procs);
                }
                free(dirs[i]);
        }
        free(dirs);
        return most;
}

/* ---- leftovers ----------------------------------------------------------- */

/* A zombie holds nothing but its pid and is reaped by whoever inherited it
 * (runc leaves its exited container init to pid 1). */
static bool is_zombie(const char *pid)
{
        char path[300];
        snprintf(path, sizeof(path), "/proc/%s/stat", pid);
        char *stat = itest_read_file(path);
        const char *paren = strrchr(stat, ')');
        bool zombie = !paren || paren[1] == '\0' || paren[2] == 'Z' || paren[2] == 'X';
        free(stat);
        return zombie;
}

/* Live pids whose /proc/PID/cgroup mentions needle. */
static void scan_procs(const char *needle, char *why, size_t len, bool *clean)
{
        DIR *d = opendir("/proc");
        struct dirent *e;

        while (d && (e = readdir(d))) {
                char path[300];
                if (e->d_name[0] < '0' || e->d_name[0] > '9')
                        continue;
                snprintf(path, sizeof(path), "/proc/%s/cgroup", e->d_name);
                char *cg = itest_read_file(path);
                if (strstr(cg, needle) && !is_zombie(e->d_name)) {
                        snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
                        char *comm = itest_read_file(path);
                        comm[strcspn(comm, "\n")] = '\0';
                        note(why, len, "process %s (%s) in cgroup %s; ", e->d_name, comm, needle);
                        free(comm);
                        *clean = false;
                }
                free(cg);
        }
        if (d)
                closedir(d);
}

static void scan_mounts(const char *needle, char *why, size_t len, bool *clean)
{
        char line[4096];
        FILE *f = fopen("/proc/self/mountinfo", "re");
        struct mnt m;

        while (f && fgets(line, sizeof(line), f)) {
                if (!parse_mountinfo_line(line, &m) || !strstr(m.point, needle))
                        continue;
                note(why, len, "mount %s (%s); ", m.point, m.fstype);
                *clean = false;
        }
        if (f)
                fclose(f);
}

static void scan_state(const char *id, char *why, size_t len, bool *clean)
{
        DIR *d = opendir(itest()->state);
        struct dirent *e;
        size_t n = strlen(id);

        while (d && (e = readdir(d))) {
                if (!strncmp(e->d_name, id, n) && (e->d_name[n] == '\0' || e->d_name[n] == '.')) {
                        note(why, len, "state entry %s/%s; ", itest()->state, e->d_name);
                        *clean = false;
                }
        }
        if (d)
                closedir(d);
}

/* Live processes other than us whose command line mentions needle (a
 * runtime still running with our --root, or a hook). */
static void scan_cmdlines(const char *needle, bool kill_them, char *why, size_t len, bool *clean)
{
        DIR *d = opendir("/proc");
        struct dirent *e;
        int self = (int)getpid();

        while (d && (e = readdir(d))) {
                char path[300], buf[8192];
                if (e->d_name[0] < '0' || e->d_name[0] > '9' || atoi(e->d_name) == self)
                        continue;
                snprintf(path, sizeof(path), "/proc/%s/cmdline", e->d_name);
                FILE *f = fopen(path, "re");
                size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
                if (f)
                        fclose(f);
                for (size_t i = 0; i < n; i++)
                        if (buf[i] == '\0')
                                buf[i] = ' ';
                buf[n] = '\0';
                if (!strstr(buf, needle) || is_zombie(e->d_name))
                        continue;
                if (kill_them)
                        kill(atoi(e->d_name), SIGKILL);
                note(why, len, "process %s (%.80s); ", e->d_name, buf);
                *clean = false;
        }
        if (d)
                closedir(d);
}

bool itest_nothing_left(const char *id, const char *bundle_dir, char *why, size_t len)
{
        char rel[256], needle[300];
        size_t n;
        bool clean = true;

        why[0] = '\0';
        scan_state(id, why, len, &clean);
        snprintf(rel, sizeof(rel), "%s/%s", itest()->cgparent, id);
        char **dirs = itest_cgroup_dirs(rel, &n);
        for (size_t i = 0; i < n; i++) {
                if (access(dirs[i], F_OK) == 0) {
                        note(why, len, "cgroup %s; ", dirs[i]);
                        clean = false;
                }
                free(dirs[i]);
        }
        free(dirs);
        snprintf(needle, sizeof(needle), "/%s\n", rel);
        scan_procs(needle, why, len, &clean);
        snprintf(needle, sizeof(needle), "/%s/", rel);
        scan_procs(needle, why, len, &clean);
        if (bundle_dir)
                scan_mounts(bundle_dir, why, len, &clean);
        scan_mounts(itest()->rootfs, why, len, &clean);
        scan_mounts(itest()->state, why, len, &clean);
        return clean;
}

/* The cgroups the suites make below the caller's own: the integration
 * harness's (berth-itest-<pid>), the component tests' (berth-test-<pid>)
 * and the VPS tests' (berth-vps-<name>-<tag>). */
static bool test_cgroup_name(const char *name)
{
        static const char *const prefixes[] = {"berth-itest", "berth-test-", "berth-vps-"};
        for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
                if (!strncmp(name, prefixes[i], strlen(prefixes[i])))
                        return true;
        return false;
}

bool itest_host_clean(char *why, size_t len)
{
        bool clean = true;
        size_t n;

        why[0] = '\0';
        scan_mounts("berth-itest", why, len, &clean);
        scan_procs("/berth-itest-", why, len, &clean);
        scan_cmdlines("/tmp/berth-itest.", false, why, len, &clean);
        char **dirs = own_cgroup_dirs(&n);
        for (size_t i = 0; i < n; i++) {
                DIR *d = opendir(dirs[i]);
                struct dirent *e;
                while (d && (e = readdir(d))) {
                        if (test_cgroup_name(e->d_name)) {
                                note(why, len, "cgroup %s/%s; ", dirs[i], e->d_name);
                                clean = false;
                        }
                }
                if (d)
                        closedir(d);
                free(dirs[i]);
        }
        free(dirs);
        DIR *t = opendir("/tmp");
        struct dirent *e;
        while (t && (e = readdir(t))) {
                char full[PATH_MAX];
                snprintf(full, sizeof(full), "/tmp/%s", e->d_name);
                if (!strncmp(e->d_name, "berth-itest.", 12) && strcmp(full, itest()->tmp) != 0) {
                        note(why, len, "temp dir /tmp/%s; ", e->d_name);
                        clean = false;
                }
        }
        if (t)
                closedir(t);
        return clean;
}

/* ---- cleanup ------------------------------------------------------------- */

static void force_delete_all(struct itest_ctx *c)
{
        DIR *d = opendir(c->state);
        struct dirent *e;
        char ids[64][256];
        size_t n = 0;

        while (d && (e = readdir(d)) && n < 64) {
                if (e->d_name[0] == '.')
                        continue;
                snprintf(ids[n], sizeof(ids[n]), "%.*s", (int)strcspn(e->d_name, "."), e->d_name);
                n++;
        }
        if (d)
                closedir(d);
        for (size_t i = 0; i < n; i++) {
                struct itest_result r;
                struct itest_opts o = ITEST_OPTS_DEFAULT;
                const char *argv[] = {"delete", "--force", ids[i], NULL};
                o.timeout_ms = 10000;
                itest_rt_opts(&r, &o, argv);
                free(r.out);
                free(r.err);
        }
}

/* Kills every process in dir and below; true when none is left. */
static bool kill_cgroup_procs(const char *dir)
{
        char path[PATH_MAX + 16];
        bool empty = true;

        snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
        char *procs = itest_read_file(path);
        for (char *p = procs; *p;) {
                int pid = atoi(p);
                if (pid > 0) {
                        kill(pid, SIGKILL);
                        empty = false;
                }
                p += strcspn(p, "\n");
                p += *p == '\n';
        }
        free(procs);
        DIR *d = opendir(dir);
        struct dirent *e;
        while (d && (e = readdir(d))) {
                if (e->d_type != DT_DIR || e->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
                empty = kill_cgroup_procs(path) && empty;
        }
        if (d)
                closedir(d);
        return empty;
}

static void rmdir_cgroup(const char *dir)
{
        char path[PATH_MAX + 256];
        DIR *d = opendir(dir);
        struct dirent *e;

        while (d && (e = readdir(d))) {
                if (e->d_type != DT_DIR || e->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
                rmdir_cgroup(path);
        }
        if (d)
                closedir(d);
        rmdir(dir);
}

static void remove_cgroups(struct itest_ctx *c)
{
        size_t n;
        char **dirs = itest_cgroup_dirs(c->cgparent, &n);

        for (size_t i = 0; i < n; i++) {
                if (access(dirs[i], F_OK) != 0)
                        continue;
                /* A frozen v1 cgroup would keep its killed tasks alive. */
                if (strstr(dirs[i], "/freezer/")) {
                        char cmd[PATH_MAX + 128];
                        snprintf(cmd, sizeof(cmd),
                                 "for f in $(find '%s' -name freezer.state); do echo THAWED >$f; done",
                                 dirs[i]);
                        if (system(cmd) != 0)
                                fprintf(stderr, "itest: thawing %s failed\n", dirs[i]);
                }
                for (int tries = 0; tries < 100 && !kill_cgroup_procs(dirs[i]); tries++)
                        usleep(20 * 1000);
                rmdir_cgroup(dirs[i]);
        }
        for (size_t i = 0; i < n; i++)
                free(dirs[i]);
        free(dirs);
}

static void unmount_under(const char *prefix)
{
        char line[4096];
        char *points[256];
        size_t n = 0, plen = strlen(prefix);
        FILE *f = fopen("/proc/self/mountinfo", "re");
        struct mnt m;

        while (f && n < 256 && fgets(line, sizeof(line), f))
                if (parse_mountinfo_line(line, &m) && !strncmp(m.point, prefix, plen))
                        points[n++] = strdup(m.point);
        if (f)
                fclose(f);
        while (n > 0) {
                n--;
                umount2(points[n], MNT_DETACH);
                free(points[n]);
        }
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        if (flag == FTW_DP)
                rmdir(path);
        else
                unlink(path);
        return 0;
}

void itest_cleanup(struct itest_ctx *c)
{
        if (!c->tmp[0])
                return;
        /* A runtime that hung past a test's timeout still holds its lock. */
        char why[256] = "";
        bool unused = true;
        scan_cmdlines(c->tmp, true, why, sizeof(why), &unused);
        force_delete_all(c);
        remove_cgroups(c);
        unmount_under(c->tmp);
        nftw(c->tmp, rm_entry, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
        c->tmp[0] = '\0';
}

/* ---- terminal ------------------------------------------------------------ */

int itest_console_listen(const char *path)
{
        struct sockaddr_un addr = {.sun_family = AF_UNIX};
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0 || strlen(path) >= sizeof(addr.sun_path))
                return -1;
        strcpy(addr.sun_path, path);
        if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 4) < 0) {
                close(fd);
                return -1;
        }
        return fd;
}

int itest_console_recv(int listen_fd, int timeout_ms)
{
        struct pollfd pfd = {.fd = listen_fd, .events = POLLIN};
        char data[64];
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } cbuf;
        struct iovec iov = {.iov_base = data, .iov_len = sizeof(data)};
        struct msghdr msg = {
            .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf.buf, .msg_controllen = sizeof(cbuf.buf)};

        if (poll(&pfd, 1, timeout_ms) != 1)
                return -1;
        int conn = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (conn < 0)
                return -1;
        pfd.fd = conn;
        int fd = -1;
        if (poll(&pfd, 1, timeout_ms) == 1 && recvmsg(conn, &msg, MSG_CMSG_CLOEXEC) >= 0) {
                struct cmsghdr *h = CMSG_FIRSTHDR(&msg);
                if (h && h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS)
                        memcpy(&fd, CMSG_DATA(h), sizeof(int));
        }
        close(conn);
        return fd;
}
