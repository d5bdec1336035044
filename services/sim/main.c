/* tthc-sim: streams realistic vn.tthc.FilingEvent lifecycles for the
 * provinces and communes of the reference data to tthc.filings.<province>,
 * in event-time order, and writes the exact figures a consumer must reach.
 *
 * Per day of the stream: every desk's arrivals are generated with their
 * whole lifecycle, pushed on a min-heap keyed by each dossier's next event
 * time, and everything due before the next day is produced. Only the
 * dossiers still open are in memory.
 */
#include "cfg.h"
#include "kafka.h"
#include "log.h"
#include "service.h"
#include "sim.h"
#include "util.h"

#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TP_SIM_DUP_MAX_DELAY 5000

/* tthc-sim's own options (cfg->own). */
struct tp_sim_opts {
        char *schema;
        int schema_id;
        char *provinces;
        char *from;
        int days;
        double dossiers_per_day;
        double rate;
        double seed_value;
        int laggards;
        struct tp_cfg_list laggard;
        struct tp_cfg_list silent;
        double duplicate_rate;
        char *truth;
        int flush_timeout_s;
        int dry_run;
        /* from the above once loaded */
        int64_t from_day;
        uint64_t seed;
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
        const struct tp_cfg *cfg; /* brokers, reference, kafka.* */
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

static int tp_sim_check_date(const char *value, char *err, size_t err_size)
{
        int64_t day;
        if (tp_parse_date(value, &day) == 0)
                return 0;
        snprintf(err, err_size, "\"%s\" is not a date (YYYY-MM-DD)", value);
        return -1;
}

#define TP_SIM_OPT(n, t, d, f, lo, hi, h)                                      \
        {                                                                      \
                n, t, d, offsetof(struct tp_sim_opts, f), h, lo, hi, NULL, 0   \
        }

static const struct tp_opt tp_sim_own[] = {
        TP_SIM_OPT("schema", TP_OPT_STR, "./schemas/avro/1-filing_event.avsc",
                   schema, 0, 0, "writer schema"),
        TP_SIM_OPT("schema-id", TP_OPT_INT, "1", schema_id, 0, 2147483647,
                   "schema id in the message header"),
        TP_SIM_OPT("provinces", TP_OPT_STR, NULL, provinces, 0, 0,
                   "provinces to stream, e.g. 01,79 (default: all)"),
        {"from", TP_OPT_STR, "2025-09-01", offsetof(struct tp_sim_opts, from),
         "first day, Vietnam time (>= 2025-07-01)", 0, 0, tp_sim_check_date, 0},
        TP_SIM_OPT("days", TP_OPT_INT, "30", days, 1, 36600,
                   "days to stream (clipped to end before now)"),
        TP_SIM_OPT("dossiers-per-day", TP_OPT_NUM, "20000", dossiers_per_day, 0,
                   1e8,
                   "national dossiers per working day (a subset of "
                   "provinces gets its share)"),
        TP_SIM_OPT("rate", TP_OPT_NUM, "0", rate, 0, 1e9,
                   "events per second, 0 = as fast as possible"),
        TP_SIM_OPT("seed", TP_OPT_NUM, "1", seed_value, 0, 1e15,
                   "random seed; same seed, same bytes"),
        TP_SIM_OPT("laggards", TP_OPT_INT, "0", laggards, 0, 100000,
                   "pick this many lagging communes from the seed"),
        TP_SIM_OPT("laggard", TP_OPT_LIST, NULL, laggard, 0, 0,
                   "make this commune lag"),
        TP_SIM_OPT("silent", TP_OPT_LIST, NULL, silent, 0, 0,
                   "this commune goes silent at the midpoint"),
        TP_SIM_OPT("duplicate-rate", TP_OPT_NUM, "0", duplicate_rate, 0, 1,
                   "re-send this share of messages later, same bytes"),
        TP_SIM_OPT("truth", TP_OPT_STR, NULL, truth, 0, 0,
                   "write the expected figures as JSON (docs/sim.md)"),
        TP_SIM_OPT("flush-timeout", TP_OPT_INT, "120", flush_timeout_s, 0,
                   86400, "wait this long (s) for delivery at the end"),
        TP_SIM_OPT("dry-run", TP_OPT_BOOL, "false", dry_run, 0, 0,
                   "generate and encode, produce nothing"),
};

static const struct tp_cfg_spec tp_sim_spec = {
        .service = "tthc-sim",
        .summary = "Streams realistic vn.tthc.FilingEvent dossier lifecycles "
                   "(Confluent-framed Avro,\nschema id 1, key = dossier_id) to "
                   "tthc.filings.<province>, in event-time order,\nwith an "
                   "idempotent producer; exits 0 once everything is "
                   "delivered.",
        .groups = TP_CFG_LOG | TP_CFG_KAFKA | TP_CFG_REFERENCE,
        .own = tp_sim_own,
        .n_own = TP_ARRAY_LEN(tp_sim_own),
        .own_size = sizeof(struct tp_sim_opts),
};

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
                                const struct tp_cfg_list *codes, int silent)
{
        for (size_t i = 0; i < codes->n; i++) {
                int c = tp_sim_ref_find_commune(&run->ref, codes->v[i]);
                if (c < 0) {
                        tp_log_error("unknown commune '%s' in --%s",
                                     codes->v[i],
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

/* The producer, with the kafka.* properties. */
static int tp_sim_producer_new(struct tp_sim_run *run)
{
        const char *const defaults[][2] = {
                {"enable.idempotence", "true"},
                {"linger.ms", "20"},
                {"queue.buffering.max.messages", "500000"},
                {"queue.buffering.max.kbytes", "262144"},
        };
        char err[512], topic[64];
        struct tp_kafka_opts o = {
                .role = TP_KAFKA_PRODUCER,
                .brokers = run->cfg->brokers,
                .client_id = "tthc-sim",
                .defaults = defaults,
                .n_defaults = TP_ARRAY_LEN(defaults),
                .keys = run->cfg->kafka_keys,
                .values = run->cfg->kafka_values,
                .n = run->cfg->n_kafka,
                .opaque = run,
                .dr_msg_cb = tp_sim_dr_cb,
        };

        run->rk = tp_kafka_new(&o, err, sizeof(err));
        if (!run->rk) {
                tp_log_error("%s", err);
                return -1;
        }
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

        if (tp_sim_ref_load(&run->ref, run->cfg->reference, err, sizeof(err))) {
                tp_log_error("could not load reference data: %s", err);
                return -1;
        }
        if (tp_sim_select_provinces(run) ||
            tp_sim_mark_communes(run, &run->o->laggard, 0) ||
            tp_sim_mark_communes(run, &run->o->silent, 1) ||
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
        while (run->heap_n > 0 && !tp_service_stop) {
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
        for (int i = 0; i < run->gp.days && !tp_service_stop; i++) {
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
        struct tp_cfg cfg;
        struct tp_sim_opts *opts;
        struct tp_sim_run run;
        int rc = 1, streamed;

        memset(&run, 0, sizeof(run));
        if (!tp_service_start(&tp_sim_spec, argc, argv, &cfg, &rc))
                goto out;
        rc = 1;
        opts = cfg.own;
        tp_parse_date(opts->from, &opts->from_day); /* checked */
        opts->seed = (uint64_t)opts->seed_value;
        tp_service_signals(); /* a clean stop: flush, truth so far */
        run.cfg = &cfg;
        run.o = opts;
        run.progress = isatty(STDERR_FILENO);
        if (tp_sim_setup(&run) != 0)
                goto done;
        tp_log_info("streaming %d province(s), %d day(s) from day %lld, "
                    "%.0f dossiers per working day nationally, seed %llu",
                    run.n_selected, run.gp.days, (long long)run.gp.from_day,
                    opts->dossiers_per_day, (unsigned long long)opts->seed);
        streamed = tp_sim_stream(&run) == 0 && !tp_service_stop;
        if (tp_sim_flush(&run) != 0 || tp_sim_write_truth(&run, streamed))
                goto done;
        printf("events produced: %llu (%llu distinct, %llu duplicates)\n",
               (unsigned long long)(run.sent + run.dup_sent),
               (unsigned long long)run.sent, (unsigned long long)run.dup_sent);
        fflush(stdout);
        if (!streamed) {
                tp_log_error("stopped before the end of the stream%s",
                             tp_service_stop ? " (interrupted)" : "");
                goto done;
        }
        rc = 0;
done:
        tp_sim_release(&run);
out:
        tp_cfg_release(&cfg);
        return rc;
}
