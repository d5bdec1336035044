/* expiry.h - the closed dossiers of a partition by the tick at which they
 * leave memory (their tombstone window over, state.c), so that a tick
 * finds the ones to evict without walking every resident dossier.
 *
 * A min-heap of (at, key): tp_expiry_pop gives the keys whose at is
 * before a tick, earliest first. A key may be pushed again when its
 * dossier changes; the caller checks each key it pops against the
 * dossier as it is then (gone, reopened, closed later: not evicted). */
#ifndef TP_ALERT_EXPIRY_H
#define TP_ALERT_EXPIRY_H

#include <stddef.h>
#include <stdint.h>

struct tp_expiry_item {
        int64_t at;
        char *key; /* owned by the queue */
};

struct tp_expiry {
        struct tp_expiry_item *heap;
        size_t n, cap;
};

void tp_expiry_init(struct tp_expiry *q);
/* Frees every key and the heap; q is empty and usable again. */
void tp_expiry_clear(struct tp_expiry *q);
/* Queues a copy of key to leave at the first tick after at. */
void tp_expiry_push(struct tp_expiry *q, int64_t at, const char *key);
/* The earliest key whose at is before tick, or NULL: owned by the caller
 * (free it). */
char *tp_expiry_pop(struct tp_expiry *q, int64_t tick);
size_t tp_expiry_count(const struct tp_expiry *q);

#endif
