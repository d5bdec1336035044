/* decode_bench: ns per tp_avrodec_decode of one message, through the
 * generic avro-c path and through the direct decoder (docs/performance.md,
 * "The direct decoder"). Each message of the checked-in fuzz corpus is a
 * framed Kafka value; its writer schema is the catalog's "<id>-*.avsc".
 * Every decode is followed by tp_event_release, as a consumer does.
 *
 * usage: decode_bench [N]   (default 1000000 decodes per message and path)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "avrodec.h"
#include "framing.h"
#include "util.h"

#ifndef TTHC_SOURCE_DIR
#define TTHC_SOURCE_DIR "."
#endif

struct bench_case {
        const char *message; /* under tests/fuzz/corpus */
        const char *schema;  /* the writer schema of its id */
};

static const struct bench_case bench_cases[] = {
        {"contract-received", "schemas/avro/1-filing_event.avsc"},
        {"evolved-7-resolved", "tests/fuzz/schemas/7-evolved.avsc"},
        /* the wide writer: a record, arrays, maps and a fixed skipped */
        {"evolved-wide-transfer", "tests/fuzz/schemas/9-wide.avsc"},
};

static double now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static char *load(const char *rel, size_t *len)
{
        char path[1024], err[256];
        char *buf;
        snprintf(path, sizeof(path), "%s/%s", TTHC_SOURCE_DIR, rel);
        buf = tp_read_file(path, 1 << 20, len, err, sizeof(err));
        if (!buf) {
                fprintf(stderr, "decode_bench: %s\n", err);
                exit(1);
        }
        return buf;
}

/* ns per decode+release of body with dec's current path */
static double bench_path(struct tp_avrodec *dec, const unsigned char *body,
                         size_t len, long n)
{
        char err[256];
        struct tp_event ev;
        double t0;

        memset(&ev, 0, sizeof(ev));
        for (long i = 0; i < n / 10 + 1; i++) { /* warm up */
                if (tp_avrodec_decode(dec, body, len, &ev, err, sizeof(err)) !=
                    TP_REASON_OK) {
                        fprintf(stderr, "decode_bench: %s\n", err);
                        exit(1);
                }
                tp_event_release(&ev);
        }
        t0 = now_ns();
        for (long i = 0; i < n; i++) {
                (void)tp_avrodec_decode(dec, body, len, &ev, err, sizeof(err));
                tp_event_release(&ev);
        }
        return (now_ns() - t0) / (double)n;
}

int main(int argc, char **argv)
{
        long n = argc > 1 ? atol(argv[1]) : 1000000;
        char err[256];
        size_t rlen;
        char *rjson = load("schemas/avro/1-filing_event.avsc", &rlen);
        struct tp_avro_reader *rd =
                tp_avro_reader_new(rjson, rlen, err, sizeof(err));

        if (!rd || n <= 0) {
                fprintf(stderr, "decode_bench: %s\n", rd ? "bad N" : err);
                return 1;
        }
        printf("%-24s %6s %12s %12s %7s\n", "message", "bytes", "generic ns",
               "direct ns", "speedup");
        for (size_t k = 0; k < sizeof(bench_cases) / sizeof(bench_cases[0]);
             k++) {
                char rel[256];
                size_t mlen, wlen, blen;
                char *msg, *wjson;
                const unsigned char *body;
                int32_t id;
                struct tp_avrodec *dec;
                double generic, direct;

                snprintf(rel, sizeof(rel), "tests/fuzz/corpus/%s",
                         bench_cases[k].message);
                msg = load(rel, &mlen);
                wjson = load(bench_cases[k].schema, &wlen);
                if (tp_framing_parse(msg, mlen, &id, &body, &blen, err,
                                     sizeof(err)) != 0 ||
                    !(dec = tp_avrodec_new(rd, wjson, wlen, err,
                                           sizeof(err)))) {
                        fprintf(stderr, "decode_bench: %s: %s\n", rel, err);
                        return 1;
                }
                (void)tp_avrodec_set_generic(dec, 1);
                generic = bench_path(dec, body, blen, n);
                if (tp_avrodec_set_generic(dec, 0) != 0) {
                        fprintf(stderr, "decode_bench: %s falls back\n", rel);
                        return 1;
                }
                direct = bench_path(dec, body, blen, n);
                printf("%-24s %6zu %12.1f %12.1f %6.1fx\n",
                       bench_cases[k].message, blen, generic, direct,
                       generic / direct);
                tp_avrodec_destroy(dec);
                free(wjson);
                free(msg);
        }
        tp_avro_reader_destroy(rd);
        free(rjson);
        return 0;
}
