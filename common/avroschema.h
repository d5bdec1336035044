/* avroschema.h - checks a writer schema (Avro JSON) before avro-c sees
 * it, so that a schema from a producer or a registry can neither overflow
 * the stack nor make one message cost unbounded memory.
 *
 * Refused: a named type defined twice, a record that contains itself without a
 * way to end (every path back to it goes through record fields only, never
 * through a union, array or map), more than TP_AVROSCHEMA_MAX_NAMED named
 * types, TP_AVROSCHEMA_MAX_FIELDS record fields in all, TP_AVROSCHEMA_MAX_NODES
 * type nodes, nesting deeper than TP_AVROSCHEMA_MAX_DEPTH, a fixed type
 * of more than TP_AVROSCHEMA_MAX_FIXED bytes, and a schema
 * whose smallest value expands (records inlined through named references)
 * to more than TP_AVROSCHEMA_MAX_EXPANDED nodes.
 */
#ifndef TP_AVROSCHEMA_H
#define TP_AVROSCHEMA_H

#include <stddef.h>

#define TP_AVROSCHEMA_MAX_NAMED 128
#define TP_AVROSCHEMA_MAX_FIELDS 1024
#define TP_AVROSCHEMA_MAX_NODES 4096
#define TP_AVROSCHEMA_MAX_DEPTH 32
#define TP_AVROSCHEMA_MAX_EXPANDED 8192
/* avro-c allocates a fixed value's bytes when it builds the value */
#define TP_AVROSCHEMA_MAX_FIXED 4096

/* Checks the writer schema JSON text json[0..len). Returns 0 when it is
 * acceptable (or not for this check to judge: JSON or Avro errors are left
 * to the Avro parser), -1 with errstr saying why it is refused. */
int tp_avroschema_check(const char *json, size_t len, char *errstr,
                        size_t errstr_size);

#endif
