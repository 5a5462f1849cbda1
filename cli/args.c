/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Options after the container id, as runc's command line takes them. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

enum word { WORD_ARG, WORD_OPT, WORD_OPT_WITH_VALUE };

static enum word long_word(const char *arg, const struct option *longopts)
{
        const char *name = arg + 2;
        size_t len = strcspn(name, "=");
        for (const struct option *o = longopts; o && o->name; o++) {
                if (strlen(o->name) != len || strncmp(o->name, name, len))
                        continue;
                return o->has_arg == required_argument && !name[len] ? WORD_OPT_WITH_VALUE : WORD_OPT;
        }
        return WORD_ARG;
}

/* "-ab", "-bDIR", "-b DIR": every letter must be one of the verb's. */
static enum word short_word(const char *arg, const char *shortopts)
{
        for (const char *c = arg + 1; *c; c++) {
                const char *o = strchr(shortopts, *c);
                if (!o || *c == ':' || *c == '+')
                        return WORD_ARG;
                if (o[1] == ':')
                        return c[1] ? WORD_OPT : WORD_OPT_WITH_VALUE;
        }
        return WORD_OPT;
}

static enum word classify(const char *arg, const char *shortopts, const struct option *longopts)
{
        if (arg[0] != '-' || !arg[1])
                return WORD_ARG;
        return arg[1] == '-' ? long_word(arg, longopts) : short_word(arg, shortopts);
}

void cli_reorder_args(int argc, char **argv, const char *shortopts, const struct option *longopts)
{
        char **opts = calloc((size_t)argc, sizeof(char *));
        char **args = calloc((size_t)argc, sizeof(char *));
        int n_opts = 0, n_args = 0;
        if (!opts || !args) {
                free(opts);
                free(args);
                return; /* getopt then sees them in the order given */
        }
        for (int i = 1; i < argc; i++) {
                if (!strcmp(argv[i], "--")) {
                        while (i < argc)
                                args[n_args++] = argv[i++];
                        break;
                }
                enum word w = classify(argv[i], shortopts, longopts);
                if (w == WORD_ARG) {
                        args[n_args++] = argv[i];
                        continue;
                }
                opts[n_opts++] = argv[i];
                if (w == WORD_OPT_WITH_VALUE && i + 1 < argc)
                        opts[n_opts++] = argv[++i];
        }
        memcpy(argv + 1, opts, (size_t)n_opts * sizeof(char *));
        memcpy(argv + 1 + n_opts, args, (size_t)n_args * sizeof(char *));
        free(opts);
        free(args);
}
