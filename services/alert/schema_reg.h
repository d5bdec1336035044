/* schema_reg.h - registers tthc-alert's output schema (vn.tthc.Alert) in
 * a Confluent-compatible schema registry:
 *   POST <url>/subjects/<subject>/versions  {"schema": "<json>"}
 * answered with {"id": N}, the id that frames the messages. */
#ifndef TP_ALERT_SCHEMA_REG_H
#define TP_ALERT_SCHEMA_REG_H

#include <stddef.h>
#include <stdint.h>

#define TP_ALERT_SUBJECT "tthc.alerts-value"

/* Registers the schema held in the file schema_path under subject and
 * sets *id. Returns 0, or -1 with errstr (URLs in it have their
 * credentials redacted, common/http.h). */
int tp_schema_register(const char *url, const char *subject,
                       const char *schema_path, int32_t *id, char *errstr,
                       size_t errstr_size);

#endif
