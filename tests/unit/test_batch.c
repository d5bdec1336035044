/* Unit tests for the batch bookkeeping of common/consumer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "consumer.h"

static void add(struct tp_batch *b, const char *topic, int32_t part,
                int64_t off, int64_t start)
{
        struct tp_msg msg;
        memset(&msg, 0, sizeof(msg));
        msg.topic = topic;
        msg.partition = part;
        msg.offset = off;
        tp_batch_add_msg(b, &msg, start);
}

static void test_batch__ranges_per_partition(void **state)
{
        struct tp_batch b;
        (void)state;
        tp_batch_init(&b);
        add(&b, "tthc.filings.01", 0, 10, 10);
        add(&b, "tthc.filings.01", 1, 0, TP_OFFSET_NONE);
        add(&b, "tthc.filings.01", 0, 11, 10);
        add(&b, "tthc.filings.79", 0, 5, 5);
        add(&b, "tthc.filings.01", 0, 14, 10); /* gap: compacted */
        assert_int_equal(b.n, 5);
        assert_int_equal(b.n_parts, 3);
        assert_int_equal(b.parts[0].start, 10);
        assert_int_equal(b.parts[0].next, 15);
        assert_int_equal(b.parts[1].start, TP_OFFSET_NONE);
        assert_int_equal(b.parts[1].next, 1);
        assert_string_equal(b.parts[2].topic, "tthc.filings.79");
        /* each range's first offset and message count */
        assert_int_equal(b.parts[0].first, 10);
        assert_int_equal(b.parts[0].n, 3);
        assert_int_equal(b.parts[1].first, 0);
        assert_int_equal(b.parts[1].n, 1);
        assert_int_equal(b.parts[2].first, 5);
        assert_int_equal(b.parts[2].n, 1);
        tp_batch_drop_partition(&b, "tthc.filings.01", 0);
        assert_int_equal(b.n, 2);
        assert_int_equal(b.n_parts, 2);
        tp_batch_reset(&b);
        assert_int_equal(b.n, 0);
        assert_int_equal(b.n_parts, 0);
        tp_batch_release(&b);
}

/* A national batch: runs of one partition from 160 partitions, the same
 * partition number in many topics, equal topic names in different
 * buffers, and adds after a partition was dropped from the middle and the
 * end. */
static void test_batch__runs_across_many_partitions(void **state)
{
        struct tp_batch b;
        char topics[40][32], copy[32];
        (void)state;
        tp_batch_init(&b);
        for (int t = 0; t < 40; t++)
                snprintf(topics[t], sizeof(topics[t]), "tthc.filings.%02d", t);
        for (int round = 0; round < 3; round++)
                for (int t = 0; t < 40; t++)
                        for (int p = 0; p < 4; p++)
                                for (int k = 0; k < 5; k++)
                                        add(&b, topics[t], p,
                                            100 * round + 10 * p + k, 7);
        assert_int_equal(b.n, 3 * 40 * 4 * 5);
        assert_int_equal(b.n_parts, 40 * 4);
        for (size_t i = 0; i < b.n_parts; i++) {
                int32_t p = b.parts[i].partition;
                assert_ptr_equal(b.parts[i].topic, topics[i / 4]);
                assert_int_equal(p, (int32_t)(i % 4));
                assert_int_equal(b.parts[i].next, 200 + 10 * p + 5);
                assert_int_equal(b.parts[i].first, 10 * p);
                assert_int_equal(b.parts[i].n, 3 * 5);
        }
        /* the same name in another buffer finds the same range */
        strcpy(copy, topics[39]);
        add(&b, copy, 3, 300, 7);
        assert_int_equal(b.n_parts, 40 * 4);
        assert_int_equal(b.parts[40 * 4 - 1].next, 301);
        /* dropped, then added again: a new range at the end */
        tp_batch_drop_partition(&b, topics[39], 3);
        assert_int_equal(b.n_parts, 40 * 4 - 1);
        add(&b, topics[39], 3, 400, 400);
        assert_int_equal(b.n_parts, 40 * 4);
        assert_int_equal(b.parts[40 * 4 - 1].start, 400);
        assert_int_equal(b.parts[40 * 4 - 1].first, 400);
        assert_int_equal(b.parts[40 * 4 - 1].n, 1);
        add(&b, topics[0], 0, 500, 7);
        assert_int_equal(b.parts[0].next, 501);
        /* dropped from the front: the others keep their ranges */
        tp_batch_drop_partition(&b, topics[0], 0);
        add(&b, topics[0], 1, 600, 7);
        assert_int_equal(b.n_parts, 40 * 4 - 1);
        assert_ptr_equal(b.parts[0].topic, topics[0]);
        assert_int_equal(b.parts[0].partition, 1);
        assert_int_equal(b.parts[0].next, 601);
        tp_batch_release(&b);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_batch__ranges_per_partition),
                cmocka_unit_test(test_batch__runs_across_many_partitions),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
