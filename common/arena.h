/* arena.h - bytes handed out piece by piece and given back all at once;
 * strings packed into one block (an arena's piece, or the heap's).
 *
 * Blocks of 1 MiB (larger for a larger piece), mapped apart from
 * malloc's heap (util's tp_xmap): they come and go with every batch or
 * chunk, and from the heap they left holes between the consumers'
 * long-lived allocations, so a process grew batch after batch. Pieces are
 * not aligned: for bytes and strings only. Not thread-safe.
 *
 *   struct tp_arena a = {0};
 *   p = tp_arena_alloc(&a, n);    valid until tp_arena_reset(&a)
 */
#ifndef TP_ARENA_H
#define TP_ARENA_H

#include <stddef.h>

struct tp_arena_block;

struct tp_arena {
        struct tp_arena_block *blocks; /* the newest first, owned */
};

/* n bytes (unaligned, not zeroed) owned by a until it is reset. */
void *tp_arena_alloc(struct tp_arena *a, size_t n);
/* Moves the blocks of from (and the pieces in them) to a; from is left
 * empty. */
void tp_arena_take(struct tp_arena *a, struct tp_arena *from);
/* Gives back every block: every piece of a is invalid afterwards. */
void tp_arena_reset(struct tp_arena *a);

/* len bytes at p (not NUL-terminated); p NULL: the string is null. */
struct tp_strspan {
        const char *p;
        size_t len;
};

/* The span of a NUL-terminated string (s NULL: a null span). */
struct tp_strspan tp_arena_span(const char *s);

/* Copies the n spans, each NUL-terminated, into one piece of a, or, when
 * a is NULL, into one new heap block, and points the k-th string field
 * of base (the char * at offset at[k]) at the copy of spans[k] (NULL for
 * a null span). Returns the heap block (the caller's to free; it holds
 * every string) or NULL when a was given. Spans may point into the block
 * a field held before: the caller frees that one after. A struct of six
 * or nine strings costs one malloc instead of six or nine, and one
 * free. */
char *tp_arena_pack(struct tp_arena *a, void *base, const size_t at[],
                    const struct tp_strspan spans[], size_t n);

#endif
