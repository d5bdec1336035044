/* arena.c - see arena.h. */
#include "arena.h"
#include "util.h"

#include <string.h>

struct tp_arena_block {
        struct tp_arena_block *next;
        size_t used, cap; /* cap: bytes of data; the mapping is larger */
        unsigned char data[];
};

#define TP_ARENA_BLOCK (1024 * 1024)

void *tp_arena_alloc(struct tp_arena *a, size_t n)
{
        struct tp_arena_block *k = a->blocks;
        if (!k || k->cap - k->used < n) {
                size_t cap = n > TP_ARENA_BLOCK - sizeof(*k)
                                     ? n
                                     : TP_ARENA_BLOCK - sizeof(*k);
                k = tp_xmap(sizeof(*k) + cap);
                k->next = a->blocks;
                k->used = 0;
                k->cap = cap;
                a->blocks = k;
        }
        k->used += n;
        return k->data + k->used - n;
}

void tp_arena_take(struct tp_arena *a, struct tp_arena *from)
{
        struct tp_arena_block **tail = &from->blocks;
        while (*tail)
                tail = &(*tail)->next;
        *tail = a->blocks;
        a->blocks = from->blocks;
        from->blocks = NULL;
}

struct tp_strspan tp_arena_span(const char *s)
{
        struct tp_strspan sp = {s, s ? strlen(s) : 0};
        return sp;
}

char *tp_arena_pack(struct tp_arena *a, void *base, const size_t at[],
                    const struct tp_strspan spans[], size_t n)
{
        size_t total = 0;
        char *block, *to;

        for (size_t k = 0; k < n; k++)
                if (spans[k].p)
                        total += spans[k].len + 1;
        block = a ? NULL : tp_xmalloc(total ? total : 1);
        to = a ? tp_arena_alloc(a, total) : block;
        for (size_t k = 0; k < n; k++) {
                char **field = (char **)((char *)base + at[k]);
                if (!spans[k].p) {
                        *field = NULL;
                        continue;
                }
                memcpy(to, spans[k].p, spans[k].len);
                to[spans[k].len] = '\0';
                *field = to;
                to += spans[k].len + 1;
        }
        return block;
}

void tp_arena_reset(struct tp_arena *a)
{
        while (a->blocks) {
                struct tp_arena_block *next = a->blocks->next;
                tp_xunmap(a->blocks, sizeof(*a->blocks) + a->blocks->cap);
                a->blocks = next;
        }
}
