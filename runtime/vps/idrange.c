/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The host-wide allocation of user-id ranges.
 *
 * Why: each data directory used to pick ranges only among its own VPS, so
 * the first VPS of every data directory got host ids 0x40000000: two
 * guests' roots were the same host uid (each could signal, ptrace or own
 * the other's files). Ranges are now recorded in one registry per host
 * (BERTH_ID_REGISTRY, default /var/lib/berth/id-ranges: it must outlive
 * reboots), one line "HOST_ID SIZE DATA_DIR NAME" per VPS, changed under a
 * lock (the registry's name + ".lock"). A range must also stay clear of
 * the host's own users and groups and of the subordinate ids handed out
 * to them (/etc/passwd, /etc/group, /etc/subuid, /etc/subgid; $BERTH_ETC_DIR
 * instead of /etc for tests). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/file.h"
#include "berth/vps.h"
#include "runtime/vps/internal.h"

#define REGISTRY_DEFAULT BERTH_VPS_DEFAULT_DATA "/id-ranges"

struct id_use {
        struct berth_vps_userns r;
        char *what; /* for the error */
};

/* One per VPS of the host and per host user: grown by doubling. */
struct id_uses {
        struct id_use *v;
        size_t n, cap;
};

static void uses_free(struct id_uses *u)
{
        for (size_t i = 0; i < u->n; i++)
                free(u->v[i].what);
        free(u->v);
        *u = (struct id_uses){0};
}

static const char *registry_path(void)
{
        const char *p = getenv("BERTH_ID_REGISTRY");
        return p && *p ? p : REGISTRY_DEFAULT;
}

static int push_use(struct id_uses *u, uint64_t start, uint64_t size, const char *what)
{
        if (u->n == u->cap) {
                size_t cap = u->cap ? 2 * u->cap : 64;
                struct id_use *nv = realloc(u->v, cap * sizeof(*nv));
                if (!nv)
                        return -ENOMEM;
                u->v = nv;
                u->cap = cap;
        }
        char *copy = strdup(what);
        if (!copy)
                return -ENOMEM;
        u->v[u->n++] = (struct id_use){
            .r = {.enabled = true, .host_id = (uint32_t)start, .size = (uint32_t)(size ? size : 1)},
            .what = copy};
        return 0;
}

/* Field `field` (from 0) of a ':'-separated line as a number; -1 if none. */
static long long colon_field(const char *line, int field)
{
        for (int i = 0; i < field && line; i++)
                if ((line = strchr(line, ':')))
                        line++;
        if (!line)
                return -1;
        char *end;
        long long n = strtoll(line, &end, 10);
        return end == line || (*end && *end != ':' && *end != '\n') ? -1 : n;
}

/* Host users and groups (one id each) and subordinate ranges. */
static int host_uses(struct id_uses *u)
{
        const char *etc = getenv("BERTH_ETC_DIR");
        static const struct {
                const char *file;
                int start, count; /* fields; count -1: one id */
        } files[] = {{"passwd", 2, -1}, {"group", 2, -1}, {"subuid", 1, 2}, {"subgid", 1, 2}};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(files); i++) {
                char path[PATH_MAX];
                snprintf(path, sizeof(path), "%s/%s", etc && *etc ? etc : "/etc", files[i].file);
                _cleanup_free_ char *text = NULL;
                size_t len = 0;
                if (berth_read_file_at(AT_FDCWD, path, 0, 16 << 20, &text, &len) < 0)
                        continue; /* no such file: nothing handed out */
                char *save = NULL;
                for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                        long long s = colon_field(l, files[i].start);
                        long long c = files[i].count < 0 ? 1 : colon_field(l, files[i].count);
                        if (s < 0 || c <= 0 || s > UINT32_MAX)
                                continue;
                        char what[PATH_MAX + 96];
                        char *colon = strchr(l, ':');
                        snprintf(what, sizeof(what), "%.*s in %s", colon ? (int)(colon - l) : 0, l, path);
                        if (push_use(u, (uint64_t)s, (uint64_t)c, what) < 0)
                                return -ENOMEM;
                }
        }
        return 0;
}

struct reg_entry {
        uint64_t start, size;
        char dir[PATH_MAX], name[BERTH_VPS_NAME_MAX + 1];
};

static bool parse_entry(char *line, struct reg_entry *e)
{
        char *sp = strrchr(line, ' ');
        unsigned long long s, n;
        int off = 0;
        if (!sp || sscanf(line, "%llu %llu %n", &s, &n, &off) != 2 || off == 0 || line + off >= sp)
                return false;
        *sp = '\0';
        e->start = s;
        e->size = n;
        snprintf(e->dir, sizeof(e->dir), "%s", line + off);
        snprintf(e->name, sizeof(e->name), "%s", sp + 1);
        return berth_vps_name_valid(e->name);
}

/* An entry whose data directory is there but holds no such VPS any more
 * (destroyed by an older berth, or a create that failed): dropped. One
 * whose data directory is missing (an unmounted disk) stays. */
static bool stale(const struct reg_entry *e)
{
        char path[PATH_MAX * 2];
        struct stat sb;
        if (stat(e->dir, &sb) < 0)
                return false;
        snprintf(path, sizeof(path), "%s/vps/%s/vps.json", e->dir, e->name);
        return stat(path, &sb) < 0 && errno == ENOENT;
}

/* Calls fn for each entry of the registry; with prune, for each live one
 * only. The stale check costs two stat()s per line (20,000 at 10,000 VPS),
 * and a stale entry can only keep its range from being picked: so only
 * what reports an overlap to the user, and a rewrite that is rare, prune. */
static int registry_each(int (*fn)(const struct reg_entry *e, void *arg), void *arg, bool prune)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r = berth_read_file_at(AT_FDCWD, registry_path(), 0, 16 << 20, &text, &len);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        char *save = NULL;
        for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                struct reg_entry e;
                if (parse_entry(l, &e) && !(prune && stale(&e)) && (r = fn(&e, arg)) < 0)
                        return r;
        }
        return 0;
}

static int use_entry(const struct reg_entry *e, void *arg)
{
        char what[PATH_MAX + 96];
        snprintf(what, sizeof(what), "VPS %s of %s", e->name, e->dir);
        return push_use(arg, e->start, e->size, what);
}

int vps_idrange_lock(struct berth_err *err)
{
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s.lock", registry_path());
        if (!strcmp(registry_path(), REGISTRY_DEFAULT) && mkdir(BERTH_VPS_DEFAULT_DATA, 0755) < 0 &&
            errno != EEXIST)
                return berth_err_sys(err, errno, "mkdir %s", BERTH_VPS_DEFAULT_DATA);
        _cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return berth_err_sys(err, errno, "id range registry lock %s", path);
        if (flock(fd, LOCK_EX) < 0)
                return berth_err_sys(err, errno, "lock %s", path);
        return TAKE_FD(fd);
}

/* Its own id range: the one asked for if nothing else (a VPS of this or
 * another data directory, a host user or group, a subordinate range) has
 * any of it, else the lowest free one. local: ranges of this data
 * directory's VPS read from their vps.json (when it is indexed for claims).
 * Called with vps_idrange_lock held. */
int vps_idrange_assign(struct berth_vps_config *cfg, const struct berth_vps_userns *local, size_t n_local,
                       struct berth_err *err)
{
        if (!cfg->userns.enabled)
                return 0;
        struct id_uses u = {0};
        int r = 0;
        for (size_t i = 0; i < n_local && r >= 0; i++)
                if (local[i].enabled)
                        r = push_use(&u, local[i].host_id, local[i].size, "another VPS");
        if (r >= 0)
                r = host_uses(&u);
        if (r >= 0)
                r = registry_each(use_entry, &u, cfg->userns.host_id != 0);
        if (r < 0) {
                uses_free(&u);
                return berth_err_sys(err, -r, "id range registry %s", registry_path());
        }
        if (cfg->userns.host_id == 0) {
                struct berth_vps_userns *used = calloc(u.n + 1, sizeof(*used));
                for (size_t i = 0; used && i < u.n; i++)
                        used[i] = u.v[i].r;
                r = used ? berth_vps_userns_pick(used, u.n, &cfg->userns, err)
                         : berth_err_set(err, ENOMEM, "out of memory");
                free(used);
                uses_free(&u);
                return r;
        }
        for (size_t i = 0; i < u.n; i++)
                if (berth_vps_userns_overlap(&cfg->userns, &u.v[i].r)) {
                        r = berth_err_set(err, EEXIST, "--userns %u: ids %u-%u overlap ids of %s",
                                          cfg->userns.host_id, cfg->userns.host_id,
                                          cfg->userns.host_id + cfg->userns.size - 1, u.v[i].what);
                        break;
                }
        uses_free(&u);
        return r;
}

struct rewrite {
        FILE *out;
        const char *dir, *name; /* the entry to drop (and to add when add); name NULL: none */
        bool found;
};

static int keep_entry(const struct reg_entry *e, void *arg)
{
        struct rewrite *w = arg;
        if (w->name && !strcmp(e->dir, w->dir) && !strcmp(e->name, w->name)) {
                w->found = true;
                return 0;
        }
        fprintf(w->out, "%llu %llu %s %s\n", (unsigned long long)e->start, (unsigned long long)e->size,
                e->dir, e->name);
        return 0;
}

/* Rewrites the registry without the VPS's entry (cfg NULL: none; with
 * prune, without stale ones), with its range when add. Called with
 * vps_idrange_lock held. */
static int registry_update(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg, bool add,
                           bool prune, struct berth_err *err)
{
        char real[PATH_MAX];
        const char *dir = realpath(v->data_dir, real) ? real : v->data_dir;
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        struct rewrite w = {.out = open_memstream(&text, &len), .dir = dir, .name = cfg ? cfg->name : NULL};
        if (!w.out)
                return berth_err_sys(err, errno, "id range registry");
        int r = registry_each(keep_entry, &w, prune);
        if (add && cfg && cfg->userns.enabled)
                fprintf(w.out, "%u %u %s %s\n", cfg->userns.host_id, cfg->userns.size, dir, cfg->name);
        if (fclose(w.out) != 0 && r >= 0)
                r = -ENOMEM;
        if (r >= 0)
                r = vps_write_file_atomic(registry_path(), text,
                                          len && text[len - 1] == '\n' ? len - 1 : len);
        return r < 0 ? berth_err_sys(err, -r, "id range registry %s", registry_path()) : 0;
}

/* A new VPS's line, appended: a create costs the same at 10,000 VPS as
 * at 10 (a rewrite is O(VPS of the host)). No line of the same VPS can be
 * live (it is new); a stale one only keeps its range unused until a
 * rewrite drops both. Called with vps_idrange_lock held. */
int vps_idrange_register(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg,
                         struct berth_err *err)
{
        if (!cfg->userns.enabled)
                return 0;
        char real[PATH_MAX], line[PATH_MAX + BERTH_VPS_NAME_MAX + 48];
        const char *dir = realpath(v->data_dir, real) ? real : v->data_dir;
        _cleanup_close_ int fd =
            open(registry_path(), O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
        struct stat st;
        char last = '\n';
        if (fd < 0 || fstat(fd, &st) < 0 || (st.st_size > 0 && pread(fd, &last, 1, st.st_size - 1) != 1))
                return berth_err_sys(err, errno, "id range registry %s", registry_path());
        int n = snprintf(line, sizeof(line), "%s%u %u %s %s\n", last == '\n' ? "" : "\n", cfg->userns.host_id,
                         cfg->userns.size, dir, cfg->name);
        if (n < 0 || (size_t)n >= sizeof(line))
                return berth_err_set(err, ENAMETOOLONG, "id range registry: %s too long", dir);
        ssize_t w = write(fd, line, (size_t)n);
        if (w != n || fsync(fd) < 0)
                return vps_err_write(err, w >= 0 && w != n ? EIO : errno, registry_path(),
                                     "id range registry %s", registry_path());
        return 0;
}

/* 1 if the registry has a line for VPS name of dir. Every start asks:
 * a plain text search, without registry_each's parse and its two stat()s
 * per line (one line per VPS of the host: 20,000 stat()s at 10,000 VPS). */
static int registry_has(const char *dir, const char *name)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r = berth_read_file_at(AT_FDCWD, registry_path(), 0, 16 << 20, &text, &len);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        char tail[PATH_MAX + BERTH_VPS_NAME_MAX + 4];
        int n = snprintf(tail, sizeof(tail), " %s %s", dir, name);
        if (n < 0 || (size_t)n >= sizeof(tail))
                return 0;
        char *save = NULL;
        for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                size_t ll = strlen(l);
                if (ll > (size_t)n && !memcmp(l + ll - (size_t)n, tail, (size_t)n)) {
                        struct reg_entry e;
                        if (parse_entry(l, &e) && !strcmp(e.dir, dir) && !strcmp(e.name, name))
                                return 1;
                }
        }
        return 0;
}

/* A VPS made before the registry existed is recorded at its next start,
 * so that other data directories' creates see its range from then on. */
int vps_idrange_ensure(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg,
                       struct berth_err *err)
{
        if (!cfg->userns.enabled)
                return 0;
        _cleanup_close_ int lock = vps_idrange_lock(err);
        if (lock < 0)
                return lock;
        char real[PATH_MAX];
        const char *dir = realpath(v->data_dir, real) ? real : v->data_dir;
        int r = registry_has(dir, cfg->name);
        if (r < 0)
                return berth_err_sys(err, -r, "id range registry %s", registry_path());
        return r ? 0 : registry_update(v, cfg, true, true, err);
}

int vps_idrange_release(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg,
                        struct berth_err *err)
{
        _cleanup_close_ int lock = vps_idrange_lock(err);
        return lock < 0 ? lock : registry_update(v, cfg, false, false, err);
}

int berth_vps_idrange_prune(const struct berth_vps_ctx *v, struct berth_err *err)
{
        _cleanup_close_ int lock = vps_idrange_lock(err);
        return lock < 0 ? lock : registry_update(v, NULL, false, true, err);
}

struct stale_walk {
        const char *dir;
        struct reg_entry *v;
        size_t n;
};

static int stale_of_dir(const struct reg_entry *e, void *arg)
{
        struct stale_walk *w = arg;
        if (strcmp(e->dir, w->dir) || !stale(e))
                return 0;
        struct reg_entry *grown = realloc(w->v, (w->n + 1) * sizeof(*grown));
        if (!grown)
                return -ENOMEM;
        w->v = grown;
        w->v[w->n++] = *e;
        return 0;
}

int vps_idrange_repair(const struct berth_vps_ctx *v, bool dry_run, vps_idrange_stale_fn fn, void *arg,
                       struct berth_err *err)
{
        char real[PATH_MAX];
        struct stale_walk w = {.dir = realpath(v->data_dir, real) ? real : v->data_dir};
        /* Under the lock: a create holds it until its VPS has its vps.json.
         * A dry run only reads (and makes no lock file). */
        _cleanup_close_ int lock = dry_run ? -EBADF : vps_idrange_lock(err);
        if (!dry_run && lock < 0)
                return lock;
        int r = registry_each(stale_of_dir, &w, false);
        if (r < 0) {
                free(w.v);
                return berth_err_sys(err, -r, "id range registry %s", registry_path());
        }
        if (!dry_run && w.n)
                r = registry_update(v, NULL, false, true, err);
        for (size_t i = 0; i < w.n; i++)
                fn(w.v[i].name, w.v[i].start, w.v[i].size, r < 0 ? err : NULL, arg);
        free(w.v);
        return r < 0 ? r : (int)w.n;
}

struct other_dirs {
        const char *self;
        char **dirs;
        size_t n;
};

static int add_other_dir(const struct reg_entry *e, void *arg)
{
        struct other_dirs *o = arg;
        if (!strcmp(e->dir, o->self))
                return 0;
        for (size_t i = 0; i < o->n; i++)
                if (!strcmp(o->dirs[i], e->dir))
                        return 0;
        char **grown = realloc(o->dirs, (o->n + 2) * sizeof(*grown));
        if (!grown)
                return -ENOMEM;
        o->dirs = grown;
        if (!(o->dirs[o->n] = strdup(e->dir)))
                return -ENOMEM;
        o->dirs[++o->n] = NULL;
        return 0;
}

int vps_idrange_other_data_dirs(const struct berth_vps_ctx *v, char ***dirs, struct berth_err *err)
{
        char real[PATH_MAX];
        struct other_dirs o = {.self = realpath(v->data_dir, real) ? real : v->data_dir};
        int r = registry_each(add_other_dir, &o, false);
        if (r >= 0 && !o.dirs && !(o.dirs = calloc(1, sizeof(*o.dirs))))
                r = -ENOMEM;
        if (r < 0) {
                vps_strv_free(o.dirs);
                return berth_err_sys(err, -r, "id range registry %s", registry_path());
        }
        *dirs = o.dirs;
        return 0;
}
