/* tthc-route: procedure-level routing aggregates (transfers, per-level
 * counters, time at each level, anomalies) from the province topics,
 * exactly once, in its own consumer group. */
#include "cfg.h"
#include "log.h"
#include "service.h"
#include "route.h"
#include "store.h"

#include <stdio.h>

static const struct tp_cfg_spec tp_route_spec = {
        .service = "tthc-route",
        .summary = "Computes procedure-level routing aggregates (transfers, "
                   "time at each level, anomalies) from the province topics "
                   "into PostgreSQL, exactly once.",
        .groups = TP_CFG_CONSUMERS | TP_CFG_STORE,
};

static void tp_report(const void *ctx)
{
        const struct tp_route *rt = ctx;
        const struct tp_route_counts *n = tp_route_counts(rt);
        uint64_t skipped = 0;
        for (int r = 0; r < TP_REASON__COUNT; r++)
                skipped += n->skipped[r];
        tp_log_info("applied %llu event(s), %llu duplicate(s) skipped, "
                    "%llu invalid message(s) skipped",
                    (unsigned long long)n->applied,
                    (unsigned long long)n->duplicates,
                    (unsigned long long)skipped);
        for (int r = 1; r < TP_REASON__COUNT; r++)
                if (n->skipped[r])
                        tp_log_info("skipped %s: %llu", tp_reason_name(r),
                                    (unsigned long long)n->skipped[r]);
        tp_service_log_store(tp_route_store(rt));
}

static void *tp_build(PGconn *conn, struct tp_metrics *metrics,
                      const struct tp_cfg *cfg, char *errstr,
                      size_t errstr_size)
{
        (void)metrics;
        return tp_route_new(cfg, conn, errstr, errstr_size);
}

/* --rebuild: routing state and the daily tables come again from the
 * stored events (common/replay.h); dossiers that began before the
 * retention horizon keep their rows, and the days before it theirs. */
static const char tp_rebuild_sql[] =
        "DELETE FROM tthc.route_dossiers d WHERE NOT EXISTS (SELECT 1 FROM "
        "tp_rebuild_kept k WHERE k.province_code = d.province_code AND "
        "k.dossier_id = d.dossier_id); "
        "DELETE FROM tthc.procedure_level_daily t USING tp_rebuild r WHERE "
        "r.horizon IS NULL OR t.day >= (r.horizon AT TIME ZONE "
        "'Asia/Ho_Chi_Minh')::date; "
        "DELETE FROM tthc.procedure_routing_daily t USING tp_rebuild r WHERE "
        "r.horizon IS NULL OR t.day >= (r.horizon AT TIME ZONE "
        "'Asia/Ho_Chi_Minh')::date; "
        "DELETE FROM tthc.routing_anomalies_daily t USING tp_rebuild r WHERE "
        "r.horizon IS NULL OR t.day >= (r.horizon AT TIME ZONE "
        "'Asia/Ho_Chi_Minh')::date; "
        /* the months from the horizon's on: what the kept days hold,
         * the replay adds the rest */
        "SELECT tthc.route_months_resum((r.horizon AT TIME ZONE "
        "'Asia/Ho_Chi_Minh')::date) FROM tp_rebuild r";

static void tp_destroy(void *ctx)
{
        tp_route_destroy(ctx);
}

int main(int argc, char **argv)
{
        static const struct tp_service_def def = {
                .spec = &tp_route_spec,
                .handler = {.done = tp_route_done,
                            .stage = tp_route_stage,
                            .flush = tp_route_flush},
                .build = tp_build,
                .report = tp_report,
                .destroy = tp_destroy,
                .rebuild_sql = tp_rebuild_sql,
        };
        return tp_service_main(&def, argc, argv);
}
