/* table_bench: ns per operation of the consumers' in-memory tables
 * (common/htab under tp_store and tp_strmap; docs/performance.md, "One
 * table under the store and the maps"). Keys look like the store's
 * dossier keys ("<province>|<dossier id>"), visited in a scattered order
 * as a national batch visits them.
 *
 * usage: table_bench [N]   (default 1,000,000 resident dossiers)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store.h"
#include "strmap.h"
#include "util.h"

enum { TABLE_BENCH_KEY = 64, TABLE_BENCH_MAP = 20000 };

static double now_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *make_value(const void *ctx)
{
        (void)ctx;
        return tp_xmalloc(16);
}

/* The i-th key of a scattered walk over n keys. */
static size_t scatter(size_t i, size_t n)
{
        return (size_t)(((uint64_t)i * 2654435761u) % n);
}

int main(int argc, char **argv)
{
        size_t n = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 1000000;
        char(*keys)[TABLE_BENCH_KEY];
        struct tp_store *store;
        struct tp_strmap *map;
        size_t found = 0, n_map;
        double t0, t1, t2, t3;

        if (n == 0)
                n = 1;
        keys = tp_xmalloc(n * sizeof(*keys));
        for (size_t i = 0; i < n; i++)
                snprintf(keys[i], sizeof(keys[i]), "%02zu|G%07zu-2025-%06zu",
                         i % 34 + 1, scatter(i, n), i);

        t0 = now_s();
        store = tp_store_new(free, SIZE_MAX);
        tp_store_begin(store, 1);
        for (size_t i = 0; i < n; i++)
                (void)tp_store_get_or_new(store, keys[i], make_value, NULL);
        tp_store_commit(store);
        t1 = now_s();
        for (int round = 0; round < 5; round++) {
                tp_store_begin(store, 1);
                for (size_t i = 0; i < n; i++) {
                        const char *key = keys[scatter(i, n)];
                        if (tp_store_get(store, key)) {
                                found++;
                                tp_store_touch(store, key);
                        }
                }
                tp_store_commit(store);
        }
        t2 = now_s();

        n_map = n < TABLE_BENCH_MAP ? n : TABLE_BENCH_MAP;
        map = tp_strmap_new();
        for (size_t i = 0; i < n_map; i++)
                tp_strmap_put(map, keys[i], keys[i]);
        for (int round = 0; round < 200; round++)
                for (size_t i = 0; i < n_map; i++)
                        if (tp_strmap_get(map, keys[scatter(i, n_map)]))
                                found++;
        t3 = now_s();

        printf("store: %zu new entries %.0f ns each; get + touch %.0f ns "
               "each (5 rounds)\n",
               n, (t1 - t0) * 1e9 / (double)n,
               (t2 - t1) * 1e9 / (5.0 * (double)n));
        printf("strmap: %zu keys, get %.0f ns each (200 rounds)\n", n_map,
               (t3 - t2) * 1e9 / (200.0 * (double)n_map));
        tp_strmap_destroy(map);
        tp_store_destroy(store);
        free(keys);
        return found == 5 * n + 200 * n_map ? 0 : 1;
}
