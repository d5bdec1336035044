/* framing.h - the Confluent wire format: 0x00, big-endian int32 schema id,
 * then the Avro body. */
#ifndef TP_FRAMING_H
#define TP_FRAMING_H

#include <stddef.h>
#include <stdint.h>

#define TP_FRAMING_HEADER_LEN 5

/* Parses the header of buf. On success returns 0 and sets *schema_id and
 * *body / *body_len (pointing into buf, not copied). On failure returns -1
 * and explains in errstr. */
int tp_framing_parse(const void *buf, size_t len, int32_t *schema_id,
                     const unsigned char **body, size_t *body_len, char *errstr,
                     size_t errstr_size);

/* Writes the 5-byte header for schema_id into out. */
void tp_framing_write_header(unsigned char out[TP_FRAMING_HEADER_LEN],
                             int32_t schema_id);

#endif
