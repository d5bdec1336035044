/* consumer.c - see consumer.h. */
#include "consumer.h"
#include "httpd.h"
#include "kafka.h"
#include "log.h"
#include "pgutil.h"
#include "strmap.h"
#include "util.h"
#include "utf8.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TP_BACKOFF_MIN_MS 200
#define TP_BACKOFF_MAX_MS 30000
#define TP_LAG_EVERY_MS 5000

enum tp_commit_rc {
        TP_COMMIT_OK,
        TP_COMMIT_RETRY, /* outage: back off */
        TP_COMMIT_DATA,  /* write refused as data (SQLSTATE 22, 23, 54) */
        TP_COMMIT_AGAIN, /* serialization failure or deadlock (40) */
        TP_COMMIT_FENCED
};

struct tp_consumer;
static void tp_consumer_update_ready(struct tp_consumer *c);
static enum tp_commit_rc tp_consumer_land(struct tp_consumer *c, int drop);

/* What we know of one assigned partition. */
struct tp_assigned {
        const char *topic; /* tp_consumer_topic_name's */
        int32_t partition;
        int64_t committed; /* stored next_offset, or TP_OFFSET_NONE */
        int64_t position;  /* next offset we expect, or TP_OFFSET_NONE */
        int64_t gap_at;    /* first offset after a gap, re-sought once */
        int64_t high;      /* high watermark last read (0: not yet) */
        int eof;           /* reached the end since the last message */
        int broken;        /* stopped loudly (offset out of range) */
};

/* A pipelined checkpoint (tp_consumer_pipeline): the batch committing on
 * the worker thread over the consumer's connection while the loop polls
 * and stages the next one over the second. */
struct tp_flight {
        struct tp_batch batch; /* owned; read-only while active */
        pthread_t thread;
        int active;           /* sent off and not yet landed */
        int threaded;         /* thread is to be joined */
        enum tp_commit_rc rc; /* written by the worker */
        char err[1024];       /* written by the worker */
        int64_t t0;
};

struct tp_consumer {
        volatile sig_atomic_t *reload_flag;
        void (*reload_fn)(void *ctx);
        void *reload_ctx;
        struct tp_metrics *own_metrics; /* of tp_consumer_serve_http */
        struct tp_httpd *httpd;
        const struct tp_cfg *cfg;
        char *service;
        struct tp_handler h;
        rd_kafka_t *rk;
        PGconn *conn;
        PGconn *conn2; /* stage's, while a flight holds conn; lazily */
        /* topic name -> its copy, the topic of the assignment's
         * partitions and of the batches' messages */
        struct tp_strmap *topic_names;
        struct tp_flight flight;
        struct tp_assigned *as;
        size_t n_as;
        size_t as_last; /* where tp_assigned_find looks first */
        struct tp_batch batch;
        int64_t batch_started_ms;
        int joined;
        int paused;
        int failed;
        int64_t unassigned_since_ms;
        volatile sig_atomic_t *stop;
        struct tp_consumer_stats stats;
        atomic_int ready; /* read by the HTTP thread */
        int64_t lag_at_ms;
        int64_t failing_since_ms; /* first failed attempt, 0: none */
        int64_t retry_at_ms;      /* a deferred batch waits until then */
        int defer_ms;
        size_t allfail_n; /* batch size when every message failed alone */
        struct {
                struct tp_metric *messages, *batches, *batch_size, *commit_s,
                        *retries, *fenced, *lag, *assigned, *paused, *ready,
                        *last_commit, *pg_up, *failures, *db_rejected, *invalid,
                        *pipelined;
        } metrics;
};

/* ---- batch ----------------------------------------------------------------
 */

void tp_batch_init(struct tp_batch *b)
{
        memset(b, 0, sizeof(*b));
}

static struct tp_part_range *tp_batch_part(const struct tp_batch *b,
                                           const char *topic, int32_t partition)
{
        for (size_t i = 0; i < b->n_parts; i++)
                if (b->parts[i].partition == partition &&
                    strcmp(b->parts[i].topic, topic) == 0)
                        return &b->parts[i];
        return NULL;
}

/* Messages come in runs of one partition: the range of the last one
 * added when it is that partition's, else NULL. */
static struct tp_part_range *
tp_batch_last_part(struct tp_batch *b, const char *topic, int32_t partition)
{
        struct tp_part_range *r;
        if (b->last_part >= b->n_parts)
                return NULL;
        r = &b->parts[b->last_part];
        return r->partition == partition && strcmp(r->topic, topic) == 0 ? r
                                                                         : NULL;
}

void tp_batch_add_msg(struct tp_batch *b, const struct tp_msg *msg,
                      int64_t start)
{
        struct tp_part_range *r =
                tp_batch_last_part(b, msg->topic, msg->partition);
        if (!r)
                r = tp_batch_part(b, msg->topic, msg->partition);
        if (!r) {
                if (b->n_parts == b->cap_parts) {
                        b->cap_parts = b->cap_parts ? b->cap_parts * 2 : 16;
                        b->parts = tp_xrealloc(b->parts,
                                               b->cap_parts * sizeof(*r));
                }
                r = &b->parts[b->n_parts++];
                r->topic = msg->topic;
                r->partition = msg->partition;
                r->start = start;
                r->high = -1;
                r->first = msg->offset;
                r->n = 0;
        }
        r->next = msg->offset + 1;
        r->n++;
        b->last_part = (size_t)(r - b->parts);
        if (b->n == b->cap) {
                b->cap = b->cap ? b->cap * 2 : 256;
                b->msgs = tp_xrealloc(b->msgs, b->cap * sizeof(*msg));
        }
        b->msgs[b->n] = *msg;
        b->msgs[b->n].db_error = NULL;
        b->msgs[b->n].trial_out = 0;
        b->msgs[b->n].reason = TP_REASON_OK;
        b->n++;
        b->bytes += msg->key_len + msg->value_len;
}

int tp_msg_db_rejected(const struct tp_msg *msg, char *detail,
                       size_t detail_size)
{
        char code[6];
        if (msg->db_error) {
                if (tp_pg_sqlstate(msg->db_error, code) != 0)
                        tp_strlcpy(code, "?", sizeof(code));
                /* The SQLSTATE first: the message may be cut. */
                snprintf(detail, detail_size,
                         "PostgreSQL refused it as data (SQLSTATE %s): %s",
                         code, msg->db_error);
                tp_utf8_sanitize(detail, detail_size);
        } else if (msg->trial_out)
                snprintf(detail, detail_size, "left out of a trial write");
        else
                return 0;
        return 1;
}

void tp_batch_add(struct tp_batch *b, const char *topic,
                  const rd_kafka_message_t *rkm, int64_t start)
{
        struct tp_msg msg = {0};
        rd_kafka_timestamp_type_t tstype;
        msg.topic = topic;
        msg.partition = rkm->partition;
        msg.offset = rkm->offset;
        msg.timestamp = rd_kafka_message_timestamp(rkm, &tstype);
        if (rkm->key) {
                unsigned char *key = tp_arena_alloc(&b->mem, rkm->key_len);
                memcpy(key, rkm->key, rkm->key_len);
                msg.key = key;
                msg.key_len = rkm->key_len;
        }
        if (rkm->payload) {
                unsigned char *value = tp_arena_alloc(&b->mem, rkm->len);
                memcpy(value, rkm->payload, rkm->len);
                msg.value = value;
                msg.value_len = rkm->len;
        }
        tp_batch_add_msg(b, &msg, start);
}

void tp_batch_reset(struct tp_batch *b)
{
        for (size_t i = 0; i < b->n; i++)
                free(b->msgs[i].db_error);
        tp_arena_reset(&b->mem);
        b->n = 0;
        b->n_parts = 0;
        b->last_part = 0;
        b->bytes = 0;
}

void tp_batch_release(struct tp_batch *b)
{
        tp_batch_reset(b);
        free(b->msgs);
        free(b->parts);
        memset(b, 0, sizeof(*b));
}

void tp_batch_drop_partition(struct tp_batch *b, const char *topic,
                             int32_t partition)
{
        size_t j = 0, k = 0;
        for (size_t i = 0; i < b->n; i++) {
                struct tp_msg *msg = &b->msgs[i];
                if (msg->partition == partition &&
                    strcmp(msg->topic, topic) == 0) {
                        free(msg->db_error);
                        b->bytes -= msg->key_len + msg->value_len;
                        continue;
                }
                b->msgs[j++] = *msg;
        }
        b->n = j;
        for (size_t i = 0; i < b->n_parts; i++) {
                struct tp_part_range *r = &b->parts[i];
                if (r->partition == partition && strcmp(r->topic, topic) == 0)
                        continue;
                b->parts[k++] = *r;
        }
        b->n_parts = k;
}

/* ---- assigned partitions ---------------------------------------------------
 */

/* The name of a topic for the assignment and the batches: one copy per
 * topic, kept until the consumer is destroyed (a batch may outlive the
 * assignment its messages came from). */
static const char *tp_consumer_topic_name(struct tp_consumer *c,
                                          const char *topic)
{
        char *name = tp_strmap_get(c->topic_names, topic);
        if (!name) {
                name = tp_xstrdup(topic);
                tp_strmap_put(c->topic_names, topic, name);
        }
        return name;
}

/* Messages come in runs of one partition: the last one found is
 * looked at first. */
static struct tp_assigned *
tp_assigned_find(struct tp_consumer *c, const char *topic, int32_t partition)
{
        if (c->as_last < c->n_as) {
                struct tp_assigned *a = &c->as[c->as_last];
                if (a->partition == partition && strcmp(a->topic, topic) == 0)
                        return a;
        }
        for (size_t i = 0; i < c->n_as; i++)
                if (c->as[i].partition == partition &&
                    strcmp(c->as[i].topic, topic) == 0) {
                        c->as_last = i;
                        return &c->as[i];
                }
        return NULL;
}

static void tp_assigned_clear(struct tp_consumer *c)
{
        for (size_t i = 0; i < c->n_as; i++) {
                char p[16];
                snprintf(p, sizeof(p), "%d", c->as[i].partition);
                tp_metric_remove(c->metrics.lag,
                                 (const char *[]){c->as[i].topic, p});
        }
        free(c->as);
        c->as = NULL;
        c->n_as = 0;
        tp_metric_set(c->metrics.assigned, 0, NULL);
}

/* ---- PostgreSQL -----------------------------------------------------------
 */

/* Makes sure *conn (the consumer's connection or stage's second one)
 * works, reconnecting or connecting if needed. */
static int tp_consumer_conn_up(struct tp_consumer *c, PGconn **conn,
                               char *errstr, size_t errstr_size)
{
        if (tp_pg_ok(*conn))
                return 0;
        if (*conn) {
                PQreset(*conn);
                if (tp_pg_ok(*conn))
                        return 0;
                snprintf(errstr, errstr_size,
                         "could not reconnect to PostgreSQL: %s",
                         PQerrorMessage(*conn));
                tp_chomp(errstr);
                return -1;
        }
        *conn = tp_pg_connect(c->cfg->pg, c->service, errstr, errstr_size);
        return *conn ? 0 : -1;
}

static int tp_consumer_pg_up(struct tp_consumer *c, char *errstr,
                             size_t errstr_size)
{
        int rc = tp_consumer_conn_up(c, &c->conn, errstr, errstr_size);
        tp_metric_set(c->metrics.pg_up, rc == 0, NULL);
        return rc;
}

/* Sleeps for ms while serving Kafka (heartbeats, rebalances). Messages
 * that arrive meanwhile are dropped: positions are re-sought later. */
static void tp_consumer_idle_poll(struct tp_consumer *c, int ms)
{
        int64_t until = tp_mono_ms() + ms;
        while (!*c->stop && tp_mono_ms() < until) {
                rd_kafka_message_t *rkm = rd_kafka_consumer_poll(c->rk, 100);
                if (rkm)
                        rd_kafka_message_destroy(rkm);
                tp_consumer_update_ready(c);
        }
}

static int tp_consumer_load_offsets(struct tp_consumer *c,
                                    rd_kafka_topic_partition_list_t *parts,
                                    int64_t *out)
{
        const char **topics =
                tp_xcalloc((size_t)parts->cnt + 1, sizeof(char *));
        int32_t *pnums = tp_xcalloc((size_t)parts->cnt + 1, sizeof(int32_t));
        char err[512];
        int rc, backoff = TP_BACKOFF_MIN_MS;

        for (int i = 0; i < parts->cnt; i++) {
                topics[i] = parts->elems[i].topic;
                pnums[i] = parts->elems[i].partition;
        }
        for (;;) {
                rc = tp_consumer_pg_up(c, err, sizeof(err));
                if (rc == 0)
                        rc = tp_offsets_load(c->conn, c->cfg->group, topics,
                                             pnums, (size_t)parts->cnt, out,
                                             err, sizeof(err));
                if (rc == 0 || *c->stop)
                        break;
                tp_log_warn("could not load stored offsets, retrying in "
                            "%d ms: %s",
                            backoff, err);
                tp_consumer_idle_poll(c, backoff);
                backoff = backoff * 2 > TP_BACKOFF_MAX_MS ? TP_BACKOFF_MAX_MS
                                                          : backoff * 2;
        }
        free(topics);
        free(pnums);
        return rc;
}

/* ---- rebalance ------------------------------------------------------------
 */

static void tp_consumer_assign(struct tp_consumer *c,
                               rd_kafka_topic_partition_list_t *parts)
{
        int64_t *stored = tp_xcalloc((size_t)parts->cnt + 1, sizeof(int64_t));

        if (tp_consumer_load_offsets(c, parts, stored) != 0) {
                free(stored);
                return; /* stopping */
        }
        tp_assigned_clear(c);
        c->as = tp_xcalloc((size_t)parts->cnt + 1, sizeof(*c->as));
        for (int i = 0; i < parts->cnt; i++) {
                struct tp_assigned *a = &c->as[c->n_as++];
                a->topic = tp_consumer_topic_name(c, parts->elems[i].topic);
                a->partition = parts->elems[i].partition;
                a->committed = a->position = stored[i];
                a->gap_at = TP_OFFSET_NONE;
                parts->elems[i].offset = stored[i] == TP_OFFSET_NONE
                                                 ? RD_KAFKA_OFFSET_BEGINNING
                                                 : stored[i];
        }
        free(stored);
        tp_metric_set(c->metrics.assigned, (double)c->n_as, NULL);
        c->batch.epoch++;
        tp_log_info("assigned %d partition(s), resuming from stored offsets",
                    parts->cnt);
        rd_kafka_assign(c->rk, parts);
        c->paused = 0;
}

/* The handler's end of a batch: committed, or abandoned (0). */
static void tp_consumer_done(struct tp_consumer *c, struct tp_batch *b,
                             int committed)
{
        if (c->h.done)
                c->h.done(c->h.ctx, b, committed);
        if (c->h.after)
                c->h.after(c->h.after_ctx, committed);
}

static void tp_consumer_revoke(struct tp_consumer *c)
{
        if (c->batch.n > 0)
                tp_consumer_done(c, &c->batch, 0);
        tp_batch_reset(&c->batch);
        c->batch.epoch++;
        tp_assigned_clear(c);
        rd_kafka_assign(c->rk, NULL);
        c->unassigned_since_ms = tp_mono_ms();
}

static void tp_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                            rd_kafka_topic_partition_list_t *parts,
                            void *opaque)
{
        struct tp_consumer *c = opaque;
        (void)rk;
        tp_consumer_land(c, 1);
        c->joined = 1;
        if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
                tp_consumer_assign(c, parts);
        } else {
                tp_log_info("revoked %d partition(s)", parts->cnt);
                tp_consumer_revoke(c);
        }
}

/* ---- construction -----------------------------------------------------------
 */

static rd_kafka_t *tp_consumer_kafka(struct tp_consumer *c, char *errstr,
                                     size_t errstr_size)
{
        const struct tp_cfg *cfg = c->cfg;
        /* fetch.wait.max.ms: every consumer's (common/kafka.c) */
        const char *const defaults[][2] = {
                {"partition.assignment.strategy", "range"},
                {"topic.metadata.refresh.interval.ms", "30000"},
        };
        /* offsets live in PostgreSQL: exactly once rests on these */
        const char *const fixed[][2] = {
                {"group.id", cfg->group},
                {"enable.auto.commit", "false"},
                {"enable.auto.offset.store", "false"},
                {"auto.offset.reset", "error"},
                {"enable.partition.eof", "true"},
        };
        struct tp_kafka_opts o = {
                .role = TP_KAFKA_CONSUMER,
                .brokers = cfg->brokers,
                .client_id = c->service,
                .defaults = defaults,
                .n_defaults = TP_ARRAY_LEN(defaults),
                .fixed = fixed,
                .n_fixed = TP_ARRAY_LEN(fixed),
                .keys = cfg->kafka_keys,
                .values = cfg->kafka_values,
                .n = cfg->n_kafka,
                .opaque = c,
                .rebalance_cb = tp_rebalance_cb,
        };
        return tp_kafka_new(&o, errstr, errstr_size);
}

static int tp_consumer_subscribe(struct tp_consumer *c, char *errstr,
                                 size_t errstr_size)
{
        rd_kafka_topic_partition_list_t *topics =
                rd_kafka_topic_partition_list_new(4);
        char *list = tp_xstrdup(c->cfg->topics), *save = NULL, *t;
        rd_kafka_resp_err_t err;

        if (list[0] == '^') {
                rd_kafka_topic_partition_list_add(topics, list,
                                                  RD_KAFKA_PARTITION_UA);
        } else {
                for (t = strtok_r(list, ",", &save); t;
                     t = strtok_r(NULL, ",", &save))
                        rd_kafka_topic_partition_list_add(
                                topics, t, RD_KAFKA_PARTITION_UA);
        }
        err = rd_kafka_subscribe(c->rk, topics);
        rd_kafka_topic_partition_list_destroy(topics);
        free(list);
        if (err) {
                snprintf(errstr, errstr_size, "could not subscribe to %s: %s",
                         c->cfg->topics, rd_kafka_err2str(err));
                return -1;
        }
        return 0;
}

struct tp_consumer *tp_consumer_new(const struct tp_cfg *cfg,
                                    const char *service,
                                    const struct tp_handler *handler,
                                    char *errstr, size_t errstr_size)
{
        struct tp_consumer *c = tp_xcalloc(1, sizeof(*c));

        c->cfg = cfg;
        c->service = tp_xstrdup(service);
        c->h = *handler;
        c->topic_names = tp_strmap_new_owning(free);
        tp_batch_init(&c->batch);
        c->conn = tp_pg_connect(cfg->pg, service, errstr, errstr_size);
        if (!c->conn)
                goto fail;
        c->rk = tp_consumer_kafka(c, errstr, errstr_size);
        if (!c->rk)
                goto fail;
        if (tp_consumer_subscribe(c, errstr, errstr_size) != 0)
                goto fail;
        c->unassigned_since_ms = tp_mono_ms();
        return c;
fail:
        tp_consumer_destroy(c);
        return NULL;
}

void tp_consumer_destroy(struct tp_consumer *c)
{
        if (!c)
                return;
        tp_httpd_stop(c->httpd); /* first: its thread reads the consumer */
        if (c->flight.threaded)
                pthread_join(c->flight.thread, NULL);
        tp_batch_release(&c->flight.batch);
        tp_batch_release(&c->batch);
        if (c->rk)
                rd_kafka_destroy(c->rk);
        tp_assigned_clear(c);
        PQfinish(c->conn);
        PQfinish(c->conn2);
        tp_metrics_destroy(c->own_metrics);
        tp_strmap_destroy(c->topic_names);
        free(c->service);
        free(c);
}

static int tp_consumer_ready_cb(void *ctx)
{
        return tp_consumer_ready(ctx);
}

int tp_consumer_serve_http(struct tp_consumer *c, const struct tp_cfg *cfg,
                           char *errstr, size_t errstr_size)
{
        struct tp_httpd_opts opts = {
                .address = cfg->http_address,
                .port = cfg->http_port,
                .max_per_ip = cfg->http_max_per_ip,
                .timeout_s = cfg->http_timeout_s,
        };
        c->own_metrics = tp_metrics_new();
        if (tp_consumer_set_metrics(c, c->own_metrics, errstr, errstr_size))
                return -1;
        c->httpd = tp_httpd_start(&opts, c->own_metrics, tp_consumer_ready_cb,
                                  c, errstr, errstr_size);
        if (!c->httpd)
                return -1;
        tp_log_info("serving /metrics, /healthz and /readyz on %s port %d "
                    "(at most %d connections per client address, idle "
                    "timeout %d s)",
                    cfg->http_address && *cfg->http_address ? cfg->http_address
                                                            : "::",
                    tp_httpd_port(c->httpd), cfg->http_max_per_ip,
                    cfg->http_timeout_s);
        return 0;
}

void tp_consumer_set_reload(struct tp_consumer *c, volatile sig_atomic_t *flag,
                            void (*fn)(void *ctx), void *ctx)
{
        c->reload_flag = flag;
        c->reload_fn = fn;
        c->reload_ctx = ctx;
}

struct tp_metrics *tp_consumer_metrics(struct tp_consumer *c)
{
        return c->own_metrics;
}

void tp_consumer_set_handler(struct tp_consumer *c,
                             const struct tp_handler *handler)
{
        c->h = *handler;
}

const struct tp_cfg *tp_consumer_cfg(const struct tp_consumer *c)
{
        return c->cfg;
}

PGconn *tp_consumer_pg(struct tp_consumer *c)
{
        return c->conn;
}

rd_kafka_t *tp_consumer_rk(struct tp_consumer *c)
{
        return c->rk;
}

const struct tp_consumer_stats *tp_consumer_stats(struct tp_consumer *c)
{
        return &c->stats;
}

int tp_consumer_ready(struct tp_consumer *c)
{
        return atomic_load(&c->ready);
}

static void tp_consumer_update_ready(struct tp_consumer *c)
{
        int failing =
                c->failing_since_ms != 0 &&
                tp_mono_ms() - c->failing_since_ms >= c->cfg->unready_after_ms;
        /* The connection belongs to the worker while a batch flies: its
         * outcome says how PostgreSQL is once it lands. */
        int ready = c->joined && (c->flight.active || tp_pg_ok(c->conn)) &&
                    !failing;
        atomic_store(&c->ready, ready);
        tp_metric_set(c->metrics.ready, ready, NULL);
}

int tp_consumer_set_metrics(struct tp_consumer *c, struct tp_metrics *metrics,
                            char *errstr, size_t errstr_size)
{
        static const double sizes[] = {1,    10,   50,   100,   250,   500,
                                       1000, 2500, 5000, 10000, 25000, 50000};
        const struct tp_metric_def defs[] = {
                {&c->metrics.messages, TP_METRIC_COUNTER,
                 "tthc_consumer_messages_total",
                 "Messages consumed into committed batches.", "topic", NULL, 0},
                {&c->metrics.batches, TP_METRIC_COUNTER,
                 "tthc_consumer_batches_total", "Committed batch transactions.",
                 NULL, NULL, 0},
                {&c->metrics.batch_size, TP_METRIC_HISTOGRAM,
                 "tthc_consumer_batch_messages",
                 "Messages per committed batch.", NULL, sizes,
                 TP_ARRAY_LEN(sizes)},
                {&c->metrics.commit_s, TP_METRIC_HISTOGRAM,
                 "tthc_consumer_commit_seconds",
                 "Duration of a batch commit (prepare and transaction).", NULL,
                 tp_metrics_latency_buckets, tp_metrics_latency_buckets_n},
                {&c->metrics.retries, TP_METRIC_COUNTER,
                 "tthc_consumer_commit_retries_total",
                 "Failed commit attempts that backed off.", NULL, NULL, 0},
                {&c->metrics.fenced, TP_METRIC_COUNTER,
                 "tthc_consumer_fenced_total",
                 "Batches refused by the offsets compare-and-set.", NULL, NULL,
                 0},
                {&c->metrics.lag, TP_METRIC_GAUGE, "tthc_consumer_lag_messages",
                 "High watermark minus the stored offset per assigned "
                 "partition.",
                 "topic,partition", NULL, 0},
                {&c->metrics.assigned, TP_METRIC_GAUGE,
                 "tthc_consumer_assigned_partitions",
                 "Partitions assigned to this instance.", NULL, NULL, 0},
                {&c->metrics.paused, TP_METRIC_GAUGE, "tthc_consumer_paused",
                 "1 while partitions are paused for back-pressure.", NULL, NULL,
                 0},
                {&c->metrics.ready, TP_METRIC_GAUGE, "tthc_consumer_ready",
                 "1 when joined to the group with a PostgreSQL connection and "
                 "commits not failing for longer than --unready-after-ms "
                 "(/readyz).",
                 NULL, NULL, 0},
                {&c->metrics.last_commit, TP_METRIC_GAUGE,
                 "tthc_consumer_last_commit_timestamp_seconds",
                 "Wall time of the last committed batch.", NULL, NULL, 0},
                {&c->metrics.failures, TP_METRIC_COUNTER,
                 "tthc_consumer_commit_failures_total",
                 "Failed batch commits by class: outage, data, serialization, "
                 "fenced.",
                 "class", NULL, 0},
                {&c->metrics.db_rejected, TP_METRIC_COUNTER,
                 "tthc_consumer_db_rejected_total",
                 "Messages PostgreSQL refused as data, taken out of their "
                 "batch.",
                 NULL, NULL, 0},
                {&c->metrics.invalid, TP_METRIC_COUNTER,
                 "tthc_consumer_invalid_total",
                 "Committed messages that were invalid, by reason "
                 "(tthc-ingest: dead letters; tthc-route, tthc-alert: "
                 "skipped).",
                 "reason", NULL, 0},
                {&c->metrics.pipelined, TP_METRIC_COUNTER,
                 "tthc_consumer_pipelined_batches_total",
                 "Batches committed while the next one was applied "
                 "(--pipeline).",
                 NULL, NULL, 0},
                {&c->metrics.pg_up, TP_METRIC_GAUGE, "tthc_postgres_up",
                 "1 when the PostgreSQL connection works.", NULL, NULL, 0},
        };
        if (!metrics)
                return 0;
        if (tp_metrics_declare_all(metrics, defs, TP_ARRAY_LEN(defs), errstr,
                                   errstr_size) != 0)
                return -1;
        tp_metric_set(c->metrics.pg_up, tp_pg_ok(c->conn), NULL);
        return 0;
}

/* Lag per assigned partition from the cached high watermarks (no broker
 * round trip), every TP_LAG_EVERY_MS. */
static void tp_consumer_update_lag(struct tp_consumer *c)
{
        int64_t now = tp_mono_ms();
        if (!c->metrics.lag || now - c->lag_at_ms < TP_LAG_EVERY_MS)
                return;
        c->lag_at_ms = now;
        for (size_t i = 0; i < c->n_as; i++) {
                struct tp_assigned *a = &c->as[i];
                int64_t lo = 0, hi = 0, from;
                char p[16];
                if (rd_kafka_get_watermark_offsets(c->rk, a->topic,
                                                   a->partition, &lo, &hi) !=
                            RD_KAFKA_RESP_ERR_NO_ERROR ||
                    hi < 0)
                        continue;
                from = a->committed == TP_OFFSET_NONE ? lo : a->committed;
                snprintf(p, sizeof(p), "%d", a->partition);
                tp_metric_set(c->metrics.lag,
                              (double)(hi > from ? hi - from : 0),
                              (const char *[]){a->topic, p});
        }
}

/* ---- committing ------------------------------------------------------------
 */

static const char *const tp_commit_rc_names[] = {"ok", "outage", "data",
                                                 "serialization", "fenced"};

/* Every partition's first message in the batch is at the stored offset
 * the batch commits from (a gap was re-sought and confirmed, see
 * tp_consumer_gap(), so it may only be later, never earlier). */
static int tp_consumer_check_starts(const struct tp_batch *b, char *errstr,
                                    size_t errstr_size)
{
        for (size_t p = 0; p < b->n_parts; p++) {
                const struct tp_part_range *r = &b->parts[p];
                if (r->start != TP_OFFSET_NONE && r->first < r->start) {
                        snprintf(errstr, errstr_size,
                                 "%s [%d]: the batch starts at offset %lld, "
                                 "before the stored offset %lld",
                                 r->topic, (int)r->partition,
                                 (long long)r->first, (long long)r->start);
                        return -1;
                }
        }
        return 0;
}

/* The high watermarks librdkafka last saw for the batch's partitions
 * (cached, no request), stored with the offsets for tthc.freshness. */
static void tp_consumer_highs(struct tp_consumer *c, struct tp_batch *b)
{
        for (size_t i = 0; i < b->n_parts; i++) {
                struct tp_part_range *r = &b->parts[i];
                int64_t lo = -1, hi = -1;
                if (rd_kafka_get_watermark_offsets(c->rk, r->topic,
                                                   r->partition, &lo, &hi) != 0)
                        hi = -1; /* unknown: the stored one stays */
                else if (hi < r->next)
                        hi = r->next; /* a cached value older than us */
                r->high = hi;
        }
}

int tp_handler_write(const struct tp_handler *h, struct tp_batch *b,
                     PGconn *conn, char *errstr, size_t errstr_size)
{
        if (h->write)
                return h->write(h->ctx, b, conn, errstr, errstr_size);
        if (h->stage(h->ctx, b, conn, errstr, errstr_size) != 0)
                return -1;
        return h->flush(h->ctx, b, conn, errstr, errstr_size);
}

/* BEGIN, compare-and-set, write (the handler's write, or with staged its
 * flush of what was staged), then COMMIT, or ROLLBACK for a trial. Uses
 * c->conn, b and the handler only: the worker thread runs it for a
 * pipelined checkpoint. */
static enum tp_commit_rc tp_consumer_txn(struct tp_consumer *c,
                                         struct tp_batch *b, int staged,
                                         int trial, char *errstr,
                                         size_t errstr_size)
{
        char err[256];
        int fenced = 0;
        enum tp_pg_errclass cls;

        if (tp_pg_exec(c->conn, "BEGIN", errstr, errstr_size) != 0)
                return TP_COMMIT_RETRY;
        if (tp_offsets_cas(c->conn, c->cfg->group, b->parts, b->n_parts,
                           &fenced, errstr, errstr_size) != 0)
                goto rollback;
        if (fenced) {
                tp_pg_exec(c->conn, "ROLLBACK", err, sizeof(err));
                return TP_COMMIT_FENCED;
        }
        if (staged ? c->h.flush(c->h.ctx, b, c->conn, errstr, errstr_size)
                   : tp_handler_write(&c->h, b, c->conn, errstr, errstr_size)) {
                tp_pg_exec(c->conn, "ROLLBACK", err, sizeof(err));
                cls = tp_pg_errclass(errstr);
                return cls == TP_PG_DATA    ? TP_COMMIT_DATA
                       : cls == TP_PG_RETRY ? TP_COMMIT_AGAIN
                                            : TP_COMMIT_RETRY;
        }
        if (trial) {
                tp_pg_exec(c->conn, "ROLLBACK", err, sizeof(err));
                return TP_COMMIT_OK;
        }
        if (tp_pg_exec(c->conn, "COMMIT", errstr, errstr_size) != 0)
                return tp_pg_errclass(errstr) == TP_PG_RETRY
                               ? TP_COMMIT_AGAIN
                               : TP_COMMIT_RETRY; /* unknown outcome:
                                                     fences next */
        return TP_COMMIT_OK;
rollback:
        tp_pg_exec(c->conn, "ROLLBACK", err, sizeof(err));
        cls = tp_pg_errclass(errstr);
        return cls == TP_PG_RETRY ? TP_COMMIT_AGAIN : TP_COMMIT_RETRY;
}

/* One attempt: prepare, BEGIN, compare-and-set, write, then COMMIT (or
 * ROLLBACK for a trial, which only asks whether the write would pass). */
static enum tp_commit_rc tp_consumer_try_commit(struct tp_consumer *c,
                                                int trial, char *errstr,
                                                size_t errstr_size)
{
        if (tp_consumer_check_starts(&c->batch, errstr, errstr_size) != 0)
                return TP_COMMIT_FENCED;
        if (tp_consumer_pg_up(c, errstr, errstr_size) != 0)
                return TP_COMMIT_RETRY;
        if (c->h.prepare &&
            c->h.prepare(c->h.ctx, &c->batch, c->conn, errstr, errstr_size))
                return TP_COMMIT_RETRY;
        tp_consumer_highs(c, &c->batch);
        return tp_consumer_txn(c, &c->batch, 0, trial, errstr, errstr_size);
}

/* ---- finding the messages PostgreSQL refuses ------------------------------
 */

#define TP_BISECT_MAX_TRIALS 512
#define TP_BISECT_MAX_BLIND 32 /* offenders found before any trial passed */

struct tp_bisect {
        size_t trials, passed, found;
        size_t *found_idx;
        char **found_err;
        int gave_up;
        int interrupted; /* a trial failed otherwise than as data */
};

/* A trial write of the messages idx[0..n) alone (those already refused
 * stay out too). */
static enum tp_commit_rc tp_consumer_trial(struct tp_consumer *c,
                                           struct tp_bisect *bs,
                                           const size_t *idx, size_t n,
                                           char *errstr, size_t errstr_size)
{
        enum tp_commit_rc rc;
        for (size_t i = 0; i < c->batch.n; i++)
                c->batch.msgs[i].trial_out = 1;
        for (size_t k = 0; k < n; k++)
                c->batch.msgs[idx[k]].trial_out = 0;
        rc = tp_consumer_try_commit(c, 1, errstr, errstr_size);
        for (size_t i = 0; i < c->batch.n; i++)
                c->batch.msgs[i].trial_out = 0;
        bs->trials++;
        if (rc == TP_COMMIT_OK)
                bs->passed++;
        return rc;
}

/* idx[0..n) failed together with err: finds the ones that fail alone.
 * Returns -1 when a trial failed for another reason than data (outage,
 * fenced) or the search ran out of budget. */
static int tp_consumer_bisect(struct tp_consumer *c, struct tp_bisect *bs,
                              size_t *idx, size_t n, const char *err)
{
        char sub_err[1024];
        size_t half = n / 2;

        if (n == 1) {
                bs->found_idx[bs->found] = idx[0];
                bs->found_err[bs->found] = tp_xstrdup(err);
                bs->found++;
                if (bs->passed == 0 && bs->found >= TP_BISECT_MAX_BLIND)
                        return -1;
                return 0;
        }
        for (int side = 0; side < 2; side++) {
                size_t *sub = side ? idx + half : idx;
                size_t count = side ? n - half : half;
                enum tp_commit_rc rc;
                if (bs->trials >= TP_BISECT_MAX_TRIALS)
                        return -1;
                rc = tp_consumer_trial(c, bs, sub, count, sub_err,
                                       sizeof(sub_err));
                if (rc == TP_COMMIT_OK)
                        continue;
                if (rc != TP_COMMIT_DATA) {
                        bs->interrupted = 1;
                        return -1;
                }
                if (tp_consumer_bisect(c, bs, sub, count, sub_err) != 0)
                        return -1;
        }
        return 0;
}

/* The last write failed as data (err): bisects the batch. Returns 1 when
 * messages were taken out (commit the rest now), 0 when no message fails
 * alone or every one does with the same SQLSTATE (an outage), -1 when a
 * trial failed otherwise (PostgreSQL went away, a fence): nothing is
 * known, search again on the next attempt. */
static int tp_consumer_take_out(struct tp_consumer *c, const char *err)
{
        size_t n = 0, *idx = tp_xcalloc(c->batch.n + 1, sizeof(size_t));
        struct tp_bisect bs = {0};
        char first[6] = "", code[6];
        int same = 1, rc = 0;

        for (size_t i = 0; i < c->batch.n; i++)
                if (!c->batch.msgs[i].db_error)
                        idx[n++] = i;
        bs.found_idx = tp_xcalloc(n + 1, sizeof(size_t));
        bs.found_err = tp_xcalloc(n + 1, sizeof(char *));
        if (n > 0 && tp_consumer_bisect(c, &bs, idx, n, err) != 0)
                bs.gave_up = 1;
        for (size_t k = 0; k < bs.found; k++) {
                if (tp_pg_sqlstate(bs.found_err[k], code) != 0)
                        code[0] = '\0';
                if (k == 0)
                        memcpy(first, code, sizeof(first));
                same = same && strcmp(first, code) == 0;
        }
        if (bs.interrupted) {
                tp_log_warn("the search for the messages PostgreSQL refuses "
                            "in a write of %zu messages was interrupted after "
                            "%zu trial writes; searching again on the next "
                            "attempt",
                            n, bs.trials);
                rc = -1;
        } else if (bs.gave_up || bs.found == 0 || (bs.found == n && same)) {
                tp_log_warn("a write of %zu messages was refused as data and "
                            "%s (%zu trial writes): treating it as an outage: "
                            "%s",
                            n,
                            bs.gave_up      ? "the search gave up"
                            : bs.found == 0 ? "no message fails alone"
                                            : "every message fails alone",
                            bs.trials, err);
        } else {
                for (size_t k = 0; k < bs.found; k++) {
                        struct tp_msg *msg = &c->batch.msgs[bs.found_idx[k]];
                        tp_log_warn("taking the message at %s [%d] offset "
                                    "%lld out of the batch: %s",
                                    msg->topic, (int)msg->partition,
                                    (long long)msg->offset, bs.found_err[k]);
                        msg->db_error = bs.found_err[k];
                        bs.found_err[k] = NULL;
                }
                c->stats.db_rejected += bs.found;
                tp_metric_add(c->metrics.db_rejected, (double)bs.found, NULL);
                rc = 1;
        }
        for (size_t k = 0; k < bs.found; k++)
                free(bs.found_err[k]);
        free(bs.found_err);
        free(bs.found_idx);
        free(idx);
        return rc;
}

static void tp_consumer_set_paused(struct tp_consumer *c, int pause)
{
        rd_kafka_topic_partition_list_t *l =
                rd_kafka_topic_partition_list_new((int)c->n_as + 1);
        for (size_t i = 0; i < c->n_as; i++)
                if (!c->as[i].broken)
                        rd_kafka_topic_partition_list_add(l, c->as[i].topic,
                                                          c->as[i].partition);
        if (pause)
                rd_kafka_pause_partitions(c->rk, l);
        else
                rd_kafka_resume_partitions(c->rk, l);
        rd_kafka_topic_partition_list_destroy(l);
        c->paused = pause;
        tp_metric_set(c->metrics.paused, pause, NULL);
}

/* Seeks every assigned partition to where we expect to read next. */
static void tp_consumer_seek_positions(struct tp_consumer *c)
{
        rd_kafka_topic_partition_list_t *l =
                rd_kafka_topic_partition_list_new((int)c->n_as + 1);
        rd_kafka_error_t *error;
        for (size_t i = 0; i < c->n_as; i++) {
                struct tp_assigned *a = &c->as[i];
                if (a->broken)
                        continue;
                rd_kafka_topic_partition_list_add(l, a->topic, a->partition)
                        ->offset = a->position == TP_OFFSET_NONE
                                           ? RD_KAFKA_OFFSET_BEGINNING
                                           : a->position;
                a->eof = 0;
        }
        error = rd_kafka_seek_partitions(c->rk, l, 5000);
        if (error) {
                tp_log_warn("could not seek partitions: %s",
                            rd_kafka_error_string(error));
                rd_kafka_error_destroy(error);
        }
        /* A partition that did not move shows up as a gap or as stale
         * messages: tp_consumer_on_message() re-seeks or drops them. */
        for (int i = 0; i < l->cnt; i++)
                if (l->elems[i].err)
                        tp_log_warn("could not seek %s [%d] to offset %lld: "
                                    "%s",
                                    l->elems[i].topic, l->elems[i].partition,
                                    (long long)l->elems[i].offset,
                                    rd_kafka_err2str(l->elems[i].err));
        rd_kafka_topic_partition_list_destroy(l);
}

static void tp_consumer_count_invalid(struct tp_consumer *c,
                                      const struct tp_batch *b)
{
        uint64_t n[TP_REASON__COUNT] = {0};
        if (!c->metrics.invalid)
                return;
        for (size_t i = 0; i < b->n; i++)
                n[b->msgs[i].reason]++;
        for (int r = 1; r < TP_REASON__COUNT; r++)
                if (n[r])
                        tp_metric_add(c->metrics.invalid, (double)n[r],
                                      (const char *[]){tp_reason_name(r)});
}

static void tp_consumer_add_topic(const char *topic, void *value, void *ud)
{
        struct tp_consumer *c = ud;
        tp_metric_add(c->metrics.messages, (double)*(size_t *)value,
                      (const char *[]){topic});
}

/* Messages per topic, from the batch's partition ranges: a national
 * batch spans about a thousand partitions of 34 topics. */
static void tp_consumer_count_topics(struct tp_consumer *c,
                                     const struct tp_batch *b)
{
        struct tp_strmap *topics = tp_strmap_new();
        size_t *n = tp_xcalloc(b->n_parts + 1, sizeof(*n));
        size_t n_topics = 0;

        for (size_t i = 0; i < b->n_parts; i++) {
                const struct tp_part_range *r = &b->parts[i];
                size_t *slot = tp_strmap_get(topics, r->topic);
                if (!slot) {
                        slot = &n[n_topics++];
                        tp_strmap_put(topics, r->topic, slot);
                }
                *slot += r->n;
        }
        tp_strmap_each(topics, tp_consumer_add_topic, c);
        tp_strmap_destroy(topics);
        free(n);
}

static void tp_consumer_committed(struct tp_consumer *c, struct tp_batch *b)
{
        for (size_t i = 0; i < b->n_parts; i++) {
                struct tp_part_range *r = &b->parts[i];
                struct tp_assigned *a =
                        tp_assigned_find(c, r->topic, r->partition);
                if (a)
                        a->committed = r->next;
        }
        /* The handler first, so its own figures are current once the
         * consumer's metrics say the batch is committed. */
        tp_consumer_done(c, b, 1);
        c->stats.messages += b->n;
        c->stats.batches++;
        c->stats.last_commit_ms = tp_now_ms();
        if (c->metrics.messages) {
                tp_consumer_count_topics(c, b);
        }
        tp_consumer_count_invalid(c, b);
        tp_metric_inc(c->metrics.batches, NULL);
        tp_metric_observe(c->metrics.batch_size, (double)b->n, NULL);
        tp_metric_set(c->metrics.last_commit,
                      (double)c->stats.last_commit_ms / 1000.0, NULL);
        tp_batch_reset(b);
}

/* Someone else moved our offsets: drop the batch, reload, seek. */
static void tp_consumer_refence(struct tp_consumer *c, const char *why)
{
        const char **topics = tp_xcalloc(c->n_as + 1, sizeof(char *));
        int32_t *pnums = tp_xcalloc(c->n_as + 1, sizeof(int32_t));
        int64_t *stored = tp_xcalloc(c->n_as + 1, sizeof(int64_t));
        char err[512];

        c->stats.fenced++;
        tp_metric_inc(c->metrics.fenced, NULL);
        tp_log_warn("batch not committed, offsets moved by another instance "
                    "(%s): reloading stored offsets",
                    why);
        tp_consumer_done(c, &c->batch, 0);
        tp_batch_reset(&c->batch);
        c->batch.epoch++;
        for (size_t i = 0; i < c->n_as; i++) {
                topics[i] = c->as[i].topic;
                pnums[i] = c->as[i].partition;
        }
        if (tp_offsets_load(c->conn, c->cfg->group, topics, pnums, c->n_as,
                            stored, err, sizeof(err)) == 0) {
                for (size_t i = 0; i < c->n_as; i++)
                        c->as[i].committed = c->as[i].position = stored[i];
        } else {
                for (size_t i = 0; i < c->n_as; i++)
                        c->as[i].position = c->as[i].committed;
        }
        tp_consumer_seek_positions(c);
        free(topics);
        free(pnums);
        free(stored);
}

/* Bookkeeping of a failed attempt: metrics, and the clock /readyz
 * reads (a fence is part of a rebalance, not a failure to commit). */
static void tp_consumer_attempt_failed(struct tp_consumer *c,
                                       enum tp_commit_rc rc)
{
        tp_metric_inc(c->metrics.failures,
                      (const char *[]){tp_commit_rc_names[rc]});
        if (rc != TP_COMMIT_FENCED && c->failing_since_ms == 0)
                c->failing_since_ms = tp_mono_ms();
}

static int tp_consumer_batch_full(const struct tp_consumer *c)
{
        return c->batch.n >= (size_t)c->cfg->batch_size ||
               (c->cfg->batch_bytes > 0 &&
                c->batch.bytes >= (size_t)c->cfg->batch_bytes);
}

/* Every message of the batch was refused alone with the same SQLSTATE:
 * an outage, unless more messages can join the batch and tell a bad
 * message from a broken database. Returns 1 to wait for them. */
static int tp_consumer_defer(struct tp_consumer *c, const char *err)
{
        int64_t now = tp_mono_ms();
        if (*c->stop || tp_consumer_batch_full(c))
                return 0;
        c->defer_ms = c->defer_ms ? c->defer_ms * 2 : TP_BACKOFF_MIN_MS;
        if (c->defer_ms > TP_BACKOFF_MAX_MS)
                c->defer_ms = TP_BACKOFF_MAX_MS;
        c->retry_at_ms = now + c->defer_ms;
        tp_log_warn("could not commit a batch of %zu messages, every one "
                    "refused with the same error; waiting %d ms for more "
                    "messages to tell a bad message from a broken "
                    "database: %s",
                    c->batch.n, c->defer_ms, err);
        return 1;
}

/* b committed: t0 when its attempt began, started when its first
 * message arrived. */
static void tp_consumer_commit_ok(struct tp_consumer *c, struct tp_batch *b,
                                  int64_t t0, int64_t started)
{
        int64_t t1 = tp_mono_ms();
        tp_log_debug("committed a batch of %zu message(s): %lld ms to write "
                     "and commit, the first received %lld ms before",
                     b->n, (long long)(t1 - t0), (long long)(t1 - started));
        tp_metric_set(c->metrics.pg_up, 1, NULL);
        tp_metric_observe(c->metrics.commit_s, (double)(t1 - t0) / 1000.0,
                          NULL);
        c->failing_since_ms = 0;
        c->allfail_n = 0;
        c->defer_ms = 0;
        c->retry_at_ms = 0;
        tp_consumer_committed(c, b);
}

/* ---- pipelined checkpoints -------------------------------------------------
 *
 * In a backlog, a handler with stage and flush has batch n+1 polled,
 * decoded and applied (stage, over the second connection) while batch n
 * commits on the worker thread (flush, over the first): the client's work
 * and PostgreSQL's overlap. Only a full batch flies: a live one (timed
 * out, caught up) commits at once, as does everything after a failure,
 * with retries, backoff and bisection one batch at a time. While a batch
 * flies the loop only polls and stages: everything that touches the first
 * connection or the assignment lands it first (tp_consumer_land).
 */

static void *tp_flight_main(void *arg)
{
        struct tp_consumer *c = arg;
        struct tp_flight *f = &c->flight;
        f->rc = tp_consumer_txn(c, &f->batch, 1, 0, f->err, sizeof(f->err));
        return NULL;
}

/* Moves the messages of front before those of b: a batch that failed in
 * flight goes back in front of the one polled since, to be committed
 * again together. front is left empty; the staged work of both must have
 * been dropped (done(0)). */
static void tp_batch_prepend(struct tp_batch *b, struct tp_batch *front)
{
        struct tp_batch merged;
        struct tp_batch *from[2] = {front, b};
        tp_batch_init(&merged);
        merged.epoch = b->epoch;
        merged.replay = b->replay;
        for (int k = 0; k < 2; k++) {
                for (size_t i = 0; i < from[k]->n; i++) {
                        struct tp_msg *msg = &from[k]->msgs[i];
                        const struct tp_part_range *r = tp_batch_part(
                                from[k], msg->topic, msg->partition);
                        tp_batch_add_msg(&merged, msg, r->start);
                        merged.msgs[merged.n - 1].db_error = msg->db_error;
                        msg->db_error = NULL;
                }
                tp_arena_take(&merged.mem, &from[k]->mem);
                tp_batch_reset(from[k]);
        }
        tp_batch_release(b);
        *b = merged;
}

/* Waits for the batch in flight, if any, and settles it: committed as any
 * batch; or, failed, dropped with the work staged on it (the handler's
 * done(0) for both batches) and put back in front of c->batch, to be
 * committed one batch at a time; with drop (partitions being revoked),
 * only dropped. Returns the flight's outcome (TP_COMMIT_OK: none). */
static enum tp_commit_rc tp_consumer_land(struct tp_consumer *c, int drop)
{
        struct tp_flight *f = &c->flight;
        int64_t t0;
        if (!f->active)
                return TP_COMMIT_OK;
        t0 = tp_mono_ms();
        if (f->threaded)
                pthread_join(f->thread, NULL);
        f->active = f->threaded = 0;
        c->stats.flight_wait_ms += tp_mono_ms() - t0;
        if (f->rc == TP_COMMIT_OK) {
                if (c->stats.pipelined++ == 0)
                        tp_log_info("in a backlog: applying each batch while "
                                    "the one before commits");
                tp_metric_inc(c->metrics.pipelined, NULL);
                tp_consumer_commit_ok(c, &f->batch, f->t0, f->t0);
                return TP_COMMIT_OK;
        }
        tp_consumer_attempt_failed(c, f->rc);
        tp_log_warn("a batch of %zu messages did not commit (%s); %s: %s",
                    f->batch.n, tp_commit_rc_names[f->rc],
                    drop ? "its partitions are being revoked"
                         : "committing it again, one batch at a time",
                    f->err);
        tp_consumer_done(c, &f->batch, 0);
        if (drop) { /* the revoke drops c->batch */
                tp_batch_reset(&f->batch);
                return f->rc;
        }
        if (c->batch.n > 0)
                tp_consumer_done(c, &c->batch, 0);
        tp_batch_prepend(&c->batch, &f->batch);
        if (f->rc == TP_COMMIT_FENCED)
                tp_consumer_refence(c, f->err);
        return f->rc;
}

/* Where a batch polled now starts on a's partition: where the batch in
 * flight ends, or the stored offset. */
static int64_t tp_consumer_start(const struct tp_consumer *c,
                                 const struct tp_assigned *a)
{
        const struct tp_part_range *r;
        if (c->flight.active) {
                r = tp_batch_part(&c->flight.batch, a->topic, a->partition);
                if (r)
                        return r->next;
        }
        return a->committed;
}

/* The client's half: prepare and stage c->batch over the second
 * connection (its reads in a transaction of their own). */
static int tp_consumer_stage(struct tp_consumer *c, char *errstr,
                             size_t errstr_size)
{
        char err[256];
        if (tp_consumer_check_starts(&c->batch, errstr, errstr_size) != 0 ||
            tp_consumer_conn_up(c, &c->conn2, errstr, errstr_size) != 0)
                return -1;
        if (c->h.prepare && c->h.prepare(c->h.ctx, &c->batch, c->conn2, errstr,
                                         errstr_size) != 0)
                return -1;
        /* the stage may write them (tthc-alert: caught up) */
        tp_consumer_highs(c, &c->batch);
        if (tp_pg_exec(c->conn2, "BEGIN", errstr, errstr_size) != 0)
                return -1;
        if (c->h.stage(c->h.ctx, &c->batch, c->conn2, errstr, errstr_size) !=
            0) {
                tp_pg_exec(c->conn2, "ROLLBACK", err, sizeof(err));
                return -1;
        }
        return tp_pg_exec(c->conn2, "COMMIT", errstr, errstr_size);
}

static int tp_consumer_pipelines(const struct tp_consumer *c)
{
        return c->h.stage && c->h.flush && c->cfg->pipeline &&
               tp_consumer_batch_full(c) && !c->paused && !*c->stop &&
               c->failing_since_ms == 0 && c->allfail_n == 0;
}

/* Stages c->batch, lands the batch in flight and sends c->batch off in
 * its place. Returns 0 when it flies, -1 when it must be committed one
 * batch at a time (stage failed, or the flight did and c->batch now holds
 * both). */
static int tp_consumer_pipeline(struct tp_consumer *c)
{
        struct tp_flight *f = &c->flight;
        struct tp_batch spare;
        char err[1024];

        if (tp_consumer_stage(c, err, sizeof(err)) != 0) {
                tp_log_info("could not stage a batch of %zu messages, "
                            "committing it one batch at a time: %s",
                            c->batch.n, err);
                return -1;
        }
        if (tp_consumer_land(c, 0) != TP_COMMIT_OK)
                return -1;
        spare = f->batch; /* empty, its arrays kept */
        f->batch = c->batch;
        c->batch = spare;
        c->batch.epoch = f->batch.epoch;
        c->batch.replay = f->batch.replay;
        c->batch.staged = NULL;
        f->t0 = tp_mono_ms();
        f->active = 1;
        f->threaded = pthread_create(&f->thread, NULL, tp_flight_main, c) == 0;
        if (!f->threaded)
                tp_flight_main(c); /* no thread: commit it here */
        return 0;
}

static int tp_consumer_commit(struct tp_consumer *c)
{
        char err[1024];
        int backoff = TP_BACKOFF_MIN_MS, again = 0;

        if (tp_consumer_pipelines(c) && tp_consumer_pipeline(c) == 0)
                return 0;
        tp_consumer_land(c, 0);

        while (c->batch.n > 0) {
                int64_t t0 = tp_mono_ms();
                enum tp_commit_rc rc =
                        tp_consumer_try_commit(c, 0, err, sizeof(err));
                if (rc == TP_COMMIT_OK) {
                        tp_consumer_commit_ok(c, &c->batch, t0,
                                              c->batch_started_ms);
                        break;
                }
                tp_consumer_attempt_failed(c, rc);
                if (rc == TP_COMMIT_FENCED) {
                        tp_consumer_refence(c, err);
                        break;
                }
                if (rc == TP_COMMIT_AGAIN && ++again <= 5) {
                        tp_log_info("retrying a batch at once: %s", err);
                        continue;
                }
                if (rc == TP_COMMIT_DATA) {
                        int out = c->batch.n != c->allfail_n
                                          ? tp_consumer_take_out(c, err)
                                          : 0;
                        if (out > 0)
                                continue;
                        /* out < 0: the search met an outage, search
                         * again once PostgreSQL is back */
                        if (out == 0)
                                c->allfail_n = c->batch.n;
                        if (out == 0 && !c->paused && tp_consumer_defer(c, err))
                                return 0;
                }
                c->stats.retries++;
                tp_metric_inc(c->metrics.retries, NULL);
                tp_metric_set(c->metrics.pg_up, tp_pg_ok(c->conn), NULL);
                if (*c->stop) {
                        tp_log_error("giving up on a batch of %zu messages at "
                                     "shutdown (it will be consumed again): "
                                     "%s",
                                     c->batch.n, err);
                        return -1;
                }
                tp_log_warn("could not commit a batch of %zu messages, "
                            "partitions paused, retrying in %d ms: %s",
                            c->batch.n, backoff, err);
                if (!c->paused)
                        tp_consumer_set_paused(c, 1);
                tp_consumer_idle_poll(c, backoff);
                backoff = backoff * 2 > TP_BACKOFF_MAX_MS ? TP_BACKOFF_MAX_MS
                                                          : backoff * 2;
        }
        if (c->paused) {
                tp_log_info("resuming partitions");
                tp_consumer_seek_positions(c);
                tp_consumer_set_paused(c, 0);
        }
        return 0;
}

/* ---- the loop --------------------------------------------------------------
 */

static void tp_consumer_on_error(struct tp_consumer *c, rd_kafka_message_t *rkm)
{
        const char *topic = rkm->rkt ? rd_kafka_topic_name(rkm->rkt) : "?";
        struct tp_assigned *a =
                rkm->rkt ? tp_assigned_find(c, topic, rkm->partition) : NULL;
        if (rkm->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                if (a && (a->position == TP_OFFSET_NONE ||
                          rkm->offset >= a->position))
                        a->eof = 1;
                return;
        }
        if (a && (rkm->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET ||
                  rkm->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE)) {
                rd_kafka_topic_partition_list_t *l =
                        rd_kafka_topic_partition_list_new(1);
                tp_log_error("stopping %s [%d]: stored offset %lld is out of "
                             "range (%s); fix tthc.consumer_offsets for "
                             "group %s, then restart",
                             topic, rkm->partition, (long long)a->committed,
                             rd_kafka_message_errstr(rkm), c->cfg->group);
                a->broken = 1;
                c->failed = 1;
                rd_kafka_topic_partition_list_add(l, topic, rkm->partition);
                rd_kafka_pause_partitions(c->rk, l);
                rd_kafka_topic_partition_list_destroy(l);
                return;
        }
        tp_log_warn("kafka consumer error on %s [%d]: %s", topic,
                    rkm->partition, rd_kafka_message_errstr(rkm));
}

/* A message past the offset we expect. The first time, re-seek (a seek
 * that failed, or fetched data we never asked for); when the same offset
 * comes back after the re-seek, the offsets between are not in the log
 * (transaction markers, compaction) and reading goes on. Returns 1 to drop
 * the message. */
static int tp_consumer_gap(struct tp_consumer *c, struct tp_assigned *a,
                           int64_t offset)
{
        rd_kafka_topic_partition_list_t *l;
        rd_kafka_error_t *error;

        if (a->gap_at == offset) {
                tp_log_info("%s [%d]: offsets %lld to %lld are not in the log "
                            "(transaction markers or compaction)",
                            a->topic, a->partition, (long long)a->position,
                            (long long)offset - 1);
                return 0;
        }
        if (a->gap_at != TP_OFFSET_NONE)
                return 1; /* fetched before the re-seek took effect */
        tp_log_warn("%s [%d]: expected offset %lld, got %lld: seeking again",
                    a->topic, a->partition, (long long)a->position,
                    (long long)offset);
        a->gap_at = offset;
        l = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(l, a->topic, a->partition)->offset =
                a->position;
        error = rd_kafka_seek_partitions(c->rk, l, 5000);
        if (error) {
                tp_log_warn("could not seek %s [%d]: %s", a->topic,
                            a->partition, rd_kafka_error_string(error));
                rd_kafka_error_destroy(error);
        }
        rd_kafka_topic_partition_list_destroy(l);
        return 1;
}

/* The fetch that brought a message also brought its partition's high
 * watermark: when the message is the last one, the partition is at its
 * end now. The end-of-partition event would come only with the next,
 * empty fetch, which the broker holds for up to fetch.wait.max.ms (500 ms
 * by default): live, that wait was part of every batch's latency. The
 * watermark is read only once the position reaches the last one read, so
 * a replay far from the end does not pay for it. */
static void tp_consumer_check_end(struct tp_consumer *c, struct tp_assigned *a)
{
        int64_t lo, hi;
        if (a->position < a->high ||
            rd_kafka_get_watermark_offsets(c->rk, a->topic, a->partition, &lo,
                                           &hi) != RD_KAFKA_RESP_ERR_NO_ERROR ||
            hi < 0)
                return;
        a->high = hi;
        if (a->position >= hi)
                a->eof = 1;
}

static void tp_consumer_on_message(struct tp_consumer *c,
                                   rd_kafka_message_t *rkm)
{
        struct tp_assigned *a;
        if (rkm->err) {
                tp_consumer_on_error(c, rkm);
                rd_kafka_message_destroy(rkm);
                return;
        }
        a = tp_assigned_find(c, rd_kafka_topic_name(rkm->rkt), rkm->partition);
        if (!a || a->broken ||
            (a->position != TP_OFFSET_NONE && rkm->offset < a->position)) {
                rd_kafka_message_destroy(rkm); /* stale or not ours */
                return;
        }
        if (a->position != TP_OFFSET_NONE && rkm->offset > a->position &&
            tp_consumer_gap(c, a, rkm->offset)) {
                rd_kafka_message_destroy(rkm);
                return;
        }
        a->gap_at = TP_OFFSET_NONE;
        a->eof = 0;
        a->position = rkm->offset + 1;
        if (c->batch.n == 0)
                c->batch_started_ms = tp_mono_ms();
        /* where the partition starts matters for its first message only */
        tp_batch_add(&c->batch, a->topic, rkm,
                     tp_batch_last_part(&c->batch, a->topic, a->partition)
                             ? 0
                             : tp_consumer_start(c, a));
        rd_kafka_message_destroy(rkm);
        tp_consumer_check_end(c, a);
}

/* Every assigned partition has reached its end since its last message:
 * live traffic, where waiting for --batch-ms only adds latency. */
static int tp_consumer_caught_up(const struct tp_consumer *c)
{
        if (c->n_as == 0)
                return 0;
        for (size_t i = 0; i < c->n_as; i++)
                if (!c->as[i].eof && !c->as[i].broken)
                        return 0;
        return 1;
}

static int tp_consumer_drained(struct tp_consumer *c)
{
        if (c->batch.n > 0 || c->flight.active)
                return 0;
        if (c->n_as == 0)
                return c->joined && tp_mono_ms() - c->unassigned_since_ms >=
                                            c->cfg->idle_exit_ms;
        for (size_t i = 0; i < c->n_as; i++)
                if (!c->as[i].eof && !c->as[i].broken)
                        return 0;
        return 1;
}

int tp_consumer_run(struct tp_consumer *c, volatile sig_atomic_t *stop)
{
        int rc = 0;
        c->stop = stop;
        while (!*stop) {
                int64_t age =
                        c->batch.n ? tp_mono_ms() - c->batch_started_ms : 0;
                int timeout = c->batch.n ? (int)(c->cfg->batch_ms - age) : 100;
                rd_kafka_message_t *rkm = rd_kafka_consumer_poll(
                        c->rk, timeout < 0     ? 0
                               : timeout > 100 ? 100
                                               : timeout);
                if (rkm)
                        tp_consumer_on_message(c, rkm);
                tp_consumer_update_ready(c);
                tp_consumer_update_lag(c);
                age = c->batch.n ? tp_mono_ms() - c->batch_started_ms : 0;
                if ((tp_consumer_batch_full(c) ||
                     (c->batch.n > 0 &&
                      (age >= c->cfg->batch_ms || tp_consumer_caught_up(c)))) &&
                    tp_mono_ms() >= c->retry_at_ms &&
                    tp_consumer_commit(c) != 0) {
                        rc = -1;
                        break;
                }
                /* Nothing more to stage behind the batch in flight. */
                if (c->flight.active && c->batch.n == 0 &&
                    tp_consumer_caught_up(c))
                        tp_consumer_land(c, 0);
                if (c->cfg->exit_when_idle && tp_consumer_drained(c))
                        break;
                if (c->reload_flag && *c->reload_flag) {
                        *c->reload_flag = 0;
                        tp_consumer_land(c, 0);
                        c->reload_fn(c->reload_ctx);
                }
        }
        tp_consumer_land(c, 0);
        if (rc == 0 && c->batch.n > 0 && tp_consumer_commit(c) != 0)
                rc = -1;
        if (c->stats.pipelined > 0)
                tp_log_info("%llu batches committed while the next was "
                            "applied; %.1f s spent waiting for them",
                            (unsigned long long)c->stats.pipelined,
                            (double)c->stats.flight_wait_ms / 1000.0);
        tp_log_info("leaving the consumer group (peak RSS %ld MiB)",
                    tp_peak_rss_kib() / 1024);
        atomic_store(&c->ready, 0);
        rd_kafka_consumer_close(c->rk);
        return rc == 0 && !c->failed ? 0 : -1;
}
