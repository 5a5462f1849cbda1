/* SPDX-License-Identifier: GPL-2.0-or-later */
/* probe: a small static program that runs inside test containers and prints
 * what it sees as key=value lines, so the integration tests check a
 * container from the inside instead of trusting the runtime's word.
 *
 * Usage: probe CMD [ARG] [CMD [ARG]]...  (commands run in order)
 *
 *   ids              uid, gid, euid, egid, groups, umask
 *   caps             CapInh/CapPrm/CapEff/CapBnd/CapAmb from /proc/self/status
 *   nnp              no_new_privs flag
 *   rlimits          rlimit.NAME=SOFT HARD for the common limits
 *   fds              fds=0,1,2 (every open fd) and fd.N=target
 *   cwd, env, pid, hostname, ns, tty
 *   mounts DEST      mount:DEST.fstype/ro/nosuid/nodev/noexec/size
 *   dev PATH         dev:PATH=TYPE MAJOR MINOR MODE (or l TARGET for links)
 *   read PATH        read:PATH=ok|ERRNO, read:PATH.len, read:PATH.data
 *   write PATH       write:PATH=ok|ERRNO (writes one byte)
 *   ls PATH          ls:PATH=number of entries (or ERRNO)
 *   io_uring         io_uring=ok|ERRNO: io_uring_setup(2) of a one-entry ring
 *   sysinfo          sysinfo=ok|ERRNO and sysinfo.FIELD=VALUE (bytes for
 *                    the memory fields), sysinfo.badptr=ERRNO for a pointer
 *                    to unmapped memory, sysinfo.roptr=ERRNO to read-only
 *   exit N           exits with status N
 *   sleep            handles TERM/INT/HUP/USR1/USR2/QUIT by exiting with
 *                    128+signal, prints ready=1, then waits for ever
 *
 * Only libc: it is linked -static and copied into a busybox rootfs. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

extern char **environ;

static const char *errname(int e)
{
        const char *n = strerrorname_np(e);
        return n ? n : "EUNKNOWN";
}

static void cmd_ids(void)
{
        gid_t groups[256];
        int n = getgroups(256, groups);
        mode_t mask = umask(0);

        umask(mask);
        printf("uid=%u\ngid=%u\neuid=%u\negid=%u\n", getuid(), getgid(), geteuid(), getegid());
        printf("groups=");
        for (int i = 0; i < n; i++)
                printf("%s%u", i ? "," : "", groups[i]);
        printf("\numask=%04o\n", (unsigned)mask);
}

/* Prints the status lines whose name starts with one of the prefixes. */
static void status_lines(const char *const *prefixes)
{
        char line[512];
        FILE *f = fopen("/proc/self/status", "re");

        if (!f) {
                printf("status=%s\n", errname(errno));
                return;
        }
        while (fgets(line, sizeof(line), f)) {
                char *colon = strchr(line, ':');
                if (!colon)
                        continue;
                for (const char *const *p = prefixes; *p; p++) {
                        if (strncmp(line, *p, strlen(*p)) != 0)
                                continue;
                        *colon = '\0';
                        char *v = colon + 1;
                        v += strspn(v, " \t");
                        printf("%s=%s", line, v);
                }
        }
        fclose(f);
}

static void cmd_caps(void)
{
        static const char *const caps[] = {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", NULL};
        status_lines(caps);
}

static void cmd_nnp(void)
{
        printf("nnp=%d\n", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
        static const char *const sec[] = {"Seccomp", NULL};
        status_lines(sec);
}

static void print_limit(rlim_t v)
{
        if (v == RLIM_INFINITY)
                printf("unlimited");
        else
                printf("%llu", (unsigned long long)v);
}

static void cmd_rlimits(void)
{
        static const struct {
                const char *name;
                int res;
        } lims[] = {
            {"nofile", RLIMIT_NOFILE}, {"nproc", RLIMIT_NPROC},     {"core", RLIMIT_CORE},
            {"stack", RLIMIT_STACK},   {"memlock", RLIMIT_MEMLOCK}, {"as", RLIMIT_AS},
            {"cpu", RLIMIT_CPU},       {"fsize", RLIMIT_FSIZE},     {"msgqueue", RLIMIT_MSGQUEUE},
            {"nice", RLIMIT_NICE},     {"rtprio", RLIMIT_RTPRIO},   {"sigpending", RLIMIT_SIGPENDING},
        };
        for (size_t i = 0; i < sizeof(lims) / sizeof(lims[0]); i++) {
                struct rlimit rl;
                if (getrlimit(lims[i].res, &rl) < 0)
                        continue;
                printf("rlimit.%s=", lims[i].name);
                print_limit(rl.rlim_cur);
                printf(" ");
                print_limit(rl.rlim_max);
                printf("\n");
        }
}

/* Lists open fds without the directory fd used to list them. */
static void cmd_fds(void)
{
        DIR *d = opendir("/proc/self/fd");
        struct dirent *e;
        char list[4096] = "", details[8192] = "";

        if (!d) {
                printf("fds=%s\n", errname(errno));
                return;
        }
        while ((e = readdir(d))) {
                char path[PATH_MAX + 32], target[PATH_MAX];
                if (e->d_name[0] == '.' || atoi(e->d_name) == dirfd(d))
                        continue;
                snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
                ssize_t n = readlink(path, target, sizeof(target) - 1);
                target[n < 0 ? 0 : n] = '\0';
                snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", list[0] ? "," : "",
                         e->d_name);
                snprintf(details + strlen(details), sizeof(details) - strlen(details), "fd.%s=%s\n",
                         e->d_name, target);
        }
        closedir(d);
        printf("fds=%s\n%s", list, details);
}

static void cmd_cwd(void)
{
        char buf[PATH_MAX];
        printf("cwd=%s\n", getcwd(buf, sizeof(buf)) ? buf : errname(errno));
}

static void cmd_env(void)
{
        for (char **e = environ; *e; e++)
                printf("%s\n", *e);
}

static void cmd_hostname(void)
{
        struct utsname u;
        uname(&u);
        printf("nodename=%s\ndomainname=%s\n", u.nodename, u.domainname);
}

static void cmd_ns(void)
{
        static const char *const names[] = {"cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"};
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
                char path[64];
                struct stat st;
                snprintf(path, sizeof(path), "/proc/self/ns/%s", names[i]);
                if (stat(path, &st) == 0)
                        printf("ns.%s=%llu\n", names[i], (unsigned long long)st.st_ino);
        }
}

static void cmd_tty(void)
{
        for (int fd = 0; fd <= 2; fd++)
                printf("tty.%d=%d\n", fd, isatty(fd));
        const char *name = ttyname(0);
        printf("ttyname=%s\n", name ? name : errname(errno));
}

static void cmd_mounts(const char *dest)
{
        struct statvfs sv;
        struct statfs sf;

        if (statvfs(dest, &sv) < 0 || statfs(dest, &sf) < 0) {
                printf("mount:%s=%s\n", dest, errname(errno));
                return;
        }
        static const struct {
                unsigned long magic;
                const char *name;
        } types[] = {
            {0x01021994, "tmpfs"},  {0x9fa0, "proc"},     {0x62656572, "sysfs"},   {0x1cd1, "devpts"},
            {0x19800202, "mqueue"}, {0xef53, "ext4"},     {0x794c7630, "overlay"}, {0x58465342, "xfs"},
            {0x9123683e, "btrfs"},  {0x27e0eb, "cgroup"}, {0x63677270, "cgroup2"},
        };
        const char *type = "other";
        for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
                if ((unsigned long)sf.f_type == types[i].magic)
                        type = types[i].name;
        printf("mount:%s.fstype=%s\n", dest, type);
        printf("mount:%s.ro=%d\n", dest, !!(sv.f_flag & ST_RDONLY));
        printf("mount:%s.nosuid=%d\n", dest, !!(sv.f_flag & ST_NOSUID));
        printf("mount:%s.nodev=%d\n", dest, !!(sv.f_flag & ST_NODEV));
        printf("mount:%s.noexec=%d\n", dest, !!(sv.f_flag & ST_NOEXEC));
        printf("mount:%s.size=%llu\n", dest, (unsigned long long)sv.f_blocks * sv.f_frsize);
}

static void cmd_dev(const char *path)
{
        struct stat st;

        if (lstat(path, &st) < 0) {
                printf("dev:%s=%s\n", path, errname(errno));
                return;
        }
        if (S_ISLNK(st.st_mode)) {
                char target[PATH_MAX];
                ssize_t n = readlink(path, target, sizeof(target) - 1);
                target[n < 0 ? 0 : n] = '\0';
                printf("dev:%s=l %s\n", path, target);
                return;
        }
        char type = S_ISCHR(st.st_mode) ? 'c' : S_ISBLK(st.st_mode) ? 'b' : S_ISDIR(st.st_mode) ? 'd' : 'f';
        printf("dev:%s=%c %u %u %04o\n", path, type, major(st.st_rdev), minor(st.st_rdev),
               (unsigned)(st.st_mode & 07777));
}

static void cmd_read(const char *path)
{
        char buf[65536];
        size_t len = 0;
        ssize_t n;
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

        if (fd < 0) {
                printf("read:%s=%s\n", path, errname(errno));
                return;
        }
        while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
                len += n;
        int saved = errno;
        close(fd);
        if (n < 0 && len == 0) {
                printf("read:%s=%s\n", path, errname(saved));
                return;
        }
        buf[len] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        printf("read:%s=ok\nread:%s.len=%zu\nread:%s.data=%.200s\n", path, path, len, path, buf);
}

static void cmd_write(const char *path)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

        if (fd < 0) {
                printf("write:%s=%s\n", path, errname(errno));
                return;
        }
        ssize_t n = write(fd, "1", 1);
        int saved = errno;
        close(fd);
        printf("write:%s=%s\n", path, n == 1 ? "ok" : errname(saved));
}

static void cmd_ls(const char *path)
{
        DIR *d = opendir(path);
        struct dirent *e;
        int n = 0;

        if (!d) {
                printf("ls:%s=%s\n", path, errname(errno));
                return;
        }
        while ((e = readdir(d)))
                if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                        n++;
        closedir(d);
        printf("ls:%s=%d\n", path, n);
}

#ifndef SYS_io_uring_setup
#define SYS_io_uring_setup 425
#endif

/* Whether the seccomp filter lets io_uring_setup through (the params
 * struct is 120 bytes; zeroed asks for nothing special). */
static void cmd_io_uring(void)
{
        unsigned char params[256] = {0};
        long fd = syscall(SYS_io_uring_setup, 1, params);
        if (fd < 0) {
                printf("io_uring=%s\n", strerrorname_np(errno) ? strerrorname_np(errno) : "?");
                return;
        }
        close((int)fd);
        printf("io_uring=ok\n");
}

/* A raw syscall with all-zero arguments: what the seccomp filter answers
 * (clone3 with a NULL argument block fails with EINVAL in the kernel). */
static void cmd_syscall(const char *arg)
{
        long r = syscall(atol(arg), 0L, 0L, 0L, 0L, 0L, 0L);
        if (r < 0)
                printf("syscall:%s=%s\n", arg, strerrorname_np(errno) ? strerrorname_np(errno) : "?");
        else
                printf("syscall:%s=ok\n", arg);
}

static void cmd_sysinfo(void)
{
        struct sysinfo si;
        if (syscall(SYS_sysinfo, &si) < 0) {
                printf("sysinfo=%s\n", strerrorname_np(errno) ? strerrorname_np(errno) : "?");
        } else {
                unsigned long u = si.mem_unit ? si.mem_unit : 1;
                printf("sysinfo=ok\nsysinfo.totalram=%lu\nsysinfo.freeram=%lu\nsysinfo.totalswap=%lu\n"
                       "sysinfo.freeswap=%lu\nsysinfo.procs=%u\nsysinfo.uptime=%ld\n",
                       si.totalram * u, si.freeram * u, si.totalswap * u, si.freeswap * u, (unsigned)si.procs,
                       si.uptime);
        }
        void *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        void *gone = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (gone != MAP_FAILED)
                munmap(gone, 4096);
        long r = syscall(SYS_sysinfo, gone);
        printf("sysinfo.badptr=%s\n", r < 0 ? strerrorname_np(errno) : "ok");
        r = syscall(SYS_sysinfo, ro);
        printf("sysinfo.roptr=%s\n", r < 0 ? strerrorname_np(errno) : "ok");
}

static void on_signal(int sig)
{
        _exit(128 + sig);
}

static void cmd_sleep(void)
{
        static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGQUIT};
        for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
                signal(sigs[i], on_signal);
        printf("ready=1\n");
        fflush(stdout);
        for (;;)
                pause();
}

static int run(const char *cmd, const char *arg)
{
        if (!strcmp(cmd, "ids"))
                cmd_ids();
        else if (!strcmp(cmd, "caps"))
                cmd_caps();
        else if (!strcmp(cmd, "sysinfo"))
                cmd_sysinfo();
        else if (!strcmp(cmd, "io_uring"))
                cmd_io_uring();
        else if (!strcmp(cmd, "nnp"))
                cmd_nnp();
        else if (!strcmp(cmd, "rlimits"))
                cmd_rlimits();
        else if (!strcmp(cmd, "fds"))
                cmd_fds();
        else if (!strcmp(cmd, "cwd"))
                cmd_cwd();
        else if (!strcmp(cmd, "env"))
                cmd_env();
        else if (!strcmp(cmd, "pid"))
                printf("pid=%d\nppid=%d\n", getpid(), getppid());
        else if (!strcmp(cmd, "hostname"))
                cmd_hostname();
        else if (!strcmp(cmd, "ns"))
                cmd_ns();
        else if (!strcmp(cmd, "tty"))
                cmd_tty();
        else if (!strcmp(cmd, "sleep"))
                cmd_sleep();
        else if (!arg)
                return -1;
        else if (!strcmp(cmd, "mounts"))
                cmd_mounts(arg);
        else if (!strcmp(cmd, "dev"))
                cmd_dev(arg);
        else if (!strcmp(cmd, "read"))
                cmd_read(arg);
        else if (!strcmp(cmd, "write"))
                cmd_write(arg);
        else if (!strcmp(cmd, "ls"))
                cmd_ls(arg);
        else if (!strcmp(cmd, "syscall"))
                cmd_syscall(arg);
        else if (!strcmp(cmd, "exit")) {
                fflush(stdout);
                exit(atoi(arg));
        } else
                return -1;
        fflush(stdout);
        return 1;
}

static int takes_arg(const char *cmd)
{
        static const char *const with_arg[] = {"mounts", "dev", "read", "write", "ls", "syscall", "exit"};
        for (size_t i = 0; i < sizeof(with_arg) / sizeof(with_arg[0]); i++)
                if (!strcmp(cmd, with_arg[i]))
                        return 1;
        return 0;
}

int main(int argc, char **argv)
{
        for (int i = 1; i < argc; i++) {
                const char *arg = takes_arg(argv[i]) && i + 1 < argc ? argv[i + 1] : NULL;
                if (run(argv[i], arg) < 0) {
                        fprintf(stderr, "probe: bad command '%s'\n", argv[i]);
                        return 125;
                }
                if (arg)
                        i++;
        }
        return 0;
}
