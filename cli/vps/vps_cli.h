/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared by cli/cmd_vps*.c: the `berth vps` verb family. */
#ifndef BERTH_CLI_VPS_H
#define BERTH_CLI_VPS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "berth/exit_code.h"
#include "berth/vps.h"
#include "cli/cli.h"

struct vps_cli {
        struct cli *cli;
        struct berth_vps_ctx v;
        bool json;
        const char *verb; /* "vps status", for messages */
};

/* The `vps` verb (the table entry lives in cli/verbs.c). */
int cmd_vps(struct cli *cli, int argc, char **argv);

/* Reports err once (stderr; with --json also {"error", "exit_code",
 * "errno"} on stdout) and returns its exit code (berth/exit_code.h). */
int vps_fail(struct vps_cli *vc, const struct berth_err *err);
int vps_failf(struct vps_cli *vc, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* An error with an exit code of the caller's choosing (exec's 125/126/127). */
int vps_fail_code(struct vps_cli *vc, int errnum, int exit_code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Prints doc on stdout (indented) and drops the reference. */
void vps_print_json(json_t *doc);

/* The common options every verb takes: --json, --data-dir; returns true
 * when c was one of them. */
bool vps_common_opt(struct vps_cli *vc, int c);
#define VPS_COMMON_OPTS                                                                                      \
        {"json", no_argument, NULL, 'J'},                                                                    \
        {                                                                                                    \
                "data-dir", required_argument, NULL, 'D'                                                     \
        }

int vps_cmd_status(struct vps_cli *vc, int argc, char **argv);
int vps_cmd_list(struct vps_cli *vc, int argc, char **argv);
int vps_cmd_console(struct vps_cli *vc, int argc, char **argv);
int vps_cmd_repair(struct vps_cli *vc, int argc, char **argv);
int vps_cmd_snapshot(struct vps_cli *vc, int argc, char **argv);
int vps_cmd_snapshot_list(struct vps_cli *vc, int argc, char **argv);
int vps_cmd_snapshot_restore(struct vps_cli *vc, int argc, char **argv);
int vps_cmd_snapshot_delete(struct vps_cli *vc, int argc, char **argv);
/* cli/vps/backup.c */
int vps_cmd_backup(struct vps_cli *vc, int argc, char **argv);
int vps_cmd_restore(struct vps_cli *vc, int argc, char **argv);
int vps_cmd_clone(struct vps_cli *vc, int argc, char **argv);
int vps_cmd_migrate(struct vps_cli *vc, int argc, char **argv);
int vps_cmd_receive(struct vps_cli *vc, int argc, char **argv);
/* `vps console` on a terminal: the guest's bytes with control characters
 * shown as \xNN (cli/vps/escape.c says why). A zeroed struct starts a
 * stream; bytes of a UTF-8 sequence or \r\n cut by a buffer end wait in
 * carry for the next call; `final` flushes them. */
struct vps_escape {
        unsigned char carry[4];
        size_t n_carry;
};
void vps_escape_write(struct vps_escape *e, const void *buf, size_t n, bool final, FILE *out);

/* The config part of status/create/set output. */
json_t *vps_config_doc(const struct berth_vps_config *cfg);
/* NAT and rates into the "net" object of vps_config_doc; the shapers'
 * counters for status (cli/vps/bandwidth.c). */
void vps_bandwidth_config_doc(json_t *net, const struct berth_vps_config *cfg);
json_t *vps_bandwidth_status_doc(const struct berth_vps_status *st);

/* human.c: the text output's units. 512 MiB -> "512.0 MiB". */
void vps_human_bytes(uint64_t n, char *buf, size_t len);
/* A JSON list of strings as "a, b" ("-" when empty); false otherwise. */
bool vps_human_list(json_t *v, char *buf, size_t len);
/* The text of status key (flattened, "limits.memory") with value v when
 * it has units or is a list; false: print it as it is. */
bool vps_human_value(const char *key, json_t *v, char *buf, size_t len);

#endif
