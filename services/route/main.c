/* tthc-route: procedure-level routing aggregates (transfers, per-level
 * counters, time at each level, anomalies) from the province topics,
 * exactly once, in its own consumer group. */
#include "cfg.h"
#include "consumer.h"
#include "log.h"
#include "service.h"
#include "pgutil.h"
#include "route.h"
#include "store.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

static void tp_report(const struct tp_route *rt)
{
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

int main(int argc, char **argv)
{
        struct tp_cfg cfg;
        struct tp_service svc = {"tthc-route", argc, argv};
        struct tp_consumer *c = NULL;
        struct tp_route *rt = NULL;
        struct tp_handler h = {0};
        char err[1024];
        int rc = 1;

        if (!tp_service_start("tthc-route",
                              "Computes procedure-level routing "
                              "aggregates (transfers, time at each "
                              "level, anomalies) from the province "
                              "topics into PostgreSQL, exactly once.",
                              argc, argv, &cfg, &rc)) {
                tp_cfg_release(&cfg);
                return rc;
        }
        rc = 1;
        h.prepare = tp_route_prepare;
        h.write = tp_route_write;
        h.done = tp_route_done;
        c = tp_service_consumer(&cfg, "tthc-route", &h);
        if (!c)
                goto out;
        rt = tp_route_new(&cfg, tp_consumer_pg(c), err, sizeof(err));
        if (!rt) {
                tp_log_error("could not start: %s", err);
                goto out;
        }
        h.ctx = rt;
        tp_consumer_set_handler(c, &h);
        tp_consumer_set_reload(c, &tp_service_hup, tp_service_reload_cb, &svc);
        tp_log_info("consuming %s as group %s", cfg.topics, cfg.group);
        rc = tp_consumer_run(c, &tp_service_stop) == 0 ? 0 : 1;
        tp_report(rt);
out:
        tp_consumer_destroy(c);
        tp_route_destroy(rt);
        tp_cfg_release(&cfg);
        return rc;
}
