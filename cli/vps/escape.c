/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A guest's console bytes shown on the admin's terminal: control
 * characters escaped, as journalctl does.
 *
 * Everything in console.log was written by the guest. Printed raw on a
 * terminal, its escape sequences act on the admin's terminal emulator: set
 * the window title, clear the screen, redefine keys, query the terminal so
 * that the answer lands in the admin's input, or hide lines with \r. So
 * every C0 control (but \n, \t and the \r of a \r\n line end, which a pty
 * writes), DEL, the C1 controls (U+0080-U+009F, which terminals honour too)
 * and bytes that are not UTF-8 are shown as \xNN; valid UTF-8 text stays as
 * it is. */
#include <stdio.h>
#include <string.h>

#include "cli/vps/vps_cli.h"

static void put_escaped(const unsigned char *p, size_t n, FILE *out)
{
        for (size_t i = 0; i < n; i++)
                fprintf(out, "\\x%02x", p[i]);
}

/* Length of the UTF-8 sequence at p (1-4), 0 when it is not valid UTF-8,
 * -1 when it may be but is cut off at p + n. */
static int utf8_len(const unsigned char *p, size_t n)
{
        int len = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : 2;
        if (p[0] < 0xc2 || p[0] > 0xf4)
                return 0;
        /* The second byte's range rules out overlong forms and surrogates. */
        unsigned char lo = p[0] == 0xe0 ? 0xa0 : p[0] == 0xf0 ? 0x90 : 0x80;
        unsigned char hi = p[0] == 0xed ? 0x9f : p[0] == 0xf4 ? 0x8f : 0xbf;
        for (int i = 1; i < len; i++) {
                if ((size_t)i >= n)
                        return -1;
                unsigned char min = i == 1 ? lo : 0x80, max = i == 1 ? hi : 0xbf;
                if (p[i] < min || p[i] > max)
                        return 0;
        }
        return len;
}

/* How many bytes at p were shown; 0 when they must wait for more input. */
static size_t show_one(const unsigned char *p, size_t n, bool final, FILE *out)
{
        if (p[0] == '\n' || p[0] == '\t' || (p[0] >= 0x20 && p[0] < 0x7f)) {
                fputc(p[0], out);
                return 1;
        }
        if (p[0] == '\r' && n == 1 && !final)
                return 0;
        if (p[0] == '\r' && n > 1 && p[1] == '\n') {
                fputs("\r\n", out);
                return 2;
        }
        if (p[0] < 0x80) {
                put_escaped(p, 1, out);
                return 1;
        }
        int len = utf8_len(p, n);
        if (len < 0 && !final)
                return 0;
        if (len <= 0) {
                put_escaped(p, 1, out);
                return 1;
        }
        if (p[0] == 0xc2 && p[1] < 0xa0) /* a C1 control */
                put_escaped(p, 2, out);
        else
                fwrite(p, 1, (size_t)len, out);
        return (size_t)len;
}

void vps_escape_write(struct vps_escape *e, const void *buf, size_t n, bool final, FILE *out)
{
        unsigned char all[sizeof(e->carry) + 8192];
        const unsigned char *in = buf;
        while (n || (final && e->n_carry)) {
                size_t take = n < sizeof(all) - e->n_carry ? n : sizeof(all) - e->n_carry;
                memcpy(all, e->carry, e->n_carry);
                if (take) /* the final call may pass no buffer */
                        memcpy(all + e->n_carry, in, take);
                size_t len = e->n_carry + take, off = 0;
                in += take;
                n -= take;
                bool last = final && !n;
                for (size_t used; off < len && (used = show_one(all + off, len - off, last, out));
                     off += used)
                        ;
                /* Only an incomplete tail (< 4 bytes) is left over. */
                e->n_carry = len - off;
                memcpy(e->carry, all + off, e->n_carry);
        }
}
