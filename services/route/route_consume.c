/* route_consume.c - decoding and validation for tthc-route. Invalid
 * messages are skipped and counted by reason: tthc-ingest, which runs the
 * same checks, records them as dead letters. */
#include "route_int.h"
#include "log.h"
#include "util.h"
#include "validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tp_route *tp_route_new(const struct tp_cfg *cfg, PGconn *conn,
                              char *errstr, size_t errstr_size)
{
        struct tp_route *rt = tp_xcalloc(1, sizeof(*rt));
        rt->cfg = cfg;
        rt->conn = conn;
        rt->store = tp_store_new(tp_route_state_free, (size_t)cfg->state_cap);
        tp_route_write_init(rt);
        rt->reader = tp_filing_reader_new(cfg, conn, errstr, errstr_size);
        if (!rt->reader)
                goto fail;
        tp_filing_reader_set_arena(rt->reader, &rt->strings);
        return rt;
fail:
        tp_route_destroy(rt);
        return NULL;
}

void tp_route_destroy(struct tp_route *rt)
{
        if (!rt)
                return;
        tp_route_clear_entries(rt);
        free(rt->entries);
        tp_route_write_destroy(rt);
        tp_store_destroy(rt->store);
        tp_filing_reader_destroy(rt->reader);
        free(rt);
}

const struct tp_route_counts *tp_route_counts(const struct tp_route *rt)
{
        return &rt->counts;
}

const struct tp_store *tp_route_store(const struct tp_route *rt)
{
        return rt->store;
}

void tp_route_clear_entries(struct tp_route *rt)
{
        for (size_t i = 0; i < rt->n_entries; i++)
                tp_event_release(&rt->entries[i].ev);
        rt->n_entries = 0;
        tp_arena_reset(&rt->strings);
}

int tp_route_decode(struct tp_route *rt, const struct tp_batch *b, size_t from,
                    size_t to, PGconn *conn, char *errstr, size_t errstr_size)
{
        rt->conn = conn;
        tp_route_clear_entries(rt);
        if (to - from > rt->cap_entries) {
                rt->cap_entries = to - from;
                rt->entries = tp_xrealloc(
                        rt->entries, rt->cap_entries * sizeof(*rt->entries));
        }
        for (size_t i = from; i < to; i++) {
                struct tp_route_entry *e = &rt->entries[rt->n_entries++];
                memset(e, 0, sizeof(*e));
                int32_t schema_id;
                e->msg = &b->msgs[i];
                if (tp_msg_db_rejected(e->msg, e->detail, sizeof(e->detail))) {
                        e->reason = TP_REASON_DB_REJECTED;
                        continue;
                }
                if (tp_filing_read_msg(rt->reader, conn, e->msg, &e->ev,
                                       &schema_id, &e->reason, e->detail,
                                       sizeof(e->detail)) != 0) {
                        snprintf(errstr, errstr_size, "%s", e->detail);
                        return -1; /* registry outage: back off */
                }
                if (e->reason != TP_REASON_OK)
                        tp_log_debug("skipping the message at %s [%d] offset "
                                     "%lld: %s: %s",
                                     e->msg->topic, (int)e->msg->partition,
                                     (long long)e->msg->offset,
                                     tp_reason_name(e->reason), e->detail);
        }
        return 0;
}

void tp_route_done(void *ctx, struct tp_batch *b, int committed)
{
        struct tp_route *rt = ctx;
        const struct tp_route_staged *st = b->staged;
        if (committed && st) {
                tp_store_commit_sealed(rt->store, st->sealed.gen);
                rt->counts.applied += st->pending.applied;
                rt->counts.duplicates += st->pending.duplicates;
                for (int r = 0; r < TP_REASON__COUNT; r++)
                        rt->counts.skipped[r] += st->pending.skipped[r];
        } else if (!committed) {
                tp_store_abort(rt->store);
        }
        tp_route_staged_free(b);
}
