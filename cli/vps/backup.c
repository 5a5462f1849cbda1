// SPDX-License-Identifier: GPL-2.0-or-later
/* berth vps backup, restore, clone: options, the archive file (written
 * under a temporary name and renamed when complete, or stdout/stdin for
 * "-"), progress on stderr (a bar on a terminal, a line every few seconds
 * otherwise) and the summary. The work is in runtime/vps/backup*.c. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "cli/vps/vps_cli.h"

static const char backup_usage[] =
    "usage: berth vps backup NAME FILE|- [--with-template] [--json]\n\n"
    "Writes one archive (tar, zstd) of the VPS: a manifest (its configuration,\n"
    "its template's name and checksum) and its own files with the guest's ids,\n"
    "xattrs, ACLs, file capabilities, sparse files and hard links. A running VPS\n"
    "is frozen while its files are read. FILE '-' is stdout.\n\n"
    "  --with-template   include the template, so that the archive restores on a\n"
    "                    host without it\n"
    "  --json            a summary (bytes, files, seconds) as JSON (on stderr\n"
    "                    when the archive goes to stdout)\n";

static const char restore_usage[] =
    "usage: berth vps restore FILE|- [--name NEW] [--ip ADDR]... [--json]\n\n"
    "Makes the VPS of a `vps backup` archive again (stopped): a new user id\n"
    "range, its limits, disk limit, addresses and autostart as archived.\n"
    "Refuses a name or address in use, and a template that is missing or\n"
    "differs (unless the archive carries it). A damaged or truncated archive\n"
    "leaves nothing behind. FILE '-' is stdin.\n\n"
    "  --name NEW    restore under another name (and a new MAC)\n"
    "  --ip ADDR     its addresses instead of the archived ones (repeatable)\n";

static const char clone_usage[] = "usage: berth vps clone SRC DST [--ip ADDR]... [--json]\n\n"
                                  "Makes VPS DST as a copy of SRC (a running SRC is frozen for the copy),\n"
                                  "stopped, with its own user id range, MAC, machine-id and SSH host keys\n"
                                  "(made at its first start) and no addresses but those given.\n\n"
                                  "  --ip ADDR     an address of the clone (repeatable)\n";

enum { O_WITH_TEMPLATE = 300, O_NAME, O_IP };

/* ---- progress ---- */

struct progress {
        bool tty;
        const char *what;
        int in_fd; /* restore from a file: its position against its size */
        off_t in_size;
        struct timespec t0, last;
};

static double elapsed(const struct timespec *a)
{
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        return (double)(now.tv_sec - a->tv_sec) + (double)(now.tv_nsec - a->tv_nsec) / 1e9;
}

static void on_progress(void *arg, const struct berth_vps_progress *p)
{
        struct progress *pr = arg;
        double mib = (double)p->bytes / 1048576.0, t = elapsed(&pr->t0);
        uint64_t done = p->bytes, total = p->total;
        if (pr->in_fd >= 0 && pr->in_size > 0) { /* the compressed stream read so far */
                off_t pos = lseek(pr->in_fd, 0, SEEK_CUR);
                done = pos > 0 ? (uint64_t)pos : 0;
                total = (uint64_t)pr->in_size;
        }
        if (pr->tty) {
                int pct = total ? (int)(done >= total ? 100 : done * 100 / total) : -1;
                char bar[31];
                int fill = pct < 0 ? 0 : pct * 30 / 100;
                for (int i = 0; i < 30; i++)
                        bar[i] = i < fill ? '#' : pct < 0 && i == (int)t % 30 ? '*' : '-';
                bar[30] = '\0';
                fprintf(stderr, "\r%s [%s] %3d%% %8.1f MiB %8llu files %6.1f s%s", pr->what, bar,
                        pct < 0 ? 0 : pct, mib, (unsigned long long)p->files, t, p->done ? "\n" : "");
                fflush(stderr);
                return;
        }
        if (!p->done && elapsed(&pr->last) < 2.0)
                return;
        clock_gettime(CLOCK_MONOTONIC, &pr->last);
        fprintf(stderr, "%s: %.1f MiB, %llu files, %.1f s%s\n", pr->what, mib, (unsigned long long)p->files,
                t, p->done ? " (done)" : "");
}

static void progress_init(struct progress *pr, const char *what, int in_fd)
{
        *pr = (struct progress){.tty = isatty(STDERR_FILENO), .what = what, .in_fd = -1};
        struct stat st;
        if (in_fd >= 0 && fstat(in_fd, &st) == 0 && S_ISREG(st.st_mode)) {
                pr->in_fd = in_fd;
                pr->in_size = st.st_size;
        }
        clock_gettime(CLOCK_MONOTONIC, &pr->t0);
        pr->last = pr->t0;
}

static void summary(struct vps_cli *vc, const char *verb, const struct berth_vps_archive_result *res,
                    FILE *out)
{
        if (!vc->json) {
                fprintf(out, "%s: %s%s%.1f MiB in %llu files, %.2f s\n", verb, res->name,
                        res->name[0] ? ": " : "", (double)res->bytes / 1048576.0,
                        (unsigned long long)res->files, res->seconds);
                return;
        }
        json_t *doc = json_pack("{s:I, s:I, s:f}", "bytes", (json_int_t)res->bytes, "files",
                                (json_int_t)res->files, "seconds", res->seconds);
        if (res->name[0])
                json_object_set_new(doc, "name", json_string(res->name));
        if (res->template_name[0]) {
                json_object_set_new(doc, "template", json_string(res->template_name));
                json_object_set_new(doc, "template_restored", json_boolean(res->template_restored));
        }
        if (!strcmp(verb, "backup"))
                json_object_set_new(doc, "frozen", json_boolean(res->frozen));
        char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (text)
                fprintf(out, "%s\n", text);
        free(text);
        json_decref(doc);
}

/* ---- backup ---- */

static int backup_to_file(struct vps_cli *vc, const char *name, const char *file,
                          const struct berth_vps_backup_opts *o, struct berth_vps_archive_result *res)
{
        char tmp[4096];
        if (snprintf(tmp, sizeof(tmp), "%s.partial.%d", file, (int)getpid()) >= (int)sizeof(tmp))
                return vps_failf(vc, ENAMETOOLONG, "backup: %s: name too long", file);
        _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
                return vps_failf(vc, errno, "backup: create %s: %s", tmp, strerror(errno));
        struct berth_err err = {0};
        int r = berth_vps_backup(&vc->v, name, fd, o, res, &err);
        if (r >= 0 && fsync(fd) < 0)
                r = berth_err_sys(&err, errno, "backup: write %s", file);
        if (r >= 0 && rename(tmp, file) < 0)
                r = berth_err_sys(&err, errno, "backup: rename %s to %s", tmp, file);
        if (r < 0) {
                unlink(tmp);
                return vps_fail(vc, &err);
        }
        return 0;
}

int vps_cmd_backup(struct vps_cli *vc, int argc, char **argv)
{
        static const struct option opts[] = {
            {"with-template", no_argument, NULL, O_WITH_TEMPLATE}, VPS_COMMON_OPTS, {0}};
        if (cli_wants_help(argc, argv, backup_usage))
                return 0;
        struct berth_vps_backup_opts o = {0};
        int c;
        while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1)
                if (c == O_WITH_TEMPLATE)
                        o.with_template = true;
                else if (!vps_common_opt(vc, c))
                        return vps_failf(vc, EINVAL, "backup: unknown option (see --help)");
        if (argc - optind != 2)
                return vps_failf(vc, EINVAL, "backup: expects NAME and FILE (- for stdout)");
        const char *name = argv[optind], *file = argv[optind + 1];
        bool to_stdout = !strcmp(file, "-");
        if (to_stdout && isatty(STDOUT_FILENO))
                return vps_failf(vc, EINVAL, "backup: stdout is a terminal (give a FILE or redirect it)");
        struct progress pr;
        progress_init(&pr, "backup", -1);
        o.progress = on_progress;
        o.arg = &pr;
        struct berth_vps_archive_result res;
        int r;
        if (to_stdout) {
                struct berth_err err = {0};
                r = berth_vps_backup(&vc->v, name, STDOUT_FILENO, &o, &res, &err) < 0 ? vps_fail(vc, &err)
                                                                                      : 0;
        } else {
                r = backup_to_file(vc, name, file, &o, &res);
        }
        if (r == 0) {
                snprintf(res.name, sizeof(res.name), "%s", name);
                summary(vc, "backup", &res, to_stdout ? stderr : stdout);
        }
        return r;
}

/* ---- restore, clone ---- */

/* Appends to a NULL-terminated vector borrowing argv's strings. */
static int push(const char ***v, size_t *n, const char *s)
{
        const char **nv = realloc(*v, (*n + 2) * sizeof(char *));
        if (!nv)
                return -ENOMEM;
        nv[(*n)++] = s;
        nv[*n] = NULL;
        *v = nv;
        return 0;
}

int vps_cmd_restore(struct vps_cli *vc, int argc, char **argv)
{
        static const struct option opts[] = {{"name", required_argument, NULL, O_NAME},
                                             {"ip", required_argument, NULL, O_IP},
                                             VPS_COMMON_OPTS,
                                             {0}};
        if (cli_wants_help(argc, argv, restore_usage))
                return 0;
        struct berth_vps_restore_opts o = {0};
        _cleanup_free_ const char **ips = NULL;
        size_t n_ips = 0;
        int c;
        while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1)
                if (c == O_NAME)
                        o.name = optarg;
                else if (c == O_IP && push(&ips, &n_ips, optarg) < 0)
                        return vps_failf(vc, ENOMEM, "out of memory");
                else if (c != O_IP && !vps_common_opt(vc, c))
                        return vps_failf(vc, EINVAL, "restore: unknown option (see --help)");
        if (argc - optind != 1)
                return vps_failf(vc, EINVAL, "restore: expects FILE (- for stdin)");
        const char *file = argv[optind];
        bool from_stdin = !strcmp(file, "-");
        _cleanup_close_ int fd = from_stdin ? dup(STDIN_FILENO) : open(file, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return vps_failf(vc, errno, "restore: open %s: %s", file, strerror(errno));
        o.ips = ips;
        struct progress pr;
        progress_init(&pr, "restore", fd);
        o.progress = on_progress;
        o.arg = &pr;
        struct berth_vps_archive_result res;
        struct berth_err err = {0};
        if (berth_vps_restore(&vc->v, fd, &o, &res, &err) < 0)
                return vps_fail(vc, &err);
        summary(vc, "restore", &res, stdout);
        return 0;
}

int vps_cmd_clone(struct vps_cli *vc, int argc, char **argv)
{
        static const struct option opts[] = {{"ip", required_argument, NULL, O_IP}, VPS_COMMON_OPTS, {0}};
        if (cli_wants_help(argc, argv, clone_usage))
                return 0;
        _cleanup_free_ const char **ips = NULL;
        size_t n_ips = 0;
        int c;
        while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1)
                if (c == O_IP && push(&ips, &n_ips, optarg) < 0)
                        return vps_failf(vc, ENOMEM, "out of memory");
                else if (c != O_IP && !vps_common_opt(vc, c))
                        return vps_failf(vc, EINVAL, "clone: unknown option (see --help)");
        if (argc - optind != 2)
                return vps_failf(vc, EINVAL, "clone: expects SRC and DST");
        struct berth_vps_archive_result res;
        struct berth_err err = {0};
        if (berth_vps_clone(&vc->v, argv[optind], argv[optind + 1], ips, &res, &err) < 0)
                return vps_fail(vc, &err);
        summary(vc, "clone", &res, stdout);
        return 0;
}
