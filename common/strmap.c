/* strmap.c - see strmap.h. Linear probing, power-of-two capacity. */
#include "strmap.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

struct tp_strmap_slot {
        char *key;
        void *value;
        size_t hash;
};

struct tp_strmap {
        struct tp_strmap_slot *slots;
        size_t cap, n;
        void (*release)(void *value); /* NULL: values are borrowed */
};

struct tp_strmap *tp_strmap_new_owning(void (*release)(void *value))
{
        struct tp_strmap *map = tp_xcalloc(1, sizeof(*map));
        map->cap = 64;
        map->slots = tp_xcalloc(map->cap, sizeof(*map->slots));
        map->release = release;
        return map;
}

struct tp_strmap *tp_strmap_new(void)
{
        return tp_strmap_new_owning(NULL);
}

void tp_strmap_clear(struct tp_strmap *map)
{
        for (size_t i = 0; i < map->cap; i++) {
                if (map->slots[i].key && map->release && map->slots[i].value)
                        map->release(map->slots[i].value);
                free(map->slots[i].key);
                map->slots[i].key = NULL;
                map->slots[i].value = NULL;
        }
        map->n = 0;
}

void tp_strmap_destroy(struct tp_strmap *map)
{
        if (!map)
                return;
        tp_strmap_clear(map);
        free(map->slots);
        free(map);
}

static struct tp_strmap_slot *tp_strmap_find(const struct tp_strmap *map,
                                             const char *key, size_t h)
{
        size_t i = h & (map->cap - 1);
        while (map->slots[i].key) {
                if (map->slots[i].hash == h &&
                    strcmp(map->slots[i].key, key) == 0)
                        break;
                i = (i + 1) & (map->cap - 1);
        }
        return &map->slots[i];
}

static void tp_strmap_grow(struct tp_strmap *map)
{
        struct tp_strmap_slot *old = map->slots;
        size_t oldcap = map->cap;
        map->cap *= 2;
        map->slots = tp_xcalloc(map->cap, sizeof(*map->slots));
        for (size_t i = 0; i < oldcap; i++) {
                struct tp_strmap_slot *s;
                if (!old[i].key)
                        continue;
                s = tp_strmap_find(map, old[i].key, old[i].hash);
                *s = old[i];
        }
        free(old);
}

void *tp_strmap_get(const struct tp_strmap *map, const char *key)
{
        size_t h = (size_t)tp_hash64(key, strlen(key), 0);
        struct tp_strmap_slot *s = tp_strmap_find(map, key, h);
        return s->key ? s->value : NULL;
}

void tp_strmap_put(struct tp_strmap *map, const char *key, void *value)
{
        size_t h = (size_t)tp_hash64(key, strlen(key), 0);
        struct tp_strmap_slot *s;
        if ((map->n + 1) * 4 > map->cap * 3)
                tp_strmap_grow(map);
        s = tp_strmap_find(map, key, h);
        if (!s->key) {
                s->key = tp_xstrdup(key);
                s->hash = h;
                map->n++;
        } else if (map->release && s->value && s->value != value) {
                map->release(s->value);
        }
        s->value = value;
}

/* Backward-shift deletion: the entries after the hole that may live
 * there move up, so lookups never need tombstones. */
void *tp_strmap_del(struct tp_strmap *map, const char *key)
{
        size_t h = (size_t)tp_hash64(key, strlen(key), 0);
        size_t mask = map->cap - 1, i, j, k;
        struct tp_strmap_slot *s = tp_strmap_find(map, key, h);
        void *value;

        if (!s->key)
                return NULL;
        value = s->value;
        free(s->key);
        s->key = NULL;
        map->n--;
        i = j = (size_t)(s - map->slots);
        for (;;) {
                j = (j + 1) & mask;
                if (!map->slots[j].key)
                        break;
                k = map->slots[j].hash & mask; /* where it wants to be */
                /* it stays when k lies cyclically in (i, j] */
                if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
                        continue;
                map->slots[i] = map->slots[j];
                map->slots[j].key = NULL;
                i = j;
        }
        return value;
}

size_t tp_strmap_count(const struct tp_strmap *map)
{
        return map->n;
}

void tp_strmap_each(const struct tp_strmap *map,
                    void (*fn)(const char *key, void *value, void *ud),
                    void *ud)
{
        for (size_t i = 0; i < map->cap; i++)
                if (map->slots[i].key)
                        fn(map->slots[i].key, map->slots[i].value, ud);
}
