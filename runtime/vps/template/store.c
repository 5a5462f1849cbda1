/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The template store: names, the data directory, listing, metadata,
 * removal and the users/ markers that keep a used template alive. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/file.h"
#include "berth/rmtree.h"
#include "runtime/vps/template/internal.h"

const char *berth_data_dir(const char *flag_value)
{
        if (flag_value && *flag_value)
                return flag_value;
        const char *env = getenv("BERTH_DATA");
        return env && *env ? env : "/var/lib/berth";
}

bool berth_template_name_valid(const char *name)
{
        size_t len = name ? strlen(name) : 0;
        if (len == 0 || len > TMPL_NAME_MAX)
                return false;
        for (size_t i = 0; i < len; i++) {
                char c = name[i];
                bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
                if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-')))
                        return false;
        }
        return true;
}

int tmpl_check_name(const char *name, struct berth_err *err)
{
        if (berth_template_name_valid(name))
                return 0;
        return berth_err_set(err, EINVAL,
                             "invalid template name \"%s\": 1 to 64 characters of [a-zA-Z0-9_.-], "
                             "starting with a letter or digit",
                             name ? name : "");
}

int tmpl_open_templates_dir(const char *data_dir, bool create, struct berth_err *err)
{
        char path[PATH_MAX];
        if (snprintf(path, sizeof(path), "%s/templates", data_dir) >= (int)sizeof(path))
                return berth_err_set(err, ENAMETOOLONG, "data directory %s: path too long", data_dir);
        if (create) {
                /* The data directory stays searchable (a VPS's root walks
                 * through it to its own root), templates/ is closed. */
                int r = tmpl_mkdir_p(data_dir, 0755);
                if (r >= 0 && mkdir(path, 0700) < 0 && errno != EEXIST)
                        r = -errno;
                if (r < 0)
                        return berth_err_sys(err, -r, "create %s", path);
        }
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return berth_err_sys(err, errno, "open %s", path);
        /* Root's only: templates hold set-uid-root programs (su, passwd,
         * mount), which any host user could otherwise run as root. VPS
         * reach them through an idmapped or overlay mount made by root. */
        struct stat sb;
        if (fstat(fd, &sb) == 0 && (sb.st_mode & 077) && fchmod(fd, sb.st_mode & 07700) < 0) {
                int e = errno;
                close(fd);
                return berth_err_sys(err, e, "chmod 0700 %s", path);
        }
        return fd;
}

void berth_template_info_clear(struct berth_template_info *i)
{
        free(i->name);
        free(i->source);
        free(i->created);
        free(i->init);
        free(i->stop_signal);
        free(i->image_config);
        free(i->rootfs);
        berth_strv_freep(&i->users);
        *i = (struct berth_template_info){0};
}

void berth_template_list_free(struct berth_template_info *infos, size_t n)
{
        for (size_t i = 0; infos && i < n; i++)
                berth_template_info_clear(&infos[i]);
        free(infos);
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted NULL-terminated names in dirfd/sub, skipping dot files. */
static int read_names(int dirfd, const char *sub, char ***out, size_t *n)
{
        *out = NULL;
        *n = 0;
        int fd = openat(dirfd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_closedir_ DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        if (!d) {
                int e = errno;
                if (fd >= 0)
                        close(fd);
                return e == ENOENT ? 0 : -e;
        }
        _cleanup_strv_ char **v = calloc(1, sizeof(char *));
        size_t cnt = 0;
        struct dirent *de;
        while (v && (de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                char **nv = realloc(v, (cnt + 2) * sizeof(char *));
                if (!nv)
                        return -ENOMEM;
                v = nv;
                v[cnt] = strdup(de->d_name);
                v[cnt + 1] = NULL;
                if (!v[cnt])
                        return -ENOMEM;
                cnt++;
        }
        if (!v)
                return -ENOMEM;
        qsort(v, cnt, sizeof(char *), cmp_str);
        *out = TAKE_PTR(v);
        *n = cnt;
        return 0;
}

static char *json_strdup(json_t *obj, const char *key)
{
        const char *s = json_string_value(json_object_get(obj, key));
        return s ? strdup(s) : NULL;
}

static int load_metadata(int tdir, struct berth_template_info *out)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_json_ json_t *j = NULL;
        if (berth_read_file_at(tdir, "template.json", O_NOFOLLOW, 1 << 20, &text, NULL) >= 0)
                j = json_loads(text, 0, NULL);
        out->source = j ? json_strdup(j, "source") : NULL;
        out->created = j ? json_strdup(j, "created") : NULL;
        out->init = j ? json_strdup(j, "init") : NULL;
        out->stop_signal = j ? json_strdup(j, "stop_signal") : NULL;
        json_t *size = j ? json_object_get(j, "size_bytes") : NULL;
        out->size_bytes = json_is_integer(size) ? (uint64_t)json_integer_value(size) : 0;
        json_t *cfg = j ? json_object_get(j, "image_config") : NULL;
        out->image_config = cfg ? json_dumps(cfg, JSON_COMPACT) : NULL;
        /* A damaged template.json still lists (and can be removed). */
        if (!out->source)
                out->source = strdup("unknown");
        if (!out->stop_signal)
                out->stop_signal = strdup("SIGTERM");
        return out->source && out->stop_signal ? 0 : -ENOMEM;
}

static int load_info(int templates_fd, const char *tpath, const char *name, struct berth_template_info *out)
{
        *out = (struct berth_template_info){0};
        _cleanup_close_ int tdir =
            openat(templates_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (tdir < 0)
                return -errno;
        out->name = strdup(name);
        if (!out->name || asprintf(&out->rootfs, "%s/%s/rootfs", tpath, name) < 0) {
                out->rootfs = NULL;
                return -ENOMEM;
        }
        int r = load_metadata(tdir, out);
        if (r >= 0)
                r = read_names(tdir, "users", &out->users, &out->n_users);
        if (r >= 0 && !out->users)
                out->users = calloc(1, sizeof(char *));
        return r < 0 ? r : out->users ? 0 : -ENOMEM;
}

/* Absolute path of <data>/templates, for the rootfs paths we hand out. */
static int templates_path(const char *data_dir, char *out, size_t len, struct berth_err *err)
{
        char buf[PATH_MAX];
        snprintf(buf, sizeof(buf), "%s/templates", data_dir);
        if (!realpath(buf, out)) {
                int e = errno;
                if (e == ENOENT)
                        return -ENOENT;
                return berth_err_sys(err, e, "resolve %s", buf);
        }
        (void)len;
        return 0;
}

/* Checks name, then templates_path: -ENOENT (err untouched) when the
 * data directory has no templates yet. */
static int named_templates_path(const char *data_dir, const char *name, char tpath[PATH_MAX],
                                struct berth_err *err)
{
        int r = tmpl_check_name(name, err);
        return r < 0 ? r : templates_path(data_dir, tpath, PATH_MAX, err);
}

int berth_template_info(const char *data_dir, const char *name, struct berth_template_info *out,
                        struct berth_err *err)
{
        *out = (struct berth_template_info){0};
        char tpath[PATH_MAX];
        int r = named_templates_path(data_dir, name, tpath, err);
        _cleanup_close_ int tfd = r >= 0 ? open(tpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -ENOENT;
        if (r < 0 && r != -ENOENT)
                return r;
        r = tfd >= 0 ? load_info(tfd, tpath, name, out) : -ENOENT;
        if (r < 0) {
                berth_template_info_clear(out);
                if (r == -ENOENT || r == -ENOTDIR || r == -ELOOP)
                        return berth_err_set(err, ENOENT, "template %s does not exist", name);
                return berth_err_sys(err, -r, "template %s", name);
        }
        return 0;
}

int berth_template_list(const char *data_dir, struct berth_template_info **out, size_t *n,
                        struct berth_err *err)
{
        *out = NULL;
        *n = 0;
        char tpath[PATH_MAX];
        int r = templates_path(data_dir, tpath, sizeof(tpath), err);
        if (r == -ENOENT)
                return 0; /* no template was ever made */
        if (r < 0)
                return r;
        _cleanup_close_ int tfd = open(tpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_strv_ char **names = NULL;
        size_t cnt = 0;
        r = tfd < 0 ? -errno : read_names(tfd, ".", &names, &cnt);
        if (r < 0)
                return berth_err_sys(err, -r, "list %s", tpath);
        struct berth_template_info *infos = calloc(cnt + 1, sizeof(*infos));
        if (!infos)
                return berth_err_sys(err, ENOMEM, "list templates");
        size_t m = 0;
        for (size_t i = 0; i < cnt; i++) {
                r = load_info(tfd, tpath, names[i], &infos[m]);
                if (r >= 0)
                        m++;
                else
                        berth_template_info_clear(&infos[m]); /* vanished meanwhile, or a stray file */
        }
        *out = infos;
        *n = m;
        return 0;
}

int berth_template_rootfs(const char *data_dir, const char *name, char *out, size_t len,
                          struct berth_err *err)
{
        char tpath[PATH_MAX];
        int r = named_templates_path(data_dir, name, tpath, err);
        if (r < 0 && r != -ENOENT)
                return r;
        struct stat st;
        if (r < 0 || snprintf(out, len, "%s/%s/rootfs", tpath, name) >= (int)len || stat(out, &st) < 0 ||
            !S_ISDIR(st.st_mode))
                return berth_err_set(err, ENOENT, "template %s does not exist", name);
        return 0;
}

/* Opens <templates>/<name> and takes the template lock (flock on the
 * directory): exclusive for removal, shared for adding/removing a user. A
 * remover renames the directory away while holding the lock, so after
 * getting it we check that the name still points at the directory we hold. */
static int open_locked(int tfd, const char *name, int op)
{
        _cleanup_close_ int dir = openat(tfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dir < 0)
                return errno == ENOTDIR || errno == ELOOP ? -ENOENT : -errno;
        if (flock(dir, op) < 0)
                return -errno;
        struct stat a, b;
        if (fstat(dir, &a) < 0 || fstatat(tfd, name, &b, AT_SYMLINK_NOFOLLOW) < 0 || a.st_ino != b.st_ino ||
            a.st_dev != b.st_dev)
                return -ENOENT;
        return TAKE_FD(dir);
}

static int open_template_locked(const char *data_dir, const char *name, int op, int *tfd_out,
                                struct berth_err *err)
{
        int r = tmpl_check_name(name, err);
        if (r < 0)
                return r;
        struct berth_err ignored = {0};
        _cleanup_close_ int tfd = tmpl_open_templates_dir(data_dir, false, &ignored);
        int dir = tfd >= 0 ? open_locked(tfd, name, op) : -ENOENT;
        if (dir == -ENOENT)
                return berth_err_set(err, ENOENT, "template %s does not exist", name);
        if (dir < 0)
                return berth_err_sys(err, -dir, "template %s", name);
        if (tfd_out)
                *tfd_out = TAKE_FD(tfd);
        return dir;
}

static int busy_error(const char *name, char **users, struct berth_err *err)
{
        char list[512] = "";
        size_t len = 0;
        for (char **u = users; *u && len < sizeof(list) - 1; u++)
                len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s", u == users ? "" : ", ", *u);
        return berth_err_set(err, EBUSY, "template %s is used by VPS %s", name, list);
}

int berth_template_remove(const char *data_dir, const char *name, struct berth_err *err)
{
        _cleanup_close_ int tfd = -EBADF;
        _cleanup_close_ int dir = open_template_locked(data_dir, name, LOCK_EX, &tfd, err);
        if (dir < 0)
                return dir;
        _cleanup_strv_ char **users = NULL;
        size_t n = 0;
        int r = read_names(dir, "users", &users, &n);
        if (r < 0)
                return berth_err_sys(err, -r, "remove template %s: read users", name);
        if (n > 0)
                return busy_error(name, users, err);
        /* Rename first: the name disappears at once and atomically, even if
         * deleting a big tree takes a while or fails half-way. */
        char gone[TMPL_NAME_MAX + 32];
        snprintf(gone, sizeof(gone), ".rm-%s-%d", name, (int)getpid());
        if (renameat(tfd, name, tfd, gone) < 0)
                return berth_err_sys(err, errno, "remove template %s", name);
        r = berth_rmtree_at(tfd, gone, err);
        if (r < 0)
                return berth_err_wrap(err, "remove template %s", name);
        return 0;
}

int berth_template_use(const char *data_dir, const char *name, const char *vps, struct berth_err *err)
{
        if (!berth_template_name_valid(vps))
                return berth_err_set(err, EINVAL, "invalid VPS name \"%s\"", vps ? vps : "");
        _cleanup_close_ int dir = open_template_locked(data_dir, name, LOCK_SH, NULL, err);
        if (dir < 0)
                return dir;
        if (mkdirat(dir, "users", 0755) < 0 && errno != EEXIST)
                return berth_err_sys(err, errno, "template %s: create users/", name);
        _cleanup_close_ int users = openat(dir, "users", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        _cleanup_close_ int fd =
            users < 0 ? -errno : openat(users, vps, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return berth_err_sys(err, errno, "template %s: mark VPS %s as user", name, vps);
        /* On disk before the VPS it marks becomes visible (vps create). */
        if (fsync(users) < 0)
                return berth_err_sys(err, errno, "template %s: mark VPS %s as user: fsync", name, vps);
        return 0;
}

int berth_template_unuse(const char *data_dir, const char *name, const char *vps, struct berth_err *err)
{
        if (!berth_template_name_valid(vps))
                return berth_err_set(err, EINVAL, "invalid VPS name \"%s\"", vps ? vps : "");
        struct berth_err ignored = {0};
        _cleanup_close_ int dir = open_template_locked(data_dir, name, LOCK_SH, NULL, &ignored);
        if (dir == -ENOENT)
                return 0; /* nothing to unmark: destroying a VPS must stay idempotent */
        if (dir < 0) {
                *err = ignored;
                return dir;
        }
        _cleanup_close_ int users = openat(dir, "users", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (users >= 0 && unlinkat(users, vps, 0) < 0 && errno != ENOENT)
                return berth_err_sys(err, errno, "template %s: unmark VPS %s", name, vps);
        return 0;
}
