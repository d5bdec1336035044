/* avro_encode.c - see avro_encode.h. */
#include "avro_encode.h"

#include <avro.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tp_set(avro_value_t *v, json_t *j, char *errstr, size_t n);

static int tp_set_union(avro_value_t *v, json_t *j, char *errstr, size_t n)
{
        avro_schema_t s = avro_value_get_schema(v);
        avro_value_t branch;
        for (size_t b = 0; b < avro_schema_union_size(s); b++) {
                avro_schema_t bs = avro_schema_union_branch(s, (int)b);
                int is_null = avro_typeof(bs) == AVRO_NULL;
                if ((j == NULL || json_is_null(j)) != is_null)
                        continue;
                if (avro_value_set_branch(v, (int)b, &branch) != 0)
                        break;
                return is_null ? avro_value_set_null(&branch)
                               : tp_set(&branch, j, errstr, n);
        }
        snprintf(errstr, n, "no union branch fits");
        return -1;
}

static int tp_set(avro_value_t *v, json_t *j, char *errstr, size_t n)
{
        avro_schema_t s = avro_value_get_schema(v);
        switch (avro_value_get_type(v)) {
        case AVRO_UNION:
                return tp_set_union(v, j, errstr, n);
        case AVRO_STRING:
                return avro_value_set_string(
                        v, json_string_value(j) ? json_string_value(j) : "");
        case AVRO_INT32:
                return avro_value_set_int(v, (int32_t)json_integer_value(j));
        case AVRO_INT64:
                return avro_value_set_long(v, json_integer_value(j));
        case AVRO_NULL:
                return avro_value_set_null(v);
        case AVRO_ENUM: {
                int idx = avro_schema_enum_get_by_name(
                        s, json_string_value(j) ? json_string_value(j) : "");
                if (idx < 0) {
                        snprintf(errstr, n, "unknown enum symbol");
                        return -1;
                }
                return avro_value_set_enum(v, idx);
        }
        default:
                snprintf(errstr, n, "unsupported type in test encoder");
                return -1;
        }
}

unsigned char *tp_test_encode(const char *schema_json, int32_t schema_id,
                              json_t *obj, size_t *len_out, char *errstr,
                              size_t errstr_size)
{
        avro_schema_t schema = NULL;
        avro_value_iface_t *iface = NULL;
        avro_value_t rec;
        avro_writer_t w = NULL;
        unsigned char *out = NULL;
        char buf[65536];
        int ok = 0;

        if (avro_schema_from_json_length(schema_json, strlen(schema_json),
                                         &schema)) {
                snprintf(errstr, errstr_size, "schema: %s", avro_strerror());
                return NULL;
        }
        iface = avro_generic_class_from_schema(schema);
        avro_generic_value_new(iface, &rec);
        for (size_t i = 0; i < avro_schema_record_size(schema); i++) {
                avro_value_t f;
                const char *name =
                        avro_schema_record_field_name(schema, (int)i);
                avro_value_get_by_index(&rec, i, &f, NULL);
                if (tp_set(&f, json_object_get(obj, name), errstr,
                           errstr_size) != 0)
                        goto done;
        }
        w = avro_writer_memory(buf, sizeof(buf));
        if (avro_value_write(w, &rec) != 0) {
                snprintf(errstr, errstr_size, "write: %s", avro_strerror());
                goto done;
        }
        *len_out = (size_t)avro_writer_tell(w) + 5;
        out = malloc(*len_out);
        out[0] = 0;
        out[1] = (unsigned char)(schema_id >> 24);
        out[2] = (unsigned char)(schema_id >> 16);
        out[3] = (unsigned char)(schema_id >> 8);
        out[4] = (unsigned char)schema_id;
        memcpy(out + 5, buf, *len_out - 5);
        ok = 1;
done:
        if (w)
                avro_writer_free(w);
        avro_value_decref(&rec);
        avro_value_iface_decref(iface);
        avro_schema_decref(schema);
        return ok ? out : NULL;
}
