/* Unit tests for common/redact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "redact.h"

static void test_redact__url_userinfo(void **state)
{
        char out[128];
        (void)state;
        tp_redact_url("http://am:s3cret@127.0.0.1:9093/x", out, sizeof(out));
        assert_string_equal(out, "http://[redacted]@127.0.0.1:9093/x");
        tp_redact_url("https://tok3n@am.example/", out, sizeof(out));
        assert_string_equal(out, "https://[redacted]@am.example/");
        /* an '@' in the password: the last one of the authority counts */
        tp_redact_url("http://u:p@ss@h:1/a@b", out, sizeof(out));
        assert_string_equal(out, "http://[redacted]@h:1/a@b");
        tp_redact_url("u:p@h:9093", out, sizeof(out));
        assert_string_equal(out, "[redacted]@h:9093");
}

static void test_redact__url_without_credentials(void **state)
{
        char out[128];
        (void)state;
        tp_redact_url("http://127.0.0.1:9093/api?x=a@b", out, sizeof(out));
        assert_string_equal(out, "http://127.0.0.1:9093/api?x=a@b");
        tp_redact_url(NULL, out, sizeof(out));
        assert_string_equal(out, "");
        tp_redact_url("http://u:secret@h/", out, 12);
        assert_null(strstr(out, "secret"));
}

static void test_redact__secret(void **state)
{
        char s[64] = "pw=abc and abc again";
        char small[24] = "x abcdefgh y abcdefgh";
        (void)state;
        tp_redact_secret(s, sizeof(s), "abc");
        assert_string_equal(s, "pw=[redacted] and [redacted] again");
        tp_redact_secret(s, sizeof(s), "");
        tp_redact_secret(s, sizeof(s), NULL);
        assert_string_equal(s, "pw=[redacted] and [redacted] again");
        /* no room for the second replacement: cut before it */
        tp_redact_secret(small, sizeof(small), "abcdefgh");
        assert_null(strstr(small, "abcdefgh"));
        assert_string_equal(small, "x [redacted] y ");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_redact__url_userinfo),
                cmocka_unit_test(test_redact__url_without_credentials),
                cmocka_unit_test(test_redact__secret),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
