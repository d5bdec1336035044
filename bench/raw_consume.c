/* raw_consume: the consume-rate limit for the benchmark. Reads every
 * message of the topics matching a regex with a plain librdkafka consumer
 * (assign from the beginning, no group, no decoding) until each partition
 * reports EOF, and prints "messages bytes seconds".
 *
 * fetch.wait.max.ms is the consumers' (common/kafka.c): with
 * librdkafka's 500 ms the same million messages from tthc-broker took
 * 1.0 or 2.0 s, with 100 ms 0.5-1.0 s (docs/performance.md, "The fetch
 * queue"), so the limit was the slower reader of the two.
 *
 * usage: raw_consume BROKERS [REGEX-PREFIX]   (default tthc.filings.)
 */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static rd_kafka_topic_partition_list_t *province_partitions(rd_kafka_t *rk,
                                                            const char *prefix)
{
        const struct rd_kafka_metadata *md;
        rd_kafka_topic_partition_list_t *l =
                rd_kafka_topic_partition_list_new(128);
        if (rd_kafka_metadata(rk, 1, NULL, &md, 10000) != 0) {
                fprintf(stderr, "raw_consume: no metadata\n");
                exit(1);
        }
        for (int t = 0; t < md->topic_cnt; t++) {
                const char *name = md->topics[t].topic;
                if (strncmp(name, prefix, strlen(prefix)) != 0 ||
                    strcmp(name + strlen(prefix), "dlq") == 0)
                        continue;
                for (int p = 0; p < md->topics[t].partition_cnt; p++)
                        rd_kafka_topic_partition_list_add(l, name, p)->offset =
                                RD_KAFKA_OFFSET_BEGINNING;
        }
        rd_kafka_metadata_destroy(md);
        return l;
}

int main(int argc, char **argv)
{
        char err[256];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_topic_partition_list_t *parts;
        rd_kafka_t *rk;
        long long msgs = 0, bytes = 0;
        int eofs = 0;
        double t0;

        if (argc < 2) {
                fprintf(stderr, "usage: raw_consume BROKERS [PREFIX]\n");
                return 2;
        }
        rd_kafka_conf_set(conf, "bootstrap.servers", argv[1], err, sizeof(err));
        rd_kafka_conf_set(conf, "group.id", "tthc-bench-raw", err, sizeof(err));
        rd_kafka_conf_set(conf, "enable.partition.eof", "true", err,
                          sizeof(err));
        rd_kafka_conf_set(conf, "enable.auto.commit", "false", err,
                          sizeof(err));
        rd_kafka_conf_set(conf, "fetch.wait.max.ms", "100", err, sizeof(err));
        rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
        if (!rk) {
                fprintf(stderr, "raw_consume: %s\n", err);
                return 1;
        }
        rd_kafka_poll_set_consumer(rk);
        parts = province_partitions(rk, argc > 2 ? argv[2] : "tthc.filings.");
        t0 = now_s();
        rd_kafka_assign(rk, parts);
        while (eofs < parts->cnt) {
                rd_kafka_message_t *rkm = rd_kafka_consumer_poll(rk, 1000);
                if (!rkm)
                        continue;
                if (rkm->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                        /* count each partition once: a partition reports
                         * EOF again after new messages */
                        rd_kafka_topic_partition_t *tp =
                                rd_kafka_topic_partition_list_find(
                                        parts, rd_kafka_topic_name(rkm->rkt),
                                        rkm->partition);
                        if (tp && tp->offset != -1000) {
                                tp->offset = -1000;
                                eofs++;
                        }
                } else if (!rkm->err) {
                        msgs++;
                        bytes += (long long)rkm->len;
                }
                rd_kafka_message_destroy(rkm);
        }
        printf("%lld %lld %.3f\n", msgs, bytes, now_s() - t0);
        rd_kafka_topic_partition_list_destroy(parts);
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        return 0;
}
