/* catalog.h - writer schemas by id: a local catalog directory (files named
 * "<id>-<anything>.avsc") and, when configured, a Confluent-compatible
 * schema registry (GET <url>/schemas/ids/<id>). Decoders are built once per
 * id and cached.
 */
#ifndef TP_CATALOG_H
#define TP_CATALOG_H

#include <stdint.h>

#include "avrodec.h"

enum tp_catalog_status {
        TP_CATALOG_OK,
        TP_CATALOG_UNKNOWN,      /* not in the catalog, registry said 404 */
        TP_CATALOG_INCOMPATIBLE, /* found, but cannot be read as ours */
        TP_CATALOG_OUTAGE,       /* registry down, 5xx or timeout: retry */
        TP_CATALOG_REFUSED       /* found, but refused (avroschema.h, or a
                                    registry answer over the size cap) */
};

/* How to reach the schema registry. Strings are borrowed; NULL or "" for
 * none. The password and user never appear in an error message. */
struct tp_registry_opts {
        const char *url;
        const char *ca_file; /* CA bundle for the registry's TLS certificate */
        const char *user;    /* basic auth, with password */
        const char *password;
};

/* Largest registry answer and catalog file read, in bytes. */
#define TP_CATALOG_SCHEMA_MAX_BYTES (1024 * 1024)

struct tp_catalog;

/* dir: catalog directory (required). registry_url: NULL or "" for none.
 * reader_path: the reader .avsc. Returns NULL and fills errstr on failure.
 */
struct tp_catalog *tp_catalog_new(const char *dir, const char *registry_url,
                                  const char *reader_path, char *errstr,
                                  size_t errstr_size);
void tp_catalog_destroy(struct tp_catalog *cat);

/* Sets the registry's TLS CA file and basic-auth credentials (copied;
 * NULL or "" for none). */
void tp_catalog_set_registry_auth(struct tp_catalog *cat, const char *ca_file,
                                  const char *user, const char *password);

/* Finds the decoder for schema id. On TP_CATALOG_OK *dec_out is set
 * (owned by the catalog, valid until tp_catalog_destroy). Otherwise errstr
 * says why. Unknown and incompatible ids are remembered for a short time
 * so poison messages do not hammer the registry; refused ids are
 * remembered for good (a schema id's text never changes). */
enum tp_catalog_status tp_catalog_get(struct tp_catalog *cat, int32_t id,
                                      struct tp_avrodec **dec_out, char *errstr,
                                      size_t errstr_size);

/* Fetches the schema JSON for id from a registry (heap string, the caller
 * frees it). Exposed for the producer tools. */
enum tp_catalog_status tp_registry_fetch(const struct tp_registry_opts *reg,
                                         int32_t id, char **json_out,
                                         char *errstr, size_t errstr_size);

#endif
