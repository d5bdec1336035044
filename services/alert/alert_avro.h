/* alert_avro.h - the Avro encoding of vn.tthc.Alert, the value of Kafka
 * topic tthc.alerts (schemas/avro/2-alert.avsc). */
#ifndef TP_ALERT_AVRO_H
#define TP_ALERT_AVRO_H

#include <stddef.h>
#include <stdint.h>

/* The id of 2-alert.avsc in the local schema catalog. */
#define TP_ALERT_SCHEMA_ID 2

/* One outbox row, as encoded for Kafka. */
struct tp_alert_msg {
        const char *alert_id, *change, *rule, *province, *commune;
        const char *severity, *status, *resolution, *details;
        double value, threshold;
        int64_t started_at, changed_at, resolved_at; /* TP_TS_NONE */
        int64_t sequence;
};

/* Encodes amsg as a Confluent-framed vn.tthc.Alert (heap buffer), schema
 * id 2 (the local catalog's); tp_alert_encode_id with another id. */
unsigned char *tp_alert_encode(const struct tp_alert_msg *amsg, size_t *len);
unsigned char *tp_alert_encode_id(const struct tp_alert_msg *amsg,
                                  int32_t schema_id, size_t *len);

#endif
