/* store.c - see store.h. A tp_htab of entries (each entry one
 * allocation, its key inline), plus a doubly
 * linked list in recency order (head: most recent), the list of entries
 * the open attempt touched and the list of those sealed attempts
 * touched. */
#include "store.h"
#include "htab.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

struct tp_store_entry {
        struct tp_htab_node node; /* first: a node is its entry */
        void *value;
        struct tp_store_entry *prev, *next; /* recency */
        uint64_t gen;     /* the last sealed attempt that touched it */
        size_t sealed_at; /* 1 + index in the sealed list, 0: not there */
        int touched;      /* by the open attempt */
        int stored;       /* has a row in the database (each_touched) */
        char key[];
};

/* A key with its length and hash, computed once per call. */
struct tp_store_key {
        const char *s;
        size_t len;
        uint64_t hash;
};

struct tp_store {
        struct tp_htab table;
        struct tp_store_entry *head, *tail;
        struct tp_store_entry **touched;
        size_t n_touched, cap_touched;
        struct tp_store_entry **sealed; /* touched by sealed attempts */
        size_t n_sealed, cap_sealed;
        uint64_t gen; /* of the last sealed attempt */
        void (*release)(void *value);
        size_t cap;
        uint64_t epoch;
        int have_epoch;
        /* The entry found or made last: a consumer touches the key it
         * just got, and finds it here without a second lookup. */
        struct tp_store_entry *last;
        struct tp_store_stats stats;
};

struct tp_store *tp_store_new(void (*release)(void *value), size_t cap)
{
        struct tp_store *s = tp_xcalloc(1, sizeof(*s));
        tp_htab_init(&s->table);
        s->release = release;
        s->cap = cap;
        return s;
}

static struct tp_store_key tp_store_key(const char *key)
{
        struct tp_store_key k;
        k.s = key;
        k.len = strlen(key);
        k.hash = tp_htab_hash(key, k.len);
        return k;
}

static void tp_store_unlink(struct tp_store *s, struct tp_store_entry *e)
{
        if (e->prev)
                e->prev->next = e->next;
        else
                s->head = e->next;
        if (e->next)
                e->next->prev = e->prev;
        else
                s->tail = e->prev;
        e->prev = e->next = NULL;
}

static void tp_store_link_head(struct tp_store *s, struct tp_store_entry *e)
{
        e->prev = NULL;
        e->next = s->head;
        if (s->head)
                s->head->prev = e;
        s->head = e;
        if (!s->tail)
                s->tail = e;
}

static void tp_store_release_value(struct tp_store *s, void *value)
{
        if (s->release && value)
                s->release(value);
}

/* Takes e out of the sealed list (which has no order). */
static void tp_store_unseal(struct tp_store *s, struct tp_store_entry *e)
{
        struct tp_store_entry *last = s->sealed[--s->n_sealed];
        s->sealed[e->sealed_at - 1] = last;
        last->sealed_at = e->sealed_at;
        e->sealed_at = 0;
}

/* Removes e from the map, the recency list and the sealed list and frees
 * it (the caller sees to the open attempt's list). */
static void tp_store_drop(struct tp_store *s, struct tp_store_entry *e)
{
        if (e->sealed_at)
                tp_store_unseal(s, e);
        if (s->last == e)
                s->last = NULL;
        tp_htab_remove(&s->table, &e->node,
                       tp_htab_hash(e->node.key, e->node.len));
        tp_store_unlink(s, e);
        tp_store_release_value(s, e->value);
        free(e);
}

void tp_store_clear(struct tp_store *s)
{
        struct tp_store_entry *e = s->head, *next;
        for (; e; e = next) {
                next = e->next;
                tp_store_release_value(s, e->value);
                free(e);
                s->stats.dropped++;
        }
        s->head = s->tail = NULL;
        s->last = NULL;
        tp_htab_clear(&s->table);
        s->n_touched = 0;
        s->n_sealed = 0;
}

void tp_store_destroy(struct tp_store *s)
{
        if (!s)
                return;
        tp_store_clear(s);
        tp_htab_fini(&s->table);
        free(s->touched);
        free(s->sealed);
        free(s);
}

/* Drops the entries the open attempt touched. */
static void tp_store_abort_open(struct tp_store *s)
{
        for (size_t i = 0; i < s->n_touched; i++) {
                tp_store_drop(s, s->touched[i]);
                s->stats.dropped++;
        }
        s->n_touched = 0;
}

void tp_store_abort(struct tp_store *s)
{
        tp_store_abort_open(s);
        while (s->n_sealed > 0) {
                tp_store_drop(s, s->sealed[s->n_sealed - 1]);
                s->stats.dropped++;
        }
}

void tp_store_begin(struct tp_store *s, uint64_t epoch)
{
        tp_store_abort_open(s);
        if (s->have_epoch && epoch != s->epoch)
                tp_store_clear(s);
        s->epoch = epoch;
        s->have_epoch = 1;
}

/* The entry of k, or NULL; remembered as the last one found. */
static struct tp_store_entry *tp_store_find(struct tp_store *s,
                                            const struct tp_store_key *k)
{
        struct tp_store_entry *e = (struct tp_store_entry *)tp_htab_find(
                &s->table, k->s, k->len, k->hash);
        if (e)
                s->last = e;
        return e;
}

/* tp_store_find for a key that most likely was the last one found (the
 * touch after a get). */
static struct tp_store_entry *tp_store_find_again(struct tp_store *s,
                                                  const char *key)
{
        struct tp_store_key k;
        if (s->last && strcmp(s->last->key, key) == 0)
                return s->last;
        k = tp_store_key(key);
        return tp_store_find(s, &k);
}

/* e's value, counted as a hit and made the most recent, or NULL (a miss:
 * absent or deleted). */
static void *tp_store_use(struct tp_store *s, struct tp_store_entry *e)
{
        if (!e || !e->value) {
                s->stats.misses++;
                return NULL;
        }
        s->stats.hits++;
        if (s->head != e) {
                tp_store_unlink(s, e);
                tp_store_link_head(s, e);
        }
        return e->value;
}

void *tp_store_get(struct tp_store *s, const char *key)
{
        struct tp_store_key k = tp_store_key(key);
        return tp_store_use(s, tp_store_find(s, &k));
}

/* tp_store_put for k, whose entry is e (NULL: absent), returning the
 * entry. */
static struct tp_store_entry *tp_store_put_entry(struct tp_store *s,
                                                 const struct tp_store_key *k,
                                                 struct tp_store_entry *e,
                                                 void *value)
{
        if (e) {
                if (e->value != value)
                        tp_store_release_value(s, e->value);
                e->value = value;
                tp_store_unlink(s, e);
        } else {
                e = tp_xcalloc(1, sizeof(*e) + k->len + 1);
                memcpy(e->key, k->s, k->len + 1);
                e->node.key = e->key;
                e->node.len = k->len;
                e->value = value;
                tp_htab_add(&s->table, &e->node, k->hash);
                s->last = e;
        }
        tp_store_link_head(s, e);
        return e;
}

void tp_store_put(struct tp_store *s, const char *key, void *value)
{
        struct tp_store_key k = tp_store_key(key);
        tp_store_put_entry(s, &k, tp_store_find(s, &k), value)->stored = 1;
}

/* Appends e to a growing list of entries (the touched or sealed one). */
static void tp_store_push(struct tp_store_entry ***list, size_t *n, size_t *cap,
                          struct tp_store_entry *e)
{
        if (*n == *cap) {
                *cap = *cap ? *cap * 2 : 256;
                *list = tp_xrealloc(*list, *cap * sizeof(**list));
        }
        (*list)[(*n)++] = e;
}

static void tp_store_touch_entry(struct tp_store *s, struct tp_store_entry *e)
{
        if (e->touched)
                return;
        e->touched = 1;
        tp_store_push(&s->touched, &s->n_touched, &s->cap_touched, e);
}

void *tp_store_get_or_new(struct tp_store *s, const char *key,
                          void *(*make)(const void *ctx), const void *ctx)
{
        struct tp_store_key k = tp_store_key(key);
        struct tp_store_entry *e = tp_store_find(s, &k);
        void *value = tp_store_use(s, e);
        if (!value) {
                value = make(ctx);
                tp_store_touch_entry(s, tp_store_put_entry(s, &k, e, value));
        }
        return value;
}

int tp_store_touch(struct tp_store *s, const char *key)
{
        struct tp_store_entry *e = tp_store_find_again(s, key);
        if (!e)
                return -1;
        tp_store_touch_entry(s, e);
        return 0;
}

int tp_store_del(struct tp_store *s, const char *key)
{
        struct tp_store_entry *e = tp_store_find_again(s, key);
        if (!e)
                return -1;
        tp_store_touch_entry(s, e);
        tp_store_release_value(s, e->value);
        e->value = NULL;
        return 0;
}

void tp_store_each(struct tp_store *s,
                   void (*fn)(const char *key, void *value, void *ud), void *ud)
{
        struct tp_htab_node *node;
        size_t pos = 0;
        while ((node = tp_htab_next(&s->table, &pos)) != NULL) {
                struct tp_store_entry *e = (struct tp_store_entry *)node;
                if (e->value)
                        fn(e->key, e->value, ud);
        }
}

void tp_store_each_touched(struct tp_store *s,
                           void (*fn)(const char *key, void *value, int stored,
                                      void *ud),
                           void *ud)
{
        for (size_t i = 0; i < s->n_touched; i++) {
                const struct tp_store_entry *e = s->touched[i];
                fn(e->key, e->value, e->stored, ud);
        }
}

uint64_t tp_store_seal(struct tp_store *s)
{
        uint64_t gen = ++s->gen;
        for (size_t i = 0; i < s->n_touched; i++) {
                struct tp_store_entry *e = s->touched[i];
                e->touched = 0;
                e->stored = e->value != NULL; /* once gen commits */
                e->gen = gen;
                if (e->sealed_at)
                        continue;
                tp_store_push(&s->sealed, &s->n_sealed, &s->cap_sealed, e);
                e->sealed_at = s->n_sealed;
        }
        s->n_touched = 0;
        return gen;
}

/* Evicts clean entries, least recent first, while more than cap are
 * resident; entries an attempt changed and has not committed stay. */
static void tp_store_evict(struct tp_store *s)
{
        struct tp_store_entry *e = s->tail, *prev;
        for (; e && s->table.n > s->cap; e = prev) {
                prev = e->prev;
                if (e->touched || e->sealed_at)
                        continue;
                tp_store_drop(s, e);
                s->stats.evicted++;
        }
}

/* The sealed attempts up to gen committed: their entries are clean
 * again, and those they deleted leave. */
static void tp_store_settle_sealed(struct tp_store *s, uint64_t gen)
{
        size_t i = 0;
        while (i < s->n_sealed) {
                struct tp_store_entry *e = s->sealed[i];
                if (e->gen > gen) {
                        i++;
                        continue;
                }
                tp_store_unseal(s, e); /* moves the last one to i */
                if (!e->value && !e->touched)
                        tp_store_drop(s, e); /* deleted, and committed */
        }
}

void tp_store_commit_sealed(struct tp_store *s, uint64_t gen)
{
        tp_store_settle_sealed(s, gen);
        tp_store_evict(s);
}

void tp_store_commit(struct tp_store *s)
{
        tp_store_settle_sealed(s, s->gen);
        for (size_t i = 0; i < s->n_touched; i++) {
                struct tp_store_entry *e = s->touched[i];
                e->touched = 0;
                e->stored = 1;
                if (!e->value)
                        tp_store_drop(s, e);
        }
        s->n_touched = 0;
        tp_store_evict(s);
}

size_t tp_store_count(const struct tp_store *s)
{
        return s->table.n;
}

size_t tp_store_cap(const struct tp_store *s)
{
        return s->cap;
}

const struct tp_store_stats *tp_store_stats(const struct tp_store *s)
{
        return &s->stats;
}
