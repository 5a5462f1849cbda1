// SPDX-License-Identifier: GPL-2.0-or-later
/* The record of a VPS's snapshots (snapshots.json) and the journal of an
 * operation under way (snapshot.pending), both in the VPS's directory and
 * written atomically (vps_write_file_atomic: tmp, fsync, rename, fsync of
 * the directory). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/file.h"
#include "runtime/vps/internal.h"
#include "runtime/vps/snapshot.h"

bool berth_vps_snap_name_valid(const char *snap)
{
        size_t n = snap ? strlen(snap) : 0;
        if (n == 0 || n > BERTH_VPS_SNAP_NAME_MAX)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = snap[i];
                bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
                if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
                        return false;
        }
        return true;
}

void vps_snaps_clear(struct vps_snaps *s)
{
        for (size_t i = 0; i < s->n; i++)
                free(s->snaps[i].layers);
        free(s->snaps);
        free(s->lowers);
        memset(s, 0, sizeof(*s));
}

static int ids_parse(json_t *a, unsigned **out, size_t *n)
{
        if (!json_is_array(a))
                return -EINVAL;
        size_t k = json_array_size(a);
        unsigned *ids = calloc(k + 1, sizeof(*ids));
        if (!ids)
                return -ENOMEM;
        for (size_t i = 0; i < k; i++) {
                json_t *e = json_array_get(a, i);
                if (!json_is_integer(e) || json_integer_value(e) < 1 || json_integer_value(e) > INT_MAX) {
                        free(ids);
                        return -EINVAL;
                }
                ids[i] = (unsigned)json_integer_value(e);
        }
        *out = ids;
        *n = k;
        return 0;
}

static json_t *ids_json(const unsigned *ids, size_t n)
{
        json_t *a = json_array();
        for (size_t i = 0; a && i < n; i++)
                json_array_append_new(a, json_integer(ids[i]));
        return a;
}

static int snap_parse(json_t *o, struct vps_snap *sn)
{
        const char *name = json_string_value(json_object_get(o, "name"));
        const char *created = json_string_value(json_object_get(o, "created"));
        if (!name || !berth_vps_snap_name_valid(name))
                return -EINVAL;
        snprintf(sn->name, sizeof(sn->name), "%s", name);
        snprintf(sn->created, sizeof(sn->created), "%s", created ? created : "");
        sn->live = json_is_true(json_object_get(o, "live"));
        return ids_parse(json_object_get(o, "layers"), &sn->layers, &sn->n_layers);
}

static int parse(json_t *doc, struct vps_snaps *s)
{
        json_t *next = json_object_get(doc, "next"), *snaps = json_object_get(doc, "snapshots");
        if (!json_is_object(doc) || !json_is_integer(next) || !json_is_array(snaps))
                return -EINVAL;
        s->next = (unsigned)json_integer_value(next);
        s->rotate = json_is_true(json_object_get(doc, "rotate"));
        int r = ids_parse(json_object_get(doc, "lowers"), &s->lowers, &s->n_lowers);
        if (r < 0)
                return r;
        if (!(s->snaps = calloc(json_array_size(snaps) + 1, sizeof(*s->snaps))))
                return -ENOMEM;
        for (; s->n < json_array_size(snaps); s->n++)
                if ((r = snap_parse(json_array_get(snaps, s->n), &s->snaps[s->n])) < 0)
                        return r;
        return 0;
}

int vps_snaps_load(const char *dir, struct vps_snaps *s, struct berth_err *err)
{
        char path[PATH_MAX];
        memset(s, 0, sizeof(*s));
        s->next = 1;
        snprintf(path, sizeof(path), "%s/" VPS_SNAP_FILE, dir);
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r = berth_read_file_at(AT_FDCWD, path, 0, 16 << 20, &text, &len);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return berth_err_sys(err, -r, "read %s", path);
        json_error_t je;
        _cleanup_json_ json_t *doc = json_loadb(text, len, 0, &je);
        s->next = 0;
        r = doc ? parse(doc, s) : -EINVAL;
        if (r < 0) {
                vps_snaps_clear(s);
                return r == -ENOMEM ? berth_err_set(err, ENOMEM, "out of memory")
                                    : berth_err_set(err, EUCLEAN, "%s is damaged", path);
        }
        return 0;
}

int vps_snaps_save(const char *dir, const struct vps_snaps *s, struct berth_err *err)
{
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/" VPS_SNAP_FILE, dir);
        _cleanup_json_ json_t *arr = json_array();
        for (size_t i = 0; arr && i < s->n; i++)
                json_array_append_new(arr,
                                      json_pack("{s:s, s:s, s:b, s:o}", "name", s->snaps[i].name, "created",
                                                s->snaps[i].created, "live", s->snaps[i].live, "layers",
                                                ids_json(s->snaps[i].layers, s->snaps[i].n_layers)));
        _cleanup_json_ json_t *doc =
            json_pack("{s:I, s:o, s:b, s:O}", "next", (json_int_t)s->next, "lowers",
                      ids_json(s->lowers, s->n_lowers), "rotate", s->rotate, "snapshots", arr);
        _cleanup_free_ char *text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
        if (!text)
                return berth_err_set(err, ENOMEM, "out of memory");
        int r = vps_write_file_atomic(path, text, strlen(text));
        return r < 0 ? vps_err_write(err, -r, dir, "write %s", path) : 0;
}

struct vps_snap *vps_snaps_find(struct vps_snaps *s, const char *name)
{
        for (size_t i = 0; i < s->n; i++)
                if (!strcmp(s->snaps[i].name, name))
                        return &s->snaps[i];
        return NULL;
}

static void now_rfc3339(char *out, size_t len)
{
        time_t t = time(NULL);
        struct tm tm;
        strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
}

int vps_snaps_add(struct vps_snaps *s, const char *name, bool live, const unsigned *layers, size_t n,
                  struct berth_err *err)
{
        struct vps_snap *a = realloc(s->snaps, (s->n + 1) * sizeof(*a));
        if (!a)
                return berth_err_set(err, ENOMEM, "out of memory");
        s->snaps = a;
        struct vps_snap *sn = &a[s->n];
        memset(sn, 0, sizeof(*sn));
        if (!(sn->layers = calloc(n + 1, sizeof(unsigned))))
                return berth_err_set(err, ENOMEM, "out of memory");
        memcpy(sn->layers, layers, n * sizeof(unsigned));
        sn->n_layers = n;
        sn->live = live;
        snprintf(sn->name, sizeof(sn->name), "%s", name);
        now_rfc3339(sn->created, sizeof(sn->created));
        s->n++;
        return 0;
}

void vps_snaps_remove(struct vps_snaps *s, struct vps_snap *snap)
{
        size_t i = (size_t)(snap - s->snaps);
        free(snap->layers);
        memmove(&s->snaps[i], &s->snaps[i + 1], (s->n - i - 1) * sizeof(*snap));
        s->n--;
}

int vps_snaps_push(struct vps_snaps *s, unsigned id, struct berth_err *err)
{
        unsigned *l = realloc(s->lowers, (s->n_lowers + 1) * sizeof(*l));
        if (!l)
                return berth_err_set(err, ENOMEM, "out of memory");
        memmove(l + 1, l, s->n_lowers * sizeof(*l));
        l[0] = id;
        s->lowers = l;
        s->n_lowers++;
        return 0;
}

bool vps_snaps_uses(const struct vps_snaps *s, unsigned id)
{
        for (size_t i = 0; i < s->n_lowers; i++)
                if (s->lowers[i] == id)
                        return true;
        for (size_t k = 0; k < s->n; k++)
                for (size_t i = 0; i < s->snaps[k].n_layers; i++)
                        if (s->snaps[k].layers[i] == id)
                                return true;
        return false;
}

/* ---- the journal ---- */

static const char *const op_names[] = {"rotate", "copy", "restore", "backup"};

int vps_snap_pending_load(const char *dir, struct vps_snap_pending *p, struct berth_err *err)
{
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/" VPS_SNAP_PENDING, dir);
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r = berth_read_file_at(AT_FDCWD, path, 0, 1 << 16, &text, &len);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return berth_err_sys(err, -r, "read %s", path);
        json_error_t je;
        _cleanup_json_ json_t *doc = json_loadb(text, len, 0, &je);
        const char *op = json_string_value(json_object_get(doc, "op"));
        const char *snap = json_string_value(json_object_get(doc, "snapshot"));
        json_t *layer = json_object_get(doc, "layer");
        memset(p, 0, sizeof(*p));
        size_t i = 0;
        while (op && i < BERTH_ARRAY_SIZE(op_names) && strcmp(op, op_names[i]))
                i++;
        if (!op || i == BERTH_ARRAY_SIZE(op_names) || !json_is_integer(layer) || !snap)
                return berth_err_set(err, EUCLEAN, "%s is damaged", path);
        p->op = (enum vps_snap_op)i;
        p->layer = (unsigned)json_integer_value(layer);
        p->thaw = json_is_true(json_object_get(doc, "thaw"));
        snprintf(p->snap, sizeof(p->snap), "%s", snap);
        return 1;
}

int vps_snap_pending_save(const char *dir, const struct vps_snap_pending *p, struct berth_err *err)
{
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/" VPS_SNAP_PENDING, dir);
        _cleanup_json_ json_t *doc = json_pack("{s:s, s:I, s:s, s:b}", "op", op_names[p->op], "layer",
                                               (json_int_t)p->layer, "snapshot", p->snap, "thaw", p->thaw);
        _cleanup_free_ char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
        if (!text)
                return berth_err_set(err, ENOMEM, "out of memory");
        int r = vps_write_file_atomic(path, text, strlen(text));
        return r < 0 ? vps_err_write(err, -r, dir, "write %s", path) : 0;
}

int vps_snap_pending_drop(const char *dir, struct berth_err *err)
{
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/" VPS_SNAP_PENDING, dir);
        if (unlink(path) < 0 && errno != ENOENT)
                return berth_err_sys(err, errno, "remove %s", path);
        int r = vps_fsync_dir(dir);
        return r < 0 ? berth_err_sys(err, -r, "fsync %s", dir) : 0;
}

size_t berth_vps_snapshot_count(const struct berth_vps_ctx *v, const char *name)
{
        char dir[PATH_MAX];
        struct vps_snaps s;
        struct berth_err e = {0};
        if (berth_vps_path(v, name, NULL, dir, sizeof(dir)) < 0 || vps_snaps_load(dir, &s, &e) < 0)
                return 0;
        size_t n = s.n;
        vps_snaps_clear(&s);
        return n;
}
