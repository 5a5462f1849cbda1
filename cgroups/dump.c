/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The cgroup object as JSON text for the state file, and back. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "berth/cleanup.h"
#include "cgroups/internal.h"

char *berth_cgroup_dump(const struct berth_cgroup *cg)
{
        json_t *hs = json_array();
        for (size_t i = 0; i < cg->n; i++) {
                const struct cg_hier *h = &cg->h[i];
                json_array_append_new(hs,
                                      json_pack("{s:b, s:I, s:s, s:s, s:s, s:I, s:I}", "unified", h->unified,
                                                "mask", (json_int_t)h->mask, "name", h->name, "path", h->path,
                                                "dir", h->dir, "mount_len", (json_int_t)h->mount_len,
                                                "existing", (json_int_t)h->n_existing));
        }
        _cleanup_json_ json_t *o = json_pack("{s:i, s:s, s:s, s:b, s:o}", "version", 1, "layout",
                                             berth_cgroup_layout_name(cg->layout), "id", cg->id,
                                             "default_devices", cg->default_devices, "hierarchies", hs);
        return o ? json_dumps(o, JSON_COMPACT) : NULL;
}

static int parse_layout(const char *s, enum berth_cgroup_layout *l)
{
        for (int i = BERTH_CG_UNIFIED; i <= BERTH_CG_LEGACY; i++)
                if (strcmp(s, berth_cgroup_layout_name(i)) == 0) {
                        *l = i;
                        return 0;
                }
        return -EINVAL;
}

static int restore_hier(struct cg_hier *h, json_t *j)
{
        int unified = 0;
        json_int_t mask = 0, mlen = 0, existing = -1;
        const char *name, *path, *dir;
        h->fd = -EBADF;
        if (json_unpack(j, "{s:b, s:I, s:s, s:s, s:s, s:I, s:I}", "unified", &unified, "mask", &mask, "name",
                        &name, "path", &path, "dir", &dir, "mount_len", &mlen, "existing", &existing) < 0)
                return -EINVAL;
        if (mlen < 0 || (size_t)mlen > strlen(dir) || dir[0] != '/')
                return -EINVAL;
        *h = (struct cg_hier){.unified = unified,
                              .mask = (unsigned)mask,
                              .mount_len = (size_t)mlen,
                              .n_existing = (int)existing,
                              .fd = -EBADF};
        h->name = strdup(name);
        h->path = strdup(path);
        h->dir = strdup(dir);
        return h->name && h->path && h->dir ? 0 : -ENOMEM;
}

struct berth_cgroup *berth_cgroup_restore(const char *dump, struct berth_err *err)
{
        json_error_t je;
        _cleanup_json_ json_t *o = json_loads(dump, 0, &je);
        json_t *hs = NULL;
        const char *layout, *id;
        int version = 0, dd = 0;
        struct berth_cgroup *cg = calloc(1, sizeof(*cg));
        int r = -EINVAL;
        if (cg && o &&
            json_unpack(o, "{s:i, s:s, s:s, s:b, s:o}", "version", &version, "layout", &layout, "id", &id,
                        "default_devices", &dd, "hierarchies", &hs) == 0 &&
            version == 1 && json_is_array(hs) && parse_layout(layout, &cg->layout) == 0) {
                cg->default_devices = dd;
                cg->id = strdup(id);
                cg->h = calloc(json_array_size(hs) + 1, sizeof(*cg->h));
                r = cg->id && cg->h ? 0 : -ENOMEM;
                for (size_t i = 0; r == 0 && i < json_array_size(hs); i++) {
                        r = restore_hier(&cg->h[i], json_array_get(hs, i));
                        cg->n++;
                }
        }
        if (r < 0) {
                berth_err_set(err, -r, "cgroup: state: %s",
                              r == -ENOMEM ? "out of memory" : "malformed cgroup data");
                berth_cgroup_free(cg);
                return NULL;
        }
        /* clone_fd must work right after restore (exec joins with clone3). */
        struct cg_hier *u = cg_unified(cg);
        if (u)
                cg_hier_fd(u, NULL);
        return cg;
}
