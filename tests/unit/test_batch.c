/* Unit tests for the batch bookkeeping of common/consumer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
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
        tp_batch_drop_partition(&b, "tthc.filings.01", 0);
        assert_int_equal(b.n, 2);
        assert_int_equal(b.n_parts, 2);
        tp_batch_reset(&b);
        assert_int_equal(b.n, 0);
        assert_int_equal(b.n_parts, 0);
        tp_batch_release(&b);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_batch__ranges_per_partition),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
