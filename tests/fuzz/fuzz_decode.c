/* fuzz_decode.c - libFuzzer target over everything tthc-ingest does to a
 * message value before it touches PostgreSQL: the Confluent framing, the
 * schema catalog (the shipped contract, evolved writer schemas, an
 * incompatible one), the bounds walk, the Avro decode into the reader's
 * shape and tp_validate_event against the shipped reference CSVs.
 *
 * Two input shapes:
 *   - a Kafka message value (anything not starting with '{'): framing,
 *     catalog lookup by the schema id of the header, check_bounds, decode,
 *     validate with several topics, copy/compare of the decoded event;
 *   - '{' WRITER-SCHEMA-JSON '\0' AVRO-BODY: builds a decoder for a
 *     fuzzed writer schema (parse + resolution into the reader) and, when
 *     it resolves, decodes and validates the body with it.
 *
 * What it asserts beyond "no crash": every detail (error text) is valid
 * UTF-8, a decode never accepts what the bounds walk refused, and the
 * memory avro-c holds while one input is handled (counted through
 * avro_set_allocator) never grows by more than FUZZ_AVRO_BUDGET.
 *
 * Everything is deterministic: the wall clock is fixed, the catalog has no
 * registry. Paths come from TTHC_SOURCE_DIR (compiled in) or the
 * environment variable TTHC_FUZZ_ROOT.
 *
 * Build with clang -fsanitize=fuzzer,address,undefined (tests/fuzz/
 * CMakeLists.txt, -DTTHC_FUZZ=ON), or link replay.c for a plain main. */
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <avro.h>

#include "avrodec.h"
#include "utf8.h"
#include "catalog.h"
#include "event.h"
#include "framing.h"
#include "reason.h"
#include "refdata.h"
#include "util.h"
#include "validate.h"

#ifndef TTHC_SOURCE_DIR
#define TTHC_SOURCE_DIR "."
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 2026-01-01 00:00 UTC: after every corpus event, fixed for replay. */
#define FUZZ_NOW_MS 1767225600000LL

/* The memory budget of one hostile input (design.md, issue 11). */
#define FUZZ_AVRO_BUDGET (64u << 20)

static struct tp_refdata *g_ref;
/* avro-c's live bytes, and the most it held during the current input */
static size_t g_avro_live, g_avro_peak;

/* avro-c's allocator: realloc semantics, with the old and new sizes. */
static void *fuzz_avro_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
        (void)ud;
        if (nsize == 0) {
                free(ptr);
                g_avro_live -= osize < g_avro_live ? osize : g_avro_live;
                return NULL;
        }
        ptr = realloc(ptr, nsize);
        if (ptr) {
                g_avro_live += nsize;
                g_avro_live -= osize < g_avro_live ? osize : g_avro_live;
                if (g_avro_live > g_avro_peak)
                        g_avro_peak = g_avro_live;
        }
        return ptr;
}

static struct tp_catalog *g_cat;
static struct tp_avro_reader *g_reader;
static char g_catdir[256];

static const char *fuzz_root(void)
{
        const char *r = getenv("TTHC_FUZZ_ROOT");
        return r && *r ? r : TTHC_SOURCE_DIR;
}

static void fuzz_die(const char *what, const char *detail)
{
        fprintf(stderr, "fuzz_decode: %s: %s\n", what, detail);
        abort();
}

/* Every detail the decoder and the validator write must be valid UTF-8. */
static void fuzz_check_detail(const char *err)
{
        if (!tp_utf8_valid(err, strlen(err)))
                fuzz_die("detail is not valid UTF-8", "(bytes not shown)");
}

static void copy_file(const char *from, const char *dir, const char *name)
{
        char path[1024], err[256];
        size_t len = 0;
        char *buf = tp_read_file(from, 1 << 20, &len, err, sizeof(err));
        FILE *f;

        if (!buf)
                fuzz_die(from, err);
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        f = fopen(path, "wb");
        if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0)
                fuzz_die("cannot write", path);
        free(buf);
}

/* Copies every "*.avsc" of src into the catalog directory. */
static void copy_schemas(const char *src)
{
        DIR *d = opendir(src);
        struct dirent *de;
        char from[1024];

        if (!d)
                fuzz_die("cannot open", src);
        while ((de = readdir(d)) != NULL) {
                size_t n = strlen(de->d_name);
                if (n < 6 || strcmp(de->d_name + n - 5, ".avsc") != 0)
                        continue;
                snprintf(from, sizeof(from), "%s/%s", src, de->d_name);
                copy_file(from, g_catdir, de->d_name);
        }
        closedir(d);
}

static void fuzz_cleanup(void)
{
        DIR *d;
        struct dirent *de;
        char path[1024];

        tp_catalog_destroy(g_cat);
        tp_avro_reader_destroy(g_reader);
        tp_refdata_destroy(g_ref);
        g_cat = NULL;
        g_reader = NULL;
        g_ref = NULL;
        if (!g_catdir[0] || !(d = opendir(g_catdir)))
                return;
        while ((de = readdir(d)) != NULL) {
                if (de->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "%s/%s", g_catdir, de->d_name);
                unlink(path);
        }
        closedir(d);
        rmdir(g_catdir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        char path[1024], err[512];
        const char *root = fuzz_root();
        const char *tmp = getenv("TMPDIR");
        char *json;
        size_t len = 0;

        (void)argc;
        (void)argv;
        avro_set_allocator(fuzz_avro_alloc, NULL);
        /* The catalog: the contract and the alert schema (ids 1 and 2, the
         * latter incompatible with the reader), plus the evolved writer
         * schemas of tests/fuzz/schemas (ids 7, 8, 9...). */
        snprintf(g_catdir, sizeof(g_catdir), "%s/tthc-fuzz-cat-XXXXXX",
                 tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(g_catdir))
                fuzz_die("mkdtemp", g_catdir);
        atexit(fuzz_cleanup);
        snprintf(path, sizeof(path), "%s/schemas/avro", root);
        copy_schemas(path);
        snprintf(path, sizeof(path), "%s/tests/fuzz/schemas", root);
        copy_schemas(path);

        snprintf(path, sizeof(path), "%s/schemas/avro/1-filing_event.avsc",
                 root);
        g_cat = tp_catalog_new(g_catdir, NULL, path, err, sizeof(err));
        if (!g_cat)
                fuzz_die("catalog", err);
        json = tp_read_file(path, 1 << 20, &len, err, sizeof(err));
        if (!json)
                fuzz_die(path, err);
        g_reader = tp_avro_reader_new(json, len, err, sizeof(err));
        free(json);
        if (!g_reader)
                fuzz_die("reader schema", err);

        g_ref = tp_refdata_new();
        snprintf(path, sizeof(path), "%s/reference", root);
        if (tp_refdata_load_csv(g_ref, path, err, sizeof(err)) != 0)
                fuzz_die("reference data", err);
        return 0;
}

/* Validates ev as if consumed from a few topics; checks copy/equal. */
static void fuzz_validate(const struct tp_event *ev)
{
        char err[256], topic[64];
        struct tp_event copy;
        enum tp_reason r;

        err[0] = '\0';
        r = tp_validate_event(g_ref, NULL, ev, FUZZ_NOW_MS, err, sizeof(err));
        if (r >= TP_REASON__COUNT)
                abort();
        fuzz_check_detail(err);
        (void)tp_reason_name(r);
        (void)tp_validate_event(g_ref, "tthc.filings.01", ev, FUZZ_NOW_MS, err,
                                sizeof(err));
        if (ev->province_code && strlen(ev->province_code) < 16) {
                snprintf(topic, sizeof(topic), "tthc.filings.%s",
                         ev->province_code);
                err[0] = '\0';
                r = tp_validate_event(g_ref, topic, ev, FUZZ_NOW_MS, err,
                                      sizeof(err));
                if (r >= TP_REASON__COUNT)
                        abort();
                fuzz_check_detail(err);
        }
        (void)tp_uuid_valid(ev->event_id);
        (void)tp_event_type_name(ev->event_type);
        (void)tp_level_name(ev->to_level);
        (void)tp_channel_name(ev->channel);

        memset(&copy, 0, sizeof(copy));
        tp_event_copy(&copy, ev);
        if (!tp_event_equal(&copy, ev))
                abort(); /* a copy must compare equal */
        tp_event_release(&copy);
}

/* Decodes body again with the strings in an arena (as tthc-route does):
 * the same reason, the same text, an equal event that owns nothing. */
static void fuzz_body_in_arena(struct tp_avrodec *dec,
                               const unsigned char *body, size_t len,
                               enum tp_reason r, const char *err,
                               const struct tp_event *ev)
{
        struct tp_arena arena = {0};
        struct tp_event in;
        char err_in[256];

        memset(&in, 0, sizeof(in));
        err_in[0] = '\0';
        if (tp_avrodec_decode_in(dec, &arena, body, len, &in, err_in,
                                 sizeof(err_in)) != r ||
            strcmp(err_in, err) != 0)
                abort();
        if (r == TP_REASON_OK &&
            (in.strings != NULL || !tp_event_equal(&in, ev)))
                abort();
        tp_event_release(&in);
        tp_arena_reset(&arena);
}

/* check_bounds, decode (also into an arena), validate, release. */
static void fuzz_body(struct tp_avrodec *dec, const unsigned char *body,
                      size_t len)
{
        char err[256];
        struct tp_event ev;
        enum tp_reason r;
        int bounds_ok;

        err[0] = '\0';
        bounds_ok =
                tp_avrodec_check_bounds(dec, body, len, err, sizeof(err)) == 0;
        fuzz_check_detail(err);
        memset(&ev, 0, sizeof(ev));
        err[0] = '\0';
        r = tp_avrodec_decode(dec, body, len, &ev, err, sizeof(err));
        fuzz_check_detail(err);
        fuzz_body_in_arena(dec, body, len, r, err, &ev);
        if (r == TP_REASON_OK) {
                /* the decoder must never accept what the bounds walk
                 * refused */
                if (!bounds_ok)
                        abort();
                fuzz_validate(&ev);
                tp_event_release(&ev);
        } else if (r != TP_REASON_BAD_AVRO && r != TP_REASON_MISSING_FIELD) {
                abort(); /* decode returns only these reasons */
        }
}

static void fuzz_message(const uint8_t *data, size_t size)
{
        char err[256];
        int32_t id = -1;
        const unsigned char *body = NULL;
        size_t body_len = 0;
        struct tp_avrodec *dec = NULL;

        if (tp_framing_parse(data, size, &id, &body, &body_len, err,
                             sizeof(err)) != 0)
                return;
        if (body < data || body + body_len != data + size)
                abort(); /* the body must be the rest of the buffer */
        err[0] = '\0';
        if (tp_catalog_get(g_cat, id, &dec, err, sizeof(err)) !=
            TP_CATALOG_OK) {
                fuzz_check_detail(err);
                return;
        }
        fuzz_body(dec, body, body_len);
}

static void fuzz_schema(const uint8_t *data, size_t size)
{
        const uint8_t *nul = memchr(data, 0, size);
        size_t json_len = nul ? (size_t)(nul - data) : size;
        const unsigned char *body = nul ? nul + 1 : data + size;
        size_t body_len = nul ? size - json_len - 1 : 0;
        char err[256];
        struct tp_avrodec *dec;
        char *json;

        /* a NUL-terminated copy, as the catalog hands it over */
        json = malloc(json_len + 1);
        if (!json)
                abort();
        memcpy(json, data, json_len);
        json[json_len] = '\0';
        err[0] = '\0';
        dec = tp_avrodec_new(g_reader, json, json_len, err, sizeof(err));
        free(json);
        if (!dec) {
                fuzz_check_detail(err);
                return;
        }
        fuzz_body(dec, body, body_len);
        tp_avrodec_destroy(dec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (!g_cat)
                LLVMFuzzerInitialize(NULL, NULL);
        size_t start = g_avro_live;
        g_avro_peak = g_avro_live;
        (void)tp_utf8_valid((const char *)data, size);
        if (size > 0 && data[0] == '{')
                fuzz_schema(data, size);
        else
                fuzz_message(data, size);
        if (g_avro_peak - start > FUZZ_AVRO_BUDGET) {
                char what[64];
                snprintf(what, sizeof(what), "%zu bytes", g_avro_peak - start);
                fuzz_die("avro-c held more than the memory budget", what);
        }
        return 0;
}
