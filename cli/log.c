/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Error, warning and debug output: stderr for people, the --log file in
 * text or runc's JSON line format for engines (podman parses the file). */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "berth/cleanup.h"
#include "cli/cli.h"

static void rfc3339_now(char *buf, size_t len)
{
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void log_line(struct cli *cli, const char *level, const char *msg)
{
        if (!cli->log_path)
                return;
        FILE *f = fopen(cli->log_path, "ae");
        if (!f)
                return;
        char now[64];
        rfc3339_now(now, sizeof(now));
        if (cli->log_json) {
                _cleanup_json_ json_t *j =
                    json_pack("{s:s, s:s, s:s}", "level", level, "msg", msg, "time", now);
                _cleanup_free_ char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
                if (text)
                        fprintf(f, "%s\n", text);
        } else {
                fprintf(f, "time=\"%s\" level=%s msg=\"%s\"\n", now, level, msg);
        }
        fclose(f);
}

void cli_error(struct cli *cli, const struct berth_err *err)
{
        const char *msg = err->msg[0] ? err->msg : strerror(err->code ? err->code : EIO);
        fprintf(stderr, "%s: %s\n", cli->prog, msg);
        log_line(cli, "error", msg);
}

void cli_errorf(struct cli *cli, int code, const char *fmt, ...)
{
        struct berth_err err = {.code = code};
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err.msg, sizeof(err.msg), fmt, ap);
        va_end(ap);
        cli_error(cli, &err);
}

/* The sink of the library's berth_log (berth/log.h). */
void cli_log_emit(void *data, enum berth_log_level level, const char *msg)
{
        struct cli *cli = data;
        bool debug = level == BERTH_LOG_DEBUG;
        fprintf(stderr, "%s: %s: %s\n", cli->prog, debug ? "debug" : "warning", msg);
        /* In JSON mode the log file must hold only the error (podman reads it
         * as one JSON document), so warnings go there only when debugging. */
        if (debug || !cli->log_json || cli->ctx.log.debug)
                log_line(cli, debug ? "debug" : "warning", msg);
}

bool cli_wants_help(int argc, char **argv, const char *usage)
{
        for (int i = 1; i < argc; i++) {
                if (!strcmp(argv[i], "--"))
                        break;
                if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
                        fputs(usage, stdout);
                        return true;
                }
        }
        return false;
}

bool cli_expect_args(struct cli *cli, const char *verb, int n_have, int n_min, int n_max)
{
        if (n_have >= n_min && (n_max < 0 || n_have <= n_max))
                return true;
        if (n_min == n_max)
                cli_errorf(cli, EINVAL, "%s: expects exactly %d argument%s, got %d (see '%s %s --help')",
                           verb, n_min, n_min == 1 ? "" : "s", n_have, cli->prog, verb);
        else
                cli_errorf(cli, EINVAL, "%s: expects at least %d argument%s, got %d (see '%s %s --help')",
                           verb, n_min, n_min == 1 ? "" : "s", n_have, cli->prog, verb);
        return false;
}

int cli_id_verb(struct cli *cli, int argc, char **argv, const char *usage,
                int (*fn)(const struct berth_ctx *, const char *, struct berth_err *))
{
        if (cli_wants_help(argc, argv, usage))
                return 0;
        if (!cli_expect_args(cli, argv[0], argc - 1, 1, 1))
                return 1;
        struct berth_err err = {0};
        if (fn(&cli->ctx, argv[1], &err) < 0) {
                cli_error(cli, &err);
                return 1;
        }
        return 0;
}
