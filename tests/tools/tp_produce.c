/* tp-produce: test producer. Reads JSON lines on stdin and produces them:
 *   {"topic": T, "key": K, "partition": P?, "schema_id": N,
 *    "schema_file": PATH, "event": {...}, "truncate": N?}
 *                                             Avro-encoded with that schema
 *   {"topic": T, "key": K, "partition": P?, "raw_hex": "00ff.."}  raw bytes
 * Usage: tp-produce BROKERS < lines.jsonl */
#include "avro_encode.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *slurp(const char *path)
{
        FILE *f = fopen(path, "rb");
        char *buf;
        long n;
        if (!f)
                return NULL;
        fseek(f, 0, SEEK_END);
        n = ftell(f);
        fseek(f, 0, SEEK_SET);
        buf = calloc(1, (size_t)n + 1);
        if (fread(buf, 1, (size_t)n, f) != (size_t)n)
                n = 0;
        fclose(f);
        return buf;
}

static unsigned char *unhex(const char *s, size_t *len)
{
        size_t n = strlen(s) / 2;
        unsigned char *out = malloc(n + 1);
        for (size_t i = 0; i < n; i++) {
                unsigned v;
                sscanf(s + 2 * i, "%2x", &v);
                out[i] = (unsigned char)v;
        }
        *len = n;
        return out;
}

static unsigned char *line_value(json_t *j, size_t *len, char *err,
                                 size_t errsz)
{
        const char *hex = json_string_value(json_object_get(j, "raw_hex"));
        const char *path;
        char *schema;
        unsigned char *v;
        if (hex)
                return unhex(hex, len);
        path = json_string_value(json_object_get(j, "schema_file"));
        schema = path ? slurp(path) : NULL;
        if (!schema) {
                snprintf(err, errsz, "cannot read schema_file");
                return NULL;
        }
        v = tp_test_encode(
                schema,
                (int32_t)json_integer_value(json_object_get(j, "schema_id")),
                json_object_get(j, "event"), len, err, errsz);
        free(schema);
        /* "truncate": N keeps only the first N bytes (poison tests). */
        if (v && json_integer_value(json_object_get(j, "truncate")) > 0 &&
            (size_t)json_integer_value(json_object_get(j, "truncate")) < *len)
                *len = (size_t)json_integer_value(
                        json_object_get(j, "truncate"));
        return v;
}

int main(int argc, char **argv)
{
        char err[512], *line = NULL;
        size_t cap = 0;
        long count = 0;
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_t *rk;

        if (argc < 2) {
                fprintf(stderr, "usage: tp-produce BROKERS < lines.jsonl\n");
                return 2;
        }
        rd_kafka_conf_set(conf, "bootstrap.servers", argv[1], err, sizeof(err));
        rd_kafka_conf_set(conf, "enable.idempotence", "true", err, sizeof(err));
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
        if (!rk) {
                fprintf(stderr, "tp-produce: %s\n", err);
                return 1;
        }
        while (getline(&line, &cap, stdin) > 0) {
                json_error_t jerr;
                json_t *j = json_loads(line, 0, &jerr);
                const char *key;
                json_t *part;
                int32_t partition;
                size_t len = 0;
                unsigned char *val;
                if (!j)
                        continue;
                val = line_value(j, &len, err, sizeof(err));
                if (!val) {
                        fprintf(stderr, "tp-produce: line %ld: %s\n", count + 1,
                                err);
                        return 1;
                }
                key = json_string_value(json_object_get(j, "key"));
                part = json_object_get(j, "partition");
                /* computed apart: clang's RD_KAFKA_V_PARTITION casts its
                 * argument unparenthesized, so a conditional there casts
                 * the json_t pointer (an error under -Werror) */
                partition = part ? (int32_t)json_integer_value(part)
                                 : RD_KAFKA_PARTITION_UA;
                while (rd_kafka_producev(
                               rk,
                               RD_KAFKA_V_TOPIC(json_string_value(
                                       json_object_get(j, "topic"))),
                               RD_KAFKA_V_PARTITION(partition),
                               RD_KAFKA_V_KEY(key, key ? strlen(key) : 0),
                               RD_KAFKA_V_VALUE(val, len),
                               RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                               RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                        rd_kafka_poll(rk, 100);
                rd_kafka_poll(rk, 0);
                free(val);
                json_decref(j);
                count++;
        }
        free(line);
        if (rd_kafka_flush(rk, 60000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
                fprintf(stderr, "tp-produce: flush failed\n");
                return 1;
        }
        rd_kafka_destroy(rk);
        printf("%ld\n", count);
        return 0;
}
