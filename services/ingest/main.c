/* tthc-ingest: validate and store filing events, dossier state and hourly
 * commune throughput, exactly once, with dead letters for bad input. */
#include "cfg.h"
#include "ingest.h"
#include "log.h"
#include "metrics.h"
#include "service.h"
#include "store.h"
#include "util.h"

#include <stdio.h>

static const struct tp_opt tp_ingest_own[] = {
        {"dlq-topic", TP_OPT_STR, "tthc.filings.dlq",
         offsetof(struct tp_ingest_opts, dlq_topic), "dead-letter topic", 0, 0,
         NULL, 0},
};

static const struct tp_cfg_spec tp_ingest_spec = {
        .service = "tthc-ingest",
        .summary = "Validates and stores TTHC filing events from the "
                   "province topics into PostgreSQL, exactly once.",
        .groups = TP_CFG_CONSUMERS | TP_CFG_STORE,
        .own = tp_ingest_own,
        .n_own = TP_ARRAY_LEN(tp_ingest_own),
        .own_size = sizeof(struct tp_ingest_opts),
};

static void tp_report(const void *ctx)
{
        const struct tp_ingest *ig = ctx;
        const struct tp_ingest_counts *n = tp_ingest_counts(ig);
        uint64_t rejected = 0;
        for (int r = 0; r < TP_REASON__COUNT; r++)
                rejected += n->rejected[r];
        tp_log_info("stored %llu event(s), %llu duplicate(s) counted once, "
                    "%llu dead letter(s)",
                    (unsigned long long)n->accepted,
                    (unsigned long long)n->duplicates,
                    (unsigned long long)rejected);
        tp_service_log_store(tp_ingest_store(ig));
}

/* The handler, with its metrics when --http-port serves them. */
static void *tp_build(PGconn *conn, struct tp_metrics *metrics,
                      const struct tp_cfg *cfg, char *errstr,
                      size_t errstr_size)
{
        struct tp_ingest *ig = tp_ingest_new(cfg, conn, errstr, errstr_size);
        if (ig && metrics &&
            tp_ingest_metrics_init(ig, metrics, errstr, errstr_size) != 0) {
                tp_ingest_destroy(ig);
                return NULL;
        }
        return ig;
}

static void tp_destroy(void *ctx)
{
        tp_ingest_destroy(ctx);
}

/* --rebuild: dossier state and hourly counters come again from the stored
 * events (common/replay.h); dossiers that began before the retention
 * horizon keep their rows, and the hours before it their counts. The
 * province days are summed again from the kept hours (the replay adds
 * the rest). The partition progress and the codes first seen are kept
 * (the replay writes the same again). */
static const char tp_rebuild_sql[] =
        "DELETE FROM tthc.dossiers d WHERE NOT EXISTS (SELECT 1 FROM "
        "tp_rebuild_kept k WHERE k.province_code = d.province_code AND "
        "k.dossier_id = d.dossier_id); "
        "DELETE FROM tthc.commune_throughput_hourly h USING tp_rebuild r "
        "WHERE r.horizon IS NULL OR h.hour >= r.horizon; "
        /* the days from the horizon's on: what the kept hours hold, the
         * replay adds the rest */
        "SELECT tthc.province_throughput_resum((r.horizon AT TIME ZONE "
        "'Asia/Ho_Chi_Minh')::date) FROM tp_rebuild r";

int main(int argc, char **argv)
{
        static const struct tp_service_def def = {
                .spec = &tp_ingest_spec,
                .handler = {.prepare = tp_ingest_prepare,
                            .done = tp_ingest_done,
                            .stage = tp_ingest_stage,
                            .flush = tp_ingest_flush},
                .build = tp_build,
                .report = tp_report,
                .destroy = tp_destroy,
                .rebuild_sql = tp_rebuild_sql,
        };
        return tp_service_main(&def, argc, argv);
}
