/* ingest.c - decoding, validation and dead letters for tthc-ingest. */
#include "ingest_int.h"
#include "dossier.h"
#include "util.h"
#include "validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TP_DLQ_FLUSH_MS 30000

static void tp_dlq_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *rkm,
                         void *opaque)
{
        struct tp_ingest *ig = opaque;
        (void)rk;
        if (rkm->err)
                ig->dlq_failures++;
}

static rd_kafka_t *tp_dlq_producer(struct tp_ingest *ig, char *errstr,
                                   size_t errstr_size)
{
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        char err[256];
        rd_kafka_t *rk;

        if (rd_kafka_conf_set(conf, "bootstrap.servers", ig->cfg->brokers, err,
                              sizeof(err)) != RD_KAFKA_CONF_OK ||
            rd_kafka_conf_set(conf, "enable.idempotence", "true", err,
                              sizeof(err)) != RD_KAFKA_CONF_OK)
                goto fail;
        for (size_t i = 0; i < ig->cfg->n_kafka; i++) {
                /* Consumer-only properties would warn; pass the rest. */
                if (strstr(ig->cfg->kafka_keys[i], "session.timeout") ||
                    strstr(ig->cfg->kafka_keys[i], "group.") ||
                    strstr(ig->cfg->kafka_keys[i], "auto.offset") ||
                    strstr(ig->cfg->kafka_keys[i], "partition.assignment") ||
                    strstr(ig->cfg->kafka_keys[i], "max.poll") ||
                    strstr(ig->cfg->kafka_keys[i], "fetch."))
                        continue;
                if (rd_kafka_conf_set(conf, ig->cfg->kafka_keys[i],
                                      ig->cfg->kafka_values[i], err,
                                      sizeof(err)) != RD_KAFKA_CONF_OK)
                        goto fail;
        }
        rd_kafka_conf_set_opaque(conf, ig);
        rd_kafka_conf_set_dr_msg_cb(conf, tp_dlq_dr_cb);
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
        if (!rk) {
                snprintf(errstr, errstr_size,
                         "could not create the dead-letter producer: %s", err);
                return NULL;
        }
        return rk;
fail:
        snprintf(errstr, errstr_size, "dead-letter producer: %s", err);
        rd_kafka_conf_destroy(conf);
        return NULL;
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
        ig->dossiers = tp_strmap_new();
        ig->applied = tp_strmap_new();
        ig->hourly = tp_strmap_new();
        tp_copybuf_init(&ig->cb);
        return ig;
fail:
        tp_ingest_destroy(ig);
        return NULL;
}

static void tp_ingest_clear_entries(struct tp_ingest *ig)
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
        tp_strmap_destroy(ig->dossiers);
        tp_strmap_destroy(ig->applied);
        tp_strmap_destroy(ig->hourly);
        tp_copybuf_release(&ig->cb);
        tp_filing_reader_destroy(ig->reader);
        free(ig);
}

const struct tp_ingest_counts *tp_ingest_counts(const struct tp_ingest *ig)
{
        return &ig->counts;
}

struct tp_ingest_entry *tp_ingest_entries(struct tp_ingest *ig, size_t *n)
{
        *n = ig->n_entries;
        return ig->entries;
}

/* Decodes and validates e->m; returns -1 only on an outage (retry). */
static int tp_ingest_read(struct tp_ingest *ig, struct tp_ingest_entry *e)
{
        return tp_filing_read(ig->reader, ig->conn, e->m->topic, e->m->value,
                              e->m->value_len, &e->ev, &e->schema_id,
                              &e->reason, e->detail, sizeof(e->detail));
}

void tp_ingest_decode(struct tp_ingest *ig, const struct tp_msg *m,
                      struct tp_ingest_entry *e)
{
        memset(e, 0, sizeof(*e));
        e->m = m;
        if (tp_ingest_read(ig, e) != 0)
                e->reason = TP_REASON_UNKNOWN_SCHEMA; /* caller: outage */
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
                res = PQexecParams(conn,
                                   "SELECT tthc.ensure_month_partition($1)", 1,
                                   NULL, params, NULL, NULL, 0);
                if (tp_pg_check(conn, res, PGRES_TUPLES_OK,
                                "could not create a month partition", errstr,
                                errstr_size) != 0) {
                        PQclear(res);
                        return -1;
                }
                PQclear(res);
                if (ig->n_months < TP_INGEST_MAX_MONTHS)
                        ig->months[ig->n_months++] = key;
        }
        return 0;
}

int tp_ingest_prepare(void *ctx, struct tp_batch *b, PGconn *conn, char *errstr,
                      size_t errstr_size)
{
        struct tp_ingest *ig = ctx;
        struct tp_ingest_entry **rej;
        size_t n_rej = 0;
        int rc;

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
                e->m = &b->msgs[i];
                if (tp_ingest_read(ig, e) != 0) {
                        snprintf(errstr, errstr_size, "%s", e->detail);
                        return -1; /* registry outage: back off */
                }
        }
        if (tp_ingest_ensure_months(ig, conn, errstr, errstr_size) != 0)
                return -1;
        rej = tp_xcalloc(ig->n_entries + 1, sizeof(*rej));
        for (size_t i = 0; i < ig->n_entries; i++)
                if (ig->entries[i].reason != TP_REASON_OK)
                        rej[n_rej++] = &ig->entries[i];
        rc = tp_ingest_dlq_send(ig, rej, n_rej, errstr, errstr_size);
        free(rej);
        return rc;
}

static void tp_dlq_header_int(rd_kafka_headers_t *hdrs, const char *name,
                              long long v)
{
        char buf[32];
        snprintf(buf, sizeof(buf), "%lld", v);
        rd_kafka_header_add(hdrs, name, -1, buf, -1);
}

static int tp_dlq_produce(struct tp_ingest *ig, struct tp_ingest_entry *e,
                          char *errstr, size_t errstr_size)
{
        rd_kafka_headers_t *hdrs = rd_kafka_headers_new(8);
        rd_kafka_resp_err_t err;

        rd_kafka_header_add(hdrs, "tthc.topic", -1, e->m->topic, -1);
        tp_dlq_header_int(hdrs, "tthc.partition", e->m->partition);
        tp_dlq_header_int(hdrs, "tthc.offset", e->m->offset);
        rd_kafka_header_add(hdrs, "tthc.reason", -1, tp_reason_name(e->reason),
                            -1);
        rd_kafka_header_add(hdrs, "tthc.detail", -1, e->detail, -1);
        if (e->schema_id >= 0)
                tp_dlq_header_int(hdrs, "tthc.schema_id", e->schema_id);
        rd_kafka_header_add(hdrs, "tthc.group", -1, ig->cfg->group, -1);
        err = rd_kafka_producev(
                ig->dlq, RD_KAFKA_V_TOPIC(ig->cfg->dlq_topic),
                RD_KAFKA_V_KEY(e->m->key, e->m->key_len),
                RD_KAFKA_V_VALUE((void *)e->m->value, e->m->value_len),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END);
        if (err) {
                rd_kafka_headers_destroy(hdrs);
                snprintf(errstr, errstr_size,
                         "could not produce to dead-letter topic %s: %s",
                         ig->cfg->dlq_topic, rd_kafka_err2str(err));
                return -1;
        }
        return 0;
}

int tp_ingest_dlq_send(struct tp_ingest *ig, struct tp_ingest_entry **rej,
                       size_t n, char *errstr, size_t errstr_size)
{
        if (n == 0)
                return 0;
        ig->dlq_failures = 0;
        for (size_t i = 0; i < n; i++) {
                if (tp_dlq_produce(ig, rej[i], errstr, errstr_size) != 0)
                        return -1;
                rd_kafka_poll(ig->dlq, 0);
        }
        if (rd_kafka_flush(ig->dlq, TP_DLQ_FLUSH_MS) !=
                    RD_KAFKA_RESP_ERR_NO_ERROR ||
            ig->dlq_failures > 0) {
                snprintf(errstr, errstr_size,
                         "could not deliver %zu dead letter(s) to %s", n,
                         ig->cfg->dlq_topic);
                return -1;
        }
        return 0;
}

void tp_ingest_done(void *ctx, struct tp_batch *b, int committed)
{
        struct tp_ingest *ig = ctx;
        (void)b;
        if (committed) {
                ig->counts.accepted += ig->pending.accepted;
                ig->counts.duplicates += ig->pending.duplicates;
                for (int r = 0; r < TP_REASON__COUNT; r++)
                        ig->counts.rejected[r] += ig->pending.rejected[r];
        }
        memset(&ig->pending, 0, sizeof(ig->pending));
        tp_ingest_clear_entries(ig);
}
