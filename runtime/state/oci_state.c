/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The OCI state document given to hooks, `berth state` and seccomp agents.
 * Keys in runc's order (pid before status): scripts, and runc's own test
 * suite, match `list --format json` and `state` output as text. */
#include <jansson.h>

#include "berth/cleanup.h"
#include "berth/state.h"

/* The runtime-spec version berth implements and reports. */
#define BERTH_OCI_VERSION "1.2.0"

char *berth_oci_state_format(const struct berth_state *st, enum berth_status status, bool full, bool pretty)
{
        bool has_pid = status != BERTH_STATUS_STOPPED && st->pid > 0;
        _cleanup_json_ json_t *j =
            json_pack("{s:s, s:s, s:i, s:s}", "ociVersion", BERTH_OCI_VERSION, "id", st->id, "pid",
                      has_pid ? (int)st->pid : 0, "status", berth_status_name(status));
        if (!j)
                return NULL;
        json_object_set_new(j, "bundle", json_string(st->bundle ? st->bundle : ""));
        if (full) {
                json_object_set_new(j, "rootfs", json_string(st->rootfs ? st->rootfs : ""));
                json_object_set_new(j, "created", json_string(st->created ? st->created : ""));
                json_object_set_new(j, "owner", json_string(st->owner ? st->owner : ""));
        }
        json_t *ann = json_object();
        for (size_t i = 0; ann && i < st->n_annotations; i++)
                json_object_set_new(ann, st->annotations[i].key, json_string(st->annotations[i].value));
        json_object_set_new(j, "annotations", ann);
        return json_dumps(j, pretty ? JSON_INDENT(2) : JSON_COMPACT);
}
