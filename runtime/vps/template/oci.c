/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Import of a container image: an OCI image layout (archive, as written by
 * `podman save --format oci-archive`, or directory) or a docker-archive.
 *
 * index.json -> manifest (through nested indexes, picking this host's
 * platform) -> layers, applied in order with whiteouts. From an archive a
 * member is read by scanning the archive to it and, for a layer, opening a
 * second libarchive reader on top of the first one's data stream: nothing
 * is unpacked twice, layers are never written to disk whole.
 * Blob digests are not verified (no hash library is linked); the blobs are
 * addressed by validated digest names only. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#ifdef BERTH_HAVE_LIBARCHIVE
#include <archive.h>
#include <archive_entry.h>
#include "runtime/vps/template/archive_dl.h"
#endif

#include "berth/rootfs.h"
#include "runtime/vps/template/internal.h"

#ifdef BERTH_HAVE_LIBARCHIVE

#define JSON_MAX   (16u << 20)
#define MAX_LAYERS 512

struct img_src {
        const char *path;
        bool is_dir;
        int dirfd; /* layout directory */
};

/* An open member: for archives, the outer reader positioned on it. */
struct member {
        struct archive *outer;
        struct archive *inner; /* the layer reader */
        int fd;
        char buf[1 << 16];
};

static void member_close(struct member *m)
{
        if (m->inner)
                AR(archive_read_free)(m->inner);
        if (m->outer)
                AR(archive_read_free)(m->outer);
        berth_closep(&m->fd);
        m->inner = m->outer = NULL;
        m->fd = -EBADF;
}

/* Scans the archive to `name` (following one level of hard link). */
static int seek_member(const char *path, const char *name, struct member *m, struct berth_err *err)
{
        char want[PATH_MAX];
        snprintf(want, sizeof(want), "%s", name);
        for (int hop = 0; hop < 4; hop++) {
                member_close(m);
                m->outer = AR(archive_read_new)();
                if (!m->outer)
                        return berth_err_set(err, ENOMEM, "out of memory");
                AR(archive_read_support_filter_all)(m->outer);
                AR(archive_read_support_format_all)(m->outer);
                if (AR(archive_read_open_filename)(m->outer, path, 1 << 16) != ARCHIVE_OK)
                        return berth_err_set(err, EIO, "open %s: %s", path,
                                             AR(archive_error_string)(m->outer));
                struct archive_entry *e;
                bool rescan = false;
                int r;
                while ((r = AR(archive_read_next_header)(m->outer, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
                        char got[PATH_MAX];
                        snprintf(got, sizeof(got), "%s",
                                 AR(archive_entry_pathname)(e) ? AR(archive_entry_pathname)(e) : "");
                        if (tmpl_clean_path(got) < 0 || strcmp(got, want))
                                continue;
                        const char *link = AR(archive_entry_hardlink)(e);
                        if (!link)
                                return 0;
                        snprintf(want, sizeof(want), "%s", link);
                        rescan = tmpl_clean_path(want) == 0;
                        break;
                }
                if (!rescan)
                        return r == ARCHIVE_EOF || r >= ARCHIVE_WARN
                                   ? berth_err_set(err, ENOENT, "%s: no member %s", path, name)
                                   : berth_err_set(err, EIO, "read %s: %s", path,
                                                   AR(archive_error_string)(m->outer));
        }
        return berth_err_set(err, ELOOP, "%s: member %s: too many hard links", path, name);
}

static int member_open(const struct img_src *src, const char *name, struct member *m, struct berth_err *err)
{
        *m = (struct member){.fd = -EBADF};
        if (!src->is_dir)
                return seek_member(src->path, name, m, err);
        m->fd = berth_in_root_open(src->dirfd, name, O_RDONLY);
        if (m->fd < 0)
                return berth_err_sys(err, -m->fd, "%s/%s", src->path, name);
        return 0;
}

static la_ssize_t member_read(struct member *m, void *buf, size_t len)
{
        if (m->outer)
                return AR(archive_read_data)(m->outer, buf, len);
        ssize_t n;
        do
                n = read(m->fd, buf, len);
        while (n < 0 && errno == EINTR);
        return n;
}

static json_t *read_json(const struct img_src *src, const char *name, struct berth_err *err)
{
        _cleanup_(member_close) struct member m = {.fd = -EBADF};
        if (member_open(src, name, &m, err) < 0)
                return NULL;
        size_t cap = 4096, n = 0;
        _cleanup_free_ char *buf = malloc(cap);
        while (buf) {
                if (n == cap) {
                        char *nb = cap < JSON_MAX ? realloc(buf, cap *= 2) : NULL;
                        if (!nb) {
                                berth_err_set(err, EFBIG, "%s: %s is too big", src->path, name);
                                return NULL;
                        }
                        buf = nb;
                }
                la_ssize_t r = member_read(&m, buf + n, cap - n);
                if (r < 0) {
                        berth_err_set(err, EIO, "%s: read %s", src->path, name);
                        return NULL;
                }
                if (r == 0)
                        break;
                n += (size_t)r;
        }
        json_error_t jerr;
        json_t *j = buf ? json_loadb(buf, n, 0, &jerr) : NULL;
        if (!j)
                berth_err_set(err, EINVAL, "%s: %s: invalid JSON: %s", src->path, name,
                              buf ? jerr.text : "no memory");
        return j;
}

/* "sha256:<hex>" -> "blobs/sha256/<hex>"; anything else is refused so a
 * digest can never name a path outside blobs/. */
static int blob_path(const char *digest, char *out, size_t len, struct berth_err *err)
{
        const char *colon = digest ? strchr(digest, ':') : NULL;
        size_t alg = colon ? (size_t)(colon - digest) : 0;
        if (!colon || alg == 0 || strspn(digest, "abcdefghijklmnopqrstuvwxyz0123456789+._-") != alg ||
            strlen(colon + 1) < 32 || strspn(colon + 1, "0123456789abcdef") != strlen(colon + 1))
                return berth_err_set(err, EINVAL, "invalid digest \"%s\"", digest ? digest : "(none)");
        snprintf(out, len, "blobs/%.*s/%s", (int)alg, digest, colon + 1);
        return 0;
}

static const char *host_arch(struct utsname *u)
{
        static const char *const map[][2] = {
            {"x86_64", "amd64"}, {"aarch64", "arm64"},   {"i686", "386"},    {"i386", "386"},
            {"armv7l", "arm"},   {"ppc64le", "ppc64le"}, {"s390x", "s390x"}, {"riscv64", "riscv64"},
        };
        if (uname(u) < 0)
                return "amd64";
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(map); i++)
                if (!strcmp(u->machine, map[i][0]))
                        return map[i][1];
        return u->machine;
}

/* The descriptor to follow in an index: this host's platform if the
 * entries say, else the first one. */
static json_t *pick_descriptor(json_t *manifests)
{
        struct utsname u;
        const char *arch = host_arch(&u);
        size_t i;
        json_t *d;
        json_array_foreach(manifests, i, d)
        {
                json_t *p = json_object_get(d, "platform");
                const char *os = json_string_value(json_object_get(p, "os"));
                const char *a = json_string_value(json_object_get(p, "architecture"));
                if (!p || ((!os || !strcmp(os, "linux")) && (!a || !strcmp(a, arch))))
                        return d;
        }
        return json_array_get(manifests, 0);
}

/* Follows index -> (nested index ...) -> manifest; returns the manifest. */
static json_t *resolve_manifest(const struct img_src *src, json_t *index, struct berth_err *err)
{
        json_t *cur = json_incref(index);
        for (int depth = 0; depth < 8; depth++) {
                if (json_is_array(json_object_get(cur, "layers")))
                        return cur;
                json_t *list = json_object_get(cur, "manifests");
                json_t *d = json_is_array(list) ? pick_descriptor(list) : NULL;
                char blob[PATH_MAX];
                if (!d ||
                    blob_path(json_string_value(json_object_get(d, "digest")), blob, sizeof(blob), err) < 0) {
                        if (!d)
                                berth_err_set(err, EINVAL, "%s: the index lists no image manifest",
                                              src->path);
                        json_decref(cur);
                        return NULL;
                }
                json_decref(cur);
                cur = read_json(src, blob, err);
                if (!cur)
                        return NULL;
        }
        json_decref(cur);
        berth_err_set(err, ELOOP, "%s: image indexes nested too deeply", src->path);
        return NULL;
}

static la_ssize_t layer_read_cb(struct archive *a, void *data, const void **buf)
{
        struct member *m = data;
        *buf = m->buf;
        return member_read(m, m->buf, sizeof(m->buf));
}

static int apply_layer(int rootfd, const struct img_src *src, const char *name, struct berth_err *err)
{
        _cleanup_(member_close) struct member m = {.fd = -EBADF};
        if (member_open(src, name, &m, err) < 0)
                return -err->code;
        m.inner = AR(archive_read_new)();
        if (!m.inner)
                return berth_err_set(err, ENOMEM, "out of memory");
        AR(archive_read_support_filter_all)(m.inner);
        AR(archive_read_support_format_tar)(m.inner);
        if (AR(archive_read_open)(m.inner, &m, NULL, layer_read_cb, NULL) != ARCHIVE_OK)
                return berth_err_set(err, EINVAL, "layer %s: %s", name, AR(archive_error_string)(m.inner));
        int r = tmpl_extract(rootfd, m.inner, true, err);
        return r < 0 ? berth_err_wrap(err, "layer %s", name) : 0;
}

/* The "config" object (Entrypoint, Cmd, Env, WorkingDir, ...) of the
 * image config, kept in template.json for whoever wants to run it. */
static char *image_config_text(const struct img_src *src, const char *name)
{
        struct berth_err ignored = {0};
        _cleanup_json_ json_t *cfg = read_json(src, name, &ignored);
        json_t *inner = cfg ? json_object_get(cfg, "config") : NULL;
        return json_is_object(inner) ? json_dumps(inner, JSON_COMPACT) : NULL;
}

static int apply_oci(int rootfd, const struct img_src *src, char **image_config, struct berth_err *err)
{
        _cleanup_json_ json_t *index = read_json(src, "index.json", err);
        _cleanup_json_ json_t *manifest = index ? resolve_manifest(src, index, err) : NULL;
        if (!manifest)
                return -err->code;
        json_t *layers = json_object_get(manifest, "layers");
        size_t i;
        json_t *d;
        int r = json_array_size(layers) <= MAX_LAYERS ? 0 : berth_err_set(err, E2BIG, "too many layers");
        char blob[PATH_MAX];
        json_array_foreach(layers, i, d)
        {
                if (r < 0)
                        break;
                r = blob_path(json_string_value(json_object_get(d, "digest")), blob, sizeof(blob), err);
                if (r >= 0)
                        r = apply_layer(rootfd, src, blob, err);
        }
        const char *cfg = json_string_value(json_object_get(json_object_get(manifest, "config"), "digest"));
        if (r >= 0 && blob_path(cfg, blob, sizeof(blob), err) >= 0)
                *image_config = image_config_text(src, blob);
        return r < 0 ? r : 0;
}

/* A member path named by manifest.json, made safe. */
static int member_path(json_t *v, char *out, size_t len, struct berth_err *err)
{
        const char *s = json_string_value(v);
        snprintf(out, len, "%s", s ? s : "");
        if (!s || tmpl_clean_path(out) < 0 || !*out)
                return berth_err_set(err, EINVAL, "manifest.json: invalid path \"%s\"", s ? s : "(none)");
        return 0;
}

static int apply_docker(int rootfd, const struct img_src *src, char **image_config, struct berth_err *err)
{
        _cleanup_json_ json_t *list = read_json(src, "manifest.json", err);
        if (!list)
                return -err->code;
        json_t *img = json_array_get(list, 0);
        json_t *layers = json_object_get(img, "Layers");
        int r = json_is_array(layers)
                    ? 0
                    : berth_err_set(err, EINVAL, "%s: manifest.json lists no layers", src->path);
        size_t i;
        json_t *v;
        char path[PATH_MAX];
        json_array_foreach(layers, i, v)
        {
                if (r < 0)
                        break;
                r = member_path(v, path, sizeof(path), err);
                if (r >= 0)
                        r = apply_layer(rootfd, src, path, err);
        }
        if (r >= 0 && member_path(json_object_get(img, "Config"), path, sizeof(path), err) >= 0)
                *image_config = image_config_text(src, path);
        return r < 0 ? r : 0;
}

int tmpl_import_image(int rootfd, const char *path, bool is_dir, enum tmpl_archive_kind kind,
                      char **image_config, struct berth_err *err)
{
        *image_config = NULL;
        struct img_src src = {.path = path, .is_dir = is_dir, .dirfd = -EBADF};
        _cleanup_close_ int dirfd = is_dir ? open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -EBADF;
        if (is_dir && dirfd < 0)
                return berth_err_sys(err, errno, "open %s", path);
        src.dirfd = dirfd;
        if (kind == TMPL_ARCHIVE_DOCKER)
                return apply_docker(rootfd, &src, image_config, err);
        return apply_oci(rootfd, &src, image_config, err);
}

#else

int tmpl_import_image(int rootfd, const char *path, bool is_dir, enum tmpl_archive_kind kind,
                      char **image_config, struct berth_err *err)
{
        *image_config = NULL;
        return berth_err_set(err, ENOTSUP, "import %s: berth was built without libarchive", path);
}

#endif
