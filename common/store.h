/* store.h - consumer state kept in memory across batches, checkpointed
 * with each batch transaction.
 *
 * A consumer used to read, for every batch, the state of each dossier the
 * batch touches from PostgreSQL, apply the events and write the rows back.
 * The store keeps that state resident between batches, so a batch reads
 * only the keys it misses; the consumer still writes exactly the entries
 * the batch changed (the checkpoint), in the transaction that moves its
 * offsets.
 *
 * What it guarantees, whatever the consumer's call pattern:
 *  - Resident state is never ahead of what is committed: an entry changed
 *    by an attempt that did not commit (a failed or rolled-back write, a
 *    bisection trial, a fence) is dropped before the next attempt, so the
 *    next access misses and re-reads the committed row.
 *  - When state outside this process may have changed (a rebalance, a
 *    fence: another instance may have written the same keys), every entry
 *    is dropped: the consumer passes its batch epoch to tp_store_begin.
 *  - Residency is an optimisation only: a miss always consults the
 *    database; clean entries are evicted, least recently used first, once
 *    more than cap are resident (entries changed by the open attempt never
 *    are).
 *
 * Usage, per write attempt:
 *   tp_store_begin(s, b->epoch);
 *   for each key: v = tp_store_get(s, key); collect misses
 *   load the misses from PostgreSQL (one query), tp_store_put each;
 *   for each key changed: tp_store_touch(s, key) before changing it
 *   write the rows of tp_store_each_touched
 * and once the transaction committed (the handler's done): tp_store_commit;
 * when it was abandoned: tp_store_abort.
 *
 * A pipelined checkpoint (common/consumer.h, "stage" and "flush") applies
 * batch n+1 while batch n commits: the handler seals n's attempt
 * (tp_store_seal) once its rows are written into buffers, then begins
 * n+1's. A sealed attempt's entries stay resident and pinned, so n+1
 * reads n's uncommitted state from memory and never a stale row from the
 * database; tp_store_commit_sealed(gen) settles n once it committed, and
 * tp_store_abort drops the open attempt and every sealed one (n failed:
 * n+1 was built on it). An entry a sealed attempt deleted reads as
 * absent until that attempt commits (then it leaves): a handler whose
 * misses read the database would read its older row there, so it must
 * not delete in an attempt it seals. tthc-alert, which deletes closed
 * dossiers, loads a partition's state whole: a miss is a new dossier,
 * never a read.
 *
 * Values are the caller's objects: the store owns them once put and frees
 * them with the release function given to tp_store_new. Not thread-safe. */
#ifndef TP_STORE_H
#define TP_STORE_H

#include <stddef.h>
#include <stdint.h>

struct tp_store;

struct tp_store_stats {
        uint64_t hits, misses; /* tp_store_get */
        uint64_t evicted;      /* clean entries dropped over the cap */
        uint64_t dropped;      /* entries dropped by abort or an epoch change */
};

/* release frees a value (may be NULL when values need no freeing); cap is
 * the number of resident entries kept after a commit (0: none, every
 * batch reads its keys again; SIZE_MAX: no limit). */
struct tp_store *tp_store_new(void (*release)(void *value), size_t cap);
void tp_store_destroy(struct tp_store *s);

/* Starts a write attempt: drops what a previous attempt changed without
 * committing or sealing, and every entry (sealed ones too) when epoch
 * differs from the last one seen. */
void tp_store_begin(struct tp_store *s, uint64_t epoch);

/* The resident value of key (owned by the store), or NULL on a miss. */
void *tp_store_get(struct tp_store *s, const char *key);

/* Makes value resident under key (replacing and releasing any previous
 * one): a row read from the database (stored, tp_store_each_touched). */
void tp_store_put(struct tp_store *s, const char *key, void *value);

/* The resident value of key, or, on a miss, make(ctx) put under key and
 * touched (a new entry is always written by the checkpoint). */
void *tp_store_get_or_new(struct tp_store *s, const char *key,
                          void *(*make)(const void *ctx), const void *ctx);

/* Marks the resident key as changed by the open attempt (call before the
 * change). Returns 0, or -1 when key is not resident. */
int tp_store_touch(struct tp_store *s, const char *key);

/* Deletes the resident key in the open attempt: its value is released, it
 * reads as absent (tp_store_get returns NULL, tp_store_put or
 * tp_store_get_or_new bring it back, touched), tp_store_each_touched passes
 * it with a NULL value (the checkpoint deletes its row), and it leaves the
 * store at commit. Safe inside tp_store_each. Returns 0, or -1 when key is
 * not resident. */
int tp_store_del(struct tp_store *s, const char *key);

/* Calls fn for each resident entry (deleted ones aside), in no set order.
 * fn may touch or delete the entry it is given, nothing else. */
void tp_store_each(struct tp_store *s,
                   void (*fn)(const char *key, void *value, void *ud),
                   void *ud);

/* Calls fn for each entry touched by the open attempt, in touch order
 * (value NULL: deleted). stored is 1 when the key has a row in the
 * database as far as the store knows: it was put (read from it), or an
 * attempt that touched it since was sealed or committed (its checkpoint
 * wrote the row); 0 for a key new since (tp_store_get_or_new). A hint,
 * not a fact: another writer may have inserted or deleted the row
 * meanwhile (common/store_pg.h, tp_store_pg_write). */
void tp_store_each_touched(struct tp_store *s,
                           void (*fn)(const char *key, void *value, int stored,
                                      void *ud),
                           void *ud);

/* The open attempt committed: its changes (and those of every sealed
 * attempt) are the committed state. Then evicts clean entries over the
 * cap. */
void tp_store_commit(struct tp_store *s);

/* Ends the open attempt without settling it: its entries stay pinned
 * until tp_store_commit_sealed or tp_store_abort, and the next
 * tp_store_begin keeps them. Returns the attempt's generation (> 0). */
uint64_t tp_store_seal(struct tp_store *s);

/* The sealed attempts up to generation gen committed; then evicts as
 * tp_store_commit. */
void tp_store_commit_sealed(struct tp_store *s, uint64_t gen);

/* The open attempt did not commit: drops the entries it touched, and
 * those of every sealed attempt. */
void tp_store_abort(struct tp_store *s);

/* Drops every entry. */
void tp_store_clear(struct tp_store *s);

size_t tp_store_count(const struct tp_store *s);
size_t tp_store_cap(const struct tp_store *s);
const struct tp_store_stats *tp_store_stats(const struct tp_store *s);

#endif
