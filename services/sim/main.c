/* tthc-sim: streams realistic vn.tthc.FilingEvent lifecycles for the
 * provinces and communes of the reference data to tthc.filings.<province>,
 * in event-time order, and writes the exact figures a consumer must reach.
 *
 * Per day of the stream: every desk's arrivals are generated with their
 * whole lifecycle, pushed on a min-heap keyed by each dossier's next event
 * time, and everything due before the next day is produced. Only the
 * dossiers still open are in memory.
 */
#include "kafka.h"
#include "log.h"
#include "sim.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TP_SIM_MAX_LIST 64
#define TP_SIM_DUP_MAX_DELAY 5000

static volatile sig_atomic_t tp_sim_stop;

struct tp_sim_opts {
        const char *brokers;
        const char *reference;
        const char *schema;
        int schema_id;
        const char *provinces;
        int64_t from_day;
        int days;
        double dossiers_per_day;
        double rate;
        uint64_t seed;
        int laggards;
        const char *laggard[TP_SIM_MAX_LIST];
        int n_laggard;
        const char *silent[TP_SIM_MAX_LIST];
        int n_silent;
        double duplicate_rate;
        const char *truth;
        const char *kafka[TP_SIM_MAX_LIST];
        int n_kafka;
        int flush_timeout_s;
        int dry_run;
};

/* A copy of an already sent message, sent again later. */
struct tp_sim_dup {
        uint64_t at; /* send once this many first copies were sent */
        int province;
        char *key;
        unsigned char *val;
        size_t len;
};

struct tp_sim_run {
        const struct tp_sim_opts *o;
        struct tp_sim_ref ref;
        struct tp_sim_gen_params gp;
        struct tp_sim_enc *enc;
        struct tp_sim_truth *truth;
        rd_kafka_t *rk;
        rd_kafka_topic_t **topics;
        /* merge heap of dossiers by next event time */
        struct tp_sim_dossier **heap;
        size_t heap_n, heap_cap;
        struct tp_sim_dossier *frozen; /* silenced dossiers, kept for truth */
        struct tp_sim_dup *dups;
        size_t dups_n, dups_cap;
        struct tp_sim_rng dup_rng;
        uint64_t serial;
        uint64_t sent; /* first copies */
        uint64_t dup_sent;
        int64_t end_ms, silent_from;
        int64_t started_mono, last_progress;
        int day_index;
        int n_selected;
        int progress;
        /* delivery reports */
        uint64_t delivery_failed;
        char delivery_err[512];
};

static void tp_sim_on_signal(int sig)
{
        (void)sig;
        tp_sim_stop = 1;
}

static void tp_sim_usage(FILE *f)
{
        fprintf(f,
                "usage: tthc-sim [options]\n"
                "\n"
                "Streams realistic vn.tthc.FilingEvent dossier lifecycles "
                "(Confluent-framed Avro,\nschema id 1, key = dossier_id) to "
                "tthc.filings.<province>, in event-time order,\nwith an "
                "idempotent producer; exits 0 once everything is delivered.\n"
                "\n"
                "options:\n"
                "  --brokers LIST         bootstrap servers (env "
                "TTHC_BROKERS, default localhost:9092)\n"
                "  --reference DIR        reference data (default "
                "./reference)\n"
                "  --schema FILE          writer schema (default "
                "./schemas/avro/1-filing_event.avsc)\n"
                "  --schema-id N          schema id in the header (default "
                "1)\n"
                "  --provinces 01,79      provinces to stream (default "
                "all)\n"
                "  --from DATE            first day, Vietnam time (default "
                "2025-09-01, >= 2025-07-01)\n"
                "  --days N               days to stream (default 30; "
                "clipped to end before now)\n"
                "  --dossiers-per-day N   national dossiers per working day "
                "(default 20000);\n"
                "                         a subset of provinces gets its "
                "share\n"
                "  --rate N               events per second, 0 = as fast as "
                "possible (default 0)\n"
                "  --seed N               random seed; same seed, same "
                "bytes (default 1)\n"
                "  --laggards N           pick N lagging communes from the "
                "seed (default 0)\n"
                "  --laggard CODE         make this commune lag "
                "(repeatable)\n"
                "  --silent CODE          this commune goes silent at the "
                "midpoint (repeatable)\n"
                "  --duplicate-rate F     re-send this share of messages "
                "later, same bytes (0..1)\n"
                "  --truth FILE           write the expected figures as JSON "
                "(docs/sim.md)\n"
                "  --kafka PROP=VALUE     librdkafka property (repeatable)\n"
                "  --flush-timeout SEC    wait this long for delivery at the "
                "end (default 120)\n"
                "  --dry-run              generate and encode, produce "
                "nothing\n"
                "  --log-level LEVEL      debug, info, warn, error\n"
                "  --help                 this text\n");
}

static int tp_sim_parse_num(const char *s, double min, double max, double *out)
{
        char *end;
        double v;
        errno = 0;
        v = strtod(s, &end);
        if (errno || end == s || *end || v < min || v > max)
                return -1;
        *out = v;
        return 0;
}

static void tp_sim_defaults(struct tp_sim_opts *o)
{
        const char *env = getenv("TTHC_BROKERS");

        memset(o, 0, sizeof(*o));
        o->brokers = env && *env ? env : "localhost:9092";
        o->reference = "./reference";
        o->schema = "./schemas/avro/1-filing_event.avsc";
        o->schema_id = 1;
        tp_parse_date("2025-09-01", &o->from_day);
        o->days = 30;
        o->dossiers_per_day = 20000;
        o->seed = 1;
        o->flush_timeout_s = 120;
}

static int tp_sim_add_list(const char **list, int *n, const char *v)
{
        if (*n >= TP_SIM_MAX_LIST)
                return -1;
        list[(*n)++] = v;
        return 0;
}

/* Applies one option; returns 0 or -1 (bad value). */
static int tp_sim_apply_opt(struct tp_sim_opts *o, int c, const char *arg)
{
        double v;
        int lvl;

        switch (c) {
        case 'b':
                o->brokers = arg;
                return 0;
        case 'r':
                o->reference = arg;
                return 0;
        case 's':
                o->schema = arg;
                return 0;
        case 'p':
                o->provinces = arg;
                return 0;
        case 't':
                o->truth = arg;
                return 0;
        case 'n':
                o->dry_run = 1;
                return 0;
        case 'L':
                return tp_sim_add_list(o->laggard, &o->n_laggard, arg);
        case 'S':
                return tp_sim_add_list(o->silent, &o->n_silent, arg);
        case 'X':
                return tp_sim_add_list(o->kafka, &o->n_kafka, arg);
        case 'f':
                return tp_parse_date(arg, &o->from_day);
        case 'l':
                lvl = tp_log_level_parse(arg);
                if (lvl < 0)
                        return -1;
                tp_log_set_level((enum tp_log_level)lvl);
                return 0;
        }
        if (tp_sim_parse_num(arg, 0, 1e12, &v) != 0)
                return -1;
        switch (c) {
        case 'i':
                o->schema_id = (int)v;
                break;
        case 'd':
                o->days = (int)v;
                break;
        case 'D':
                o->dossiers_per_day = v;
                break;
        case 'R':
                o->rate = v;
                break;
        case 'e':
                o->seed = (uint64_t)v;
                break;
        case 'g':
                o->laggards = (int)v;
                break;
        case 'T':
                o->flush_timeout_s = (int)v;
                break;
        case 'u':
                if (v > 1)
                        return -1;
                o->duplicate_rate = v;
                break;
        }
        return 0;
}

/* Returns 0 to run, 1 for --help, -1 on a usage error. */
static int tp_sim_parse_args(int argc, char **argv, struct tp_sim_opts *o)
{
        static const struct option longopts[] = {
                {"brokers", required_argument, NULL, 'b'},
                {"reference", required_argument, NULL, 'r'},
                {"schema", required_argument, NULL, 's'},
                {"schema-id", required_argument, NULL, 'i'},
                {"provinces", required_argument, NULL, 'p'},
                {"from", required_argument, NULL, 'f'},
                {"days", required_argument, NULL, 'd'},
                {"dossiers-per-day", required_argument, NULL, 'D'},
                {"rate", required_argument, NULL, 'R'},
                {"seed", required_argument, NULL, 'e'},
                {"laggards", required_argument, NULL, 'g'},
                {"laggard", required_argument, NULL, 'L'},
                {"silent", required_argument, NULL, 'S'},
                {"duplicate-rate", required_argument, NULL, 'u'},
                {"truth", required_argument, NULL, 't'},
                {"kafka", required_argument, NULL, 'X'},
                {"flush-timeout", required_argument, NULL, 'T'},
                {"dry-run", no_argument, NULL, 'n'},
                {"log-level", required_argument, NULL, 'l'},
                {"help", no_argument, NULL, 'h'},
                {NULL, 0, NULL, 0}};
        int c, idx = 0;

        tp_sim_defaults(o);
        while ((c = getopt_long(argc, argv, "hX:", longopts, &idx)) != -1) {
                if (c == 'h') {
                        tp_sim_usage(stdout);
                        return 1;
                }
                if (c == '?') {
                        tp_sim_usage(stderr);
                        return -1;
                }
                if (tp_sim_apply_opt(o, c, optarg) != 0) {
                        fprintf(stderr,
                                "tthc-sim: invalid value '%s' for --%s\n",
                                optarg,
                                c == 'X' ? "kafka" : longopts[idx].name);
                        return -1;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "tthc-sim: unexpected argument '%s'\n",
                        argv[optind]);
                return -1;
        }
        return 0;
}

/* ---- setup ---- */

static int tp_sim_select_provinces(struct tp_sim_run *run)
{
        struct tp_sim_ref *ref = &run->ref;
        char buf[1024], *save = NULL, *tok;

        if (!run->o->provinces) {
                for (int i = 0; i < ref->n_provinces; i++)
                        ref->provinces[i].selected = 1;
                run->n_selected = ref->n_provinces;
                return 0;
        }
        tp_strlcpy(buf, run->o->provinces, sizeof(buf));
        for (tok = strtok_r(buf, ", ", &save); tok;
             tok = strtok_r(NULL, ", ", &save)) {
                int p = tp_sim_ref_find_province(ref, tok);
                if (p < 0) {
                        tp_log_error("unknown province '%s' in --provinces",
                                     tok);
                        return -1;
                }
                if (!ref->provinces[p].selected)
                        run->n_selected++;
                ref->provinces[p].selected = 1;
        }
        return run->n_selected > 0 ? 0 : -1;
}

static int tp_sim_mark_communes(struct tp_sim_run *run,
                                const char *const *codes, int n, int silent)
{
        for (int i = 0; i < n; i++) {
                int c = tp_sim_ref_find_commune(&run->ref, codes[i]);
                if (c < 0) {
                        tp_log_error("unknown commune '%s' in --%s", codes[i],
                                     silent ? "silent" : "laggard");
                        return -1;
                }
                if (silent)
                        run->ref.communes[c].silent = 1;
                else
                        run->ref.communes[c].laggard = 1;
        }
        return 0;
}

/* Picks --laggards N busy communes of the selected provinces, from the
 * seed only. */
static void tp_sim_pick_laggards(struct tp_sim_run *run)
{
        struct tp_sim_ref *ref = &run->ref;
        struct tp_sim_rng r;
        int *cand = tp_xmalloc((size_t)ref->n_communes * sizeof(int));
        int n = 0, picked = 0;

        for (int i = 0; i < ref->n_communes; i++)
                if (ref->provinces[ref->communes[i].province].selected &&
                    ref->communes[i].weight >= 1.5)
                        cand[n++] = i;
        tp_sim_rng_seed(&r, run->o->seed ^ 0x6c61676761726473ULL);
        for (int i = n - 1; i > 0; i--) {
                int j = (int)(tp_sim_rng_unit(&r) * (i + 1));
                int t = cand[i];
                cand[i] = cand[j];
                cand[j] = t;
        }
        for (int i = 0; i < n && picked < run->o->laggards; i++, picked++) {
                ref->communes[cand[i]].laggard = 1;
                tp_log_info(
                        "laggard commune %s (province %s)",
                        ref->communes[cand[i]].code,
                        ref->provinces[ref->communes[cand[i]].province].code);
        }
        free(cand);
}

/* Clips the stream so that it ends before the wall clock. */
static int tp_sim_plan_days(struct tp_sim_run *run)
{
        int64_t from = run->o->from_day, min_day;
        int64_t start = tp_sim_day_start(from), now = tp_now_ms();
        int days = run->o->days;

        tp_parse_date("2025-07-01", &min_day);
        if (from < min_day) {
                tp_log_error("--from must be 2025-07-01 or later");
                return -1;
        }
        if (start + (int64_t)days * TP_DAY_MS > now) {
                int64_t fit = (now - start) / TP_DAY_MS;
                if (fit < 1) {
                        tp_log_error("--from is not a full day in the past");
                        return -1;
                }
                tp_log_warn("--days %d would reach the future: clipped to "
                            "%lld",
                            days, (long long)fit);
                days = (int)fit;
        }
        if (days < 1) {
                tp_log_error("--days must be at least 1");
                return -1;
        }
        run->gp.from_day = from;
        run->gp.days = days;
        run->end_ms = start + (int64_t)days * TP_DAY_MS;
        run->silent_from = start + (int64_t)days * TP_DAY_MS / 2;
        return 0;
}

static void tp_sim_gen_params(struct tp_sim_run *run)
{
        double total = 0;

        for (int p = 0; p < run->ref.n_provinces; p++)
                total += run->ref.provinces[p].weight +
                         tp_sim_centre_weight(&run->ref.provinces[p]);
        run->gp.seed = run->o->seed;
        run->gp.dossiers_per_day = run->o->dossiers_per_day;
        run->gp.total_weight = total;
}

static void tp_sim_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *rkm,
                         void *opaque)
{
        struct tp_sim_run *run = opaque;
        (void)rk;
        if (!rkm->err)
                return;
        if (run->delivery_failed++ == 0)
                snprintf(run->delivery_err, sizeof(run->delivery_err),
                         "%s [%d]: %s", rd_kafka_topic_name(rkm->rkt),
                         (int)rkm->partition, rd_kafka_err2str(rkm->err));
}

/* The producer, with the --kafka PROP=VALUE properties. */
static int tp_sim_producer_new(struct tp_sim_run *run)
{
        const char *const defaults[][2] = {
                {"enable.idempotence", "true"},
                {"linger.ms", "20"},
                {"queue.buffering.max.messages", "500000"},
                {"queue.buffering.max.kbytes", "262144"},
        };
        char *keys[TP_SIM_MAX_LIST], *values[TP_SIM_MAX_LIST];
        char err[512], topic[64];
        int n = 0, rc = -1;
        struct tp_kafka_opts o = {
                .role = TP_KAFKA_PRODUCER,
                .brokers = run->o->brokers,
                .client_id = "tthc-sim",
                .defaults = defaults,
                .n_defaults = TP_ARRAY_LEN(defaults),
                .keys = keys,
                .values = values,
                .opaque = run,
                .dr_msg_cb = tp_sim_dr_cb,
        };

        for (; n < run->o->n_kafka; n++) {
                char *eq;
                keys[n] = tp_xstrdup(run->o->kafka[n]);
                eq = strchr(keys[n], '=');
                if (!eq) {
                        tp_log_error("--kafka '%s' is not PROP=VALUE",
                                     run->o->kafka[n]);
                        n++;
                        goto out;
                }
                *eq = '\0';
                values[n] = eq + 1;
        }
        o.n = (size_t)n;
        run->rk = tp_kafka_new(&o, err, sizeof(err));
        if (!run->rk) {
                tp_log_error("%s", err);
                goto out;
        }
        rc = 0;
out:
        for (int i = 0; i < n; i++)
                free(keys[i]);
        if (rc != 0)
                return -1;
        run->topics =
                tp_xcalloc((size_t)run->ref.n_provinces, sizeof(*run->topics));
        for (int p = 0; p < run->ref.n_provinces; p++) {
                if (!run->ref.provinces[p].selected)
                        continue;
                snprintf(topic, sizeof(topic), "tthc.filings.%s",
                         run->ref.provinces[p].code);
                run->topics[p] = rd_kafka_topic_new(run->rk, topic, NULL);
                if (!run->topics[p]) {
                        tp_log_error("could not create topic handle %s: %s",
                                     topic,
                                     rd_kafka_err2str(rd_kafka_last_error()));
                        return -1;
                }
        }
        return 0;
}

static int tp_sim_setup(struct tp_sim_run *run)
{
        char err[1024];
        char path[4096];

        if (tp_sim_ref_load(&run->ref, run->o->reference, err, sizeof(err))) {
                tp_log_error("could not load reference data: %s", err);
                return -1;
        }
        if (tp_sim_select_provinces(run) ||
            tp_sim_mark_communes(run, run->o->laggard, run->o->n_laggard, 0) ||
            tp_sim_mark_communes(run, run->o->silent, run->o->n_silent, 1) ||
            tp_sim_plan_days(run))
                return -1;
        tp_sim_pick_laggards(run);
        tp_sim_gen_params(run);
        tp_strlcpy(path, run->o->schema, sizeof(path));
        run->enc = tp_sim_enc_new(path, run->o->schema_id, err, sizeof(err));
        if (!run->enc) {
                tp_log_error("could not load the writer schema: %s", err);
                return -1;
        }
        run->truth = tp_sim_truth_new(&run->ref);
        tp_sim_rng_seed(&run->dup_rng, run->o->seed ^ 0x6475706cULL);
        if (!run->o->dry_run && tp_sim_producer_new(run) != 0)
                return -1;
        return 0;
}

/* ---- the merge heap ---- */

static int tp_sim_before(const struct tp_sim_dossier *a,
                         const struct tp_sim_dossier *b)
{
        int64_t ta = a->events[a->next].t, tb = b->events[b->next].t;
        if (ta != tb)
                return ta < tb;
        return a->serial < b->serial;
}

static void tp_sim_heap_push(struct tp_sim_run *run, struct tp_sim_dossier *d)
{
        size_t i;

        if (run->heap_n == run->heap_cap) {
                run->heap_cap = run->heap_cap ? run->heap_cap * 2 : 1024;
                run->heap = tp_xrealloc(run->heap,
                                        run->heap_cap * sizeof(*run->heap));
        }
        i = run->heap_n++;
        while (i > 0 && tp_sim_before(d, run->heap[(i - 1) / 2])) {
                run->heap[i] = run->heap[(i - 1) / 2];
                i = (i - 1) / 2;
        }
        run->heap[i] = d;
}

static struct tp_sim_dossier *tp_sim_heap_pop(struct tp_sim_run *run)
{
        struct tp_sim_dossier *top = run->heap[0], *last;
        size_t i = 0, n;

        last = run->heap[--run->heap_n];
        n = run->heap_n;
        while (2 * i + 1 < n) {
                size_t c = 2 * i + 1;
                if (c + 1 < n && tp_sim_before(run->heap[c + 1], run->heap[c]))
                        c++;
                if (!tp_sim_before(run->heap[c], last))
                        break;
                run->heap[i] = run->heap[c];
                i = c;
        }
        if (n > 0)
                run->heap[i] = last;
        return top;
}

/* ---- producing ---- */

static int tp_sim_produce(struct tp_sim_run *run, int province, const char *key,
                          const void *val, size_t len)
{
        if (run->o->dry_run)
                return 0;
        for (;;) {
                if (rd_kafka_produce(run->topics[province],
                                     RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY,
                                     (void *)val, len, key, strlen(key),
                                     NULL) == 0)
                        break;
                if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                        tp_log_error("could not produce to tthc.filings.%s: "
                                     "%s",
                                     run->ref.provinces[province].code,
                                     rd_kafka_err2str(rd_kafka_last_error()));
                        return -1;
                }
                rd_kafka_poll(run->rk, 50);
        }
        if ((run->sent + run->dup_sent) % 1000 == 0)
                rd_kafka_poll(run->rk, 0);
        return 0;
}

static void tp_sim_dup_free(struct tp_sim_dup *x)
{
        free(x->key);
        free(x->val);
}

/* Keeps a copy to send again after a random number of messages. */
static void tp_sim_dup_schedule(struct tp_sim_run *run, int province,
                                const char *key, const void *val, size_t len)
{
        struct tp_sim_dup x, *h;
        size_t i;

        x.at = run->sent + 1 +
               (uint64_t)(tp_sim_rng_unit(&run->dup_rng) *
                          TP_SIM_DUP_MAX_DELAY);
        x.province = province;
        x.key = tp_xstrdup(key);
        x.val = tp_xmalloc(len);
        memcpy(x.val, val, len);
        x.len = len;
        if (run->dups_n == run->dups_cap) {
                run->dups_cap = run->dups_cap ? run->dups_cap * 2 : 256;
                run->dups = tp_xrealloc(run->dups,
                                        run->dups_cap * sizeof(*run->dups));
        }
        h = run->dups;
        i = run->dups_n++;
        while (i > 0 && x.at < h[(i - 1) / 2].at) {
                h[i] = h[(i - 1) / 2];
                i = (i - 1) / 2;
        }
        h[i] = x;
}

static struct tp_sim_dup tp_sim_dup_pop(struct tp_sim_run *run)
{
        struct tp_sim_dup *h = run->dups, top = h[0], last;
        size_t i = 0, n;

        last = h[--run->dups_n];
        n = run->dups_n;
        while (2 * i + 1 < n) {
                size_t c = 2 * i + 1;
                if (c + 1 < n && h[c + 1].at < h[c].at)
                        c++;
                if (h[c].at >= last.at)
                        break;
                h[i] = h[c];
                i = c;
        }
        if (n > 0)
                h[i] = last;
        return top;
}

/* Sends the duplicates that are due (all of them when all != 0). */
static int tp_sim_dup_send(struct tp_sim_run *run, int all)
{
        while (run->dups_n > 0 && (all || run->dups[0].at <= run->sent)) {
                struct tp_sim_dup x = tp_sim_dup_pop(run);
                int rc = tp_sim_produce(run, x.province, x.key, x.val, x.len);
                tp_sim_dup_free(&x);
                if (rc != 0)
                        return -1;
                run->dup_sent++;
        }
        return 0;
}

static void tp_sim_pace(struct tp_sim_run *run)
{
        int64_t due, now;
        struct timespec ts;

        if (run->o->rate <= 0)
                return;
        due = run->started_mono +
              (int64_t)((double)(run->sent + run->dup_sent) * 1000.0 /
                        run->o->rate);
        now = tp_mono_ms();
        if (due <= now)
                return;
        if (run->rk)
                rd_kafka_poll(run->rk, 0);
        ts.tv_sec = (due - now) / 1000;
        ts.tv_nsec = (long)((due - now) % 1000) * 1000000L;
        nanosleep(&ts, NULL);
}

static void tp_sim_show_progress(struct tp_sim_run *run, int final)
{
        int64_t now = tp_mono_ms();
        double secs;

        if (!run->progress || (!final && now - run->last_progress < 500))
                return;
        run->last_progress = now;
        secs = (double)(now - run->started_mono) / 1000.0;
        fprintf(stderr,
                "\rtthc-sim: day %d/%d, %llu events (+%llu duplicates), "
                "%.0f events/s, %d provinces, %zu open dossiers   %s",
                run->day_index, run->gp.days, (unsigned long long)run->sent,
                (unsigned long long)run->dup_sent,
                secs > 0 ? (double)run->sent / secs : 0.0, run->n_selected,
                run->heap_n, final ? "\n" : "");
}

static int tp_sim_is_silenced(const struct tp_sim_run *run,
                              const struct tp_sim_dossier *d,
                              const struct tp_sim_event *e)
{
        const struct tp_sim_commune *c = run->ref.communes;

        if (e->t < run->silent_from)
                return 0;
        return (d->commune >= 0 && c[d->commune].silent) ||
               (e->handling_commune >= 0 && c[e->handling_commune].silent);
}

/* Sends the next event of d. */
static int tp_sim_emit(struct tp_sim_run *run, struct tp_sim_dossier *d)
{
        const struct tp_sim_event *e = &d->events[d->next];
        const unsigned char *val;
        size_t len;
        char err[1024];

        if (tp_sim_enc_event(run->enc, &run->ref, d, d->next + 1, e,
                             run->o->seed, &val, &len, err, sizeof(err))) {
                tp_log_error("%s", err);
                return -1;
        }
        tp_sim_truth_apply(run->truth, d, e);
        if (tp_sim_produce(run, d->province, d->id, val, len) != 0)
                return -1;
        run->sent++;
        if (run->o->duplicate_rate > 0 &&
            tp_sim_rng_unit(&run->dup_rng) < run->o->duplicate_rate)
                tp_sim_dup_schedule(run, d->province, d->id, val, len);
        d->next++;
        tp_sim_pace(run);
        tp_sim_show_progress(run, 0);
        return tp_sim_dup_send(run, 0);
}

/* Produces every event before limit, in time order. */
static int tp_sim_drain(struct tp_sim_run *run, int64_t limit)
{
        while (run->heap_n > 0 && !tp_sim_stop) {
                struct tp_sim_dossier *d = run->heap[0];
                if (d->events[d->next].t >= limit)
                        return 0;
                d = tp_sim_heap_pop(run);
                if (tp_sim_is_silenced(run, d, &d->events[d->next])) {
                        d->frozen_next = run->frozen;
                        run->frozen = d;
                        continue;
                }
                if (tp_sim_emit(run, d) != 0)
                        return -1;
                if (d->next < d->n_events)
                        tp_sim_heap_push(run, d);
                else
                        tp_sim_dossier_free(d);
        }
        return 0;
}

static void tp_sim_gen_day(struct tp_sim_run *run, int64_t day)
{
        struct tp_sim_ref *ref = &run->ref;
        struct tp_sim_dossier **list = NULL;
        size_t n = 0, cap = 0;

        for (int p = 0; p < ref->n_provinces; p++) {
                const struct tp_sim_province *pr = &ref->provinces[p];
                if (!pr->selected)
                        continue;
                for (int c = 0; c < pr->n_communes; c++)
                        tp_sim_gen_desk_day(ref, &run->gp, p,
                                            pr->first_commune + c, day,
                                            &run->serial, &list, &n, &cap);
                tp_sim_gen_desk_day(ref, &run->gp, p, -1, day, &run->serial,
                                    &list, &n, &cap);
        }
        for (size_t i = 0; i < n; i++)
                tp_sim_heap_push(run, list[i]);
        free(list);
}

static int tp_sim_stream(struct tp_sim_run *run)
{
        run->started_mono = tp_mono_ms();
        for (int i = 0; i < run->gp.days && !tp_sim_stop; i++) {
                int64_t day = run->gp.from_day + i;
                run->day_index = i + 1;
                if (tp_sim_drain(run, tp_sim_day_start(day)) != 0)
                        return -1;
                tp_sim_gen_day(run, day);
        }
        if (tp_sim_drain(run, run->end_ms) != 0 || tp_sim_dup_send(run, 1) != 0)
                return -1;
        tp_sim_show_progress(run, 1);
        return 0;
}

/* ---- the end ---- */

static int tp_sim_flush(struct tp_sim_run *run)
{
        rd_kafka_resp_err_t err;

        if (!run->rk)
                return 0;
        err = rd_kafka_flush(run->rk, run->o->flush_timeout_s * 1000);
        if (err) {
                tp_log_error("could not deliver %d message(s) within %d s: %s",
                             rd_kafka_outq_len(run->rk),
                             run->o->flush_timeout_s, rd_kafka_err2str(err));
                return -1;
        }
        if (run->delivery_failed) {
                tp_log_error("%llu message(s) could not be delivered, first: "
                             "%s",
                             (unsigned long long)run->delivery_failed,
                             run->delivery_err);
                return -1;
        }
        return 0;
}

static int tp_sim_write_truth(struct tp_sim_run *run, int complete)
{
        struct tp_sim_truth_meta meta;
        char err[1024];

        for (size_t i = 0; i < run->heap_n; i++)
                tp_sim_truth_end_dossier(run->truth, run->heap[i]);
        for (struct tp_sim_dossier *d = run->frozen; d; d = d->frozen_next)
                tp_sim_truth_end_dossier(run->truth, d);
        if (!run->o->truth)
                return 0;
        memset(&meta, 0, sizeof(meta));
        meta.seed = run->o->seed;
        meta.from_day = run->gp.from_day;
        meta.days = run->gp.days;
        meta.end_ms = run->end_ms;
        meta.events_sent = run->sent + run->dup_sent;
        meta.duplicates_sent = run->dup_sent;
        meta.complete = complete;
        if (tp_sim_truth_write(run->truth, &meta, run->o->truth, err,
                               sizeof(err)) != 0) {
                tp_log_error("%s", err);
                return -1;
        }
        return 0;
}

static void tp_sim_release(struct tp_sim_run *run)
{
        while (run->frozen) {
                struct tp_sim_dossier *d = run->frozen;
                run->frozen = d->frozen_next;
                tp_sim_dossier_free(d);
        }
        for (size_t i = 0; i < run->heap_n; i++)
                tp_sim_dossier_free(run->heap[i]);
        free(run->heap);
        for (size_t i = 0; i < run->dups_n; i++)
                tp_sim_dup_free(&run->dups[i]);
        free(run->dups);
        if (run->topics) {
                for (int p = 0; p < run->ref.n_provinces; p++)
                        if (run->topics[p])
                                rd_kafka_topic_destroy(run->topics[p]);
                free(run->topics);
        }
        if (run->rk)
                rd_kafka_destroy(run->rk);
        tp_sim_truth_destroy(run->truth);
        tp_sim_enc_destroy(run->enc);
        tp_sim_ref_release(&run->ref);
}

int main(int argc, char **argv)
{
        struct tp_sim_opts opts;
        struct tp_sim_run run;
        struct sigaction sa;
        int rc = 1, streamed;

        tp_log_set_service("tthc-sim");
        switch (tp_sim_parse_args(argc, argv, &opts)) {
        case 1:
                return 0;
        case -1:
                return 2;
        }
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = tp_sim_on_signal;
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        memset(&run, 0, sizeof(run));
        run.o = &opts;
        run.progress = isatty(STDERR_FILENO);
        if (tp_sim_setup(&run) != 0)
                goto done;
        tp_log_info("streaming %d province(s), %d day(s) from day %lld, "
                    "%.0f dossiers per working day nationally, seed %llu",
                    run.n_selected, run.gp.days, (long long)run.gp.from_day,
                    opts.dossiers_per_day, (unsigned long long)opts.seed);
        streamed = tp_sim_stream(&run) == 0 && !tp_sim_stop;
        if (tp_sim_flush(&run) != 0 || tp_sim_write_truth(&run, streamed))
                goto done;
        printf("events produced: %llu (%llu distinct, %llu duplicates)\n",
               (unsigned long long)(run.sent + run.dup_sent),
               (unsigned long long)run.sent, (unsigned long long)run.dup_sent);
        fflush(stdout);
        if (!streamed) {
                tp_log_error("stopped before the end of the stream%s",
                             tp_sim_stop ? " (interrupted)" : "");
                goto done;
        }
        rc = 0;
done:
        tp_sim_release(&run);
        return rc;
}
