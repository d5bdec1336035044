/* schema_reg.c - see schema_reg.h. */
#include "schema_reg.h"
#include "util.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TP_SCHEMA_MAX_FILE (256 * 1024)
#define TP_REG_MAX_REPLY (64 * 1024)

struct tp_reply {
        char *data;
        size_t len;
};

static size_t tp_reply_write(char *p, size_t sz, size_t n, void *ud)
{
        struct tp_reply *r = ud;
        size_t add = sz * n;
        if (r->len + add > TP_REG_MAX_REPLY)
                return 0;
        r->data = tp_xrealloc(r->data, r->len + add + 1);
        memcpy(r->data + r->len, p, add);
        r->len += add;
        r->data[r->len] = '\0';
        return add;
}

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

static int tp_reg_parse(const struct tp_reply *r, int32_t *id, char *errstr,
                        size_t errstr_size)
{
        json_t *o = r->data ? json_loads(r->data, 0, NULL) : NULL;
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

static int tp_reg_post(CURL *h, const char *url, const char *subject,
                       const char *body, struct tp_reply *reply, long *code,
                       char *errstr, size_t errstr_size)
{
        struct curl_slist *hdrs = NULL;
        char full[2048];
        CURLcode cc;

        snprintf(full, sizeof(full), "%s/subjects/%s/versions", url, subject);
        hdrs = curl_slist_append(
                hdrs, "Content-Type: application/vnd.schemaregistry.v1+json");
        curl_easy_setopt(h, CURLOPT_URL, full);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 5000L);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, tp_reply_write);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, reply);
        cc = curl_easy_perform(h);
        curl_slist_free_all(hdrs);
        if (cc != CURLE_OK) {
                snprintf(errstr, errstr_size, "schema registry unreachable: %s",
                         curl_easy_strerror(cc));
                return -1;
        }
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, code);
        return 0;
}

int tp_schema_register(const char *url, const char *subject,
                       const char *schema_path, int32_t *id, char *errstr,
                       size_t errstr_size)
{
        char *body = tp_reg_body(schema_path, errstr, errstr_size);
        struct tp_reply reply = {NULL, 0};
        CURL *h = NULL;
        long code = 0;
        int rc = -1;

        if (!body)
                goto cleanup;
        h = curl_easy_init();
        if (!h) {
                snprintf(errstr, errstr_size, "could not initialise libcurl");
                goto cleanup;
        }
        if (tp_reg_post(h, url, subject, body, &reply, &code, errstr,
                        errstr_size) != 0)
                goto cleanup;
        if (code != 200) {
                snprintf(errstr, errstr_size,
                         "schema registry answered HTTP %ld registering "
                         "%s: %.200s",
                         code, subject, reply.data ? reply.data : "");
                goto cleanup;
        }
        rc = tp_reg_parse(&reply, id, errstr, errstr_size);
cleanup:
        if (h)
                curl_easy_cleanup(h);
        free(reply.data);
        free(body);
        return rc;
}
