/* dossier_pg.c - see dossier_pg.h. */
#include "dossier_pg.h"

#include <string.h>

const char tp_dossier_pg_cols[] =
        "province_code, dossier_id, commune_code, procedure_code, "
        "procedure_level, channel, submitted_at, received_at, due_at, status, "
        "closed_at, outcome, original_due_at, extended, result_returned_at, "
        "handling_level, agency_code, handling_commune_code, last_seq, "
        "seq_gaps, open_pauses, last_event_at";

void tp_dossier_pg_copy(struct tp_copybuf *cb, const struct tp_dossier *d)
{
        tp_copybuf_str(cb, d->province_code);
        tp_copybuf_str(cb, d->dossier_id);
        tp_copybuf_str(cb, d->commune_code);
        tp_copybuf_str(cb, d->procedure_code);
        tp_copybuf_str(cb, tp_level_name(d->procedure_level));
        tp_copybuf_str(cb, tp_channel_name(d->channel));
        tp_copybuf_ts(cb, d->submitted_at);
        tp_copybuf_ts(cb, d->received_at);
        tp_copybuf_ts(cb, d->due_at);
        tp_copybuf_str(cb, tp_dstatus_name(d->status));
        tp_copybuf_ts(cb, d->closed_at);
        tp_copybuf_str(cb, tp_outcome_name(d->outcome));
        tp_copybuf_ts(cb, d->original_due_at);
        tp_copybuf_bool(cb, d->extended);
        tp_copybuf_ts(cb, d->result_returned_at);
        tp_copybuf_str(cb, tp_level_name(d->handling_level));
        tp_copybuf_str(cb, d->agency_code);
        tp_copybuf_str(cb, d->handling_commune_code);
        tp_copybuf_int4(cb, d->last_seq);
        tp_copybuf_int4(cb, d->seq_gaps);
        tp_copybuf_int4(cb, d->open_pauses);
        tp_copybuf_ts(cb, d->last_event_at);
}

void tp_dossier_pg_read(struct tp_dossier *d, const PGresult *res, int r)
{
        struct tp_strspan s[TP_DSS__COUNT];
        memset(d, 0, sizeof(*d));
        s[TP_DSS_PROVINCE] = tp_pg_col_span(res, r, 0);
        s[TP_DSS_DOSSIER_ID] = tp_pg_col_span(res, r, 1);
        s[TP_DSS_COMMUNE] = tp_pg_col_span(res, r, 2);
        s[TP_DSS_PROCEDURE] = tp_pg_col_span(res, r, 3);
        s[TP_DSS_AGENCY] = tp_pg_col_span(res, r, 16);
        s[TP_DSS_HANDLING_COMMUNE] = tp_pg_col_span(res, r, 17);
        tp_dossier_set_strings(d, s);
        d->procedure_level = (enum tp_level)tp_pg_col_level(res, r, 4);
        d->channel = (enum tp_channel)tp_channel_parse(PQgetvalue(res, r, 5));
        d->submitted_at = tp_pg_col_ts(res, r, 6);
        d->received_at = tp_pg_col_ts(res, r, 7);
        d->due_at = tp_pg_col_ts(res, r, 8);
        d->status = (enum tp_dstatus)tp_dstatus_parse(PQgetvalue(res, r, 9));
        d->closed_at = tp_pg_col_ts(res, r, 10);
        d->outcome = PQgetisnull(res, r, 11)
                             ? TP_OUT_NONE
                             : (enum tp_outcome)tp_outcome_parse(
                                       PQgetvalue(res, r, 11));
        d->original_due_at = tp_pg_col_ts(res, r, 12);
        d->extended = PQgetvalue(res, r, 13)[0] == 't';
        d->result_returned_at = tp_pg_col_ts(res, r, 14);
        d->handling_level = (enum tp_level)tp_pg_col_level(res, r, 15);
        d->last_seq = tp_pg_col_int(res, r, 18);
        d->seq_gaps = tp_pg_col_int(res, r, 19);
        d->open_pauses = tp_pg_col_int(res, r, 20);
        d->last_event_at = tp_pg_col_ts(res, r, 21);
}
