/* html.c - see html.h. */
#include "html.h"
#include "utf8.h"

#include <string.h>

static const char tp_html_replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */

/* Appends s character by character; entities != 0 escapes the markup
 * characters. */
static void tp_html_put(struct tp_buf *b, const char *s, int entities)
{
        size_t len, n;

        if (!s)
                return;
        len = strlen(s);
        tp_buf_reserve(b, len);
        while (len > 0) {
                unsigned char c = (unsigned char)*s;
                n = tp_utf8_char_len(s, len);
                if (n == 0) {
                        tp_buf_puts(b, tp_html_replacement);
                        n = 1;
                } else if (n == 1 && (c < 0x20 || c == 0x7F) && c != '\t' &&
                           c != '\n') {
                        tp_buf_puts(b, tp_html_replacement);
                } else if (n == 1 && entities && c == '&') {
                        tp_buf_puts(b, "&amp;");
                } else if (n == 1 && entities && c == '<') {
                        tp_buf_puts(b, "&lt;");
                } else if (n == 1 && entities && c == '>') {
                        tp_buf_puts(b, "&gt;");
                } else if (n == 1 && entities && c == '"') {
                        tp_buf_puts(b, "&quot;");
                } else if (n == 1 && entities && c == '\'') {
                        tp_buf_puts(b, "&#39;");
                } else if (n == 2 && c == 0xC2 && (unsigned char)s[1] < 0xA0) {
                        /* C1 controls (U+0080..U+009F) */
                        tp_buf_puts(b, tp_html_replacement);
                } else {
                        tp_buf_add(b, s, n);
                }
                s += n;
                len -= n;
        }
}

void tp_html_escape(struct tp_buf *b, const char *s)
{
        tp_html_put(b, s, 1);
}

void tp_html_scrub(struct tp_buf *b, const char *s)
{
        tp_html_put(b, s, 0);
}
