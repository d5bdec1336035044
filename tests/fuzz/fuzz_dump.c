/* fuzz_dump: writes raw Kafka message values to files, for the fuzz seed
 * corpus (tests/fuzz/make_corpus.sh). Reads every partition of the topics
 * whose name starts with PREFIX from the beginning to EOF (plain assign,
 * no group) and keeps every STEP-th message of each partition, at most MAX
 * per partition, as OUTDIR/NAME-<topic>-<partition>-<offset>.
 *
 * usage: fuzz_dump BROKERS PREFIX OUTDIR NAME STEP MAX */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
        char err[512], path[4096];
        rd_kafka_conf_t *conf;
        rd_kafka_t *rk;
        const struct rd_kafka_metadata *md;
        rd_kafka_topic_partition_list_t *l;
        long step, max;
        long *kept;
        char *at_eof;
        int eofs = 0, written = 0;

        if (argc != 7) {
                fprintf(stderr, "usage: fuzz_dump BROKERS PREFIX OUTDIR NAME "
                                "STEP MAX\n");
                return 2;
        }
        step = atol(argv[5]);
        max = atol(argv[6]);
        if (step < 1 || max < 1)
                return 2;
        conf = rd_kafka_conf_new();
        if (rd_kafka_conf_set(conf, "bootstrap.servers", argv[1], err,
                              sizeof(err)) != RD_KAFKA_CONF_OK ||
            rd_kafka_conf_set(conf, "group.id", "fuzz-dump", err,
                              sizeof(err)) != RD_KAFKA_CONF_OK ||
            rd_kafka_conf_set(conf, "enable.partition.eof", "true", err,
                              sizeof(err)) != RD_KAFKA_CONF_OK) {
                fprintf(stderr, "fuzz_dump: %s\n", err);
                return 1;
        }
        rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
        if (!rk) {
                fprintf(stderr, "fuzz_dump: %s\n", err);
                return 1;
        }
        rd_kafka_poll_set_consumer(rk);
        if (rd_kafka_metadata(rk, 1, NULL, &md, 10000) != 0) {
                fprintf(stderr, "fuzz_dump: no metadata\n");
                return 1;
        }
        l = rd_kafka_topic_partition_list_new(64);
        for (int t = 0; t < md->topic_cnt; t++) {
                if (strncmp(md->topics[t].topic, argv[2], strlen(argv[2])) != 0)
                        continue;
                for (int p = 0; p < md->topics[t].partition_cnt; p++)
                        rd_kafka_topic_partition_list_add(
                                l, md->topics[t].topic, p)
                                ->offset = RD_KAFKA_OFFSET_BEGINNING;
        }
        rd_kafka_metadata_destroy(md);
        if (l->cnt == 0) {
                fprintf(stderr, "fuzz_dump: no topic starts with %s\n",
                        argv[2]);
                return 1;
        }
        kept = calloc((size_t)l->cnt, sizeof(*kept));
        at_eof = calloc((size_t)l->cnt, 1);
        rd_kafka_assign(rk, l);
        while (eofs < l->cnt) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 5000);
                int idx = -1;
                if (!m) {
                        fprintf(stderr, "fuzz_dump: timed out\n");
                        return 1;
                }
                for (int i = 0; i < l->cnt; i++)
                        if (l->elems[i].partition == m->partition &&
                            strcmp(l->elems[i].topic,
                                   rd_kafka_topic_name(m->rkt)) == 0)
                                idx = i;
                if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                        /* distinct partitions: EOF can come more than
                         * once for one partition */
                        if (idx >= 0 && !at_eof[idx]) {
                                at_eof[idx] = 1;
                                eofs++;
                        }
                } else if (m->err) {
                        fprintf(stderr, "fuzz_dump: %s\n",
                                rd_kafka_message_errstr(m));
                        return 1;
                } else if (idx >= 0 && m->offset % step == 0 &&
                           kept[idx] < max) {
                        FILE *f;
                        snprintf(path, sizeof(path), "%s/%s-%s-%d-%lld",
                                 argv[3], argv[4], rd_kafka_topic_name(m->rkt),
                                 (int)m->partition, (long long)m->offset);
                        f = fopen(path, "wb");
                        if (!f || fwrite(m->payload, 1, m->len, f) != m->len ||
                            fclose(f) != 0) {
                                perror(path);
                                return 1;
                        }
                        kept[idx]++;
                        written++;
                }
                rd_kafka_message_destroy(m);
        }
        printf("%d\n", written);
        free(kept);
        free(at_eof);
        rd_kafka_topic_partition_list_destroy(l);
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        return 0;
}
