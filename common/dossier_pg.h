/* dossier_pg.h - a struct tp_dossier as a row of tthc.dossiers' 22
 * columns, in this order (also the leading columns of
 * tthc.route_dossiers): province_code, dossier_id, commune_code,
 * procedure_code, procedure_level, channel, submitted_at, received_at,
 * due_at, status, closed_at, outcome, original_due_at, extended,
 * result_returned_at, handling_level, agency_code, handling_commune_code,
 * last_seq, seq_gaps, open_pauses, last_event_at. Timestamps travel as
 * epoch milliseconds when read; copied rows suit a text or a binary
 * struct tp_copybuf (the integers are the columns' integer). */
#ifndef TP_DOSSIER_PG_H
#define TP_DOSSIER_PG_H

#include <libpq-fe.h>

#include "dossier.h"
#include "pgutil.h"

#define TP_DOSSIER_PG_NCOLS 22

/* The column list above, comma-separated, for COPY and INSERT. */
extern const char tp_dossier_pg_cols[];

/* Appends the 22 fields of d to the current COPY row (no end of row). */
void tp_dossier_pg_copy(struct tp_copybuf *cb, const struct tp_dossier *d);

/* Fills d (overwritten; strings are heap copies) from columns 0..21 of
 * row, timestamps selected as epoch milliseconds. */
void tp_dossier_pg_read(struct tp_dossier *d, const PGresult *res, int row);

#endif
