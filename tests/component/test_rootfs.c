/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Component tests of rootfs/ (root): mounts, /dev, pivot, masks,
 * propagation. Its pure helpers are unit-tested in tests/unit/test_rootfs.c.
 *
 * Every test that mounts forks a child that unshares its mount namespace
 * (and makes "/" rprivate) before touching anything, so the host's mounts
 * are never changed; the child builds a small root in a mkdtemp dir, runs
 * prepare/enter/finalize with a hand-built spec and inspects the result
 * with statfs/statvfs/stat and /proc/self/mountinfo. The parent removes the
 * temp dir after the child is gone (its mounts die with its namespace). */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <ftw.h>
#include <linux/magic.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_main.h"
#include "berth/cgroup.h"
#include "berth/cleanup.h"
#include "berth/rootfs.h"

#define S(x) ((char *)(x))

#ifndef MQUEUE_MAGIC
#define MQUEUE_MAGIC 0x19800202 /* not exported by <linux/magic.h> */
#endif

/* ---- child harness ------------------------------------------------------ */

static int child_report_fd = -1; /* test-only state: the child's report pipe */

static void __attribute__((noreturn, format(printf, 2, 3))) child_fail(int line, const char *fmt, ...)
{
        char buf[1024];
        int n = snprintf(buf, sizeof(buf), "line %d: ", line);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
        va_end(ap);
        if (write(child_report_fd, buf, strlen(buf)) < 0)
                _exit(3);
        _exit(1);
}

#define CK(cond)                                                                                             \
        do {                                                                                                 \
                if (!(cond))                                                                                 \
                        child_fail(__LINE__, "%s (errno: %s)", #cond, strerror(errno));                      \
        } while (0)

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
        (void)st;
        (void)ftw;
        if (type == FTW_DP)
                rmdir(path);
        else
                unlink(path);
        return 0;
}

typedef void (*child_fn)(const char *dir);

/* Checked setup: the children unshare mount namespaces and mknod. */
static void need_root(void)
{
        SKIP_IF(geteuid() != 0, "needs root (mount namespaces, mknod)");
}

/* Runs fn(dir) in a child in its own mount namespace (plus extra_ns);
 * fails the test with the child's message when it does not exit 0. */
/* Runs fn in a forked child in its own mount namespace; returns its wait
 * status and what it reported in msg. */
static int run_child_status(child_fn fn, int extra_ns, char *msg, size_t len)
{
        char dir[] = "/tmp/berth-rootfs-XXXXXX";
        ck_assert_ptr_nonnull(mkdtemp(dir));
        int p[2];
        ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                close(p[0]);
                child_report_fd = p[1];
                CK(unshare(CLONE_NEWNS | extra_ns) == 0);
                CK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0);
                fn(dir);
                _exit(0);
        }
        close(p[1]);
        ssize_t n, total = 0;
        while ((n = read(p[0], msg + total, len - 1 - (size_t)total)) > 0)
                total += n;
        msg[total] = '\0';
        close(p[0]);
        int status = 0;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
        return status;
}

static void run_child(child_fn fn, int extra_ns)
{
        char msg[1024] = "";
        int status = run_child_status(fn, extra_ns, msg, sizeof(msg));
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child failed (status %d): %s", status,
                      msg);
}

/* ---- helpers for the child ---------------------------------------------- */

static char *path_of(const char *dir, const char *rel)
{
        static char buf[8][4096]; /* test-only scratch */
        static int next;
        char *b = buf[next++ % 8];
        snprintf(b, sizeof(buf[0]), "%s/%s", dir, rel);
        return b;
}

static void mkdirs(const char *dir, const char *rel)
{
        char tmp[4096];
        snprintf(tmp, sizeof(tmp), "%s/%s", dir, rel);
        for (char *p = tmp + strlen(dir) + 1; (p = strchr(p, '/')); p++) {
                *p = '\0';
                mkdir(tmp, 0755);
                *p = '/';
        }
        mkdir(tmp, 0755);
}

static void write_file(const char *path, const char *text)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        CK(fd >= 0);
        CK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
        close(fd);
}

static long fs_type(const char *path)
{
        struct statfs s;
        if (statfs(path, &s) < 0)
                return -1;
        return (long)s.f_type;
}

static unsigned long vfs_flags(const char *path)
{
        struct statvfs s;
        CK(statvfs(path, &s) == 0);
        return s.f_flag;
}

static bool is_mount_root(const char *path)
{
        struct statx stx;
        if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, 0, &stx) < 0)
                return false;
        return (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
}

static uint64_t mnt_id(const char *path)
{
        struct statx stx;
        CK(statx(AT_FDCWD, path, 0, STATX_MNT_ID, &stx) == 0);
        return stx.stx_mnt_id;
}

/* The raw mountinfo line of the top mount at `mp` (copied), or NULL. */
static char *mountinfo_line(const char *mp)
{
        FILE *f = fopen("/proc/self/mountinfo", "re");
        CK(f != NULL);
        char *line = NULL, *found = NULL;
        size_t cap = 0;
        while (getline(&line, &cap, f) > 0) {
                char copy[4096];
                snprintf(copy, sizeof(copy), "%s", line);
                struct berth_mountinfo_entry e;
                if (berth_mountinfo_parse_line(copy, &e) == 0 && strcmp(e.mount_point, mp) == 0) {
                        free(found);
                        found = strdup(line);
                }
        }
        free(line);
        fclose(f);
        return found;
}

static bool file_contains(const char *path, const char *needle)
{
        char buf[65536];
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n < 0)
                return false;
        buf[n] = '\0';
        return strstr(buf, needle) != NULL;
}

static ssize_t file_size_read(const char *path)
{
        char buf[256];
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        ssize_t n = read(fd, buf, sizeof(buf));
        close(fd);
        return n;
}

static void check_chr(const char *path, unsigned maj, unsigned min, mode_t perm)
{
        struct stat st;
        if (stat(path, &st) < 0)
                child_fail(__LINE__, "stat %s: %s", path, strerror(errno));
        if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != maj || minor(st.st_rdev) != min)
                child_fail(__LINE__, "%s is not c %u:%u (mode %o rdev %u:%u)", path, maj, min, st.st_mode,
                           major(st.st_rdev), minor(st.st_rdev));
        if (perm && (st.st_mode & 07777) != perm)
                child_fail(__LINE__, "%s mode %o, want %o", path, st.st_mode & 07777, perm);
}

static void check_link(const char *path, const char *target)
{
        char buf[256];
        ssize_t n = readlink(path, buf, sizeof(buf) - 1);
        if (n < 0)
                child_fail(__LINE__, "readlink %s: %s", path, strerror(errno));
        buf[n] = '\0';
        if (strcmp(buf, target) != 0)
                child_fail(__LINE__, "%s -> %s, want %s", path, buf, target);
}

struct env {
        struct berth_spec spec;
        struct berth_rootfs_opts opts;
        char root[4096];
};

static void env_init(struct env *e, const char *dir, struct berth_mount *mounts, size_t n)
{
        memset(e, 0, sizeof(*e));
        snprintf(e->root, sizeof(e->root), "%s/root", dir);
        mkdir(e->root, 0755);
        e->spec.mounts = mounts;
        e->spec.n_mounts = n;
        e->opts.spec = &e->spec;
        e->opts.bundle = dir;
        e->opts.rootfs = e->root;
}

static void all_steps(struct env *e)
{
        struct berth_err err = {0};
        if (berth_rootfs_prepare(&e->opts, &err) < 0)
                child_fail(__LINE__, "prepare: %s", err.msg);
        if (berth_rootfs_enter(&e->opts, &err) < 0)
                child_fail(__LINE__, "enter: %s", err.msg);
        if (berth_rootfs_finalize(&e->opts, &err) < 0)
                child_fail(__LINE__, "finalize: %s", err.msg);
}

#define NOSUID_NODEV_NOEXEC (MS_NOSUID | MS_NODEV | MS_NOEXEC)

/* ---- mounts, flags, data, binds, /dev ----------------------------------- */

static void check_filesystems(void)
{
        CK(fs_type("/proc") == PROC_SUPER_MAGIC);
        CK((vfs_flags("/proc") & (ST_NOSUID | ST_NODEV | ST_NOEXEC)) == (ST_NOSUID | ST_NODEV | ST_NOEXEC));
        CK(fs_type("/dev") == TMPFS_MAGIC);
        struct statfs sf;
        CK(statfs("/dev", &sf) == 0 && (uint64_t)sf.f_blocks * sf.f_bsize == 65536ull * 1024);
        CK((vfs_flags("/dev") & (ST_NOSUID | ST_NOEXEC | ST_NODEV)) == ST_NOSUID);
        CK(fs_type("/dev/pts") == DEVPTS_SUPER_MAGIC);
        CK(fs_type("/dev/shm") == TMPFS_MAGIC);
        CK(statfs("/dev/shm", &sf) == 0 && (uint64_t)sf.f_blocks * sf.f_bsize == 1024ull * 1024);
        char *shm = mountinfo_line("/dev/shm");
        CK(shm && strstr(shm, "size=1024k") && strstr(shm, "nosuid,nodev,noexec"));
        CK(fs_type("/dev/mqueue") == MQUEUE_MAGIC);
        CK(fs_type("/sys") == SYSFS_MAGIC);
        CK(vfs_flags("/sys") & ST_RDONLY);
}

static void check_binds(void)
{
        /* ro bind with all flags, and its propagation */
        CK(file_contains("/data/marker", "hello"));
        CK((vfs_flags("/data") & (ST_RDONLY | ST_NOSUID | ST_NODEV | ST_NOEXEC)) ==
           (ST_RDONLY | ST_NOSUID | ST_NODEV | ST_NOEXEC));
        CK(open("/data/new", O_CREAT | O_WRONLY, 0644) < 0 && errno == EROFS);
        char *data = mountinfo_line("/data");
        CK(data && strstr(data, " shared:"));
        /* file bind: the target file was created */
        struct stat st;
        CK(stat("/etc/hostname", &st) == 0 && S_ISREG(st.st_mode));
        CK(file_contains("/etc/hostname", "box"));
        CK(vfs_flags("/etc/hostname") & ST_RDONLY);
        /* rbind brings the submount */
        CK(is_mount_root("/old/tree") && fs_type("/old/tree/inner") == TMPFS_MAGIC);
        /* any other type is passed through with its options */
        CK(fs_type("/ovl") == OVERLAYFS_SUPER_MAGIC && file_contains("/ovl/from-lower", "low"));
        write_file("/ovl/from-upper", "up");
}

static void check_default_dev(void)
{
        /* default devices and links */
        check_chr("/dev/null", 1, 3, 0666);
        check_chr("/dev/zero", 1, 5, 0666);
        check_chr("/dev/full", 1, 7, 0666);
        check_chr("/dev/random", 1, 8, 0666);
        check_chr("/dev/urandom", 1, 9, 0666);
        check_chr("/dev/tty", 5, 0, 0666);
        check_link("/dev/ptmx", "pts/ptmx");
        check_link("/dev/fd", "/proc/self/fd");
        check_link("/dev/stdin", "/proc/self/fd/0");
        check_link("/dev/stdout", "/proc/self/fd/1");
        check_link("/dev/stderr", "/proc/self/fd/2");
        check_link("/dev/core", "/proc/kcore");
        CK(access("/dev/pts/ptmx", F_OK) == 0);
}

static void child_basic(const char *dir)
{
        mkdirs(dir, "src/sub");
        write_file(path_of(dir, "src/marker"), "hello");
        write_file(path_of(dir, "hostname"), "box\n");
        mkdirs(dir, "tree/inner");
        mkdirs(dir, "root/old");
        mkdirs(dir, "lower");
        mkdirs(dir, "upper");
        mkdirs(dir, "work");
        write_file(path_of(dir, "lower/from-lower"), "low");
        char ovl[1024];
        snprintf(ovl, sizeof(ovl), "lowerdir=%s,upperdir=%s,workdir=%s", path_of(dir, "lower"),
                 path_of(dir, "upper"), path_of(dir, "work"));
        struct berth_mount mounts[] = {
            {.destination = S("/proc"), .type = S("proc"), .source = S("proc"), .flags = NOSUID_NODEV_NOEXEC},
            {.destination = S("/dev"),
             .type = S("tmpfs"),
             .source = S("tmpfs"),
             .flags = MS_NOSUID | MS_STRICTATIME,
             .data = S("mode=755,size=65536k")},
            {.destination = S("/dev/pts"),
             .type = S("devpts"),
             .source = S("devpts"),
             .flags = MS_NOSUID | MS_NOEXEC,
             .data = S("newinstance,ptmxmode=0666,mode=0620")},
            {.destination = S("/dev/shm"),
             .type = S("tmpfs"),
             .source = S("shm"),
             .flags = NOSUID_NODEV_NOEXEC,
             .data = S("mode=1777,size=1m")},
            {.destination = S("/dev/mqueue"),
             .type = S("mqueue"),
             .source = S("mqueue"),
             .flags = NOSUID_NODEV_NOEXEC},
            {.destination = S("/sys"),
             .type = S("sysfs"),
             .source = S("sysfs"),
             .flags = NOSUID_NODEV_NOEXEC | MS_RDONLY},
            {.destination = S("/data"),
             .type = S("none"),
             .source = S("src"),
             .bind = true,
             .flags = NOSUID_NODEV_NOEXEC | MS_RDONLY,
             .propagation = BERTH_PROP_SHARED},
            {.destination = S("/etc/hostname"),
             .type = S("bind"),
             .source = path_of(dir, "hostname"),
             .bind = true,
             .flags = MS_RDONLY},
            {.destination = S("/old/tree"), .source = path_of(dir, "tree"), .bind = true, .recursive = true},
            {.destination = S("/ovl"), .type = S("overlay"), .source = S("overlay"), .data = ovl},
        };
        struct env e;
        env_init(&e, dir, mounts, sizeof(mounts) / sizeof(mounts[0]));
        /* A submount inside the rbind source must come along. */
        CK(mount("tmpfs", path_of(dir, "tree/inner"), "tmpfs", 0, "size=4k") == 0);
        all_steps(&e);
        check_filesystems();
        check_binds();
        check_default_dev();
        /* the old root is gone: the temp dir is not reachable any more */
        CK(access(dir, F_OK) < 0);
        char *root = mountinfo_line("/");
        CK(root != NULL);
        char cwd[256];
        CK(getcwd(cwd, sizeof(cwd)) && strcmp(cwd, "/") == 0);
}

START_TEST(test_basic_mounts)
{
        run_child(child_basic, 0);
}
END_TEST

/* ---- CVE-2021-30465: destinations through symlinks stay inside --------- */

static void child_escape(const char *dir)
{
        /* Every destination names something that exists on the host, so a
         * resolver that escaped would mount over the host's /tmp, /etc or
         * /var (in this test's private namespace only) instead of creating
         * anything on the host's disk. */
        mkdirs(dir, "root/tmp");
        mkdirs(dir, "root/etc");
        mkdirs(dir, "root/a/b");
        CK(symlink("/", path_of(dir, "root/escape")) == 0);
        CK(symlink("../../etc", path_of(dir, "root/a/b/up")) == 0);
        struct berth_mount mounts[] = {
            {.destination = S("/escape/tmp"), .type = S("tmpfs"), .source = S("tmpfs"), .data = S("size=4k")},
            {.destination = S("/a/b/up"), .type = S("tmpfs"), .source = S("tmpfs"), .data = S("size=8k")},
            {.destination = S("/a/b/../../../../var"), .type = S("tmpfs"), .source = S("tmpfs")},
        };
        struct env e;
        env_init(&e, dir, mounts, 3);
        uint64_t host_tmp = mnt_id("/tmp"), host_etc = mnt_id("/etc"), host_var = mnt_id("/var");
        struct berth_err err = {0};
        if (berth_rootfs_prepare(&e.opts, &err) < 0)
                child_fail(__LINE__, "prepare: %s", err.msg);
        /* nothing landed on the host */
        CK(mnt_id("/tmp") == host_tmp && mnt_id("/etc") == host_etc && mnt_id("/var") == host_var);
        /* everything landed inside the root (root/var was created there) */
        CK(is_mount_root(path_of(dir, "root/tmp")) && fs_type(path_of(dir, "root/tmp")) == TMPFS_MAGIC);
        CK(is_mount_root(path_of(dir, "root/etc")) && fs_type(path_of(dir, "root/etc")) == TMPFS_MAGIC);
        CK(is_mount_root(path_of(dir, "root/var")) && fs_type(path_of(dir, "root/var")) == TMPFS_MAGIC);

        /* the resolver itself: ".." and absolute links stop at the root,
         * magic links are refused */
        int rootfd = open(e.root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        CK(rootfd >= 0);
        struct stat a, b;
        int fd = berth_in_root_open(rootfd, "/escape/../..", O_PATH);
        CK(fd >= 0 && fstat(fd, &a) == 0 && fstat(rootfd, &b) == 0);
        CK(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
        close(fd);
        close(rootfd);
        int hostfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        CK(berth_in_root_open(hostfd, "/proc/self/root/etc", O_PATH) == -ELOOP);
        close(hostfd);

        if (berth_rootfs_enter(&e.opts, &err) < 0)
                child_fail(__LINE__, "enter: %s", err.msg);
        CK(fs_type("/tmp") == TMPFS_MAGIC && fs_type("/etc") == TMPFS_MAGIC &&
           fs_type("/var") == TMPFS_MAGIC);
        struct statfs sf;
        CK(statfs("/etc", &sf) == 0 && (uint64_t)sf.f_blocks * sf.f_bsize == 8192);
}

START_TEST(test_symlink_escape)
{
        run_child(child_escape, 0);
}
END_TEST

/* ---- error messages name the mount -------------------------------------- */

static void expect_prepare_error(const char *dir, struct berth_mount *m, const char *want)
{
        struct env e;
        env_init(&e, dir, m, 1);
        struct berth_err err = {0};
        CK(berth_rootfs_prepare(&e.opts, &err) < 0);
        if (strncmp(err.msg, want, strlen(want)) != 0)
                child_fail(__LINE__, "message \"%s\", want \"%s...\"", err.msg, want);
}

static void child_errors(const char *dir)
{
        mkdirs(dir, "root");
        /* absolute link to a host path (in our temp dir) that does not exist in the root */
        CK(symlink(path_of(dir, "outside"), path_of(dir, "root/dangling")) == 0);
        mkdirs(dir, "outside");
        struct berth_mount missing = {
            .destination = S("/x"), .source = S("/nonexistent-berth"), .bind = true};
        expect_prepare_error(dir, &missing, "mount \"/nonexistent-berth\" on /x: No such file or directory");
        struct berth_mount bad = {
            .destination = S("/t"), .type = S("tmpfs"), .source = S("tmpfs"), .data = S("size=bogus")};
        expect_prepare_error(dir, &bad, "mount \"tmpfs\" on /t: Invalid argument");
        struct berth_mount nofs = {.destination = S("/t"), .type = S("nosuchfs"), .source = S("x")};
        expect_prepare_error(dir, &nofs, "mount \"x\" on /t: unknown filesystem type \"nosuchfs\"");
        /* Inside the root the link dangles: refused, and nothing is created
         * or mounted at the host path it names. */
        struct berth_mount dang = {.destination = S("/dangling/x"), .type = S("tmpfs"), .source = S("tmpfs")};
        expect_prepare_error(dir, &dang, "mounts[0] destination /dangling/x: No such file or directory");
        CK(access(path_of(dir, "outside/x"), F_OK) < 0);
}

START_TEST(test_error_messages)
{
        run_child(child_errors, 0);
}
END_TEST

/* ---- linux.devices ------------------------------------------------------ */

static void child_devices(const char *dir)
{
        struct berth_mount mounts[] = {
            {.destination = S("/dev"), .type = S("tmpfs"), .source = S("tmpfs"), .data = S("mode=755")},
        };
        struct berth_device devs[] = {
            {.path = S("/dev/sub/mydev"),
             .type = 'c',
             .major = 1,
             .minor = 7,
             .has_file_mode = true,
             .file_mode = 0640,
             .has_uid = true,
             .uid = 1000,
             .has_gid = true,
             .gid = 1001},
            {.path = S("/dev/myfifo"), .type = 'p', .has_file_mode = true, .file_mode = 0600},
            {.path = S("/dev/null"),
             .type = 'c',
             .major = 1,
             .minor = 3,
             .has_file_mode = true,
             .file_mode = 0600},
            {.path = S("/dev/loopy"), .type = 'b', .major = 7, .minor = 0},
        };
        struct env e;
        env_init(&e, dir, mounts, 1);
        e.spec.devices = devs;
        e.spec.n_devices = 4;
        umask(022); /* must not affect the modes */
        all_steps(&e);
        check_chr("/dev/sub/mydev", 1, 7, 0640);
        struct stat st;
        CK(stat("/dev/sub/mydev", &st) == 0 && st.st_uid == 1000 && st.st_gid == 1001);
        CK(stat("/dev/sub", &st) == 0 && S_ISDIR(st.st_mode));
        CK(lstat("/dev/myfifo", &st) == 0 && S_ISFIFO(st.st_mode) && (st.st_mode & 07777) == 0600);
        check_chr("/dev/null", 1, 3, 0600); /* the spec's entry wins over the default */
        check_chr("/dev/zero", 1, 5, 0666);
        CK(stat("/dev/loopy", &st) == 0 && S_ISBLK(st.st_mode) && st.st_rdev == makedev(7, 0) &&
           (st.st_mode & 07777) == 0666);
        CK(umask(022) == 022);
}

START_TEST(test_devices)
{
        run_child(child_devices, 0);
}
END_TEST

/* ---- maskedPaths, readonlyPaths, root.readonly -------------------------- */

/* /proc, and /dev as a tmpfs: what the masks below need. */
static void proc_and_dev(struct berth_mount m[2])
{
        m[0] = (struct berth_mount){
            .destination = S("/proc"), .type = S("proc"), .source = S("proc"), .flags = NOSUID_NODEV_NOEXEC};
        m[1] = (struct berth_mount){.destination = S("/dev"),
                                    .type = S("tmpfs"),
                                    .source = S("tmpfs"),
                                    .flags = MS_NOSUID,
                                    .data = S("mode=755")};
}

static void child_masks(const char *dir)
{
        mkdirs(dir, "root/secretdir");
        mkdirs(dir, "root/rodir");
        write_file(path_of(dir, "root/secret"), "password");
        write_file(path_of(dir, "root/secretdir/key"), "key");
        write_file(path_of(dir, "root/rodir/file"), "x");
        struct berth_mount mounts[2];
        proc_and_dev(mounts);
        char *masked[] = {S("/secret"),  S("/secretdir"), S("/proc/kcore"),
                          S("/missing"), S("/proc/acpi"), S("/proc/kallsyms")};
        char *ro[] = {S("/rodir"), S("/proc/sys"), S("/missing2")};
        struct env e;
        env_init(&e, dir, mounts, 2);
        e.spec.masked_paths = masked;
        e.spec.n_masked_paths = 6;
        e.spec.readonly_paths = ro;
        e.spec.n_readonly_paths = 3;
        e.spec.root_readonly = true;
        all_steps(&e);

        CK(file_size_read("/secret") == 0);
        CK(access("/secretdir/key", F_OK) < 0 && errno == ENOENT);
        CK(fs_type("/secretdir") == TMPFS_MAGIC && (vfs_flags("/secretdir") & ST_RDONLY));
        CK(open("/secretdir/new", O_CREAT | O_WRONLY, 0644) < 0 && errno == EROFS);
        CK(file_size_read("/proc/kallsyms") == 0);
        CK(access("/proc/acpi", F_OK) < 0 || fs_type("/proc/acpi") == TMPFS_MAGIC);
        CK(access("/missing", F_OK) < 0);

        CK(vfs_flags("/rodir") & ST_RDONLY);
        CK(open("/rodir/file", O_WRONLY) < 0 && errno == EROFS);
        CK(file_contains("/rodir/file", "x"));
        CK(vfs_flags("/proc/sys") & ST_RDONLY);
        CK(open("/proc/sys/kernel/hostname", O_WRONLY) < 0 && errno == EROFS);
        CK(!(vfs_flags("/proc") & ST_RDONLY));

        CK(vfs_flags("/") & ST_RDONLY);
        CK(open("/newfile", O_CREAT | O_WRONLY, 0644) < 0 && errno == EROFS);
        CK(!(vfs_flags("/dev") & ST_RDONLY)); /* submounts keep their own flags */
        int fd = open("/dev/newfile", O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
        CK(fd >= 0);
        close(fd);
}

START_TEST(test_masks_readonly)
{
        run_child(child_masks, 0);
}
END_TEST

static dev_t dev_of(const char *path)
{
        struct stat st;
        return stat(path, &st) == 0 ? st.st_dev : (dev_t)-1;
}

/* run.berth.dev-tmpfs=shared: /dev/shm and the masks of directories are
 * on the /dev tmpfs, no superblock of their own, and nothing is left. */
static void child_dev_tmpfs_shared(const char *dir)
{
        mkdirs(dir, "root/secretdir");
        mkdirs(dir, "root/otherdir");
        write_file(path_of(dir, "root/secretdir/key"), "key");
        struct berth_mount mounts[2];
        proc_and_dev(mounts);
        char *masked[] = {S("/secretdir"), S("/proc/kallsyms"), S("/otherdir"), S("/proc/acpi")};
        struct env e;
        env_init(&e, dir, mounts, 2);
        e.opts.dev_tmpfs_shared = true;
        e.spec.masked_paths = masked;
        e.spec.n_masked_paths = 4;
        all_steps(&e);

        dev_t dev = dev_of("/dev");
        struct stat st;
        CK(stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 01777);
        CK(st.st_dev == dev);
        int fd = open("/dev/shm/seg", O_CREAT | O_RDWR | O_CLOEXEC, 0600);
        CK(fd >= 0);
        close(fd);
        const char *dirs[] = {"/secretdir", "/otherdir", "/proc/acpi"};
        for (size_t i = 0; i < 3; i++) {
                if (i == 2 && access("/proc/acpi", F_OK) < 0)
                        continue;
                CK(dev_of(dirs[i]) == dev);
                CK(vfs_flags(dirs[i]) & ST_RDONLY);
                DIR *d = opendir(dirs[i]);
                CK(d != NULL);
                struct dirent *de;
                while (d && (de = readdir(d)))
                        CK(!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."));
                if (d)
                        closedir(d);
        }
        CK(access("/secretdir/key", F_OK) < 0 && errno == ENOENT);
        CK(open("/secretdir/new", O_CREAT | O_WRONLY, 0644) < 0);
        CK(mkdir("/otherdir/sub", 0755) < 0);
        CK(file_size_read("/proc/kallsyms") == 0);
        /* The directory the masks were cloned from is gone from /dev. */
        DIR *d = opendir("/dev");
        struct dirent *de;
        while (d && (de = readdir(d)))
                CK(strncmp(de->d_name, ".berth-mask", 11) != 0);
        if (d)
                closedir(d);
}

START_TEST(test_masks_dev_tmpfs_shared)
{
        run_child(child_dev_tmpfs_shared, 0);
}
END_TEST

/* ---- no_pivot ------------------------------------------------------------ */

static void child_no_pivot(const char *dir)
{
        mkdirs(dir, "root");
        write_file(path_of(dir, "root/marker"), "inside");
        struct berth_mount mounts[] = {
            {.destination = S("/proc"), .type = S("proc"), .source = S("proc")},
        };
        struct env e;
        env_init(&e, dir, mounts, 1);
        e.opts.no_pivot = true;
        e.spec.root_readonly = true;
        all_steps(&e);
        CK(file_contains("/marker", "inside"));
        CK(access(dir, F_OK) < 0);
        char cwd[256];
        CK(getcwd(cwd, sizeof(cwd)) && strcmp(cwd, "/") == 0);
        CK(fs_type("/proc") == PROC_SUPER_MAGIC);
        CK(vfs_flags("/") & ST_RDONLY);
        /* the moved root is the top mount at "/" */
        char *root = mountinfo_line("/");
        CK(root && strstr(root, " ro"));
}

START_TEST(test_no_pivot)
{
        run_child(child_no_pivot, 0);
}
END_TEST

/* ---- rootfsPropagation on a shared host --------------------------------- */

static void child_shared(const char *dir)
{
        mkdirs(dir, "root");
        /* Simulate a systemd host where everything is shared (in our own
         * namespace only). pivot_root fails unless the parent mount of the
         * root is made private. */
        CK(mount(NULL, "/", NULL, MS_REC | MS_SHARED, NULL) == 0);
        struct berth_mount mounts[] = {
            {.destination = S("/proc"), .type = S("proc"), .source = S("proc")},
        };
        struct env e;
        env_init(&e, dir, mounts, 1);
        e.spec.rootfs_propagation = BERTH_PROP_RSHARED;
        all_steps(&e);
        char *root = mountinfo_line("/");
        CK(root && strstr(root, " shared:"));
}

START_TEST(test_propagation_shared)
{
        run_child(child_shared, 0);
}
END_TEST

static void child_default_private(const char *dir)
{
        mkdirs(dir, "root");
        CK(mount(NULL, "/", NULL, MS_REC | MS_SHARED, NULL) == 0);
        struct berth_mount mounts[] = {
            {.destination = S("/proc"), .type = S("proc"), .source = S("proc")},
        };
        struct env e;
        env_init(&e, dir, mounts, 1);
        all_steps(&e);
        char *root = mountinfo_line("/");
        char *proc = mountinfo_line("/proc");
        CK(root && !strstr(root, "shared:") && !strstr(root, "master:"));
        CK(proc && !strstr(proc, "shared:"));
}

START_TEST(test_propagation_default_private)
{
        run_child(child_default_private, 0);
}
END_TEST

/* ---- cgroup mounts -------------------------------------------------------- */

static void check_own_cgroup(const char *dir_in_container)
{
        char procs[512], pid[32];
        snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir_in_container);
        snprintf(pid, sizeof(pid), "%d\n", getpid());
        /* cgroup.procs lists one pid per line; match a whole line */
        char buf[65536] = "\n";
        int fd = open(procs, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                child_fail(__LINE__, "open %s: %s", procs, strerror(errno));
        ssize_t n = read(fd, buf + 1, sizeof(buf) - 2);
        close(fd);
        CK(n > 0);
        buf[n + 1] = '\0';
        char want[40];
        snprintf(want, sizeof(want), "\n%s", pid);
        if (!strstr(buf, want))
                child_fail(__LINE__, "%s does not list pid %d", procs, getpid());
}

/* For the "known" variants: a container cgroup made by the test, which
 * the child joins (then unshares its cgroup namespace, as the init does). */
static struct berth_cgroup *known_cg;

/* known: the hierarchies come from berth_cgroup_mounts (what `create`
 * read before the clone) instead of the child's own mountinfo reading. */
static void cgroup_child(const char *dir, bool cgns, bool known)
{
        bool unified = fs_type("/sys/fs/cgroup") == CGROUP2_SUPER_MAGIC;
        struct berth_mount mounts[] = {
            {.destination = S("/sys/fs/cgroup"),
             .type = S("cgroup"),
             .source = S("cgroup"),
             .flags = NOSUID_NODEV_NOEXEC | MS_RELATIME | MS_RDONLY},
        };
        struct env e;
        env_init(&e, dir, mounts, 1);
        e.opts.new_cgroupns = cgns;
        if (known) {
                struct berth_err err = {0};
                if (berth_cgroup_attach(known_cg, getpid(), &err) < 0)
                        child_fail(__LINE__, "join: %s", err.msg);
                CK(!cgns || unshare(CLONE_NEWCGROUP) == 0);
                e.opts.cgroup_mounts = berth_cgroup_mounts(known_cg, &e.opts.n_cgroup_mounts);
                CK(e.opts.cgroup_mounts && e.opts.n_cgroup_mounts > 0);
        }
        all_steps(&e);
        if (unified) {
                CK(fs_type("/sys/fs/cgroup") == CGROUP2_SUPER_MAGIC);
                CK(vfs_flags("/sys/fs/cgroup") & ST_RDONLY);
                check_own_cgroup("/sys/fs/cgroup");
                return;
        }
        CK(fs_type("/sys/fs/cgroup") == TMPFS_MAGIC);
        CK(vfs_flags("/sys/fs/cgroup") & ST_RDONLY);
        CK(fs_type("/sys/fs/cgroup/memory") == CGROUP_SUPER_MAGIC);
        CK((vfs_flags("/sys/fs/cgroup/memory") & (ST_RDONLY | ST_NOSUID)) == (ST_RDONLY | ST_NOSUID));
        CK(access("/sys/fs/cgroup/memory/memory.limit_in_bytes", F_OK) == 0);
        check_own_cgroup("/sys/fs/cgroup/memory");
        check_own_cgroup("/sys/fs/cgroup/pids");
        if (access("/sys/fs/cgroup/unified", F_OK) == 0) {
                CK(fs_type("/sys/fs/cgroup/unified") == CGROUP2_SUPER_MAGIC);
                check_own_cgroup("/sys/fs/cgroup/unified");
        }
}

static void child_cgroup_bind(const char *dir)
{
        cgroup_child(dir, false, false);
}

static void child_cgroup_ns(const char *dir)
{
        cgroup_child(dir, true, false);
}

static void child_cgroup_bind_known(const char *dir)
{
        cgroup_child(dir, false, true);
}

static void child_cgroup_ns_known(const char *dir)
{
        cgroup_child(dir, true, true);
}

START_TEST(test_cgroup_bind)
{
        run_child(child_cgroup_bind, 0);
}
END_TEST

START_TEST(test_cgroup_ns)
{
        run_child(child_cgroup_ns, CLONE_NEWCGROUP);
}
END_TEST

static void run_known(child_fn fn)
{
        char path[64];
        snprintf(path, sizeof(path), "berth-rootfs-test-%d", getpid());
        struct berth_err err = {0};
        struct berth_cgroup_opts co = {.id = "known", .path = path, .join_all_v1 = true};
        known_cg = berth_cgroup_new(&co, &err);
        ck_assert_msg(known_cg, "cgroup: %s", err.msg);
        ck_assert_msg(berth_cgroup_create(known_cg, &err) == 0, "cgroup: %s", err.msg);
        char msg[1024] = "";
        int status = run_child_status(fn, 0, msg, sizeof(msg));
        /* The cgroup goes before any verdict: a failed check ends the test. */
        int destroyed = berth_cgroup_destroy(known_cg, &err);
        berth_cgroup_free(TAKE_PTR(known_cg));
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child failed (status %d): %s", status,
                      msg);
        ck_assert_msg(destroyed == 0, "cgroup: %s", err.msg);
}

START_TEST(test_cgroup_bind_known)
{
        run_known(child_cgroup_bind_known);
}
END_TEST

START_TEST(test_cgroup_ns_known)
{
        run_known(child_cgroup_ns_known);
}
END_TEST

/* ---- user namespace: devices bound from the host, locked flags ------------ */

static void write_proc(const char *path, const char *text)
{
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
                child_fail(__LINE__, "write %s: %s", path, strerror(errno));
        close(fd);
}

static void child_userns(const char *dir)
{
        mkdirs(dir, "root");
        mkdirs(dir, "locked");
        write_file(path_of(dir, "root/secret"), "password");
        /* ro,nosuid become locked flags once a user namespace is made */
        CK(mount("tmpfs", path_of(dir, "locked"), "tmpfs", MS_RDONLY | MS_NOSUID, "size=4k") == 0);
        CK(unshare(CLONE_NEWUSER | CLONE_NEWNS) == 0);
        write_proc("/proc/self/uid_map", "0 0 1");
        write_proc("/proc/self/setgroups", "deny");
        write_proc("/proc/self/gid_map", "0 0 1");
        struct berth_mount mounts[] = {
            {.destination = S("/dev"),
             .type = S("tmpfs"),
             .source = S("tmpfs"),
             .flags = MS_NOSUID,
             .data = S("mode=755")},
            /* "rw" and "dev" asked for: the locked ro must stay, not fail */
            {.destination = S("/locked"),
             .source = path_of(dir, "locked"),
             .bind = true,
             .flags = MS_NODEV,
             .clear_flags = MS_RDONLY | MS_NOSUID},
            /* not allowed without owning the netns: the host's /sys is bound instead */
            {.destination = S("/sys"),
             .type = S("sysfs"),
             .source = S("sysfs"),
             .flags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC},
        };
        struct berth_device devs[] = {
            {.path = S("/dev/fuse"), .type = 'c', .major = 10, .minor = 229},
        };
        char *masked[] = {S("/secret")};
        struct env e;
        env_init(&e, dir, mounts, 3);
        struct stat host_fuse;
        bool have_fuse = stat("/dev/fuse", &host_fuse) == 0 && S_ISCHR(host_fuse.st_mode);
        if (have_fuse) {
                e.spec.devices = devs;
                e.spec.n_devices = 1;
        }
        e.spec.masked_paths = masked;
        e.spec.n_masked_paths = 1;
        e.spec.root_readonly = true;
        e.opts.in_userns = true;
        all_steps(&e);
        check_chr("/dev/null", 1, 3, 0);
        check_chr("/dev/urandom", 1, 9, 0);
        check_chr("/dev/tty", 5, 0, 0);
        if (have_fuse)
                check_chr("/dev/fuse", 10, 229, 0);
        CK(file_size_read("/dev/null") == 0);
        check_link("/dev/ptmx", "pts/ptmx");
        unsigned long f = vfs_flags("/locked");
        CK((f & (ST_RDONLY | ST_NOSUID | ST_NODEV)) == (ST_RDONLY | ST_NOSUID | ST_NODEV));
        CK(file_size_read("/secret") == 0);
        CK(vfs_flags("/") & ST_RDONLY);
        CK(fs_type("/sys") == SYSFS_MAGIC && (vfs_flags("/sys") & ST_RDONLY));
        CK(fs_type("/sys/fs/cgroup") != -1 && (vfs_flags("/sys/fs/cgroup") & ST_RDONLY));
}

START_TEST(test_userns)
{
        run_child(child_userns, 0);
}
END_TEST

Suite *test_suite(void)
{
        Suite *s = suite_create("rootfs");
        TCase *tc = tcase_create("mounts");
        tcase_add_checked_fixture(tc, need_root, NULL);
        tcase_set_timeout(tc, 30);
        tcase_add_test(tc, test_basic_mounts);
        tcase_add_test(tc, test_symlink_escape);
        tcase_add_test(tc, test_error_messages);
        tcase_add_test(tc, test_devices);
        tcase_add_test(tc, test_masks_readonly);
        tcase_add_test(tc, test_masks_dev_tmpfs_shared);
        tcase_add_test(tc, test_no_pivot);
        tcase_add_test(tc, test_propagation_shared);
        tcase_add_test(tc, test_propagation_default_private);
        tcase_add_test(tc, test_cgroup_bind);
        tcase_add_test(tc, test_cgroup_ns);
        tcase_add_test(tc, test_cgroup_bind_known);
        tcase_add_test(tc, test_cgroup_ns_known);
        tcase_add_test(tc, test_userns);
        suite_add_tcase(s, tc);
        return s;
}
