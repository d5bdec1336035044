# shellcheck shell=bash
# common_alert.sh - shared steps of the tthc-alert tests (sourced after
# lib.sh, with TTHC_PG set).
#
#   tp_alert_snapshot   every episode, one line each, in id order: what must
#                       be identical between a replay, a kill -9 run and an
#                       uninterrupted run
#   tp_alert_reset      forget tthc-alert's state and offsets (a replay
#                       from the beginning follows)
#   tp_alert_past_rules FILE
#                       writes rules for a stream in the past: a drained
#                       province counts as caught up, so its firing
#                       episodes page; Alertmanager re-sent every 2 s
#   tp_alertmanager_start DIR PORT
#                       a real Alertmanager on 127.0.0.1:PORT (config and
#                       data in DIR, one receiver that drops everything),
#                       stopped on exit

tp_alert_snapshot() {
	tp_psql_val "SELECT alert_id, province_code, commune_code, rule,
		severity, status, round(value::numeric, 6), started_at,
		resolved_at, resolution FROM tthc.alerts ORDER BY alert_id"
}

tp_alert_reset() {
	tp_psql_val "TRUNCATE tthc.alerts, tthc.alert_outbox,
		tthc.alert_delivery, tthc.alert_dossiers, tthc.alert_commune_days,
		tthc.alert_commune_ticks, tthc.alert_partition_state,
		tthc.alert_provinces;
		DELETE FROM tthc.consumer_offsets WHERE group_id = 'tthc-alert'" \
		>/dev/null
}

tp_alert_past_rules() {
	cat >"$1" <<'RULES'
alertmanager.catchup_lag_hours = 1000000
alertmanager.resend_seconds = 2
RULES
}

tp_alertmanager_start() {
	local dir=$1 port=$2
	cat >"$dir/am.yml" <<'AM'
route:
  receiver: blackhole
  group_wait: 1s
receivers:
  - name: blackhole
AM
	prometheus-alertmanager --config.file="$dir/am.yml" \
		--storage.path="$dir/am-data" --web.listen-address="127.0.0.1:$port" \
		--cluster.listen-address= >"$dir/am.log" 2>&1 &
	tp_on_exit _tp_kill_wait $!
}
