/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `vps console` on a terminal (cli/vps/escape.c): the guest's control
 * characters shown as \xNN, text and line ends as they are, also when a
 * sequence is cut between two reads. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "cli/vps/vps_cli.h"

/* in, fed in pieces of `step` bytes (0: at once), as the terminal shows it. */
static char *shown(const char *in, size_t len, size_t step)
{
        char *out = NULL;
        size_t out_len = 0;
        FILE *f = open_memstream(&out, &out_len);
        struct vps_escape e = {0};
        for (size_t off = 0; off < len;) {
                size_t n = step && len - off > step ? step : len - off;
                vps_escape_write(&e, in + off, n, false, f);
                off += n;
        }
        vps_escape_write(&e, NULL, 0, true, f);
        fclose(f);
        return out;
}

static void check_all_steps(const char *in, size_t len, const char *want)
{
        for (size_t step = 0; step <= 4; step++) {
                char *got = shown(in, len, step);
                ck_assert_msg(!strcmp(got, want), "step %zu: got '%s', want '%s'", step, got, want);
                free(got);
        }
}

START_TEST(escape_sequences_shown)
{
        const char in[] = "\033]0;pwned\007\033[2J";
        check_all_steps(in, sizeof(in) - 1, "\\x1b]0;pwned\\x07\\x1b[2J");
        const char del[] = "a\177b\bc\0"
                           "d";
        check_all_steps(del, sizeof(del) - 1, "a\\x7fb\\x08c\\x00d");
}
END_TEST

START_TEST(text_and_line_ends_kept)
{
        const char in[] = "boot ok\r\n\tindented\nlast";
        check_all_steps(in, sizeof(in) - 1, in);
        /* A lone \r would let the guest overwrite what was shown. */
        const char cr[] = "secret\rfake\r";
        check_all_steps(cr, sizeof(cr) - 1, "secret\\x0dfake\\x0d");
}
END_TEST

START_TEST(utf8_kept_c1_and_invalid_shown)
{
        const char in[] = "gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x90\xb3";
        check_all_steps(in, sizeof(in) - 1, in);
        /* U+009B is CSI for terminals that honour C1 controls. */
        const char c1[] = "x\xc2\x9b"
                          "2Jy";
        check_all_steps(c1, sizeof(c1) - 1, "x\\xc2\\x9b2Jy");
        /* A lone 0x9b, an overlong '/', a surrogate, a cut-off sequence. */
        const char bad[] = "\x9b|\xc0\xaf|\xed\xa0\x80|\xe2\x82";
        check_all_steps(bad, sizeof(bad) - 1, "\\x9b|\\xc0\\xaf|\\xed\\xa0\\x80|\\xe2\\x82");
}
END_TEST

Suite *test_suite(void)
{
        Suite *s = suite_create("console_escape");
        TCase *tc = tcase_create("escape");
        tcase_add_test(tc, escape_sequences_shown);
        tcase_add_test(tc, text_and_line_ends_kept);
        tcase_add_test(tc, utf8_kept_c1_and_invalid_shown);
        suite_add_tcase(s, tc);
        return s;
}
