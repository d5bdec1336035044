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
};

struct tp_strmap *tp_strmap_new(void)
{
        struct tp_strmap *m = tp_xcalloc(1, sizeof(*m));
        m->cap = 64;
        m->slots = tp_xcalloc(m->cap, sizeof(*m->slots));
        return m;
}

void tp_strmap_clear(struct tp_strmap *m)
{
        for (size_t i = 0; i < m->cap; i++) {
                free(m->slots[i].key);
                m->slots[i].key = NULL;
        }
        m->n = 0;
}

void tp_strmap_destroy(struct tp_strmap *m)
{
        if (!m)
                return;
        tp_strmap_clear(m);
        free(m->slots);
        free(m);
}

static struct tp_strmap_slot *tp_strmap_find(const struct tp_strmap *m,
                                             const char *key, size_t h)
{
        size_t i = h & (m->cap - 1);
        while (m->slots[i].key) {
                if (m->slots[i].hash == h && strcmp(m->slots[i].key, key) == 0)
                        break;
                i = (i + 1) & (m->cap - 1);
        }
        return &m->slots[i];
}

static void tp_strmap_grow(struct tp_strmap *m)
{
        struct tp_strmap_slot *old = m->slots;
        size_t oldcap = m->cap;
        m->cap *= 2;
        m->slots = tp_xcalloc(m->cap, sizeof(*m->slots));
        for (size_t i = 0; i < oldcap; i++) {
                struct tp_strmap_slot *s;
                if (!old[i].key)
                        continue;
                s = tp_strmap_find(m, old[i].key, old[i].hash);
                *s = old[i];
        }
        free(old);
}

void *tp_strmap_get(const struct tp_strmap *m, const char *key)
{
        size_t h = (size_t)tp_hash64(key, strlen(key), 0);
        struct tp_strmap_slot *s = tp_strmap_find(m, key, h);
        return s->key ? s->value : NULL;
}

void tp_strmap_put(struct tp_strmap *m, const char *key, void *value)
{
        size_t h = (size_t)tp_hash64(key, strlen(key), 0);
        struct tp_strmap_slot *s;
        if ((m->n + 1) * 4 > m->cap * 3)
                tp_strmap_grow(m);
        s = tp_strmap_find(m, key, h);
        if (!s->key) {
                s->key = tp_xstrdup(key);
                s->hash = h;
                m->n++;
        }
        s->value = value;
}

/* Backward-shift deletion: the entries after the hole that may live
 * there move up, so lookups never need tombstones. */
void *tp_strmap_del(struct tp_strmap *m, const char *key)
{
        size_t h = (size_t)tp_hash64(key, strlen(key), 0);
        size_t mask = m->cap - 1, i, j, k;
        struct tp_strmap_slot *s = tp_strmap_find(m, key, h);
        void *value;

        if (!s->key)
                return NULL;
        value = s->value;
        free(s->key);
        s->key = NULL;
        m->n--;
        i = j = (size_t)(s - m->slots);
        for (;;) {
                j = (j + 1) & mask;
                if (!m->slots[j].key)
                        break;
                k = m->slots[j].hash & mask; /* where it wants to be */
                /* it stays when k lies cyclically in (i, j] */
                if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
                        continue;
                m->slots[i] = m->slots[j];
                m->slots[j].key = NULL;
                i = j;
        }
        return value;
}

size_t tp_strmap_count(const struct tp_strmap *m)
{
        return m->n;
}

void tp_strmap_each(const struct tp_strmap *m,
                    void (*fn)(const char *key, void *value, void *ud),
                    void *ud)
{
        for (size_t i = 0; i < m->cap; i++)
                if (m->slots[i].key)
                        fn(m->slots[i].key, m->slots[i].value, ud);
}
