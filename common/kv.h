/* kv.h - the "key = value" text shared by the config file (cfg.c) and
 * tthc-alert's rules file: one pair per line; blank lines and lines whose
 * first non-space character is '#' are skipped; spaces around the key and
 * the value are trimmed. With TP_KV_VALUE_COMMENTS a '#' in a value starts
 * a comment (rules: numbers only); without it, '#' is part of the value
 * (config: a conninfo or a password may hold one). */
#ifndef TP_KV_H
#define TP_KV_H

#include <stddef.h>

#define TP_KV_VALUE_COMMENTS 1

/* Called for each pair (line: 1-based); returns 0, or -1 with err. */
typedef int (*tp_kv_fn)(void *ud, char *key, const char *value, int line,
                        char *err, size_t err_size);

/* Parses text (origin names it in errors: "origin:line: message") and
 * calls fn for each pair, stopping at the first error. Returns 0 or -1
 * with errstr. */
int tp_kv_parse(const char *text, const char *origin, int flags, tp_kv_fn fn,
                void *ud, char *errstr, size_t errstr_size);

#endif
