// SPDX-License-Identifier: GPL-2.0-or-later
/* The template a restored VPS sits on. The archive names it with the
 * checksum of its tree (backup_sum.c): the host's template of that name
 * must have the same, else the VPS's upper layer would sit on other
 * files than it was made on. When the archive carries the template
 * (--with-template) and the host lacks it, or has a different one of the
 * same name, it is restored through the template store's atomic build
 * (.tmp-<NAME>-<pid> + rename), in the second case under
 * "<NAME>-<12 hex digits of the checksum>" so that neither template is
 * harmed. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "berth/template.h"
#include "berth/vps.h"
#include "runtime/vps/backup.h"
#include "runtime/vps/internal.h"
#include "runtime/vps/template/internal.h"

/* 1 when template name exists with checksum sum, 0 when it does not
 * exist, -EEXIST (err set) when it differs. */
static int local_template(const struct berth_vps_ctx *v, const char *name, const char *sum,
                          struct berth_err *err)
{
        struct berth_vps_template t;
        struct berth_err e = {0};
        if (berth_vps_template_load(v, name, &t, &e) < 0)
                return e.code == ENOENT ? 0 : berth_err_set(err, e.code, "%s", e.msg);
        char here[VPS_BACKUP_SUM_LEN], tdir[PATH_MAX];
        berth_vps_template_clear(&t);
        snprintf(tdir, sizeof(tdir), "%s/templates/%s", v->data_dir, name);
        int r = vps_template_checksum(tdir, here, err);
        if (r < 0)
                return r;
        if (strcmp(here, sum))
                return berth_err_set(err, EEXIST,
                                     "template %s differs from the one the VPS was backed up on (%.19s here, "
                                     "%.19s in the archive)",
                                     name, here, sum);
        vps_trace(v, "template %s: same checksum as in the archive (%s)", name, sum);
        return 1;
}

static int unpack(const struct berth_vps_ctx *v, struct vps_archive_in *in, const char *name, const char *sum,
                  struct berth_err *err)
{
        _cleanup_tmpl_build_ struct tmpl_build b = {
            .templates_fd = -EBADF, .tmp_fd = -EBADF, .rootfs_fd = -EBADF};
        int r = tmpl_build_begin(&b, v->data_dir, name, err);
        if (r < 0)
                return r;
        char rootfs[PATH_MAX], here[VPS_BACKUP_SUM_LEN];
        snprintf(rootfs, sizeof(rootfs), "%s/templates/%s/rootfs", v->data_dir, b.tmpname);
        /* template.json is made anew by the store (init and stop signal
         * found in the root, as for any template). */
        if ((r = vps_archive_in_skip(in, VPS_BACKUP_TEMPLATE "/template.json", err)) < 0 ||
            (r = vps_archive_in_extract(in, VPS_BACKUP_TEMPLATE "/rootfs", rootfs, NULL, NULL, err)) < 0)
                return r;
        if (r == 0)
                return berth_err_set(err, EBADMSG, "the archive says it carries template %s, but it does not",
                                     name);
        if ((r = vps_tree_checksum(rootfs, here, err)) < 0)
                return r;
        if (strcmp(here, sum))
                return berth_err_set(err, EBADMSG,
                                     "the template in the archive is damaged (checksum %.19s, not %.19s)",
                                     here, sum);
        if ((r = tmpl_build_commit(&b, "restore", NULL, err)) < 0)
                return r;
        vps_trace(v, "template %s restored from the archive", name);
        return 0;
}

int vps_restore_template(const struct berth_vps_ctx *v, struct vps_archive_in *in, const char *name,
                         const char *sum, bool included, char *out, size_t len, bool *restored,
                         struct berth_err *err)
{
        *restored = false;
        snprintf(out, len, "%s", name);
        struct berth_err differs = {0};
        int r = local_template(v, name, sum, &differs);
        if (r == 1)
                return included ? vps_archive_in_skip(in, VPS_BACKUP_TEMPLATE, err) : 0;
        if (r < 0 && r != -EEXIST)
                return berth_err_set(err, differs.code, "%s", differs.msg);
        if (!included)
                return r == 0
                           ? berth_err_set(err, ENOENT,
                                           "template %s does not exist here and the archive does not "
                                           "carry it (back up with --with-template)",
                                           name)
                           : berth_err_set(err, EEXIST,
                                           "%s; the archive does not carry it (back up with --with-template)",
                                           differs.msg);
        if (r == -EEXIST) {
                /* Another template of that name: this one goes beside it. */
                snprintf(out, len, "%s-%.12s", name, sum + 7);
                struct berth_err e2 = {0};
                int again = local_template(v, out, sum, &e2);
                if (again == 1)
                        return vps_archive_in_skip(in, VPS_BACKUP_TEMPLATE, err);
                if (again < 0)
                        return berth_err_set(err, e2.code, "%s", e2.msg);
        }
        if ((r = unpack(v, in, out, sum, err)) < 0)
                return berth_err_wrap(err, "restore template %s", out);
        *restored = true;
        return 0;
}
