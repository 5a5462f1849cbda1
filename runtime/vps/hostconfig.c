/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The host's VPS settings: small JSON files in /etc/berth (or
 * $BERTH_CONFIG_DIR, for tests and for hosts that keep them elsewhere),
 * such as vps-defaults.json and network.json. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "berth/cleanup.h"
#include "berth/file.h"
#include "runtime/vps/internal.h"

int vps_host_config_load(const char *file, char *path, size_t path_len, json_t **doc, struct berth_err *err)
{
        *doc = NULL;
        const char *dir = getenv("BERTH_CONFIG_DIR");
        if (snprintf(path, path_len, "%s/%s", dir && *dir ? dir : "/etc/berth", file) >= (int)path_len)
                return berth_err_set(err, ENAMETOOLONG, "%s: path too long", file);
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r = berth_read_file_at(AT_FDCWD, path, 0, 16 << 20, &text, &len);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return berth_err_sys(err, -r, "read %s", path);
        json_error_t jerr;
        json_t *d = json_loadb(text, len, 0, &jerr);
        if (!json_is_object(d)) {
                json_decref(d);
                return d ? berth_err_set(err, EINVAL, "%s: not a JSON object", path)
                         : berth_err_set(err, EINVAL, "%s: line %d: %s", path, jerr.line, jerr.text);
        }
        *doc = d;
        return 0;
}
