/* catalog.c - see catalog.h. */
#include "catalog.h"
#include "avroschema.h"
#include "http.h"
#include "util.h"

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TP_SCHEMA_MAX_BYTES TP_CATALOG_SCHEMA_MAX_BYTES
#define TP_NEGATIVE_TTL_MS 10000
#define TP_CATALOG_MAX_ENTRIES 4096

struct tp_catalog_entry {
        int32_t id;
        enum tp_catalog_status status;
        struct tp_avrodec *dec;
        char *error;
        int64_t expires_ms; /* negative entries only */
};

struct tp_catalog {
        char *dir;
        char *registry_url;
        char *registry_ca_file;
        char *registry_user;
        char *registry_password;
        struct tp_avro_reader *reader;
        struct tp_catalog_entry *entries;
        size_t n_entries;
};

struct tp_catalog *tp_catalog_new(const char *dir, const char *registry_url,
                                  const char *reader_path, char *errstr,
                                  size_t errstr_size)
{
        struct tp_catalog *cat = tp_xcalloc(1, sizeof(*cat));
        char *json = NULL;
        size_t len;

        cat->dir = tp_xstrdup(dir);
        if (registry_url && *registry_url)
                cat->registry_url = tp_xstrdup(registry_url);
        json = tp_read_file(reader_path, TP_SCHEMA_MAX_BYTES, &len, errstr,
                            errstr_size);
        if (!json)
                goto fail;
        cat->reader = tp_avro_reader_new(json, len, errstr, errstr_size);
        if (!cat->reader)
                goto fail;
        free(json);
        return cat;
fail:
        free(json);
        tp_catalog_destroy(cat);
        return NULL;
}

void tp_catalog_destroy(struct tp_catalog *cat)
{
        if (!cat)
                return;
        for (size_t i = 0; i < cat->n_entries; i++) {
                tp_avrodec_destroy(cat->entries[i].dec);
                free(cat->entries[i].error);
        }
        free(cat->entries);
        tp_avro_reader_destroy(cat->reader);
        free(cat->registry_url);
        free(cat->registry_ca_file);
        free(cat->registry_user);
        free(cat->registry_password);
        free(cat->dir);
        free(cat);
}

static char *tp_nonempty_dup(const char *s)
{
        return s && *s ? tp_xstrdup(s) : NULL;
}

void tp_catalog_set_registry_auth(struct tp_catalog *cat, const char *ca_file,
                                  const char *user, const char *password)
{
        free(cat->registry_ca_file);
        free(cat->registry_user);
        free(cat->registry_password);
        cat->registry_ca_file = tp_nonempty_dup(ca_file);
        cat->registry_user = tp_nonempty_dup(user);
        cat->registry_password = tp_nonempty_dup(password);
}

/* Looks for "<id>-*.avsc" in the catalog directory. Returns the JSON (heap)
 * or NULL when absent or unreadable (errstr says which). */
static char *tp_catalog_read_dir(struct tp_catalog *cat, int32_t id, int *found,
                                 char *errstr, size_t errstr_size)
{
        DIR *d = opendir(cat->dir);
        struct dirent *de;
        char prefix[16], path[4096];
        char *json = NULL;
        size_t plen, nlen;

        *found = 0;
        if (!d) {
                snprintf(errstr, errstr_size,
                         "could not open schema catalog \"%s\"", cat->dir);
                return NULL;
        }
        snprintf(prefix, sizeof(prefix), "%d-", id);
        plen = strlen(prefix);
        while ((de = readdir(d)) != NULL) {
                nlen = strlen(de->d_name);
                if (strncmp(de->d_name, prefix, plen) != 0 || nlen < 5 ||
                    strcmp(de->d_name + nlen - 5, ".avsc") != 0)
                        continue;
                snprintf(path, sizeof(path), "%s/%s", cat->dir, de->d_name);
                *found = 1;
                json = tp_read_file(path, TP_SCHEMA_MAX_BYTES, NULL, errstr,
                                    errstr_size);
                break;
        }
        closedir(d);
        if (!*found)
                snprintf(errstr, errstr_size,
                         "schema id %d is not in the catalog \"%s\"", id,
                         cat->dir);
        return json;
}

static enum tp_catalog_status tp_registry_parse(const struct tp_http_reply *r,
                                                int32_t id, char **json_out,
                                                char *errstr,
                                                size_t errstr_size)
{
        json_error_t jerr;
        json_t *root = json_loadb(r->body.data ? r->body.data : "", r->body.len,
                                  0, &jerr);
        const char *schema = json_string_value(json_object_get(root, "schema"));
        if (!schema) {
                snprintf(errstr, errstr_size,
                         "schema registry answer for id %d has no \"schema\" "
                         "string",
                         id);
                json_decref(root);
                return TP_CATALOG_INCOMPATIBLE;
        }
        *json_out = tp_xstrdup(schema);
        json_decref(root);
        return TP_CATALOG_OK;
}

enum tp_catalog_status tp_registry_fetch(const struct tp_registry_opts *reg,
                                         int32_t id, char **json_out,
                                         char *errstr, size_t errstr_size)
{
        char full[2048], err[768];
        struct tp_http_reply reply;
        struct tp_http_req req = {
                .url = full,
                .user = reg->user,
                .password = reg->password,
                .ca_file = reg->ca_file,
                .max_reply = TP_SCHEMA_MAX_BYTES,
        };
        enum tp_catalog_status st = TP_CATALOG_OUTAGE;

        snprintf(full, sizeof(full), "%s/schemas/ids/%d", reg->url, id);
        if (tp_http_send(&req, &reply, err, sizeof(err)) != 0) {
                snprintf(errstr, errstr_size,
                         "schema registry unreachable for id %d: %s", id, err);
        } else if (reply.too_big) {
                /* The same answer every time: not an outage. */
                snprintf(errstr, errstr_size,
                         "schema registry answer for id %d is larger than %d "
                         "bytes",
                         id, TP_SCHEMA_MAX_BYTES);
                st = TP_CATALOG_REFUSED;
        } else if (reply.code == 404) {
                snprintf(errstr, errstr_size,
                         "schema id %d unknown to the schema registry (404)",
                         id);
                st = TP_CATALOG_UNKNOWN;
        } else if (reply.code != 200) {
                snprintf(errstr, errstr_size,
                         "schema registry answered HTTP %ld for id %d",
                         reply.code, id);
        } else {
                st = tp_registry_parse(&reply, id, json_out, errstr,
                                       errstr_size);
        }
        tp_http_reply_release(&reply);
        return st;
}

static struct tp_catalog_entry *tp_catalog_find(struct tp_catalog *cat,
                                                int32_t id)
{
        for (size_t i = 0; i < cat->n_entries; i++)
                if (cat->entries[i].id == id)
                        return &cat->entries[i];
        return NULL;
}

/* Loads id from the directory, then the registry. */
static enum tp_catalog_status tp_catalog_load(struct tp_catalog *cat,
                                              int32_t id, char **json,
                                              char *errstr, size_t errstr_size)
{
        int found;
        *json = tp_catalog_read_dir(cat, id, &found, errstr, errstr_size);
        if (*json)
                return TP_CATALOG_OK;
        if (found)
                return TP_CATALOG_INCOMPATIBLE;
        if (!cat->registry_url)
                return TP_CATALOG_UNKNOWN;
        struct tp_registry_opts reg = {cat->registry_url, cat->registry_ca_file,
                                       cat->registry_user,
                                       cat->registry_password};
        return tp_registry_fetch(&reg, id, json, errstr, errstr_size);
}

static struct tp_catalog_entry *tp_catalog_slot(struct tp_catalog *cat,
                                                int32_t id)
{
        struct tp_catalog_entry *e = tp_catalog_find(cat, id);
        if (e) {
                free(e->error);
                e->error = NULL;
                return e;
        }
        if (cat->n_entries >= TP_CATALOG_MAX_ENTRIES) {
                /* Evict a negative entry; decoders stay. */
                for (size_t i = 0; i < cat->n_entries; i++) {
                        if (cat->entries[i].status != TP_CATALOG_OK) {
                                free(cat->entries[i].error);
                                cat->entries[i] =
                                        cat->entries[--cat->n_entries];
                                break;
                        }
                }
                if (cat->n_entries >= TP_CATALOG_MAX_ENTRIES)
                        return NULL;
        }
        cat->entries =
                tp_xrealloc(cat->entries, (cat->n_entries + 1) * sizeof(*e));
        e = &cat->entries[cat->n_entries++];
        memset(e, 0, sizeof(*e));
        e->id = id;
        return e;
}

enum tp_catalog_status tp_catalog_get(struct tp_catalog *cat, int32_t id,
                                      struct tp_avrodec **dec_out, char *errstr,
                                      size_t errstr_size)
{
        struct tp_catalog_entry *e = tp_catalog_find(cat, id);
        enum tp_catalog_status st;
        char *json = NULL;
        struct tp_avrodec *dec = NULL;

        if (e && (e->status == TP_CATALOG_OK || tp_mono_ms() < e->expires_ms)) {
                if (e->status == TP_CATALOG_OK)
                        *dec_out = e->dec;
                else
                        snprintf(errstr, errstr_size, "%s", e->error);
                return e->status;
        }
        st = tp_catalog_load(cat, id, &json, errstr, errstr_size);
        if (st == TP_CATALOG_OUTAGE)
                return st; /* never cached: retried by the caller */
        if (st == TP_CATALOG_OK &&
            tp_avroschema_check(json, strlen(json), errstr, errstr_size) != 0)
                st = TP_CATALOG_REFUSED;
        if (st == TP_CATALOG_OK) {
                dec = tp_avrodec_new(cat->reader, json, strlen(json), errstr,
                                     errstr_size);
                if (!dec)
                        st = TP_CATALOG_INCOMPATIBLE;
        }
        free(json);
        e = tp_catalog_slot(cat, id);
        if (!e) {
                tp_avrodec_destroy(dec);
                return st == TP_CATALOG_OK ? TP_CATALOG_UNKNOWN : st;
        }
        e->status = st;
        e->dec = dec;
        e->expires_ms = st == TP_CATALOG_REFUSED
                                ? INT64_MAX
                                : tp_mono_ms() + TP_NEGATIVE_TTL_MS;
        if (st != TP_CATALOG_OK)
                e->error = tp_xstrdup(errstr);
        else
                *dec_out = dec;
        return st;
}
