#!/usr/bin/env bash
# test_alert_ops.sh - tthc-alert's operations: a schema registry that is
# down at start (alerts wait in the outbox, ingestion goes on) then up (the
# alert schema is registered under tthc.alerts-value and the messages are
# framed with the id returned); /metrics (active alerts, transitions,
# deliveries, outbox, watermark age) against PostgreSQL; SIGHUP with
# invalid rules (file:line logged, old rules kept) and then valid ones
# that enable a seconds-long province_feed_stale with round-the-clock
# office hours: it fires on the silent feed and resolves when a message
# arrives; SIGTERM exits 0.
set -uo pipefail # no -e: checks exit codes itself (CONTRIBUTING.md)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$TP_ROOT" || exit 1

W=$(tp_workdir)
tp_pg_start
tp_broker_start 3
"$TTHC_BIN/tthc-admin" migrate --pg "$TTHC_PG" --migrations schemas/sql \
	--reference reference >"$W/migrate.log" 2>&1 ||
	{ cat "$W/migrate.log" >&2; tp_die "migrate failed"; }
"$TTHC_BIN/tthc-sim" --brokers "$TTHC_BROKERS" --provinces 48 \
	--from 2025-09-01 --days 10 --laggards 1 --seed 11 \
	--truth "$W/truth.json" >"$W/sim.log" 2>&1 ||
	{ cat "$W/sim.log" >&2; tp_die "tthc-sim failed"; }

REG=$W/registry
mkdir -p "$REG"
cp schemas/avro/1-filing_event.avsc "$REG/"
touch "$REG/.down"
python3 tests/tools/fake_registry.py "$REG" "$W/reg.port" &
tp_on_exit kill $!
tp_wait_for "test -s '$W/reg.port'" 10 || tp_die "registry did not start"
REG_URL="http://127.0.0.1:$(cat "$W/reg.port")"

RULES=$W/rules.conf
cat >"$RULES" <<'RULES'
alertmanager.catchup_lag_hours = 1000000
province_feed_stale.enabled = 0
RULES
echo "log-level = info" >"$W/alert.conf"
PORT=$(tp_free_port)
URL=http://127.0.0.1:$PORT
"$TTHC_BIN/tthc-alert" --brokers "$TTHC_BROKERS" --pg "$TTHC_PG" \
	--config "$W/alert.conf" --rules "$RULES" --registry "$REG_URL" \
	--http-port "$PORT" --kafka.session.timeout.ms=6000 \
	>"$W/alert.log" 2>&1 &
APID=$!
tp_on_exit bash -c "kill -KILL $APID 2>/dev/null || true"

scrape() { curl -fs "$URL/metrics" >"$W/m" 2>/dev/null; }
metric() { awk -v k="$1" '$1 == k {print $2}' "$W/m"; }
msum() { awk -v k="$1" 'index($1, k) == 1 {s += $2} END {print s + 0}' "$W/m"; }

# ---- 1. registry down at start: alerts wait, ingestion goes on ------------
tp_wait_for "[[ \$(tp_psql_val \"SELECT count(*) FROM tthc.alert_provinces
	WHERE caught_up\") == 1 ]]" 120 ||
	{ tail -20 "$W/alert.log" >&2; tp_die "tthc-alert did not catch up"; }
tp_wait_for "grep -q 'schema registration failed' '$W/alert.log'" 30
tp_assert_eq 0 $? "a registry outage is logged and retried"
grep -q "$REG_URL" "$W/alert.log"
tp_assert_eq 1 $? "the registry URL is not logged"
PENDING=$(tp_psql_val "SELECT count(*) FROM tthc.alert_outbox WHERE kafka_sent_at IS NULL")
tp_assert_eq 1 "$((PENDING > 0))" "alerts wait in the outbox ($PENDING) while the registry is down"
tp_wait_for "scrape && [[ \$(metric tthc_alert_outbox_pending) == $PENDING ]]" 10
tp_assert_eq "$PENDING" "$(metric tthc_alert_outbox_pending)" "tthc_alert_outbox_pending"
tp_assert_eq 1 "$(($(msum 'tthc_alert_deliveries_total{sink="registry",result="error"}') > 0))" \
	"failed registrations counted"
rm "$REG/.down"
tp_wait_for "grep -q 'registered the alert schema under tthc.alerts-value: id 100' '$W/alert.log'" 90
tp_assert_eq 0 $? "the schema is registered once the registry is back (id 100)"
tp_wait_for "[[ \$(tp_psql_val \"SELECT count(*) FROM tthc.alert_outbox
	WHERE kafka_sent_at IS NULL\") == 0 ]]" 30
tp_assert_eq 0 $? "the outbox drains once registered"

# ---- 2. /metrics against PostgreSQL ------------------------------------------
OUTBOX=$(tp_psql_val "SELECT count(*) FROM tthc.alert_outbox")
FIRING=$(tp_psql_val "SELECT count(*) FROM tthc.alerts WHERE status = 'firing'")
FIRED=$(tp_psql_val "SELECT count(*) FROM tthc.alert_outbox WHERE change = 'fired'")
RESOLVED=$(tp_psql_val "SELECT count(*) FROM tthc.alert_outbox WHERE change = 'resolved'")
tp_wait_for "scrape && [[ \$(metric tthc_alert_outbox_pending) == 0 ]]" 10
tp_assert_eq "$FIRING" "$(msum tthc_alerts_active)" "tthc_alerts_active sums to the firing episodes ($FIRING)"
tp_assert_eq "$(tp_psql_val "SELECT count(*) FROM tthc.alerts WHERE status = 'firing'
	AND rule = 'overdue_backlog' AND severity = 'warning'")" \
	"$(metric 'tthc_alerts_active{rule="overdue_backlog",severity="warning"}')" \
	"tthc_alerts_active by rule and severity"
tp_assert_eq "$FIRED" "$(metric 'tthc_alert_transitions_total{change="fired"}')" \
	"tthc_alert_transitions_total fired"
tp_assert_eq "$RESOLVED" "$(msum 'tthc_alert_transitions_total{change="resolved"}')" \
	"tthc_alert_transitions_total resolved"
tp_assert_eq "$OUTBOX" "$(metric 'tthc_alert_deliveries_total{sink="kafka",result="ok"}')" \
	"tthc_alert_deliveries_total kafka ok"
AGE=$(metric 'tthc_watermark_age_seconds{province="48"}')
WANT=$(tp_psql_val "SELECT extract(epoch FROM now() - watermark) FROM tthc.alert_provinces")
tp_assert_eq 1 "$(python3 -c "print(int(abs($AGE - $WANT) < 10))")" \
	"tthc_watermark_age_seconds is wall clock minus the watermark ($AGE s)"

# The Kafka messages carry the registry's id (read back raw by a throwaway
# tthc-ingest group, which keeps what it cannot read as a dead letter).
"$TTHC_BIN/tthc-ingest" --brokers "$TTHC_BROKERS" --pg "$TTHC_PG" \
	--topics tthc.alerts --group tp-verify-alerts --dlq-topic tthc.verify.dlq \
	--exit-when-idle --kafka.session.timeout.ms=6000 >"$W/verify.log" 2>&1 ||
	tail -5 "$W/verify.log" >&2
tp_assert_eq "$OUTBOX" "$(tp_psql_val "SELECT count(*) FROM tthc.rejected_messages
	WHERE topic = 'tthc.alerts' AND substr(raw_value, 1, 5) = '\\x0000000064'::bytea")" \
	"every alert message is framed with the registered id 100"

# ---- 3. SIGHUP: invalid rules are refused, the old ones kept ---------------
cat >"$RULES" <<'RULES'
alertmanager.catchup_lag_hours = 1000000
province_feed_stale.enabled = 0
overdue_backlog.warning = many
RULES
kill -HUP "$APID"
tp_wait_for "grep -q 'SIGHUP: rules not reloaded, keeping the previous rules: $RULES:3:' '$W/alert.log'" 20
tp_assert_eq 0 $? "SIGHUP with invalid rules logs file:line and keeps the old rules"
kill -0 "$APID"
tp_assert_eq 0 $? "still running"

# ---- 4. SIGHUP: province_feed_stale with a few seconds of silence -----------
cat >"$RULES" <<'RULES'
alertmanager.catchup_lag_hours = 1000000
province_feed_stale.warning = 0.002   # 7.2 s
province_feed_stale.critical = 1000
office.start_hour = 0
office.end_hour = 24
office.every_day = 1
RULES
echo "log-level = debug" >"$W/alert.conf"
kill -HUP "$APID"
tp_wait_for "grep -q 'SIGHUP: rules reloaded from $RULES' '$W/alert.log'" 20
tp_assert_eq 0 $? "SIGHUP reloads the rules"
grep -q 'SIGHUP: reloaded (log level debug' "$W/alert.log"
tp_assert_eq 0 $? "SIGHUP reloads the log level"
stale() {
	tp_psql_val "SELECT count(*) FROM tthc.alerts WHERE rule = 'province_feed_stale'
		AND province_code = '48' AND status = '$1'"
}
tp_wait_for "[[ \$(stale firing) == 1 ]]" 30
tp_assert_eq 1 "$(stale firing)" "province_feed_stale fires on the silent feed after the reload"
tp_wait_for "scrape && [[ \$(metric 'tthc_alerts_active{rule=\"province_feed_stale\",severity=\"warning\"}') == 1 ]]" 10
tp_assert_eq 1 "$(metric 'tthc_alerts_active{rule="province_feed_stale",severity="warning"}')" \
	"tthc_alerts_active shows it"
STALE_ID=$(tp_psql_val "SELECT alert_id FROM tthc.alerts WHERE rule = 'province_feed_stale'
	AND status = 'firing'")
echo '{"topic": "tthc.filings.48", "key": "ping", "partition": 0, "raw_hex": "00"}' |
	"$TTHC_BIN/tp-produce" "$TTHC_BROKERS" >/dev/null || tp_die "tp-produce failed"
tp_wait_for "[[ \$(tp_psql_val \"SELECT status FROM tthc.alerts
	WHERE alert_id = '$STALE_ID'\") == resolved ]]" 30
tp_assert_eq "resolved cleared" "$(tp_psql_val "SELECT status || ' ' || resolution
	FROM tthc.alerts WHERE alert_id = '$STALE_ID'")" "a message resolves it"
tp_wait_for "[[ \$(tp_psql_val \"SELECT count(*) FROM tthc.alert_outbox
	WHERE alert_id = '$STALE_ID' AND kafka_sent_at IS NOT NULL\") == 2 ]]" 20
tp_assert_eq 0 $? "both changes are published to tthc.alerts"

kill -TERM "$APID"
wait "$APID"
tp_assert_eq 0 $? "SIGTERM: exit 0"
tp_finish
