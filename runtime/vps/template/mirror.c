/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Which Debian mirror debootstrap should use when none is given: the one
 * the host's apt already uses. Both apt source formats are read: one-line
 * ("deb [opts] URI SUITE COMPONENTS", sources.list, *.list) and deb822
 * stanzas (*.sources). A candidate is an http(s) "deb" URI with a "debian"
 * or "ubuntu" path component (so the security archive and third-party
 * repositories are not taken); one listing the wanted suite wins. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "berth/file.h"
#include "runtime/vps/template/internal.h"

static bool uri_is_archive(const char *uri, size_t len)
{
        if (!(len > 7 && !strncmp(uri, "http://", 7)) && !(len > 8 && !strncmp(uri, "https://", 8)))
                return false;
        const char *p = memchr(uri + 8, '/', len - 8);
        while (p && p < uri + len) {
                p++;
                const char *end = memchr(p, '/', (size_t)(uri + len - p));
                size_t clen = end ? (size_t)(end - p) : (size_t)(uri + len - p);
                if ((clen == 6 && !strncmp(p, "debian", 6)) || (clen == 6 && !strncmp(p, "ubuntu", 6)))
                        return true;
                p = end;
        }
        return false;
}

/* Word-list contains word (both whitespace-separated). */
static bool has_word(const char *list, size_t len, const char *word)
{
        size_t wlen = word ? strlen(word) : 0;
        const char *p = list, *end = list + len;
        while (wlen && p < end) {
                while (p < end && isspace((unsigned char)*p))
                        p++;
                const char *w = p;
                while (p < end && !isspace((unsigned char)*p))
                        p++;
                if ((size_t)(p - w) == wlen && !strncmp(w, word, wlen))
                        return true;
        }
        return false;
}

static int offer(const char *uri, size_t len, bool suite_match, char **best, char **first)
{
        if (!uri_is_archive(uri, len))
                return 0;
        char **slot = suite_match && !*best ? best : !*first ? first : NULL;
        if (!slot)
                return 0;
        *slot = strndup(uri, len);
        return *slot ? 0 : -ENOMEM;
}

int tmpl_mirror_scan_list(const char *text, const char *suite, char **best, char **first)
{
        for (const char *line = text; line && *line;) {
                const char *eol = strchrnul(line, '\n');
                const char *p = line;
                line = *eol ? eol + 1 : eol;
                while (p < eol && isspace((unsigned char)*p))
                        p++;
                if (eol - p < 4 || strncmp(p, "deb", 3) || !isspace((unsigned char)p[3]))
                        continue; /* comment, blank, deb-src */
                p += 4;
                while (p < eol && isspace((unsigned char)*p))
                        p++;
                if (p < eol && *p == '[') { /* [ options ] */
                        const char *close = memchr(p, ']', (size_t)(eol - p));
                        if (!close)
                                continue;
                        p = close + 1;
                        while (p < eol && isspace((unsigned char)*p))
                                p++;
                }
                const char *uri = p;
                while (p < eol && !isspace((unsigned char)*p))
                        p++;
                size_t ulen = (size_t)(p - uri);
                int r = offer(uri, ulen, has_word(p, (size_t)(eol - p), suite), best, first);
                if (r < 0)
                        return r;
        }
        return 0;
}

struct stanza {
        const char *types, *uris, *suites, *enabled;
        size_t types_len, uris_len, suites_len, enabled_len;
};

static void stanza_field(struct stanza *s, const char *key, size_t klen, const char *val, size_t vlen)
{
        if (klen == 5 && !strncasecmp(key, "Types", 5))
                s->types = val, s->types_len = vlen;
        else if (klen == 4 && !strncasecmp(key, "URIs", 4))
                s->uris = val, s->uris_len = vlen;
        else if (klen == 6 && !strncasecmp(key, "Suites", 6))
                s->suites = val, s->suites_len = vlen;
        else if (klen == 7 && !strncasecmp(key, "Enabled", 7))
                s->enabled = val, s->enabled_len = vlen;
}

static int stanza_offer(const struct stanza *s, const char *suite, char **best, char **first)
{
        if (!s->uris || !has_word(s->types, s->types_len, "deb"))
                return 0;
        if (s->enabled && has_word(s->enabled, s->enabled_len, "no"))
                return 0;
        bool match = suite && has_word(s->suites, s->suites_len, suite);
        const char *p = s->uris, *end = s->uris + s->uris_len;
        while (p < end) {
                while (p < end && isspace((unsigned char)*p))
                        p++;
                const char *u = p;
                while (p < end && !isspace((unsigned char)*p))
                        p++;
                if (p > u && offer(u, (size_t)(p - u), match, best, first) < 0)
                        return -ENOMEM;
        }
        return 0;
}

int tmpl_mirror_scan_deb822(const char *text, const char *suite, char **best, char **first)
{
        struct stanza s = {0};
        for (const char *line = text; line;) {
                const char *eol = strchrnul(line, '\n');
                const char *next = *eol ? eol + 1 : NULL;
                size_t len = (size_t)(eol - line);
                size_t blank = strspn(line, " \t\r");
                if (blank >= len) { /* end of stanza */
                        if (stanza_offer(&s, suite, best, first) < 0)
                                return -ENOMEM;
                        s = (struct stanza){0};
                } else if (line[0] != '#' && !isspace((unsigned char)line[0])) {
                        const char *colon = memchr(line, ':', len);
                        if (colon)
                                stanza_field(&s, line, (size_t)(colon - line), colon + 1,
                                             (size_t)(eol - colon - 1));
                }
                /* continuation lines (leading space) only matter for URIs,
                 * which are practically always on one line */
                line = next;
        }
        return stanza_offer(&s, suite, best, first);
}

static int scan_file(int dirfd, const char *name, const char *suite, char **best, char **first)
{
        _cleanup_free_ char *text = NULL;
        if (berth_read_file_at(dirfd, name, O_NOFOLLOW, 1 << 20, &text, NULL) < 0)
                return 0; /* unreadable sources file: apt would complain, we just look elsewhere */
        size_t len = strlen(name);
        if (len > 8 && !strcmp(name + len - 8, ".sources"))
                return tmpl_mirror_scan_deb822(text, suite, best, first);
        return tmpl_mirror_scan_list(text, suite, best, first);
}

static int filter_sources(const struct dirent *de)
{
        size_t len = strlen(de->d_name);
        return de->d_name[0] != '.' && ((len > 5 && !strcmp(de->d_name + len - 5, ".list")) ||
                                        (len > 8 && !strcmp(de->d_name + len - 8, ".sources")));
}

int berth_template_find_mirror(const char *apt_dir, const char *suite, char **out, struct berth_err *err)
{
        *out = NULL;
        const char *dir = apt_dir ? apt_dir : "/etc/apt";
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_free_ char *best = NULL, *first = NULL;
        int r = dfd >= 0 ? scan_file(dfd, "sources.list", suite, &best, &first) : 0;
        char sub[PATH_MAX];
        snprintf(sub, sizeof(sub), "%s/sources.list.d", dir);
        struct dirent **names = NULL;
        int n = r >= 0 ? scandir(sub, &names, filter_sources, alphasort) : 0;
        _cleanup_close_ int subfd = n > 0 ? open(sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -EBADF;
        for (int i = 0; i < n; i++) {
                if (r >= 0 && subfd >= 0)
                        r = scan_file(subfd, names[i]->d_name, suite, &best, &first);
                free(names[i]);
        }
        free(names);
        if (r < 0)
                return berth_err_sys(err, -r, "read apt sources");
        if (!best && !first)
                return berth_err_set(err, ENOENT,
                                     "no Debian http(s) mirror in %s/sources.list or %s; pass --mirror URL",
                                     dir, sub);
        *out = best ? TAKE_PTR(best) : TAKE_PTR(first);
        return 0;
}
