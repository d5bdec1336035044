/* tthc-check: the dry-run checker for provincial integrators. Validates
 * message values against the contract exactly as the consumers do
 * (framing, schema id, Avro resolution, validation) and prints a reason
 * code for every message that would be a dead letter, plus contract
 * warnings the consumers tolerate (key != dossier_id, seq gaps, seq going
 * backwards within a dossier) and the producer bug they cannot see (an
 * event_id under two dedup keys, design.md "Delivery guarantees").
 * Nothing is written anywhere.
 *
 *   tthc-check --file MSG.bin [--file ...] [--topic-name tthc.filings.01]
 *   tthc-check --brokers HOST:PORT [--topics REGEX|LIST]   (reads the
 *              topics from the beginning to their current end, no group)
 *
 * Uses --schemas, --registry, --reader-schema and --reference (the CSV
 * reference data) like the services. Exit 0: every message valid; 1: some
 * would be rejected; 2: usage error.
 */
#include "cfg.h"
#include "kafka.h"
#include "filing.h"
#include "log.h"
#include "refdata.h"
#include "strmap.h"
#include "service.h"
#include "util.h"

#include <librdkafka/rdkafka.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* tthc-check's own options (cfg->own). */
struct tp_check_opts {
        struct tp_cfg_list files; /* message values to check */
        char *topic_name;         /* the topic they are checked for */
};

static const struct tp_opt tp_check_own[] = {
        {"file", TP_OPT_LIST, NULL, offsetof(struct tp_check_opts, files),
         "check this message value (Confluent-framed Avro) instead of "
         "reading the topics",
         0, 0, NULL, 0},
        {"topic-name", TP_OPT_STR, NULL,
         offsetof(struct tp_check_opts, topic_name),
         "with --file: the topic the messages are for (the topic check)", 0, 0,
         NULL, 0},
};

static const struct tp_cfg_spec tp_check_spec = {
        .service = "tthc-check",
        .summary = "Dry-run checker: validates messages against the contract "
                   "and prints reason codes; without --file, reads --topics "
                   "from --brokers.",
        .groups = TP_CFG_LOG | TP_CFG_KAFKA | TP_CFG_REFERENCE | TP_CFG_DECODE |
                  TP_CFG_TOPICS,
        .own = tp_check_own,
        .n_own = TP_ARRAY_LEN(tp_check_own),
        .own_size = sizeof(struct tp_check_opts),
};

/* event_id -> dedup key, as 64-bit hashes in an open-addressing table
 * (16 bytes an event: a national day of events fits in a few MiB). A
 * hash collision of two event_ids could only hide a finding or report
 * one that the message's own line lets the integrator check; at 10^8
 * events its chance is about 3 in 10,000. */
struct tp_idmap {
        uint64_t *ids, *keys; /* 0 in ids: free */
        size_t n, cap;
};

struct tp_check {
        struct tp_filing_reader *reader;
        struct tp_strmap *last_seq; /* "prov|dossier" -> (intptr_t) seq */
        struct tp_idmap ids;
        struct tp_idmap reported; /* (event_id, key) pairs said once */
        unsigned long total, bad, warnings, id_conflicts;
        unsigned long by_reason[TP_REASON__COUNT];
};

static uint64_t tp_fnv1a(uint64_t h, const char *s)
{
        for (; *s; s++)
                h = (h ^ (unsigned char)*s) * 1099511628211ULL;
        return h;
}

/* The key stored for id, or 0 after storing key (first sight). */
static uint64_t tp_idmap_put(struct tp_idmap *im, uint64_t id, uint64_t key)
{
        size_t i;
        if (2 * (im->n + 1) > im->cap) {
                struct tp_idmap old = *im;
                im->cap = old.cap ? 2 * old.cap : 1024;
                im->ids = tp_xcalloc(im->cap, sizeof(*im->ids));
                im->keys = tp_xcalloc(im->cap, sizeof(*im->keys));
                im->n = 0;
                for (size_t k = 0; k < old.cap; k++)
                        if (old.ids[k])
                                tp_idmap_put(im, old.ids[k], old.keys[k]);
                free(old.ids);
                free(old.keys);
        }
        for (i = id & (im->cap - 1); im->ids[i]; i = (i + 1) & (im->cap - 1))
                if (im->ids[i] == id)
                        return im->keys[i];
        im->ids[i] = id;
        im->keys[i] = key;
        im->n++;
        return 0;
}

/* The same event_id under another dedup key (province, dossier, seq): a
 * producer bug the consumers do not look for (they dedup by key). Each
 * (event_id, key) pair is reported once, however often it is re-sent. */
static void tp_check_event_id(struct tp_check *ck, const char *where,
                              const struct tp_event *ev)
{
        char seq[16];
        uint64_t id = tp_fnv1a(14695981039346656037ULL, ev->event_id);
        uint64_t key, seen;
        snprintf(seq, sizeof(seq), "|%d", (int)ev->seq);
        key = tp_fnv1a(tp_fnv1a(tp_fnv1a(tp_fnv1a(14695981039346656037ULL,
                                                  ev->province_code),
                                         "|"),
                                ev->dossier_id),
                       seq);
        id += !id; /* 0 marks a free slot */
        key += !key;
        seen = tp_idmap_put(&ck->ids, id, key);
        if (seen && seen != key &&
            !tp_idmap_put(&ck->reported,
                          (id ^ (key * 0x9E3779B97F4A7C15ULL)) | 1, 1)) {
                printf("%s: warning: event_id %s was seen before under "
                       "another key (province, dossier_id, seq); here: %s, "
                       "%s, %d\n",
                       where, ev->event_id, ev->province_code, ev->dossier_id,
                       (int)ev->seq);
                ck->warnings++;
                ck->id_conflicts++;
        }
}

static void tp_check_seq(struct tp_check *ck, const char *where,
                         const struct tp_event *ev)
{
        char key[600];
        intptr_t last;
        snprintf(key, sizeof(key), "%s|%s", ev->province_code, ev->dossier_id);
        last = (intptr_t)tp_strmap_get(ck->last_seq, key);
        if (last && ev->seq <= last) {
                printf("%s: warning: seq %d of dossier %s after seq %d "
                       "(a duplicate, or out of order)\n",
                       where, (int)ev->seq, ev->dossier_id, (int)last);
                ck->warnings++;
        } else if (last && ev->seq > last + 1) {
                printf("%s: warning: dossier %s jumps from seq %d to %d\n",
                       where, ev->dossier_id, (int)last, (int)ev->seq);
                ck->warnings++;
        }
        if (ev->seq > last)
                tp_strmap_put(ck->last_seq, key, (void *)(intptr_t)ev->seq);
}

/* Checks one message; where names it in the output. */
static int tp_check_one(struct tp_check *ck, const char *where,
                        const char *topic, const void *key, size_t key_len,
                        const void *value, size_t len)
{
        struct tp_event ev;
        enum tp_reason reason;
        int32_t sid;
        char detail[256];

        memset(&ev, 0, sizeof(ev));
        ck->total++;
        if (tp_filing_read(ck->reader, NULL, topic, value, len, &ev, &sid,
                           &reason, detail, sizeof(detail)) != 0) {
                fprintf(stderr, "tthc-check: %s: %s\n", where, detail);
                return -1;
        }
        if (reason != TP_REASON_OK) {
                printf("%s: %s: %s\n", where, tp_reason_name(reason), detail);
                ck->bad++;
                ck->by_reason[reason]++;
                return 0;
        }
        if (key && (key_len != strlen(ev.dossier_id) ||
                    memcmp(key, ev.dossier_id, key_len) != 0)) {
                printf("%s: warning: message key is not the dossier_id "
                       "\"%s\"\n",
                       where, ev.dossier_id);
                ck->warnings++;
        }
        tp_check_seq(ck, where, &ev);
        tp_check_event_id(ck, where, &ev);
        tp_event_release(&ev);
        return 0;
}

static int tp_check_files(struct tp_check *ck, const struct tp_cfg_list *files,
                          const char *topic)
{
        for (size_t i = 0; i < files->n; i++) {
                char err[256];
                size_t len;
                char *buf = tp_read_file(files->v[i], 16 << 20, &len, err,
                                         sizeof(err));
                int rc;
                if (!buf) {
                        fprintf(stderr, "tthc-check: %s\n", err);
                        return -1;
                }
                rc = tp_check_one(ck, files->v[i], topic, NULL, 0, buf, len);
                free(buf);
                if (rc != 0)
                        return -1;
        }
        return 0;
}

/* 1 when topic is selected by spec (a regex with a leading ^, or a
 * comma-separated list). */
static int tp_topic_selected(const char *spec, const regex_t *re,
                             const char *topic)
{
        size_t n = strlen(topic);
        const char *p = spec;
        if (spec[0] == '^')
                return regexec(re, topic, 0, NULL, 0) == 0;
        while ((p = strstr(p, topic)) != NULL) {
                if ((p == spec || p[-1] == ',') &&
                    (p[n] == '\0' || p[n] == ','))
                        return 1;
                p += n;
        }
        return 0;
}

/* The partitions of the topics spec selects, from their beginning; NULL
 * (said on stderr) when spec is invalid, metadata cannot be read or no
 * topic matches: checking nothing is not a pass. */
static rd_kafka_topic_partition_list_t *tp_check_partitions(rd_kafka_t *rk,
                                                            const char *spec)
{
        const struct rd_kafka_metadata *md;
        rd_kafka_topic_partition_list_t *l =
                rd_kafka_topic_partition_list_new(64);
        regex_t re;
        int have_re = spec[0] == '^' &&
                      regcomp(&re, spec, REG_EXTENDED | REG_NOSUB) == 0;

        if (spec[0] == '^' && !have_re) {
                fprintf(stderr, "tthc-check: invalid topic regex \"%s\"\n",
                        spec);
                goto fail;
        }
        if (rd_kafka_metadata(rk, 1, NULL, &md, 10000) != 0) {
                fprintf(stderr, "tthc-check: could not read topic metadata\n");
                goto fail;
        }
        for (int t = 0; t < md->topic_cnt; t++) {
                if (!tp_topic_selected(spec, &re, md->topics[t].topic))
                        continue;
                for (int p = 0; p < md->topics[t].partition_cnt; p++)
                        rd_kafka_topic_partition_list_add(
                                l, md->topics[t].topic, p)
                                ->offset = RD_KAFKA_OFFSET_BEGINNING;
        }
        rd_kafka_metadata_destroy(md);
        if (l->cnt == 0) {
                fprintf(stderr,
                        "tthc-check: no topic matches --topics \"%s\"\n", spec);
                goto fail;
        }
        if (have_re)
                regfree(&re);
        return l;
fail:
        if (have_re)
                regfree(&re);
        rd_kafka_topic_partition_list_destroy(l);
        return NULL;
}

static rd_kafka_t *tp_check_consumer(const struct tp_cfg *cfg)
{
        char err[512];
        /* queued.min.messages: librdkafka counts it over the one queue
         * every partition forwards to, and once that queue holds that
         * many messages (100,000 by default) 2.0.2 stops fetching for a
         * second. The checker empties 100,000 in a quarter of that and
         * waited most of its run: a million events in 7.7 s, 2.4 s with
         * this default (docs/producers.md). queued.max.messages.kbytes
         * (64 MiB of messages) still bounds the queue. fetch.wait.max.ms
         * is every consumer's (common/kafka.c). */
        const char *const defaults[][2] = {
                {"queued.min.messages", "1000000"},
        };
        const char *const fixed[][2] = {
                {"group.id", "tthc-check"},
                {"enable.partition.eof", "true"},
                {"enable.auto.commit", "false"},
        };
        struct tp_kafka_opts o = {
                .role = TP_KAFKA_CONSUMER,
                .brokers = cfg->brokers,
                .client_id = "tthc-check",
                .defaults = defaults,
                .n_defaults = TP_ARRAY_LEN(defaults),
                .fixed = fixed,
                .n_fixed = TP_ARRAY_LEN(fixed),
                .keys = cfg->kafka_keys,
                .values = cfg->kafka_values,
                .n = cfg->n_kafka,
        };
        rd_kafka_t *rk = tp_kafka_new(&o, err, sizeof(err));
        if (!rk)
                fprintf(stderr, "tthc-check: %s\n", err);
        return rk;
}

static int tp_check_topics(struct tp_check *ck, const struct tp_cfg *cfg)
{
        rd_kafka_t *rk = tp_check_consumer(cfg);
        rd_kafka_topic_partition_list_t *parts;
        int eofs = 0, rc = 0;

        if (!rk)
                return -1;
        parts = tp_check_partitions(rk, cfg->topics);
        if (!parts) {
                rd_kafka_destroy(rk);
                return -1;
        }
        rd_kafka_assign(rk, parts);
        tp_service_signals(); /* Ctrl-C: the summary of what was read */
        while (eofs < parts->cnt && rc == 0 && !tp_service_stop) {
                rd_kafka_message_t *rkm = rd_kafka_consumer_poll(rk, 1000);
                char where[300];
                if (!rkm)
                        continue;
                if (rkm->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                        eofs++;
                } else if (rkm->err) {
                        fprintf(stderr, "tthc-check: %s\n",
                                rd_kafka_message_errstr(rkm));
                } else {
                        snprintf(where, sizeof(where), "%s [%d] @%lld",
                                 rd_kafka_topic_name(rkm->rkt), rkm->partition,
                                 (long long)rkm->offset);
                        rc = tp_check_one(
                                ck, where, rd_kafka_topic_name(rkm->rkt),
                                rkm->key, rkm->key_len, rkm->payload, rkm->len);
                }
                rd_kafka_message_destroy(rkm);
        }
        rd_kafka_topic_partition_list_destroy(parts);
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        return rc;
}

static void tp_check_summary(const struct tp_check *ck)
{
        printf("\n%lu message(s) checked: %lu valid, %lu would be dead "
               "letters, %lu warning(s)\n",
               ck->total, ck->total - ck->bad, ck->bad, ck->warnings);
        for (int r = 1; r < TP_REASON__COUNT; r++)
                if (ck->by_reason[r])
                        printf("  %-24s %lu\n", tp_reason_name(r),
                               ck->by_reason[r]);
        if (ck->id_conflicts)
                printf("  %lu event_id(s) under two keys (a producer bug: "
                       "design.md, \"Delivery guarantees\")\n",
                       ck->id_conflicts);
}

int main(int argc, char **argv)
{
        struct tp_cfg cfg;
        struct tp_check ck = {0};
        struct tp_refdata *ref = tp_refdata_new();
        const struct tp_check_opts *co;
        char err[1024];
        int rc = 2;

        if (!tp_service_start(&tp_check_spec, argc, argv, &cfg, &rc))
                goto out;
        rc = 2;
        co = cfg.own;
        if (tp_refdata_load_csv(ref, cfg.reference, err, sizeof(err)) != 0) {
                fprintf(stderr, "tthc-check: %s\n", err);
                goto out;
        }
        ck.reader = tp_filing_reader_new_static(cfg.schemas, cfg.registry,
                                                cfg.reader_schema, ref, err,
                                                sizeof(err));
        ref = NULL; /* owned by the reader, even on failure */
        if (!ck.reader) {
                fprintf(stderr, "tthc-check: %s\n", err);
                goto out;
        }
        ck.last_seq = tp_strmap_new();
        if ((co->files.n ? tp_check_files(&ck, &co->files, co->topic_name)
                         : tp_check_topics(&ck, &cfg)) != 0)
                goto out;
        tp_check_summary(&ck);
        rc = ck.bad ? 1 : 0;
out:
        tp_strmap_destroy(ck.last_seq);
        free(ck.ids.ids);
        free(ck.ids.keys);
        free(ck.reported.ids);
        free(ck.reported.keys);
        tp_filing_reader_destroy(ck.reader);
        tp_refdata_destroy(ref);
        tp_cfg_release(&cfg);
        return rc;
}
