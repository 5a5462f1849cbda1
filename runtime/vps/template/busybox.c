/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The busybox template: a tiny bootable system made from the host's static
 * /bin/busybox in a few milliseconds, with nothing downloaded. busybox runs
 * once (--list-full) to name its applets; every applet is a symlink. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "berth/file.h"
#include "berth/rootfs.h"
#include "runtime/vps/template/internal.h"

#define HOST_BUSYBOX "/bin/busybox"

/* A dynamically linked busybox would not run inside the template (no libc
 * there), so insist on a static one: no PT_INTERP program header. */
static int check_static(int fd)
{
        Elf64_Ehdr eh;
        if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG))
                return -ENOEXEC;
        if (eh.e_ident[EI_CLASS] != ELFCLASS64)
                return 0; /* 32-bit host busybox: trust the package */
        for (unsigned i = 0; i < eh.e_phnum; i++) {
                Elf64_Phdr ph;
                off_t off = (off_t)eh.e_phoff + (off_t)i * eh.e_phentsize;
                if (pread(fd, &ph, sizeof(ph), off) != (ssize_t)sizeof(ph))
                        return -ENOEXEC;
                if (ph.p_type == PT_INTERP)
                        return -ELIBBAD;
        }
        return 0;
}

static int copy_busybox(int src, int rootfd)
{
        _cleanup_close_ int dst =
            openat(rootfd, "bin/busybox", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
        if (dst < 0)
                return -errno;
        struct stat st;
        if (fstat(src, &st) < 0)
                return -errno;
        off_t in = 0;
        while (in < st.st_size) {
                ssize_t n = copy_file_range(src, &in, dst, NULL, (size_t)(st.st_size - in), 0);
                if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EOPNOTSUPP))
                        n = sendfile(dst, src, &in, (size_t)(st.st_size - in));
                if (n <= 0)
                        return n < 0 ? -errno : -EIO;
        }
        return fchmod(dst, 0755) < 0 ? -errno : 0;
}

/* Runs `busybox ARG` once and returns its whole stdout. */
static int busybox_output(const char *arg, char **out)
{
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
        posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
        char *argv[] = {(char *)"busybox", (char *)arg, NULL};
        char *envp[] = {NULL};
        pid_t pid;
        int r = posix_spawn(&pid, HOST_BUSYBOX, &fa, NULL, argv, envp);
        posix_spawn_file_actions_destroy(&fa);
        close(p[1]);
        if (r != 0) {
                close(p[0]);
                return -r;
        }
        r = berth_read_fd(p[0], 1 << 20, out, NULL);
        close(p[0]);
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (r >= 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
                free(*out);
                *out = NULL;
                r = -ENOEXEC;
        }
        return r;
}

static int link_applet(int rootfd, const char *path)
{
        if (symlinkat("/bin/busybox", rootfd, path) == 0 || errno == EEXIST)
                return 0;
        if (errno != ENOENT)
                return -errno;
        /* a directory we did not create up front (e.g. usr/local/bin) */
        if (!strchr(path, '/'))
                return -ENOENT;
        char dir[PATH_MAX];
        snprintf(dir, sizeof(dir), "%.*s", (int)(strrchr(path, '/') - path), path);
        _cleanup_close_ int fd = berth_in_root_mkdir_p(rootfd, dir, 0755);
        if (fd < 0)
                return fd;
        return symlinkat("/bin/busybox", rootfd, path) < 0 && errno != EEXIST ? -errno : 0;
}

/* One symlink per applet, at the path busybox itself suggests
 * (--list-full: "usr/bin/awk"), or in bin/ with the short --list. */
static int link_applets(int rootfd)
{
        _cleanup_free_ char *list = NULL;
        bool full = busybox_output("--list-full", &list) >= 0;
        if (!full) {
                int r = busybox_output("--list", &list);
                if (r < 0)
                        return r;
        }
        char *save = NULL;
        for (char *line = strtok_r(list, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char path[PATH_MAX];
                while (*line == '/')
                        line++;
                if (!*line || strstr(line, "..") || (!full && strchr(line, '/')))
                        continue;
                snprintf(path, sizeof(path), "%s%s", full ? "" : "bin/", line);
                if (!strcmp(path, "bin/busybox"))
                        continue;
                int r = link_applet(rootfd, path);
                if (r < 0)
                        return r;
        }
        if (symlinkat("/bin/busybox", rootfd, "sbin/init") < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

static const char *const dirs[] = {
    "bin",  "sbin", "usr", "usr/bin", "usr/sbin", "etc",     "etc/init.d", "root", "tmp",
    "proc", "sys",  "dev", "run",     "var",      "var/log", "var/tmp",    "home", "mnt",
};

static int make_dirs(int rootfd)
{
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(dirs); i++)
                if (mkdirat(rootfd, dirs[i], 0755) < 0 && errno != EEXIST)
                        return -errno;
        /* Sticky, world-writable temp dirs; a private /root. */
        if (fchmodat(rootfd, "tmp", 01777, 0) < 0 || fchmodat(rootfd, "var/tmp", 01777, 0) < 0 ||
            fchmodat(rootfd, "root", 0700, 0) < 0)
                return -errno;
        return 0;
}

/* No getty: the console is whatever stdio the runtime gives init, and a
 * getty would need a tty. init stays up without respawn entries; USR2
 * (poweroff) runs the shutdown action, signals everything, then exits. */
#define INITTAB                                                                                              \
        "# berth busybox template: boot script only, no login prompt (the console is init's stdio)\n"        \
        "::sysinit:/etc/init.d/rcS\n"                                                                        \
        "::shutdown:/etc/init.d/rcK\n"

/* berth mounts /proc, /sys and /dev; the script only brings up loopback. */
#define RCS                                                                                                  \
        "#!/bin/sh\n"                                                                                        \
        "# berth busybox template: boot script\n"                                                            \
        "ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up 2>/dev/null\n"                            \
        "[ -x /etc/rc.local ] && /etc/rc.local\n"                                                            \
        "echo booted\n"

#define RCK                                                                                                  \
        "#!/bin/sh\n"                                                                                        \
        "# berth busybox template: shutdown script\n"                                                        \
        "echo shutting down\n"

static const struct {
        const char *path, *content;
        mode_t mode;
} files[] = {
    {"etc/inittab", INITTAB, 0644},
    {"etc/init.d/rcS", RCS, 0755},
    {"etc/init.d/rcK", RCK, 0755},
    {"etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
     0644},
    {"etc/group", "root:x:0:\nnobody:x:65534:\n", 0644},
    {"etc/shadow", "root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n", 0600},
    {"etc/hostname", "localhost\n", 0644},
    {"etc/hosts", "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n", 0644},
    {"etc/resolv.conf", "", 0644},
    {"etc/profile", "export PATH=/usr/sbin:/usr/bin:/sbin:/bin\nexport PS1='\\h:\\w\\$ '\n", 0644},
    {"etc/os-release", "NAME=\"berth busybox\"\nID=busybox\nPRETTY_NAME=\"berth busybox template\"\n", 0644},
};

static int write_files(int rootfd)
{
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(files); i++) {
                int r = tmpl_write_file_at(rootfd, files[i].path, files[i].content, files[i].mode);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int populate(int rootfd, int bb, const char **step)
{
        int r;
        *step = "create directories";
        if ((r = make_dirs(rootfd)) < 0)
                return r;
        *step = "copy " HOST_BUSYBOX;
        if ((r = copy_busybox(bb, rootfd)) < 0)
                return r;
        *step = "link applets";
        if ((r = link_applets(rootfd)) < 0)
                return r;
        *step = "write /etc";
        return write_files(rootfd);
}

int berth_template_create_busybox(const char *data_dir, const char *name, struct berth_err *err)
{
        _cleanup_close_ int bb = open(HOST_BUSYBOX, O_RDONLY | O_CLOEXEC);
        if (bb < 0)
                return berth_err_sys(err, errno, "create template %s: %s (install busybox-static)", name,
                                     HOST_BUSYBOX);
        if (check_static(bb) < 0)
                return berth_err_set(
                    err, ELIBBAD,
                    "create template %s: %s is not a static executable (install busybox-static)", name,
                    HOST_BUSYBOX);
        _cleanup_tmpl_build_ struct tmpl_build b = {
            .templates_fd = -EBADF, .tmp_fd = -EBADF, .rootfs_fd = -EBADF};
        int r = tmpl_build_begin(&b, data_dir, name, err);
        if (r < 0)
                return r;
        const char *step = NULL;
        r = populate(b.rootfs_fd, bb, &step);
        if (r < 0)
                return berth_err_sys(err, -r, "create template %s: %s", name, step);
        return tmpl_build_commit(&b, "busybox", NULL, err);
}
