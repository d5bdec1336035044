/* snapfeed.c - the snapshot rows this process wrote, kept for the
 * province evaluator (snapfeed.h). */
#include "snapfeed.h"
#include "event.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

void tp_snapfeed_init(struct tp_snapfeed *f)
{
        memset(f, 0, sizeof(*f));
        f->lost = TP_TS_NONE;
}

void tp_snapfeed_release(struct tp_snapfeed *f)
{
        free(f->rows);
        free(f->parts);
        tp_snapfeed_init(f);
}

struct tp_snaprow *tp_snaprow_push(struct tp_snaprow **rows, size_t *n,
                                   size_t *cap)
{
        if (*n == *cap) {
                *cap = *cap ? 2 * *cap : 256;
                *rows = tp_xrealloc(*rows, *cap * sizeof(**rows));
        }
        memset(&(*rows)[*n], 0, sizeof(**rows));
        return &(*rows)[(*n)++];
}

void tp_snapfeed_add(struct tp_snapfeed *f, const struct tp_snaprow *r)
{
        if (f->n == TP_SNAPFEED_CAP) {
                /* dropped: the table answers until the evaluator passed
                 * the newest of them */
                for (size_t i = 0; i < f->n; i++)
                        if (f->rows[i].tick > f->lost)
                                f->lost = f->rows[i].tick;
                f->n = 0;
        }
        *tp_snaprow_push(&f->rows, &f->n, &f->cap) = *r;
}

void tp_snapfeed_wrote(struct tp_snapfeed *f, int32_t partition, int64_t from,
                       int64_t offset)
{
        struct tp_snapfeed_part *p;
        if (partition < 0)
                return;
        if ((size_t)partition >= f->n_parts) {
                size_t n = (size_t)partition + 1;
                f->parts = tp_xrealloc(f->parts, n * sizeof(*f->parts));
                memset(f->parts + f->n_parts, 0,
                       (n - f->n_parts) * sizeof(*f->parts));
                f->n_parts = n;
        }
        p = &f->parts[partition];
        p->known = 1;
        p->from = from;
        p->offset = offset;
}

int tp_snapfeed_ours(const struct tp_snapfeed *f, int32_t partition,
                     int64_t offset)
{
        return partition >= 0 && (size_t)partition < f->n_parts &&
               f->parts[partition].known &&
               f->parts[partition].offset == offset;
}

void tp_snapfeed_learn(struct tp_snapfeed *f, int32_t partition, int64_t offset)
{
        size_t kept = 0;
        for (size_t i = 0; i < f->n; i++)
                if (f->rows[i].partition != partition)
                        f->rows[kept++] = f->rows[i];
        f->n = kept;
        tp_snapfeed_wrote(f, partition, TP_TS_NONE, offset);
}

int tp_snapfeed_complete(const struct tp_snapfeed *f, const int64_t *offsets,
                         int n, int64_t keys_hi)
{
        if (keys_hi == TP_TS_NONE)
                return 0; /* everything at or before last: the table's */
        if (f->lost != TP_TS_NONE && f->lost > keys_hi)
                return 0;
        for (int i = 0; i < n; i++) {
                const struct tp_snapfeed_part *p =
                        (size_t)i < f->n_parts ? &f->parts[i] : NULL;
                if (offsets[i] == -1)
                        continue; /* no state row: the partition has no rows */
                if (!p || !p->known || p->offset != offsets[i])
                        return 0;
                if (p->from != TP_TS_NONE && p->from > keys_hi + TP_HOUR_MS)
                        return 0;
        }
        return 1;
}

int tp_snaprow_cmp(const void *a, const void *b)
{
        const struct tp_snaprow *x = a, *y = b;
        if (x->tick != y->tick)
                return x->tick < y->tick ? -1 : 1;
        if (x->partition != y->partition)
                return x->partition < y->partition ? -1 : 1;
        return strcmp(x->commune, y->commune);
}

size_t tp_snapfeed_take(struct tp_snapfeed *f, int64_t keys_hi, int64_t last,
                        struct tp_snaprow **out)
{
        size_t kept = 0, n_out = 0;
        *out = tp_xcalloc(f->n + 1, sizeof(**out));
        for (size_t i = 0; i < f->n; i++) {
                const struct tp_snaprow *r = &f->rows[i];
                if (r->tick > last)
                        f->rows[kept++] = *r;
                else if (keys_hi == TP_TS_NONE || r->tick > keys_hi)
                        (*out)[n_out++] = *r;
        }
        f->n = kept;
        qsort(*out, n_out, sizeof(**out), tp_snaprow_cmp);
        return n_out;
}
