/* validate.h - checks a decoded event against the contract. */
#ifndef TP_VALIDATE_H
#define TP_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "reason.h"
#include "refdata.h"

/* Earliest accepted occurred_at: 2025-07-01 00:00 Vietnam time. */
#define TP_VALID_FROM_MS 1751302800000LL

/* Validates ev, consumed from topic (NULL: skip the topic check), against
 * the reference data at wall-clock time now_ms. Returns TP_REASON_OK or
 * the first failing reason, with errstr naming the field and value. */
enum tp_reason tp_validate_event(const struct tp_refdata *rd, const char *topic,
                                 const struct tp_event *ev, int64_t now_ms,
                                 char *errstr, size_t errstr_size);

/* Province code of a province topic ("tthc.filings.01" -> "01"), or NULL. */
const char *tp_topic_province(const char *topic);

/* 1 when s is a canonical textual UUID (8-4-4-4-12 hex digits). */
int tp_uuid_valid(const char *s);

#endif
