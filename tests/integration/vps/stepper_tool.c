/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vps-stepper: the crash suites' ptrace stepper (../stepper.c) as a
 * command for the shell suites.
 *
 *   vps-stepper [--at N] [--all [--also PID]...] [--timeout S] [--log FILE] -- CMD [ARG...]
 *
 * Runs CMD (an absolute path) and SIGKILLs it at its Nth syscall stop
 * (never without --at); --all first kills every process CMD started,
 * including those that detached from it (the stepper is their child
 * subreaper), and each --also PID with its descendants (if it is still
 * the process it was when the run began). Prints "stops=S killed=0|1" and
 * exits 0; exits 3 when CMD hung for S seconds (default 60) between two
 * syscalls, 2 on bad usage, 1 on other errors. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "stepper.h"

static int usage(void)
{
        fprintf(stderr,
                "usage: vps-stepper [--at N] [--all [--also PID]...] [--timeout S] [--log FILE] -- CMD "
                "[ARG...]\n");
        return 2;
}

int main(int argc, char **argv)
{
        struct itest_step s = {.log = "/dev/null", .mode = ITEST_KILL_CLI, .stop_timeout_s = 60};
        pid_t also[ITEST_ALSO_MAX];
        s.also = also;
        int i = 1;
        for (; i < argc && strcmp(argv[i], "--"); i++) {
                if (!strcmp(argv[i], "--all"))
                        s.mode = ITEST_KILL_ALL;
                else if (!strcmp(argv[i], "--at") && i + 1 < argc)
                        s.at = atoi(argv[++i]);
                else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
                        s.stop_timeout_s = atoi(argv[++i]);
                else if (!strcmp(argv[i], "--also") && i + 1 < argc && s.n_also < ITEST_ALSO_MAX)
                        also[s.n_also++] = atoi(argv[++i]);
                else if (!strcmp(argv[i], "--log") && i + 1 < argc)
                        s.log = argv[++i];
                else
                        return usage();
        }
        if (i + 1 >= argc || argv[i + 1][0] != '/' || s.stop_timeout_s <= 0)
                return usage();
        s.argv = (const char *const *)argv + i + 1;
        /* Orphans of CMD (a keeper that daemonized, an init whose creator
         * died) become ours, so --all finds them under our pid. */
        if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
                perror("vps-stepper: PR_SET_CHILD_SUBREAPER");
                return 1;
        }
        s.kill_root = getpid();
        bool killed;
        int stops = itest_step_run(&s, &killed);
        if (stops == -ETIMEDOUT) {
                fprintf(stderr, "vps-stepper: %s hung (no syscall for %d s)\n", s.argv[0], s.stop_timeout_s);
                return 3;
        }
        if (stops < 0) {
                fprintf(stderr, "vps-stepper: %s\n", strerror(-stops));
                return 1;
        }
        printf("stops=%d killed=%d\n", stops, killed);
        return 0;
}
