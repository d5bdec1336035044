/* htab.c - see htab.h. */
#include "htab.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

uint64_t tp_htab_hash(const char *key, size_t len)
{
        return tp_hash64(key, len, 0);
}

void tp_htab_init(struct tp_htab *t)
{
        t->n_slots = 64;
        t->slots = tp_xcalloc(t->n_slots, sizeof(*t->slots));
        t->n = 0;
}

void tp_htab_fini(struct tp_htab *t)
{
        free(t->slots);
        t->slots = NULL;
        t->n_slots = t->n = 0;
}

void tp_htab_clear(struct tp_htab *t)
{
        memset(t->slots, 0, t->n_slots * sizeof(*t->slots));
        t->n = 0;
}

struct tp_htab_node *tp_htab_find(const struct tp_htab *t, const char *key,
                                  size_t len, uint64_t hash)
{
        size_t mask = t->n_slots - 1, i = (size_t)hash & mask;
        const struct tp_htab_slot *slot;
        for (; (slot = &t->slots[i])->node != NULL; i = (i + 1) & mask) {
                if (slot->hash == hash && slot->node->len == len &&
                    memcmp(slot->node->key, key, len) == 0)
                        return slot->node;
        }
        return NULL;
}

/* Puts a slot in the first free one from where its hash wants it. */
static void tp_htab_place(struct tp_htab *t, struct tp_htab_slot slot)
{
        size_t mask = t->n_slots - 1, i = (size_t)slot.hash & mask;
        while (t->slots[i].node)
                i = (i + 1) & mask;
        t->slots[i] = slot;
}

static void tp_htab_grow(struct tp_htab *t)
{
        struct tp_htab_slot *old = t->slots;
        size_t n_old = t->n_slots;
        t->n_slots *= 2;
        t->slots = tp_xcalloc(t->n_slots, sizeof(*t->slots));
        for (size_t i = 0; i < n_old; i++)
                if (old[i].node)
                        tp_htab_place(t, old[i]);
        free(old);
}

void tp_htab_add(struct tp_htab *t, struct tp_htab_node *node, uint64_t hash)
{
        struct tp_htab_slot slot;
        if ((t->n + 1) * 4 > t->n_slots * 3)
                tp_htab_grow(t);
        slot.hash = hash;
        slot.node = node;
        tp_htab_place(t, slot);
        t->n++;
}

/* The entries after the hole that may live there move up. */
void tp_htab_remove(struct tp_htab *t, struct tp_htab_node *node, uint64_t hash)
{
        size_t mask = t->n_slots - 1, i, j, k;
        i = (size_t)hash & mask;
        while (t->slots[i].node != node)
                i = (i + 1) & mask;
        t->slots[i].node = NULL;
        t->n--;
        for (j = i;;) {
                j = (j + 1) & mask;
                if (!t->slots[j].node)
                        break;
                k = (size_t)t->slots[j].hash & mask; /* where it wants to be */
                /* it stays when k lies cyclically in (i, j] */
                if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
                        continue;
                t->slots[i] = t->slots[j];
                t->slots[j].node = NULL;
                i = j;
        }
}

struct tp_htab_node *tp_htab_next(const struct tp_htab *t, size_t *pos)
{
        while (*pos < t->n_slots) {
                struct tp_htab_node *node = t->slots[(*pos)++].node;
                if (node)
                        return node;
        }
        return NULL;
}
