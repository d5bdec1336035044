/* util.h - allocation wrappers, time helpers and small string tools.
 *
 * The tp_x* allocators abort on out-of-memory: callers never check them.
 */
#ifndef TP_UTIL_H
#define TP_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define TP_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Vietnam has used UTC+7 without daylight saving since 1975. */
#define TP_VN_OFFSET_MS (7LL * 3600 * 1000)
#define TP_DAY_MS (86400LL * 1000)
#define TP_HOUR_MS (3600LL * 1000)

void *tp_xmalloc(size_t n);
void *tp_xcalloc(size_t count, size_t n);
void *tp_xrealloc(void *p, size_t n);
/* Returns a heap copy of s (NULL stays NULL); the caller frees it. */
char *tp_xstrdup(const char *s);
char *tp_xstrndup(const char *s, size_t n);
/* n bytes of zeroed memory mapped apart from malloc's heap, for
 * allocations that come and go in large pieces (common/arena.c's
 * blocks); released with tp_xunmap(p, n). Aborts when out of memory, as
 * tp_xmalloc does. */
void *tp_xmap(size_t n);
void tp_xunmap(void *p, size_t n);

/* Wall clock in milliseconds since the Unix epoch. */
int64_t tp_now_ms(void);
/* Monotonic clock in milliseconds. */
int64_t tp_mono_ms(void);
/* The process's peak resident set so far, in KiB (getrusage). */
long tp_peak_rss_kib(void);

/* Days since 1970-01-01 of the Vietnam calendar date of a UTC instant. */
int64_t tp_vn_day(int64_t ts_ms);
/* Start (UTC ms) of the UTC hour that contains ts_ms. */
int64_t tp_hour_floor(int64_t ts_ms);
/* Civil date of a day number (days since 1970-01-01). */
void tp_civil_from_days(int64_t days, int *y, int *m, int *d);
/* Day number of a civil date. */
int64_t tp_days_from_civil(int y, int m, int d);
/* Parses YYYY-MM-DD; returns 0 or -1. */
int tp_parse_date(const char *s, int64_t *days_out);
/* Writes an ISO-8601 UTC timestamp ("2025-07-01 08:00:00.123+00"), the
 * format PostgreSQL accepts for timestamptz, and returns its length. buf
 * must hold 32 bytes. */
size_t tp_format_ts(int64_t ts_ms, char *buf, size_t size);
/* Writes a day number as YYYY-MM-DD and returns its length; buf must hold
 * 16 bytes. */
size_t tp_format_day(int64_t day, char *buf, size_t size);
/* Writes v in decimal (NUL-terminated) and returns its length; buf must
 * hold TP_I64_CHARS bytes. No printf: the COPY text of every row goes
 * through here. */
#define TP_I64_CHARS 21
size_t tp_format_i64(int64_t v, char *buf);

/* Appends s to the string of buf (capacity size) at *n, truncating, and
 * advances *n; the result is always NUL-terminated, so a key starts at
 * n = 0 in an uninitialised buffer. tp_cat_i64 appends a number. For map
 * keys built per event, where snprintf's parsing shows in profiles. */
void tp_cat(char *buf, size_t size, size_t *n, const char *s);
void tp_cat_i64(char *buf, size_t size, size_t *n, int64_t v);

/* Copies src into dst (size bytes, always NUL-terminated). */
void tp_strlcpy(char *dst, const char *src, size_t size);
/* Removes trailing newlines/spaces in place (libpq's messages end with one). */
char *tp_chomp(char *s);

/* Reads a whole file into a NUL-terminated heap buffer. Returns NULL and
 * fills errstr on failure; *len_out gets the length without the NUL. */
char *tp_read_file(const char *path, size_t max, size_t *len_out, char *errstr,
                   size_t errstr_size);

/* CRLF to LF in place (a file COPY reads wants one kind of line ending);
 * returns the new length. */
size_t tp_crlf_to_lf(char *data, size_t len);

/* 64-bit FNV-1a hash of a byte string. */
uint64_t tp_hash64(const void *data, size_t len, uint64_t seed);

#endif
