/* strmap.c - see strmap.h. Entries in a tp_htab, each one allocation with
 * its key inline. */
#include "strmap.h"
#include "htab.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

struct tp_strmap_entry {
        struct tp_htab_node node; /* first: a node is its entry */
        void *value;
        char key[];
};

struct tp_strmap {
        struct tp_htab table;
        void (*release)(void *value); /* NULL: values are borrowed */
};

struct tp_strmap *tp_strmap_new_owning(void (*release)(void *value))
{
        struct tp_strmap *map = tp_xcalloc(1, sizeof(*map));
        tp_htab_init(&map->table);
        map->release = release;
        return map;
}

struct tp_strmap *tp_strmap_new(void)
{
        return tp_strmap_new_owning(NULL);
}

void tp_strmap_clear(struct tp_strmap *map)
{
        struct tp_htab_node *node;
        size_t pos = 0;
        while ((node = tp_htab_next(&map->table, &pos)) != NULL) {
                struct tp_strmap_entry *e = (struct tp_strmap_entry *)node;
                if (map->release && e->value)
                        map->release(e->value);
                free(e);
        }
        tp_htab_clear(&map->table);
}

void tp_strmap_destroy(struct tp_strmap *map)
{
        if (!map)
                return;
        tp_strmap_clear(map);
        tp_htab_fini(&map->table);
        free(map);
}

static struct tp_strmap_entry *tp_strmap_find(const struct tp_strmap *map,
                                              const char *key, size_t len,
                                              uint64_t hash)
{
        return (struct tp_strmap_entry *)tp_htab_find(&map->table, key, len,
                                                      hash);
}

void *tp_strmap_get(const struct tp_strmap *map, const char *key)
{
        size_t len = strlen(key);
        struct tp_strmap_entry *e =
                tp_strmap_find(map, key, len, tp_htab_hash(key, len));
        return e ? e->value : NULL;
}

void tp_strmap_put(struct tp_strmap *map, const char *key, void *value)
{
        size_t len = strlen(key);
        uint64_t hash = tp_htab_hash(key, len);
        struct tp_strmap_entry *e = tp_strmap_find(map, key, len, hash);
        if (e) {
                if (map->release && e->value && e->value != value)
                        map->release(e->value);
                e->value = value;
                return;
        }
        e = tp_xmalloc(sizeof(*e) + len + 1);
        memcpy(e->key, key, len + 1);
        e->node.key = e->key;
        e->node.len = len;
        e->value = value;
        tp_htab_add(&map->table, &e->node, hash);
}

void *tp_strmap_del(struct tp_strmap *map, const char *key)
{
        size_t len = strlen(key);
        uint64_t hash = tp_htab_hash(key, len);
        struct tp_strmap_entry *e = tp_strmap_find(map, key, len, hash);
        void *value;
        if (!e)
                return NULL;
        value = e->value;
        tp_htab_remove(&map->table, &e->node, hash);
        free(e);
        return value;
}

size_t tp_strmap_count(const struct tp_strmap *map)
{
        return map->table.n;
}

void tp_strmap_each(const struct tp_strmap *map,
                    void (*fn)(const char *key, void *value, void *ud),
                    void *ud)
{
        struct tp_htab_node *node;
        size_t pos = 0;
        while ((node = tp_htab_next(&map->table, &pos)) != NULL) {
                struct tp_strmap_entry *e = (struct tp_strmap_entry *)node;
                fn(e->key, e->value, ud);
        }
}
