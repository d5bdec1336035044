/* encode.c - vn.tthc.FilingEvent as Confluent-framed Avro, written with
 * avro-c generic values from the schema file. Independent of common/'s
 * decoder on purpose: tthc-sim is a second, separate implementation of the
 * wire contract. Not thread-safe (avro-c keeps a global error buffer). */
#include "sim.h"
#include "util.h"

#include <avro.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TP_SIM_SCHEMA_MAX (1 << 20)
#define TP_SIM_MSG_MAX 8192

enum {
        TP_F_EVENT_ID,
        TP_F_EVENT_TYPE,
        TP_F_OCCURRED_AT,
        TP_F_DOSSIER_ID,
        TP_F_SEQ,
        TP_F_PROVINCE,
        TP_F_COMMUNE,
        TP_F_PROCEDURE,
        TP_F_PROCEDURE_LEVEL,
        TP_F_CHANNEL,
        TP_F_AGENCY,
        TP_F_HANDLING_LEVEL,
        TP_F_TO_LEVEL,
        TP_F_TO_AGENCY,
        TP_F_DUE_AT,
        TP_F_SOURCE,
        TP_F_HANDLING_COMMUNE,
        TP_F_COUNT
};

static const char *const tp_sim_field_names[TP_F_COUNT] = {
        "event_id",
        "event_type",
        "occurred_at",
        "dossier_id",
        "seq",
        "province_code",
        "commune_code",
        "procedure_code",
        "procedure_level",
        "channel",
        "agency_code",
        "handling_level",
        "to_level",
        "to_agency_code",
        "due_at",
        "source_system",
        "handling_commune_code"};

struct tp_sim_enc {
        avro_schema_t schema;
        avro_value_iface_t *iface;
        avro_value_t value;
        avro_writer_t writer;
        size_t idx[TP_F_COUNT];
        int32_t schema_id;
        unsigned char buf[TP_SIM_MSG_MAX];
};

static void tp_sim_eerr(char *errstr, size_t errstr_size, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void tp_sim_eerr(char *errstr, size_t errstr_size, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errstr, errstr_size, fmt, ap);
        va_end(ap);
}

/* Finds every field by name, so the schema file decides the order. */
static int tp_sim_enc_index(struct tp_sim_enc *enc, char *errstr,
                            size_t errstr_size)
{
        for (int i = 0; i < TP_F_COUNT; i++) {
                avro_value_t f;
                if (avro_value_get_by_name(&enc->value, tp_sim_field_names[i],
                                           &f, &enc->idx[i]) != 0) {
                        tp_sim_eerr(errstr, errstr_size,
                                    "schema has no field '%s'",
                                    tp_sim_field_names[i]);
                        return -1;
                }
        }
        return 0;
}

struct tp_sim_enc *tp_sim_enc_new(const char *schema_path, int32_t schema_id,
                                  char *errstr, size_t errstr_size)
{
        struct tp_sim_enc *enc = tp_xcalloc(1, sizeof(*enc));
        char err[512];
        size_t len;
        char *json = tp_read_file(schema_path, TP_SIM_SCHEMA_MAX, &len, err,
                                  sizeof(err));

        enc->schema_id = schema_id;
        if (!json) {
                tp_sim_eerr(errstr, errstr_size, "%s", err);
                goto fail;
        }
        if (avro_schema_from_json_length(json, len, &enc->schema) != 0) {
                tp_sim_eerr(errstr, errstr_size, "could not parse %s: %s",
                            schema_path, avro_strerror());
                goto fail;
        }
        enc->iface = avro_generic_class_from_schema(enc->schema);
        if (!enc->iface ||
            avro_generic_value_new(enc->iface, &enc->value) != 0) {
                tp_sim_eerr(errstr, errstr_size,
                            "could not build a value for %s: %s", schema_path,
                            avro_strerror());
                goto fail;
        }
        enc->writer = avro_writer_memory((const char *)enc->buf + 5,
                                         (int64_t)sizeof(enc->buf) - 5);
        if (tp_sim_enc_index(enc, errstr, errstr_size) != 0)
                goto fail;
        free(json);
        return enc;
fail:
        free(json);
        tp_sim_enc_destroy(enc);
        return NULL;
}

void tp_sim_enc_destroy(struct tp_sim_enc *enc)
{
        if (!enc)
                return;
        if (enc->writer)
                avro_writer_free(enc->writer);
        if (enc->iface) {
                if (enc->value.self)
                        avro_value_decref(&enc->value);
                avro_value_iface_decref(enc->iface);
        }
        if (enc->schema)
                avro_schema_decref(enc->schema);
        free(enc);
}

static avro_value_t tp_sim_field(struct tp_sim_enc *enc, int f)
{
        /* avro-c's call macro leaves v unset for an iface without the
         * method (clang's -Wsometimes-uninitialized) */
        avro_value_t v = {NULL, NULL};
        avro_value_get_by_index(&enc->value, enc->idx[f], &v, NULL);
        return v;
}

static int tp_sim_set_str(struct tp_sim_enc *enc, int f, const char *s)
{
        avro_value_t v = tp_sim_field(enc, f);
        return avro_value_set_string(&v, s);
}

static int tp_sim_set_enum(struct tp_sim_enc *enc, int f, int sym)
{
        avro_value_t v = tp_sim_field(enc, f);
        return avro_value_set_enum(&v, sym);
}

/* Union {null, string}: s == NULL selects null. */
static int tp_sim_set_opt_str(struct tp_sim_enc *enc, int f, const char *s)
{
        avro_value_t v = tp_sim_field(enc, f), b;
        if (avro_value_set_branch(&v, s ? 1 : 0, &b) != 0)
                return -1;
        return s ? avro_value_set_string(&b, s) : avro_value_set_null(&b);
}

/* Union {null, Level}: level < 0 selects null. */
static int tp_sim_set_opt_enum(struct tp_sim_enc *enc, int f, int level)
{
        avro_value_t v = tp_sim_field(enc, f), b;
        if (avro_value_set_branch(&v, level >= 0 ? 1 : 0, &b) != 0)
                return -1;
        return level >= 0 ? avro_value_set_enum(&b, level)
                          : avro_value_set_null(&b);
}

static int tp_sim_set_opt_long(struct tp_sim_enc *enc, int f, int64_t x)
{
        avro_value_t v = tp_sim_field(enc, f), b;
        int some = x != TP_SIM_NO_DUE;
        if (avro_value_set_branch(&v, some ? 1 : 0, &b) != 0)
                return -1;
        return some ? avro_value_set_long(&b, x) : avro_value_set_null(&b);
}

static void tp_sim_agency(const struct tp_sim_ref *ref, int level, int idx,
                          int centre, char *buf, size_t size)
{
        if (level == TP_SIM_COMMUNE)
                tp_sim_agency_commune(ref, idx, buf, size);
        else if (level == TP_SIM_CENTRAL)
                tp_sim_agency_ministry(ref, idx, buf, size);
        else if (centre)
                tp_sim_agency_centre(ref, idx, buf, size);
        else
                tp_sim_agency_dept(ref, idx / ref->n_depts, idx % ref->n_depts,
                                   buf, size);
}

/* The event id: a UUIDv4-shaped value derived from the seed, the dossier
 * and seq, so a re-run with the same seed sends the same ids. */
static void tp_sim_event_id(const struct tp_sim_dossier *d, int seq,
                            uint64_t seed, char out[37])
{
        uint64_t x =
                d->id_hash ^ ((uint64_t)seq * 0x9e3779b97f4a7c15ULL) ^ seed;
        uint64_t a = tp_sim_splitmix(&x);
        uint64_t b = tp_sim_splitmix(&x);
        tp_sim_uuid(a, b, out);
}

static int tp_sim_enc_fill(struct tp_sim_enc *enc, const struct tp_sim_ref *ref,
                           const struct tp_sim_dossier *d, int seq,
                           const struct tp_sim_event *e, uint64_t seed)
{
        const struct tp_sim_procedure *p = &ref->procedures[d->procedure];
        char id[37], agency[48], to_agency[48], source[32];
        avro_value_t v;
        int rc = 0;

        tp_sim_event_id(d, seq, seed, id);
        tp_sim_agency(ref, e->level, e->agency_idx, e->is_centre, agency,
                      sizeof(agency));
        if (e->to_level >= 0)
                tp_sim_agency(ref, e->to_level, e->to_agency_idx, e->to_centre,
                              to_agency, sizeof(to_agency));
        snprintf(source, sizeof(source), "tthc-sim/HTTTHC-%s",
                 ref->provinces[d->province].code);
        rc |= tp_sim_set_str(enc, TP_F_EVENT_ID, id);
        rc |= tp_sim_set_enum(enc, TP_F_EVENT_TYPE, e->type);
        v = tp_sim_field(enc, TP_F_OCCURRED_AT);
        rc |= avro_value_set_long(&v, e->t);
        rc |= tp_sim_set_str(enc, TP_F_DOSSIER_ID, d->id);
        v = tp_sim_field(enc, TP_F_SEQ);
        rc |= avro_value_set_int(&v, seq);
        rc |= tp_sim_set_str(enc, TP_F_PROVINCE,
                             ref->provinces[d->province].code);
        rc |= tp_sim_set_opt_str(
                enc, TP_F_COMMUNE,
                d->commune >= 0 ? ref->communes[d->commune].code : NULL);
        rc |= tp_sim_set_str(enc, TP_F_PROCEDURE, p->code);
        rc |= tp_sim_set_enum(enc, TP_F_PROCEDURE_LEVEL, p->level);
        rc |= tp_sim_set_enum(enc, TP_F_CHANNEL, d->channel);
        rc |= tp_sim_set_str(enc, TP_F_AGENCY, agency);
        rc |= tp_sim_set_enum(enc, TP_F_HANDLING_LEVEL, e->level);
        rc |= tp_sim_set_opt_enum(enc, TP_F_TO_LEVEL, e->to_level);
        rc |= tp_sim_set_opt_str(enc, TP_F_TO_AGENCY,
                                 e->to_level >= 0 ? to_agency : NULL);
        rc |= tp_sim_set_opt_long(enc, TP_F_DUE_AT, e->due);
        rc |= tp_sim_set_str(enc, TP_F_SOURCE, source);
        rc |= tp_sim_set_opt_str(
                enc, TP_F_HANDLING_COMMUNE,
                e->handling_commune >= 0
                        ? ref->communes[e->handling_commune].code
                        : NULL);
        return rc;
}

int tp_sim_enc_event(struct tp_sim_enc *enc, const struct tp_sim_ref *ref,
                     const struct tp_sim_dossier *d, int seq,
                     const struct tp_sim_event *e, uint64_t seed,
                     const unsigned char **out, size_t *out_len, char *errstr,
                     size_t errstr_size)
{
        int64_t used;

        if (tp_sim_enc_fill(enc, ref, d, seq, e, seed) != 0) {
                tp_sim_eerr(errstr, errstr_size,
                            "could not set the fields of %s seq %d: %s", d->id,
                            seq, avro_strerror());
                return -1;
        }
        avro_writer_reset(enc->writer);
        if (avro_value_write(enc->writer, &enc->value) != 0) {
                tp_sim_eerr(errstr, errstr_size,
                            "could not encode %s seq %d: %s", d->id, seq,
                            avro_strerror());
                return -1;
        }
        used = avro_writer_tell(enc->writer);
        enc->buf[0] = 0;
        enc->buf[1] = (unsigned char)((uint32_t)enc->schema_id >> 24);
        enc->buf[2] = (unsigned char)((uint32_t)enc->schema_id >> 16);
        enc->buf[3] = (unsigned char)((uint32_t)enc->schema_id >> 8);
        enc->buf[4] = (unsigned char)enc->schema_id;
        *out = enc->buf;
        *out_len = (size_t)used + 5;
        return 0;
}
