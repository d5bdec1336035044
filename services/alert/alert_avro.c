/* alert_avro.c - the Avro encoding of vn.tthc.Alert (schemas/avro/
 * 2-alert.avsc) with Confluent framing; see alert_avro.h. */
#include "alert_avro.h"
#include "buf.h"
#include "event.h"
#include "framing.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void tp_avro_long(struct tp_buf *b, int64_t v)
{
        uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
        unsigned char c;
        do {
                c = (unsigned char)(z & 0x7f);
                z >>= 7;
                if (z)
                        c |= 0x80;
                tp_buf_add(b, &c, 1);
        } while (z);
}

static void tp_avro_string(struct tp_buf *b, const char *s)
{
        size_t n = strlen(s);
        tp_avro_long(b, (int64_t)n);
        tp_buf_add(b, s, n);
}

static void tp_avro_double(struct tp_buf *b, double d)
{
        uint64_t u;
        unsigned char c[8];
        memcpy(&u, &d, 8);
        for (int i = 0; i < 8; i++)
                c[i] = (unsigned char)(u >> (8 * i));
        tp_buf_add(b, c, 8);
}

static void tp_avro_opt_string(struct tp_buf *b, const char *s)
{
        tp_avro_long(b, s ? 1 : 0);
        if (s)
                tp_avro_string(b, s);
}

static int tp_enum_index(const char *s, const char *const *names, int n)
{
        for (int i = 0; i < n; i++)
                if (s && strcasecmp(s, names[i]) == 0)
                        return i;
        return 0;
}

unsigned char *tp_alert_encode(const struct tp_alert_msg *amsg, size_t *len)
{
        return tp_alert_encode_id(amsg, TP_ALERT_SCHEMA_ID, len);
}

unsigned char *tp_alert_encode_id(const struct tp_alert_msg *amsg,
                                  int32_t schema_id, size_t *len)
{
        static const char *const changes[] = {"fired", "changed", "resolved"};
        static const char *const sevs[] = {"warning", "critical"};
        static const char *const statuses[] = {"firing", "resolved"};
        struct tp_buf b = {0};
        unsigned char hdr[TP_FRAMING_HEADER_LEN];

        tp_framing_write_header(hdr, schema_id);
        tp_buf_add(&b, hdr, sizeof(hdr));
        tp_avro_string(&b, amsg->alert_id);
        tp_avro_long(&b, tp_enum_index(amsg->change, changes, 3));
        tp_avro_string(&b, amsg->rule);
        tp_avro_string(&b, amsg->province);
        tp_avro_opt_string(&b, amsg->commune);
        tp_avro_long(&b, tp_enum_index(amsg->severity, sevs, 2));
        tp_avro_long(&b, tp_enum_index(amsg->status, statuses, 2));
        tp_avro_double(&b, amsg->value);
        tp_avro_double(&b, amsg->threshold);
        tp_avro_long(&b, amsg->started_at);
        tp_avro_long(&b, amsg->changed_at);
        tp_avro_long(&b, amsg->resolved_at != TP_TS_NONE ? 1 : 0);
        if (amsg->resolved_at != TP_TS_NONE)
                tp_avro_long(&b, amsg->resolved_at);
        tp_avro_opt_string(&b, amsg->resolution);
        tp_avro_string(&b, amsg->details ? amsg->details : "{}");
        tp_avro_long(&b, amsg->sequence);
        *len = b.len;
        return (unsigned char *)b.data;
}
