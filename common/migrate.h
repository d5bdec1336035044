/* migrate.h - applies the numbered SQL migrations (NNN_name.sql) and loads
 * the reference data CSVs. Safe when several processes start at once: the
 * work runs under a PostgreSQL advisory lock and each migration is applied
 * once, in its own transaction, recorded in tthc.schema_migrations. */
#ifndef TP_MIGRATE_H
#define TP_MIGRATE_H

#include <libpq-fe.h>
#include <stddef.h>

/* Applies pending migrations from dir. *applied gets how many ran. */
int tp_migrate_apply(PGconn *conn, const char *dir, int *applied, char *errstr,
                     size_t errstr_size);

/* Upserts reference_dir/{provinces,communes,holidays}.csv (and
 * procedures.csv when present) into tthc.*. Existing rows are updated,
 * none are deleted (events may still point at them). */
int tp_migrate_reference(PGconn *conn, const char *reference_dir, char *errstr,
                         size_t errstr_size);

#endif
