/* tp-log-ids: what the broker holds, read back for the torture tests.
 *
 *   tp-log-ids BROKERS                       watermarks only
 *   tp-log-ids BROKERS SCHEMAS REFERENCE     watermarks and every message
 *
 * Selects the topics named tthc.filings.* but the DLQ (what tthc-ingest
 * subscribes to) and prints one line per partition:
 *
 *   W <topic> <partition> <low> <high>
 *
 * With SCHEMAS (a catalog directory, reader schema
 * SCHEMAS/1-filing_event.avsc) and REFERENCE (the CSV reference data), it
 * then reads every partition from its low to its high watermark with a
 * plain consumer (no group) and decodes each message with the consumers'
 * own code (tp_filing_read), printing one line per message:
 *
 *   M <topic> <partition> <offset> <event_id or -> <reason>
 *
 * reason is "ok" or the reason code a consumer would dead-letter it with
 * (its event_id is then "-"). A partition is done when its message at
 * high - 1 has been read, so the output is the log between the watermarks
 * taken at the start, whatever its EOF events say. Exit 0, or 1 with a
 * message on stderr (no metadata, a partition not read within 120 s).
 */
#include "filing.h"
#include "refdata.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TP_LOGIDS_PREFIX "tthc.filings."
#define TP_LOGIDS_TIMEOUT_MS 10000
#define TP_LOGIDS_STALL_S 120

/* One partition of the log: its watermarks, and how far it was read. */
struct tp_logids_part {
        char *topic;
        int32_t partition;
        int64_t low, high;
        int done;
};

struct tp_logids {
        rd_kafka_t *rk;
        struct tp_logids_part *parts;
        int n_parts, n_done;
};

static int tp_logids_selected(const char *topic)
{
        size_t n = strlen(TP_LOGIDS_PREFIX);
        return strncmp(topic, TP_LOGIDS_PREFIX, n) == 0 &&
               strcmp(topic + n, "dlq") != 0;
}

/* Reads the partitions of the selected topics and their watermarks. */
static int tp_logids_watermarks(struct tp_logids *lg)
{
        const struct rd_kafka_metadata *md;
        rd_kafka_resp_err_t err;
        int n = 0;

        err = rd_kafka_metadata(lg->rk, 1, NULL, &md, TP_LOGIDS_TIMEOUT_MS);
        if (err) {
                fprintf(stderr, "tp-log-ids: could not read metadata: %s\n",
                        rd_kafka_err2str(err));
                return -1;
        }
        for (int t = 0; t < md->topic_cnt; t++)
                if (tp_logids_selected(md->topics[t].topic))
                        n += md->topics[t].partition_cnt;
        lg->parts = calloc((size_t)n + 1, sizeof(*lg->parts));
        if (!lg->parts)
                abort();
        for (int t = 0; t < md->topic_cnt; t++) {
                const struct rd_kafka_metadata_topic *mt = &md->topics[t];
                if (!tp_logids_selected(mt->topic))
                        continue;
                for (int p = 0; p < mt->partition_cnt; p++) {
                        struct tp_logids_part *lp = &lg->parts[lg->n_parts++];
                        lp->topic = strdup(mt->topic);
                        if (!lp->topic)
                                abort();
                        lp->partition = mt->partitions[p].id;
                        err = rd_kafka_query_watermark_offsets(
                                lg->rk, lp->topic, lp->partition, &lp->low,
                                &lp->high, TP_LOGIDS_TIMEOUT_MS);
                        if (err) {
                                fprintf(stderr,
                                        "tp-log-ids: could not read the "
                                        "watermarks of %s [%d]: %s\n",
                                        lp->topic, (int)lp->partition,
                                        rd_kafka_err2str(err));
                                rd_kafka_metadata_destroy(md);
                                return -1;
                        }
                        printf("W %s %d %lld %lld\n", lp->topic,
                               (int)lp->partition, (long long)lp->low,
                               (long long)lp->high);
                }
        }
        rd_kafka_metadata_destroy(md);
        return 0;
}

static struct tp_logids_part *
tp_logids_find(struct tp_logids *lg, const char *topic, int32_t partition)
{
        for (int i = 0; i < lg->n_parts; i++)
                if (lg->parts[i].partition == partition &&
                    strcmp(lg->parts[i].topic, topic) == 0)
                        return &lg->parts[i];
        return NULL;
}

/* Prints the M line of one message. */
static void tp_logids_print(struct tp_filing_reader *fr,
                            const rd_kafka_message_t *rkm)
{
        const char *topic = rd_kafka_topic_name(rkm->rkt);
        struct tp_event ev;
        enum tp_reason reason;
        int32_t sid;
        char detail[256];

        memset(&ev, 0, sizeof(ev));
        if (tp_filing_read(fr, NULL, topic, rkm->payload, rkm->len, &ev, &sid,
                           &reason, detail, sizeof(detail)) != 0) {
                /* no registry here, so no outage; say what it was */
                printf("M %s %d %lld - error\n", topic, (int)rkm->partition,
                       (long long)rkm->offset);
                fprintf(stderr, "tp-log-ids: %s [%d] @%lld: %s\n", topic,
                        (int)rkm->partition, (long long)rkm->offset, detail);
                return;
        }
        printf("M %s %d %lld %s %s\n", topic, (int)rkm->partition,
               (long long)rkm->offset,
               reason == TP_REASON_OK ? ev.event_id : "-",
               tp_reason_name(reason));
        if (reason == TP_REASON_OK)
                tp_event_release(&ev);
}

/* Reads every partition from low to high - 1. */
static int tp_logids_read(struct tp_logids *lg, struct tp_filing_reader *fr)
{
        rd_kafka_topic_partition_list_t *l =
                rd_kafka_topic_partition_list_new(lg->n_parts + 1);
        rd_kafka_resp_err_t err;
        time_t last = time(NULL);

        for (int i = 0; i < lg->n_parts; i++) {
                struct tp_logids_part *lp = &lg->parts[i];
                if (lp->high <= lp->low) {
                        lp->done = 1;
                        lg->n_done++;
                        continue;
                }
                rd_kafka_topic_partition_list_add(l, lp->topic, lp->partition)
                        ->offset = lp->low;
        }
        err = rd_kafka_assign(lg->rk, l);
        rd_kafka_topic_partition_list_destroy(l);
        if (err) {
                fprintf(stderr, "tp-log-ids: could not assign: %s\n",
                        rd_kafka_err2str(err));
                return -1;
        }
        while (lg->n_done < lg->n_parts) {
                rd_kafka_message_t *rkm = rd_kafka_consumer_poll(lg->rk, 500);
                struct tp_logids_part *lp;

                if (time(NULL) - last > TP_LOGIDS_STALL_S)
                        break;
                if (!rkm)
                        continue;
                if (rkm->err) {
                        if (rkm->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                                fprintf(stderr, "tp-log-ids: %s\n",
                                        rd_kafka_message_errstr(rkm));
                        rd_kafka_message_destroy(rkm);
                        continue;
                }
                lp = tp_logids_find(lg, rd_kafka_topic_name(rkm->rkt),
                                    rkm->partition);
                if (lp && !lp->done && rkm->offset < lp->high) {
                        tp_logids_print(fr, rkm);
                        last = time(NULL);
                        if (rkm->offset >= lp->high - 1) {
                                lp->done = 1;
                                lg->n_done++;
                        }
                }
                rd_kafka_message_destroy(rkm);
        }
        for (int i = 0; i < lg->n_parts; i++)
                if (!lg->parts[i].done)
                        fprintf(stderr,
                                "tp-log-ids: %s [%d] not read up to its high "
                                "watermark %lld within %d s\n",
                                lg->parts[i].topic, (int)lg->parts[i].partition,
                                (long long)lg->parts[i].high,
                                TP_LOGIDS_STALL_S);
        return lg->n_done == lg->n_parts ? 0 : -1;
}

static rd_kafka_t *tp_logids_consumer(const char *brokers)
{
        static const char *const props[][2] = {
                {"group.id", "tthc-test-log-ids"},
                {"enable.auto.commit", "false"},
                {"enable.auto.offset.store", "false"},
                {"auto.offset.reset", "error"},
                {"enable.partition.eof", "false"},
        };
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        char err[512];
        rd_kafka_t *rk;

        if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, err,
                              sizeof(err)) != RD_KAFKA_CONF_OK)
                goto fail;
        for (size_t i = 0; i < sizeof(props) / sizeof(props[0]); i++)
                if (rd_kafka_conf_set(conf, props[i][0], props[i][1], err,
                                      sizeof(err)) != RD_KAFKA_CONF_OK)
                        goto fail;
        rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
        if (!rk) {
                fprintf(stderr,
                        "tp-log-ids: could not create the consumer: "
                        "%s\n",
                        err);
                return NULL;
        }
        rd_kafka_poll_set_consumer(rk);
        return rk;
fail:
        fprintf(stderr, "tp-log-ids: %s\n", err);
        rd_kafka_conf_destroy(conf);
        return NULL;
}

/* The reader of the consumers over SCHEMAS and the CSV reference data. */
static struct tp_filing_reader *tp_logids_reader(const char *schemas,
                                                 const char *reference)
{
        struct tp_refdata *ref = tp_refdata_new();
        struct tp_filing_reader *fr;
        char err[1024], reader_schema[4096];

        if (tp_refdata_load_csv(ref, reference, err, sizeof(err)) != 0) {
                fprintf(stderr, "tp-log-ids: %s\n", err);
                tp_refdata_destroy(ref);
                return NULL;
        }
        snprintf(reader_schema, sizeof(reader_schema), "%s/1-filing_event.avsc",
                 schemas);
        /* takes ref, even on failure */
        fr = tp_filing_reader_new_static(schemas, NULL, reader_schema, ref, err,
                                         sizeof(err));
        if (!fr)
                fprintf(stderr, "tp-log-ids: %s\n", err);
        return fr;
}

int main(int argc, char **argv)
{
        struct tp_logids lg = {0};
        struct tp_filing_reader *fr = NULL;
        int rc = 1;

        if (argc != 2 && argc != 4) {
                fprintf(stderr, "usage: tp-log-ids BROKERS [SCHEMAS "
                                "REFERENCE]\n");
                return 2;
        }
        if (argc == 4) {
                fr = tp_logids_reader(argv[2], argv[3]);
                if (!fr)
                        return 1;
        }
        lg.rk = tp_logids_consumer(argv[1]);
        if (!lg.rk)
                goto out;
        if (tp_logids_watermarks(&lg) != 0)
                goto out;
        if (fr && tp_logids_read(&lg, fr) != 0)
                goto out;
        rc = fflush(stdout) == 0 ? 0 : 1;
out:
        if (lg.rk) {
                rd_kafka_consumer_close(lg.rk);
                rd_kafka_destroy(lg.rk);
        }
        for (int i = 0; i < lg.n_parts; i++)
                free(lg.parts[i].topic);
        free(lg.parts);
        tp_filing_reader_destroy(fr);
        return rc;
}
