/* filing.c - see filing.h. */
#include "filing.h"
#include "catalog.h"
#include "framing.h"
#include "utf8.h"
#include "util.h"
#include "validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TP_REF_RELOAD_MS 30000

struct tp_filing_reader {
        struct tp_catalog *catalog;
        struct tp_refdata *ref;
        int64_t ref_loaded_ms;
        struct tp_arena *arena; /* borrowed; NULL: events own strings */
};

struct tp_filing_reader *
tp_filing_reader_new_static(const char *schemas, const char *registry,
                            const char *reader_schema, struct tp_refdata *ref,
                            char *errstr, size_t errstr_size)
{
        struct tp_filing_reader *fr = tp_xcalloc(1, sizeof(*fr));
        fr->ref = ref;
        fr->ref_loaded_ms = tp_mono_ms();
        fr->catalog = tp_catalog_new(schemas, registry, reader_schema, errstr,
                                     errstr_size);
        if (!fr->catalog) {
                tp_filing_reader_destroy(fr);
                return NULL;
        }
        return fr;
}

struct tp_filing_reader *tp_filing_reader_new(const struct tp_cfg *cfg,
                                              PGconn *conn, char *errstr,
                                              size_t errstr_size)
{
        struct tp_refdata *ref = tp_refdata_load_pg(conn, errstr, errstr_size);
        if (!ref)
                return NULL;
        struct tp_filing_reader *fr = tp_filing_reader_new_static(
                cfg->schemas, cfg->registry, cfg->reader_schema, ref, errstr,
                errstr_size);
        if (fr)
                tp_catalog_set_registry_auth(fr->catalog, cfg->registry_ca_file,
                                             cfg->registry_user,
                                             cfg->registry_password);
        return fr;
}

void tp_filing_reader_set_arena(struct tp_filing_reader *fr,
                                struct tp_arena *arena)
{
        fr->arena = arena;
}

void tp_filing_reader_destroy(struct tp_filing_reader *fr)
{
        if (!fr)
                return;
        tp_catalog_destroy(fr->catalog);
        tp_refdata_destroy(fr->ref);
        free(fr);
}

/* Framing, schema, Avro. Returns -1 on an outage. */
static int tp_filing_decode(struct tp_filing_reader *fr, const void *value,
                            size_t len, struct tp_event *ev, int32_t *schema_id,
                            enum tp_reason *reason, char *detail,
                            size_t detail_size)
{
        const unsigned char *body;
        size_t body_len;
        struct tp_avrodec *dec = NULL;
        enum tp_catalog_status st;

        if (tp_framing_parse(value, len, schema_id, &body, &body_len, detail,
                             detail_size) != 0) {
                *reason = TP_REASON_BAD_FRAMING;
                return 0;
        }
        st = tp_catalog_get(fr->catalog, *schema_id, &dec, detail, detail_size);
        if (st == TP_CATALOG_OUTAGE)
                return -1;
        if (st == TP_CATALOG_UNKNOWN)
                *reason = TP_REASON_UNKNOWN_SCHEMA;
        else if (st == TP_CATALOG_REFUSED)
                *reason = TP_REASON_BAD_SCHEMA;
        else if (st != TP_CATALOG_OK)
                *reason = TP_REASON_BAD_AVRO;
        if (st != TP_CATALOG_OK)
                return 0;
        *reason = tp_avrodec_decode_in(dec, fr->arena, body, body_len, ev,
                                       detail, detail_size);
        return 0;
}

static int tp_filing_reload(struct tp_filing_reader *fr, PGconn *conn)
{
        char err[256];
        struct tp_refdata *ref;
        if (!conn || tp_mono_ms() - fr->ref_loaded_ms <= TP_REF_RELOAD_MS)
                return -1;
        fr->ref_loaded_ms = tp_mono_ms();
        ref = tp_refdata_load_pg(conn, err, sizeof(err));
        if (!ref)
                return -1;
        tp_refdata_destroy(fr->ref);
        fr->ref = ref;
        return 0;
}

/* Validates a decoded event against the reference data (reloaded once
 * before a province or commune is called unknown); releases it unless it
 * is valid. */
static void tp_filing_validate(struct tp_filing_reader *fr, PGconn *conn,
                               const char *topic, struct tp_event *ev,
                               enum tp_reason *reason, char *detail,
                               size_t detail_size)
{
        *reason = tp_validate_event(fr->ref, topic, ev, tp_now_ms(), detail,
                                    detail_size);
        if ((*reason == TP_REASON_UNKNOWN_COMMUNE ||
             *reason == TP_REASON_UNKNOWN_PROVINCE) &&
            tp_filing_reload(fr, conn) == 0)
                *reason = tp_validate_event(fr->ref, topic, ev, tp_now_ms(),
                                            detail, detail_size);
        if (*reason != TP_REASON_OK) {
                tp_utf8_sanitize(detail, detail_size);
                tp_event_release(ev);
        }
}

int tp_filing_read(struct tp_filing_reader *fr, PGconn *conn, const char *topic,
                   const void *value, size_t len, struct tp_event *ev,
                   int32_t *schema_id, enum tp_reason *reason, char *detail,
                   size_t detail_size)
{
        *schema_id = -1;
        if (tp_filing_decode(fr, value, len, ev, schema_id, reason, detail,
                             detail_size) != 0)
                return -1;
        if (*reason != TP_REASON_OK) {
                /* A detail is stored and logged: never cut mid-character. */
                tp_utf8_sanitize(detail, detail_size);
                return 0;
        }
        tp_filing_validate(fr, conn, topic, ev, reason, detail, detail_size);
        return 0;
}

int tp_filing_read_msg(struct tp_filing_reader *fr, PGconn *conn,
                       const struct tp_msg *msg, struct tp_event *ev,
                       int32_t *schema_id, enum tp_reason *reason, char *detail,
                       size_t detail_size)
{
        if (!msg->event)
                return tp_filing_read(fr, conn, msg->topic, msg->value,
                                      msg->value_len, ev, schema_id, reason,
                                      detail, detail_size);
        *schema_id = -1;
        tp_event_copy(ev, msg->event);
        tp_filing_validate(fr, conn, msg->topic, ev, reason, detail,
                           detail_size);
        return 0;
}
