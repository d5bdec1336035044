/* refdata.c - see refdata.h. Sorted arrays with binary search. */
#include "refdata.h"
#include "pgutil.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tp_ref_entry {
        char code[8];
        char province[4];
};

struct tp_ref_list {
        struct tp_ref_entry *v;
        size_t n, cap;
};

struct tp_refdata {
        struct tp_ref_list provinces;
        struct tp_ref_list communes;
};

struct tp_refdata *tp_refdata_new(void)
{
        return tp_xcalloc(1, sizeof(struct tp_refdata));
}

void tp_refdata_destroy(struct tp_refdata *rd)
{
        if (!rd)
                return;
        free(rd->provinces.v);
        free(rd->communes.v);
        free(rd);
}

static void tp_ref_push(struct tp_ref_list *l, const char *code,
                        const char *province)
{
        if (l->n == l->cap) {
                l->cap = l->cap ? l->cap * 2 : 64;
                l->v = tp_xrealloc(l->v, l->cap * sizeof(*l->v));
        }
        memset(&l->v[l->n], 0, sizeof(l->v[0]));
        tp_strlcpy(l->v[l->n].code, code, sizeof(l->v[0].code));
        tp_strlcpy(l->v[l->n].province, province ? province : "",
                   sizeof(l->v[0].province));
        l->n++;
}

void tp_refdata_add_province(struct tp_refdata *rd, const char *code)
{
        tp_ref_push(&rd->provinces, code, code);
}

void tp_refdata_add_commune(struct tp_refdata *rd, const char *code,
                            const char *province_code)
{
        tp_ref_push(&rd->communes, code, province_code);
}

static int tp_ref_cmp(const void *a, const void *b)
{
        return strcmp(((const struct tp_ref_entry *)a)->code,
                      ((const struct tp_ref_entry *)b)->code);
}

void tp_refdata_seal(struct tp_refdata *rd)
{
        qsort(rd->provinces.v, rd->provinces.n, sizeof(struct tp_ref_entry),
              tp_ref_cmp);
        qsort(rd->communes.v, rd->communes.n, sizeof(struct tp_ref_entry),
              tp_ref_cmp);
}

static const struct tp_ref_entry *tp_ref_find(const struct tp_ref_list *l,
                                              const char *code)
{
        struct tp_ref_entry key;
        if (!code || strlen(code) >= sizeof(key.code) || l->n == 0)
                return NULL;
        tp_strlcpy(key.code, code, sizeof(key.code));
        return bsearch(&key, l->v, l->n, sizeof(key), tp_ref_cmp);
}

int tp_refdata_has_province(const struct tp_refdata *rd, const char *code)
{
        return tp_ref_find(&rd->provinces, code) != NULL;
}

const char *tp_refdata_commune_province(const struct tp_refdata *rd,
                                        const char *code)
{
        const struct tp_ref_entry *e = tp_ref_find(&rd->communes, code);
        return e ? e->province : NULL;
}

size_t tp_refdata_commune_count(const struct tp_refdata *rd)
{
        return rd->communes.n;
}

/* Reads the first two comma-separated columns of each data line. */
static int tp_refdata_csv(const char *path, struct tp_refdata *rd, int communes,
                          char *errstr, size_t errstr_size)
{
        FILE *f = fopen(path, "r");
        char line[1024];
        int lineno = 0;

        if (!f) {
                snprintf(errstr, errstr_size, "could not open \"%s\"", path);
                return -1;
        }
        while (fgets(line, sizeof(line), f)) {
                char *c1 = line, *c2;
                if (++lineno == 1)
                        continue;
                c2 = strchr(c1, ',');
                if (!c2) {
                        snprintf(errstr, errstr_size,
                                 "%s:%d: expected comma-separated columns",
                                 path, lineno);
                        fclose(f);
                        return -1;
                }
                *c2++ = '\0';
                c2[strcspn(c2, ",\r\n")] = '\0';
                if (communes)
                        tp_refdata_add_commune(rd, c1, c2);
                else
                        tp_refdata_add_province(rd, c1);
        }
        fclose(f);
        return 0;
}

int tp_refdata_load_csv(struct tp_refdata *rd, const char *dir, char *errstr,
                        size_t errstr_size)
{
        char path[4096];
        snprintf(path, sizeof(path), "%s/provinces.csv", dir);
        if (tp_refdata_csv(path, rd, 0, errstr, errstr_size))
                return -1;
        snprintf(path, sizeof(path), "%s/communes.csv", dir);
        if (tp_refdata_csv(path, rd, 1, errstr, errstr_size))
                return -1;
        tp_refdata_seal(rd);
        return 0;
}

struct tp_refdata *tp_refdata_load_pg(PGconn *conn, char *errstr,
                                      size_t errstr_size)
{
        struct tp_refdata *rd;
        PGresult *res = PQexec(conn, "SELECT code, NULL FROM tthc.provinces "
                                     "UNION ALL SELECT code, province_code "
                                     "FROM tthc.communes");
        if (tp_pg_check(conn, res, PGRES_TUPLES_OK,
                        "could not load reference data", errstr,
                        errstr_size) != 0) {
                PQclear(res);
                return NULL;
        }
        rd = tp_refdata_new();
        for (int r = 0; r < PQntuples(res); r++) {
                if (PQgetisnull(res, r, 1))
                        tp_refdata_add_province(rd, PQgetvalue(res, r, 0));
                else
                        tp_refdata_add_commune(rd, PQgetvalue(res, r, 0),
                                               PQgetvalue(res, r, 1));
        }
        PQclear(res);
        tp_refdata_seal(rd);
        return rd;
}
