/* schema_reg.c - see schema_reg.h. */
#include "schema_reg.h"
#include "http.h"
#include "util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TP_SCHEMA_MAX_FILE (256 * 1024)
#define TP_REG_MAX_REPLY (64 * 1024)

/* {"schema": "<schema text>"} as a heap string. */
static char *tp_reg_body(const char *schema_path, char *errstr,
                         size_t errstr_size)
{
        size_t len;
        char *text = tp_read_file(schema_path, TP_SCHEMA_MAX_FILE, &len, errstr,
                                  errstr_size);
        json_t *o;
        char *body;
        if (!text)
                return NULL;
        o = json_pack("{s:s}", "schema", text);
        free(text);
        body = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        if (!body)
                snprintf(errstr, errstr_size, "%s is not UTF-8 text",
                         schema_path);
        return body;
}

static int tp_reg_parse(const struct tp_http_reply *r, int32_t *id,
                        char *errstr, size_t errstr_size)
{
        json_t *o = r->body.data ? json_loads(r->body.data, 0, NULL) : NULL;
        json_t *v = json_object_get(o, "id");
        int rc = -1;
        if (json_is_integer(v) && json_integer_value(v) > 0 &&
            json_integer_value(v) <= INT32_MAX) {
                *id = (int32_t)json_integer_value(v);
                rc = 0;
        } else {
                snprintf(errstr, errstr_size,
                         "schema registry reply without an id");
        }
        json_decref(o);
        return rc;
}

int tp_schema_register(const char *url, const char *subject,
                       const char *schema_path, int32_t *id, char *errstr,
                       size_t errstr_size)
{
        char *body = tp_reg_body(schema_path, errstr, errstr_size);
        char full[2048], err[768];
        struct tp_http_reply reply;
        struct tp_http_req req = {
                .url = full,
                .body = body,
                .content_type = "application/vnd.schemaregistry.v1+json",
                .max_reply = TP_REG_MAX_REPLY,
        };
        int rc = -1;

        if (!body)
                return -1;
        snprintf(full, sizeof(full), "%s/subjects/%s/versions", url, subject);
        if (tp_http_send(&req, &reply, err, sizeof(err)) != 0)
                snprintf(errstr, errstr_size, "schema registry unreachable: %s",
                         err);
        else if (reply.code != 200)
                snprintf(errstr, errstr_size,
                         "schema registry answered HTTP %ld registering "
                         "%s: %.200s",
                         reply.code, subject,
                         reply.body.data ? reply.body.data : "");
        else
                rc = tp_reg_parse(&reply, id, errstr, errstr_size);
        tp_http_reply_release(&reply);
        free(body);
        return rc;
}
