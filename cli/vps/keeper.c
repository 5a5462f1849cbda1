/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The console keeper's verbs: `vps start`'s keeper execs them
 * (runtime/vps/keeper_exec.c); not listed in --help, not for users. */
#include "berth/vps.h"
#include "cli/cli.h"

int cmd_vps_keeper(struct cli *cli, int argc, char **argv)
{
        return berth_vps_keeper_main(&cli->ctx, argc, argv);
}

int cmd_vps_keeper_end(struct cli *cli, int argc, char **argv)
{
        return berth_vps_keeper_end_main(&cli->ctx, argc, argv);
}
