/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The OCI state document a hook reads on its stdin, for hooks run by the
 * create verb (prestart, createRuntime) and by the init (createContainer,
 * startContainer). */
#include <string.h>

#include "berth/state.h"
#include "runtime/container.h"

/* Builds the OCI state JSON for hooks at a given status. */
char *container_hook_state(const struct container_setup *s, pid_t pid, const char *status)
{
        struct berth_state st = {
            .id = (char *)s->id,
            .bundle = (char *)s->bundle,
            .rootfs = (char *)s->rootfs,
            .pid = pid,
            .annotations = s->spec->annotations,
            .n_annotations = s->spec->n_annotations,
        };
        enum berth_status code = !strcmp(status, "creating")  ? BERTH_STATUS_CREATING
                                 : !strcmp(status, "created") ? BERTH_STATUS_CREATED
                                 : !strcmp(status, "running") ? BERTH_STATUS_RUNNING
                                                              : BERTH_STATUS_STOPPED;
        return berth_oci_state_format(&st, code, false, false);
}
