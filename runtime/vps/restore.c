// SPDX-License-Identifier: GPL-2.0-or-later
/* vps restore: a VPS again from its archive (backup.h has the format).
 *
 * The manifest comes first: the VPS's configuration (name, addresses,
 * MAC and id range adjusted), then the template section settles the
 * template (restore_template.c), then the VPS is made through create's
 * atomic path (vps_create_config: .new.<name>.<pid>, renamed into place
 * when complete), whose populate step extracts the upper layer into the
 * new VPS's layers with its ids shifted into the new range. The archive
 * must end right after: a damaged or truncated one fails the populate
 * step, and create removes what it built; a template restored from the
 * archive for it goes too. */
#include <errno.h>
#include <fnmatch.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/template.h"
#include "berth/vps.h"
#include "runtime/vps/backup.h"
#include "runtime/vps/internal.h"
#include "runtime/vps/snapshot.h"

struct restore {
        struct vps_archive_in *in;
        bool clone;
        json_t *snapshots; /* the manifest's: the layers' record */
};

/* A clone gets an identity of its own: without the source's
 * machine-id and SSH host keys its first start makes new ones
 * (identity.c), as for a new VPS. */
static bool identity_file(const char *rel)
{
        return !strcmp(rel, "etc/machine-id") || !fnmatch("etc/ssh/ssh_host_*_key", rel, 0) ||
               !fnmatch("etc/ssh/ssh_host_*_key.pub", rel, 0);
}

/* The layers below upper/ (l/, a VPS with snapshots) and their record. */
static int populate_layers(const struct restore *rs, const struct berth_vps_config *cfg, const char *dir,
                           const struct vps_idshift *s, struct berth_err *err)
{
        char layers[PATH_MAX];
        /* Plain directories, on a btrfs image too (a layer that is no
         * subvolume is its own content). */
        vps_backup_layers_dir(cfg, dir, layers, sizeof(layers));
        if (!rs->snapshots)
                return 0;
        if (mkdir(layers, 0700) < 0)
                return berth_err_sys(err, errno, "mkdir %s", layers);
        int r = vps_archive_in_extract(rs->in, VPS_BACKUP_LAYERS, layers, s, rs->clone ? identity_file : NULL,
                                       err);
        if (r < 0)
                return r;
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/" VPS_SNAP_FILE, dir);
        if (json_dump_file(rs->snapshots, path, JSON_INDENT(2)) < 0)
                return berth_err_sys(err, errno ? errno : EIO, "write %s", path);
        return 0;
}

static int populate(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg, const char *dir,
                    void *arg, struct berth_err *err)
{
        struct restore *rs = arg;
        char upper[PATH_MAX];
        bool mounted = false;
        int r = vps_backup_layers(cfg, dir, upper, sizeof(upper), &mounted, err);
        struct vps_idshift s;
        vps_idshift_of(cfg, &s);
        if (r >= 0)
                r = vps_archive_in_extract(rs->in, VPS_BACKUP_UPPER, upper, &s,
                                           rs->clone ? identity_file : NULL, err);
        if (r == 0)
                r = berth_err_set(err, EBADMSG, "the archive holds no %s/ section", VPS_BACKUP_UPPER);
        if (r >= 0)
                r = populate_layers(rs, cfg, dir, &s, err);
        if (r >= 0)
                r = vps_archive_in_end(rs->in, err);
        vps_backup_layers_done(dir, mounted);
        vps_trace(v, "VPS %s: its layers %s", cfg->name, r >= 0 ? "restored" : "not restored");
        return r < 0 ? r : 0;
}

/* ---- the manifest ---- */

struct manifest {
        json_t *doc;
        const char *tmpl, *sum;
        bool included;
};

static int manifest_parse(const char *text, size_t len, struct manifest *m, struct berth_vps_config *cfg,
                          struct berth_err *err)
{
        json_error_t jerr;
        m->doc = json_loadb(text, len, 0, &jerr);
        const char *format = NULL, *ids = NULL;
        json_int_t version = 0;
        json_t *vps = NULL;
        int included = 0;
        if (!m->doc ||
            json_unpack(m->doc, "{s:s, s:I, s:o, s:s, s:{s:s, s:s, s?b}}", "format", &format, "version",
                        &version, "vps", &vps, "ids", &ids, "template", "name", &m->tmpl, "checksum", &m->sum,
                        "included", &included) < 0 ||
            strcmp(format, VPS_BACKUP_FORMAT))
                return berth_err_set(err, EBADMSG, "%s: not a berth VPS backup manifest",
                                     VPS_BACKUP_MANIFEST);
        if (version != VPS_BACKUP_VERSION)
                return berth_err_set(err, ENOTSUP, "backup format version %lld (this berth reads %d)",
                                     (long long)version, VPS_BACKUP_VERSION);
        m->included = included;
        _cleanup_free_ char *vtext = json_dumps(vps, JSON_COMPACT);
        if (!vtext)
                return berth_err_set(err, ENOMEM, "out of memory");
        int r = berth_vps_config_parse(vtext, strlen(vtext), cfg, err);
        if (r < 0)
                return berth_err_wrap(err, "%s: vps", VPS_BACKUP_MANIFEST);
        if (!strcmp(ids, "guest") != cfg->userns.enabled)
                return berth_err_set(err, EBADMSG, "%s: ids \"%s\" do not fit its user namespace",
                                     VPS_BACKUP_MANIFEST, ids);
        return 0;
}

/* ---- the new VPS's configuration ---- */

static int set_addrs(struct berth_vps_config *cfg, const char *const *ips, struct berth_err *err)
{
        size_t n = 0;
        while (ips && ips[n])
                n++;
        struct berth_ip_addr *a = calloc(n + 1, sizeof(*a));
        if (!a)
                return berth_err_set(err, ENOMEM, "out of memory");
        free(cfg->net.addrs);
        cfg->net.addrs = a;
        cfg->net.n_addrs = 0;
        for (; cfg->net.n_addrs < n; cfg->net.n_addrs++) {
                int r = vps_parse_ip(&cfg->net, ips[cfg->net.n_addrs], &a[cfg->net.n_addrs], err);
                if (r < 0 ||
                    (r = vps_addr_check(&cfg->net, &a[cfg->net.n_addrs], ips[cfg->net.n_addrs], err)) < 0)
                        return r;
        }
        return 0;
}

static int adjust(struct berth_vps_config *cfg, const struct berth_vps_restore_opts *o, bool clone,
                  struct berth_err *err)
{
        const char *name = o->name ? o->name : cfg->name;
        if (!berth_vps_name_valid(name))
                return berth_err_set(err, EINVAL, "invalid VPS name \"%s\" (a-z, 0-9, '-', at most %d)", name,
                                     BERTH_VPS_NAME_MAX);
        int r;
        /* Another name is another machine on the bridge: its own MAC. */
        if (clone || strcmp(name, cfg->name)) {
                if ((r = vps_mac_random(cfg->net.mac, err)) < 0)
                        return r;
                cfg->net.has_mac = true;
                char *copy = strdup(name);
                if (!copy)
                        return berth_err_set(err, ENOMEM, "out of memory");
                free(cfg->name);
                cfg->name = copy;
        }
        if ((o->ips || clone) && (r = set_addrs(cfg, o->ips, err)) < 0)
                return r;
        /* A range of its own on this host; the disk backend chosen anew
         * by what this data file system offers. */
        if (cfg->userns.enabled)
                cfg->userns.host_id = 0;
        cfg->disk = (struct berth_vps_disk){0};
        return 0;
}

/* A template restored for this VPS goes when the VPS cannot be made. */
static void template_undo(const struct berth_vps_ctx *v, const char *name)
{
        struct berth_err e = {0};
        if (berth_template_remove(v->data_dir, name, &e) < 0)
                vps_warn(v, "template %s (restored from the archive): %s", name, e.msg);
}

static double since(const struct timespec *t0)
{
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static int restore_in(const struct berth_vps_ctx *v, struct vps_archive_in *in,
                      const struct berth_vps_restore_opts *o, bool clone,
                      struct berth_vps_archive_result *res, struct berth_err *err)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        struct manifest m = {0};
        struct berth_vps_config cfg = {0};
        int r = vps_archive_in_manifest(in, &text, &len, err);
        if (r >= 0)
                r = manifest_parse(text, len, &m, &cfg, err);
        if (r >= 0)
                r = adjust(&cfg, o, clone, err);
        if (r >= 0)
                snprintf(res->name, sizeof(res->name), "%s", cfg.name);
        /* Before any work: a taken name fails fast (create checks again
         * under its lock). */
        char dir[PATH_MAX];
        if (r >= 0 && berth_vps_path(v, cfg.name, NULL, dir, sizeof(dir)) >= 0 && access(dir, F_OK) == 0)
                r = berth_err_set(err, EEXIST, "VPS %s already exists", cfg.name);
        if (r >= 0 && cfg.limits.has_disk)
                r = berth_private_mount_ns(err); /* an image backend's disk is mounted to be filled */
        if (r >= 0)
                r = vps_restore_template(v, in, m.tmpl, m.sum, m.included, res->template_name,
                                         sizeof(res->template_name), &res->template_restored, err);
        char *tname = r >= 0 ? strdup(res->template_name) : NULL;
        if (r >= 0 && !tname)
                r = berth_err_set(err, ENOMEM, "out of memory");
        if (r >= 0) {
                free(cfg.template_name);
                cfg.template_name = tname;
        }
        struct berth_vps_template t = {0};
        if (r >= 0)
                r = berth_vps_template_load(v, cfg.template_name, &t, err);
        struct restore rs = {.in = in, .clone = clone, .snapshots = json_object_get(m.doc, "snapshots")};
        if (r >= 0)
                r = vps_create_config(v, &cfg, t.rootfs, populate, &rs, err);
        if (r < 0 && res->template_restored)
                template_undo(v, res->template_name);
        berth_vps_template_clear(&t);
        berth_vps_config_clear(&cfg);
        json_decref(m.doc);
        return r;
}

int vps_restore_fd(const struct berth_vps_ctx *v, int fd, const struct berth_vps_restore_opts *o, bool clone,
                   struct berth_vps_archive_result *res, struct berth_err *err)
{
        memset(res, 0, sizeof(*res));
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        struct vps_progress p = {.fn = o->progress, .arg = o->arg};
        struct vps_archive_in *in = vps_archive_in_new(fd, &p, err);
        if (!in)
                return -err->code;
        int r = restore_in(v, in, o, clone, res, err);
        vps_archive_in_counts(in, &res->bytes, &res->files);
        vps_archive_in_free(in);
        res->seconds = since(&t0);
        if (r >= 0)
                vps_trace(v, "VPS %s: restored in %.2f s (template %s%s)", res->name, res->seconds,
                          res->template_name, res->template_restored ? ", restored from the archive" : "");
        else
                vps_err_space(v, err);
        return r;
}

int berth_vps_restore(const struct berth_vps_ctx *v, int fd, const struct berth_vps_restore_opts *o,
                      struct berth_vps_archive_result *res, struct berth_err *err)
{
        int r = vps_restore_fd(v, fd, o, false, res, err);
        return r < 0 ? berth_err_wrap(err, "restore VPS%s%s", res->name[0] ? " " : "", res->name) : 0;
}
