/* The verb table: name, handler, one-line summary for --help. */
#include <stddef.h>

#include "cli/cli.h"

static const struct cli_verb verbs[] = {
        {"create", cmd_create, "create a container from a bundle"},
        {"start", cmd_start, "start the process of a created container"},
        {"run", cmd_run, "create and start a container, wait for it"},
        {"exec", cmd_exec, "run a process in a running container"},
        {"state", cmd_state, "print a container's OCI state"},
        {"kill", cmd_kill, "send a signal to a container"},
        {"delete", cmd_delete, "delete a container"},
        {"list", cmd_list, "list containers"},
        {"spec", cmd_spec, "write a default config.json"},
        {NULL, NULL, NULL},
};

const struct cli_verb *cli_verbs(void)
{
        return verbs;
}
