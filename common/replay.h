/* replay.h - a consumer's handler run over the events stored in
 * tthc.filing_events instead of the broker: the rebuild of a service's
 * tables (tthc-admin rebuild, docs/operations.md "Rebuilding").
 *
 * Kafka keeps days; tthc.filing_events keeps every event tthc-ingest
 * accepted, each with the (topic, partition, offset) it was consumed at.
 * A rebuild deletes what the service derived from them and applies the
 * stored events again in (topic, partition, offset) order, in batches
 * (each partition range's high watermark is the partition's last stored
 * event, so the last batch of a partition is caught up),
 * through the service's own handler (prepare, write, done) with
 * struct tp_batch's replay flag set and each message's event in place of
 * its Avro value: the same validation and the same state store as the live
 * consumer, in ONE transaction, so readers see the old tables until the
 * new ones are complete and a failure leaves the old ones.
 *
 * Fencing: the service must be stopped. The rebuild refuses to start while
 * a session of it is connected, locks tthc.consumer_offsets against
 * writers (a consumer started meanwhile waits at its first commit), and
 * rolls back if one connected while it ran.
 *
 * Retention: a dossier whose opening events were dropped (it began before
 * tthc.retention_horizon()) cannot be recomputed. Its rows are kept as
 * they are and its later events are not replayed, so counters from the
 * horizon on leave those events out: the rebuild says how many and runs
 * only with force. */
#ifndef TP_REPLAY_H
#define TP_REPLAY_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "consumer.h"
#include "event.h"
#include "reason.h"

/* What a service rebuilds. */
struct tp_replay_def {
        const char *service; /* "tthc-ingest": its sessions' application_name */
        /* Deletes the service's derived rows, run first in the rebuild's
         * transaction. It may read tp_rebuild (one row: horizon, the
         * retention horizon or NULL) and tp_rebuild_kept (province_code,
         * dossier_id: the dossiers that began before it). */
        const char *reset_sql;
        /* Run after the last batch, before the commit (NULL: nothing). */
        const char *finish_sql;
        /* 1: refuse whenever retention dropped events, --force or not
         * (the service's tables count every open dossier) */
        int needs_every_event;
};

struct tp_replay_opts {
        size_t batch; /* events per batch (0: 5,000) */
        int force;    /* run although some dossiers cannot be recomputed */
        /* Called after each batch (NULL: nothing). */
        void (*progress)(void *ctx, uint64_t done, uint64_t total);
        void *progress_ctx;
};

struct tp_replay_report {
        uint64_t events;  /* stored events in scope */
        uint64_t applied; /* read valid and handed to the handler */
        uint64_t refused[TP_REASON__COUNT]; /* refused by today's checks */
        uint64_t batches;
        int64_t horizon;      /* TP_TS_NONE when nothing was dropped */
        uint64_t kept;        /* dossiers that began before the horizon */
        uint64_t kept_events; /* their retained events, not replayed */
};

/* Runs the rebuild on conn (outside any transaction; committed on
 * success). h is the service's handler, built on conn. Returns 0 and
 * fills *rep; -1 with errstr (rolled back: the tables are as before). */
int tp_replay_rebuild(PGconn *conn, const struct tp_handler *h,
                      const struct tp_replay_def *def,
                      const struct tp_replay_opts *opts,
                      struct tp_replay_report *rep, char *errstr,
                      size_t errstr_size);

/* The columns of a stored event, in the order tp_replay_event reads them,
 * for a query on tthc.filing_events aliased f. */
#define TP_REPLAY_EVENT_COLS                                                   \
        "f.event_id, f.event_type, (extract(epoch FROM f.occurred_at) * "      \
        "1000)::bigint, f.dossier_id, f.seq, f.province_code, "                \
        "f.commune_code, f.procedure_code, f.procedure_level, f.channel, "     \
        "f.agency_code, f.handling_level, f.to_level, f.to_agency_code, "      \
        "(extract(epoch FROM f.due_at) * 1000)::bigint, f.source_system, "     \
        "f.handling_commune_code, f.handling_commune_given"
#define TP_REPLAY_EVENT_NCOLS 18

/* Reads the event of row r (columns TP_REPLAY_EVENT_COLS from col 0) into
 * *ev (overwritten; release it with tp_event_release). A row stored before
 * handling_commune_given was kept (NULL) counts as given when the code is
 * there. */
void tp_replay_event(struct tp_event *ev, const PGresult *res, int r);

#endif
