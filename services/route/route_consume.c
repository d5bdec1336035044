/* route_consume.c - decoding and validation for tthc-route. Invalid
 * messages are skipped and counted by reason: tthc-ingest, which runs the
 * same checks, records them as dead letters. */
#include "route_int.h"
#include "framing.h"
#include "log.h"
#include "util.h"
#include "validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TP_REF_RELOAD_MS 30000

int tp_route_load_ref(struct tp_route *rt, PGconn *conn, char *errstr,
                      size_t errstr_size)
{
        struct tp_refdata *rd = tp_refdata_load_pg(conn, errstr, errstr_size);
        if (!rd)
                return -1;
        tp_refdata_destroy(rt->ref);
        rt->ref = rd;
        rt->ref_loaded_ms = tp_mono_ms();
        return 0;
}

struct tp_route *tp_route_new(const struct tp_cfg *cfg, PGconn *conn,
                              char *errstr, size_t errstr_size)
{
        struct tp_route *rt = tp_xcalloc(1, sizeof(*rt));
        rt->cfg = cfg;
        rt->conn = conn;
        rt->states = tp_strmap_new();
        rt->levels = tp_strmap_new();
        rt->routes = tp_strmap_new();
        rt->anomalies = tp_strmap_new();
        rt->catalog = tp_catalog_new(cfg->schemas, cfg->registry,
                                     cfg->reader_schema, errstr, errstr_size);
        if (!rt->catalog)
                goto fail;
        if (tp_route_load_ref(rt, conn, errstr, errstr_size) != 0)
                goto fail;
        return rt;
fail:
        tp_route_destroy(rt);
        return NULL;
}

static void tp_route_clear_entries(struct tp_route *rt)
{
        for (size_t i = 0; i < rt->n_entries; i++)
                tp_event_release(&rt->entries[i].ev);
        rt->n_entries = 0;
}

void tp_route_destroy(struct tp_route *rt)
{
        if (!rt)
                return;
        tp_route_clear_entries(rt);
        free(rt->entries);
        tp_route_write_reset(rt);
        tp_strmap_destroy(rt->states);
        tp_strmap_destroy(rt->levels);
        tp_strmap_destroy(rt->routes);
        tp_strmap_destroy(rt->anomalies);
        tp_refdata_destroy(rt->ref);
        tp_catalog_destroy(rt->catalog);
        free(rt);
}

const struct tp_route_counts *tp_route_counts(const struct tp_route *rt)
{
        return &rt->counts;
}

/* Decodes e->m into e->ev; returns -1 only on a registry outage (retry),
 * with errstr saying why. */
static int tp_route_decode(struct tp_route *rt, struct tp_route_entry *e,
                           char *errstr, size_t errstr_size)
{
        const unsigned char *body;
        size_t body_len;
        struct tp_avrodec *dec = NULL;
        enum tp_catalog_status st;
        int32_t schema_id;

        if (tp_framing_parse(e->m->value, e->m->value_len, &schema_id, &body,
                             &body_len, e->detail, sizeof(e->detail)) != 0) {
                e->reason = TP_REASON_BAD_FRAMING;
                return 0;
        }
        st = tp_catalog_get(rt->catalog, schema_id, &dec, e->detail,
                            sizeof(e->detail));
        if (st == TP_CATALOG_OUTAGE) {
                snprintf(errstr, errstr_size, "%s", e->detail);
                return -1;
        }
        if (st != TP_CATALOG_OK) {
                e->reason = st == TP_CATALOG_UNKNOWN ? TP_REASON_UNKNOWN_SCHEMA
                                                     : TP_REASON_BAD_AVRO;
                return 0;
        }
        e->reason = tp_avrodec_decode(dec, body, body_len, &e->ev, e->detail,
                                      sizeof(e->detail));
        return 0;
}

static void tp_route_validate(struct tp_route *rt, struct tp_route_entry *e)
{
        char err[256];
        e->reason = tp_validate_event(rt->ref, e->m->topic, &e->ev, tp_now_ms(),
                                      e->detail, sizeof(e->detail));
        /* A commune added as data: reload, at most every 30 s, before
         * calling a code unknown (as tthc-ingest does). */
        if ((e->reason == TP_REASON_UNKNOWN_COMMUNE ||
             e->reason == TP_REASON_UNKNOWN_PROVINCE) &&
            rt->conn && tp_mono_ms() - rt->ref_loaded_ms > TP_REF_RELOAD_MS &&
            tp_route_load_ref(rt, rt->conn, err, sizeof(err)) == 0)
                e->reason = tp_validate_event(rt->ref, e->m->topic, &e->ev,
                                              tp_now_ms(), e->detail,
                                              sizeof(e->detail));
        if (e->reason != TP_REASON_OK)
                tp_event_release(&e->ev);
}

int tp_route_prepare(void *ctx, struct tp_batch *b, PGconn *conn, char *errstr,
                     size_t errstr_size)
{
        struct tp_route *rt = ctx;

        rt->conn = conn;
        tp_route_clear_entries(rt);
        if (b->n > rt->cap_entries) {
                rt->cap_entries = b->n;
                rt->entries =
                        tp_xrealloc(rt->entries, b->n * sizeof(*rt->entries));
        }
        for (size_t i = 0; i < b->n; i++) {
                struct tp_route_entry *e = &rt->entries[rt->n_entries++];
                memset(e, 0, sizeof(*e));
                e->m = &b->msgs[i];
                if (tp_route_decode(rt, e, errstr, errstr_size) != 0)
                        return -1; /* registry outage: back off */
                if (e->reason == TP_REASON_OK)
                        tp_route_validate(rt, e);
                if (e->reason != TP_REASON_OK)
                        tp_log_debug("skipping the message at %s [%d] offset "
                                     "%lld: %s: %s",
                                     e->m->topic, (int)e->m->partition,
                                     (long long)e->m->offset,
                                     tp_reason_name(e->reason), e->detail);
        }
        return 0;
}

void tp_route_done(void *ctx, struct tp_batch *b, int committed)
{
        struct tp_route *rt = ctx;
        (void)b;
        if (committed) {
                rt->counts.applied += rt->pending.applied;
                rt->counts.duplicates += rt->pending.duplicates;
                for (int r = 0; r < TP_REASON__COUNT; r++)
                        rt->counts.skipped[r] += rt->pending.skipped[r];
        }
        memset(&rt->pending, 0, sizeof(rt->pending));
        tp_route_clear_entries(rt);
}
