/* refdata.h - the official lists of provinces and communes (reference/),
 * for validation. Loaded from the shipped CSVs or from tthc.provinces and
 * tthc.communes, so updates arrive as data. */
#ifndef TP_REFDATA_H
#define TP_REFDATA_H

#include <libpq-fe.h>
#include <stddef.h>

struct tp_refdata;

struct tp_refdata *tp_refdata_new(void);
void tp_refdata_destroy(struct tp_refdata *rd);

/* Adds a code (copied). Call tp_refdata_seal() before lookups. */
void tp_refdata_add_province(struct tp_refdata *rd, const char *code);
void tp_refdata_add_commune(struct tp_refdata *rd, const char *code,
                            const char *province_code);
void tp_refdata_seal(struct tp_refdata *rd);

/* Loads DIR/provinces.csv and DIR/communes.csv (header line first, code in
 * column 1, province_code in column 2 of communes). Seals. */
int tp_refdata_load_csv(struct tp_refdata *rd, const char *dir, char *errstr,
                        size_t errstr_size);

/* Builds reference data from tthc.provinces and tthc.communes (sealed).
 * Returns NULL and fills errstr on failure; the caller destroys it. */
struct tp_refdata *tp_refdata_load_pg(PGconn *conn, char *errstr,
                                      size_t errstr_size);

int tp_refdata_has_province(const struct tp_refdata *rd, const char *code);
/* Province of a commune, or NULL when the commune is unknown. */
const char *tp_refdata_commune_province(const struct tp_refdata *rd,
                                        const char *code);
size_t tp_refdata_commune_count(const struct tp_refdata *rd);

#endif
