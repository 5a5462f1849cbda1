/* SPDX-License-Identifier: GPL-2.0-or-later */
/* spec: writes a default config.json into the bundle. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/spec.h"
#include "cli/cli.h"

static const char spec_usage[] = "usage: berth spec [--bundle|-b DIR] [--rootless]\n\n"
                                 "Writes a default config.json (like 'runc spec') into DIR\n"
                                 "(default: the current directory); refuses to overwrite one.\n";

int cmd_spec(struct cli *cli, int argc, char **argv)
{
        if (cli_wants_help(argc, argv, spec_usage))
                return 0;
        static const struct option opts[] = {
            {"bundle", required_argument, NULL, 'b'}, {"rootless", no_argument, NULL, 'r'}, {0}};
        const char *bundle = ".";
        bool rootless = false;
        int c;
        cli_reorder_args(argc, argv, "+b:", opts);
        optind = 0;
        while ((c = getopt_long(argc, argv, "+b:", opts, NULL)) != -1) {
                if (c == 'b')
                        bundle = optarg;
                else if (c == 'r')
                        rootless = true;
                else
                        return 1;
        }
        if (!cli_expect_args(cli, "spec", argc - optind, 0, 0))
                return 1;
        struct berth_err err = {0};
        _cleanup_free_ char *json = berth_spec_default_json(rootless, &err);
        if (!json) {
                cli_error(cli, &err);
                return 1;
        }
        char path[4096];
        snprintf(path, sizeof(path), "%s/config.json", bundle);
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0) {
                if (errno == EEXIST)
                        cli_errorf(cli, EEXIST, "spec: %s exists: remove it first", path);
                else
                        cli_errorf(cli, errno, "spec: create %s: %s", path, strerror(errno));
                return 1;
        }
        size_t len = strlen(json);
        if (write(fd, json, len) != (ssize_t)len || write(fd, "\n", 1) != 1) {
                cli_errorf(cli, errno, "spec: write %s: %s", path, strerror(errno));
                return 1;
        }
        return 0;
}
