/* strmap.h - a string-keyed hash map (open addressing). Keys are copied.
 * Values are borrowed pointers the caller owns (tp_strmap_new), or owned
 * by the map (tp_strmap_new_owning): released when replaced by
 * tp_strmap_put, by tp_strmap_clear and by tp_strmap_destroy, never by
 * tp_strmap_del, which hands the value back. */
#ifndef TP_STRMAP_H
#define TP_STRMAP_H

#include <stddef.h>

struct tp_strmap;

struct tp_strmap *tp_strmap_new(void);
struct tp_strmap *tp_strmap_new_owning(void (*release)(void *value));
void tp_strmap_destroy(struct tp_strmap *map);
/* Removes every entry, keeping the capacity. */
void tp_strmap_clear(struct tp_strmap *map);
/* The value for key, or NULL. */
void *tp_strmap_get(const struct tp_strmap *map, const char *key);
/* Inserts or replaces. */
void tp_strmap_put(struct tp_strmap *map, const char *key, void *value);
/* Removes key; returns its value (the caller's to free), or NULL. */
void *tp_strmap_del(struct tp_strmap *map, const char *key);
size_t tp_strmap_count(const struct tp_strmap *map);
/* Calls fn for each entry, in no particular order. */
void tp_strmap_each(const struct tp_strmap *map,
                    void (*fn)(const char *key, void *value, void *ud),
                    void *ud);

#endif
