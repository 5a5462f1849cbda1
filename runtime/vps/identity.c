// SPDX-License-Identifier: GPL-2.0-or-later
/* A VPS's own identity, seen to at every start through the mounted overlay
 * (like guest.c's files), so that two VPS of one template never look like
 * the same machine:
 *
 *   - /etc/machine-id: 32 hex digits from getrandom, written when the
 *     guest's is missing, empty, "uninitialized" or still the template's
 *     (the first start); the guest's own stays from then on;
 *   - SSH host keys: each /etc/ssh/ssh_host_<type>_key that is still the
 *     template's is replaced by a new key of that type, made on the host
 *     with ssh-keygen (the guest may have no ssh-keygen, and nothing has
 *     to run inside before its init); without ssh-keygen on the host the
 *     template's keys are removed from the VPS (a warning) rather than
 *     shared;
 *   - boot_id: a new random UUID in <dir>/boot_id at every start, bound
 *     over /proc/sys/kernel/random/boot_id (view.c), so that journald and
 *     friends see each start as a boot of their own. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/file.h"
#include "berth/rootfs.h"
#include "berth/vps.h"
#include "runtime/vps/internal.h"

#define ID_FILE_MAX (64 * 1024)

static int random_bytes(unsigned char *b, size_t n)
{
        size_t got = 0;
        while (got < n) {
                ssize_t k = getrandom(b + got, n - got, 0);
                if (k < 0 && errno != EINTR)
                        return -errno;
                got += k > 0 ? (size_t)k : 0;
        }
        return 0;
}

static int write_boot_id(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg,
                         struct berth_err *err)
{
        unsigned char b[16];
        int r = random_bytes(b, sizeof(b));
        if (r < 0)
                return berth_err_sys(err, -r, "boot_id: getrandom");
        b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
        b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
        char id[40], path[PATH_MAX];
        snprintf(id, sizeof(id), "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
                 b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                 b[15]);
        char tmp[PATH_MAX + 4];
        if ((r = berth_vps_path(v, cfg->name, VPS_BOOT_ID_FILE, path, sizeof(path))) < 0)
                return berth_err_sys(err, -r, "VPS %s: boot_id", cfg->name);
        /* Renamed into place, not synced: it lives one boot of the VPS,
         * and a host crash ends that boot (two fsyncs less per start). */
        snprintf(tmp, sizeof(tmp), "%s.tmp", path);
        struct iovec iov[] = {{id, strlen(id)}, {"\n", 1}};
        r = berth_write_file_atomic_at(AT_FDCWD, path, iov, 2,
                                       &(struct berth_atomic_opts){.tmp = tmp, .mode = 0644});
        if (r < 0)
                return berth_err_sys(err, -r, "write %s", path);
        vps_trace(v, "VPS %s: boot_id %s", cfg->name, id);
        return 0;
}

/* The content of a regular file below root (NULL when there is none). */
static char *read_in_root(int root_fd, const char *path, size_t *len)
{
        _cleanup_close_ int fd =
            berth_in_root_open(root_fd, path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
        struct stat sb;
        char *text = NULL;
        if (fd < 0 || fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) ||
            berth_read_fd(fd, ID_FILE_MAX, &text, len) < 0)
                return NULL;
        return text;
}

/* True when the guest's file is (still) the template's. */
static bool same_as_template(int root_fd, int tmpl_fd, const char *path)
{
        size_t a_len = 0, b_len = 0;
        _cleanup_free_ char *a = read_in_root(root_fd, path, &a_len);
        _cleanup_free_ char *b = a ? read_in_root(tmpl_fd, path, &b_len) : NULL;
        return a && b && a_len == b_len && !memcmp(a, b, a_len);
}

static int put_file(int dir_fd, const char *name, const char *data, size_t len, mode_t mode,
                    const struct berth_vps_config *cfg)
{
        char tmp[96];
        snprintf(tmp, sizeof(tmp), ".berth-%s.tmp", name);
        struct iovec iov = {(void *)data, len};
        uid_t owner = vps_host_uid(cfg, 0);
        struct berth_atomic_opts o = {
            .tmp = tmp, .mode = mode, .exact_mode = true, .chown = true, .uid = owner, .gid = owner};
        return berth_write_file_atomic_at(dir_fd, name, &iov, 1, &o);
}

static bool machine_id_unset(int root_fd, int tmpl_fd)
{
        size_t len = 0;
        _cleanup_free_ char *id = read_in_root(root_fd, "/etc/machine-id", &len);
        if (!id || len == 0 || !strncmp(id, "uninitialized", 13))
                return true;
        return same_as_template(root_fd, tmpl_fd, "/etc/machine-id");
}

static int machine_id(const struct berth_vps_ctx *v, int etc_fd, int root_fd, int tmpl_fd,
                      const struct berth_vps_config *cfg, struct berth_err *err)
{
        if (!machine_id_unset(root_fd, tmpl_fd))
                return 0;
        unsigned char b[16];
        char id[34];
        int r = random_bytes(b, sizeof(b));
        if (r < 0)
                return berth_err_sys(err, -r, "machine-id: getrandom");
        for (size_t i = 0; i < sizeof(b); i++)
                snprintf(id + 2 * i, 3, "%02x", b[i]);
        id[32] = '\n';
        id[33] = '\0';
        if ((r = put_file(etc_fd, "machine-id", id, 33, 0444, cfg)) < 0)
                return berth_err_sys(err, -r, "write /etc/machine-id");
        vps_trace(v, "VPS %s: new /etc/machine-id %.32s", cfg->name, id);
        return 0;
}

static const char *const key_types[] = {"rsa", "ecdsa", "ed25519", "dsa"};

/* ssh-keygen -t type into dir/key(.pub), quietly; 0 when it made them. */
static int keygen(const char *type, const char *dir, const char *comment)
{
        char key[PATH_MAX];
        snprintf(key, sizeof(key), "%s/key", dir);
        char *argv[] = {"ssh-keygen",    "-q", "-t", (char *)type, "-N", "", "-C",
                        (char *)comment, "-f", key,  NULL};
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        for (int fd = 0; fd < 3; fd++)
                posix_spawn_file_actions_addopen(&fa, fd, "/dev/null", fd ? O_WRONLY : O_RDONLY, 0);
        pid_t pid;
        static char *const env[] = {"PATH=/usr/bin:/bin:/usr/sbin:/sbin", NULL};
        int r = posix_spawnp(&pid, "ssh-keygen", &fa, NULL, argv, env);
        posix_spawn_file_actions_destroy(&fa);
        if (r != 0)
                return -r;
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -ENOEXEC;
}

/* The new key pair of one type into the guest's /etc/ssh. */
static int new_key(int ssh_fd, const char *type, const char *tmpdir, const struct berth_vps_config *cfg)
{
        char comment[BERTH_VPS_NAME_MAX + 300], name[64], pub[64], path[PATH_MAX];
        snprintf(comment, sizeof(comment), "root@%s", cfg->hostname);
        int r = keygen(type, tmpdir, comment);
        _cleanup_free_ char *k = NULL, *p = NULL;
        size_t k_len = 0, p_len = 0;
        snprintf(path, sizeof(path), "%s/key", tmpdir);
        if (r >= 0)
                r = berth_read_file_at(AT_FDCWD, path, 0, ID_FILE_MAX, &k, &k_len);
        unlink(path);
        snprintf(path, sizeof(path), "%s/key.pub", tmpdir);
        if (r >= 0)
                r = berth_read_file_at(AT_FDCWD, path, 0, ID_FILE_MAX, &p, &p_len);
        unlink(path);
        snprintf(name, sizeof(name), "ssh_host_%s_key", type);
        snprintf(pub, sizeof(pub), "ssh_host_%s_key.pub", type);
        if (r >= 0)
                r = put_file(ssh_fd, name, k, k_len, 0600, cfg);
        if (r >= 0)
                r = put_file(ssh_fd, pub, p, p_len, 0644, cfg);
        return r;
}

/* Without ssh-keygen: no key at all beats one shared with every VPS. */
static int drop_key(int ssh_fd, const char *type)
{
        char name[64];
        snprintf(name, sizeof(name), "ssh_host_%s_key", type);
        if (unlinkat(ssh_fd, name, 0) < 0 && errno != ENOENT)
                return -errno;
        strcat(name, ".pub");
        if (unlinkat(ssh_fd, name, 0) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

static int ssh_keys(const struct berth_vps_ctx *v, int root_fd, int tmpl_fd,
                    const struct berth_vps_config *cfg, struct berth_err *err)
{
        _cleanup_close_ int ssh_fd = berth_in_root_open(root_fd, "/etc/ssh", O_RDONLY | O_DIRECTORY);
        if (ssh_fd < 0)
                return 0; /* no OpenSSH in the guest */
        char tmpdir[] = "/tmp/berth-sshkeys-XXXXXX";
        bool have_tmp = false;
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(key_types); i++) {
                char path[96];
                snprintf(path, sizeof(path), "/etc/ssh/ssh_host_%s_key", key_types[i]);
                if (!same_as_template(root_fd, tmpl_fd, path))
                        continue;
                if (!have_tmp && !(have_tmp = mkdtemp(tmpdir) != NULL))
                        return berth_err_sys(err, errno, "SSH host keys: mkdtemp");
                int r = new_key(ssh_fd, key_types[i], tmpdir, cfg);
                if (r == -ENOENT || r == -ENOEXEC) {
                        vps_warn(v,
                                 "VPS %s: ssh-keygen %s failed on the host: the template's %s key removed "
                                 "from the VPS (make new ones inside: ssh-keygen -A)",
                                 cfg->name, key_types[i], key_types[i]);
                        r = drop_key(ssh_fd, key_types[i]);
                }
                if (r < 0) {
                        rmdir(tmpdir);
                        return berth_err_sys(err, -r, "SSH host key %s", key_types[i]);
                }
                vps_trace(v, "VPS %s: the template's SSH host %s key replaced", cfg->name, key_types[i]);
        }
        if (have_tmp)
                rmdir(tmpdir);
        return 0;
}

int vps_identity_files(const struct berth_vps_ctx *v, int root_fd, const struct berth_vps_config *cfg,
                       struct berth_err *err)
{
        struct berth_vps_template t;
        int r = berth_vps_template_load(v, cfg->template_name, &t, err);
        if (r < 0)
                return r;
        _cleanup_close_ int tmpl_fd = open(t.rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (tmpl_fd < 0)
                r = berth_err_sys(err, errno, "open %s", t.rootfs);
        berth_vps_template_clear(&t);
        _cleanup_close_ int etc_fd =
            r < 0 ? -EBADF : berth_in_root_open(root_fd, "/etc", O_RDONLY | O_DIRECTORY);
        if (r >= 0 && etc_fd < 0)
                r = berth_err_sys(err, -etc_fd, "guest /etc");
        if (r >= 0)
                r = machine_id(v, etc_fd, root_fd, tmpl_fd, cfg, err);
        if (r >= 0)
                r = ssh_keys(v, root_fd, tmpl_fd, cfg, err);
        if (r >= 0)
                r = write_boot_id(v, cfg, err);
        return r < 0 ? berth_err_wrap(err, "VPS %s: identity", cfg->name) : 0;
}
