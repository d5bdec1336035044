/* avrodec.h - decoding vn.tthc.FilingEvent from any compatible writer
 * schema into the reader's shape (struct tp_event).
 *
 * avro-c 1.11.1's resolver rejects reader fields that the writer lacks and
 * ignores defaults, and its string/bytes readers allocate whatever length
 * the data claims. So a decoder reads with the writer schema into a reused
 * generic value, after a bounds walk over the bytes, then maps fields by
 * name into struct tp_event, filling missing ones from the reader schema's
 * defaults. Not thread-safe (libavro keeps a global error buffer): decode
 * on one thread.
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

/* Checks that body is a well-formed encoding of schema (every length within
 * the bytes left, enum and union indexes in range, no trailing bytes)
 * without allocating. Exposed for tests and the fuzzer. */
int tp_avrodec_check_bounds(const struct tp_avrodec *dec,
                            const unsigned char *body, size_t len, char *errstr,
                            size_t errstr_size);

#endif
