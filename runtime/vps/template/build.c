/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The atomic build of a template: everything is written into
 * <data>/templates/.tmp-<NAME>-<pid>/ and renamed to <NAME> at the end, so
 * readers never see a half-made template and a failure leaves nothing. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "berth/rmtree.h"
#include "berth/rootfs.h"
#include "runtime/vps/template/internal.h"

/* A builder that died (kill -9, power loss) leaves .tmp-<NAME>-<pid>;
 * remove those whose pid is gone before building the same name again. */
static void remove_stale(int templates_fd, const char *name)
{
        int own_fd = openat(templates_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_closedir_ DIR *d = own_fd >= 0 ? fdopendir(own_fd) : NULL;
        if (!d) {
                if (own_fd >= 0)
                        close(own_fd);
                return;
        }
        char prefix[TMPL_NAME_MAX + 8];
        snprintf(prefix, sizeof(prefix), ".tmp-%s-", name);
        size_t plen = strlen(prefix);
        struct dirent *de;
        while ((de = readdir(d))) {
                if (strncmp(de->d_name, prefix, plen))
                        continue;
                char *end;
                long pid = strtol(de->d_name + plen, &end, 10);
                if (*end || pid <= 0 || (kill((pid_t)pid, 0) < 0 && errno == ESRCH))
                        berth_rmtree_at(templates_fd, de->d_name, NULL);
        }
}

static int open_new_dir(int dirfd, const char *name, mode_t mode)
{
        if (mkdirat(dirfd, name, mode) < 0)
                return -errno;
        int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

int tmpl_build_begin(struct tmpl_build *b, const char *data_dir, const char *name, struct berth_err *err)
{
        *b = (struct tmpl_build){.templates_fd = -EBADF, .tmp_fd = -EBADF, .rootfs_fd = -EBADF};
        int r = tmpl_check_name(name, err);
        if (r < 0)
                return r;
        snprintf(b->name, sizeof(b->name), "%s", name);
        b->templates_fd = tmpl_open_templates_dir(data_dir, true, err);
        if (b->templates_fd < 0)
                return b->templates_fd;
        if (faccessat(b->templates_fd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                return berth_err_set(err, EEXIST, "template %s already exists", name);
        remove_stale(b->templates_fd, name);
        snprintf(b->tmpname, sizeof(b->tmpname), ".tmp-%s-%d", name, (int)getpid());
        /* 0700 while building: nobody should use a half-made root. */
        b->tmp_fd = open_new_dir(b->templates_fd, b->tmpname, 0700);
        if (b->tmp_fd < 0) {
                b->tmpname[0] = '\0'; /* not ours: must not be removed by abort */
                return berth_err_sys(err, -b->tmp_fd, "create template %s: create build directory", name);
        }
        b->rootfs_fd = open_new_dir(b->tmp_fd, "rootfs", 0755);
        if (b->rootfs_fd < 0)
                return berth_err_sys(err, -b->rootfs_fd, "create template %s: create rootfs", name);
        return 0;
}

void tmpl_build_abort(struct tmpl_build *b)
{
        berth_closep(&b->rootfs_fd);
        berth_closep(&b->tmp_fd);
        if (!b->committed && b->tmpname[0] && b->templates_fd >= 0)
                berth_rmtree_at(b->templates_fd, b->tmpname, NULL);
        berth_closep(&b->templates_fd);
        b->rootfs_fd = b->tmp_fd = b->templates_fd = -EBADF;
}

/* Follows /sbin/init's symlink chain inside the root (never out of it) and
 * returns the root-relative path of the final file in buf. */
static int resolve_init(int rootfd, char *buf, size_t len)
{
        snprintf(buf, len, "sbin/init");
        for (int hop = 0; hop < 16; hop++) {
                char *slash = strrchr(buf, '/');
                char dir[PATH_MAX];
                snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - buf) : 1, slash ? buf : ".");
                _cleanup_close_ int dfd = berth_in_root_open(rootfd, dir, O_PATH | O_DIRECTORY);
                if (dfd < 0)
                        return dfd;
                const char *base = slash ? slash + 1 : buf;
                char target[PATH_MAX];
                ssize_t n = readlinkat(dfd, base, target, sizeof(target) - 1);
                if (n < 0)
                        return errno == EINVAL ? 0 : -errno; /* EINVAL: not a symlink, done */
                target[n] = '\0';
                if (target[0] == '/')
                        snprintf(buf, len, "%s", target + 1);
                else
                        snprintf(buf, len, "%s/%s", dir, target);
        }
        return -ELOOP;
}

int tmpl_detect_init(int rootfd, char **init, const char **signal)
{
        *init = NULL;
        *signal = "SIGTERM";
        char final[PATH_MAX];
        int r = resolve_init(rootfd, final, sizeof(final));
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        _cleanup_close_ int fd = berth_in_root_open(rootfd, final, O_PATH);
        if (fd < 0)
                return fd == -ENOENT ? 0 : fd;
        *init = strdup("/sbin/init");
        if (!*init)
                return -ENOMEM;
        const char *base = strrchr(final, '/') ? strrchr(final, '/') + 1 : final;
        if (strstr(base, "systemd"))
                *signal = "SIGRTMIN+3"; /* systemd: halt via SIGRTMIN+3 */
        else if (!strcmp(base, "busybox"))
                *signal = "SIGUSR2"; /* busybox init: USR2 = poweroff (TERM reboots, USR1 halts) */
        else
                *signal = "SIGPWR"; /* sysvinit: powerfail -> shutdown per inittab */
        return 0;
}

static char *build_metadata(const struct tmpl_build *b, const char *source, const char *image_config)
{
        _cleanup_free_ char *init = NULL;
        const char *sig;
        uint64_t size = 0;
        if (tmpl_detect_init(b->rootfs_fd, &init, &sig) < 0 || tmpl_disk_usage(b->rootfs_fd, &size) < 0)
                return NULL;
        char created[64];
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
        _cleanup_json_ json_t *j =
            json_pack("{s:s, s:s, s:s, s:I, s:o, s:s}", "name", b->name, "source", source, "created", created,
                      "size_bytes", (json_int_t)size, "init", init ? json_string(init) : json_null(),
                      "stop_signal", sig);
        if (j && image_config) {
                json_t *cfg = json_loads(image_config, 0, NULL);
                if (cfg)
                        json_object_set_new(j, "image_config", cfg);
        }
        return j ? json_dumps(j, JSON_INDENT(2)) : NULL;
}

int tmpl_build_commit(struct tmpl_build *b, const char *source, const char *image_config,
                      struct berth_err *err)
{
        _cleanup_free_ char *text = build_metadata(b, source, image_config);
        if (!text)
                return berth_err_set(
                    err, EIO, "create template %s: cannot measure the root or write metadata", b->name);
        int r = tmpl_write_file_at(b->tmp_fd, "template.json", text, 0644);
        if (r >= 0 && mkdirat(b->tmp_fd, "users", 0755) < 0)
                r = -errno;
        if (r >= 0 && fchmod(b->tmp_fd, 0755) < 0)
                r = -errno;
        if (r >= 0 && fsync(b->tmp_fd) < 0)
                r = -errno;
        if (r < 0)
                return berth_err_sys(err, -r, "create template %s: write template.json", b->name);
        if (renameat2(b->templates_fd, b->tmpname, b->templates_fd, b->name, RENAME_NOREPLACE) < 0) {
                if (errno == EEXIST)
                        return berth_err_set(err, EEXIST, "template %s already exists", b->name);
                return berth_err_sys(err, errno, "create template %s: rename into place", b->name);
        }
        b->committed = true;
        fsync(b->templates_fd);
        return 0;
}
