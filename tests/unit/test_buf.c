/* Unit tests for common/buf: growth, NUL termination, reset, release,
 * binary bytes; and the COPY text rows built on it (common/pgutil). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "buf.h"
#include "event.h"
#include "pgutil.h"

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

static void test_buf__copy_text_fields(void **state)
{
        struct tp_copybuf cb;
        (void)state;
        tp_copybuf_init(&cb);
        tp_copybuf_str(&cb, "plain");
        tp_copybuf_str(&cb, "a\\b\tc\nd\re");
        tp_copybuf_str(&cb, NULL);
        tp_copybuf_str(&cb, "");
        tp_copybuf_end_row(&cb);
        tp_copybuf_int(&cb, INT64_MIN);
        tp_copybuf_int(&cb, 0);
        tp_copybuf_ts(&cb, 1751328000123LL);
        tp_copybuf_ts(&cb, TP_TS_NONE);
        tp_copybuf_bool(&cb, 1);
        tp_copybuf_end_row(&cb);
        assert_int_equal(cb.buf.len,
                         strlen("plain\ta\\\\b\\tc\\nd\\re\t\\N\t\n"
                                "-9223372036854775808\t0\t"
                                "2025-07-01 00:00:00.123+00\t\\N\tt\n"));
        assert_memory_equal(cb.buf.data,
                            "plain\ta\\\\b\\tc\\nd\\re\t\\N\t\n"
                            "-9223372036854775808\t0\t"
                            "2025-07-01 00:00:00.123+00\t\\N\tt\n",
                            cb.buf.len);
        tp_copybuf_release(&cb);
}

/* PostgreSQL's binary COPY: the file header once, then per row its field
 * count and each field as a length (-1: null) and big-endian bytes;
 * timestamps as microseconds since 2000-01-01 UTC. */
static void test_buf__copy_binary_fields(void **state)
{
        static const unsigned char want[] = {
                'P',  'G',  'C',  'O',  'P',  'Y',  '\n', 0xff, '\r',
                '\n', 0,                                     /* */
                0,    0,    0,    0,    0,    0,    0,    0, /* flags, extension
                                                              */
                0,    7,                           /* fields in row 1 */
                0,    0,    0,    2,    'a',  'b', /* "ab" */
                0xff, 0xff, 0xff, 0xff,            /* null */
                0,    0,    0,    4,    0xff, 0xff, 0xff, 0xfe, /* int4 -2 */
                0,    0,    0,    8,    0,    0,    0,    0,    0,
                0,    1,    2, /* int8 258 */
                0,    0,    0,    8,    0,    0,    0,    0,    0,
                0,    3,    0xe8,          /* 2000-01-01 +1 ms */
                0xff, 0xff, 0xff, 0xff,    /* TP_TS_NONE */
                0,    0,    0,    1,    1, /* true */
                0,    1,                   /* fields in row 2 */
                0,    0,    0,    0,       /* "" */
        };
        struct tp_copybuf cb;
        (void)state;
        tp_copybuf_init_binary(&cb);
        tp_copybuf_str(&cb, "ab");
        tp_copybuf_str(&cb, NULL);
        tp_copybuf_int4(&cb, -2);
        tp_copybuf_int(&cb, 258);
        tp_copybuf_ts(&cb, 946684800001LL);
        tp_copybuf_ts(&cb, TP_TS_NONE);
        tp_copybuf_bool(&cb, 1);
        tp_copybuf_end_row(&cb);
        tp_copybuf_str(&cb, "");
        tp_copybuf_end_row(&cb);
        assert_int_equal(cb.buf.len, sizeof(want));
        assert_memory_equal(cb.buf.data, want, sizeof(want));
        /* a reset buffer writes its header again with its next row */
        tp_copybuf_reset(&cb);
        tp_copybuf_int4(&cb, 1);
        tp_copybuf_end_row(&cb);
        assert_int_equal(cb.buf.len, 19 + 2 + 8);
        assert_memory_equal(cb.buf.data, want, 19);
        tp_copybuf_release(&cb);
        /* in text, int4 is int */
        tp_copybuf_init(&cb);
        tp_copybuf_int4(&cb, -2);
        tp_copybuf_end_row(&cb);
        assert_memory_equal(cb.buf.data, "-2\n", 3);
        tp_copybuf_release(&cb);
}

/* A uuid travels as its 16 bytes in binary, as its text otherwise. */
static void test_buf__copy_uuid(void **state)
{
        static const unsigned char want[] = {
                0,    0,    0,    16,   0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
                0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xEE, 0xff};
        const char *id = "00112233-4455-6677-8899-aabbccddEEff";
        struct tp_copybuf cb;
        (void)state;
        tp_copybuf_init_binary(&cb);
        tp_copybuf_uuid(&cb, id);
        tp_copybuf_end_row(&cb);
        assert_int_equal(cb.buf.len, 19 + 2 + sizeof(want));
        assert_memory_equal(cb.buf.data + 21, want, sizeof(want));
        tp_copybuf_release(&cb);
        tp_copybuf_init(&cb);
        tp_copybuf_uuid(&cb, id);
        tp_copybuf_end_row(&cb);
        assert_int_equal(cb.buf.len, 37);
        assert_memory_equal(cb.buf.data, id, 36);
        tp_copybuf_release(&cb);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_buf__text_grows_and_stays_terminated),
                cmocka_unit_test(test_buf__binary_bytes),
                cmocka_unit_test(test_buf__copy_text_fields),
                cmocka_unit_test(test_buf__copy_binary_fields),
                cmocka_unit_test(test_buf__copy_uuid),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
