/* arena.h - bytes handed out piece by piece and given back all at once.
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

#endif
