/* Unit tests for common/html (escaping producer text for HTML, SVG and
 * JSON) and the charts of common/svg that carry such text: markup,
 * quotes, "]]>", invalid UTF-8 and control characters never come out as
 * they went in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "html.h"
#include "svg.h"
#include "utf8.h"

static char *tp_escaped(struct tp_buf *b, const char *s)
{
        tp_buf_reset(b);
        tp_buf_puts(b, "");
        tp_html_escape(b, s);
        return b->data;
}

static void test_html__markup_and_quotes(void **state)
{
        struct tp_buf b = {0};
        (void)state;
        assert_string_equal(tp_escaped(&b, "<script>alert('x')</script>"),
                            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
        assert_string_equal(tp_escaped(&b, "a\"b&c"), "a&quot;b&amp;c");
        assert_string_equal(tp_escaped(&b, "]]><x/>"), "]]&gt;&lt;x/&gt;");
        assert_string_equal(tp_escaped(&b, "&amp;"), "&amp;amp;");
        assert_string_equal(tp_escaped(&b, ""), "");
        tp_buf_release(&b);
}

static void test_html__diacritics_kept(void **state)
{
        struct tp_buf b = {0};
        (void)state;
        assert_string_equal(tp_escaped(&b, "Phường Trần Lãm"),
                            "Phường Trần Lãm");
        assert_string_equal(tp_escaped(&b, "Đắk Lắk 😀"), "Đắk Lắk 😀");
        tp_buf_release(&b);
}

static void test_html__invalid_utf8_and_controls_replaced(void **state)
{
        struct tp_buf b = {0};
        const char *s;
        (void)state;
        /* a lone continuation byte, a truncated sequence, an overlong '<',
         * a surrogate */
        s = tp_escaped(&b, "a\x80"
                           "b\xE1\xBA"
                           "c\xC0\xBC"
                           "d\xED\xA0\x80");
        assert_true(tp_utf8_valid(s, strlen(s)));
        assert_null(strchr(s, '<'));
        assert_int_equal(s[0], 'a');
        assert_memory_equal(s + 1, "\xEF\xBF\xBD", 3);
        /* C0 controls (but tab and newline), DEL, C1 controls */
        s = tp_escaped(&b, "x\x01y\x1b[31mz\x7f\xC2\x85w\tv\n");
        assert_string_equal(s, "x\xEF\xBF\xBDy\xEF\xBF\xBD[31mz\xEF\xBF\xBD"
                               "\xEF\xBF\xBDw\tv\n");
        tp_buf_release(&b);
}

static void test_html__scrub_keeps_markup_but_not_bad_bytes(void **state)
{
        struct tp_buf b = {0};
        (void)state;
        tp_buf_puts(&b, "");
        tp_html_scrub(&b, "<b>\"q\"</b>\xff\x02");
        assert_string_equal(b.data, "<b>\"q\"</b>\xEF\xBF\xBD\xEF\xBF\xBD");
        assert_true(tp_utf8_valid(b.data, b.len));
        tp_html_scrub(&b, NULL);
        assert_int_equal(strlen(b.data), b.len);
        tp_buf_release(&b);
}

static void test_html__svg_text_is_escaped(void **state)
{
        struct tp_buf b = {0};
        const double v[] = {1, -1, 3};
        struct tp_svg_series s = {"<i>recv</i>", "#123", v};
        struct tp_svg_bar bar = {"<script>x</script>", "/provinces/01?a=1&b=2",
                                 0.5, "]]>\xff", NULL};
        (void)state;
        tp_svg_lines(&b, "t\"<", &s, 1, 3, "<a>", "'b'");
        tp_svg_sparkline(&b, "<s>", v, 3);
        tp_svg_hbars(&b, "<h>", &bar, 1);
        assert_null(strstr(b.data, "<i>"));
        assert_null(strstr(b.data, "<script>"));
        assert_null(strstr(b.data, "<a>"));
        assert_null(strstr(b.data, "<s>"));
        assert_null(strstr(b.data, "]]>"));
        assert_non_null(strstr(b.data, "href=\"/provinces/01?a=1&amp;b=2\""));
        assert_true(tp_utf8_valid(b.data, b.len));
        /* a gap starts a new segment */
        assert_non_null(strstr(b.data, "M"));
        tp_buf_release(&b);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_html__markup_and_quotes),
                cmocka_unit_test(test_html__diacritics_kept),
                cmocka_unit_test(test_html__invalid_utf8_and_controls_replaced),
                cmocka_unit_test(
                        test_html__scrub_keeps_markup_but_not_bad_bytes),
                cmocka_unit_test(test_html__svg_text_is_escaped),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
