/* Unit tests for common/store (rollback, epochs, eviction, sealed
 * attempts, its table against a model), common/htab (the table under the
 * store and strmap, with hashes chosen to collide and wrap) and the
 * deletion of common/strmap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "htab.h"
#include "store.h"
#include "strmap.h"

static int g_released;

/* Values are malloc'd ints. */
static void release(void *v)
{
        g_released++;
        free(v);
}

static int *val(int x)
{
        int *v = malloc(sizeof(*v));
        assert_non_null(v);
        *v = x;
        return v;
}

static void *make_int(const void *ctx)
{
        return val(*(const int *)ctx);
}

static int get(struct tp_store *s, const char *key)
{
        int *v = tp_store_get(s, key);
        return v ? *v : -1;
}

static void test_store__commit_keeps_abort_drops(void **state)
{
        struct tp_store *s = tp_store_new(release, SIZE_MAX);
        (void)state;
        g_released = 0;
        tp_store_begin(s, 1);
        assert_null(tp_store_get(s, "a"));
        tp_store_put(s, "a", val(1)); /* loaded, clean */
        tp_store_put(s, "b", val(2)); /* new */
        assert_int_equal(tp_store_touch(s, "b"), 0);
        assert_int_equal(tp_store_touch(s, "zz"), -1);
        tp_store_commit(s);
        assert_int_equal(get(s, "a"), 1);
        assert_int_equal(get(s, "b"), 2);

        /* an attempt that changes a and adds c, then is abandoned */
        tp_store_begin(s, 1);
        assert_int_equal(tp_store_touch(s, "a"), 0);
        *(int *)tp_store_get(s, "a") = 10;
        tp_store_put(s, "c", val(3));
        tp_store_touch(s, "c");
        tp_store_abort(s);
        assert_int_equal(get(s, "a"), -1); /* re-read from the database */
        assert_int_equal(get(s, "c"), -1);
        assert_int_equal(get(s, "b"), 2); /* untouched: still committed */
        assert_int_equal(g_released, 2);
        assert_int_equal(tp_store_count(s), 1);
        tp_store_destroy(s);
        assert_int_equal(g_released, 3);
}

/* A write attempt that fails (or a bisection trial rolled back) is never
 * followed by commit or abort: the next begin drops its changes. */
static void test_store__begin_drops_uncommitted(void **state)
{
        struct tp_store *s = tp_store_new(release, SIZE_MAX);
        (void)state;
        tp_store_begin(s, 7);
        tp_store_put(s, "x", val(1));
        tp_store_put(s, "y", val(2));
        tp_store_commit(s);
        tp_store_begin(s, 7);
        tp_store_touch(s, "x");
        *(int *)tp_store_get(s, "x") = 99;
        tp_store_begin(s, 7); /* the retry */
        assert_int_equal(get(s, "x"), -1);
        assert_int_equal(get(s, "y"), 2);
        assert_int_equal(tp_store_stats(s)->dropped, 1);
        tp_store_destroy(s);
}

static void count_touched(const char *key, void *value, int stored, void *ud)
{
        char *seen = ud;
        (void)value;
        (void)stored;
        strcat(seen, key);
}

/* Appends "key:stored " for each entry touched. */
static void list_stored(const char *key, void *value, int stored, void *ud)
{
        char *seen = ud;
        (void)value;
        sprintf(seen + strlen(seen), "%s:%d ", key, stored);
}

static const char *touched_hints(struct tp_store *s, char *seen)
{
        seen[0] = '\0';
        tp_store_each_touched(s, list_stored, seen);
        return seen;
}

/* Whether a key has a row in the database, as the store knows it: put
 * (read) yes; new no, until an attempt that wrote it is sealed or
 * committed; an abandoned attempt forgets it; a deletion sealed makes
 * the key new again. */
static void test_store__stored_hint(void **state)
{
        struct tp_store *s = tp_store_new(release, SIZE_MAX);
        char seen[128];
        int one = 1;
        (void)state;
        tp_store_begin(s, 1);
        tp_store_put(s, "a", val(1));
        tp_store_touch(s, "a");
        tp_store_get_or_new(s, "b", make_int, &one);
        assert_string_equal(touched_hints(s, seen), "a:1 b:0 ");
        tp_store_seal(s);

        tp_store_begin(s, 1);
        tp_store_touch(s, "b");
        assert_string_equal(touched_hints(s, seen), "b:1 ");
        tp_store_abort(s); /* drops b (and the sealed a) */
        tp_store_begin(s, 1);
        tp_store_get_or_new(s, "b", make_int, &one);
        assert_string_equal(touched_hints(s, seen), "b:0 ");
        tp_store_commit(s);

        tp_store_begin(s, 1);
        tp_store_touch(s, "b");
        assert_string_equal(touched_hints(s, seen), "b:1 ");
        assert_int_equal(tp_store_del(s, "b"), 0);
        tp_store_seal(s);
        tp_store_begin(s, 1);
        tp_store_get_or_new(s, "b", make_int, &one);
        assert_string_equal(touched_hints(s, seen), "b:0 ");
        tp_store_destroy(s);
}

static void test_store__each_touched_in_order_once(void **state)
{
        struct tp_store *s = tp_store_new(release, SIZE_MAX);
        char seen[16] = "";
        (void)state;
        tp_store_begin(s, 1);
        tp_store_put(s, "a", val(1));
        tp_store_put(s, "b", val(2));
        tp_store_put(s, "c", val(3));
        tp_store_touch(s, "c");
        tp_store_touch(s, "a");
        tp_store_touch(s, "c");
        tp_store_each_touched(s, count_touched, seen);
        assert_string_equal(seen, "ca");
        tp_store_commit(s);
        seen[0] = '\0';
        tp_store_each_touched(s, count_touched, seen);
        assert_string_equal(seen, "");
        tp_store_destroy(s);
}

/* A rebalance or a fence: another instance may have written. */
static void test_store__epoch_change_drops_all(void **state)
{
        struct tp_store *s = tp_store_new(release, SIZE_MAX);
        (void)state;
        g_released = 0;
        tp_store_begin(s, 1);
        tp_store_put(s, "a", val(1));
        tp_store_put(s, "b", val(2));
        tp_store_commit(s);
        tp_store_begin(s, 1);
        assert_int_equal(tp_store_count(s), 2);
        tp_store_commit(s);
        tp_store_begin(s, 2);
        assert_int_equal(tp_store_count(s), 0);
        assert_int_equal(g_released, 2);
        tp_store_destroy(s);
}

static void test_store__evicts_least_recent_clean(void **state)
{
        struct tp_store *s = tp_store_new(release, 3);
        char key[8];
        (void)state;
        tp_store_begin(s, 1);
        for (int i = 0; i < 5; i++) {
                snprintf(key, sizeof(key), "k%d", i);
                tp_store_put(s, key, val(i));
        }
        assert_int_equal(get(s, "k0"), 0);      /* k0 is now the most recent */
        assert_int_equal(tp_store_count(s), 5); /* no eviction mid-attempt */
        tp_store_commit(s);
        assert_int_equal(tp_store_count(s), 3);
        assert_int_equal(get(s, "k1"), -1);
        assert_int_equal(get(s, "k2"), -1);
        assert_int_equal(get(s, "k0"), 0);
        assert_int_equal(get(s, "k3"), 3);
        assert_int_equal(get(s, "k4"), 4);
        assert_int_equal(tp_store_stats(s)->evicted, 2);
        /* replacing a value releases the old one, keeps one entry */
        g_released = 0;
        tp_store_begin(s, 1);
        tp_store_put(s, "k3", val(33));
        assert_int_equal(g_released, 1);
        assert_int_equal(get(s, "k3"), 33);
        tp_store_commit(s);
        assert_int_equal(tp_store_count(s), 3);
        tp_store_destroy(s);
}

/* The entry found last is remembered for the touch that follows a get;
 * an entry that leaves (evicted, dropped by an abort, cleared by an epoch)
 * must not be found there afterwards (ASan: no use after free). */
static void test_store__last_found_forgotten_when_it_leaves(void **state)
{
        struct tp_store *s = tp_store_new(release, 1);
        (void)state;
        tp_store_begin(s, 1);
        tp_store_put(s, "old", val(1));
        tp_store_put(s, "new", val(2));
        tp_store_commit(s); /* over the cap of 1: "old" is evicted */
        assert_int_equal(get(s, "new"), 2);
        assert_int_equal(tp_store_touch(s, "old"), -1);

        /* found last, then dropped by an abort */
        tp_store_begin(s, 1);
        assert_non_null(tp_store_get_or_new(s, "made", make_int, &(int){3}));
        tp_store_abort(s);
        assert_int_equal(tp_store_touch(s, "made"), -1);
        assert_int_equal(get(s, "made"), -1);

        /* found last, then cleared by a new epoch */
        assert_int_equal(get(s, "new"), 2);
        tp_store_begin(s, 2);
        assert_int_equal(tp_store_touch(s, "new"), -1);

        /* a touch after a get of another key finds its own entry */
        tp_store_put(s, "a", val(10)); /* loaded: clean */
        tp_store_put(s, "b", val(20));
        assert_int_equal(get(s, "a"), 10);
        assert_int_equal(tp_store_touch(s, "b"), 0);
        *(int *)tp_store_get(s, "b") = 21;
        tp_store_abort(s); /* drops b, the touched one, not a */
        assert_int_equal(get(s, "a"), 10);
        assert_int_equal(get(s, "b"), -1);
        tp_store_destroy(s);
}

/* Pipelined checkpoints: attempt 1 sealed (its commit in flight) while
 * attempt 2 applies; 1 commits, then 2. */
static void test_store__sealed_attempt_commits_under_the_next(void **state)
{
        struct tp_store *s = tp_store_new(release, 1);
        uint64_t g1, g2;
        char seen[16] = "";
        (void)state;
        g_released = 0;
        tp_store_begin(s, 1);
        tp_store_put(s, "a", val(1));
        tp_store_touch(s, "a");
        tp_store_put(s, "b", val(2));
        tp_store_touch(s, "b");
        g1 = tp_store_seal(s);
        assert_true(g1 > 0);
        /* attempt 2 starts: 1's entries are kept and read from memory */
        tp_store_begin(s, 1);
        assert_int_equal(get(s, "a"), 1);
        tp_store_touch(s, "a");
        *(int *)tp_store_get(s, "a") = 10;
        tp_store_put(s, "c", val(3));
        tp_store_touch(s, "c");
        tp_store_each_touched(s, count_touched, seen);
        assert_string_equal(seen, "ac"); /* only attempt 2's */
        g2 = tp_store_seal(s);
        assert_true(g2 > g1);
        /* 1 commits: over the cap of 1, but a and c are pinned by 2 and
         * b is evicted (clean now) */
        tp_store_commit_sealed(s, g1);
        assert_int_equal(get(s, "b"), -1);
        assert_int_equal(get(s, "a"), 10);
        assert_int_equal(get(s, "c"), 3);
        assert_int_equal(g_released, 1);
        tp_store_commit_sealed(s, g2);
        assert_int_equal(tp_store_count(s), 1);
        assert_int_equal(tp_store_stats(s)->dropped, 0);
        tp_store_destroy(s);
}

/* Attempt 1 fails while attempt 2 was built on it: both are dropped. */
static void test_store__abort_drops_sealed_and_open(void **state)
{
        struct tp_store *s = tp_store_new(release, SIZE_MAX);
        (void)state;
        g_released = 0;
        tp_store_begin(s, 1);
        tp_store_put(s, "kept", val(0));
        tp_store_commit(s);
        tp_store_begin(s, 1);
        tp_store_touch(s, "kept");
        tp_store_put(s, "a", val(1));
        tp_store_touch(s, "a");
        tp_store_seal(s);
        tp_store_begin(s, 1);
        tp_store_touch(s, "a");
        tp_store_put(s, "b", val(2));
        tp_store_touch(s, "b");
        tp_store_put(s, "clean", val(9)); /* loaded, not changed */
        tp_store_abort(s);
        assert_int_equal(get(s, "kept"), -1);
        assert_int_equal(get(s, "a"), -1);
        assert_int_equal(get(s, "b"), -1);
        assert_int_equal(get(s, "clean"), 9);
        assert_int_equal(tp_store_count(s), 1);
        assert_int_equal(g_released, 3);
        /* a later commit of what was sealed finds nothing to settle */
        tp_store_commit_sealed(s, 1);
        assert_int_equal(tp_store_count(s), 1);
        tp_store_destroy(s);
}

/* A failed open attempt (begin again) drops only its own entries, even
 * one a sealed attempt touched before; the sealed one still commits. */
static void test_store__begin_keeps_sealed(void **state)
{
        struct tp_store *s = tp_store_new(release, SIZE_MAX);
        uint64_t g;
        (void)state;
        tp_store_begin(s, 1);
        tp_store_put(s, "a", val(1));
        tp_store_touch(s, "a");
        tp_store_put(s, "b", val(2));
        tp_store_touch(s, "b");
        g = tp_store_seal(s);
        tp_store_begin(s, 1);
        tp_store_touch(s, "b");
        *(int *)tp_store_get(s, "b") = 20;
        tp_store_begin(s, 1); /* that attempt failed */
        assert_int_equal(get(s, "a"), 1);
        assert_int_equal(get(s, "b"), -1); /* had uncommitted changes */
        tp_store_commit_sealed(s, g);
        assert_int_equal(get(s, "a"), 1);
        assert_int_equal(tp_store_count(s), 1);
        /* an epoch change drops sealed entries too */
        tp_store_begin(s, 1);
        tp_store_touch(s, "a");
        tp_store_seal(s);
        tp_store_begin(s, 2);
        assert_int_equal(tp_store_count(s), 0);
        tp_store_commit_sealed(s, g + 1);
        tp_store_destroy(s);
}

static void test_strmap__delete(void **state)
{
        struct tp_strmap *map = tp_strmap_new();
        char key[16];
        static int vals[2000];
        (void)state;
        for (int i = 0; i < 2000; i++) {
                snprintf(key, sizeof(key), "key-%d", i);
                vals[i] = i;
                tp_strmap_put(map, key, &vals[i]);
        }
        for (int i = 0; i < 2000; i += 3) {
                snprintf(key, sizeof(key), "key-%d", i);
                assert_ptr_equal(tp_strmap_del(map, key), &vals[i]);
                assert_null(tp_strmap_del(map, key));
        }
        for (int i = 0; i < 2000; i++) {
                snprintf(key, sizeof(key), "key-%d", i);
                if (i % 3 == 0)
                        assert_null(tp_strmap_get(map, key));
                else
                        assert_ptr_equal(tp_strmap_get(map, key), &vals[i]);
        }
        assert_int_equal(tp_strmap_count(map), 2000 - 667);
        tp_strmap_destroy(map);
}

/* The store's table (open addressing, deletion by backward shift) against
 * a model: random puts, deletes and commits over a key space wider than
 * the table's first size, every key read back after each delete and
 * every 97th step. Deletions (and evictions, when cap is below the key
 * space) take entries out of the middle of probe runs, which is where a
 * wrong shift loses a key. Without a cap every key must read exactly its
 * model value; with one, a key may read absent (evicted), never wrong. */
static void check_table(size_t cap)
{
        enum { KEYS = 600, STEPS = 20000 };
        static int model[KEYS]; /* the value put last, or -1: absent */
        struct tp_store *s = tp_store_new(release, cap);
        char key[32];
        unsigned rnd = 12345;
        int exact = cap == SIZE_MAX;
        for (int i = 0; i < KEYS; i++)
                model[i] = -1;
        tp_store_begin(s, 1);
        for (int step = 0; step < STEPS; step++) {
                int i, op;
                rnd = rnd * 1103515245u + 12345u;
                i = (int)((rnd >> 8) % KEYS);
                op = (int)((rnd >> 24) % 4);
                snprintf(key, sizeof(key), "p%d|dossier-%d", i % 7, i);
                if (op <= 1) {
                        tp_store_put(s, key, val(step));
                        tp_store_touch(s, key);
                        model[i] = step;
                } else if (op == 2) {
                        if (tp_store_get(s, key)) {
                                assert_int_equal(tp_store_del(s, key), 0);
                                model[i] = -1;
                        }
                } else {
                        tp_store_commit(s);
                        assert_true(tp_store_count(s) <= cap);
                        tp_store_begin(s, 1);
                }
                if (step % 97 != 0 && op != 2)
                        continue;
                for (int j = 0; j < KEYS; j++) {
                        int v;
                        snprintf(key, sizeof(key), "p%d|dossier-%d", j % 7, j);
                        v = get(s, key);
                        if (exact || v >= 0)
                                assert_int_equal(v, model[j]);
                }
        }
        tp_store_destroy(s);
}

static void test_store__table_against_model(void **state)
{
        (void)state;
        check_table(SIZE_MAX);
        check_table(400);
}

/* tp_htab with hashes set by hand: every other node wants one of the last
 * four slots, whatever the table's size, so probe runs collide all along
 * and wrap around the end (the rest hash as usual); random adds and removes
 * against a model, every node looked up after each step. A removal that shifts
 * back wrongly leaves a node unreachable here. */
static void test_htab__colliding_wrapping_against_model(void **state)
{
        enum { KEYS = 200, STEPS = 6000 };
        static struct tp_htab_node nodes[KEYS];
        static uint64_t hashes[KEYS];
        static char keys[KEYS][8];
        static int in[KEYS];
        struct tp_htab t;
        unsigned rnd = 777;
        size_t n = 0;
        (void)state;
        tp_htab_init(&t);
        for (int i = 0; i < KEYS; i++) {
                snprintf(keys[i], sizeof(keys[i]), "k%d", i);
                nodes[i].key = keys[i];
                nodes[i].len = strlen(keys[i]);
                hashes[i] = i % 2 ? UINT64_MAX - (uint64_t)(i / 2 % 4)
                                  : tp_htab_hash(keys[i], nodes[i].len);
                in[i] = 0;
        }
        for (int step = 0; step < STEPS; step++) {
                int i;
                rnd = rnd * 1103515245u + 12345u;
                i = (int)((rnd >> 8) % KEYS);
                if (in[i]) {
                        tp_htab_remove(&t, &nodes[i], hashes[i]);
                        n--;
                } else {
                        tp_htab_add(&t, &nodes[i], hashes[i]);
                        n++;
                }
                in[i] = !in[i];
                assert_int_equal(t.n, n);
                for (int j = 0; j < KEYS; j++) {
                        struct tp_htab_node *f = tp_htab_find(
                                &t, keys[j], nodes[j].len, hashes[j]);
                        assert_ptr_equal(f, in[j] ? &nodes[j] : NULL);
                }
        }
        {
                size_t pos = 0, seen = 0;
                while (tp_htab_next(&t, &pos))
                        seen++;
                assert_int_equal(seen, n);
        }
        tp_htab_fini(&t);
}

/* A miss makes a new entry, which the checkpoint must write: touched. */
static void test_store__get_or_new_touches_new(void **state)
{
        struct tp_store *s = tp_store_new(release, SIZE_MAX);
        char seen[16] = "";
        int five = 5, six = 6;
        (void)state;
        tp_store_begin(s, 1);
        tp_store_put(s, "a", val(1)); /* loaded: clean */
        assert_int_equal(*(int *)tp_store_get_or_new(s, "a", make_int, &six),
                         1);
        assert_int_equal(*(int *)tp_store_get_or_new(s, "b", make_int, &five),
                         5);
        tp_store_each_touched(s, count_touched, seen);
        assert_string_equal(seen, "b");
        tp_store_abort(s);
        assert_int_equal(get(s, "b"), -1);
        assert_int_equal(get(s, "a"), 1);
        tp_store_destroy(s);
}

/* cap 0: nothing stays resident after a commit */
static void test_store__cap_zero_keeps_nothing(void **state)
{
        struct tp_store *s = tp_store_new(release, 0);
        (void)state;
        tp_store_begin(s, 1);
        tp_store_put(s, "a", val(1));
        tp_store_touch(s, "a");
        assert_int_equal(get(s, "a"), 1);
        tp_store_commit(s);
        assert_int_equal(tp_store_count(s), 0);
        tp_store_destroy(s);
}

struct seen {
        int sum, deleted;
};

static void sum_each(const char *key, void *value, void *ud)
{
        struct seen *sn = ud;
        (void)key;
        if (value)
                sn->sum += *(int *)value;
        else
                sn->deleted++;
}

static void sum_touched(const char *key, void *value, int stored, void *ud)
{
        (void)stored;
        sum_each(key, value, ud);
}

static void del_odd(const char *key, void *value, void *ud)
{
        struct tp_store *s = ud;
        if (*(int *)value % 2)
                assert_int_equal(tp_store_del(s, key), 0);
}

/* A deleted entry reads as absent, is passed to the checkpoint with a
 * NULL value, leaves at commit, comes back on abort as a miss, and a put
 * in the same attempt brings it back as a change, not a deletion. */
static void test_store__delete_in_attempt(void **state)
{
        struct tp_store *s = tp_store_new(release, SIZE_MAX);
        struct seen sn = {0, 0};
        (void)state;
        tp_store_begin(s, 1);
        tp_store_put(s, "a", val(1));
        tp_store_put(s, "b", val(2));
        tp_store_put(s, "c", val(3));
        tp_store_commit(s);

        tp_store_begin(s, 1);
        g_released = 0;
        tp_store_each(s, del_odd, s); /* deletes a and c while iterating */
        assert_int_equal(g_released, 2);
        assert_null(tp_store_get(s, "a"));
        assert_int_equal(tp_store_del(s, "zz"), -1);
        tp_store_each(s, sum_each, &sn);
        assert_int_equal(sn.sum, 2); /* only b is visible */
        assert_int_equal(sn.deleted, 0);
        tp_store_put(s, "c", val(30)); /* c comes back in the attempt */
        memset(&sn, 0, sizeof(sn));
        tp_store_each_touched(s, sum_touched, &sn);
        assert_int_equal(sn.sum, 30);
        assert_int_equal(sn.deleted, 1); /* a */
        tp_store_commit(s);
        assert_int_equal(tp_store_count(s), 2);
        assert_int_equal(get(s, "a"), -1);
        assert_int_equal(get(s, "c"), 30);

        /* a deletion that is abandoned: the entry is gone from memory
         * (the next access re-reads the committed row) */
        tp_store_begin(s, 1);
        assert_int_equal(tp_store_del(s, "b"), 0);
        tp_store_abort(s);
        assert_int_equal(get(s, "b"), -1);
        assert_int_equal(get(s, "c"), 30);
        tp_store_destroy(s);
}

/* A map that owns its values releases each exactly once: when replaced,
 * cleared or destroyed; a deleted value is handed back, not released. */
static void test_strmap__owning_releases(void **state)
{
        struct tp_strmap *map = tp_strmap_new_owning(release);
        int *kept;
        (void)state;
        g_released = 0;
        tp_strmap_put(map, "a", val(1));
        tp_strmap_put(map, "b", val(2));
        tp_strmap_put(map, "a", val(10)); /* replaces: the old one goes */
        assert_int_equal(g_released, 1);
        assert_int_equal(*(int *)tp_strmap_get(map, "a"), 10);
        kept = tp_strmap_del(map, "b");
        assert_int_equal(g_released, 1);
        assert_int_equal(*kept, 2);
        free(kept);
        tp_strmap_put(map, "c", val(3));
        tp_strmap_clear(map);
        assert_int_equal(g_released, 3); /* a and c */
        assert_int_equal(tp_strmap_count(map), 0);
        tp_strmap_put(map, "d", val(4));
        tp_strmap_destroy(map);
        assert_int_equal(g_released, 4);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_store__commit_keeps_abort_drops),
                cmocka_unit_test(test_store__begin_drops_uncommitted),
                cmocka_unit_test(test_store__each_touched_in_order_once),
                cmocka_unit_test(test_store__stored_hint),
                cmocka_unit_test(test_store__epoch_change_drops_all),
                cmocka_unit_test(test_store__evicts_least_recent_clean),
                cmocka_unit_test(
                        test_store__last_found_forgotten_when_it_leaves),
                cmocka_unit_test(test_store__get_or_new_touches_new),
                cmocka_unit_test(test_store__cap_zero_keeps_nothing),
                cmocka_unit_test(test_store__delete_in_attempt),
                cmocka_unit_test(
                        test_store__sealed_attempt_commits_under_the_next),
                cmocka_unit_test(test_store__abort_drops_sealed_and_open),
                cmocka_unit_test(test_store__begin_keeps_sealed),
                cmocka_unit_test(test_store__table_against_model),
                cmocka_unit_test(test_htab__colliding_wrapping_against_model),
                cmocka_unit_test(test_strmap__delete),
                cmocka_unit_test(test_strmap__owning_releases),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
