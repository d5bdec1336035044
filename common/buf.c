/* buf.c - see buf.h. */
#include "buf.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tp_buf_release(struct tp_buf *b)
{
        free(b->data);
        b->data = NULL;
        b->len = b->cap = 0;
}

void tp_buf_reset(struct tp_buf *b)
{
        b->len = 0;
        if (b->data)
                b->data[0] = '\0';
}

void tp_buf_reserve(struct tp_buf *b, size_t more)
{
        if (b->len + more + 1 <= b->cap)
                return;
        while (b->len + more + 1 > b->cap)
                b->cap = b->cap ? b->cap * 2 : 256;
        b->data = tp_xrealloc(b->data, b->cap);
}

void tp_buf_add(struct tp_buf *b, const void *p, size_t n)
{
        tp_buf_reserve(b, n);
        memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = '\0';
}

void tp_buf_puts(struct tp_buf *b, const char *s)
{
        tp_buf_add(b, s, strlen(s));
}

void tp_buf_putc(struct tp_buf *b, char c)
{
        tp_buf_add(b, &c, 1);
}

void tp_buf_printf(struct tp_buf *b, const char *fmt, ...)
{
        va_list ap;
        int n;
        va_start(ap, fmt);
        n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        tp_buf_reserve(b, (size_t)n);
        va_start(ap, fmt);
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
        b->len += (size_t)n;
}
