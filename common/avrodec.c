/* avrodec.c - see avrodec.h. */
#include "avrodec.h"
#include "avroschema.h"
#include "utf8.h"
#include "util.h"

#include <avro.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TP_AVRO_MAX_DEPTH TP_AVROSCHEMA_MAX_DEPTH
#define TP_AVRO_MAX_ITEMS 65536
/* Work of one message: one unit per value the generic reader builds (a
 * record and each of its fields, each array item, each union branch...).
 * avro-c's generic values cost some tens of bytes per unit, so this keeps
 * one message's decoding to a few MiB (docs/ingest.md, "Limits"). */
#define TP_AVRO_MAX_WORK (1 << 17)
/* After a message above this much work the reused generic value is built
 * anew, so that its arrays do not keep a hostile message's memory. */
#define TP_AVRO_SHRINK_WORK 4096

enum tp_fkind { FK_STR, FK_EVTYPE, FK_LEVEL, FK_CHANNEL, FK_LONG, FK_INT };

struct tp_field_spec {
        const char *name;
        enum tp_fkind kind;
        int optional; /* reader type is a union with null */
};

/* The reader's fields, in the order of design.md. */
static const struct tp_field_spec tp_fields[] = {
        {"event_id", FK_STR, 0},
        {"event_type", FK_EVTYPE, 0},
        {"occurred_at", FK_LONG, 0},
        {"dossier_id", FK_STR, 0},
        {"seq", FK_INT, 0},
        {"province_code", FK_STR, 0},
        {"commune_code", FK_STR, 1},
        {"procedure_code", FK_STR, 0},
        {"procedure_level", FK_LEVEL, 0},
        {"channel", FK_CHANNEL, 0},
        {"agency_code", FK_STR, 0},
        {"handling_level", FK_LEVEL, 0},
        {"to_level", FK_LEVEL, 1},
        {"to_agency_code", FK_STR, 1},
        {"due_at", FK_LONG, 1},
        {"source_system", FK_STR, 0},
        {"handling_commune_code", FK_STR, 1},
};
#define TP_NFIELDS (sizeof(tp_fields) / sizeof(tp_fields[0]))

enum {
        F_EVENT_ID,
        F_EVENT_TYPE,
        F_OCCURRED_AT,
        F_DOSSIER_ID,
        F_SEQ,
        F_PROVINCE,
        F_COMMUNE,
        F_PROCEDURE,
        F_PROC_LEVEL,
        F_CHANNEL,
        F_AGENCY,
        F_HANDLING_LEVEL,
        F_TO_LEVEL,
        F_TO_AGENCY,
        F_DUE_AT,
        F_SOURCE,
        F_HANDLING_COMMUNE
};

/* A decoded scalar: what one field holds. */
struct tp_scalar {
        int is_null;
        const char *str; /* FK_STR: len bytes, borrowed (see below) */
        size_t len;
        int64_t num; /* FK_LONG, FK_INT, enums (symbol index in ours) */
};

/* A decoded string is borrowed from the message body, from the generic
 * value, or from the reader's default until tp_fill_event copies the
 * event's strings into their one block. */
struct tp_avro_reader {
        int has_default[TP_NFIELDS];
        struct tp_scalar def[TP_NFIELDS];
        char *def_str[TP_NFIELDS]; /* owned: what def[i].str points to */
};

/* The direct decoder's plan: one step per writer record field, in the
 * writer's order, so that the bytes are read once from front to back. */

/* How the direct decoder reads one writer type. TP_V_WALK is every type
 * no reader field can take (it only skips it, with tp_walk). */
enum tp_vread {
        TP_V_NULL,
        TP_V_INT,
        TP_V_LONG,
        TP_V_STRING,
        TP_V_ENUM,
        TP_V_WALK
};

struct tp_branch {
        enum tp_vread how;
        avro_type_t type;     /* as the generic value would report it */
        avro_schema_t schema; /* unlinked; borrowed from dec->schema */
        int64_t nsyms;        /* TP_V_ENUM: the writer's symbol count */
        int *kval; /* TP_V_ENUM of an enum field: our index of each writer
                    * symbol, -1 when it is none of ours */
};

struct tp_step {
        int rfield;           /* reader field, or -1: skipped */
        avro_schema_t schema; /* the writer field's schema */
        int is_union;
        size_t nbranch;
        struct tp_branch *br; /* nbranch entries, 1 unless a union */
};

/* What the direct decoder saw of one mapped field: the branch, and the
 * value (a number or enum index, or a string's bytes inside the body). */
struct tp_seen {
        const struct tp_branch *br;
        const unsigned char *p;
        size_t len;
        int64_t num;
};

struct tp_avrodec {
        const struct tp_avro_reader *rd;
        avro_schema_t schema;
        avro_value_iface_t *iface;
        avro_value_t value;
        avro_reader_t reader;
        int widx[TP_NFIELDS];  /* writer field index or -1 */
        struct tp_step *steps; /* one per writer field; NULL: no plan */
        size_t nsteps;
        int generic; /* decode through the generic value */
};

/* ---- reader schema ---------------------------------------------------- */

static int tp_enum_parse_kind(enum tp_fkind kind, const char *s)
{
        switch (kind) {
        case FK_EVTYPE:
                return tp_event_type_parse(s);
        case FK_LEVEL:
                return tp_level_parse(s);
        case FK_CHANNEL:
                return tp_channel_parse(s);
        default:
                return -1;
        }
}

static int tp_reader_default(struct tp_avro_reader *rd, size_t i, json_t *dflt,
                             char *errstr, size_t errstr_size)
{
        const struct tp_field_spec *f = &tp_fields[i];
        struct tp_scalar *d = &rd->def[i];

        rd->has_default[i] = 1;
        if (json_is_null(dflt)) {
                d->is_null = 1;
                return 0;
        }
        if (f->kind == FK_STR && json_is_string(dflt)) {
                rd->def_str[i] = tp_xstrdup(json_string_value(dflt));
                d->str = rd->def_str[i];
                d->len = strlen(d->str);
                return 0;
        }
        if ((f->kind == FK_LONG || f->kind == FK_INT) &&
            json_is_integer(dflt)) {
                d->num = json_integer_value(dflt);
                return 0;
        }
        if (json_is_string(dflt)) {
                int v = tp_enum_parse_kind(f->kind, json_string_value(dflt));
                if (v >= 0) {
                        d->num = v;
                        return 0;
                }
        }
        snprintf(errstr, errstr_size,
                 "reader schema field \"%s\" has an unusable default", f->name);
        return -1;
}

static int tp_reader_field(struct tp_avro_reader *rd, json_t *fields, size_t i,
                           char *errstr, size_t errstr_size)
{
        size_t k;
        json_t *jf;

        json_array_foreach(fields, k, jf)
        {
                const char *name =
                        json_string_value(json_object_get(jf, "name"));
                json_t *dflt;
                if (!name || strcmp(name, tp_fields[i].name) != 0)
                        continue;
                dflt = json_object_get(jf, "default");
                if (!dflt)
                        return 0;
                return tp_reader_default(rd, i, dflt, errstr, errstr_size);
        }
        snprintf(errstr, errstr_size, "reader schema lacks field \"%s\"",
                 tp_fields[i].name);
        return -1;
}

struct tp_avro_reader *tp_avro_reader_new(const char *json, size_t len,
                                          char *errstr, size_t errstr_size)
{
        struct tp_avro_reader *rd = tp_xcalloc(1, sizeof(*rd));
        json_error_t jerr;
        json_t *root = json_loadb(json, len, 0, &jerr);
        json_t *fields;

        if (!root) {
                snprintf(errstr, errstr_size,
                         "could not parse reader schema: line %d: %s",
                         jerr.line, jerr.text);
                goto fail;
        }
        fields = json_object_get(root, "fields");
        if (!json_is_array(fields)) {
                snprintf(errstr, errstr_size,
                         "could not parse reader schema: no \"fields\" array");
                goto fail;
        }
        for (size_t i = 0; i < TP_NFIELDS; i++)
                if (tp_reader_field(rd, fields, i, errstr, errstr_size) != 0)
                        goto fail;
        json_decref(root);
        return rd;
fail:
        json_decref(root);
        tp_avro_reader_destroy(rd);
        return NULL;
}

void tp_avro_reader_destroy(struct tp_avro_reader *rd)
{
        if (!rd)
                return;
        for (size_t i = 0; i < TP_NFIELDS; i++)
                free(rd->def_str[i]);
        free(rd);
}

/* ---- writer compatibility ---------------------------------------------- */

static avro_schema_t tp_unlink(avro_schema_t s)
{
        while (s && avro_typeof(s) == AVRO_LINK)
                s = avro_schema_link_target(s);
        return s;
}

static int tp_type_fits(enum tp_fkind kind, avro_type_t t)
{
        switch (kind) {
        case FK_STR:
                return t == AVRO_STRING;
        case FK_EVTYPE:
        case FK_LEVEL:
        case FK_CHANNEL:
                return t == AVRO_ENUM || t == AVRO_STRING;
        case FK_LONG:
        case FK_INT:
                return t == AVRO_INT64 || t == AVRO_INT32;
        }
        return 0;
}

/* A writer field fits when it, or some branch of its union, fits the
 * reader's type; other branches decode as errors at run time. */
static int tp_writer_fits(enum tp_fkind kind, avro_schema_t ws)
{
        ws = tp_unlink(ws);
        if (avro_typeof(ws) != AVRO_UNION)
                return tp_type_fits(kind, avro_typeof(ws));
        for (size_t b = 0; b < avro_schema_union_size(ws); b++) {
                avro_schema_t bs = tp_unlink(avro_schema_union_branch(ws, b));
                if (tp_type_fits(kind, avro_typeof(bs)))
                        return 1;
        }
        return 0;
}

static int tp_avrodec_map(struct tp_avrodec *dec, char *errstr,
                          size_t errstr_size)
{
        size_t n = avro_schema_record_size(dec->schema);

        for (size_t i = 0; i < TP_NFIELDS; i++) {
                dec->widx[i] = -1;
                for (size_t w = 0; w < n; w++) {
                        const char *name = avro_schema_record_field_name(
                                dec->schema, (int)w);
                        if (name && strcmp(name, tp_fields[i].name) == 0)
                                dec->widx[i] = (int)w;
                }
                if (dec->widx[i] < 0) {
                        if (dec->rd->has_default[i])
                                continue;
                        snprintf(errstr, errstr_size,
                                 "writer schema lacks field \"%s\", which "
                                 "has no default",
                                 tp_fields[i].name);
                        return -1;
                }
                if (!tp_writer_fits(tp_fields[i].kind,
                                    avro_schema_record_field_get_by_index(
                                            dec->schema, dec->widx[i]))) {
                        snprintf(errstr, errstr_size,
                                 "writer schema field \"%s\" has a type that "
                                 "cannot be read as the reader's",
                                 tp_fields[i].name);
                        return -1;
                }
        }
        return 0;
}

/* ---- the direct decoder's plan ------------------------------------------ */

static void tp_plan_free(struct tp_avrodec *dec)
{
        for (size_t w = 0; dec->steps && w < dec->nsteps; w++) {
                for (size_t b = 0; b < dec->steps[w].nbranch; b++)
                        free(dec->steps[w].br[b].kval);
                free(dec->steps[w].br);
        }
        free(dec->steps);
        dec->steps = NULL;
        dec->nsteps = 0;
}

static int tp_kind_is_enum(enum tp_fkind kind)
{
        return kind == FK_EVTYPE || kind == FK_LEVEL || kind == FK_CHANNEL;
}

/* One type a mapped field can hold (s unlinked). 0, or -1 for a shape
 * the direct decoder leaves to the generic value. */
static int tp_plan_branch(struct tp_branch *br, avro_schema_t s, int rfield)
{
        br->schema = s;
        br->type = avro_typeof(s);
        switch (br->type) {
        case AVRO_NULL:
                br->how = TP_V_NULL;
                return 0;
        case AVRO_INT32:
                br->how = TP_V_INT;
                return 0;
        case AVRO_INT64:
                br->how = TP_V_LONG;
                return 0;
        case AVRO_STRING:
                br->how = TP_V_STRING;
                return 0;
        case AVRO_ENUM:
                br->how = TP_V_ENUM;
                br->nsyms = avro_schema_enum_number_of_symbols(s);
                if (!tp_kind_is_enum(tp_fields[rfield].kind) || br->nsyms <= 0)
                        return 0;
                br->kval = tp_xcalloc((size_t)br->nsyms, sizeof(int));
                for (int64_t k = 0; k < br->nsyms; k++) {
                        const char *sym = avro_schema_enum_get(s, (int)k);
                        br->kval[k] = sym ? tp_enum_parse_kind(
                                                    tp_fields[rfield].kind, sym)
                                          : -1;
                }
                return 0;
        case AVRO_UNION:
                /* A union right inside a union is no valid Avro; what the
                 * generic value makes of it is left to the generic value. */
                return -1;
        default:
                br->how = TP_V_WALK;
                return 0;
        }
}

/* Compiles the plan from dec->widx. Returns -1 (no plan: the decoder uses
 * the generic value) for a shape it does not cover. */
static int tp_plan_build(struct tp_avrodec *dec)
{
        size_t n = avro_schema_record_size(dec->schema);

        dec->steps = tp_xcalloc(n ? n : 1, sizeof(*dec->steps));
        dec->nsteps = n;
        for (size_t w = 0; w < n; w++) {
                struct tp_step *st = &dec->steps[w];
                avro_schema_t fs;

                st->rfield = -1;
                st->schema = avro_schema_record_field_get_by_index(dec->schema,
                                                                   (int)w);
                for (size_t i = 0; i < TP_NFIELDS; i++)
                        if (dec->widx[i] == (int)w)
                                st->rfield = (int)i;
                if (st->rfield < 0)
                        continue;
                fs = tp_unlink(st->schema);
                if (!fs)
                        return -1;
                st->is_union = avro_typeof(fs) == AVRO_UNION;
                st->nbranch = st->is_union ? avro_schema_union_size(fs) : 1;
                if (st->nbranch == 0)
                        return -1;
                st->br = tp_xcalloc(st->nbranch, sizeof(*st->br));
                for (size_t b = 0; b < st->nbranch; b++) {
                        avro_schema_t bs =
                                st->is_union
                                        ? tp_unlink(avro_schema_union_branch(
                                                  fs, (int)b))
                                        : fs;
                        if (!bs ||
                            tp_plan_branch(&st->br[b], bs, st->rfield) != 0)
                                return -1;
                }
        }
        return 0;
}

struct tp_avrodec *tp_avrodec_new(const struct tp_avro_reader *rd,
                                  const char *writer_json, size_t len,
                                  char *errstr, size_t errstr_size)
{
        struct tp_avrodec *dec = tp_xcalloc(1, sizeof(*dec));

        dec->rd = rd;
        if (tp_avroschema_check(writer_json, len, errstr, errstr_size) != 0)
                goto fail;
        if (avro_schema_from_json_length(writer_json, len, &dec->schema)) {
                snprintf(errstr, errstr_size, "invalid writer schema: %s",
                         avro_strerror());
                dec->schema = NULL;
                goto fail;
        }
        if (avro_typeof(dec->schema) != AVRO_RECORD) {
                snprintf(errstr, errstr_size,
                         "writer schema is a %s, not a record",
                         avro_schema_type_name(dec->schema));
                goto fail;
        }
        if (tp_avrodec_map(dec, errstr, errstr_size) != 0)
                goto fail;
        dec->iface = avro_generic_class_from_schema(dec->schema);
        if (!dec->iface ||
            avro_generic_value_new(dec->iface, &dec->value) != 0) {
                snprintf(errstr, errstr_size,
                         "could not build a decoder for the writer schema: %s",
                         avro_strerror());
                goto fail;
        }
        dec->reader = avro_reader_memory(NULL, 0);
        /* A shape the plan does not cover keeps the generic value. */
        if (tp_plan_build(dec) != 0)
                tp_plan_free(dec);
        dec->generic = dec->steps == NULL;
        return dec;
fail:
        tp_avrodec_destroy(dec);
        return NULL;
}

void tp_avrodec_destroy(struct tp_avrodec *dec)
{
        if (!dec)
                return;
        if (dec->reader)
                avro_reader_free(dec->reader);
        if (dec->value.iface)
                avro_value_decref(&dec->value);
        if (dec->iface)
                avro_value_iface_decref(dec->iface);
        tp_plan_free(dec);
        if (dec->schema)
                avro_schema_decref(dec->schema);
        free(dec);
}

/* ---- bounds walk -------------------------------------------------------- */

struct tp_cursor {
        const unsigned char *p;
        size_t left;
        size_t items;
        size_t work;
        char *errstr;
        size_t errstr_size;
};

static int tp_cur_fail(struct tp_cursor *c, const char *what)
{
        snprintf(c->errstr, c->errstr_size, "%s with %zu bytes left", what,
                 c->left);
        return -1;
}

static int tp_cur_varint(struct tp_cursor *c, int64_t *out)
{
        uint64_t v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
                unsigned char b;
                if (c->left == 0)
                        return tp_cur_fail(c, "truncated varint");
                b = *c->p++;
                c->left--;
                v |= (uint64_t)(b & 0x7f) << shift;
                if (!(b & 0x80)) {
                        *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
                        return 0;
                }
        }
        return tp_cur_fail(c, "varint longer than 10 bytes");
}

static int tp_cur_skip(struct tp_cursor *c, int64_t n, const char *what)
{
        if (n < 0 || (uint64_t)n > c->left)
                return tp_cur_fail(c, what);
        c->p += n;
        c->left -= (size_t)n;
        return 0;
}

/* The checks both walks make, so that their verdicts and texts agree:
 * one unit of the decoding budget, an int, an index below n (an enum
 * symbol, a union branch), a string's or bytes' span. */
static int tp_cur_budget(struct tp_cursor *c)
{
        if (++c->work > TP_AVRO_MAX_WORK)
                return tp_cur_fail(c, "over the decoding budget");
        return 0;
}

static int tp_cur_int32(struct tp_cursor *c, int64_t *out)
{
        if (tp_cur_varint(c, out))
                return -1;
        if (*out < INT32_MIN || *out > INT32_MAX)
                return tp_cur_fail(c, "int out of range");
        return 0;
}

static int tp_cur_index(struct tp_cursor *c, int64_t n, const char *what,
                        int64_t *out)
{
        if (tp_cur_varint(c, out))
                return -1;
        if (*out < 0 || *out >= n)
                return tp_cur_fail(c, what);
        return 0;
}

static int tp_cur_string(struct tp_cursor *c, const unsigned char **p,
                         size_t *len)
{
        int64_t n;
        if (tp_cur_varint(c, &n))
                return -1;
        *p = c->p;
        if (tp_cur_skip(c, n, "string/bytes length beyond the data"))
                return -1;
        *len = (size_t)n;
        return 0;
}

static int tp_walk(avro_schema_t s, struct tp_cursor *c, int depth);

static int tp_walk_blocks(avro_schema_t items, avro_schema_t values,
                          struct tp_cursor *c, int depth)
{
        int64_t count, bytes;
        for (;;) {
                if (tp_cur_varint(c, &count))
                        return -1;
                if (count == 0)
                        return 0;
                if (count < 0) {
                        if (count == INT64_MIN)
                                return tp_cur_fail(c, "bad block count");
                        count = -count;
                        if (tp_cur_varint(c, &bytes))
                                return -1;
                }
                if ((uint64_t)count > TP_AVRO_MAX_ITEMS - c->items)
                        return tp_cur_fail(c, "too many array/map items");
                /* Each item is at least one unit: fail before walking. */
                if ((uint64_t)count > TP_AVRO_MAX_WORK - c->work)
                        return tp_cur_fail(c, "over the decoding budget");
                c->items += (size_t)count;
                for (int64_t i = 0; i < count; i++) {
                        if (values) {
                                int64_t klen;
                                if (tp_cur_varint(c, &klen) ||
                                    tp_cur_skip(c, klen, "map key too long"))
                                        return -1;
                        }
                        if (tp_walk(values ? values : items, c, depth + 1))
                                return -1;
                }
        }
}

static int tp_walk(avro_schema_t s, struct tp_cursor *c, int depth)
{
        const unsigned char *p;
        size_t len;
        int64_t v;
        s = tp_unlink(s);
        if (depth > TP_AVRO_MAX_DEPTH)
                return tp_cur_fail(c, "nesting too deep");
        if (tp_cur_budget(c))
                return -1;
        switch (avro_typeof(s)) {
        case AVRO_NULL:
                return 0;
        case AVRO_BOOLEAN:
                return tp_cur_skip(c, 1, "truncated boolean");
        case AVRO_INT32:
                return tp_cur_int32(c, &v);
        case AVRO_INT64:
                return tp_cur_varint(c, &v);
        case AVRO_FLOAT:
                return tp_cur_skip(c, 4, "truncated float");
        case AVRO_DOUBLE:
                return tp_cur_skip(c, 8, "truncated double");
        case AVRO_STRING:
        case AVRO_BYTES:
                return tp_cur_string(c, &p, &len);
        case AVRO_FIXED:
                return tp_cur_skip(c, avro_schema_fixed_size(s),
                                   "truncated fixed");
        case AVRO_ENUM:
                return tp_cur_index(c, avro_schema_enum_number_of_symbols(s),
                                    "enum index out of range", &v);
        case AVRO_UNION:
                if (tp_cur_index(c, (int64_t)avro_schema_union_size(s),
                                 "union branch out of range", &v))
                        return -1;
                return tp_walk(avro_schema_union_branch(s, (int)v), c,
                               depth + 1);
        case AVRO_RECORD:
                for (size_t i = 0; i < avro_schema_record_size(s); i++)
                        if (tp_walk(avro_schema_record_field_get_by_index(
                                            s, (int)i),
                                    c, depth + 1))
                                return -1;
                return 0;
        case AVRO_ARRAY:
                return tp_walk_blocks(avro_schema_array_items(s), NULL, c,
                                      depth);
        case AVRO_MAP:
                return tp_walk_blocks(NULL, avro_schema_map_values(s), c,
                                      depth);
        default:
                return tp_cur_fail(c, "unsupported schema type");
        }
}

/* The bounds walk; *work gets the units the generic reader will spend. */
static int tp_avrodec_bounds(const struct tp_avrodec *dec,
                             const unsigned char *body, size_t len,
                             size_t *work, char *errstr, size_t errstr_size)
{
        struct tp_cursor c = {body, len, 0, 0, errstr, errstr_size};
        if (tp_walk(dec->schema, &c, 0) != 0)
                return -1;
        if (c.left != 0) {
                snprintf(errstr, errstr_size,
                         "%zu trailing bytes after the record", c.left);
                return -1;
        }
        *work = c.work;
        return 0;
}

int tp_avrodec_check_bounds(const struct tp_avrodec *dec,
                            const unsigned char *body, size_t len, char *errstr,
                            size_t errstr_size)
{
        size_t work;
        return tp_avrodec_bounds(dec, body, len, &work, errstr, errstr_size);
}

/* Builds the reused generic value anew (after a costly message, its
 * arrays would keep that message's memory). 0 or -1. */
static int tp_avrodec_renew(struct tp_avrodec *dec)
{
        if (dec->value.iface)
                avro_value_decref(&dec->value);
        memset(&dec->value, 0, sizeof(dec->value));
        if (avro_generic_value_new(dec->iface, &dec->value) != 0) {
                memset(&dec->value, 0, sizeof(dec->value));
                return -1;
        }
        return 0;
}

/* ---- field extraction ---------------------------------------------------- */

/* The checks below are shared by the generic path (values read by avro-c)
 * and the direct one (bytes of the message), so that both give the same
 * reasons and the same texts by construction. */

/* Null, and a type the reader cannot take. Returns TP_REASON__COUNT to
 * go on with the value, else the reason to return. s (the value's schema)
 * is only named in the error. */
static enum tp_reason tp_check_type(const struct tp_field_spec *f,
                                    avro_type_t t, avro_schema_t s,
                                    struct tp_scalar *out, char *errstr,
                                    size_t errstr_size)
{
        if (t == AVRO_NULL) {
                if (f->optional) {
                        out->is_null = 1;
                        return TP_REASON_OK;
                }
                snprintf(errstr, errstr_size, "field \"%s\" is null", f->name);
                return TP_REASON_MISSING_FIELD;
        }
        if (!tp_type_fits(f->kind, t)) {
                snprintf(errstr, errstr_size, "field \"%s\" holds a %s",
                         f->name, avro_schema_type_name(s));
                return TP_REASON_BAD_AVRO;
        }
        return TP_REASON__COUNT;
}

/* A string field's len bytes at s (not NUL-terminated). */
static int tp_check_string(const char *field, const char *s, size_t len,
                           struct tp_scalar *out, char *errstr,
                           size_t errstr_size)
{
        if (len > TP_EVENT_MAX_STR) {
                snprintf(errstr, errstr_size,
                         "field \"%s\": %zu bytes, longer than %d", field, len,
                         TP_EVENT_MAX_STR);
                return -1;
        }
        if (!tp_utf8_valid(s, len)) {
                char shown[64];
                tp_utf8_escape(shown, sizeof(shown), s, len);
                snprintf(errstr, errstr_size,
                         "field \"%s\": not valid UTF-8 (or holds NUL): "
                         "\"%s\"",
                         field, shown);
                return -1;
        }
        out->str = s;
        out->len = len;
        return 0;
}

/* An enum field: k is our index of the symbol sym (NULL: unreadable), or
 * -1 when it is none of ours. */
static int tp_check_enum(const struct tp_field_spec *f, const char *sym, int k,
                         struct tp_scalar *out, char *errstr,
                         size_t errstr_size)
{
        char shown[48];
        /* Our symbols are ASCII: anything else (a symbol of the writer
         * schema or a string of the data) is unknown, and quoted escaped. */
        if (k < 0) {
                tp_utf8_escape(shown, sizeof(shown), sym ? sym : "?",
                               sym ? strlen(sym) : 1);
                snprintf(errstr, errstr_size,
                         "field \"%s\": unknown symbol \"%s\"", f->name, shown);
                return -1;
        }
        out->num = k;
        return 0;
}

/* A number field: v as read with the writer's type t (int or long). */
static int tp_check_number(const struct tp_field_spec *f, avro_type_t t,
                           int64_t v, struct tp_scalar *out, char *errstr,
                           size_t errstr_size)
{
        if (t == AVRO_INT64 && f->kind == FK_INT &&
            (v < INT32_MIN || v > INT32_MAX)) {
                snprintf(errstr, errstr_size, "field \"%s\": unreadable number",
                         f->name);
                return -1;
        }
        out->num = v;
        return 0;
}

static int tp_enum_symbol(avro_value_t *v, const char **sym)
{
        int idx;
        avro_schema_t es = avro_value_get_schema(v);
        if (avro_value_get_enum(v, &idx) != 0)
                return -1;
        *sym = avro_schema_enum_get(es, idx);
        return *sym ? 0 : -1;
}

static int tp_get_string(avro_value_t *v, const char *field,
                         struct tp_scalar *out, char *errstr,
                         size_t errstr_size)
{
        const char *s;
        size_t size;
        if (avro_value_get_string(v, &s, &size) != 0 || size == 0) {
                snprintf(errstr, errstr_size, "field \"%s\": unreadable string",
                         field);
                return -1;
        }
        return tp_check_string(field, s, size - 1, out, errstr, errstr_size);
}

static int tp_get_enum(avro_value_t *v, avro_type_t t,
                       const struct tp_field_spec *f, struct tp_scalar *out,
                       char *errstr, size_t errstr_size)
{
        const char *sym = NULL;
        size_t size;
        if (t == AVRO_ENUM) {
                if (tp_enum_symbol(v, &sym) != 0)
                        sym = NULL;
        } else if (avro_value_get_string(v, &sym, &size) != 0) {
                sym = NULL;
        }
        return tp_check_enum(f, sym,
                             sym ? tp_enum_parse_kind(f->kind, sym) : -1, out,
                             errstr, errstr_size);
}

static int tp_get_number(avro_value_t *v, avro_type_t t,
                         const struct tp_field_spec *f, struct tp_scalar *out,
                         char *errstr, size_t errstr_size)
{
        int32_t i32;
        int64_t i64;
        if (t == AVRO_INT32 && avro_value_get_int(v, &i32) == 0)
                return tp_check_number(f, t, i32, out, errstr, errstr_size);
        if (t == AVRO_INT64 && avro_value_get_long(v, &i64) == 0)
                return tp_check_number(f, t, i64, out, errstr, errstr_size);
        snprintf(errstr, errstr_size, "field \"%s\": unreadable number",
                 f->name);
        return -1;
}

/* Reads one mapped writer field into out (unwrapping unions). Returns
 * TP_REASON_OK or the reason. */
static enum tp_reason tp_get_field(avro_value_t *rec, int widx, size_t i,
                                   struct tp_scalar *out, char *errstr,
                                   size_t errstr_size)
{
        const struct tp_field_spec *f = &tp_fields[i];
        avro_value_t v, branch;
        avro_type_t t;
        enum tp_reason r;
        int rc;

        if (avro_value_get_by_index(rec, widx, &v, NULL) != 0)
                goto bad;
        if (avro_value_get_type(&v) == AVRO_UNION) {
                if (avro_value_get_current_branch(&v, &branch) != 0)
                        goto bad;
                v = branch;
        }
        t = avro_value_get_type(&v);
        r = tp_check_type(f, t, avro_value_get_schema(&v), out, errstr,
                          errstr_size);
        if (r != TP_REASON__COUNT)
                return r;
        if (f->kind == FK_STR)
                rc = tp_get_string(&v, f->name, out, errstr, errstr_size);
        else if (f->kind == FK_LONG || f->kind == FK_INT)
                rc = tp_get_number(&v, t, f, out, errstr, errstr_size);
        else
                rc = tp_get_enum(&v, t, f, out, errstr, errstr_size);
        return rc == 0 ? TP_REASON_OK : TP_REASON_BAD_AVRO;
bad:
        snprintf(errstr, errstr_size, "field \"%s\": %s", f->name,
                 avro_strerror());
        return TP_REASON_BAD_AVRO;
}

static void tp_scalar_default(const struct tp_avro_reader *rd, size_t i,
                              struct tp_scalar *out)
{
        *out = rd->def[i];
}

/* The event's string field k, borrowed from the scalar sc. */
static void tp_take_str(struct tp_strspan *sp, enum tp_event_str k,
                        const struct tp_scalar *sc)
{
        sp[k].p = sc->is_null ? NULL : sc->str;
        sp[k].len = sc->len;
}

static void tp_fill_event(const struct tp_scalar *sc, int commune_given,
                          struct tp_event *ev, struct tp_arena *arena)
{
        struct tp_strspan sp[TP_ES__COUNT];
        memset(ev, 0, sizeof(*ev));
        tp_take_str(sp, TP_ES_EVENT_ID, &sc[F_EVENT_ID]);
        ev->event_type = (enum tp_event_type)sc[F_EVENT_TYPE].num;
        ev->occurred_at = sc[F_OCCURRED_AT].num;
        tp_take_str(sp, TP_ES_DOSSIER_ID, &sc[F_DOSSIER_ID]);
        ev->seq = (int32_t)sc[F_SEQ].num;
        tp_take_str(sp, TP_ES_PROVINCE, &sc[F_PROVINCE]);
        tp_take_str(sp, TP_ES_COMMUNE, &sc[F_COMMUNE]);
        tp_take_str(sp, TP_ES_PROCEDURE, &sc[F_PROCEDURE]);
        ev->procedure_level = (enum tp_level)sc[F_PROC_LEVEL].num;
        ev->channel = (enum tp_channel)sc[F_CHANNEL].num;
        tp_take_str(sp, TP_ES_AGENCY, &sc[F_AGENCY]);
        ev->handling_level = (enum tp_level)sc[F_HANDLING_LEVEL].num;
        ev->to_level = sc[F_TO_LEVEL].is_null ? TP_LEVEL_NONE
                                              : (int)sc[F_TO_LEVEL].num;
        tp_take_str(sp, TP_ES_TO_AGENCY, &sc[F_TO_AGENCY]);
        ev->due_at = sc[F_DUE_AT].is_null ? TP_TS_NONE : sc[F_DUE_AT].num;
        tp_take_str(sp, TP_ES_SOURCE, &sc[F_SOURCE]);
        tp_take_str(sp, TP_ES_HANDLING_COMMUNE, &sc[F_HANDLING_COMMUNE]);
        ev->handling_commune_given = commune_given;
        tp_event_set_strings(ev, sp, arena);
}

/* The generic path: bounds walk, avro_value_read into the reused generic
 * value, then each mapped field out of it. */
static enum tp_reason tp_generic_decode(struct tp_avrodec *dec,
                                        const unsigned char *body, size_t len,
                                        struct tp_event *ev,
                                        struct tp_arena *arena, char *errstr,
                                        size_t errstr_size)
{
        struct tp_scalar sc[TP_NFIELDS];
        enum tp_reason r = TP_REASON_OK;
        size_t i, work = 0;

        memset(sc, 0, sizeof(sc));
        if (tp_avrodec_bounds(dec, body, len, &work, errstr, errstr_size))
                return TP_REASON_BAD_AVRO;
        if (!dec->value.iface && tp_avrodec_renew(dec) != 0) {
                snprintf(errstr, errstr_size,
                         "could not build a generic value: %s",
                         avro_strerror());
                return TP_REASON_BAD_AVRO;
        }
        avro_reader_memory_set_source(dec->reader, (const char *)body,
                                      (int64_t)len);
        if (avro_value_read(dec->reader, &dec->value) != 0) {
                snprintf(errstr, errstr_size, "%s", avro_strerror());
                r = TP_REASON_BAD_AVRO;
        }
        for (i = 0; i < TP_NFIELDS && r == TP_REASON_OK; i++) {
                if (dec->widx[i] < 0)
                        tp_scalar_default(dec->rd, i, &sc[i]);
                else
                        r = tp_get_field(&dec->value, dec->widx[i], i, &sc[i],
                                         errstr, errstr_size);
        }
        /* The strings are the generic value's: copied before a renew. */
        if (r == TP_REASON_OK)
                tp_fill_event(sc, dec->widx[F_HANDLING_COMMUNE] >= 0, ev,
                              arena);
        if (work > TP_AVRO_SHRINK_WORK)
                (void)tp_avrodec_renew(dec); /* retried at the next message */
        return r;
}

/* ---- the direct decoder ---------------------------------------------------
 *
 * One pass over the bytes that is the bounds walk itself (same order, same
 * checks, same texts, same budget), except that a mapped field's value is
 * kept (a number, or where a string lies in the body) instead of only
 * skipped. Once the whole body has passed, the kept values go through the
 * same checks as the generic path's, in the reader's field order, so the
 * first error reported is the same. That is the generic path's result
 * because avro_value_read cannot fail on a body the walk accepted (it
 * checks no more than the walk does), and reads the same values. */

_Static_assert(TP_AVRO_MAX_DEPTH >= 2,
               "the direct decoder walks a field and its branch unchecked");

/* One value of a mapped field at depth (1, or 2 in a union), as tp_walk
 * would walk it; seen keeps it. */
static int tp_direct_value(const struct tp_branch *br, struct tp_cursor *c,
                           int depth, struct tp_seen *seen)
{
        seen->br = br;
        if (br->how == TP_V_WALK)
                return tp_walk(br->schema, c, depth);
        if (tp_cur_budget(c))
                return -1;
        switch (br->how) {
        case TP_V_NULL:
                return 0;
        case TP_V_INT:
                return tp_cur_int32(c, &seen->num);
        case TP_V_LONG:
                return tp_cur_varint(c, &seen->num);
        case TP_V_STRING:
                return tp_cur_string(c, &seen->p, &seen->len);
        case TP_V_ENUM:
                return tp_cur_index(c, br->nsyms, "enum index out of range",
                                    &seen->num);
        default:
                return tp_walk(br->schema, c, depth);
        }
}

/* One mapped writer field at depth 1, unwrapping its union. */
static int tp_direct_field(const struct tp_step *st, struct tp_cursor *c,
                           struct tp_seen *seen)
{
        int64_t v;

        if (!st->is_union)
                return tp_direct_value(&st->br[0], c, 1, seen);
        if (tp_cur_budget(c) || tp_cur_index(c, (int64_t)st->nbranch,
                                             "union branch out of range", &v))
                return -1;
        return tp_direct_value(&st->br[v], c, 2, seen);
}

/* An enum field given as a string: compared up to its first NUL, as the
 * generic value's NUL-terminated copy is. */
static int tp_direct_enum_string(const struct tp_field_spec *f,
                                 const struct tp_seen *seen,
                                 struct tp_scalar *out, char *errstr,
                                 size_t errstr_size)
{
        char small[64], *sym = small;
        const unsigned char *nul = memchr(seen->p, 0, seen->len);
        size_t n = nul ? (size_t)(nul - seen->p) : seen->len;
        int rc;

        if (n >= sizeof(small))
                sym = tp_xmalloc(n + 1);
        if (n)
                memcpy(sym, seen->p, n);
        sym[n] = '\0';
        rc = tp_check_enum(f, sym, tp_enum_parse_kind(f->kind, sym), out,
                           errstr, errstr_size);
        if (sym != small)
                free(sym);
        return rc;
}

/* tp_get_field on what the walk kept. */
static enum tp_reason tp_direct_get(const struct tp_seen *seen, size_t i,
                                    struct tp_scalar *out, char *errstr,
                                    size_t errstr_size)
{
        const struct tp_field_spec *f = &tp_fields[i];
        const struct tp_branch *br = seen->br;
        enum tp_reason r;
        int rc, k;

        r = tp_check_type(f, br->type, br->schema, out, errstr, errstr_size);
        if (r != TP_REASON__COUNT)
                return r;
        if (f->kind == FK_STR) {
                rc = tp_check_string(f->name, (const char *)seen->p, seen->len,
                                     out, errstr, errstr_size);
        } else if (f->kind == FK_LONG || f->kind == FK_INT) {
                rc = tp_check_number(f, br->type, seen->num, out, errstr,
                                     errstr_size);
        } else if (br->type == AVRO_ENUM) {
                k = br->kval[seen->num];
                rc = tp_check_enum(
                        f,
                        k < 0 ? avro_schema_enum_get(br->schema, (int)seen->num)
                              : NULL,
                        k, out, errstr, errstr_size);
        } else {
                rc = tp_direct_enum_string(f, seen, out, errstr, errstr_size);
        }
        return rc == 0 ? TP_REASON_OK : TP_REASON_BAD_AVRO;
}

static enum tp_reason tp_direct_decode(struct tp_avrodec *dec,
                                       const unsigned char *body, size_t len,
                                       struct tp_event *ev,
                                       struct tp_arena *arena, char *errstr,
                                       size_t errstr_size)
{
        struct tp_seen seen[TP_NFIELDS];
        struct tp_scalar sc[TP_NFIELDS];
        /* work 1: the record itself, as tp_walk counts it at depth 0 */
        struct tp_cursor c = {body, len, 0, 1, errstr, errstr_size};
        enum tp_reason r = TP_REASON_OK;
        size_t i;

        for (size_t w = 0; w < dec->nsteps; w++) {
                const struct tp_step *st = &dec->steps[w];
                int rc = st->rfield < 0
                                 ? tp_walk(st->schema, &c, 1)
                                 : tp_direct_field(st, &c, &seen[st->rfield]);
                if (rc != 0)
                        return TP_REASON_BAD_AVRO;
        }
        if (c.left != 0) {
                snprintf(errstr, errstr_size,
                         "%zu trailing bytes after the record", c.left);
                return TP_REASON_BAD_AVRO;
        }
        memset(sc, 0, sizeof(sc));
        for (i = 0; i < TP_NFIELDS && r == TP_REASON_OK; i++) {
                if (dec->widx[i] < 0)
                        tp_scalar_default(dec->rd, i, &sc[i]);
                else
                        r = tp_direct_get(&seen[i], i, &sc[i], errstr,
                                          errstr_size);
        }
        if (r != TP_REASON_OK)
                return r;
        tp_fill_event(sc, dec->widx[F_HANDLING_COMMUNE] >= 0, ev, arena);
        return TP_REASON_OK;
}

enum tp_reason tp_avrodec_decode_in(struct tp_avrodec *dec,
                                    struct tp_arena *arena,
                                    const unsigned char *body, size_t len,
                                    struct tp_event *ev, char *errstr,
                                    size_t errstr_size)
{
        if (dec->generic)
                return tp_generic_decode(dec, body, len, ev, arena, errstr,
                                         errstr_size);
        return tp_direct_decode(dec, body, len, ev, arena, errstr, errstr_size);
}

enum tp_reason tp_avrodec_decode(struct tp_avrodec *dec,
                                 const unsigned char *body, size_t len,
                                 struct tp_event *ev, char *errstr,
                                 size_t errstr_size)
{
        return tp_avrodec_decode_in(dec, NULL, body, len, ev, errstr,
                                    errstr_size);
}

int tp_avrodec_set_generic(struct tp_avrodec *dec, int on)
{
        dec->generic = on || dec->steps == NULL;
        return dec->generic;
}
