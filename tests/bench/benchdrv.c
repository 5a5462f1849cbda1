/* SPDX-License-Identifier: GPL-2.0-or-later */
/* benchdrv: the timing driver of tests/bench/run.sh.
 *
 * Why not hyperfine: the runtimes are compared on a shared 2-core machine
 * whose load changes by the minute, so the runs of berth, runc and crun are
 * interleaved (berth, runc, crun, berth, ...) and a load spike hits all of
 * them alike; crun has to run inside a prepared private mount namespace,
 * which we enter with setns() instead of a shell wrapper per call; and
 * wait4() hands us each run's peak RSS for free.
 *
 *   benchdrv time [-n RUNS] [-w WARMUP] [-l LOG] -m TITLE
 *                 { -r LABEL [-N MNTNS] [-b ONCE] [-a ONCE] [-p EACH] [-c EACH] -t ARGV }...
 *       -b/-a run once before/after all runs, -p/-c before/after each run,
 *       all through /bin/sh -c and untimed; ARGV (timed) is split on blanks
 *       and exec'd directly. Prints markdown rows: median, min, max, peak
 *       RSS, and the first runtime's median divided by this one's.
 *   benchdrv density -k COUNT [-l LOG] [-M FILE]... -m TITLE
 *                 -r LABEL [-N MNTNS] -t ARGV -d ARGV
 *       runs ARGV ("%d" becomes the index) COUNT times one after another,
 *       reads each FILE (a memory.usage_in_bytes) before and after, then
 *       runs the -d ARGV for every index. Prints one markdown row.
 *
 * Every timed interval runs from just before fork() to wait4()'s return. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_RT   4
#define MAX_ARGS 64
#define MAX_MEM  4

struct runtime {
        const char *label;
        int ns_fd; /* mount namespace to run in, or -1 */
        const char *once_before, *once_after, *prepare, *cleanup;
        const char *timed, *del;
        double *ms;
        long *rss_kib;
        int fails;
};

struct opts {
        int runs, warmup, count, n_rt, n_mem;
        const char *title, *log;
        const char *mem[MAX_MEM];
        struct runtime rt[MAX_RT];
};

static double now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void die(const char *what)
{
        perror(what);
        exit(2);
}

/* Splits `cmd` on blanks into argv, replacing "%d" with `index`. */
static void split_argv(const char *cmd, int index, char *buf, size_t bufsz, char **argv)
{
        char tmp[4096];
        int n = 0;
        if (strlen(cmd) >= sizeof(tmp))
                die("command too long");
        strcpy(tmp, cmd);
        size_t used = 0;
        for (char *save = NULL, *tok = strtok_r(tmp, " \t", &save); tok && n < MAX_ARGS - 1;
             tok = strtok_r(NULL, " \t", &save)) {
                int w = snprintf(buf + used, bufsz - used, "%s", tok);
                char *pct = strstr(buf + used, "%d");
                if (pct) {
                        char tail[512];
                        snprintf(tail, sizeof(tail), "%s", pct + 2);
                        w = (int)(pct - (buf + used)) +
                            snprintf(pct, bufsz - used - (size_t)(pct - (buf + used)), "%d%s", index, tail);
                }
                argv[n++] = buf + used;
                used += (size_t)w + 1;
                if (used >= bufsz)
                        die("argv buffer");
        }
        argv[n] = NULL;
}

static void child_exec(const struct runtime *rt, const char *log, char **argv)
{
        int in = open("/dev/null", O_RDONLY);
        int out = open(log ? log : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
                _exit(126);
        if (rt->ns_fd >= 0 && setns(rt->ns_fd, CLONE_NEWNS) < 0)
                _exit(125);
        execvp(argv[0], argv);
        _exit(127);
}

/* Runs argv (or `sh -c shell`); returns the exit status, the elapsed ms and
 * the peak RSS (KiB) through the out parameters. */
static int run_cmd(const struct runtime *rt, const char *log, const char *timed, const char *shell, int index,
                   double *ms, long *rss)
{
        char buf[8192];
        char *argv[MAX_ARGS];
        if (shell) {
                argv[0] = "/bin/sh", argv[1] = "-c", argv[2] = (char *)shell, argv[3] = NULL;
        } else {
                split_argv(timed, index, buf, sizeof(buf), argv);
        }
        double t0 = now_ms();
        pid_t pid = fork();
        if (pid < 0)
                die("fork");
        if (pid == 0)
                child_exec(rt, log, argv);
        int status;
        struct rusage ru;
        if (wait4(pid, &status, 0, &ru) < 0)
                die("wait4");
        if (ms)
                *ms = now_ms() - t0;
        if (rss)
                *rss = ru.ru_maxrss;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void sh(const struct runtime *rt, const char *log, const char *cmd)
{
        if (cmd && run_cmd(rt, log, NULL, cmd, 0, NULL, NULL) != 0)
                fprintf(stderr, "benchdrv: %s: setup command failed: %s\n", rt->label, cmd);
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

static int cmp_long(const void *a, const void *b)
{
        long x = *(const long *)a, y = *(const long *)b;
        return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
        qsort(v, (size_t)n, sizeof(*v), cmp_double);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void time_mode(struct opts *o)
{
        for (int r = 0; r < o->n_rt; r++) {
                o->rt[r].ms = calloc((size_t)o->runs, sizeof(double));
                o->rt[r].rss_kib = calloc((size_t)o->runs, sizeof(long));
                sh(&o->rt[r], o->log, o->rt[r].once_before);
        }
        /* Interleaved: a load spike on the shared machine hits every
         * runtime, not just the one that happens to run at that moment. */
        for (int i = -o->warmup; i < o->runs; i++) {
                for (int r = 0; r < o->n_rt; r++) {
                        struct runtime *rt = &o->rt[r];
                        double ms;
                        long rss;
                        sh(rt, o->log, rt->prepare);
                        int st = run_cmd(rt, o->log, rt->timed, NULL, i, &ms, &rss);
                        sh(rt, o->log, rt->cleanup);
                        if (i < 0)
                                continue;
                        if (st != 0)
                                rt->fails++;
                        rt->ms[i] = ms;
                        rt->rss_kib[i] = rss;
                }
        }
        double ref = 0;
        for (int r = 0; r < o->n_rt; r++) {
                struct runtime *rt = &o->rt[r];
                sh(rt, o->log, rt->once_after);
                double med = median(rt->ms, o->runs);
                qsort(rt->rss_kib, (size_t)o->runs, sizeof(long), cmp_long);
                if (r == 0)
                        ref = med;
                char ratio[32] = "";
                if (r > 0)
                        snprintf(ratio, sizeof(ratio), "%.2f", ref / med);
                printf("| %s | %s | %.2f | %.2f | %.2f | %ld | %s |%s\n", o->title, rt->label, med, rt->ms[0],
                       rt->ms[o->runs - 1], rt->rss_kib[o->runs / 2], ratio,
                       rt->fails ? " FAILED runs!" : "");
                if (rt->fails)
                        fprintf(stderr, "benchdrv: %s/%s: %d of %d runs failed (see %s)\n", o->title,
                                rt->label, rt->fails, o->runs, o->log ? o->log : "no log");
        }
        fflush(stdout);
}

static long long read_ll(const char *path)
{
        FILE *f = fopen(path, "re");
        long long v = -1;
        if (!f || fscanf(f, "%lld", &v) != 1)
                v = -1;
        if (f)
                fclose(f);
        return v;
}

static void density_mode(struct opts *o)
{
        struct runtime *rt = &o->rt[0];
        long long before[MAX_MEM], after[MAX_MEM];
        int fails = 0, del_fails = 0;

        for (int m = 0; m < o->n_mem; m++)
                before[m] = read_ll(o->mem[m]);
        double t0 = now_ms();
        for (int i = 0; i < o->count; i++)
                if (run_cmd(rt, o->log, rt->timed, NULL, i, NULL, NULL) != 0)
                        fails++;
        double start_ms = now_ms() - t0;
        for (int m = 0; m < o->n_mem; m++)
                after[m] = read_ll(o->mem[m]);
        t0 = now_ms();
        for (int i = 0; i < o->count; i++)
                if (run_cmd(rt, o->log, rt->del, NULL, i, NULL, NULL) != 0)
                        del_fails++;
        double del_ms = now_ms() - t0;
        printf("| %s | %s | %d | %.2f | %.2f |", o->title, rt->label, o->count, start_ms / 1e3,
               start_ms / o->count);
        for (int m = 0; m < o->n_mem; m++)
                printf(" %.0f |", (double)(after[m] - before[m]) / 1024.0 / o->count);
        printf(" %.2f |%s\n", del_ms / 1e3, fails || del_fails ? " FAILED runs!" : "");
        if (fails || del_fails)
                fprintf(stderr, "benchdrv: %s/%s: %d starts and %d deletes failed\n", o->title, rt->label,
                        fails, del_fails);
        fflush(stdout);
}

static struct runtime *cur(struct opts *o)
{
        if (o->n_rt == 0) {
                fprintf(stderr, "benchdrv: -r LABEL must come first\n");
                exit(2);
        }
        return &o->rt[o->n_rt - 1];
}

static void parse(struct opts *o, int argc, char **argv)
{
        int c;
        while ((c = getopt(argc, argv, "n:w:k:l:m:M:r:N:b:a:p:c:t:d:")) != -1) {
                switch (c) {
                case 'n':
                        o->runs = atoi(optarg);
                        break;
                case 'w':
                        o->warmup = atoi(optarg);
                        break;
                case 'k':
                        o->count = atoi(optarg);
                        break;
                case 'l':
                        o->log = optarg;
                        break;
                case 'm':
                        o->title = optarg;
                        break;
                case 'M':
                        if (o->n_mem == MAX_MEM)
                                die("too many -M");
                        o->mem[o->n_mem++] = optarg;
                        break;
                case 'r':
                        if (o->n_rt == MAX_RT)
                                die("too many -r");
                        o->rt[o->n_rt++] = (struct runtime){.label = optarg, .ns_fd = -1};
                        break;
                case 'N':
                        cur(o)->ns_fd = open(optarg, O_RDONLY | O_CLOEXEC);
                        if (cur(o)->ns_fd < 0)
                                die(optarg);
                        break;
                case 'b':
                        cur(o)->once_before = optarg;
                        break;
                case 'a':
                        cur(o)->once_after = optarg;
                        break;
                case 'p':
                        cur(o)->prepare = optarg;
                        break;
                case 'c':
                        cur(o)->cleanup = optarg;
                        break;
                case 't':
                        cur(o)->timed = optarg;
                        break;
                case 'd':
                        cur(o)->del = optarg;
                        break;
                default:
                        exit(2);
                }
        }
        for (int r = 0; r < o->n_rt; r++)
                if (!o->rt[r].timed) {
                        fprintf(stderr, "benchdrv: %s has no -t\n", o->rt[r].label);
                        exit(2);
                }
}

int main(int argc, char **argv)
{
        struct opts o = {.runs = 10, .warmup = 2, .title = "?"};
        if (argc < 2)
                return 2;
        const char *mode = argv[1];
        parse(&o, argc - 1, argv + 1);
        if (o.n_rt == 0 || o.runs < 1)
                return 2;
        if (!strcmp(mode, "time")) {
                time_mode(&o);
        } else if (!strcmp(mode, "density")) {
                if (o.count < 1 || !o.rt[0].del)
                        return 2;
                density_mode(&o);
        } else {
                return 2;
        }
        return 0;
}
