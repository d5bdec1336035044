/* http.c - see http.h. */
#include "http.h"
#include "util.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_once_t tp_http_once = PTHREAD_ONCE_INIT;
static CURLcode tp_http_init_rc;

/* curl_global_init is not thread-safe: run once, whichever thread is
 * first; curl_global_cleanup is left to process exit. */
static void tp_http_init(void)
{
        tp_http_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct tp_http_sink {
        struct tp_http_reply *reply;
        size_t max;
};

static size_t tp_http_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
        struct tp_http_sink *sk = ud;
        struct tp_http_reply *r = sk->reply;
        size_t n = size * nmemb;
        if (sk->max == 0)
                return n;
        if (r->body.len + n > sk->max) {
                r->too_big = 1;
                return 0;
        }
        tp_buf_add(&r->body, ptr, n);
        return n;
}

int tp_http_send(const struct tp_http_req *req, struct tp_http_reply *reply,
                 char *errstr, size_t errstr_size)
{
        struct tp_http_sink sk = {reply, req->max_reply};
        struct curl_slist *hdrs = NULL;
        char ctype[256];
        CURL *h = NULL;
        CURLcode cc;
        int rc = -1;

        memset(reply, 0, sizeof(*reply));
        pthread_once(&tp_http_once, tp_http_init);
        if (tp_http_init_rc != CURLE_OK || !(h = curl_easy_init())) {
                snprintf(errstr, errstr_size, "could not initialise libcurl");
                goto done;
        }
        curl_easy_setopt(h, CURLOPT_URL, req->url);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                         req->connect_timeout_ms ? req->connect_timeout_ms
                                                 : 2000L);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
                         req->timeout_ms ? req->timeout_ms : 5000L);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, tp_http_write);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &sk);
        if (req->ca_file && *req->ca_file)
                curl_easy_setopt(h, CURLOPT_CAINFO, req->ca_file);
        if (req->user && *req->user) {
                curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
                curl_easy_setopt(h, CURLOPT_USERNAME, req->user);
                curl_easy_setopt(h, CURLOPT_PASSWORD,
                                 req->password ? req->password : "");
        }
        if (req->body) {
                snprintf(ctype, sizeof(ctype), "Content-Type: %s",
                         req->content_type ? req->content_type
                                           : "application/json");
                hdrs = curl_slist_append(hdrs, ctype);
                curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
                curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body);
        }
        cc = curl_easy_perform(h);
        if (reply->too_big) {
                /* the server answered; the answer is not kept */
                tp_buf_release(&reply->body);
        } else if (cc != CURLE_OK) {
                snprintf(errstr, errstr_size, "%s", curl_easy_strerror(cc));
                goto done;
        }
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply->code);
        rc = 0;
done:
        curl_slist_free_all(hdrs);
        if (h)
                curl_easy_cleanup(h);
        return rc;
}

void tp_http_reply_release(struct tp_http_reply *reply)
{
        tp_buf_release(&reply->body);
        memset(reply, 0, sizeof(*reply));
}
