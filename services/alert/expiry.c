/* expiry.c - closed dossiers by the tick they leave memory (expiry.h). */
#include "expiry.h"

#include "util.h"

#include <stdlib.h>
#include <string.h>

void tp_expiry_init(struct tp_expiry *q)
{
        memset(q, 0, sizeof(*q));
}

void tp_expiry_clear(struct tp_expiry *q)
{
        for (size_t i = 0; i < q->n; i++)
                free(q->heap[i].key);
        free(q->heap);
        tp_expiry_init(q);
}

static void tp_expiry_swap(struct tp_expiry *q, size_t a, size_t b)
{
        struct tp_expiry_item t = q->heap[a];
        q->heap[a] = q->heap[b];
        q->heap[b] = t;
}

void tp_expiry_push(struct tp_expiry *q, int64_t at, const char *key)
{
        size_t i = q->n;
        if (q->n == q->cap) {
                q->cap = q->cap ? 2 * q->cap : 16;
                q->heap = tp_xrealloc(q->heap, q->cap * sizeof(*q->heap));
        }
        q->heap[q->n].at = at;
        q->heap[q->n].key = tp_xstrdup(key);
        q->n++;
        while (i > 0 && q->heap[(i - 1) / 2].at > q->heap[i].at) {
                tp_expiry_swap(q, i, (i - 1) / 2);
                i = (i - 1) / 2;
        }
}

char *tp_expiry_pop(struct tp_expiry *q, int64_t tick)
{
        char *key;
        size_t i = 0;
        if (q->n == 0 || q->heap[0].at >= tick)
                return NULL;
        key = q->heap[0].key;
        q->heap[0] = q->heap[--q->n];
        for (;;) {
                size_t l = 2 * i + 1, r = l + 1, m = i;
                if (l < q->n && q->heap[l].at < q->heap[m].at)
                        m = l;
                if (r < q->n && q->heap[r].at < q->heap[m].at)
                        m = r;
                if (m == i)
                        break;
                tp_expiry_swap(q, i, m);
                i = m;
        }
        return key;
}

size_t tp_expiry_count(const struct tp_expiry *q)
{
        return q->n;
}
