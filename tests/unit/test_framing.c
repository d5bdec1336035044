/* Unit tests for common/framing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "framing.h"

static void test_framing__parses_header(void **state)
{
        const unsigned char msg[] = {0x00, 0x00, 0x00, 0x01, 0x02, 0xaa, 0xbb};
        int32_t id = 0;
        const unsigned char *body = NULL;
        size_t len = 0;
        char err[128];
        (void)state;
        assert_int_equal(tp_framing_parse(msg, sizeof(msg), &id, &body, &len,
                                          err, sizeof(err)),
                         0);
        assert_int_equal(id, 258);
        assert_ptr_equal(body, msg + 5);
        assert_int_equal(len, 2);
}

static void test_framing__rejects_bad_input(void **state)
{
        const unsigned char wrong_magic[] = {0x01, 0, 0, 0, 1, 2};
        const unsigned char short_msg[] = {0x00, 0, 0};
        const unsigned char negative[] = {0x00, 0xff, 0xff, 0xff, 0xff};
        int32_t id = 77;
        const unsigned char *body;
        size_t len;
        char err[128];
        (void)state;
        assert_int_equal(
                tp_framing_parse(NULL, 0, &id, &body, &len, err, sizeof(err)),
                -1);
        assert_non_null(strstr(err, "empty"));
        assert_int_equal(tp_framing_parse(wrong_magic, sizeof(wrong_magic), &id,
                                          &body, &len, err, sizeof(err)),
                         -1);
        assert_non_null(strstr(err, "magic"));
        assert_int_equal(tp_framing_parse(short_msg, sizeof(short_msg), &id,
                                          &body, &len, err, sizeof(err)),
                         -1);
        assert_int_equal(tp_framing_parse(negative, sizeof(negative), &id,
                                          &body, &len, err, sizeof(err)),
                         -1);
        assert_int_equal(id, 77); /* outputs untouched on failure */
}

static void test_framing__header_round_trip(void **state)
{
        unsigned char hdr[TP_FRAMING_HEADER_LEN];
        int32_t id;
        const unsigned char *body;
        size_t len;
        char err[64];
        (void)state;
        tp_framing_write_header(hdr, 123456789);
        assert_int_equal(tp_framing_parse(hdr, sizeof(hdr), &id, &body, &len,
                                          err, sizeof(err)),
                         0);
        assert_int_equal(id, 123456789);
        assert_int_equal(len, 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_framing__parses_header),
                cmocka_unit_test(test_framing__rejects_bad_input),
                cmocka_unit_test(test_framing__header_round_trip),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
