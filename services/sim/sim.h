/* sim.h - tthc-sim internals: reference data and calendar (catalogue.c),
 * dossier lifecycles (lifecycle.c), the expected figures (truth.c) and the
 * Avro encoder (encode.c). main.c merges and produces.
 *
 * Enum values follow the symbol order of schemas/avro/1-filing_event.avsc,
 * so they are also the Avro enum indexes.
 */
#ifndef TP_SIM_H
#define TP_SIM_H

#include <stddef.h>
#include <stdint.h>

enum tp_sim_level { TP_SIM_COMMUNE, TP_SIM_PROVINCE, TP_SIM_CENTRAL };

enum tp_sim_evtype {
        TP_SIM_SUBMITTED,
        TP_SIM_RECEIVED,
        TP_SIM_INTAKE_REFUSED,
        TP_SIM_TRANSFERRED,
        TP_SIM_SUPPLEMENT_REQUESTED,
        TP_SIM_SUPPLEMENT_RECEIVED,
        TP_SIM_SUSPENDED,
        TP_SIM_RESUMED,
        TP_SIM_RESOLVED,
        TP_SIM_RESULT_RETURNED,
        TP_SIM_STOPPED,
        TP_SIM_WITHDRAWN,
        TP_SIM_EVTYPE_COUNT
};

enum tp_sim_channel { TP_SIM_IN_PERSON, TP_SIM_ONLINE, TP_SIM_POSTAL };

#define TP_SIM_NONE UINT32_MAX
#define TP_SIM_NO_DUE INT64_MIN

extern const char *const tp_sim_level_names[3];
extern const char *const tp_sim_evtype_names[TP_SIM_EVTYPE_COUNT];

/* ---- random numbers (xoshiro256**, seeded through splitmix64) ---- */

struct tp_sim_rng {
        uint64_t s[4];
};

uint64_t tp_sim_splitmix(uint64_t *x);
void tp_sim_rng_seed(struct tp_sim_rng *r, uint64_t seed);
uint64_t tp_sim_rng_next(struct tp_sim_rng *r);
/* Uniform in [0, 1). */
double tp_sim_rng_unit(struct tp_sim_rng *r);
/* Uniform in [lo, hi). */
double tp_sim_rng_range(struct tp_sim_rng *r, double lo, double hi);
/* Poisson-distributed count with mean lambda. */
int tp_sim_rng_poisson(struct tp_sim_rng *r, double lambda);
/* Writes a UUIDv4-formatted string (37 bytes with the NUL) from a and b. */
void tp_sim_uuid(uint64_t a, uint64_t b, char out[37]);

/* ---- reference data and calendar (catalogue.c) ---- */

struct tp_sim_province {
        char code[4];
        int first_commune; /* index into communes of its first commune */
        int n_communes;
        double weight; /* sum of its communes' weights */
        int selected;
};

struct tp_sim_commune {
        char code[8];
        int province;
        double weight; /* relative volume: kind and a stable jitter */
        int laggard;
        int silent;
        int order; /* line order in communes.csv */
};

struct tp_sim_procedure {
        char code[16];
        enum tp_sim_level level;
        int deadline_days;
        int dept; /* index into depts (PROVINCE) or ministries (CENTRAL) */
        double weight;
};

/* Day kinds of the holiday calendar. */
enum { TP_SIM_DAY_NORMAL, TP_SIM_DAY_OFF, TP_SIM_DAY_WORKED };

struct tp_sim_ref {
        struct tp_sim_province *provinces;
        int n_provinces;
        struct tp_sim_commune *communes;
        int n_communes;
        struct tp_sim_procedure *procedures;
        int n_procedures;
        char (*depts)[16]; /* provincial department codes (STP, SXD...) */
        int n_depts;
        char (*ministries)[16]; /* central agency codes (BCA, BTP...) */
        int n_ministries;
        /* Holiday calendar: kinds of the days first_day..first_day+n-1. */
        int64_t cal_first_day;
        int cal_n;
        unsigned char *cal_kind;
        /* Cumulative procedure weights: all, and non-commune only. */
        double *proc_cum;
        double *proc_cum_upper;
};

/* Loads provinces.csv, communes.csv, holidays.csv and procedures.csv from
 * dir. Returns 0 or -1 with errstr filled. */
int tp_sim_ref_load(struct tp_sim_ref *ref, const char *dir, char *errstr,
                    size_t errstr_size);
void tp_sim_ref_release(struct tp_sim_ref *ref);
int tp_sim_ref_find_province(const struct tp_sim_ref *ref, const char *code);
int tp_sim_ref_find_commune(const struct tp_sim_ref *ref, const char *code);
/* Picks a procedure by weight; upper_only restricts to PROVINCE/CENTRAL. */
int tp_sim_ref_pick_procedure(const struct tp_sim_ref *ref, double u,
                              int upper_only);

/* Agency codes, written into buf (>= 32 bytes). */
void tp_sim_agency_commune(const struct tp_sim_ref *ref, int commune, char *buf,
                           size_t size);
void tp_sim_agency_centre(const struct tp_sim_ref *ref, int province, char *buf,
                          size_t size);
void tp_sim_agency_dept(const struct tp_sim_ref *ref, int province, int dept,
                        char *buf, size_t size);
void tp_sim_agency_ministry(const struct tp_sim_ref *ref, int ministry,
                            char *buf, size_t size);

/* UTC instant of 00:00 Vietnam time of a day number. */
int64_t tp_sim_day_start(int64_t day);
int tp_sim_cal_is_working(const struct tp_sim_ref *ref, int64_t day);
/* The n-th working day after day (n >= 1), or day itself when n == 0 and
 * it is a working day (else the next working day). */
int64_t tp_sim_cal_add_working(const struct tp_sim_ref *ref, int64_t day,
                               int n);
/* Moves t forward by minutes of office time (Mon-Fri and worked Saturdays,
 * 07:30-11:30 and 13:30-17:00 Vietnam time, holidays skipped). A t outside
 * office hours first moves to the next opening. */
int64_t tp_sim_cal_advance(const struct tp_sim_ref *ref, int64_t t,
                           double minutes);
/* An instant inside the office sessions of day; frac in [0, 1). */
int64_t tp_sim_cal_office_time(int64_t day, double frac);
/* Legal deadline: the same time of day, deadline_days working days after
 * the receipt (17:00 of the receipt day for 0). */
int64_t tp_sim_cal_due(const struct tp_sim_ref *ref, int64_t received,
                       int deadline_days);

/* ---- dossiers and their lifecycle (lifecycle.c) ---- */

struct tp_sim_event {
        int64_t t;
        int64_t due; /* TP_SIM_NO_DUE for null */
        /* Agencies: kind (level) plus index (commune, province, ministry);
         * for departments idx = province * n_depts + dept. */
        int32_t agency_idx;
        int32_t to_agency_idx;
        int32_t handling_commune; /* -1 for null */
        unsigned char type;
        unsigned char level;     /* handling level */
        signed char to_level;    /* -1 for null */
        unsigned char is_centre; /* agency is the provincial centre */
        unsigned char to_centre;
};

/* Truth-keeping state of a dossier, updated from its emitted events. */
struct tp_sim_dstate {
        int status; /* TP_SIM_ST_* */
        int pauses;
        int has_due;
        int64_t eff_due;
        int handling_commune;
};

enum {
        TP_SIM_ST_NONE,
        TP_SIM_ST_SUBMITTED,
        TP_SIM_ST_PROCESSING,
        TP_SIM_ST_CLOSED
};

struct tp_sim_dossier {
        char id[40];
        uint64_t serial; /* creation order: tie-break of the merge */
        uint64_t id_hash;
        int province;
        int commune; /* receiving commune, -1 at the provincial centre */
        int procedure;
        enum tp_sim_channel channel;
        int n_events;
        int next; /* next event to emit */
        struct tp_sim_event *events;
        struct tp_sim_dstate st;
        struct tp_sim_dossier *frozen_next;
};

struct tp_sim_gen_params {
        uint64_t seed;
        int64_t from_day;
        int days;
        double dossiers_per_day; /* national total per working day */
        double total_weight;     /* national sum of desk weights */
};

/* Generates the arrivals of one desk (commune, or the provincial centre
 * when commune < 0) on day; appends new dossiers to *out (grown as needed).
 * Returns the number added. */
int tp_sim_gen_desk_day(const struct tp_sim_ref *ref,
                        const struct tp_sim_gen_params *gp, int province,
                        int commune, int64_t day, uint64_t *serial,
                        struct tp_sim_dossier ***out, size_t *out_n,
                        size_t *out_cap);
void tp_sim_dossier_free(struct tp_sim_dossier *d);
/* Desk weight of a provincial centre. */
double tp_sim_centre_weight(const struct tp_sim_province *p);

/* ---- expected figures (truth.c) ---- */

struct tp_sim_truth;

struct tp_sim_truth *tp_sim_truth_new(const struct tp_sim_ref *ref);
void tp_sim_truth_destroy(struct tp_sim_truth *tr);
/* Applies one emitted (first-time) event of d, then moves d's state. */
void tp_sim_truth_apply(struct tp_sim_truth *tr, struct tp_sim_dossier *d,
                        const struct tp_sim_event *e);
/* Adds an open dossier's end state (call after the stream ended). */
void tp_sim_truth_end_dossier(struct tp_sim_truth *tr,
                              const struct tp_sim_dossier *d);
struct tp_sim_truth_meta {
        uint64_t seed;
        int64_t from_day;
        int days;
        int64_t end_ms;
        uint64_t events_sent; /* including duplicates */
        uint64_t duplicates_sent;
        int complete;
};
int tp_sim_truth_write(struct tp_sim_truth *tr,
                       const struct tp_sim_truth_meta *meta, const char *path,
                       char *errstr, size_t errstr_size);
uint64_t tp_sim_truth_events(const struct tp_sim_truth *tr);

/* ---- Avro encoding (encode.c) ---- */

struct tp_sim_enc;

/* Parses the writer schema file; schema_id goes in the Confluent header. */
struct tp_sim_enc *tp_sim_enc_new(const char *schema_path, int32_t schema_id,
                                  char *errstr, size_t errstr_size);
void tp_sim_enc_destroy(struct tp_sim_enc *enc);
/* Encodes event e of d; *out points into the encoder's buffer, valid until
 * the next call. Returns 0 or -1. */
int tp_sim_enc_event(struct tp_sim_enc *enc, const struct tp_sim_ref *ref,
                     const struct tp_sim_dossier *d, int seq,
                     const struct tp_sim_event *e, uint64_t seed,
                     const unsigned char **out, size_t *out_len, char *errstr,
                     size_t errstr_size);

#endif
