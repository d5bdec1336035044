/* Unit tests for common/utf8. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "utf8.h"

static void test_utf8__valid_accepts_vietnamese(void **state)
{
        const char *s = "Hà Nội, Thừa Thiên Huế \xf0\x9f\x98\x80";
        (void)state;
        assert_true(tp_utf8_valid(s, strlen(s)));
        assert_true(tp_utf8_valid("", 0));
}

static void test_utf8__valid_refuses_malformed(void **state)
{
        (void)state;
        assert_false(tp_utf8_valid("\xc3", 1));             /* truncated */
        assert_false(tp_utf8_valid("a\0b", 3));             /* NUL */
        assert_false(tp_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
        assert_false(tp_utf8_valid("\xc0\xaf", 2));         /* overlong */
        assert_false(tp_utf8_valid("\xe0\x80\xaf", 3));     /* overlong */
        assert_false(tp_utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
        assert_false(tp_utf8_valid("\xff", 1));
        assert_false(tp_utf8_valid("\x80", 1)); /* lone continuation */
        assert_false(tp_utf8_valid("\xe1\x80", 2));
}

static void test_utf8__char_len_counts_bytes(void **state)
{
        (void)state;
        assert_int_equal(tp_utf8_char_len("a", 1), 1);
        assert_int_equal(tp_utf8_char_len("\xc3\xa9", 2), 2);
        assert_int_equal(tp_utf8_char_len("\xe1\xbb\x99", 3), 3);
        assert_int_equal(tp_utf8_char_len("\xf0\x9f\x98\x80", 4), 4);
        assert_int_equal(tp_utf8_char_len("\xf0\x9f\x98", 3), 0);
        assert_int_equal(tp_utf8_char_len("", 0), 0);
}

static void test_utf8__copy_cut_ends_on_a_character(void **state)
{
        char buf[5];
        (void)state;
        /* "aé" is 3 bytes, "aéé" 5: the second é does not fit in 4. */
        assert_int_equal(
                tp_utf8_copy_cut(buf, sizeof(buf), "a\xc3\xa9\xc3\xa9"), 3);
        assert_string_equal(buf, "a\xc3\xa9");
        assert_int_equal(tp_utf8_copy_cut(buf, sizeof(buf), "abcd"), 4);
        assert_string_equal(buf, "abcd");
        assert_int_equal(tp_utf8_copy_cut(buf, 2, "\xc3\xa9"), 0);
        assert_string_equal(buf, "");
        assert_int_equal(tp_utf8_copy_cut(buf, 0, "abc"), 0);
}

static void test_utf8__prefix_len_for_precision(void **state)
{
        (void)state;
        assert_int_equal(tp_utf8_prefix_len("a\xc3\xa9\xc3\xa9", 4), 3);
        assert_int_equal(tp_utf8_prefix_len("abc", 100), 3);
        assert_int_equal(tp_utf8_prefix_len("\xe1\xbb\x99", 2), 0);
}

static void test_utf8__escape_keeps_valid_text(void **state)
{
        char buf[64];
        (void)state;
        assert_int_equal(tp_utf8_escape(buf, sizeof(buf), "Hà Nội", 9), 0);
        assert_string_equal(buf, "Hà Nội");
}

static void test_utf8__escape_writes_invalid_bytes_as_hex(void **state)
{
        char buf[64];
        (void)state;
        assert_int_equal(tp_utf8_escape(buf, sizeof(buf), "a\xff\xc3z\n\\", 6),
                         0);
        assert_string_equal(buf, "a\\xff\\xc3z\\x0a\\x5c");
        assert_true(tp_utf8_valid(buf, strlen(buf)));
        assert_int_equal(tp_utf8_escape(buf, sizeof(buf), "a\0b", 3), 0);
        assert_string_equal(buf, "a\\x00b");
}

static void test_utf8__escape_cuts_with_dots_on_a_boundary(void **state)
{
        char buf[8];
        (void)state;
        /* 7 bytes of room: "ab" + "é" (2) would leave 3 for "...". */
        assert_int_equal(
                tp_utf8_escape(buf, sizeof(buf), "ab\xc3\xa9\xc3\xa9xyz", 9),
                1);
        assert_string_equal(buf, "ab\xc3\xa9...");
        /* An escape is never split. */
        assert_int_equal(tp_utf8_escape(buf, sizeof(buf), "\xff\xff\xff", 3),
                         1);
        assert_string_equal(buf, "\\xff...");
        /* Exactly fitting text is not cut. */
        assert_int_equal(tp_utf8_escape(buf, sizeof(buf), "abcdefg", 7), 0);
        assert_string_equal(buf, "abcdefg");
        assert_int_equal(tp_utf8_escape(buf, 3, "abcdef", 6), 1);
        assert_string_equal(buf, "..");
        assert_true(tp_utf8_valid(buf, strlen(buf)));
}

static void test_utf8__sanitize_repairs_a_cut_detail(void **state)
{
        char buf[32];
        (void)state;
        /* A detail cut inside "é". */
        memcpy(buf, "abcd\xc3", 6);
        tp_utf8_sanitize(buf, sizeof(buf));
        assert_string_equal(buf, "abcd\\xc3");
        strcpy(buf, "fine é");
        tp_utf8_sanitize(buf, sizeof(buf));
        assert_string_equal(buf, "fine é");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_utf8__valid_accepts_vietnamese),
                cmocka_unit_test(test_utf8__valid_refuses_malformed),
                cmocka_unit_test(test_utf8__char_len_counts_bytes),
                cmocka_unit_test(test_utf8__copy_cut_ends_on_a_character),
                cmocka_unit_test(test_utf8__prefix_len_for_precision),
                cmocka_unit_test(test_utf8__escape_keeps_valid_text),
                cmocka_unit_test(test_utf8__escape_writes_invalid_bytes_as_hex),
                cmocka_unit_test(
                        test_utf8__escape_cuts_with_dots_on_a_boundary),
                cmocka_unit_test(test_utf8__sanitize_repairs_a_cut_detail),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
