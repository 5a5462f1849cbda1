/* SPDX-License-Identifier: GPL-2.0-or-later */
/* features: the OCI runtime features document (runtime-spec features.md). */
#include <stdio.h>

#include "berth/cleanup.h"
#include "berth/features.h"
#include "cli/cli.h"

static const char features_usage[] = "usage: berth features\n\n"
                                     "Prints what this runtime and this host support, as the OCI\n"
                                     "features JSON document (runtime-spec features.md).\n";

int cmd_features(struct cli *cli, int argc, char **argv)
{
        if (cli_wants_help(argc, argv, features_usage))
                return 0;
        if (!cli_expect_args(cli, "features", argc - 1, 0, 0))
                return 1;
        struct berth_err err = {0};
        _cleanup_free_ char *json = berth_features_json(&err);
        if (!json) {
                cli_error(cli, &err);
                return 1;
        }
        printf("%s\n", json);
        return fflush(stdout) == 0 ? 0 : 1;
}
