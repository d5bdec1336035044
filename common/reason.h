/* reason.h - reason codes for rejected messages (design.md, "Nothing is
 * lost on bad input"). The names are a stable interface: they appear in
 * tthc.rejected_messages.reason, DLQ headers and metrics. */
#ifndef TP_REASON_H
#define TP_REASON_H

enum tp_reason {
        TP_REASON_OK = 0,
        TP_REASON_BAD_FRAMING,
        TP_REASON_UNKNOWN_SCHEMA,
        TP_REASON_BAD_AVRO,
        TP_REASON_MISSING_FIELD,
        TP_REASON_TOPIC_PROVINCE_MISMATCH,
        TP_REASON_UNKNOWN_PROVINCE,
        TP_REASON_UNKNOWN_COMMUNE,
        TP_REASON_TIME_OUT_OF_RANGE,
        TP_REASON_BAD_SEQ,
        TP_REASON_BAD_TRANSFER,
        TP_REASON_CONFLICTING_DUPLICATE,
        TP_REASON_BAD_SCHEMA,  /* writer schema refused (recursion, caps) */
        TP_REASON_DB_REJECTED, /* PostgreSQL refused the row as data */
        TP_REASON__COUNT
};

/* "bad_framing", ...; "ok" for TP_REASON_OK. */
const char *tp_reason_name(enum tp_reason r);
/* Returns the reason for a name, or -1. */
int tp_reason_parse(const char *name);

#endif
