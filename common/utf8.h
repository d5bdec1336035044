/* utf8.h - UTF-8 checks and bounded, character-safe copies of untrusted
 * text: what a producer sends may be cut or quoted in a detail or a log
 * line, and every text stored or logged must stay valid UTF-8.
 *
 * "Valid" here means well-formed UTF-8 (no overlong forms, no surrogates,
 * nothing above U+10FFFF) without NUL bytes.
 */
#ifndef TP_UTF8_H
#define TP_UTF8_H

#include <stddef.h>

/* 1 when s[0..len) is valid UTF-8 without NUL bytes, else 0. */
int tp_utf8_valid(const char *s, size_t len);

/* Length (1..4) of the valid, non-NUL character that starts s[0..len), or
 * 0 when s starts with an invalid byte, a NUL or a truncated sequence. */
size_t tp_utf8_char_len(const char *s, size_t len);

/* Copies the longest prefix of the valid UTF-8 string src that fits in
 * dst (size bytes, always NUL-terminated when size > 0) and ends on a
 * character boundary. Returns the number of bytes copied; it is below
 * strlen(src) when src was cut. src must be valid (see tp_utf8_escape
 * otherwise). */
size_t tp_utf8_copy_cut(char *dst, size_t size, const char *src);

/* Length of the longest prefix of the valid UTF-8 string s of at most max
 * bytes that ends on a character boundary, as an int for "%.*s". */
int tp_utf8_prefix_len(const char *s, size_t max);

/* Writes src[0..len) into dst (size bytes, always NUL-terminated when
 * size > 0): valid characters as they are, every other byte (invalid,
 * NUL, control below 0x20, DEL) and the backslash as "\xNN". The output
 * is valid UTF-8 and never splits a character or an escape; when it does
 * not fit it ends with "..." (within size). Returns 1 when src was cut,
 * else 0. */
int tp_utf8_escape(char *dst, size_t size, const char *src, size_t len);

/* In place: when s (NUL-terminated) is not valid UTF-8, rewrites it as
 * tp_utf8_escape would (cut to the same buffer size). For a detail that
 * was assembled with snprintf and may have been cut mid-character. */
void tp_utf8_sanitize(char *s, size_t size);

#endif
