#!/usr/bin/env bash
# dump_ingest.sh PG DIR - writes the figures check_ingest.py compares with
# tthc-sim's truth (communes.csv, state.csv, provinces.csv, totals.csv,
# rejected.csv) from the database PG (a libpq connection string) into DIR.
# Used by the integration and torture tests and by scripts/demo.sh.
set -euo pipefail
pg=$1 d=$2
mkdir -p "$d"
q() { psql -XAq -v ON_ERROR_STOP=1 "$pg" -c "\\copy ($2) TO '$d/$1' CSV HEADER"; }
q communes.csv "SELECT province_code, coalesce(commune_code, '') AS commune_code,
	sum(received) AS received, sum(resolved_early) AS resolved_early,
	sum(resolved_on_time) AS resolved_on_time, sum(resolved_late) AS resolved_late,
	sum(stopped) AS stopped, sum(withdrawn) AS withdrawn,
	sum(intake_refused) AS intake_refused, sum(transferred_out) AS transferred_out,
	sum(supplement_requested) AS supplement_requested,
	sum(online_received) AS online_received
	FROM tthc.commune_throughput_hourly GROUP BY 1, 2"
q state.csv "SELECT province_code, coalesce(commune_code, '') AS commune_code,
	count(*) FILTER (WHERE status IN ('processing', 'paused')) AS open,
	count(*) FILTER (WHERE status = 'paused') AS paused,
	count(*) FILTER (WHERE overdue) AS overdue,
	count(*) FILTER (WHERE status = 'submitted') AS intake_backlog
	FROM tthc.open_dossiers GROUP BY 1, 2"
q provinces.csv "SELECT province_code, count(*) AS events,
	count(DISTINCT dossier_id) AS dossiers FROM tthc.filing_events GROUP BY 1"
q totals.csv "SELECT count(*) AS filing_events FROM tthc.filing_events"
q rejected.csv "SELECT reason, count(*) AS n FROM tthc.rejected_messages GROUP BY 1"
