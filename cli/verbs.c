/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The verb table: name, handler, one-line summary for --help.
 *
 * Compiled into each binary: the static berth (BERTH_OCI_ONLY) has no
 * handler for the verbs that need libmnl or libarchive, and main() runs
 * berth-full for them. */
#include <stddef.h>

#include "cli/cli.h"

#ifdef BERTH_OCI_ONLY
#define FULL_ONLY(fn) NULL
#else
#define FULL_ONLY(fn) fn
#endif

static const struct cli_verb verbs[] = {
    {"create", cmd_create, "create a container from a bundle"},
    {"start", cmd_start, "start the process of a created container"},
    {"run", cmd_run, "create and start a container, wait for it"},
    {"exec", cmd_exec, "run a process in a running container"},
    {"state", cmd_state, "print a container's OCI state"},
    {"kill", cmd_kill, "send a signal to a container"},
    {"delete", cmd_delete, "delete a container"},
    {"pause", cmd_pause, "freeze every process of a container"},
    {"resume", cmd_resume, "thaw a paused container"},
    {"update", cmd_update, "change a running container's resource limits"},
    {"ps", cmd_ps, "list a container's processes"},
    {"events", cmd_events, "resource usage and OOM events as JSON"},
    {"list", cmd_list, "list containers"},
    {"spec", cmd_spec, "write a default config.json"},
    {"features", cmd_features, "print the OCI features document"},
    {"checkpoint", cmd_checkpoint, "checkpoint a running container with criu"},
    {"restore", cmd_restore, "restore a container from a criu checkpoint"},
    {"vps", FULL_ONLY(cmd_vps), "manage virtual private servers"},
    {"template", FULL_ONLY(cmd_template), "manage VPS templates"},
    /* The console keeper's (runtime/vps/keeper_exec.c): its loop runs in
     * the static berth, the cleanup after its guest in berth-full. */
    {"_vps-keeper", cmd_vps_keeper, NULL},
    {"_vps-keeper-end", FULL_ONLY(cmd_vps_keeper_end), NULL},
    {NULL, NULL, NULL},
};

const struct cli_verb *cli_verbs(void)
{
        return verbs;
}
