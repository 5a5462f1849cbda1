// SPDX-License-Identifier: GPL-2.0-or-later
/* vps migrate, the source's half (the destination's is receive.c).
 *
 *   1. preflight   ssh DEST berth vps receive NAME: the destination checks
 *                  version, format, name, template (checksum of its tree),
 *                  addresses, id range and disk, and makes a staging
 *                  directory (<data>/vps/.mig.NAME.PID) that it holds
 *                  locked for as long as the connection lasts
 *   2. pass 1      rsync of the VPS's directory while it runs
 *   3. stop        the downtime starts
 *   4. pass 2      rsync of what changed
 *   5. commit      the destination shifts the owners into its id range
 *                  when that differs, publishes the VPS under its name and
 *                  starts it; it answers "running": the downtime ends
 *   6. source      the VPS is destroyed here (--keep-source: kept stopped,
 *                  autostart off)
 *
 * Live (--live, live.c): criu pre-dumps the running VPS's memory into its
 * directory before pass 1; step 3 is criu's final dump (the pages dirtied
 * since, the processes end, the container goes); pass 2 carries the
 * images; the commit restores them there instead of a start. A failed
 * final dump leaves the VPS running here (criu resumes it); a failure
 * after it restores the VPS here from the same images (a fresh start if
 * that fails too).
 *
 * Failure safety: a failure before the commit's answer restarts the VPS
 * here and ends the connection, on which the destination removes its
 * staging directory (or, if it published and could not start, destroys
 * its copy and says so). A migrate killed (-9, a dropped connection)
 * leaves its marker here (migrate_proto.c: which phase, and what `vps
 * repair` does then) and the destination's receive sees the end of its
 * input and cleans up; a receive killed itself leaves a .mig.* directory
 * nobody holds, which `vps repair` there removes. Ids are moved in host
 * ids (rsync --numeric-ids) and shifted once, on the destination, after
 * the last pass: a shift after the first pass would make the second pass
 * put every owner back. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/vps_migrate.h"
#include "runtime/vps/internal.h"
#include "runtime/vps/migrate.h"

struct mig {
        const struct berth_vps_ctx *v;
        const struct berth_vps_migrate_opts *o;
        struct berth_vps_migrate_result *res;
        struct berth_vps_config cfg;
        char dir[PATH_MAX];
        char staging[PATH_MAX];
        char **ssh;       /* "ssh" + options (NULL-terminated) */
        char *ssh_e;      /* the same as one string, for rsync -e */
        char mux_dir[64]; /* holds the control connection's socket */
        char mux_opt[96]; /* -oControlPath=<mux_dir>/s */
        int marker;       /* migration.json, flock()ed */
        bool stopped;     /* by us: a failure restarts it */
        struct vps_child ctl;
};

static int64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void say(const struct mig *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const struct mig *m, const char *fmt, ...)
{
        if (!m->o->progress)
                return;
        char line[512];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        if ((size_t)n > sizeof(line) - 2)
                n = sizeof(line) - 2;
        line[n++] = '\n';
        m->o->progress(m->o->arg, line, (size_t)n);
}

/* ---- ssh ---- */

/* The control connection is an ssh master (ControlMaster) and rsync's
 * connections go through it: no new handshake (a second or more on a
 * busy host) inside the downtime. */
static int ssh_argv(struct mig *m, struct berth_err *err)
{
        size_t n = 0;
        while (m->o->ssh_opts && m->o->ssh_opts[n])
                n++;
        /* $TMPDIR or /tmp; a migrate killed with -9 leaves it behind
         * (an empty directory but for a dead socket). */
        const char *tmpdir = getenv("TMPDIR");
        if (!tmpdir || tmpdir[0] != '/' || strlen(tmpdir) > 40)
                tmpdir = "/tmp";
        snprintf(m->mux_dir, sizeof(m->mux_dir), "%s/berth-ssh.XXXXXX", tmpdir);
        if (!mkdtemp(m->mux_dir)) {
                m->mux_dir[0] = '\0';
                return berth_err_sys(err, errno, "mkdtemp %s/berth-ssh.*", tmpdir);
        }
        snprintf(m->mux_opt, sizeof(m->mux_opt), "-oControlPath=%s/s", m->mux_dir);
        m->ssh = calloc(n + 4, sizeof(char *));
        size_t len = 96 + strlen(m->mux_opt);
        for (size_t i = 0; i < n; i++)
                len += strlen(m->o->ssh_opts[i]) + 1;
        m->ssh_e = malloc(len);
        if (!m->ssh || !m->ssh_e)
                return berth_err_set(err, ENOMEM, "out of memory");
        /* No password prompt: migrate runs from scripts; keys or an agent.
         * Ours first: ssh takes the first value given for an option. */
        size_t k = 0;
        m->ssh[k++] = "ssh";
        m->ssh[k++] = "-oBatchMode=yes";
        m->ssh[k++] = m->mux_opt;
        snprintf(m->ssh_e, len, "ssh -oBatchMode=yes -oControlMaster=no %s", m->mux_opt);
        for (size_t i = 0; i < n; i++) {
                m->ssh[k++] = (char *)m->o->ssh_opts[i];
                strcat(m->ssh_e, " ");
                strcat(m->ssh_e, m->o->ssh_opts[i]);
        }
        m->ssh[k] = NULL;
        return 0;
}

static void mux_cleanup(struct mig *m)
{
        if (!m->mux_dir[0])
                return;
        char path[96];
        snprintf(path, sizeof(path), "%s/s", m->mux_dir);
        unlink(path);
        rmdir(m->mux_dir);
}

static int control_open(struct mig *m, struct berth_err *err)
{
        size_t n = 0;
        while (m->ssh[n])
                n++;
        _cleanup_free_ char **argv = calloc(n + 8, sizeof(char *));
        if (!argv)
                return berth_err_set(err, ENOMEM, "out of memory");
        memcpy(argv, m->ssh, n * sizeof(char *));
        argv[n++] = "-oControlMaster=yes";
        argv[n++] = (char *)m->o->dest;
        argv[n++] = "--";
        argv[n++] = (char *)(m->o->remote_berth ? m->o->remote_berth : "berth");
        argv[n++] = "vps";
        argv[n++] = "receive";
        argv[n++] = m->cfg.name;
        return vps_child_spawn(argv, true, true, &m->ctl, err);
}

/* Sends msg (consumed) and reads the answer: its "ok", else its "error". */
static json_t *control_ask(struct mig *m, json_t *msg, const char *what, struct berth_err *err)
{
        int r = vps_line_send(m->ctl.in, msg, err);
        json_decref(msg);
        json_t *ans = r < 0 ? NULL : vps_line_recv(m->ctl.out, err);
        if (!ans) {
                berth_err_wrap(err, "%s on %s", what, m->o->dest);
                return NULL;
        }
        if (!json_is_true(json_object_get(ans, "ok"))) {
                const char *e = json_string_value(json_object_get(ans, "error"));
                json_int_t code = json_integer_value(json_object_get(ans, "errno"));
                berth_err_set(err, code > 0 ? (int)code : EIO, "%s on %s: %s", what, m->o->dest,
                              e ? e : "refused");
                json_decref(ans);
                return NULL;
        }
        return ans;
}

/* ---- marker ---- */

static int marker_write(struct mig *m, const char *phase, struct berth_err *err)
{
        /* In place, one write of a fixed size: the flock is on this inode
         * (an atomic rename would hand a repair a marker nobody holds). */
        char buf[512];
        memset(buf, ' ', sizeof(buf));
        int n = snprintf(buf, sizeof(buf), "{\"pid\": %d, \"dest\": \"%s\", \"phase\": \"%s\"}",
                         (int)getpid(), m->o->dest, phase);
        if (n < 0 || n >= (int)sizeof(buf) - 1)
                return berth_err_set(err, ENAMETOOLONG, "destination name too long");
        buf[n] = ' ';
        buf[sizeof(buf) - 1] = '\n';
        if (pwrite(m->marker, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf) || fdatasync(m->marker) < 0)
                return vps_err_write(err, errno, m->v->data_dir, "write %s/%s", m->dir, VPS_MIGRATE_MARKER);
        return 0;
}

static int marker_create(struct mig *m, struct berth_err *err)
{
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/%s", m->dir, VPS_MIGRATE_MARKER);
        int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0 && errno == EEXIST)
                return berth_err_set(err, EBUSY,
                                     "VPS %s: a migration is under way or was interrupted (%s exists; "
                                     "`berth vps repair %s` resolves an interrupted one)",
                                     m->cfg.name, path, m->cfg.name);
        if (fd < 0)
                return vps_err_write(err, errno, m->v->data_dir, "create %s", path);
        m->marker = fd;
        if (flock(fd, LOCK_EX) < 0)
                return berth_err_sys(err, errno, "lock %s", path);
        return marker_write(m, "copy", err);
}

static void marker_drop(struct mig *m)
{
        if (m->marker < 0)
                return;
        vps_migrate_marker_remove(m->v, m->cfg.name);
        close(m->marker);
        m->marker = -EBADF;
}

/* ---- rsync ---- */

/* "Total bytes sent: 1,234,567" in rsync's --stats. */
static uint64_t bytes_sent(const char *out)
{
        const char *p = strstr(out, "Total bytes sent:");
        uint64_t n = 0;
        for (p = p ? p + 17 : ""; *p && *p != '\n'; p++)
                if (*p >= '0' && *p <= '9')
                        n = n * 10 + (uint64_t)(*p - '0');
        return n;
}

static int rsync_pass(struct mig *m, int pass, struct berth_err *err)
{
        char src[PATH_MAX + 2], dst[PATH_MAX * 2];
        snprintf(src, sizeof(src), "%s/", m->dir);
        snprintf(dst, sizeof(dst), "%s:%s/", m->o->dest, m->staging);
        /* -aHAX: owners (numeric: host ids), hard links, ACLs, xattrs
         * (the overlay's trusted.* whiteouts and opaque marks), devices;
         * --sparse keeps a disk image sparse. The overlay's work
         * directory, the mount point, the console socket and our marker
         * stay behind. */
        const char *fixed[] = {"rsync",
                               "-aHAX",
                               "--numeric-ids",
                               "--sparse",
                               "--delete",
                               "--stats",
                               "--info=progress2",
                               "-e",
                               m->ssh_e,
                               "--exclude=/" VPS_MIGRATE_MARKER,
                               "--exclude=/console.sock",
                               "--exclude=/rootfs/*",
                               "--exclude=/work/*",
                               "--exclude=/*.tmp"};
        size_t nf = BERTH_ARRAY_SIZE(fixed), nx = 0;
        while (m->o->rsync_opts && m->o->rsync_opts[nx])
                nx++;
        _cleanup_free_ char **argv = calloc(nf + nx + 3, sizeof(char *));
        if (!argv)
                return berth_err_set(err, ENOMEM, "out of memory");
        memcpy(argv, fixed, sizeof(fixed));
        for (size_t i = 0; i < nx; i++)
                argv[nf + i] = (char *)m->o->rsync_opts[i];
        argv[nf + nx] = src;
        argv[nf + nx + 1] = dst;
        say(m, "migrate: pass %d: %s -> %s", pass, src, dst);
        struct vps_child c;
        int r = vps_child_spawn(argv, false, true, &c, err);
        if (r < 0)
                return berth_err_wrap(err, "rsync");
        char tail[8192] = "", buf[4096];
        size_t tl = 0;
        ssize_t n;
        while ((n = read(c.out, buf, sizeof(buf))) != 0) {
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        break;
                if (m->o->progress)
                        m->o->progress(m->o->arg, buf, (size_t)n);
                if (tl + (size_t)n >= sizeof(tail)) {
                        size_t keep = sizeof(tail) / 2 > (size_t)n ? sizeof(tail) / 2 - (size_t)n : 0;
                        memmove(tail, tail + tl - keep, keep);
                        tl = keep;
                }
                memcpy(tail + tl, buf, (size_t)n);
                tl += (size_t)n;
                tail[tl] = '\0';
        }
        r = vps_child_wait(&c);
        /* The guest works during the first pass: files that vanished
         * (24) or changed under rsync's read (23) are the second pass's. */
        if (r != 0 && !(pass == 1 && (r == 23 || r == 24)))
                return berth_err_set(err, EIO, "rsync pass %d to %s failed (exit %d)", pass, m->o->dest, r);
        m->res->bytes_sent[pass - 1] = bytes_sent(tail);
        m->res->passes = pass;
        return 0;
}

/* ---- steps ---- */

static int preflight(struct mig *m, struct berth_err *err)
{
        char tdir[PATH_MAX], tjson[PATH_MAX], sum[33];
        snprintf(tdir, sizeof(tdir), "%s/templates/%s/rootfs", m->v->data_dir, m->cfg.template_name);
        snprintf(tjson, sizeof(tjson), "%s/templates/%s/template.json", m->v->data_dir, m->cfg.template_name);
        uint64_t need = 0;
        int r = vps_tree_sum(tdir, tjson, sum, err);
        if (r >= 0)
                r = vps_tree_usage(m->dir, &need, err);
        if (r < 0)
                return r;
        if (m->cfg.limits.has_disk && (uint64_t)m->cfg.limits.disk > need)
                need = (uint64_t)m->cfg.limits.disk;
        json_t *doc = vps_config_json(&m->cfg);
        json_t *msg = json_pack("{s:s, s:s, s:i, s:o, s:s, s:I, s:b}", "op", "preflight", "version",
                                BERTH_VERSION, "format", VPS_MIGRATE_FORMAT, "config", doc, "template_sum",
                                sum, "need_bytes", (json_int_t)need, "live", m->res->live);
        if (!msg)
                return berth_err_set(err, ENOMEM, "out of memory");
        say(m, "migrate: preflight on %s (template %s, %llu bytes needed)", m->o->dest, m->cfg.template_name,
            (unsigned long long)need);
        if ((r = control_open(m, err)) < 0) {
                json_decref(msg);
                return r;
        }
        json_t *ans = control_ask(m, msg, "preflight", err);
        if (!ans)
                return -err->code;
        const char *st = json_string_value(json_object_get(ans, "staging"));
        snprintf(m->staging, sizeof(m->staging), "%s", st ? st : "");
        m->res->dst_host_id = (uint32_t)json_integer_value(json_object_get(ans, "host_id"));
        json_decref(ans);
        if (m->staging[0] != '/' || strpbrk(m->staging, " \t\n'\"\\"))
                return berth_err_set(err, EPROTO, "preflight on %s: no usable staging directory", m->o->dest);
        return 0;
}

/* The commit: the destination takes the VPS over (and starts it when it
 * ran here). */
static int commit(struct mig *m, struct berth_err *err)
{
        json_t *msg = json_pack("{s:s, s:b}", "op", "commit", "start", m->res->was_running);
        if (!msg)
                return berth_err_set(err, ENOMEM, "out of memory");
        json_t *ans = control_ask(m, msg, "commit", err);
        if (!ans)
                return -err->code;
        m->res->dst_host_id = (uint32_t)json_integer_value(json_object_get(ans, "host_id"));
        json_decref(ans);
        return 0;
}

static void finish_source(struct mig *m)
{
        struct berth_err e = {0};
        if (m->o->keep_source) {
                vps_live_images_remove(m->v, m->cfg.name); /* the kept copy starts afresh */
                /* A kept copy must not come up at the next boot as well. */
                struct berth_vps_change c = {.autostart = 0, .allow_io_uring = -1, .filter = -1};
                if (m->cfg.autostart && berth_vps_set(m->v, m->cfg.name, &c, &e) < 0)
                        vps_warn(m->v, "VPS %s: kept copy: could not clear autostart: %s", m->cfg.name,
                                 e.msg);
                marker_drop(m);
                m->res->kept_source = true;
                say(m, "migrate: the stopped copy on this host is kept (autostart off)");
                return;
        }
        if (vps_destroy_unguarded(m->v, m->cfg.name, false, &e) < 0)
                vps_warn(m->v, "VPS %s: runs on %s, but its copy here could not be removed: %s", m->cfg.name,
                         m->o->dest, e.msg);
        else
                say(m, "migrate: removed from this host");
        close(m->marker);
        m->marker = -EBADF;
}

/* After a failure once the VPS was stopped here: it runs here again. */
static void rollback(struct mig *m, const struct berth_err *why)
{
        vps_child_wait(&m->ctl); /* the destination drops its staging copy */
        if (!m->stopped) {
                marker_drop(m);
                return;
        }
        struct berth_err e = {0};
        if (m->res->live && vps_live_images_exist(m->v, m->cfg.name)) {
                say(m, "migrate: failed (%s): restoring VPS %s here from its dump", why->msg, m->cfg.name);
                int r = vps_live_restore(m->v, m->cfg.name, &e);
                vps_live_images_remove(m->v, m->cfg.name);
                if (r >= 0) {
                        marker_drop(m);
                        return;
                }
                vps_warn(m->v, "VPS %s: could not be restored here (%s); starting it afresh", m->cfg.name,
                         e.msg);
                berth_err_clear(&e);
        }
        vps_live_images_remove(m->v, m->cfg.name);
        say(m, "migrate: failed (%s): restarting VPS %s here", why->msg, m->cfg.name);
        if (vps_start_unguarded(m->v, m->cfg.name, &e) < 0 && e.code != EBUSY) {
                /* The marker stays: `vps repair` tries again. */
                vps_warn(m->v, "VPS %s: could not be restarted here: %s", m->cfg.name, e.msg);
                close(m->marker);
                m->marker = -EBADF;
                return;
        }
        marker_drop(m);
}

/* The VPS halts here (halt: a stop, or criu's final dump), then pass 2
 * copies what changed since pass 1; the downtime starts at the halt. The
 * phase is written first: a migrate killed right after the halt must not
 * leave "copy", which a repair reads as "never stopped" and so leaves the
 * VPS down. A repair's or rollback's start of a VPS that still runs is
 * refused as "already running": harmless. */
static int halt_then_pass2(struct mig *m, int (*halt)(struct mig *m, struct berth_err *err), const char *what,
                           struct berth_err *err)
{
        say(m, "migrate: %s VPS %s", what, m->cfg.name);
        int r = marker_write(m, "stopped", err);
        if (r < 0)
                return r;
        m->stopped = true;
        int64_t t0 = now_ms();
        if ((r = halt(m, err)) < 0)
                return r;
        int64_t t1 = now_ms();
        if ((r = rsync_pass(m, 2, err)) < 0)
                return r;
        say(m, "migrate: %s %lld ms, pass 2 %lld ms", what, (long long)(t1 - t0), (long long)(now_ms() - t1));
        m->res->downtime_ms = -t0; /* completed by the commit */
        return 0;
}

static int halt_stop(struct mig *m, struct berth_err *err)
{
        bool forced = false;
        return berth_vps_stop(m->v, m->cfg.name, m->o->stop_timeout, &forced, err);
}

/* criu's final dump: only the pages dirtied since the pre-dump; the
 * processes end. A failed dump leaves the VPS running here (criu resumes
 * it), so the migration fails without a rollback's start. */
static int halt_dump(struct mig *m, struct berth_err *err)
{
        int r = vps_live_dump(m->v, m->cfg.name, true, err);
        if (r < 0) {
                m->stopped = false;
                vps_live_images_remove(m->v, m->cfg.name);
        }
        return r;
}

/* Live: the memory pre-copied while the VPS runs (with pass 1), then the
 * final dump, and pass 2 carries the dump with the files' last changes. */
static int transfer_live(struct mig *m, struct berth_err *err)
{
        say(m, "migrate: pre-dump of VPS %s's memory (it runs on)", m->cfg.name);
        int64_t t = now_ms();
        int r = vps_live_predump(m->v, m->cfg.name, err);
        if (r >= 0)
                say(m, "migrate: pre-dump %lld ms", (long long)(now_ms() - t));
        if (r >= 0)
                r = rsync_pass(m, 1, err);
        if (r < 0) {
                vps_live_images_remove(m->v, m->cfg.name);
                return r;
        }
        return halt_then_pass2(m, halt_dump, "dump", err);
}

static int transfer(struct mig *m, struct berth_err *err)
{
        if (m->res->live)
                return transfer_live(m, err);
        int r = rsync_pass(m, 1, err);
        if (r < 0 || !m->res->was_running)
                return r;
        return halt_then_pass2(m, halt_stop, "stop", err);
}

static int run(struct mig *m, struct berth_err *err)
{
        int r = preflight(m, err);
        if (r < 0)
                return r;
        if ((r = marker_create(m, err)) < 0)
                return r;
        int64_t t0 = 0;
        if ((r = transfer(m, err)) >= 0) {
                t0 = -m->res->downtime_ms;
                r = marker_write(m, "handover", err);
        }
        if (r < 0) {
                rollback(m, err);
                return r;
        }
        if ((r = commit(m, err)) < 0) {
                if (err->code == EPIPE || err->code == EPROTO) {
                        /* No answer: it may have started there. Keep the
                         * stopped copy and the marker for the admin. */
                        berth_err_wrap(err,
                                       "no answer after the hand-over: VPS %s may run on %s; its stopped "
                                       "copy stays here (see `berth vps repair %s`)",
                                       m->cfg.name, m->o->dest, m->cfg.name);
                        vps_child_wait(&m->ctl);
                        return r;
                }
                rollback(m, err);
                return r;
        }
        if (m->res->was_running)
                m->res->downtime_ms = now_ms() - t0;
        json_t *done = json_pack("{s:s}", "op", "done");
        vps_line_send(m->ctl.in, done, err);
        json_decref(done);
        berth_err_clear(err);
        vps_child_wait(&m->ctl);
        say(m, "migrate: VPS %s %s on %s (downtime %lld ms)", m->cfg.name,
            m->res->was_running ? "runs" : "is", m->o->dest, (long long)m->res->downtime_ms);
        finish_source(m);
        return 0;
}

static bool dest_valid(const char *d)
{
        return d && *d && d[0] != '-' && !strpbrk(d, " \t\n:/'\"\\$`;&|<>()");
}

static int check_running(struct mig *m, struct berth_err *err)
{
        struct berth_container_info info;
        int r = vps_container_load(m->v, m->cfg.name, &info, err);
        if (r == -ENOENT) {
                berth_err_clear(err);
                return 0;
        }
        if (r < 0)
                return r;
        enum berth_status st = info.status;
        berth_container_info_clear(&info);
        if (st == BERTH_STATUS_PAUSED || st == BERTH_STATUS_UNKNOWN || st == BERTH_STATUS_CREATED)
                return berth_err_set(err, EBUSY, "VPS %s is %s: start or stop it first", m->cfg.name,
                                     berth_status_name(st));
        m->res->was_running = st == BERTH_STATUS_RUNNING;
        return 0;
}

int berth_vps_migrate(const struct berth_vps_ctx *v, const struct berth_vps_migrate_opts *o,
                      struct berth_vps_migrate_result *res, struct berth_err *err)
{
        memset(res, 0, sizeof(*res));
        if (!berth_vps_name_valid(o->name))
                return berth_err_set(err, EINVAL, "invalid VPS name \"%s\"", o->name ? o->name : "");
        if (!dest_valid(o->dest))
                return berth_err_set(err, EINVAL, "invalid destination \"%s\" (expected [USER@]HOST)",
                                     o->dest ? o->dest : "");
        struct mig m = {
            .v = v, .o = o, .res = res, .marker = -EBADF, .ctl = {.pid = -1, .in = -1, .out = -1}};
        int64_t start = now_ms();
        int r = berth_vps_config_load(v, o->name, &m.cfg, err);
        if (r < 0)
                return berth_err_wrap(err, "migrate VPS %s", o->name);
        res->src_host_id = m.cfg.userns.enabled ? m.cfg.userns.host_id : 0;
        berth_vps_path(v, o->name, NULL, m.dir, sizeof(m.dir));
        r = check_running(&m, err);
        res->live = o->live && res->was_running;
        if (r >= 0 && res->live && (r = vps_live_check(err)) < 0)
                berth_err_wrap(err, "--live: criu cannot checkpoint here (nothing was stopped; without "
                                    "--live the VPS migrates offline)");
        if (r >= 0)
                r = ssh_argv(&m, err);
        if (r >= 0)
                r = run(&m, err);
        if (m.ctl.pid > 0)
                vps_child_wait(&m.ctl);
        if (r < 0 && m.marker >= 0 && !m.stopped)
                marker_drop(&m);
        if (m.marker >= 0)
                close(m.marker);
        mux_cleanup(&m);
        free(m.ssh);
        free(m.ssh_e);
        berth_vps_config_clear(&m.cfg);
        res->total_ms = now_ms() - start;
        return r < 0 ? berth_err_wrap(err, "migrate VPS %s to %s", o->name, o->dest) : 0;
}
