#!/usr/bin/env bash
# bench/alert_latency.sh - alert latency: from producing the event that
# makes a commune cross a threshold to the alert arriving on Kafka topic
# tthc.alerts, with tthc-alert running live (not --exit-when-idle) against
# tthc-broker and a local PostgreSQL (tests/integration/lib.sh).
#
#   bench/alert_latency.sh [--trials N] [--batch-ms MS] [--out FILE]
#                          [-- more tthc-alert options]
#
# Each trial, in province 01 (one partition used, the others empty):
# five IN_PERSON dossiers RECEIVED by a fresh commune on a Monday 09:00
# with a due date that evening, a pause for tthc-alert to settle, then
# the crossing event: one more RECEIVED two days later, whose event time
# moves the province watermark past the ticks at which the five are
# overdue, so overdue_backlog fires in that batch. A small librdkafka
# consumer (compiled here from the C below) subscribed to tthc.filings.01
# and tthc.alerts prints each message's producer timestamp (CreateTime)
# and its arrival time (same wall clock); latency = arrival of the
# commune's overdue_backlog alert - CreateTime of the crossing event.
# tthc-alert runs with its default --batch-ms (2000) unless --batch-ms.
#
# Prints a Markdown snippet on stdout, also written to --out if given.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib.sh
source "$ROOT/bench/lib.sh"
TRIALS=5
BATCH_MS=2000
OUT=
bench_args bench/alert_latency.sh "trials batch-ms out" "$@"
cd "$ROOT"
W=$(tp_workdir)

# ---- the timing consumer ----------------------------------------------------
cat >"$W/arrivals.c" <<'C'
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static void on_term(int sig) { (void)sig; stop = 1; }

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Avro zigzag varint at *p; advances *p. */
static long long zz(const unsigned char **p, const unsigned char *end)
{
	unsigned long long u = 0;
	int shift = 0;
	while (*p < end) {
		unsigned char c = *(*p)++;
		u |= (unsigned long long)(c & 0x7f) << shift;
		shift += 7;
		if (!(c & 0x80))
			break;
	}
	return (long long)(u >> 1) ^ -(long long)(u & 1);
}

/* vn.tthc.Alert: header, alert_id, change, rule: prints change and rule. */
static void alert_fields(const rd_kafka_message_t *m, char *out, size_t size)
{
	const unsigned char *p = (const unsigned char *)m->payload + 5;
	const unsigned char *end = (const unsigned char *)m->payload + m->len;
	static const char *const changes[] = {"fired", "changed", "resolved"};
	long long n, ch;
	snprintf(out, size, "- -");
	if (m->len < 6)
		return;
	n = zz(&p, end);
	p += n;
	ch = zz(&p, end);
	n = zz(&p, end);
	if (p + n > end || ch < 0 || ch > 2)
		return;
	snprintf(out, size, "%s %.*s", changes[ch], (int)n, (const char *)p);
}

static void rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
		      rd_kafka_topic_partition_list_t *parts, void *opaque)
{
	(void)opaque;
	if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
		rd_kafka_assign(rk, parts);
		printf("ready %d\n", parts->cnt);
	} else {
		rd_kafka_assign(rk, NULL);
	}
	fflush(stdout);
}

int main(int argc, char **argv)
{
	char err[512], group[64], f[128];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_topic_partition_list_t *topics;
	rd_kafka_t *rk;
	if (argc != 2)
		return 2;
	signal(SIGTERM, on_term);
	snprintf(group, sizeof(group), "tp-latency-%d", (int)getpid());
	if (rd_kafka_conf_set(conf, "bootstrap.servers", argv[1], err, sizeof(err)) ||
	    rd_kafka_conf_set(conf, "group.id", group, err, sizeof(err)) ||
	    rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", err, sizeof(err)) ||
	    rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof(err)) ||
	    rd_kafka_conf_set(conf, "fetch.wait.max.ms", "10", err, sizeof(err)) ||
	    rd_kafka_conf_set(conf, "session.timeout.ms", "6000", err, sizeof(err))) {
		fprintf(stderr, "arrivals: %s\n", err);
		return 1;
	}
	rd_kafka_conf_set_rebalance_cb(conf, rebalance);
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
	if (!rk) {
		fprintf(stderr, "arrivals: %s\n", err);
		return 1;
	}
	rd_kafka_poll_set_consumer(rk);
	topics = rd_kafka_topic_partition_list_new(2);
	rd_kafka_topic_partition_list_add(topics, "tthc.alerts", RD_KAFKA_PARTITION_UA);
	rd_kafka_topic_partition_list_add(topics, "tthc.filings.01", RD_KAFKA_PARTITION_UA);
	rd_kafka_subscribe(rk, topics);
	rd_kafka_topic_partition_list_destroy(topics);
	while (!stop) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 50);
		long long at = now_ms();
		if (!m)
			continue;
		if (!m->err) {
			int alert = strcmp(rd_kafka_topic_name(m->rkt), "tthc.alerts") == 0;
			if (alert)
				alert_fields(m, f, sizeof(f));
			else
				snprintf(f, sizeof(f), "- -");
			printf("%s %.*s %lld %lld %s\n", alert ? "alert" : "event",
			       (int)m->key_len, (const char *)m->key,
			       (long long)rd_kafka_message_timestamp(m, NULL), at, f);
			fflush(stdout);
		}
		rd_kafka_message_destroy(m);
	}
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	return 0;
}
C
# shellcheck disable=SC2046
cc -std=gnu11 -O2 -o "$W/arrivals" "$W/arrivals.c" $(pkg-config --cflags --libs rdkafka) ||
	tp_die "could not compile the timing consumer"

# ---- the stack --------------------------------------------------------------
tp_pg_start
tp_broker_start 3
echo "topic tthc.alerts 3" >"$TTHC_BROKER_CONTROL"
"$TTHC_BIN/tthc-admin" migrate --pg "$TTHC_PG" --migrations schemas/sql \
	--reference reference >"$W/migrate.log" 2>&1 ||
	{ cat "$W/migrate.log" >&2; tp_die "migrate failed"; }
"$TTHC_BIN/tthc-alert" --brokers "$TTHC_BROKERS" --pg "$TTHC_PG" \
	--topics 'tthc.filings.01' --batch-ms "$BATCH_MS" \
	--kafka.session.timeout.ms=6000 --log-level debug ${BENCH_REST[@]+"${BENCH_REST[@]}"} \
	>"$W/alert.log" 2>&1 &
APID=$!
tp_on_exit bash -c "kill -TERM $APID 2>/dev/null; sleep 1; kill -KILL $APID 2>/dev/null || true"
"$W/arrivals" "$TTHC_BROKERS" >"$W/arrivals.log" 2>"$W/arrivals.err" &
CPID=$!
tp_on_exit kill -TERM "$CPID"
tp_wait_for "grep -q '^ready' '$W/arrivals.log'" 60 || tp_die "timing consumer did not join"
tp_wait_for "grep -q 'joined\|assigned\|consuming' '$W/alert.log'" 30 || true
sleep 3

mapfile -t COMMUNES < <(awk -F, '$2 == "01" {print $1}' reference/communes.csv | head -n "$TRIALS")
# events.py TRIAL COMMUNE PART: the JSON lines of one part (setup|cross).
events() {
	python3 - "$1" "$2" "$3" "$ROOT/schemas/avro/1-filing_event.avsc" <<'PY'
import json, sys
trial, commune, part, schema = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
H, DAY = 3600000, 86400000
MON = 1756692000000 + 7 * DAY * trial  # 2025-09-01 09:00 Vietnam time, + weeks
def line(n, at, due):
    d = "LAT-%d-%d" % (trial, n)
    e = {"event_id": "1a7e0000-0000-4000-8000-%06d%06d" % (trial, n),
         "event_type": "RECEIVED", "occurred_at": at, "dossier_id": d, "seq": 1,
         "province_code": "01", "commune_code": commune,
         "procedure_code": "1.004227", "procedure_level": "COMMUNE",
         "channel": "IN_PERSON", "agency_code": "UBND-" + commune,
         "handling_level": "COMMUNE", "to_level": None, "to_agency_code": None,
         "due_at": due, "source_system": "bench", "handling_commune_code": commune}
    return json.dumps({"topic": "tthc.filings.01", "key": d, "partition": 0,
                       "schema_id": 1, "schema_file": schema, "event": e})
if part == "setup":
    for n in range(5):
        print(line(n, MON + n * 60000, MON + 8 * H))
else:
    print(line(99, MON + 2 * DAY + H, MON + 2 * DAY + 8 * H))
PY
}

# One producer for every trial, as a province's system is: a producer
# started per event would add its own connection set-up (about 0.9 s on
# the mock broker: bootstrap and producer id) to every measurement.
mkfifo "$W/produce.fifo"
"$TTHC_BIN/tp-produce" "$TTHC_BROKERS" <"$W/produce.fifo" >"$W/produce.log" 2>&1 &
PPID_=$!
exec 7>"$W/produce.fifo"
tp_on_exit kill -TERM "$PPID_"

LAT=()
SEEN=()
CREATED=()
ARRIVED=()
for ((t = 0; t < TRIALS; t++)); do
	c=${COMMUNES[$t]}
	events "$t" "$c" setup >&7
	sleep 3
	events "$t" "$c" cross >&7
	if ! tp_wait_for "grep -q '^alert $c .* fired overdue_backlog' '$W/arrivals.log'" 30; then
		tail -20 "$W/alert.log" >&2
		tp_die "no overdue_backlog alert for commune $c"
	fi
	created=$(awk -v k="LAT-$t-99" '$1 == "event" && $2 == k {print $3; exit}' "$W/arrivals.log")
	arrived=$(awk -v k="$c" '$1 == "alert" && $2 == k && $6 == "overdue_backlog" {print $4; exit}' "$W/arrivals.log")
	seen=$(awk -v k="LAT-$t-99" '$1 == "event" && $2 == k {print $4; exit}' "$W/arrivals.log")
	LAT+=($((arrived - created)))
	SEEN+=($((seen - created)))
	CREATED+=("$created")
	ARRIVED+=("$arrived")
	tp_log "trial $((t + 1)): commune $c, $((arrived - created)) ms"
	sleep 1
done

# ---- where the time goes ----------------------------------------------------
# From tthc-alert's debug log (same clock): the batch that held the
# crossing event ("committed a batch ...: W ms to write and commit, the
# first received R ms before") and the relay's "published" line after it.
BREAKDOWN=$(python3 - "$W/alert.log" "${CREATED[*]}" "${ARRIVED[*]}" <<'PY'
import datetime, re, sys
def ms(ts):
    d = datetime.datetime.strptime(ts, "%Y-%m-%d %H:%M:%S.%f+00")
    return int(d.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)
commits, pubs = [], []
for l in open(sys.argv[1]):
    m = re.search(r'ts="([^"]+)"', l)
    if not m:
        continue
    at = ms(m.group(1))
    c = re.search(r'committed a batch of \d+ message\(s\): (\d+) ms to write '
                  r'and commit, the first received (\d+) ms before', l)
    if c:
        commits.append((at, int(c.group(1)), int(c.group(2))))
    elif "published" in l and "alert change" in l:
        pubs.append(at)
cols = [[], [], [], [], []]
for created, arrived in zip(map(int, sys.argv[2].split()), map(int, sys.argv[3].split())):
    c = next((c for c in commits if c[0] >= created), None)
    p = next((p for p in pubs if c and p >= c[0]), None)
    if not c or not p:
        continue
    at, write, first = c
    parts = [at - first - created, first - write, write, p - at, arrived - p]
    for i, v in enumerate(parts):
        cols[i].append(v)
med = lambda v: sorted(v)[(len(v) - 1) // 2] if v else 0
names = ["produced → received by tthc-alert", "waiting in the batch",
         "write + evaluate + COMMIT", "COMMIT → relay published (flushed)",
         "published → arrival at the consumer"]
print("| step | median | max |")
print("|---|---|---|")
for n, v in zip(names, cols):
    print("| %s | %d ms | %d ms |" % (n, med(v), max(v) if v else 0))
PY
)

# ---- report ------------------------------------------------------------------
read -r MIN MED MAX < <(printf '%s\n' "${LAT[@]}" | sort -n |
	awk '{a[NR] = $1} END {print a[1], a[int((NR + 1) / 2)], a[NR]}')
CPU=$(lscpu | awk -F: '/Model name/ {gsub(/^ +/, "", $2); print $2; exit}')
MEM=$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
PGV=$(psql -XAtq "$TTHC_PG" -c 'SHOW server_version' | cut -d' ' -f1)
REPORT=$(cat <<MD
## Alert latency

Time from producing the event that makes a commune cross the
\`overdue_backlog\` threshold (its producer timestamp) to the alert's arrival
on Kafka topic \`tthc.alerts\` at a consumer on the same machine, with
\`tthc-alert\` running live (\`--batch-ms $BATCH_MS\`, default 2000) against
tthc-broker and a local PostgreSQL $PGV (\`bench/alert_latency.sh\`,
$TRIALS trials, $(date -u +%Y-%m-%d)).

| trials | min | median | max |
|---|---|---|---|
| $TRIALS | $MIN ms | $MED ms | $MAX ms |

Per trial (ms): ${LAT[*]}. Machine: $(nproc) vCPU $CPU, $MEM RAM,
Linux $(uname -r).

Where the time goes (tthc-alert's debug log, same clock):

$BREAKDOWN

For comparison, the crossing event reached the timing consumer
(\`fetch.wait.max.ms\` 10) after: ${SEEN[*]} ms. Extra tthc-alert
options: ${*:-none}.
MD
)
printf '%s\n' "$REPORT"
[[ -z "$OUT" ]] || printf '%s\n' "$REPORT" >"$OUT"
