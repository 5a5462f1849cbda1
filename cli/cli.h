/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared pieces of the command line: parsed global options, the verb
 * table, and error/warning output in the format the caller asked for. */
#ifndef BERTH_CLI_H
#define BERTH_CLI_H

#include <stdbool.h>

#include "berth/container.h"
#include "berth/err.h"

struct cli {
        struct berth_ctx ctx;
        const char *log_path;
        bool log_json;
        const char *prog;
};

struct cli_verb {
        const char *name;
        int (*run)(struct cli *cli, int argc, char **argv);
        const char *summary; /* NULL: internal, not in --help */
};

/* Reports an error once: stderr, and the --log file in text or JSON. */
void cli_error(struct cli *cli, const struct berth_err *err);
void cli_errorf(struct cli *cli, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void cli_log_emit(void *cli, enum berth_log_level level, const char *msg);
/* A trace line of the CLI itself (--debug). */
#define cli_debug(cli, ...) berth_trace(&(cli)->ctx, __VA_ARGS__)

/* Prints `usage` for --help / -h and returns true when it did. */
bool cli_wants_help(int argc, char **argv, const char *usage);
/* "verb: expects N argument(s)" style checks; reports and returns false. */
bool cli_expect_args(struct cli *cli, const char *verb, int n_have, int n_min, int n_max);

/* runc's command line takes options after the container id (`update ID
 * --memory X`, `kill ID --all KILL`): moves the options the verb knows,
 * with their separate values, in front of its other arguments (order kept
 * within each), so that getopt in "+" mode reads them. Words after "--"
 * and dash words the verb does not know stay arguments. Not for exec and
 * ps, whose trailing words belong to the command they run (as in runc). */
struct option;
void cli_reorder_args(int argc, char **argv, const char *shortopts, const struct option *longopts);

/* A verb that takes exactly one container id and calls fn with it. */
int cli_id_verb(struct cli *cli, int argc, char **argv, const char *usage,
                int (*fn)(const struct berth_ctx *, const char *, struct berth_err *));

/* The verbs, one file per family. */
int cmd_create(struct cli *cli, int argc, char **argv);
int cmd_run(struct cli *cli, int argc, char **argv);
int cmd_start(struct cli *cli, int argc, char **argv);
int cmd_kill(struct cli *cli, int argc, char **argv);
int cmd_delete(struct cli *cli, int argc, char **argv);
int cmd_state(struct cli *cli, int argc, char **argv);
int cmd_list(struct cli *cli, int argc, char **argv);
int cmd_spec(struct cli *cli, int argc, char **argv);
int cmd_exec(struct cli *cli, int argc, char **argv);
int cmd_pause(struct cli *cli, int argc, char **argv);
int cmd_resume(struct cli *cli, int argc, char **argv);
int cmd_update(struct cli *cli, int argc, char **argv);
int cmd_ps(struct cli *cli, int argc, char **argv);
int cmd_events(struct cli *cli, int argc, char **argv);
int cmd_features(struct cli *cli, int argc, char **argv);
int cmd_checkpoint(struct cli *cli, int argc, char **argv);
int cmd_restore(struct cli *cli, int argc, char **argv);
int cmd_template(struct cli *cli, int argc, char **argv);
int cmd_vps(struct cli *cli, int argc, char **argv);
/* Internal (cli/vps/keeper.c): no summary, so not in --help. */
int cmd_vps_keeper(struct cli *cli, int argc, char **argv);
int cmd_vps_keeper_end(struct cli *cli, int argc, char **argv);

const struct cli_verb *cli_verbs(void);

#endif
