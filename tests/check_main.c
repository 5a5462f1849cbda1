/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The shared Check main (see check_main.h).
 *
 * Check's public TestResult accessors give a result's kind, message, file,
 * line and TCase, but not the test's name. The name comes from Check's own
 * log, which the runner writes (in a memfd) one entry per result, in the
 * order of srunner_results(), as "file:line:P|F|E:tcase:test:iter: msg". */
#define _GNU_SOURCE
#include "check_main.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Test-only globals: set by test_suite() before the run. */
static void (*at_end[8])(void);
static size_t n_at_end;
static bool fork_always;

void check_skip_(const char *file, int line, const char *fmt, ...)
{
        char reason[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(reason, sizeof(reason), fmt, ap);
        va_end(ap);
        _ck_assert_failed(file, line, "Skipped", CHECK_SKIP_MARK "%s", reason);
}

void check_main_at_end(void (*fn)(void))
{
        if (n_at_end < sizeof(at_end) / sizeof(at_end[0]))
                at_end[n_at_end++] = fn;
}

void check_main_force_fork(void)
{
        fork_always = true;
}

/* ---- Check's log ---------------------------------------------------------- */

struct log {
        char *text; /* NUL-terminated, NULL when there is no log */
        size_t pos; /* where the next entry's search starts */
};

static char *read_all(int fd)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&buf, &len);
        char chunk[65536];
        ssize_t n;
        if (!m)
                return NULL;
        lseek(fd, 0, SEEK_SET);
        while ((n = read(fd, chunk, sizeof(chunk))) > 0)
                fwrite(chunk, 1, (size_t)n, m);
        fclose(m);
        return buf;
}

/* As Check's own output: P/F/E in the test, S in a fixture. */
static char result_code(TestResult *tr)
{
        if (tr_ctx(tr) != CK_CTX_TEST)
                return 'S';
        switch (tr_rtype(tr)) {
        case CK_PASS:
                return 'P';
        case CK_FAILURE:
                return 'F';
        default:
                return 'E';
        }
}

static const char *file_of(TestResult *tr)
{
        return tr_lfile(tr) ? tr_lfile(tr) : "(null)";
}

/* The test name of result tr: the next log entry that starts a line with
 * tr's "file:line:code:tcase:" prefix. "" when the log does not have it:
 * Check logs no result of an unchecked fixture (one per TCase). */
static void test_name(struct log *lg, TestResult *tr, char *name, size_t len)
{
        char prefix[1024];
        name[0] = '\0';
        if (!lg->text)
                return;
        int n = snprintf(prefix, sizeof(prefix), "%s:%d:%c:%s:", file_of(tr), tr_lno(tr), result_code(tr),
                         tr_tcname(tr));
        if (n < 0 || (size_t)n >= sizeof(prefix))
                return;
        for (const char *p = lg->text + lg->pos; (p = strstr(p, prefix)); p++) {
                if (p != lg->text && p[-1] != '\n')
                        continue;
                const char *t = p + n;
                size_t tl = strcspn(t, ":\n");
                snprintf(name, len, "%.*s", (int)tl, t);
                lg->pos = (size_t)(t + tl - lg->text);
                return;
        }
}

/* Check reads CK_LOG_FILE_NAME itself unless a log is set: keep it working. */
static void copy_log(const char *text)
{
        const char *dest = getenv("CK_LOG_FILE_NAME");
        if (!dest || !*dest || !text)
                return;
        FILE *f = strcmp(dest, "-") == 0 ? stdout : fopen(dest, "we");
        if (!f) {
                perror(dest);
                return;
        }
        fputs(text, f);
        if (f != stdout)
                fclose(f);
}

/* ---- reporting ----------------------------------------------------------- */

struct counts {
        int pass, skip, fail;
};

static bool verbose(void)
{
        const char *v = getenv("CK_VERBOSITY");
        return v && strcmp(v, "verbose") == 0;
}

static void report(TestResult *tr, const char *name, struct counts *c)
{
        const char *msg = tr_msg(tr) ? tr_msg(tr) : "";
        size_t ml = strlen(CHECK_SKIP_MARK);
        if (tr_rtype(tr) == CK_PASS) {
                c->pass++;
                if (verbose())
                        printf("PASS %s:%s\n", tr_tcname(tr), name);
        } else if (tr_rtype(tr) == CK_FAILURE && strncmp(msg, CHECK_SKIP_MARK, ml) == 0) {
                c->skip++;
                bool same = !*name || strcmp(tr_tcname(tr), name) == 0; /* one test per TCase */
                printf("SKIP %s%s%s: %s (%s:%d)\n", tr_tcname(tr), same ? "" : ":", same ? "" : name,
                       msg + ml, file_of(tr), tr_lno(tr));
        } else {
                c->fail++;
                printf("%s:%d:%c:%s:%s: %s%s\n", file_of(tr), tr_lno(tr), result_code(tr), tr_tcname(tr),
                       name, tr_rtype(tr) == CK_ERROR ? "(after this point) " : "", msg);
        }
}

int main(void)
{
        SRunner *sr = srunner_create(test_suite());
        struct log lg = {0};
        char path[64];
        int logfd = memfd_create("check-log", MFD_CLOEXEC);

        if (logfd >= 0) {
                snprintf(path, sizeof(path), "/proc/self/fd/%d", logfd);
                srunner_set_log(sr, path);
        }
        if (fork_always)
                srunner_set_fork_status(sr, CK_FORK);
        fflush(stdout);
        srunner_run_all(sr, CK_SILENT);
        if (logfd >= 0) {
                lg.text = read_all(logfd);
                close(logfd);
                copy_log(lg.text);
        }

        struct counts c = {0};
        TestResult **res = srunner_results(sr);
        int n = srunner_ntests_run(sr);
        for (int i = 0; i < n; i++) {
                char name[256];
                test_name(&lg, res[i], name, sizeof(name));
                report(res[i], name, &c);
        }
        free(res);
        free(lg.text);
        srunner_free(sr);
        for (size_t i = 0; i < n_at_end; i++)
                at_end[i]();

        printf("%d tests: %d passed, %d skipped, %d failed\n", n, c.pass, c.skip, c.fail);
        if (c.fail || n == 0) {
                if (n == 0)
                        printf("no test ran\n");
                return 1;
        }
        return c.pass == 0 ? 77 : 0;
}
