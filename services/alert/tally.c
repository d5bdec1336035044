/* tally.c - a commune's snapshot figures kept as dossiers change (see
 * tally.h). */
#include "tally.h"

#include "util.h"

#include <stdlib.h>
#include <string.h>

void tp_tally_share(const struct tp_workcal *cal, const struct tp_dossier *d,
                    struct tp_share *s)
{
        memset(s, 0, sizeof(*s));
        s->day = TP_TALLY_NEVER;
        if (!tp_dossier_is_open(d))
                return;
        if (d->status == TP_DS_SUBMITTED) {
                /* a working day in [submitted day + 1, tick day) */
                if (d->channel != TP_CH_ONLINE || !d->commune_code ||
                    d->submitted_at == TP_TS_NONE)
                        return;
                s->commune = d->commune_code;
                s->intake = 1;
                s->day = tp_workcal_next(cal, tp_vn_day(d->submitted_at) + 1);
                return;
        }
        if (!d->handling_commune_code)
                return;
        s->commune = d->handling_commune_code;
        s->paused = d->status == TP_DS_PAUSED;
        s->day = tp_dossier_overdue_after(d);
}

/* The index of day in the bag's waiting list, or where it would go. */
static size_t tp_tally_bag_find(const struct tp_tally_bag *b, int64_t day)
{
        size_t lo = 0, hi = b->n;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (b->wait[mid].day < day)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

static void tp_tally_bag_add(struct tp_tally_bag *b, int64_t share_day,
                             int64_t today, int sign)
{
        size_t i;
        if (share_day == TP_TALLY_NEVER)
                return;
        if (share_day < today) {
                b->passed += sign;
                return;
        }
        i = tp_tally_bag_find(b, share_day);
        if (i < b->n && b->wait[i].day == share_day) {
                b->wait[i].n += sign;
                if (b->wait[i].n == 0) {
                        memmove(b->wait + i, b->wait + i + 1,
                                (b->n - i - 1) * sizeof(*b->wait));
                        b->n--;
                }
                return;
        }
        /* a share taken out was put in first: sign is 1 here */
        if (b->n == b->cap) {
                b->cap = b->cap ? 2 * b->cap : 4;
                b->wait = tp_xrealloc(b->wait, b->cap * sizeof(*b->wait));
        }
        memmove(b->wait + i + 1, b->wait + i, (b->n - i) * sizeof(*b->wait));
        b->wait[i].day = share_day;
        b->wait[i].n = sign;
        b->n++;
}

static int tp_tally_bag_pass(struct tp_tally_bag *b, int64_t today)
{
        size_t k = 0;
        int before = b->passed;
        while (k < b->n && b->wait[k].day < today)
                b->passed += b->wait[k++].n;
        if (k == 0)
                return 0;
        memmove(b->wait, b->wait + k, (b->n - k) * sizeof(*b->wait));
        b->n -= k;
        return b->passed != before;
}

void tp_tally_add(struct tp_tally *t, const struct tp_share *s, int64_t day,
                  int sign)
{
        if (s->intake) {
                tp_tally_bag_add(&t->intake, s->day, day, sign);
                return;
        }
        t->open += sign;
        t->paused += s->paused ? sign : 0;
        tp_tally_bag_add(&t->overdue, s->day, day, sign);
}

int tp_tally_pass(struct tp_tally *t, int64_t day)
{
        int a = tp_tally_bag_pass(&t->overdue, day);
        int b = tp_tally_bag_pass(&t->intake, day);
        return a || b;
}

int tp_tally_overdue(const struct tp_tally *t)
{
        return t->overdue.passed;
}

int tp_tally_intake(const struct tp_tally *t)
{
        return t->intake.passed;
}

void tp_tally_release(struct tp_tally *t)
{
        free(t->overdue.wait);
        free(t->intake.wait);
        memset(t, 0, sizeof(*t));
}
