// SPDX-License-Identifier: GPL-2.0-or-later
/* The apt sources of a debootstrap template: debootstrap writes only
 * "deb MIRROR SUITE main", so a VPS made from it would never get a
 * security fix. berth adds the suite's -updates and its security archive,
 * as the Debian installer does.
 *
 * Nothing is hard-coded: the mirror is the one debootstrap used (the
 * host's, mirror.c, or --mirror) and the security archive is the host's
 * own debian-security entry, else the mirror's sibling "debian-security"
 * directory (deb.debian.org and the official mirrors serve both); an
 * Ubuntu archive holds SUITE-security itself. Suites without either
 * (sid, unstable, experimental) get the one line. Before bullseye the
 * security suite was SUITE/updates. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/file.h"
#include "runtime/vps/template/internal.h"

/* An http(s) token whose path has the component `comp`. */
static bool uri_has_component(const char *uri, size_t len, const char *comp)
{
        size_t skip = len > 8 && !strncmp(uri, "https://", 8)  ? 8
                      : len > 7 && !strncmp(uri, "http://", 7) ? 7
                                                               : 0;
        if (!skip)
                return false;
        size_t cl = strlen(comp);
        const char *p = memchr(uri + skip, '/', len - skip), *end = uri + len;
        while (p && p < end) {
                p++;
                const char *next = memchr(p, '/', (size_t)(end - p));
                size_t n = next ? (size_t)(next - p) : (size_t)(end - p);
                if (n == cl && !strncmp(p, comp, cl))
                        return true;
                p = next;
        }
        return false;
}

char *tmpl_sources_scan_security(const char *text)
{
        for (const char *line = text; line && *line;) {
                const char *eol = strchrnul(line, '\n'), *p = line;
                line = *eol ? eol + 1 : eol;
                while (p < eol && isspace((unsigned char)*p))
                        p++;
                if (p < eol && *p == '#')
                        continue;
                while (p < eol) { /* one-line and deb822 ("URIs: ...") alike */
                        while (p < eol && isspace((unsigned char)*p))
                                p++;
                        const char *tok = p;
                        while (p < eol && !isspace((unsigned char)*p))
                                p++;
                        size_t n = (size_t)(p - tok);
                        while (n > 1 && tok[n - 1] == '/')
                                n--;
                        if (uri_has_component(tok, n, "debian-security"))
                                return strndup(tok, n);
                }
        }
        return NULL;
}

static char *scan_file(int dirfd, const char *name)
{
        size_t len = strlen(name);
        if (name[0] == '.' || !((len > 5 && !strcmp(name + len - 5, ".list")) ||
                                (len > 8 && !strcmp(name + len - 8, ".sources"))))
                return NULL;
        _cleanup_free_ char *text = NULL;
        if (berth_read_file_at(dirfd, name, O_NOFOLLOW, 1 << 20, &text, NULL) < 0)
                return NULL;
        return tmpl_sources_scan_security(text);
}

/* The host's security archive: the first debian-security URI of its
 * sources.list, else of sources.list.d (in name order). */
static char *host_security(const char *apt_dir)
{
        _cleanup_close_ int dfd = open(apt_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        char *uri = dfd >= 0 ? scan_file(dfd, "sources.list") : NULL;
        char sub[PATH_MAX];
        snprintf(sub, sizeof(sub), "%s/sources.list.d", apt_dir);
        struct dirent **names = NULL;
        int n = uri ? 0 : scandir(sub, &names, NULL, alphasort);
        _cleanup_close_ int subfd = n > 0 ? open(sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -EBADF;
        for (int i = 0; i < n; i++) {
                if (!uri && subfd >= 0)
                        uri = scan_file(subfd, names[i]->d_name);
                free(names[i]);
        }
        free(names);
        return uri;
}

static bool in_list(const char *s, const char *const *list)
{
        for (; *list; list++)
                if (!strcmp(s, *list))
                        return true;
        return false;
}

int tmpl_sources_text(const char *mirror, const char *suite, const char *security, char **out)
{
        static const char *const rolling[] = {"sid", "unstable", "experimental", "rc-buggy", NULL};
        static const char *const old[] = {"jessie", "stretch", "buster", NULL};
        size_t ml = strlen(mirror);
        while (ml > 1 && mirror[ml - 1] == '/')
                ml--;
        bool ubuntu = uri_has_component(mirror, ml, "ubuntu");
        char sec[1024];
        if (security)
                snprintf(sec, sizeof(sec), "%s", security);
        else if (ubuntu)
                snprintf(sec, sizeof(sec), "%.*s", (int)ml, mirror);
        else if (ml >= 7 && !strncmp(mirror + ml - 7, "/debian", 7))
                snprintf(sec, sizeof(sec), "%.*s-security", (int)ml, mirror);
        else
                sec[0] = '\0';
        int n;
        if (in_list(suite, rolling))
                n = asprintf(out, "deb %.*s %s main\n", (int)ml, mirror, suite);
        else
                n = asprintf(out, "deb %.*s %s main\ndeb %.*s %s-updates main\n%s%s%s%s%s%s", (int)ml, mirror,
                             suite, (int)ml, mirror, suite, sec[0] ? "deb " : "", sec, sec[0] ? " " : "",
                             sec[0] ? suite : "",
                             !sec[0]               ? ""
                             : in_list(suite, old) ? "/updates"
                                                   : "-security",
                             sec[0] ? " main\n" : "");
        return n < 0 ? -ENOMEM : 0;
}

int tmpl_sources_write(int rootfs_fd, const char *apt_dir, const char *mirror, const char *suite,
                       struct berth_err *err)
{
        _cleanup_free_ char *security = host_security(apt_dir ? apt_dir : "/etc/apt");
        _cleanup_free_ char *text = NULL;
        if (tmpl_sources_text(mirror, suite, security, &text) < 0)
                return berth_err_set(err, ENOMEM, "apt sources: out of memory");
        /* The template's own etc/apt, never a path its links lead out to. */
        struct open_how how = {.flags = O_DIRECTORY | O_RDONLY | O_CLOEXEC,
                               .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
        _cleanup_close_ int apt = (int)syscall(SYS_openat2, rootfs_fd, "etc/apt", &how, sizeof(how));
        if (apt < 0)
                return berth_err_sys(err, errno, "apt sources: the template's /etc/apt");
        if (unlinkat(apt, "sources.list", 0) < 0 && errno != ENOENT)
                return berth_err_sys(err, errno, "apt sources: remove debootstrap's sources.list");
        int r = tmpl_write_file_at(apt, "sources.list", text, 0644);
        return r < 0 ? berth_err_sys(err, -r, "apt sources: write /etc/apt/sources.list") : 0;
}
