/* filing.h - from a Kafka message value to a validated FilingEvent, the
 * same way in every consumer: Confluent framing, the writer schema by id
 * (catalog directory, then registry), Avro decoding into the reader's
 * shape, validation against the reference data. Reference data comes from
 * PostgreSQL and is reloaded (at most every 30 s) before a code is called
 * unknown, so a commune added as data is accepted without a restart. */
#ifndef TP_FILING_H
#define TP_FILING_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "consumer.h"
#include "event.h"
#include "reason.h"
#include "refdata.h"

struct tp_filing_reader;

/* Builds the catalog from cfg (schemas, registry, reader schema) and
 * loads the reference data through conn (borrowed, may be replaced by
 * later calls). Returns NULL and fills errstr on failure. */
struct tp_filing_reader *tp_filing_reader_new(const struct tp_cfg *cfg,
                                              PGconn *conn, char *errstr,
                                              size_t errstr_size);
/* A reader over fixed reference data (no database: checkers, fuzzing).
 * Takes ownership of ref. */
struct tp_filing_reader *
tp_filing_reader_new_static(const char *schemas, const char *registry,
                            const char *reader_schema, struct tp_refdata *ref,
                            char *errstr, size_t errstr_size);
void tp_filing_reader_destroy(struct tp_filing_reader *fr);
/* The events fr decodes from now on keep their strings in arena (the
 * caller's; they are valid until it resets it) instead of a block each
 * (event.h); NULL goes back to blocks. Events copied from a replayed
 * message (tp_filing_read_msg) always own theirs. */
void tp_filing_reader_set_arena(struct tp_filing_reader *fr,
                                struct tp_arena *arena);

/* Reads one message value consumed from topic (NULL: no topic check).
 * Returns 0 with *reason set: TP_REASON_OK fills *ev (zeroed or released
 * before; the caller releases it), anything else leaves ev empty and
 * explains in detail. Returns -1 on an outage (schema registry down):
 * retry later, detail says why. *schema_id is -1 when the framing is
 * unreadable. conn (may be NULL) is used to reload reference data. */
int tp_filing_read(struct tp_filing_reader *fr, PGconn *conn, const char *topic,
                   const void *value, size_t len, struct tp_event *ev,
                   int32_t *schema_id, enum tp_reason *reason, char *detail,
                   size_t detail_size);

/* tp_filing_read() of a consumed message, or for a message replayed from
 * tthc.filing_events (msg->event set: common/replay.h) the same
 * validation of a copy of the stored event (*schema_id -1). */
int tp_filing_read_msg(struct tp_filing_reader *fr, PGconn *conn,
                       const struct tp_msg *msg, struct tp_event *ev,
                       int32_t *schema_id, enum tp_reason *reason, char *detail,
                       size_t detail_size);

#endif
