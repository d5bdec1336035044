#!/usr/bin/env bash
# test_alert_outbox.sh - the Kafka sink's outbox relay marks exactly the
# rows it published (issue 11, item 6). A deterministic race: a transaction
# holds a lower outbox id open while the relay reads the outbox, publishes a
# higher id and waits for the broker; the lower id commits before the relay
# marks what it sent. Marking "every id up to the highest sent" would mark
# the lower row sent without ever publishing it; the relay must publish it
# in a later round, exactly once.
#
#   BUILD_DIR=build-asan bash tests/integration/test_alert_outbox.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$TP_ROOT"

W=$(tp_workdir)
tp_pg_start
tp_broker_start 1
"$TTHC_BIN/tthc-admin" migrate --pg "$TTHC_PG" --migrations schemas/sql \
	--reference reference >"$W/migrate.log" 2>&1 ||
	{ cat "$W/migrate.log" >&2; tp_die "migrate failed"; }

control() { # control CMD: a broker control command, confirmed in its log
	local before
	before=$(grep -c 'control command' "$TP_BROKER_LOG" || true)
	echo "$1" >"$TTHC_BROKER_CONTROL"
	tp_wait_for "(( \$(grep -c 'control command' '$TP_BROKER_LOG') > $before ))" 10 ||
		tp_die "the broker did not confirm '$1'"
}

# Three alerts, each in its own commune: the commune code is the key of
# their messages on tthc.alerts, which tells them apart when read back.
A_WARM=00000000-0000-4000-8000-0000000000c0
A_LOW=00000000-0000-4000-8000-0000000000c1
A_HIGH=00000000-0000-4000-8000-0000000000c2
tp_psql_val "INSERT INTO tthc.alerts (alert_id, province_code, commune_code,
  rule, severity, status, value, threshold, started_at, changed_at)
VALUES ('$A_WARM', '01', '99000', 'overdue_backlog', 'warning', 'firing', 5, 4, now(), now()),
       ('$A_LOW', '01', '99001', 'overdue_backlog', 'warning', 'firing', 5, 4, now(), now()),
       ('$A_HIGH', '01', '99002', 'overdue_backlog', 'warning', 'firing', 5, 4, now(), now())" \
	>/dev/null
outbox_row() { # outbox_row ALERT_ID: the VALUES of an outbox row for it
	printf "('%s', 'fired', 'warning', 'firing', 5, 4, now(), '{}')" "$1"
}
OUTBOX_COLS="tthc.alert_outbox (alert_id, change, severity, status, value, threshold, changed_at, details)"
sent() { # sent ALERT_ID: "t" once its outbox row is marked sent
	tp_psql_val "SELECT bool_and(kafka_sent_at IS NOT NULL) FROM tthc.alert_outbox
	  WHERE alert_id = '$1'"
}

cat >"$W/rules.conf" <<'RULES'
province_feed_stale.enabled = 0
RULES
"$TTHC_BIN/tthc-alert" --brokers "$TTHC_BROKERS" --pg "$TTHC_PG" \
	--rules "$W/rules.conf" --topics '^tthc\.filings\.01$' \
	--kafka.session.timeout.ms=6000 >"$W/alert.log" 2>&1 &
APID=$!
tp_on_exit bash -c "kill -KILL $APID 2>/dev/null || true"

# Warm up: the relay publishes a row, so the producer is connected.
tp_psql_val "INSERT INTO $OUTBOX_COLS VALUES $(outbox_row "$A_WARM")" >/dev/null
tp_wait_for "[[ \$(sent $A_WARM) == t ]]" 60 ||
	{ tail -20 "$W/alert.log" >&2; tp_die "the relay did not publish the first row"; }

# ---- the race ---------------------------------------------------------------
# 1. The broker goes down: whatever the relay sends now waits in flush.
control "down 1"
# 2. Session L takes the lower id and keeps its transaction open.
mkfifo "$W/low.fifo"
PGAPPNAME=tp-outbox-low psql -XAtq -v ON_ERROR_STOP=1 "$TTHC_PG" \
	<"$W/low.fifo" >"$W/low.out" 2>&1 &
LPID=$!
tp_on_exit bash -c "kill -TERM $LPID 2>/dev/null || true"
exec 7>"$W/low.fifo"
printf 'BEGIN;\nINSERT INTO %s VALUES %s;\n' "$OUTBOX_COLS" "$(outbox_row "$A_LOW")" >&7
tp_wait_for "[[ \$(tp_psql_super_val \"SELECT state FROM pg_stat_activity
	WHERE application_name = 'tp-outbox-low'\") == 'idle in transaction' ]]" 20 ||
	{ cat "$W/low.out" >&2; tp_die "session L did not hold its INSERT open"; }
# 3. A higher id commits.
tp_psql_val "INSERT INTO $OUTBOX_COLS VALUES $(outbox_row "$A_HIGH")" >/dev/null
# 4. The relay reads the outbox, sees the higher id (not the lower,
#    uncommitted one) and is stuck in flush. Seen from PostgreSQL: its
#    connection idle, the outbox SELECT its last query, and no query for
#    3 s, though a relay that is not waiting runs one every 0.5 s. Only a
#    SELECT that returned a row waits for the broker, and the only row it
#    can have returned is the higher id.
tp_wait_for "[[ \$(tp_psql_super_val \"SELECT count(*) FROM pg_stat_activity
	WHERE application_name = 'tthc-alert-sinks' AND state = 'idle'
	  AND query LIKE 'SELECT o.id, o.alert_id%FROM tthc.alert_outbox%'
	  AND state_change < clock_timestamp() - interval '3 s'\") == 1 ]]" 60 ||
	{ tail -20 "$W/alert.log" >&2; tp_die "the relay did not wait for the broker after reading the outbox"; }
tp_assert_eq "f " "$(sent "$A_HIGH") $(sent "$A_LOW")" \
	"while the broker is down nothing is marked sent (the lower id is not even visible)"
# 5. The lower id commits while the relay waits for the broker.
printf 'COMMIT;\n' >&7
exec 7>&-
wait "$LPID" || { cat "$W/low.out" >&2; tp_die "session L failed"; }
LOW_ID=$(tp_psql_val "SELECT id FROM tthc.alert_outbox WHERE alert_id = '$A_LOW'")
HIGH_ID=$(tp_psql_val "SELECT id FROM tthc.alert_outbox WHERE alert_id = '$A_HIGH'")
tp_assert_eq yes "$(((LOW_ID < HIGH_ID)) && echo yes || echo "no: $LOW_ID, $HIGH_ID")" \
	"the row committed late has the lower id ($LOW_ID < $HIGH_ID)"
# 6. The broker comes back: the relay marks what it published, then sends
#    the lower row in a later round.
control "up 1"
tp_wait_for "[[ \$(sent $A_HIGH) == t && \$(sent $A_LOW) == t ]]" 60 ||
	tail -20 "$W/alert.log" >&2
tp_assert_eq "t t" "$(sent "$A_HIGH") $(sent "$A_LOW")" \
	"both rows are marked sent once the broker is back"
kill -TERM "$APID"
rc=0
wait "$APID" || rc=$?
tp_assert_eq 0 "$rc" "tthc-alert exits 0 on SIGTERM"

# ---- what tthc.alerts holds -------------------------------------------------
# Read back with a throwaway consumer group of tthc-ingest, which keeps
# every message it cannot read as a filing (raw bytes, key) in
# tthc.rejected_messages.
"$TTHC_BIN/tthc-ingest" --brokers "$TTHC_BROKERS" --pg "$TTHC_PG" \
	--topics '^tthc\.alerts$' --group tp-verify-alerts --dlq-topic tthc.verify.dlq \
	--exit-when-idle --idle-exit-ms 3000 --kafka.session.timeout.ms=6000 \
	>"$W/verify.log" 2>&1 || { tail -5 "$W/verify.log" >&2; }
tp_assert_eq "99000:1 99001:1 99002:1" "$(tp_psql_val "SELECT string_agg(k || ':' || n, ' ' ORDER BY k)
  FROM (SELECT convert_from(message_key, 'UTF8') AS k, count(*) AS n
        FROM tthc.rejected_messages WHERE topic = 'tthc.alerts' GROUP BY 1) m")" \
	"tthc.alerts holds each row exactly once, the late lower id included"

tp_finish
