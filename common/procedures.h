/* procedures.h - loading a procedure catalogue (CSV) into
 * tthc.procedures: the national TTHC database's export, or the shipped
 * sample (docs/analysts.md, "Procedures and agencies"). */
#ifndef TP_PROCEDURES_H
#define TP_PROCEDURES_H

#include <libpq-fe.h>
#include <stddef.h>

/* What a load did. */
struct tp_procedures_load {
        long loaded;          /* rows of the file written */
        long removed;         /* sample rows a national load replaced */
        long unknown;         /* codes of stored dossiers no catalogue names */
        long level_unread;    /* rows whose level was not understood: null */
        long deadline_unread; /* rows whose deadline was not a number: null */
};

/* Loads the CSV at path (header line first; columns found by name, in any
 * order: code, name, level, deadline_days, sector, agency, or the national
 * export's Vietnamese headers "Mã thủ tục", "Tên thủ tục", "Cấp thực
 * hiện", "Thời hạn giải quyết", "Lĩnh vực", "Cơ quan thực hiện"; other
 * columns are ignored) into tthc.procedures, inside the caller's
 * transaction. source is "national" (replaces the sample: its rows not in
 * the file are removed, and codes stored dossiers carry that no catalogue
 * has come back with a null name) or "sample" (skipped, returning 0 with
 * nothing loaded, once a national catalogue is loaded). Returns 0, or -1
 * with errstr naming the file and the row. */
int tp_procedures_load(PGconn *conn, const char *path, const char *source,
                       struct tp_procedures_load *out, char *errstr,
                       size_t errstr_size);

#endif
