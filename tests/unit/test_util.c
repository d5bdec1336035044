/* Unit tests for common/util's formatters: the hand-written digits agree
 * with printf over edge values and a sweep of random ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "util.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next_random(void)
{
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return rng;
}

static void check_i64(int64_t v)
{
        char got[TP_I64_CHARS], want[32];
        size_t n = tp_format_i64(v, got);
        snprintf(want, sizeof(want), "%lld", (long long)v);
        assert_string_equal(got, want);
        assert_int_equal(n, strlen(want));
}

static void test_util__i64_matches_printf(void **state)
{
        static const int64_t edges[] = {0,
                                        1,
                                        -1,
                                        9,
                                        10,
                                        -10,
                                        99,
                                        100,
                                        INT32_MAX,
                                        INT32_MIN,
                                        INT64_MAX,
                                        INT64_MIN,
                                        INT64_MIN + 1,
                                        1000000000000LL};
        (void)state;
        for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
                check_i64(edges[i]);
        for (int i = 0; i < 100000; i++) {
                uint64_t r = next_random();
                check_i64((int64_t)r);
                check_i64((int64_t)(r >> (r % 64))); /* short ones too */
        }
}

/* What tp_format_ts wrote before it had its own digits. */
static void ts_by_printf(int64_t ts_ms, char *buf, size_t size)
{
        int64_t days = ts_ms / TP_DAY_MS - (ts_ms % TP_DAY_MS < 0);
        int64_t rem = ts_ms % TP_DAY_MS;
        int y, m, d;
        if (rem < 0)
                rem += TP_DAY_MS;
        tp_civil_from_days(days, &y, &m, &d);
        snprintf(buf, size, "%04d-%02d-%02d %02d:%02d:%02d.%03d+00", y, m, d,
                 (int)(rem / 3600000), (int)(rem / 60000 % 60),
                 (int)(rem / 1000 % 60), (int)(rem % 1000));
}

static void check_ts(int64_t ts_ms)
{
        char got[64], want[64];
        size_t n = tp_format_ts(ts_ms, got, sizeof(got));
        ts_by_printf(ts_ms, want, sizeof(want));
        assert_string_equal(got, want);
        assert_int_equal(n, strlen(want));
}

static void test_util__timestamps_match_printf(void **state)
{
        static const int64_t edges[] = {
                0,
                -1,
                1,
                999,
                -86400000,
                1751328000000LL, /* 2025-07-01 */
                1751328000000LL - 1,
                253402300799999LL, /* 9999-12-31 */
                253402300800000LL, /* year 10000: printf's path */
                -62167219200000LL, /* year 0 */
                -62167219200001LL, /* year -1 */
                INT64_MAX,
                INT64_MIN};
        char small[8];
        (void)state;
        for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
                check_ts(edges[i]);
        for (int i = 0; i < 100000; i++) {
                /* years 1900-2100, every millisecond equally likely */
                int64_t span = 200LL * 366 * TP_DAY_MS;
                check_ts(-2208988800000LL +
                         (int64_t)(next_random() % (uint64_t)span));
                check_ts((int64_t)next_random());
        }
        /* a short buffer is cut, never overrun */
        assert_int_equal(tp_format_ts(1751328000000LL, small, sizeof(small)),
                         7);
        assert_string_equal(small, "2025-07");
}

static void test_util__days_match_printf(void **state)
{
        char got[16], want[32];
        int y, m, d;
        (void)state;
        for (int64_t day = -800000; day < 3000000; day += 7) {
                size_t n = tp_format_day(day, got, sizeof(got));
                tp_civil_from_days(day, &y, &m, &d);
                snprintf(want, sizeof(want), "%04d-%02d-%02d", y, m, d);
                assert_string_equal(got, want);
                assert_int_equal(n, strlen(want));
        }
}

static void test_util__cat_truncates_and_terminates(void **state)
{
        char buf[8];
        size_t n = 0;
        (void)state;
        tp_cat(buf, sizeof(buf), &n, "ab");
        tp_cat(buf, sizeof(buf), &n, "|");
        tp_cat_i64(buf, sizeof(buf), &n, -42);
        assert_string_equal(buf, "ab|-42");
        assert_int_equal(n, 6);
        tp_cat(buf, sizeof(buf), &n, "xyz"); /* room for one more */
        assert_string_equal(buf, "ab|-42x");
        assert_int_equal(n, 7);
        tp_cat(buf, sizeof(buf), &n, "more");
        assert_string_equal(buf, "ab|-42x");
        assert_int_equal(n, 7);
}

/* A mapping is zeroed, writable to its last byte, and given back. */
static void test_util__xmap_zeroed_and_writable(void **state)
{
        size_t n = 3 * 1024 * 1024 + 17;
        unsigned char *p = tp_xmap(n);
        (void)state;
        assert_int_equal(p[0], 0);
        assert_int_equal(p[n - 1], 0);
        memset(p, 0xab, n);
        assert_int_equal(p[n / 2], 0xab);
        tp_xunmap(p, n);
        tp_xunmap(NULL, n);
}

/* Pieces stay where they were put until the reset; a piece larger than
 * a block gets a block of its own; take moves every block. */
static void test_util__arena_pieces_live_until_reset(void **state)
{
        struct tp_arena a = {0}, b = {0};
        char *first, *big, *p[3000];
        size_t bign = 3 * 1024 * 1024;
        (void)state;
        first = tp_arena_alloc(&a, 6);
        memcpy(first, "first", 6);
        for (int i = 0; i < 3000; i++) { /* 3000 x 700 B: several blocks */
                p[i] = tp_arena_alloc(&a, 700);
                memset(p[i], i % 251, 700);
        }
        big = tp_arena_alloc(&a, bign);
        memset(big, 0x5a, bign);
        assert_string_equal(first, "first");
        for (int i = 0; i < 3000; i++) {
                assert_int_equal((unsigned char)p[i][0], i % 251);
                assert_int_equal((unsigned char)p[i][699], i % 251);
        }
        assert_int_equal((unsigned char)big[bign - 1], 0x5a);
        memcpy(tp_arena_alloc(&b, 3), "b!", 3);
        tp_arena_take(&b, &a);
        assert_null(a.blocks);
        assert_string_equal(first, "first"); /* now b's */
        tp_arena_reset(&a);                  /* empty: nothing to give */
        tp_arena_reset(&b);
        assert_null(b.blocks);
        assert_non_null(tp_arena_alloc(&b, 0));
        tp_arena_reset(&b);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_util__i64_matches_printf),
                cmocka_unit_test(test_util__timestamps_match_printf),
                cmocka_unit_test(test_util__days_match_printf),
                cmocka_unit_test(test_util__cat_truncates_and_terminates),
                cmocka_unit_test(test_util__xmap_zeroed_and_writable),
                cmocka_unit_test(test_util__arena_pieces_live_until_reset),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
