/* util.c - see util.h. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS (tp_xmap) */
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>

static void tp_oom(size_t n)
{
        fprintf(stderr, "fatal: out of memory allocating %zu bytes\n", n);
        abort();
}

void *tp_xmalloc(size_t n)
{
        void *p = malloc(n ? n : 1);
        if (!p)
                tp_oom(n);
        return p;
}

void *tp_xmap(size_t n)
{
        void *p = mmap(NULL, n, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
                tp_oom(n);
        return p;
}

void tp_xunmap(void *p, size_t n)
{
        if (p)
                munmap(p, n);
}

void *tp_xcalloc(size_t count, size_t n)
{
        void *p = calloc(count ? count : 1, n ? n : 1);
        if (!p)
                tp_oom(count * n);
        return p;
}

void *tp_xrealloc(void *p, size_t n)
{
        void *q = realloc(p, n ? n : 1);
        if (!q)
                tp_oom(n);
        return q;
}

char *tp_xstrdup(const char *s)
{
        if (!s)
                return NULL;
        return tp_xstrndup(s, strlen(s));
}

char *tp_xstrndup(const char *s, size_t n)
{
        char *p = tp_xmalloc(n + 1);
        memcpy(p, s, n);
        p[n] = '\0';
        return p;
}

int64_t tp_now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t tp_mono_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long tp_peak_rss_kib(void)
{
        struct rusage ru;
        return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : 0;
}

static int64_t tp_floor_div(int64_t a, int64_t b)
{
        int64_t q = a / b;
        if ((a % b != 0) && ((a < 0) != (b < 0)))
                q--;
        return q;
}

int64_t tp_vn_day(int64_t ts_ms)
{
        return tp_floor_div(ts_ms + TP_VN_OFFSET_MS, TP_DAY_MS);
}

int64_t tp_hour_floor(int64_t ts_ms)
{
        return tp_floor_div(ts_ms, TP_HOUR_MS) * TP_HOUR_MS;
}

/* Howard Hinnant's civil calendar algorithms. */
int64_t tp_days_from_civil(int y, int m, int d)
{
        y -= m <= 2;
        int64_t era = (y >= 0 ? y : y - 399) / 400;
        int64_t yoe = y - era * 400;
        int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + doe - 719468;
}

void tp_civil_from_days(int64_t z, int *y, int *m, int *d)
{
        z += 719468;
        int64_t era = (z >= 0 ? z : z - 146096) / 146097;
        int64_t doe = z - era * 146097;
        int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        int64_t yy = yoe + era * 400;
        int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        int64_t mp = (5 * doy + 2) / 153;
        int64_t dd = doy - (153 * mp + 2) / 5 + 1;
        int64_t mm = mp < 10 ? mp + 3 : mp - 9;
        *y = (int)(yy + (mm <= 2));
        *m = (int)mm;
        *d = (int)dd;
}

int tp_parse_date(const char *s, int64_t *days_out)
{
        int y, m, d;
        char tail;
        if (sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)
                return -1;
        if (m < 1 || m > 12 || d < 1 || d > 31)
                return -1;
        *days_out = tp_days_from_civil(y, m, d);
        return 0;
}

size_t tp_format_i64(int64_t v, char *buf)
{
        char tmp[TP_I64_CHARS];
        /* Digits of the magnitude as unsigned: -INT64_MIN overflows. */
        uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
        size_t n = 0, len = 0;
        do {
                tmp[n++] = (char)('0' + u % 10);
                u /= 10;
        } while (u);
        if (v < 0)
                buf[len++] = '-';
        while (n)
                buf[len++] = tmp[--n];
        buf[len] = '\0';
        return len;
}

/* v (0..10^width - 1) as exactly width digits. */
static char *tp_digits(char *p, int v, int width)
{
        for (int i = width - 1; i >= 0; i--) {
                p[i] = (char)('0' + v % 10);
                v /= 10;
        }
        return p + width;
}

/* YYYY-MM-DD (y in 0..9999) at p; returns the end. */
static char *tp_put_date(char *p, int y, int m, int d)
{
        p = tp_digits(p, y, 4);
        *p++ = '-';
        p = tp_digits(p, m, 2);
        *p++ = '-';
        return tp_digits(p, d, 2);
}

size_t tp_format_day(int64_t day, char *buf, size_t size)
{
        int y, m, d;
        char *p;
        tp_civil_from_days(day, &y, &m, &d);
        if (y < 0 || y > 9999 || size < 11) {
                snprintf(buf, size, "%04d-%02d-%02d", y, m, d);
                return size ? strlen(buf) : 0;
        }
        p = tp_put_date(buf, y, m, d);
        *p = '\0';
        return (size_t)(p - buf);
}

size_t tp_format_ts(int64_t ts_ms, char *buf, size_t size)
{
        /* No days * TP_DAY_MS: it overflows for timestamps near INT64_MIN
         * (hostile input reaches here through error messages). */
        int64_t days = tp_floor_div(ts_ms, TP_DAY_MS);
        int64_t rem = ts_ms % TP_DAY_MS;
        int y, m, d, h, mi, s, ms;
        char *p;
        if (rem < 0)
                rem += TP_DAY_MS;
        h = (int)(rem / 3600000);
        mi = (int)(rem / 60000 % 60);
        s = (int)(rem / 1000 % 60);
        ms = (int)(rem % 1000);
        tp_civil_from_days(days, &y, &m, &d);
        if (y < 0 || y > 9999 || size < 27) {
                snprintf(buf, size, "%04d-%02d-%02d %02d:%02d:%02d.%03d+00", y,
                         m, d, h, mi, s, ms);
                return size ? strlen(buf) : 0;
        }
        p = tp_put_date(buf, y, m, d);
        *p++ = ' ';
        p = tp_digits(p, h, 2);
        *p++ = ':';
        p = tp_digits(p, mi, 2);
        *p++ = ':';
        p = tp_digits(p, s, 2);
        *p++ = '.';
        p = tp_digits(p, ms, 3);
        memcpy(p, "+00", 4);
        return (size_t)(p + 3 - buf);
}

void tp_cat(char *buf, size_t size, size_t *n, const char *s)
{
        size_t len = strlen(s);
        if (*n >= size)
                return;
        if (len > size - 1 - *n)
                len = size - 1 - *n;
        memcpy(buf + *n, s, len);
        *n += len;
        buf[*n] = '\0';
}

void tp_cat_i64(char *buf, size_t size, size_t *n, int64_t v)
{
        char num[TP_I64_CHARS];
        tp_format_i64(v, num);
        tp_cat(buf, size, n, num);
}

void tp_strlcpy(char *dst, const char *src, size_t size)
{
        size_t n;
        if (size == 0)
                return;
        n = strlen(src);
        if (n >= size)
                n = size - 1;
        memcpy(dst, src, n);
        dst[n] = '\0';
}

char *tp_chomp(char *s)
{
        size_t n = strlen(s);
        while (n > 0 &&
               (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\r'))
                s[--n] = '\0';
        return s;
}

char *tp_read_file(const char *path, size_t max, size_t *len_out, char *errstr,
                   size_t errstr_size)
{
        FILE *f = fopen(path, "rb");
        char *buf = NULL;
        size_t len = 0, cap = 4096, n;

        if (!f) {
                snprintf(errstr, errstr_size, "could not open \"%s\": %s", path,
                         strerror(errno));
                return NULL;
        }
        buf = tp_xmalloc(cap);
        while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
                len += n;
                if (len > max) {
                        snprintf(errstr, errstr_size,
                                 "could not read \"%s\": larger than %zu bytes",
                                 path, max);
                        goto fail;
                }
                if (cap - len - 1 == 0) {
                        cap *= 2;
                        buf = tp_xrealloc(buf, cap);
                }
        }
        if (ferror(f)) {
                snprintf(errstr, errstr_size, "could not read \"%s\": %s", path,
                         strerror(errno));
                goto fail;
        }
        fclose(f);
        buf[len] = '\0';
        if (len_out)
                *len_out = len;
        return buf;
fail:
        fclose(f);
        free(buf);
        return NULL;
}

uint64_t tp_hash64(const void *data, size_t len, uint64_t seed)
{
        const unsigned char *p = data;
        uint64_t h = 1469598103934665603ULL ^ seed;
        for (size_t i = 0; i < len; i++) {
                h ^= p[i];
                h *= 1099511628211ULL;
        }
        return h;
}

size_t tp_crlf_to_lf(char *data, size_t len)
{
        size_t j = 0;
        for (size_t i = 0; i < len; i++)
                if (!(data[i] == '\r' && i + 1 < len && data[i + 1] == '\n'))
                        data[j++] = data[i];
        if (j < len)
                data[j] = '\0';
        return j;
}
