/* SPDX-License-Identifier: GPL-2.0-or-later */
/* "slice:prefix:name" -> a systemd unit and its cgroup path, by runc's
 * rules (containerd and Kubernetes write them that way). Pure string
 * work: the parser is in the cgroups layer, which the static berth links
 * too; only the D-Bus calls need libsystemd. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "berth/systemd.h"

static const char format_msg[] =
    "expected cgroupsPath to be of format \"slice:prefix:name\" for systemd cgroups, got \"%s\" instead";

/* Characters systemd allows in a unit name (unit_name_is_valid), minus
 * '@' (no templates here) and ':' (our separator). */
static bool unit_chars_ok(const char *s)
{
        for (; *s; s++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-\\", *s))
                        return false;
        return true;
}

/* "a-b.slice" -> "/a.slice/a-b.slice"; "-.slice" -> "" (the root). */
static int expand_slice(const char *slice, char *out, size_t len, struct berth_err *err)
{
        size_t n = strlen(slice);
        if (n < 6 || strcmp(slice + n - 6, ".slice") || !unit_chars_ok(slice))
                return berth_err_set(err, EINVAL, "invalid slice name \"%s\" (systemd cgroups)", slice);
        out[0] = '\0';
        if (!strcmp(slice, "-.slice"))
                return 0;
        size_t base = n - 6; /* without ".slice" */
        if (slice[0] == '-' || slice[base - 1] == '-' || memmem(slice, base, "--", 2))
                return berth_err_set(err, EINVAL, "invalid slice name \"%s\" (systemd cgroups)", slice);
        size_t used = 0;
        for (size_t i = 0; i <= base; i++) {
                if (i < base && slice[i] != '-')
                        continue;
                int w = snprintf(out + used, len - used, "/%.*s.slice", (int)i, slice);
                if (w < 0 || (size_t)w >= len - used)
                        return berth_err_set(err, ENAMETOOLONG, "slice name \"%s\" is too long", slice);
                used += (size_t)w;
        }
        return 0;
}

static int split3(const char *path, char parts[3][256], struct berth_err *err)
{
        const char *p = path;
        for (int i = 0; i < 3; i++) {
                const char *colon = strchr(p, ':');
                if ((i < 2) != (colon != NULL))
                        return berth_err_set(err, EINVAL, format_msg, path);
                size_t n = colon ? (size_t)(colon - p) : strlen(p);
                if (n >= sizeof(parts[i]))
                        return berth_err_set(err, ENAMETOOLONG, "cgroupsPath \"%s\": a part is too long",
                                             path);
                memcpy(parts[i], p, n);
                parts[i][n] = '\0';
                p = colon ? colon + 1 : p + n;
        }
        return 0;
}

static int unit_name(const char *prefix, const char *name, struct berth_systemd_unit *u,
                     struct berth_err *err)
{
        if (!*name || !unit_chars_ok(name) || !unit_chars_ok(prefix))
                return berth_err_set(err, EINVAL, "invalid systemd unit name part \"%s\"/\"%s\"", prefix,
                                     name);
        size_t n = strlen(name);
        u->is_slice = n > 6 && !strcmp(name + n - 6, ".slice");
        int w = u->is_slice ? snprintf(u->name, sizeof(u->name), "%s", name)
                : *prefix   ? snprintf(u->name, sizeof(u->name), "%s-%s.scope", prefix, name)
                            : snprintf(u->name, sizeof(u->name), "%s.scope", name);
        if (w < 0 || (size_t)w >= sizeof(u->name))
                return berth_err_set(err, ENAMETOOLONG, "systemd unit name for \"%s\" is too long", name);
        return 0;
}

int berth_systemd_unit_parse(const char *cgroups_path, const char *id, struct berth_systemd_unit *u,
                             struct berth_err *err)
{
        memset(u, 0, sizeof(*u));
        char parts[3][256] = {"", "berth", ""};
        if (cgroups_path && *cgroups_path) {
                int r = split3(cgroups_path, parts, err);
                if (r < 0)
                        return r;
        } else if (snprintf(parts[2], sizeof(parts[2]), "%s", id) >= (int)sizeof(parts[2])) {
                return berth_err_set(err, ENAMETOOLONG, "container id \"%s\" is too long for a unit name",
                                     id);
        }
        int r = unit_name(parts[1], parts[2], u, err);
        if (r < 0)
                return r;
        char parent[PATH_MAX];
        if (u->is_slice) {
                /* A slice's parent is in its name: it is placed there whatever
                 * the first part says (systemd's rule), so only its own
                 * expansion counts. */
                r = expand_slice(u->name, u->path, sizeof(u->path), err);
                return r < 0 ? r : 0;
        }
        const char *slice = !parts[0][0] ? "system.slice" : !strcmp(parts[0], "-") ? "-.slice" : parts[0];
        r = expand_slice(slice, parent, sizeof(parent), err);
        if (r < 0)
                return r;
        snprintf(u->slice, sizeof(u->slice), "%s", slice);
        if (snprintf(u->path, sizeof(u->path), "%s/%s", parent, u->name) >= (int)sizeof(u->path))
                return berth_err_set(err, ENAMETOOLONG, "cgroup path for unit %s is too long", u->name);
        return 0;
}

const char *berth_systemd_unit_of_path(const char *cgroup_path)
{
        const char *slash = strrchr(cgroup_path, '/');
        return slash ? slash + 1 : cgroup_path;
}

bool berth_systemd_booted(void)
{
        struct stat sb;
        return lstat("/run/systemd/system", &sb) == 0 && S_ISDIR(sb.st_mode);
}
