/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The per-container state directory and its state.json. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/file.h"
#include "berth/state.h"

bool berth_id_valid(const char *id)
{
        size_t len = strlen(id);
        if (len == 0 || len > BERTH_ID_MAX || !isalnum((unsigned char)id[0]))
                return false;
        for (const char *p = id; *p; p++)
                if (!isalnum((unsigned char)*p) && !strchr("_.+-", *p))
                        return false;
        return true;
}

int berth_state_root_open(const char *root, struct berth_err *err)
{
        int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0 || errno != ENOENT)
                return fd >= 0 ? fd : berth_err_sys(err, errno, "open state root %s", root);
        /* Create missing parents too: --root may point anywhere. */
        _cleanup_free_ char *copy = strdup(root);
        if (!copy)
                return berth_err_sys(err, ENOMEM, "state root");
        for (char *p = copy + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = '\0';
                if (mkdir(copy, 0711) < 0 && errno != EEXIST)
                        return berth_err_sys(err, errno, "create state root %s", copy);
                *p = '/';
        }
        if (mkdir(root, 0711) < 0 && errno != EEXIST)
                return berth_err_sys(err, errno, "create state root %s", root);
        fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return fd >= 0 ? fd : berth_err_sys(err, errno, "open state root %s", root);
}

int berth_state_dir_create(int root_fd, const char *id, struct berth_err *err)
{
        if (!berth_id_valid(id))
                return berth_err_set(err, EINVAL, "invalid container id %s", id);
        if (mkdirat(root_fd, id, 0711) < 0) {
                if (errno == EEXIST)
                        return berth_err_set(err, EEXIST, "container with id exists: %s", id);
                return berth_err_sys(err, errno, "create state directory for %s", id);
        }
        int fd = openat(root_fd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        return fd >= 0 ? fd : berth_err_sys(err, errno, "open state directory for %s", id);
}

int berth_state_dir_create_locked(int root_fd, const char *id, int *lock_fd, struct berth_err *err)
{
        *lock_fd = -EBADF;
        if (!berth_id_valid(id))
                return berth_err_set(err, EINVAL, "invalid container id %s", id);
        char tmp[BERTH_ID_MAX + 32];
        snprintf(tmp, sizeof(tmp), ".new.%s.%d", id, (int)getpid());
        if (mkdirat(root_fd, tmp, 0711) < 0)
                return berth_err_sys(err, errno, "create state directory for %s", id);
        int fd = openat(root_fd, tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        int lock = fd >= 0 ? berth_state_lock(fd, err) : berth_err_sys(err, errno, "open state directory");
        if (lock >= 0 && renameat2(root_fd, tmp, root_fd, id, RENAME_NOREPLACE) < 0) {
                int e = errno;
                lock = e == EEXIST ? berth_err_set(err, EEXIST, "container with id exists: %s", id)
                                   : berth_err_sys(err, e, "create state directory for %s", id);
        }
        if (lock < 0) {
                unlinkat(root_fd, tmp, AT_REMOVEDIR);
                if (fd >= 0)
                        close(fd);
                return lock;
        }
        *lock_fd = lock;
        return fd;
}

int berth_state_trylock(int dir_fd, int *lock_fd)
{
        *lock_fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (*lock_fd < 0)
                return -errno;
        if (flock(*lock_fd, LOCK_EX | LOCK_NB) == 0)
                return 1;
        int e = errno;
        close(*lock_fd);
        *lock_fd = -EBADF;
        return e == EWOULDBLOCK ? 0 : -e;
}

int berth_state_sweep_new(int root_fd, const char *id)
{
        int dfd = fcntl(root_fd, F_DUPFD_CLOEXEC, 3);
        if (dfd < 0)
                return -errno;
        _cleanup_closedir_ DIR *d = fdopendir(dfd);
        if (!d) {
                close(dfd);
                return -ENOMEM;
        }
        rewinddir(d);
        char prefix[BERTH_ID_MAX + 8];
        snprintf(prefix, sizeof(prefix), ".new.%s.", id);
        size_t plen = strlen(prefix);
        int n = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (strncmp(de->d_name, prefix, plen) || strchr(de->d_name + plen, '.'))
                        continue;
                _cleanup_close_ int fd = openat(root_fd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                _cleanup_close_ int lock = -EBADF;
                if (fd >= 0 && berth_state_trylock(fd, &lock) == 1 &&
                    unlinkat(root_fd, de->d_name, AT_REMOVEDIR) == 0)
                        n++;
        }
        return n;
}

int berth_state_dir_open(int root_fd, const char *id, struct berth_err *err)
{
        if (!berth_id_valid(id))
                return berth_err_set(err, ENOENT, "container does not exist: %s", id);
        int fd = openat(root_fd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0 && errno == ENOENT)
                return berth_err_set(err, ENOENT, "container does not exist: %s", id);
        return fd >= 0 ? fd : berth_err_sys(err, errno, "open state directory for %s", id);
}

/* The lock is the state directory itself, opened anew (flock belongs to
 * the open file): a lock file would be one more inode to create and
 * remove per container. A directory removed meanwhile still opens; the
 * callers then find no state.json in it. */
int berth_state_lock(int dir_fd, struct berth_err *err)
{
        int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return berth_err_sys(err, errno, "open container lock");
        while (flock(fd, LOCK_EX) < 0) {
                if (errno != EINTR) {
                        int e = errno;
                        close(fd);
                        return berth_err_sys(err, e, "lock container");
                }
        }
        return fd;
}

static json_t *annotations_to_json(const struct berth_state *st)
{
        json_t *obj = json_object();
        for (size_t i = 0; obj && i < st->n_annotations; i++)
                json_object_set_new(obj, st->annotations[i].key, json_string(st->annotations[i].value));
        return obj;
}

char *berth_state_format(const struct berth_state *st)
{
        _cleanup_json_ json_t *j =
            json_pack("{s:s, s:s, s:s, s:i, s:I, s:s, s:s, s:b, s:o}", "id", st->id, "bundle", st->bundle,
                      "rootfs", st->rootfs ? st->rootfs : "", "pid", (int)st->pid, "pid_start_time",
                      (json_int_t)st->pid_start_time, "created", st->created ? st->created : "", "owner",
                      st->owner ? st->owner : "", "systemd_cgroup", st->systemd_cgroup, "annotations",
                      annotations_to_json(st));
        if (!j)
                return NULL;
        if (st->cgroup)
                json_object_set_new(j, "cgroup", json_string(st->cgroup));
        return json_dumps(j, JSON_COMPACT);
}

int berth_state_write(int dir_fd, const struct berth_state *st, struct berth_err *err)
{
        _cleanup_free_ char *text = berth_state_format(st);
        if (!text)
                return berth_err_set(err, ENOMEM, "format state of %s", st->id);
        /* Write-then-rename so that readers never see a half-written file.
         * No fsync: the state root is a tmpfs (/run) and dies with the boot. */
        struct iovec iov = {text, strlen(text)};
        int r =
            berth_write_file_atomic_at(dir_fd, "state.json", &iov, 1,
                                       &(struct berth_atomic_opts){.tmp = "state.json.tmp", .mode = 0600});
        return r < 0 ? berth_err_sys(err, -r, "write state of %s", st->id) : 0;
}

static char *dup_string(json_t *obj, const char *key)
{
        const char *s = json_string_value(json_object_get(obj, key));
        return s ? strdup(s) : NULL;
}

static int parse_annotations(json_t *obj, struct berth_state *st)
{
        size_t n = json_object_size(obj);
        if (n == 0)
                return 0;
        st->annotations = calloc(n, sizeof(*st->annotations));
        if (!st->annotations)
                return -ENOMEM;
        const char *key;
        json_t *value;
        json_object_foreach(obj, key, value)
        {
                if (!json_is_string(value))
                        return -EINVAL;
                struct berth_key_value *kv = &st->annotations[st->n_annotations++];
                kv->key = strdup(key);
                kv->value = strdup(json_string_value(value));
                if (!kv->key || !kv->value)
                        return -ENOMEM;
        }
        return 0;
}

int berth_state_parse(const char *json, size_t len, struct berth_state *st, struct berth_err *err)
{
        memset(st, 0, sizeof(*st));
        json_error_t jerr;
        _cleanup_json_ json_t *j = json_loadb(json, len, 0, &jerr);
        if (!j || !json_is_object(j))
                return berth_err_set(err, EINVAL, "state.json: %s", j ? "not an object" : jerr.text);
        json_t *pid = json_object_get(j, "pid"), *start = json_object_get(j, "pid_start_time");
        st->id = dup_string(j, "id");
        st->bundle = dup_string(j, "bundle");
        if (!st->id || !st->bundle || !json_is_integer(pid) || !json_is_integer(start) ||
            json_integer_value(pid) < 0 || json_integer_value(pid) > INT32_MAX) {
                berth_state_clear(st);
                return berth_err_set(err, EINVAL, "state.json: missing or invalid id, bundle or pid");
        }
        st->pid = (pid_t)json_integer_value(pid);
        st->pid_start_time = (uint64_t)json_integer_value(start);
        st->rootfs = dup_string(j, "rootfs");
        st->created = dup_string(j, "created");
        st->owner = dup_string(j, "owner");
        st->cgroup = dup_string(j, "cgroup");
        st->systemd_cgroup = json_is_true(json_object_get(j, "systemd_cgroup"));
        json_t *ann = json_object_get(j, "annotations");
        if (ann && (!json_is_object(ann) || parse_annotations(ann, st) < 0)) {
                berth_state_clear(st);
                return berth_err_set(err, EINVAL, "state.json: invalid annotations");
        }
        return 0;
}

int berth_state_read(int dir_fd, struct berth_state *st, struct berth_err *err)
{
        _cleanup_close_ int fd = openat(dir_fd, "state.json", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return berth_err_sys(err, errno, "read state.json");
        char buf[65536];
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0)
                return berth_err_sys(err, errno, "read state.json");
        return berth_state_parse(buf, (size_t)n, st, err);
}

void berth_state_clear(struct berth_state *st)
{
        free(st->id);
        free(st->bundle);
        free(st->rootfs);
        free(st->created);
        free(st->owner);
        free(st->cgroup);
        for (size_t i = 0; i < st->n_annotations; i++) {
                free(st->annotations[i].key);
                free(st->annotations[i].value);
        }
        free(st->annotations);
        memset(st, 0, sizeof(*st));
}
