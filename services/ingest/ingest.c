/* ingest.c - decoding, validation and dead letters for tthc-ingest. */
#include "ingest_int.h"
#include "dossier.h"
#include "framing.h"
#include "kafka.h"
#include "log.h"
#include "util.h"
#include "validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The dead-letter topic (--dlq-topic). */
static const char *tp_ingest_dlq_topic(const struct tp_ingest *ig)
{
        const struct tp_ingest_opts *io = ig->cfg->own;
        return io->dlq_topic;
}

/* A dead letter's delivery is final before the flush returns, so a relay
 * round knows exactly what Kafka took and never produces a copy that a
 * previous round still has in flight. */
#define TP_DLQ_MESSAGE_TIMEOUT_MS "10000"
#define TP_DLQ_FLUSH_MS 15000

static void tp_dlq_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *rkm,
                         void *opaque)
{
        int *delivered = rkm->_private; /* the message's opaque */
        (void)rk;
        (void)opaque;
        if (delivered)
                *delivered = rkm->err == RD_KAFKA_RESP_ERR_NO_ERROR;
}

static rd_kafka_t *tp_dlq_producer(struct tp_ingest *ig, char *errstr,
                                   size_t errstr_size)
{
        const char *const defaults[][2] = {
                {"enable.idempotence", "true"},
        };
        /* below the flush time: once per dead letter (docs/ingest.md) */
        const char *const fixed[][2] = {
                {"message.timeout.ms", TP_DLQ_MESSAGE_TIMEOUT_MS},
        };
        struct tp_kafka_opts o = {
                .role = TP_KAFKA_PRODUCER,
                .brokers = ig->cfg->brokers,
                .client_id = "tthc-ingest-dlq",
                .defaults = defaults,
                .n_defaults = TP_ARRAY_LEN(defaults),
                .fixed = fixed,
                .n_fixed = TP_ARRAY_LEN(fixed),
                .keys = ig->cfg->kafka_keys,
                .values = ig->cfg->kafka_values,
                .n = ig->cfg->n_kafka,
                .opaque = ig,
                .dr_msg_cb = tp_dlq_dr_cb,
        };
        return tp_kafka_new(&o, errstr, errstr_size);
}

/* 1 when COPY FROM into tthc.filing_events is allowed for the current
 * role (superuser, BYPASSRLS, the table's owner, or no row security). */
static int tp_ingest_copy_direct(PGconn *conn, char *errstr, size_t errstr_size)
{
        PGresult *res = PQexec(
                conn, "SELECT r.rolsuper OR r.rolbypassrls OR "
                      "NOT c.relrowsecurity OR (c.relowner = r.oid AND "
                      "NOT c.relforcerowsecurity) FROM pg_roles r, pg_class c "
                      "WHERE r.rolname = current_user AND "
                      "c.oid = 'tthc.filing_events'::regclass");
        int direct = -1;
        if (tp_pg_check(conn, res, PGRES_TUPLES_OK,
                        "could not read the role's privileges", errstr,
                        errstr_size) == 0 &&
            PQntuples(res) == 1)
                direct = PQgetvalue(res, 0, 0)[0] == 't';
        PQclear(res);
        return direct;
}

struct tp_ingest *tp_ingest_new(const struct tp_cfg *cfg, PGconn *conn,
                                char *errstr, size_t errstr_size)
{
        struct tp_ingest *ig = tp_xcalloc(1, sizeof(*ig));
        ig->cfg = cfg;
        ig->conn = conn;
        ig->reader = tp_filing_reader_new(cfg, conn, errstr, errstr_size);
        if (!ig->reader)
                goto fail;
        ig->copy_direct = tp_ingest_copy_direct(conn, errstr, errstr_size);
        if (ig->copy_direct < 0)
                goto fail;
        ig->dlq = tp_dlq_producer(ig, errstr, errstr_size);
        if (!ig->dlq)
                goto fail;
        ig->dlq_pending = 1; /* a previous life may have left some */
        ig->store =
                tp_store_new(tp_ingest_dossier_free, (size_t)cfg->state_cap);
        ig->applied = tp_strmap_new();
        ig->codes = tp_strmap_new();
        ig->hourly = tp_strmap_new_owning(tp_ingest_hcount_free);
        tp_ingest_write_init(ig);
        return ig;
fail:
        tp_ingest_destroy(ig);
        return NULL;
}

void tp_ingest_clear_entries(struct tp_ingest *ig)
{
        for (size_t i = 0; i < ig->n_entries; i++)
                tp_event_release(&ig->entries[i].ev);
        ig->n_entries = 0;
}

void tp_ingest_destroy(struct tp_ingest *ig)
{
        if (!ig)
                return;
        tp_ingest_clear_entries(ig);
        free(ig->entries);
        if (ig->dlq) {
                rd_kafka_flush(ig->dlq, TP_DLQ_FLUSH_MS);
                rd_kafka_destroy(ig->dlq);
        }
        tp_store_destroy(ig->store);
        tp_strmap_destroy(ig->applied);
        tp_strmap_destroy(ig->codes);
        tp_strmap_destroy(ig->hourly);
        tp_store_pg_write_fini(&ig->dossiers);
        tp_filing_reader_destroy(ig->reader);
        free(ig);
}

const struct tp_ingest_counts *tp_ingest_counts(const struct tp_ingest *ig)
{
        return &ig->counts;
}

const struct tp_store *tp_ingest_store(const struct tp_ingest *ig)
{
        return ig->store;
}

/* Decodes and validates e->msg; returns -1 only on an outage (retry). */
static int tp_ingest_read(struct tp_ingest *ig, struct tp_ingest_entry *e)
{
        return tp_filing_read_msg(ig->reader, ig->conn, e->msg, &e->ev,
                                  &e->schema_id, &e->reason, e->detail,
                                  sizeof(e->detail));
}

/* Creates the month partitions the accepted events need (outside the
 * batch transaction: creating a partition locks the parent). */
static int tp_ingest_ensure_months(struct tp_ingest *ig, PGconn *conn,
                                   char *errstr, size_t errstr_size)
{
        for (size_t i = 0; i < ig->n_entries; i++) {
                struct tp_ingest_entry *e = &ig->entries[i];
                int y, mo, d, found = 0;
                int32_t key;
                char ts[40];
                const char *params[1] = {ts};
                PGresult *res;

                if (e->reason != TP_REASON_OK)
                        continue;
                tp_civil_from_days(tp_vn_day(e->ev.occurred_at), &y, &mo, &d);
                key = y * 12 + mo;
                for (size_t k = 0; k < ig->n_months && !found; k++)
                        found = ig->months[k] == key;
                if (found)
                        continue;
                tp_format_ts(e->ev.occurred_at, ts, sizeof(ts));
                res = tp_pg_query(conn,
                                  "SELECT tthc.ensure_month_partition($1)", 1,
                                  params, "could not create a month partition",
                                  errstr, errstr_size);
                if (!res)
                        return -1;
                PQclear(res);
                if (ig->n_months < TP_INGEST_MAX_MONTHS)
                        ig->months[ig->n_months++] = key;
        }
        return 0;
}

/* The schema id of a message the consumer took out, for its dead letter
 * (-1 when the framing is unreadable). */
static void tp_ingest_schema_id(struct tp_ingest_entry *e)
{
        const unsigned char *body;
        size_t body_len;
        char err[128];
        if (tp_framing_parse(e->msg->value, e->msg->value_len, &e->schema_id,
                             &body, &body_len, err, sizeof(err)) != 0)
                e->schema_id = -1;
}

int tp_ingest_prepare(void *ctx, struct tp_batch *b, PGconn *conn, char *errstr,
                      size_t errstr_size)
{
        struct tp_ingest *ig = ctx;

        ig->conn = conn;
        tp_ingest_clear_entries(ig);
        if (b->n > ig->cap_entries) {
                ig->cap_entries = b->n;
                ig->entries =
                        tp_xrealloc(ig->entries, b->n * sizeof(*ig->entries));
        }
        for (size_t i = 0; i < b->n; i++) {
                struct tp_ingest_entry *e = &ig->entries[ig->n_entries++];
                memset(e, 0, sizeof(*e));
                e->msg = &b->msgs[i];
                if (tp_msg_db_rejected(e->msg, e->detail, sizeof(e->detail))) {
                        e->reason = TP_REASON_DB_REJECTED;
                        tp_ingest_schema_id(e);
                        continue;
                }
                if (tp_ingest_read(ig, e) != 0) {
                        snprintf(errstr, errstr_size, "%s", e->detail);
                        return -1; /* registry outage: back off */
                }
        }
        return tp_ingest_ensure_months(ig, conn, errstr, errstr_size);
}

static void tp_dlq_header_int(rd_kafka_headers_t *hdrs, const char *name,
                              long long v)
{
        char buf[32];
        snprintf(buf, sizeof(buf), "%lld", v);
        rd_kafka_header_add(hdrs, name, -1, buf, -1);
}

/* The columns of tp_dlq_select_sql, in order. */
enum {
        TP_DLQ_ID,
        TP_DLQ_TOPIC,
        TP_DLQ_PARTITION,
        TP_DLQ_OFFSET,
        TP_DLQ_KEY,
        TP_DLQ_VALUE,
        TP_DLQ_SCHEMA_ID,
        TP_DLQ_REASON,
        TP_DLQ_DETAIL
};

/* Dead letters not yet on the DLQ topic, locked so that another instance
 * relaying at the same time skips them. */
static const char tp_dlq_select_sql[] =
        "SELECT id, topic, partition, kafka_offset, message_key, raw_value, "
        "schema_id, reason, detail FROM tthc.rejected_messages "
        "WHERE dlq_published_at IS NULL AND consumer_group = $1 "
        "ORDER BY id LIMIT 500 FOR UPDATE SKIP LOCKED";

/* Produces row r of res; *delivered is set by the delivery report. */
static int tp_dlq_produce(struct tp_ingest *ig, PGresult *res, int r,
                          int *delivered, char *errstr, size_t errstr_size)
{
        rd_kafka_headers_t *hdrs = rd_kafka_headers_new(8);
        unsigned char *key = NULL, *value = NULL;
        size_t key_len = 0, value_len = 0;
        rd_kafka_resp_err_t err;

        if (!PQgetisnull(res, r, TP_DLQ_KEY))
                key = PQunescapeBytea(
                        (const unsigned char *)PQgetvalue(res, r, TP_DLQ_KEY),
                        &key_len);
        if (!PQgetisnull(res, r, TP_DLQ_VALUE))
                value = PQunescapeBytea(
                        (const unsigned char *)PQgetvalue(res, r, TP_DLQ_VALUE),
                        &value_len);
        rd_kafka_header_add(hdrs, "tthc.topic", -1,
                            PQgetvalue(res, r, TP_DLQ_TOPIC), -1);
        rd_kafka_header_add(hdrs, "tthc.partition", -1,
                            PQgetvalue(res, r, TP_DLQ_PARTITION), -1);
        rd_kafka_header_add(hdrs, "tthc.offset", -1,
                            PQgetvalue(res, r, TP_DLQ_OFFSET), -1);
        rd_kafka_header_add(hdrs, "tthc.reason", -1,
                            PQgetvalue(res, r, TP_DLQ_REASON), -1);
        rd_kafka_header_add(hdrs, "tthc.detail", -1,
                            PQgetvalue(res, r, TP_DLQ_DETAIL), -1);
        if (!PQgetisnull(res, r, TP_DLQ_SCHEMA_ID))
                tp_dlq_header_int(hdrs, "tthc.schema_id",
                                  tp_pg_col_int(res, r, TP_DLQ_SCHEMA_ID));
        rd_kafka_header_add(hdrs, "tthc.group", -1, ig->cfg->group, -1);
        err = rd_kafka_producev(ig->dlq,
                                RD_KAFKA_V_TOPIC(tp_ingest_dlq_topic(ig)),
                                RD_KAFKA_V_KEY(key, key_len),
                                RD_KAFKA_V_VALUE(value, value_len),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                RD_KAFKA_V_HEADERS(hdrs),
                                RD_KAFKA_V_OPAQUE(delivered), RD_KAFKA_V_END);
        PQfreemem(key);
        PQfreemem(value);
        if (err) {
                rd_kafka_headers_destroy(hdrs);
                snprintf(errstr, errstr_size,
                         "could not produce to dead-letter topic %s: %s",
                         tp_ingest_dlq_topic(ig), rd_kafka_err2str(err));
                return -1;
        }
        return 0;
}

/* Marks the delivered rows of res as published. */
static int tp_dlq_mark(PGconn *conn, PGresult *res, const int *delivered,
                       char *errstr, size_t errstr_size)
{
        struct tp_copybuf ids;
        int first = 1;

        tp_copybuf_init(&ids);
        for (int r = 0; r < PQntuples(res); r++) {
                if (!delivered[r])
                        continue;
                tp_pgarray_add(&ids, PQgetvalue(res, r, TP_DLQ_ID), first);
                first = 0;
        }
        if (first) {
                tp_copybuf_release(&ids);
                return 0;
        }
        return tp_pg_exec_array(conn,
                                "UPDATE tthc.rejected_messages SET "
                                "dlq_published_at = now() WHERE id = "
                                "ANY($1::bigint[])",
                                &ids,
                                "could not mark dead letters as published",
                                errstr, errstr_size);
}

/* One round: up to 500 pending dead letters produced, flushed (the
 * producer's message timeout is below the flush time, so every one has
 * its final delivery report), and exactly the delivered ones marked.
 * Returns the number of rows read (-1 on error); *undelivered counts
 * those Kafka did not take. */
static int tp_dlq_relay_round(struct tp_ingest *ig, PGconn *conn,
                              int *undelivered, char *errstr,
                              size_t errstr_size)
{
        const char *params[1] = {ig->cfg->group};
        char err[256];
        PGresult *res = NULL;
        int *delivered = NULL, n = -1;

        *undelivered = 0;
        if (tp_pg_exec(conn, "BEGIN", errstr, errstr_size) != 0)
                return -1;
        res = PQexecParams(conn, tp_dlq_select_sql, 1, NULL, params, NULL, NULL,
                           0);
        if (tp_pg_check(conn, res, PGRES_TUPLES_OK,
                        "could not read pending dead letters", errstr,
                        errstr_size) != 0)
                goto fail;
        delivered = tp_xcalloc((size_t)PQntuples(res) + 1, sizeof(int));
        for (int r = 0; r < PQntuples(res); r++) {
                delivered[r] = -1; /* no report yet */
                if (tp_dlq_produce(ig, res, r, &delivered[r], errstr,
                                   errstr_size) != 0)
                        delivered[r] = 0;
                rd_kafka_poll(ig->dlq, 0);
        }
        rd_kafka_flush(ig->dlq, TP_DLQ_FLUSH_MS);
        for (int r = 0; r < PQntuples(res); r++)
                *undelivered += delivered[r] != 1;
        if (tp_dlq_mark(conn, res, delivered, errstr, errstr_size) != 0 ||
            tp_pg_exec(conn, "COMMIT", errstr, errstr_size) != 0)
                goto fail;
        n = PQntuples(res);
        PQclear(res);
        free(delivered);
        return n;
fail:
        tp_pg_exec(conn, "ROLLBACK", err, sizeof(err));
        PQclear(res);
        free(delivered);
        return -1;
}

/* Publishes committed dead letters to the DLQ topic, once each: after the
 * batch that stored them committed, from tthc.rejected_messages, marking
 * exactly what Kafka acknowledged. A crash between delivery and marking
 * may send one again; a retry never does. What Kafka does not take now
 * stays pending for the next batch. */
static void tp_dlq_relay(struct tp_ingest *ig)
{
        char err[512];
        int n, undelivered = 0;

        do {
                n = tp_dlq_relay_round(ig, ig->conn, &undelivered, err,
                                       sizeof(err));
                if (n < 0) {
                        tp_log_warn("could not publish dead letters to %s, "
                                    "will try again after the next batch: "
                                    "%s",
                                    tp_ingest_dlq_topic(ig), err);
                        return;
                }
        } while (n == 500 && undelivered == 0);
        if (undelivered > 0) {
                tp_log_warn("%d dead letter(s) not delivered to %s, will try "
                            "again after the next batch",
                            undelivered, tp_ingest_dlq_topic(ig));
                return;
        }
        ig->dlq_pending = 0;
}

/* The batch of b committed (its staged work settled) or was abandoned.
 * With pipelined checkpoints this may come after the next batch was
 * staged: what it needs is in b->staged, not in ig->entries. */
void tp_ingest_done(void *ctx, struct tp_batch *b, int committed)
{
        struct tp_ingest *ig = ctx;
        struct tp_ingest_staged *st = b->staged;

        if (committed && st) {
                tp_store_commit_sealed(ig->store, st->sealed.gen);
                tp_ingest_metrics_commit(ig, st);
                ig->counts.accepted += st->pending.accepted;
                ig->counts.duplicates += st->pending.duplicates;
                for (int r = 0; r < TP_REASON__COUNT; r++) {
                        ig->counts.rejected[r] += st->pending.rejected[r];
                        if (r != TP_REASON_OK && st->pending.rejected[r])
                                ig->dlq_pending = 1;
                }
                tp_ingest_codes_done(ig, st);
                if (ig->dlq_pending && ig->conn && !b->replay)
                        tp_dlq_relay(ig);
        } else if (!committed) {
                tp_store_abort(ig->store);
        }
        tp_ingest_staged_free(b);
        tp_ingest_clear_entries(ig);
}
