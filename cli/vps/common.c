/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What every `berth vps` and `berth template` command shares: reporting an
 * error once (text, or also a JSON document with --json), printing JSON,
 * and the options every command takes (--json, --data-dir). */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/vps/vps_cli.h"

static int fail_with(struct vps_cli *vc, const struct berth_err *err, int code)
{
        cli_error(vc->cli, err);
        if (vc->json)
                vps_print_json(json_pack("{s:s, s:i, s:s}", "error", err->msg, "exit_code", code, "errno",
                                         strerror(err->code)));
        return code;
}

int vps_fail(struct vps_cli *vc, const struct berth_err *err)
{
        return fail_with(vc, err, berth_exit_code_from_errno(err->code));
}

int vps_failf(struct vps_cli *vc, int code, const char *fmt, ...)
{
        struct berth_err err = {.code = code};
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err.msg, sizeof(err.msg), fmt, ap);
        va_end(ap);
        return vps_fail(vc, &err);
}

int vps_fail_code(struct vps_cli *vc, int errnum, int exit_code, const char *fmt, ...)
{
        struct berth_err err = {.code = errnum};
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err.msg, sizeof(err.msg), fmt, ap);
        va_end(ap);
        return fail_with(vc, &err, exit_code);
}

void vps_print_json(json_t *doc)
{
        char *text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
        if (text)
                printf("%s\n", text);
        free(text);
        json_decref(doc);
}

bool vps_common_opt(struct vps_cli *vc, int c)
{
        if (c == 'J')
                vc->json = true;
        else if (c == 'D')
                vc->v.data_dir = optarg;
        else
                return false;
        return true;
}
