/* avrodec.h - decoding vn.tthc.FilingEvent from any compatible writer
 * schema into the reader's shape (struct tp_event).
 *
 * avro-c 1.11.1's resolver rejects reader fields that the writer lacks and
 * ignores defaults, and its string/bytes readers allocate whatever length
 * the data claims. So avro-c only parses the writer schema; fields are
 * mapped by name into struct tp_event, missing ones filled from the reader
 * schema's defaults.
 *
 * The direct decoder (the default): tp_avrodec_new compiles a plan from
 * the writer schema, one step per writer record field: read into reader
 * field i (its type, or each branch of its union) or skip. A decode is one
 * pass over the bytes that is the bounds walk, keeping the mapped values
 * as it goes (numbers, where strings lie in the body), then the checks of
 * each reader field in the reader's order. No avro-c value is built; only
 * the event's strings are allocated.
 *
 * The generic path (the fallback): the bounds walk, then avro_value_read
 * into a reused avro-c generic value, then the fields out of it. Both give
 * the same reason, the same error text and the same event for every body
 * (tests/unit/test_avrodec.c replays the fuzz corpus through both). A
 * writer schema falls back to it, decided once at tp_avrodec_new, when a
 * mapped field is a union with a union branch (no valid Avro; avro-c's
 * reading of it is not mirrored).
 *
 * Not thread-safe (libavro keeps a global error buffer): decode on one
 * thread.
 */
#ifndef TP_AVRODEC_H
#define TP_AVRODEC_H

#include <stddef.h>

#include "event.h"
#include "reason.h"

/* The reader schema: field names and their defaults, from the .avsc. */
struct tp_avro_reader;

/* Parses the reader schema JSON. Every field of struct tp_event must be
 * declared. Returns NULL and fills errstr on failure. */
struct tp_avro_reader *tp_avro_reader_new(const char *json, size_t len,
                                          char *errstr, size_t errstr_size);
void tp_avro_reader_destroy(struct tp_avro_reader *rd);

/* A decoder for one writer schema. Borrows rd, which must outlive it. */
struct tp_avrodec;

/* Builds a decoder for the writer schema JSON. Fails (NULL, errstr) when the
 * JSON is no Avro schema or cannot be resolved into the reader (a field
 * of an incompatible type, a reader field without default the writer lacks).
 */
struct tp_avrodec *tp_avrodec_new(const struct tp_avro_reader *rd,
                                  const char *writer_json, size_t len,
                                  char *errstr, size_t errstr_size);
void tp_avrodec_destroy(struct tp_avrodec *dec);

/* Decodes one Avro body into *ev (which must be zeroed or released; it is
 * written only on success). Returns TP_REASON_OK, or TP_REASON_BAD_AVRO /
 * TP_REASON_MISSING_FIELD with errstr naming the field. */
enum tp_reason tp_avrodec_decode(struct tp_avrodec *dec,
                                 const unsigned char *body, size_t len,
                                 struct tp_event *ev, char *errstr,
                                 size_t errstr_size);
/* tp_avrodec_decode with the event's strings in arena (NULL: in a block
 * the event owns; event.h). */
enum tp_reason tp_avrodec_decode_in(struct tp_avrodec *dec,
                                    struct tp_arena *arena,
                                    const unsigned char *body, size_t len,
                                    struct tp_event *ev, char *errstr,
                                    size_t errstr_size);

/* For tests and benchmarks: on=1 makes dec decode through the generic
 * path, on=0 through the direct decoder unless its writer schema falls
 * back. Returns 1 when dec now uses the generic path. */
int tp_avrodec_set_generic(struct tp_avrodec *dec, int on);

/* Checks that body is a well-formed encoding of schema (every length within
 * the bytes left, enum and union indexes in range, no trailing bytes)
 * without allocating. Exposed for tests and the fuzzer. */
int tp_avrodec_check_bounds(const struct tp_avrodec *dec,
                            const unsigned char *body, size_t len, char *errstr,
                            size_t errstr_size);

#endif
