/* Unit tests for the snapshot rows tthc-alert keeps for its evaluator
 * (services/alert/snapfeed.c): when they are provably all there are, what
 * an evaluation takes, the cap, and partitions learned from the table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "snapfeed.h"
#include "util.h"

#define H TP_HOUR_MS

static struct tp_snaprow row(int64_t tick, int32_t partition,
                             const char *commune, int open)
{
        struct tp_snaprow r;
        memset(&r, 0, sizeof(r));
        r.tick = tick;
        r.last = TP_TS_NONE;
        r.partition = partition;
        r.open = open;
        strcpy(r.province, "01");
        strcpy(r.commune, commune);
        return r;
}

/* Partition offsets as the evaluator reads them: -1 has no state row. */
static void
test_snapfeed__complete_only_when_every_partition_is_ours(void **state)
{
        struct tp_snapfeed f;
        int64_t offsets[3] = {10, 20, -1};
        (void)state;
        tp_snapfeed_init(&f);
        /* nothing evaluated yet: the table answers */
        tp_snapfeed_wrote(&f, 0, TP_TS_NONE, 10);
        tp_snapfeed_wrote(&f, 1, 5 * H, 20);
        assert_false(tp_snapfeed_complete(&f, offsets, 3, TP_TS_NONE));
        /* partition 1's rows before 5 h are another load's */
        assert_false(tp_snapfeed_complete(&f, offsets, 3, 3 * H));
        assert_true(tp_snapfeed_complete(&f, offsets, 3, 4 * H));
        assert_true(tp_snapfeed_complete(&f, offsets, 3, 9 * H));
        /* someone else committed partition 0 since */
        offsets[0] = 11;
        assert_false(tp_snapfeed_complete(&f, offsets, 3, 9 * H));
        assert_false(tp_snapfeed_ours(&f, 0, 11));
        offsets[0] = 10;
        /* a state row for a partition this process never wrote */
        offsets[2] = 0;
        assert_false(tp_snapfeed_complete(&f, offsets, 3, 9 * H));
        /* a state row without an offset matches nothing */
        offsets[2] = -2;
        assert_false(tp_snapfeed_complete(&f, offsets, 3, 9 * H));
        tp_snapfeed_release(&f);
}

static void test_snapfeed__take_gives_the_range_in_order(void **state)
{
        struct tp_snapfeed f;
        struct tp_snaprow *out, r;
        size_t n;
        (void)state;
        tp_snapfeed_init(&f);
        r = row(3 * H, 1, "00004", 1);
        tp_snapfeed_add(&f, &r);
        r = row(1 * H, 0, "00001", 2); /* at keys_hi: dropped */
        tp_snapfeed_add(&f, &r);
        r = row(2 * H, 1, "00002", 3);
        tp_snapfeed_add(&f, &r);
        r = row(2 * H, 0, "00003", 4);
        tp_snapfeed_add(&f, &r);
        r = row(5 * H, 0, "00005", 5); /* after last: kept */
        tp_snapfeed_add(&f, &r);
        n = tp_snapfeed_take(&f, 1 * H, 3 * H, &out);
        assert_int_equal(n, 3);
        assert_int_equal(out[0].open, 4); /* 2 h, partition 0 */
        assert_int_equal(out[1].open, 3); /* 2 h, partition 1 */
        assert_int_equal(out[2].open, 1); /* 3 h */
        free(out);
        assert_int_equal(f.n, 1);
        assert_int_equal(f.rows[0].open, 5);
        n = tp_snapfeed_take(&f, 3 * H, 9 * H, &out);
        assert_int_equal(n, 1);
        assert_int_equal(out[0].tick, 5 * H);
        free(out);
        assert_int_equal(f.n, 0);
        tp_snapfeed_release(&f);
}

static void test_snapfeed__cap_drops_rows_until_evaluated_past(void **state)
{
        struct tp_snapfeed f;
        int64_t offsets[1] = {7};
        struct tp_snaprow r;
        (void)state;
        tp_snapfeed_init(&f);
        tp_snapfeed_wrote(&f, 0, TP_TS_NONE, 7);
        for (int i = 0; i <= TP_SNAPFEED_CAP; i++) {
                r = row((int64_t)(i % 50 + 10) * H, 0, "00001", i);
                tp_snapfeed_add(&f, &r);
        }
        /* the full feed went; the row that did not fit is kept */
        assert_int_equal(f.n, 1);
        assert_int_equal(f.lost, 59 * H);
        assert_false(tp_snapfeed_complete(&f, offsets, 1, 58 * H));
        assert_true(tp_snapfeed_complete(&f, offsets, 1, 59 * H));
        tp_snapfeed_release(&f);
}

static void test_snapfeed__learn_replaces_a_strangers_rows(void **state)
{
        struct tp_snapfeed f;
        int64_t offsets[2] = {30, 8};
        struct tp_snaprow r;
        (void)state;
        tp_snapfeed_init(&f);
        tp_snapfeed_wrote(&f, 0, TP_TS_NONE, 4);
        tp_snapfeed_wrote(&f, 1, TP_TS_NONE, 8);
        r = row(6 * H, 0, "00001", 1);
        tp_snapfeed_add(&f, &r);
        r = row(6 * H, 1, "00001", 2);
        tp_snapfeed_add(&f, &r);
        /* partition 0 was committed by another instance (offset 30) */
        assert_false(tp_snapfeed_ours(&f, 0, 30));
        assert_true(tp_snapfeed_ours(&f, 1, 8));
        assert_false(tp_snapfeed_complete(&f, offsets, 2, 5 * H));
        tp_snapfeed_learn(&f, 0, 30);
        assert_int_equal(f.n, 1);
        assert_int_equal(f.rows[0].partition, 1);
        assert_true(tp_snapfeed_ours(&f, 0, 30));
        assert_true(tp_snapfeed_complete(&f, offsets, 2, 5 * H));
        tp_snapfeed_release(&f);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(
                        test_snapfeed__complete_only_when_every_partition_is_ours),
                cmocka_unit_test(test_snapfeed__take_gives_the_range_in_order),
                cmocka_unit_test(
                        test_snapfeed__cap_drops_rows_until_evaluated_past),
                cmocka_unit_test(
                        test_snapfeed__learn_replaces_a_strangers_rows),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
