/* utf8.c - see utf8.h. */
#include "utf8.h"
#include "util.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t tp_utf8_char_len(const char *s, size_t len)
{
        const unsigned char *p = (const unsigned char *)s;
        unsigned c, min;
        size_t n;

        if (len == 0 || p[0] == 0)
                return 0;
        c = p[0];
        if (c < 0x80)
                return 1;
        if ((c & 0xe0) == 0xc0) {
                n = 2, min = 0x80, c &= 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
                n = 3, min = 0x800, c &= 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
                n = 4, min = 0x10000, c &= 0x07;
        } else {
                return 0;
        }
        if (n > len)
                return 0;
        for (size_t k = 1; k < n; k++) {
                if ((p[k] & 0xc0) != 0x80)
                        return 0;
                c = (c << 6) | (p[k] & 0x3f);
        }
        /* Overlong forms, surrogates and code points past U+10FFFF. */
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
                return 0;
        return n;
}

int tp_utf8_valid(const char *s, size_t len)
{
        size_t i = 0;
        while (i < len) {
                size_t n = tp_utf8_char_len(s + i, len - i);
                if (n == 0)
                        return 0;
                i += n;
        }
        return 1;
}

size_t tp_utf8_copy_cut(char *dst, size_t size, const char *src)
{
        size_t len, i = 0;

        if (size == 0)
                return 0;
        len = strlen(src);
        while (i < len) {
                size_t n = tp_utf8_char_len(src + i, len - i);
                if (n == 0 || i + n > size - 1)
                        break;
                i += n;
        }
        memcpy(dst, src, i);
        dst[i] = '\0';
        return i;
}

int tp_utf8_prefix_len(const char *s, size_t max)
{
        size_t len, i = 0;
        if (max > INT_MAX - 4)
                max = INT_MAX - 4;
        len = strnlen(s, max + 4);
        while (i < len) {
                size_t n = tp_utf8_char_len(s + i, len - i);
                if (n == 0 || i + n > max)
                        break;
                i += n;
        }
        return (int)i;
}

/* 1 when the byte is kept as is (printable ASCII but the backslash). */
static int tp_utf8_plain(unsigned char c)
{
        return c >= 0x20 && c != 0x7f && c != '\\';
}

/* Bytes of input (*n) and of output taken by the character at src[i]. */
static size_t tp_utf8_width(const char *src, size_t len, size_t *n)
{
        unsigned char c = (unsigned char)src[0];
        *n = c >= 0x80 ? tp_utf8_char_len(src, len) : 1;
        if (*n == 0 || (*n == 1 && !tp_utf8_plain(c))) {
                *n = 1;
                return 4;
        }
        return *n;
}

int tp_utf8_escape(char *dst, size_t size, const char *src, size_t len)
{
        static const char dots[] = "...";
        size_t i = 0, o = 0, n, total = 0, room;

        if (size == 0)
                return len > 0;
        for (i = 0; i < len; i += n)
                total += tp_utf8_width(src + i, len - i, &n);
        /* Keep room for "..." only when the text is to be cut. */
        room = total > size - 1 ? sizeof(dots) - 1 : 0;
        for (i = 0; i < len; i += n) {
                size_t out = tp_utf8_width(src + i, len - i, &n);
                if (o + out + room > size - 1)
                        break;
                if (out != n)
                        snprintf(dst + o, 5, "\\x%02x", (unsigned char)src[i]);
                else
                        memcpy(dst + o, src + i, n);
                o += out;
        }
        if (i < len) {
                size_t k = size - 1 - o < room ? size - 1 - o : room;
                memcpy(dst + o, dots, k);
                o += k;
        }
        dst[o] = '\0';
        return i < len;
}

void tp_utf8_sanitize(char *s, size_t size)
{
        size_t len = strlen(s);
        char *tmp;

        if (tp_utf8_valid(s, len))
                return;
        tmp = tp_xmalloc(size);
        tp_utf8_escape(tmp, size, s, len);
        memcpy(s, tmp, strlen(tmp) + 1);
        free(tmp);
}
