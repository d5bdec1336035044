/* catalogue.c - reference data (provinces, communes, procedures), the
 * holiday calendar, office-time arithmetic and the random number
 * generator of tthc-sim. See sim.h. */
#include "sim.h"
#include "util.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TP_SIM_CSV_FIELDS 16
#define TP_SIM_LINE_MAX 4096

const char *const tp_sim_level_names[3] = {"COMMUNE", "PROVINCE", "CENTRAL"};
const char *const tp_sim_evtype_names[TP_SIM_EVTYPE_COUNT] = {
        "SUBMITTED",
        "RECEIVED",
        "INTAKE_REFUSED",
        "TRANSFERRED",
        "SUPPLEMENT_REQUESTED",
        "SUPPLEMENT_RECEIVED",
        "SUSPENDED",
        "RESUMED",
        "RESOLVED",
        "RESULT_RETURNED",
        "STOPPED",
        "WITHDRAWN"};

/* Office sessions in minutes after local midnight. */
static const int tp_sim_sessions[2][2] = {{450, 690}, {810, 1020}};
#define TP_SIM_OFFICE_MINUTES 450.0

static void tp_sim_err(char *errstr, size_t errstr_size, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void tp_sim_err(char *errstr, size_t errstr_size, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errstr, errstr_size, fmt, ap);
        va_end(ap);
}

/* ---- random numbers ---- */

uint64_t tp_sim_splitmix(uint64_t *x)
{
        uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
}

void tp_sim_rng_seed(struct tp_sim_rng *r, uint64_t seed)
{
        for (int i = 0; i < 4; i++)
                r->s[i] = tp_sim_splitmix(&seed);
}

static uint64_t tp_sim_rotl(uint64_t x, int k)
{
        return (x << k) | (x >> (64 - k));
}

uint64_t tp_sim_rng_next(struct tp_sim_rng *r)
{
        uint64_t *s = r->s;
        uint64_t result = tp_sim_rotl(s[1] * 5, 7) * 9;
        uint64_t t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = tp_sim_rotl(s[3], 45);
        return result;
}

double tp_sim_rng_unit(struct tp_sim_rng *r)
{
        return (double)(tp_sim_rng_next(r) >> 11) * 0x1.0p-53;
}

double tp_sim_rng_range(struct tp_sim_rng *r, double lo, double hi)
{
        return lo + (hi - lo) * tp_sim_rng_unit(r);
}

int tp_sim_rng_poisson(struct tp_sim_rng *r, double lambda)
{
        if (lambda <= 0)
                return 0;
        if (lambda > 40) {
                /* Normal approximation (Box-Muller) for large means. */
                double u1 = tp_sim_rng_unit(r) + 1e-12;
                double u2 = tp_sim_rng_unit(r);
                double z = sqrt(-2 * log(u1)) *
                           cos(2 * 3.14159265358979323846 * u2);
                double v = floor(lambda + z * sqrt(lambda) + 0.5);
                return v < 0 ? 0 : (int)v;
        }
        double limit = exp(-lambda), p = 1.0;
        int k = 0;
        for (;;) {
                p *= tp_sim_rng_unit(r);
                if (p <= limit)
                        return k;
                k++;
        }
}

void tp_sim_uuid(uint64_t a, uint64_t b, char out[37])
{
        unsigned char u[16];
        static const char hex[] = "0123456789abcdef";
        int j = 0;

        for (int i = 0; i < 8; i++) {
                u[i] = (unsigned char)(a >> (56 - 8 * i));
                u[8 + i] = (unsigned char)(b >> (56 - 8 * i));
        }
        u[6] = (unsigned char)((u[6] & 0x0f) | 0x40);
        u[8] = (unsigned char)((u[8] & 0x3f) | 0x80);
        for (int i = 0; i < 16; i++) {
                if (i == 4 || i == 6 || i == 8 || i == 10)
                        out[j++] = '-';
                out[j++] = hex[u[i] >> 4];
                out[j++] = hex[u[i] & 15];
        }
        out[j] = '\0';
}

/* ---- CSV ---- */

/* Splits one CSV line in place (RFC 4180 quotes, no embedded newlines).
 * Returns the field count. */
static int tp_sim_csv_split(char *line, char **fields, int max)
{
        int n = 0;
        char *p = line, *w;

        line[strcspn(line, "\r\n")] = '\0';
        while (n < max) {
                fields[n++] = w = p;
                if (*p == '"') {
                        p++;
                        for (;;) {
                                if (*p == '"' && p[1] == '"') {
                                        *w++ = '"';
                                        p += 2;
                                } else if (*p == '"' || *p == '\0') {
                                        if (*p)
                                                p++;
                                        break;
                                } else {
                                        *w++ = *p++;
                                }
                        }
                        while (*p && *p != ',')
                                p++;
                } else {
                        while (*p && *p != ',')
                                *w++ = *p++;
                }
                if (*p != ',') {
                        *w = '\0';
                        break;
                }
                p++;
                *w = '\0';
        }
        return n;
}

typedef int (*tp_sim_row_fn)(struct tp_sim_ref *ref, char **f, int n,
                             char *errstr, size_t errstr_size);

/* Calls fn for every data row of dir/name (the header is skipped). */
static int tp_sim_csv_load(struct tp_sim_ref *ref, const char *dir,
                           const char *name, tp_sim_row_fn fn, char *errstr,
                           size_t errstr_size)
{
        char path[4096], line[TP_SIM_LINE_MAX], err[512];
        char *f[TP_SIM_CSV_FIELDS];
        FILE *fp;
        int lineno = 0, n;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        fp = fopen(path, "r");
        if (!fp) {
                tp_sim_err(errstr, errstr_size, "could not open %s: %s", path,
                           strerror(errno));
                return -1;
        }
        while (fgets(line, sizeof(line), fp)) {
                if (lineno++ == 0 || line[0] == '\n' || line[0] == '\r')
                        continue;
                n = tp_sim_csv_split(line, f, TP_SIM_CSV_FIELDS);
                if (fn(ref, f, n, err, sizeof(err)) != 0) {
                        tp_sim_err(errstr, errstr_size, "%s:%d: %s", path,
                                   lineno, err);
                        fclose(fp);
                        return -1;
                }
        }
        fclose(fp);
        return 0;
}

static int tp_sim_row_province(struct tp_sim_ref *ref, char **f, int n,
                               char *errstr, size_t errstr_size)
{
        struct tp_sim_province *p;

        if (n < 1 || strlen(f[0]) != 2) {
                tp_sim_err(errstr, errstr_size, "bad province code");
                return -1;
        }
        ref->provinces =
                tp_xrealloc(ref->provinces, (size_t)(ref->n_provinces + 1) *
                                                    sizeof(*ref->provinces));
        p = &ref->provinces[ref->n_provinces++];
        memset(p, 0, sizeof(*p));
        tp_strlcpy(p->code, f[0], sizeof(p->code));
        p->first_commune = -1;
        return 0;
}

static double tp_sim_kind_weight(const char *kind)
{
        if (strcmp(kind, "ward") == 0)
                return 2.5;
        if (strcmp(kind, "special_zone") == 0)
                return 0.6;
        return 1.0;
}

static int tp_sim_row_commune(struct tp_sim_ref *ref, char **f, int n,
                              char *errstr, size_t errstr_size)
{
        struct tp_sim_commune *c;
        struct tp_sim_province *p;
        int prov;
        uint64_t h;

        if (n < 7 || strlen(f[0]) != 5) {
                tp_sim_err(errstr, errstr_size, "bad commune row");
                return -1;
        }
        prov = tp_sim_ref_find_province(ref, f[1]);
        if (prov < 0) {
                tp_sim_err(errstr, errstr_size, "unknown province %s", f[1]);
                return -1;
        }
        p = &ref->provinces[prov];
        ref->communes =
                tp_xrealloc(ref->communes, (size_t)(ref->n_communes + 1) *
                                                   sizeof(*ref->communes));
        c = &ref->communes[ref->n_communes];
        memset(c, 0, sizeof(*c));
        tp_strlcpy(c->code, f[0], sizeof(c->code));
        c->province = prov;
        /* A stable size jitter from the code: 0.5x .. 1.9x. */
        h = tp_hash64(c->code, strlen(c->code), 0x7468);
        c->weight = tp_sim_kind_weight(f[6]) *
                    (0.5 + 1.4 * (double)(h % 1000) / 1000.0);
        c->order = ref->n_communes;
        p->weight += c->weight;
        ref->n_communes++;
        return 0;
}

static int tp_sim_commune_cmp(const void *a, const void *b)
{
        const struct tp_sim_commune *x = a, *y = b;
        if (x->province != y->province)
                return x->province < y->province ? -1 : 1;
        return x->order < y->order ? -1 : x->order > y->order;
}

/* Orders communes by province (file order within one) and indexes them. */
static void tp_sim_ref_index_communes(struct tp_sim_ref *ref)
{
        qsort(ref->communes, (size_t)ref->n_communes, sizeof(*ref->communes),
              tp_sim_commune_cmp);
        for (int i = 0; i < ref->n_communes; i++) {
                struct tp_sim_province *p =
                        &ref->provinces[ref->communes[i].province];
                if (p->first_commune < 0)
                        p->first_commune = i;
                p->n_communes++;
        }
}

static int tp_sim_row_holiday(struct tp_sim_ref *ref, char **f, int n,
                              char *errstr, size_t errstr_size)
{
        int64_t day;
        int64_t idx;

        if (n < 2 || tp_parse_date(f[0], &day) != 0) {
                tp_sim_err(errstr, errstr_size, "bad holiday date");
                return -1;
        }
        idx = day - ref->cal_first_day;
        if (idx < 0 || idx >= ref->cal_n)
                return 0;
        if (strcmp(f[1], "day_off") == 0)
                ref->cal_kind[idx] = TP_SIM_DAY_OFF;
        else if (strcmp(f[1], "worked_saturday") == 0)
                ref->cal_kind[idx] = TP_SIM_DAY_WORKED;
        else {
                tp_sim_err(errstr, errstr_size, "unknown day kind '%s'", f[1]);
                return -1;
        }
        return 0;
}

/* Index of code in a small code table, added when missing. */
static int tp_sim_intern(char (**tab)[16], int *n, const char *code)
{
        for (int i = 0; i < *n; i++)
                if (strcmp((*tab)[i], code) == 0)
                        return i;
        *tab = tp_xrealloc(*tab, (size_t)(*n + 1) * sizeof(**tab));
        tp_strlcpy((*tab)[*n], code, sizeof((*tab)[*n]));
        return (*n)++;
}

static int tp_sim_parse_level(const char *s)
{
        for (int i = 0; i < 3; i++)
                if (strcmp(s, tp_sim_level_names[i]) == 0)
                        return i;
        return -1;
}

static int tp_sim_row_procedure(struct tp_sim_ref *ref, char **f, int n,
                                char *errstr, size_t errstr_size)
{
        struct tp_sim_procedure *p;
        int level;

        /* code,name,level,deadline_days,sector,agency,weight */
        if (n < 7 || strlen(f[0]) == 0 || strlen(f[0]) >= 16) {
                tp_sim_err(errstr, errstr_size, "bad procedure row");
                return -1;
        }
        level = tp_sim_parse_level(f[2]);
        if (level < 0 || atoi(f[3]) < 0 || atof(f[6]) <= 0) {
                tp_sim_err(errstr, errstr_size,
                           "bad level, deadline or "
                           "weight");
                return -1;
        }
        ref->procedures =
                tp_xrealloc(ref->procedures, (size_t)(ref->n_procedures + 1) *
                                                     sizeof(*ref->procedures));
        p = &ref->procedures[ref->n_procedures++];
        memset(p, 0, sizeof(*p));
        tp_strlcpy(p->code, f[0], sizeof(p->code));
        p->level = (enum tp_sim_level)level;
        p->deadline_days = atoi(f[3]);
        p->weight = atof(f[6]);
        if (level == TP_SIM_PROVINCE)
                p->dept = tp_sim_intern(&ref->depts, &ref->n_depts, f[5]);
        else if (level == TP_SIM_CENTRAL)
                p->dept = tp_sim_intern(&ref->ministries, &ref->n_ministries,
                                        f[5]);
        return 0;
}

static void tp_sim_ref_cumulate(struct tp_sim_ref *ref)
{
        double all = 0, upper = 0;
        int n = ref->n_procedures;

        ref->proc_cum = tp_xcalloc((size_t)n, sizeof(double));
        ref->proc_cum_upper = tp_xcalloc((size_t)n, sizeof(double));
        for (int i = 0; i < n; i++) {
                all += ref->procedures[i].weight;
                if (ref->procedures[i].level != TP_SIM_COMMUNE)
                        upper += ref->procedures[i].weight;
                ref->proc_cum[i] = all;
                ref->proc_cum_upper[i] = upper;
        }
}

int tp_sim_ref_load(struct tp_sim_ref *ref, const char *dir, char *errstr,
                    size_t errstr_size)
{
        memset(ref, 0, sizeof(*ref));
        /* The calendar covers 2024-2027; later years are unannounced and
         * get weekends only. */
        ref->cal_first_day = tp_days_from_civil(2024, 1, 1);
        ref->cal_n = (int)(tp_days_from_civil(2028, 1, 1) - ref->cal_first_day);
        ref->cal_kind = tp_xcalloc((size_t)ref->cal_n, 1);
        if (tp_sim_csv_load(ref, dir, "provinces.csv", tp_sim_row_province,
                            errstr, errstr_size) != 0 ||
            tp_sim_csv_load(ref, dir, "communes.csv", tp_sim_row_commune,
                            errstr, errstr_size) != 0 ||
            tp_sim_csv_load(ref, dir, "holidays.csv", tp_sim_row_holiday,
                            errstr, errstr_size) != 0 ||
            tp_sim_csv_load(ref, dir, "procedures.csv", tp_sim_row_procedure,
                            errstr, errstr_size) != 0)
                goto fail;
        if (ref->n_provinces == 0 || ref->n_communes == 0 ||
            ref->n_procedures == 0 || ref->n_depts == 0 ||
            ref->n_ministries == 0) {
                tp_sim_err(errstr, errstr_size,
                           "reference data in %s is incomplete (%d provinces, "
                           "%d communes, %d procedures)",
                           dir, ref->n_provinces, ref->n_communes,
                           ref->n_procedures);
                goto fail;
        }
        tp_sim_ref_index_communes(ref);
        tp_sim_ref_cumulate(ref);
        return 0;
fail:
        tp_sim_ref_release(ref);
        return -1;
}

void tp_sim_ref_release(struct tp_sim_ref *ref)
{
        free(ref->provinces);
        free(ref->communes);
        free(ref->procedures);
        free(ref->depts);
        free(ref->ministries);
        free(ref->cal_kind);
        free(ref->proc_cum);
        free(ref->proc_cum_upper);
        memset(ref, 0, sizeof(*ref));
}

int tp_sim_ref_find_province(const struct tp_sim_ref *ref, const char *code)
{
        for (int i = 0; i < ref->n_provinces; i++)
                if (strcmp(ref->provinces[i].code, code) == 0)
                        return i;
        return -1;
}

int tp_sim_ref_find_commune(const struct tp_sim_ref *ref, const char *code)
{
        for (int i = 0; i < ref->n_communes; i++)
                if (strcmp(ref->communes[i].code, code) == 0)
                        return i;
        return -1;
}

int tp_sim_ref_pick_procedure(const struct tp_sim_ref *ref, double u,
                              int upper_only)
{
        const double *cum = upper_only ? ref->proc_cum_upper : ref->proc_cum;
        int lo = 0, hi = ref->n_procedures - 1;
        double target = u * cum[hi];

        while (lo < hi) {
                int mid = (lo + hi) / 2;
                if (cum[mid] > target)
                        hi = mid;
                else
                        lo = mid + 1;
        }
        return lo;
}

/* ---- agencies ---- */

void tp_sim_agency_commune(const struct tp_sim_ref *ref, int commune, char *buf,
                           size_t size)
{
        snprintf(buf, size, "UBND-%s", ref->communes[commune].code);
}

void tp_sim_agency_centre(const struct tp_sim_ref *ref, int province, char *buf,
                          size_t size)
{
        snprintf(buf, size, "TTPVHCC-%s", ref->provinces[province].code);
}

void tp_sim_agency_dept(const struct tp_sim_ref *ref, int province, int dept,
                        char *buf, size_t size)
{
        snprintf(buf, size, "SO-%s-%s", ref->depts[dept],
                 ref->provinces[province].code);
}

void tp_sim_agency_ministry(const struct tp_sim_ref *ref, int ministry,
                            char *buf, size_t size)
{
        snprintf(buf, size, "BO-%s", ref->ministries[ministry]);
}

/* ---- calendar ---- */

int64_t tp_sim_day_start(int64_t day)
{
        return day * TP_DAY_MS - TP_VN_OFFSET_MS;
}

int tp_sim_cal_is_working(const struct tp_sim_ref *ref, int64_t day)
{
        int64_t idx = day - ref->cal_first_day;
        int wd = (int)(((day % 7) + 7 + 4) % 7); /* 0 = Sunday */

        if (idx >= 0 && idx < ref->cal_n) {
                if (ref->cal_kind[idx] == TP_SIM_DAY_OFF)
                        return 0;
                if (ref->cal_kind[idx] == TP_SIM_DAY_WORKED)
                        return 1;
        }
        return wd != 0 && wd != 6;
}

int64_t tp_sim_cal_add_working(const struct tp_sim_ref *ref, int64_t day, int n)
{
        if (n == 0) {
                while (!tp_sim_cal_is_working(ref, day))
                        day++;
                return day;
        }
        while (n > 0) {
                day++;
                if (tp_sim_cal_is_working(ref, day))
                        n--;
        }
        return day;
}

int64_t tp_sim_cal_office_time(int64_t day, double frac)
{
        double m = frac * TP_SIM_OFFICE_MINUTES;
        double first = tp_sim_sessions[0][1] - tp_sim_sessions[0][0];
        double minute = m < first ? tp_sim_sessions[0][0] + m
                                  : tp_sim_sessions[1][0] + (m - first);
        return tp_sim_day_start(day) + (int64_t)(minute * 60000.0);
}

int64_t tp_sim_cal_advance(const struct tp_sim_ref *ref, int64_t t,
                           double minutes)
{
        int64_t day = tp_vn_day(t);
        double left = minutes * 60000.0;

        for (int guard = 0; guard < 100000; guard++, day++) {
                int64_t start = tp_sim_day_start(day);
                if (!tp_sim_cal_is_working(ref, day))
                        continue;
                for (int s = 0; s < 2; s++) {
                        int64_t open = start + tp_sim_sessions[s][0] * 60000LL;
                        int64_t close = start + tp_sim_sessions[s][1] * 60000LL;
                        int64_t from = t > open ? t : open;
                        if (from >= close)
                                continue;
                        if ((double)(close - from) >= left)
                                return from + (int64_t)left;
                        left -= (double)(close - from);
                        t = close;
                }
        }
        return t;
}

int64_t tp_sim_cal_due(const struct tp_sim_ref *ref, int64_t received,
                       int deadline_days)
{
        int64_t day = tp_vn_day(received);
        int64_t tod = received - tp_sim_day_start(day);

        if (deadline_days == 0)
                return tp_sim_day_start(day) + 17 * TP_HOUR_MS;
        day = tp_sim_cal_add_working(ref, day, deadline_days);
        return tp_sim_day_start(day) + tod;
}
