/* buf.h - the one growable byte buffer: text built piece by piece
 * (metrics pages, COPY rows, HTTP answers) or binary (Avro). data is
 * always NUL-terminated once anything was added, so text can be used as a
 * C string; len does not count the NUL. Zero-initialised is empty; data
 * is owned by the buffer until tp_buf_release. */
#ifndef TP_BUF_H
#define TP_BUF_H

#include <stddef.h>

struct tp_buf {
        char *data;
        size_t len, cap;
};

/* Frees data; the buffer is empty again. */
void tp_buf_release(struct tp_buf *b);
/* Empties the buffer, keeping its memory. */
void tp_buf_reset(struct tp_buf *b);
/* Makes room for more bytes after len (and the NUL). */
void tp_buf_reserve(struct tp_buf *b, size_t more);
void tp_buf_add(struct tp_buf *b, const void *p, size_t n);
void tp_buf_puts(struct tp_buf *b, const char *s);
void tp_buf_putc(struct tp_buf *b, char c);
void tp_buf_printf(struct tp_buf *b, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

#endif
