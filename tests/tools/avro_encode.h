/* avro_encode.h - test helper: encodes a JSON object as an Avro record of
 * any writer schema with avro-c (an encoder independent of common/'s
 * decoder). Fields absent from the JSON become null (unions) or fail. */
#ifndef TP_TEST_AVRO_ENCODE_H
#define TP_TEST_AVRO_ENCODE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Encodes obj with the writer schema (JSON text) into a heap buffer with
 * the Confluent header for schema_id. Returns NULL and fills errstr. */
unsigned char *tp_test_encode(const char *schema_json, int32_t schema_id,
                              json_t *obj, size_t *len_out, char *errstr,
                              size_t errstr_size);

#endif
