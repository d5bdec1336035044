/* Unit tests for tthc-alert's commune figures kept as dossiers change
 * (services/alert/tally.c) against a count over every dossier at each
 * day, as the hourly snapshot used to take them, and for the queue of
 * closed dossiers leaving memory (services/alert/expiry.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dossier.h"
#include "eval.h"
#include "expiry.h"
#include "tally.h"
#include "util.h"

#define N_DOSSIERS 300
#define N_COMMUNES 4

static const char *const communes[N_COMMUNES] = {"00004", "00007", "00010",
                                                 "00013"};

/* 2025-09-01, a Monday, and the National Day holiday after it. */
static int64_t day0(void)
{
        return tp_vn_day(1756684800000LL);
}

static void calendar(struct tp_workcal *cal)
{
        tp_workcal_init(cal);
        tp_workcal_add(cal, day0() + 1, "day_off");
        tp_workcal_add(cal, day0() + 2, "day_off");
        tp_workcal_add(cal, day0() + 12, "worked_saturday");
        tp_workcal_seal(cal);
}

/* The figures of commune at a tick of day, counted over every dossier
 * (the rule tally.h states, as tthc-alert's snapshot counted it). */
struct figures {
        int open, paused, overdue, intake;
};

static struct figures count_all(const struct tp_workcal *cal,
                                const struct tp_dossier *ds, size_t n,
                                const char *commune, int64_t day)
{
        struct figures f = {0, 0, 0, 0};
        for (size_t i = 0; i < n; i++) {
                const struct tp_dossier *d = &ds[i];
                if (!tp_dossier_is_open(d))
                        continue;
                if (d->status == TP_DS_SUBMITTED) {
                        if (d->channel == TP_CH_ONLINE && d->commune_code &&
                            d->submitted_at != TP_TS_NONE &&
                            strcmp(d->commune_code, commune) == 0 &&
                            tp_workcal_between(cal,
                                               tp_vn_day(d->submitted_at) + 1,
                                               day) > 0)
                                f.intake++;
                        continue;
                }
                if (!d->handling_commune_code ||
                    strcmp(d->handling_commune_code, commune) != 0)
                        continue;
                f.open++;
                f.paused += d->status == TP_DS_PAUSED;
                f.overdue += tp_dossier_is_overdue(d, day);
        }
        return f;
}

/* A random state for d, around day. */
static void randomize(struct tp_dossier *d, int64_t day)
{
        static const enum tp_dstatus st[] = {TP_DS_SUBMITTED,  TP_DS_SUBMITTED,
                                             TP_DS_PROCESSING, TP_DS_PROCESSING,
                                             TP_DS_PAUSED,     TP_DS_RESOLVED,
                                             TP_DS_WITHDRAWN};
        int64_t base = (day - 3) * TP_DAY_MS;
        d->status = st[rand() % 7];
        d->channel = rand() % 3 ? TP_CH_ONLINE : TP_CH_IN_PERSON;
        d->commune_code =
                rand() % 10 ? (char *)communes[rand() % N_COMMUNES] : NULL;
        d->handling_commune_code =
                rand() % 8 ? (char *)communes[rand() % N_COMMUNES] : NULL;
        d->submitted_at =
                rand() % 10 ? base + rand() % (6 * TP_DAY_MS) : TP_TS_NONE;
        d->original_due_at =
                rand() % 5 ? base + rand() % (12 * TP_DAY_MS) : TP_TS_NONE;
}

static void check_all(const struct tp_workcal *cal, struct tp_dossier *ds,
                      struct tp_tally *t, int64_t day)
{
        for (int c = 0; c < N_COMMUNES; c++) {
                struct figures f =
                        count_all(cal, ds, N_DOSSIERS, communes[c], day);
                char where[64];
                snprintf(where, sizeof(where), "commune %s day %lld",
                         communes[c], (long long)(day - day0()));
                if (t[c].open != f.open || t[c].paused != f.paused ||
                    tp_tally_overdue(&t[c]) != f.overdue ||
                    tp_tally_intake(&t[c]) != f.intake)
                        fail_msg("%s: kept %d/%d/%d/%d, counted %d/%d/%d/%d",
                                 where, t[c].open, t[c].paused,
                                 tp_tally_overdue(&t[c]),
                                 tp_tally_intake(&t[c]), f.open, f.paused,
                                 f.overdue, f.intake);
        }
}

static struct tp_tally *tally_of(struct tp_tally *t, const struct tp_share *s)
{
        for (int c = 0; c < N_COMMUNES; c++)
                if (strcmp(s->commune, communes[c]) == 0)
                        return &t[c];
        return NULL;
}

static void count(struct tp_tally *t, const struct tp_share *s, int64_t day,
                  int sign)
{
        if (s->commune)
                tp_tally_add(tally_of(t, s), s, day, sign);
}

/* Dossiers change at random between the ticks of a month of days (some
 * days skipped, as a quiet partition's are): after each change and at
 * each day, the kept figures equal a count over every dossier. */
static void test_tally__equals_a_count_over_every_dossier(void **state)
{
        struct tp_workcal cal;
        struct tp_dossier *ds = calloc(N_DOSSIERS, sizeof(*ds));
        struct tp_tally t[N_COMMUNES];
        int64_t day = INT64_MIN;
        (void)state;
        srand(20261206);
        calendar(&cal);
        memset(t, 0, sizeof(t));
        for (size_t i = 0; i < N_DOSSIERS; i++) {
                struct tp_share s;
                randomize(&ds[i], day0());
                tp_tally_share(&cal, &ds[i], &s);
                count(t, &s, day, 1);
        }
        for (int64_t k = 0; k < 30; k += 1 + rand() % 2) {
                int changes = rand() % 60;
                day = day0() + k;
                for (int c = 0; c < N_COMMUNES; c++)
                        tp_tally_pass(&t[c], day);
                check_all(&cal, ds, t, day);
                for (int j = 0; j < changes; j++) {
                        struct tp_dossier *d = &ds[rand() % N_DOSSIERS];
                        struct tp_share was, now;
                        tp_tally_share(&cal, d, &was);
                        count(t, &was, day, -1);
                        randomize(d, day);
                        tp_tally_share(&cal, d, &now);
                        count(t, &now, day, 1);
                }
                check_all(&cal, ds, t, day);
        }
        for (int c = 0; c < N_COMMUNES; c++)
                tp_tally_release(&t[c]);
        tp_workcal_release(&cal);
        free(ds);
}

/* The intake rule across a holiday: submitted on Monday 1 September, the
 * next working day is Thursday 4 (2 and 3 are off): counted from the
 * ticks of Friday 5 on, not before. */
static void test_tally__intake_waits_for_a_working_day(void **state)
{
        struct tp_workcal cal;
        struct tp_dossier d;
        struct tp_share s;
        struct tp_tally t;
        (void)state;
        calendar(&cal);
        memset(&d, 0, sizeof(d));
        memset(&t, 0, sizeof(t));
        d.status = TP_DS_SUBMITTED;
        d.channel = TP_CH_ONLINE;
        d.commune_code = (char *)communes[0];
        d.submitted_at = 1756684800000LL + 3 * TP_HOUR_MS;
        d.original_due_at = TP_TS_NONE;
        tp_tally_share(&cal, &d, &s);
        assert_int_equal(s.day, day0() + 3);
        tp_tally_add(&t, &s, day0(), 1);
        for (int k = 1; k <= 3; k++) {
                assert_int_equal(tp_tally_pass(&t, day0() + k), 0);
                assert_int_equal(tp_tally_intake(&t), 0);
        }
        assert_int_equal(tp_tally_pass(&t, day0() + 4), 1);
        assert_int_equal(tp_tally_intake(&t), 1);
        assert_int_equal(t.open, 0);
        /* received: it leaves the backlog */
        tp_tally_add(&t, &s, day0() + 4, -1);
        assert_int_equal(tp_tally_intake(&t), 0);
        tp_tally_release(&t);
        tp_workcal_release(&cal);
}

/* Keys come out earliest first, only before the tick given, each as many
 * times as pushed; clear frees what is left. Each key names its time. */
static void test_expiry__pops_in_order_before_the_tick(void **state)
{
        struct tp_expiry q;
        long last = -1;
        char key[16], *k;
        size_t popped = 0;
        (void)state;
        srand(7);
        tp_expiry_init(&q);
        assert_null(tp_expiry_pop(&q, INT64_MAX));
        for (int i = 0; i < 1000; i++) {
                int at = rand() % 5000;
                snprintf(key, sizeof(key), "%d", at);
                tp_expiry_push(&q, at, key);
        }
        tp_expiry_push(&q, INT64_MIN, "-1");
        assert_int_equal(tp_expiry_count(&q), 1001);
        k = tp_expiry_pop(&q, INT64_MIN + 1);
        assert_string_equal(k, "-1");
        free(k);
        while ((k = tp_expiry_pop(&q, 2500))) {
                long at = strtol(k, NULL, 10);
                free(k);
                popped++;
                assert_true(at >= last);
                assert_true(at < 2500);
                last = at;
        }
        assert_true(q.n > 0 && q.heap[0].at >= 2500);
        assert_int_equal(popped + tp_expiry_count(&q), 1000);
        assert_true(popped > 300 && popped < 700);
        tp_expiry_clear(&q);
        assert_int_equal(tp_expiry_count(&q), 0);
        assert_null(tp_expiry_pop(&q, INT64_MAX));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_tally__equals_a_count_over_every_dossier),
                cmocka_unit_test(test_tally__intake_waits_for_a_working_day),
                cmocka_unit_test(test_expiry__pops_in_order_before_the_tick),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
