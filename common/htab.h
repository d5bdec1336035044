/* htab.h - the one string-keyed hash table under tp_strmap and tp_store:
 * open addressing with linear probing over a power-of-two number of
 * slots, at most three quarters full; deletion shifts the entries after
 * the hole back, so lookups never need tombstones. A slot holds a node's
 * hash beside the pointer, so probing past other keys reads no node.
 *
 * The table is intrusive: it holds pointers to nodes its user embeds in
 * its own entries (one allocation per entry, the key usually inline after
 * it) and never allocates, frees or copies a node or a key. A node's key
 * and length are set by the user before tp_htab_add and must not change
 * while the node is in the table. */
#ifndef TP_HTAB_H
#define TP_HTAB_H

#include <stddef.h>
#include <stdint.h>

struct tp_htab_node {
        const char *key; /* owned by the entry that embeds the node */
        size_t len;
};

struct tp_htab_slot {
        uint64_t hash;             /* tp_htab_hash of node's key */
        struct tp_htab_node *node; /* NULL: free */
};

struct tp_htab {
        struct tp_htab_slot *slots;
        size_t n_slots, n;
};

/* The hash of a key, which callers compute once and pass along. */
uint64_t tp_htab_hash(const char *key, size_t len);

void tp_htab_init(struct tp_htab *t);
/* Frees the slots; the nodes are the user's. */
void tp_htab_fini(struct tp_htab *t);
/* Forgets every node, keeping the slots. */
void tp_htab_clear(struct tp_htab *t);

/* The node with this key, or NULL. */
struct tp_htab_node *tp_htab_find(const struct tp_htab *t, const char *key,
                                  size_t len, uint64_t hash);
/* Adds node, whose key is not in the table and hashes to hash (growing
 * the table as needed). */
void tp_htab_add(struct tp_htab *t, struct tp_htab_node *node, uint64_t hash);
/* Takes node, which is in the table under hash, out of it. */
void tp_htab_remove(struct tp_htab *t, struct tp_htab_node *node,
                    uint64_t hash);

/* Iteration in slot order: the node in the first occupied slot at or
 * after *pos, with *pos moved past it; NULL at the end. Start with
 * *pos = 0. Nodes must not be added or removed while iterating (freeing
 * every node and then tp_htab_clear is fine). */
struct tp_htab_node *tp_htab_next(const struct tp_htab *t, size_t *pos);

#endif
