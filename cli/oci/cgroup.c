/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pause, resume, update and ps. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/spec.h"
#include "cli/cli.h"

int cmd_pause(struct cli *cli, int argc, char **argv)
{
        return cli_id_verb(cli, argc, argv,
                           "usage: berth pause CONTAINER_ID\n\nFreezes every process of the container.\n",
                           berth_container_pause);
}

int cmd_resume(struct cli *cli, int argc, char **argv)
{
        return cli_id_verb(cli, argc, argv, "usage: berth resume CONTAINER_ID\n\nThaws a paused container.\n",
                           berth_container_resume);
}

static const char ps_usage[] = "usage: berth ps [--format table|json] CONTAINER_ID [PS_ARGS...]\n\n"
                               "Lists the container's processes: json prints the pids, table runs\n"
                               "ps (default 'ps -ef', or PS_ARGS) and keeps the container's rows.\n";

static bool contains(const pid_t *pids, size_t n, long pid)
{
        for (size_t i = 0; i < n; i++)
                if (pids[i] == pid)
                        return true;
        return false;
}

static int pid_column(const char *header)
{
        char copy[4096];
        snprintf(copy, sizeof(copy), "%s", header);
        char *save = NULL;
        int col = 0;
        for (char *tok = strtok_r(copy, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save), col++)
                if (!strcmp(tok, "PID"))
                        return col;
        return -1;
}

static long column_value(const char *line, int want)
{
        char copy[4096];
        snprintf(copy, sizeof(copy), "%s", line);
        char *save = NULL, *end;
        int col = 0;
        for (char *tok = strtok_r(copy, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save), col++)
                if (col == want) {
                        long v = strtol(tok, &end, 10);
                        return end != tok && !*end ? v : -1;
                }
        return -1;
}

/* Runs ps with the given args and prints the header plus the rows whose
 * PID column is one of the container's processes. */
static int ps_table(char **ps_args, const pid_t *pids, size_t n)
{
        char *def[] = {"ps", "-ef", NULL};
        int pipefd[2];
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;
        pid_t child = fork();
        if (child == 0) {
                dup2(pipefd[1], STDOUT_FILENO); /* no CLOEXEC: ps's stdout */
                char **argv = ps_args && ps_args[0] ? ps_args - 1 : def;
                argv[0] = "ps";
                execvp("ps", argv);
                _exit(127);
        }
        close(pipefd[1]);
        _cleanup_fclose_ FILE *f = fdopen(pipefd[0], "r");
        char line[4096];
        int pid_col = -1;
        /* The first line is ps's header: it names the PID column and is
         * printed as it is (also when the container has no process). */
        if (f && fgets(line, sizeof(line), f)) {
                pid_col = pid_column(line);
                fputs(line, stdout);
        }
        while (pid_col >= 0 && fgets(line, sizeof(line), f)) {
                long value = column_value(line, pid_col);
                if (value >= 0 && contains(pids, n, value))
                        fputs(line, stdout);
        }
        int status;
        waitpid(child, &status, 0);
        return pid_col < 0 ? -EINVAL : 0;
}

int cmd_ps(struct cli *cli, int argc, char **argv)
{
        if (cli_wants_help(argc, argv, ps_usage))
                return 0;
        static const struct option opts[] = {{"format", required_argument, NULL, 'f'}, {0}};
        bool json = false;
        int c;
        optind = 0;
        while ((c = getopt_long(argc, argv, "+f:", opts, NULL)) != -1) {
                if (c != 'f' || (strcmp(optarg, "json") && strcmp(optarg, "table"))) {
                        cli_errorf(cli, EINVAL, "ps: --format must be table or json");
                        return 1;
                }
                json = !strcmp(optarg, "json");
        }
        if (!cli_expect_args(cli, "ps", argc - optind, 1, -1))
                return 1;
        struct berth_err err = {0};
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        if (berth_container_pids(&cli->ctx, argv[optind], &pids, &n, &err) < 0) {
                cli_error(cli, &err);
                return 1;
        }
        if (json) {
                printf("[");
                for (size_t i = 0; i < n; i++)
                        printf("%s%d", i ? "," : "", (int)pids[i]);
                printf("]\n");
                return 0;
        }
        fflush(stdout);
        if (ps_table(argv + optind + 1, pids, n) < 0) {
                cli_errorf(cli, EINVAL, "ps: could not run ps or find its PID column");
                return 1;
        }
        return 0;
}
