/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Integers above INT64_MAX in config.json.
 *
 * jansson stores integers as int64 and refuses larger literals ("too big
 * integer"), but OCI has uint64 fields that real engines fill with 2^64-1:
 * `docker run --ulimit memlock=-1` writes rlimits with hard
 * 18446744073709551615 (RLIM_INFINITY), and seccomp argument masks may use
 * the top bit. When, and only when, decoding fails that way, such literals
 * are rewritten into marker strings ("\u0001u64:<digits>") that the uint64
 * getters accept and every other getter refuses. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/spec/internal.h"

#define INT64_MAX_DIGITS  "9223372036854775807"
#define UINT64_MAX_DIGITS "18446744073709551615"

/* Compares two digit runs without leading zeros as numbers. */
static int cmp_digits(const char *a, size_t na, const char *b)
{
        size_t nb = strlen(b);
        if (na != nb)
                return na < nb ? -1 : 1;
        return memcmp(a, b, na);
}

static bool is_number_char(char c)
{
        return (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-';
}

/* True when json[i..i+n) is a whole, non-negative integer literal in
 * (INT64_MAX, UINT64_MAX]. */
static bool is_big_uint(const char *json, size_t len, size_t i, size_t n)
{
        if (i > 0 && is_number_char(json[i - 1]))
                return false; /* part of a fraction, exponent or negative number */
        if (i + n < len && is_number_char(json[i + n]))
                return false;
        if (json[i] == '0')
                return false; /* leading zero: invalid JSON, let jansson say so */
        return cmp_digits(json + i, n, INT64_MAX_DIGITS) > 0 &&
               cmp_digits(json + i, n, UINT64_MAX_DIGITS) <= 0;
}

static size_t digit_run(const char *json, size_t len, size_t i)
{
        size_t n = 0;
        while (i + n < len && json[i + n] >= '0' && json[i + n] <= '9')
                n++;
        return n;
}

char *spec_widen_big_ints(const char *json, size_t len, size_t *out_len)
{
        /* Each rewrite adds the quotes and the 10-byte "\u0001u64:". */
        size_t cap = 2 * len + 16, o = 0;
        bool in_str = false, changed = false;
        char *out = malloc(cap);

        if (!out)
                return NULL;
        for (size_t i = 0; i < len; i++) {
                char c = json[i];
                size_t n;
                if (in_str) {
                        out[o++] = c;
                        if (c == '\\' && i + 1 < len)
                                out[o++] = json[++i];
                        else if (c == '"')
                                in_str = false;
                        continue;
                }
                if (c >= '0' && c <= '9' && (n = digit_run(json, len, i)) <= 20 &&
                    is_big_uint(json, len, i, n)) {
                        memcpy(out + o, "\"\\u0001u64:", 11);
                        memcpy(out + o + 11, json + i, n);
                        out[o + 11 + n] = '"';
                        o += 12 + n;
                        i += n - 1;
                        changed = true;
                        continue;
                }
                in_str = c == '"';
                out[o++] = c;
        }
        if (!changed) {
                free(out);
                return NULL;
        }
        *out_len = o;
        return out;
}

bool spec_is_u64_mark(json_t *v)
{
        return json_is_string(v) && strncmp(json_string_value(v), SPEC_U64_MARK, strlen(SPEC_U64_MARK)) == 0;
}

uint64_t spec_u64_mark_value(json_t *v)
{
        return strtoull(json_string_value(v) + strlen(SPEC_U64_MARK), NULL, 10);
}

bool spec_is_string(json_t *v)
{
        return json_is_string(v) && !spec_is_u64_mark(v);
}
