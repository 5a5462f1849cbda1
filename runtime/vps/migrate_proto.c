// SPDX-License-Identifier: GPL-2.0-or-later
/* The control channel of `vps migrate`: one JSON object per line over
 * the ssh connection to `vps receive`, and the source's migration marker.
 *
 * The marker (<dir>/migration.json: {"pid", "dest", "phase"}) says that a
 * migrate works on the VPS, which holds an exclusive flock on it the whole
 * time; its phase says what a repair must do when the migrate died:
 *   copy      the VPS was not stopped: only the marker goes
 *   stopped   migrate stopped the VPS and the destination had not taken it
 *             over (it drops its copy when the connection ends): restart it
 *   handover  the destination was told to start it: whether it did is
 *             known only there, so the stopped copy is kept and the repair
 *             says what to do (never running twice, never lost) */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/file.h"
#include "runtime/vps/internal.h"
#include "runtime/vps/migrate.h"

#define LINE_MAX_BYTES (1 << 20)

int vps_line_send(int fd, json_t *msg, struct berth_err *err)
{
        _cleanup_free_ char *text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
        if (!text)
                return berth_err_set(err, ENOMEM, "out of memory");
        size_t len = strlen(text);
        text[len] = '\n'; /* json_dumps' NUL: the line's end */
        for (size_t off = 0; off <= len;) {
                ssize_t n = write(fd, text + off, len + 1 - off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return berth_err_sys(err, errno, "send to the other side");
                off += (size_t)n;
        }
        return 0;
}

json_t *vps_line_recv(int fd, struct berth_err *err)
{
        _cleanup_free_ char *buf = malloc(LINE_MAX_BYTES);
        size_t n = 0;
        if (!buf) {
                berth_err_set(err, ENOMEM, "out of memory");
                return NULL;
        }
        /* Byte by byte: nothing past the line is taken from the pipe. */
        for (;;) {
                ssize_t k = read(fd, buf + n, 1);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        berth_err_sys(err, errno, "read from the other side");
                        return NULL;
                }
                if (k == 0) {
                        berth_err_set(err, EPIPE, "the other side closed the connection");
                        return NULL;
                }
                if (buf[n] == '\n')
                        break;
                if (++n == LINE_MAX_BYTES) {
                        berth_err_set(err, EPROTO, "a message longer than %d bytes", LINE_MAX_BYTES);
                        return NULL;
                }
        }
        json_error_t jerr;
        json_t *msg = json_loadb(buf, n, 0, &jerr);
        if (!msg || !json_is_object(msg)) {
                json_decref(msg);
                berth_err_set(err, EPROTO, "not a message: %.80s", buf);
                return NULL;
        }
        return msg;
}

int vps_migrate_marker_stale(const struct berth_vps_ctx *v, const char *name, char *phase, size_t plen,
                             char *dest, size_t dlen)
{
        char path[PATH_MAX];
        if (berth_vps_path(v, name, VPS_MIGRATE_MARKER, path, sizeof(path)) < 0)
                return 0;
        _cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return 0;
        if (flock(fd, LOCK_SH | LOCK_NB) < 0)
                return errno == EWOULDBLOCK ? -EBUSY : -errno;
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        json_error_t jerr;
        /* One that cannot be read (it is rewritten in place, in one 512
         * byte write, so this should not happen) counts as the latest
         * phase: the one where the repair starts nothing. */
        json_t *doc = berth_read_file_at(AT_FDCWD, path, O_NOFOLLOW, 1 << 16, &text, &len) >= 0
                          ? json_loadb(text, len, 0, &jerr)
                          : NULL;
        const char *p = json_string_value(json_object_get(doc, "phase"));
        const char *d = json_string_value(json_object_get(doc, "dest"));
        snprintf(phase, plen, "%s", p ? p : "handover");
        snprintf(dest, dlen, "%s", d ? d : "?");
        json_decref(doc);
        return 1;
}

int vps_migration_guard(const struct berth_vps_ctx *v, const char *name, bool stale_too,
                        struct berth_err *err)
{
        char phase[32], dest[256];
        int st = vps_migrate_marker_stale(v, name, phase, sizeof(phase), dest, sizeof(dest));
        if (st == -EBUSY)
                return berth_err_set(err, EBUSY,
                                     "VPS %s is being migrated to another host; wait for that `berth vps "
                                     "migrate` to end",
                                     name);
        if (st > 0 && stale_too)
                return berth_err_set(err, EBUSY,
                                     "VPS %s: a migration to %s died (phase %s), so it may run there; "
                                     "`berth vps repair %s` settles that first",
                                     name, dest, phase, name);
        return 0;
}

int vps_migrate_marker_remove(const struct berth_vps_ctx *v, const char *name)
{
        char path[PATH_MAX];
        if (berth_vps_path(v, name, VPS_MIGRATE_MARKER, path, sizeof(path)) < 0)
                return -ENAMETOOLONG;
        return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}
