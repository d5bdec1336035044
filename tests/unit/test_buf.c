/* Unit tests for common/buf: growth, NUL termination, reset, release,
 * binary bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "buf.h"

static void test_buf__text_grows_and_stays_terminated(void **state)
{
        struct tp_buf b = {0};
        (void)state;
        tp_buf_puts(&b, "");
        assert_non_null(b.data);
        assert_string_equal(b.data, "");
        for (int i = 0; i < 1000; i++)
                tp_buf_printf(&b, "%d,", i % 10);
        tp_buf_putc(&b, '!');
        assert_int_equal(b.len, 2001);
        assert_int_equal(strlen(b.data), 2001);
        assert_true(b.cap > b.len);
        assert_memory_equal(b.data, "0,1,2,", 6);
        assert_int_equal(b.data[2000], '!');
        tp_buf_reset(&b);
        assert_int_equal(b.len, 0);
        assert_string_equal(b.data, "");
        tp_buf_release(&b);
        assert_null(b.data);
        assert_int_equal(b.cap, 0);
}

static void test_buf__binary_bytes(void **state)
{
        struct tp_buf b = {0};
        const unsigned char bytes[] = {0, 1, 0xff, 0};
        (void)state;
        tp_buf_add(&b, bytes, sizeof(bytes));
        tp_buf_add(&b, bytes, sizeof(bytes));
        assert_int_equal(b.len, 8);
        assert_memory_equal(b.data + 4, bytes, 4);
        assert_int_equal(b.data[8], '\0');
        tp_buf_release(&b);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_buf__text_grows_and_stays_terminated),
                cmocka_unit_test(test_buf__binary_bytes),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
