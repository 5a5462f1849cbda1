/* SPDX-License-Identifier: GPL-2.0-or-later */
/* JSON helpers of the VPS layer (vps.json, the generated config.json). */
#include <jansson.h>
#include <stdint.h>

#include "runtime/vps/internal.h"

json_t *vps_strv_json(const char *const *v, size_t n)
{
        json_t *a = json_array();
        for (size_t i = 0; a && v && i < n && v[i]; i++)
                if (json_array_append_new(a, json_string(v[i])) < 0) {
                        json_decref(a);
                        return NULL;
                }
        return a;
}
