/* ingest_codes.c - the codes events carry, once each: a procedure code
 * into tthc.procedures (with a null name when no catalogue has it, listed
 * by tthc.unknown_procedures) and an agency into tthc.agencies (its level
 * and commune as first seen). The codes already written are remembered
 * (merged at commit, so an abandoned batch writes its codes again); the
 * set is a cache, emptied when a producer sends more distinct codes than
 * any catalogue has. A batch staged while the one before commits may
 * queue that batch's codes again: the inserts leave a known code as it
 * is. */
#include "ingest_int.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

#define TP_CODES_MAX 200000

static char tp_code_marker;

/* 1 when key is neither written nor queued by the batch; queues it. */
static int tp_code_is_new(const struct tp_ingest *ig,
                          struct tp_ingest_staged *st, const char *key)
{
        if (tp_strmap_get(ig->codes, key) || tp_strmap_get(st->codes, key))
                return 0;
        tp_strmap_put(st->codes, key, &tp_code_marker);
        return 1;
}

/* The commune an agency serves: the event's handling commune, or, from a
 * writer without the field, the receiving one while a commune handles
 * it (design.md, field 17). */
static const char *tp_agency_commune(const struct tp_event *ev)
{
        if (ev->handling_commune_given)
                return ev->handling_commune_code;
        return ev->handling_level == TP_LEVEL_COMMUNE ? ev->commune_code : NULL;
}

void tp_ingest_stage_codes(struct tp_ingest *ig, struct tp_ingest_staged *st)
{
        struct tp_copybuf *procs = &st->rows[TP_IW_PROCS];
        struct tp_copybuf *agencies = &st->rows[TP_IW_AGENCIES];
        char key[2 * TP_EVENT_MAX_STR + 8];
        size_t n;

        for (size_t i = 0; i < ig->n_entries; i++) {
                const struct tp_ingest_entry *e = &ig->entries[i];
                const struct tp_event *ev = &e->ev;
                if (e->reason != TP_REASON_OK || e->duplicate)
                        continue;
                n = 0;
                tp_cat(key, sizeof(key), &n, "p|");
                tp_cat(key, sizeof(key), &n, ev->procedure_code);
                if (tp_code_is_new(ig, st, key)) {
                        tp_copybuf_str(procs, ev->procedure_code);
                        tp_copybuf_end_row(procs);
                }
                n = 0;
                tp_cat(key, sizeof(key), &n, "a|");
                tp_cat(key, sizeof(key), &n, ev->province_code);
                tp_cat(key, sizeof(key), &n, "|");
                tp_cat(key, sizeof(key), &n, ev->agency_code);
                if (tp_code_is_new(ig, st, key)) {
                        tp_copybuf_str(agencies, ev->province_code);
                        tp_copybuf_str(agencies, ev->agency_code);
                        tp_copybuf_str(agencies,
                                       tp_level_name(ev->handling_level));
                        tp_copybuf_str(agencies, tp_agency_commune(ev));
                        tp_copybuf_end_row(agencies);
                }
        }
}

int tp_ingest_send_codes(const struct tp_ingest_staged *st, PGconn *conn,
                         char *errstr, size_t errstr_size)
{
        if (tp_copybuf_apply(
                    conn, &st->rows[TP_IW_PROCS], "COPY tp_procs FROM STDIN",
                    "INSERT INTO tthc.procedures AS p (procedure_code, "
                    "source, first_seen_at) SELECT procedure_code, 'event', "
                    "now() FROM tp_procs ON CONFLICT (procedure_code) DO "
                    "UPDATE SET first_seen_at = now() WHERE p.first_seen_at "
                    "IS NULL",
                    errstr, errstr_size) != 0)
                return -1;
        return tp_copybuf_apply(conn, &st->rows[TP_IW_AGENCIES],
                                "COPY tp_agencies FROM STDIN",
                                "INSERT INTO tthc.agencies (province_code, "
                                "agency_code, level, commune_code) SELECT * "
                                "FROM tp_agencies ON CONFLICT DO NOTHING",
                                errstr, errstr_size);
}

static void tp_code_keep(const char *key, void *value, void *ud)
{
        tp_strmap_put(ud, key, value);
}

void tp_ingest_codes_done(struct tp_ingest *ig, struct tp_ingest_staged *st)
{
        if (tp_strmap_count(ig->codes) + tp_strmap_count(st->codes) >
            TP_CODES_MAX)
                tp_strmap_clear(ig->codes);
        tp_strmap_each(st->codes, tp_code_keep, ig->codes);
}
