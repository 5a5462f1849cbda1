/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A small open-addressing string set: which paths a layer wrote (for
 * whiteouts) and which inodes a walk already counted (for disk usage). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/vps/template/internal.h"

static size_t hash(const char *s)
{
        size_t h = 1469598103934665603ULL; /* FNV-1a */
        for (; *s; s++)
                h = (h ^ (unsigned char)*s) * 1099511628211ULL;
        return h;
}

static size_t find_slot(char **slots, size_t cap, const char *str)
{
        size_t i = hash(str) & (cap - 1);
        while (slots[i] && strcmp(slots[i], str))
                i = (i + 1) & (cap - 1);
        return i;
}

static int grow(struct tmpl_strset *s)
{
        size_t cap = s->cap ? s->cap * 2 : 64;
        char **slots = calloc(cap, sizeof(*slots));
        if (!slots)
                return -ENOMEM;
        for (size_t i = 0; i < s->cap; i++)
                if (s->slots[i])
                        slots[find_slot(slots, cap, s->slots[i])] = s->slots[i];
        free(s->slots);
        s->slots = slots;
        s->cap = cap;
        return 0;
}

/* A slot holds "key\0value": strcmp() compares the key part only. */
int tmpl_strset_put(struct tmpl_strset *s, const char *key, const char *value)
{
        /* Keep the load under 1/2 so probe chains stay short. */
        if ((s->n + 1) * 2 > s->cap && grow(s) < 0)
                return -ENOMEM;
        size_t i = find_slot(s->slots, s->cap, key);
        if (s->slots[i])
                return 0;
        size_t klen = strlen(key), vlen = value ? strlen(value) : 0;
        char *slot = malloc(klen + vlen + 2);
        if (!slot)
                return -ENOMEM;
        memcpy(slot, key, klen + 1);
        memcpy(slot + klen + 1, value ? value : "", vlen + 1);
        s->slots[i] = slot;
        s->n++;
        return 1;
}

int tmpl_strset_add(struct tmpl_strset *s, const char *str)
{
        return tmpl_strset_put(s, str, NULL);
}

const char *tmpl_strset_get(const struct tmpl_strset *s, const char *key)
{
        if (!s->cap)
                return NULL;
        const char *slot = s->slots[find_slot(s->slots, s->cap, key)];
        return slot ? slot + strlen(slot) + 1 : NULL;
}

bool tmpl_strset_has(const struct tmpl_strset *s, const char *str)
{
        return s->cap && s->slots[find_slot(s->slots, s->cap, str)];
}

void tmpl_strset_free(struct tmpl_strset *s)
{
        for (size_t i = 0; i < s->cap; i++)
                free(s->slots[i]);
        free(s->slots);
        *s = (struct tmpl_strset){0};
}
