# shellcheck shell=bash
# common_route.sh - tthc-route's aggregates against SQL over tthc-ingest's
# tables of the same stream (sourced after lib.sh, with TTHC_PG set).
#
#   tp_diff_count "SQL A" "SQL B"  rows of the symmetric difference (0: equal)
#   tp_route_exact LABEL           every exact check of tthc-route: dossier
#                                  state, transfers, per-level counters,
#                                  time-at-level histograms, anomalies;
#                                  leaves tthc.test_stints (exact stints)
#                                  for percentile checks

tp_diff_count() {
	tp_psql_val "WITH a AS ($1), b AS ($2) SELECT count(*) FROM
		((TABLE a EXCEPT ALL TABLE b) UNION ALL
		 (TABLE b EXCEPT ALL TABLE a)) x"
}

TP_VN="AT TIME ZONE 'Asia/Ho_Chi_Minh')::date"

tp_route_exact() {
	local label=$1 VN=$TP_VN
	diff_count() { tp_diff_count "$@"; }
	tp_psql_val "SET client_min_messages = warning;
		DROP TABLE IF EXISTS tthc.test_stints" >/dev/null

	tp_assert_eq 0 "$(tp_psql_val "SELECT count(*) FROM tthc.dossiers d
		FULL JOIN tthc.route_dossiers r USING (province_code, dossier_id)
		WHERE r.last_seq IS DISTINCT FROM d.last_seq
		   OR r.status IS DISTINCT FROM d.status
		   OR r.outcome IS DISTINCT FROM d.outcome
		   OR r.original_due_at IS DISTINCT FROM d.original_due_at")" \
		"[$label] route_dossiers agrees with tthc.dossiers (last_seq, status, outcome)"

	tp_assert_eq 0 "$(diff_count \
		"SELECT day, province_code, procedure_code, procedure_level,
		        from_level, to_level, to_agency_code, sum(transfers)::bigint
		 FROM tthc.procedure_routing_daily GROUP BY 1, 2, 3, 4, 5, 6, 7" \
		"SELECT (occurred_at $VN, province_code, procedure_code,
		        procedure_level, handling_level, to_level, to_agency_code,
		        count(*)
		 FROM tthc.filing_events WHERE event_type = 'TRANSFERRED'
		 GROUP BY 1, 2, 3, 4, 5, 6, 7")" \
		"[$label] transfers per day, procedure, from/to level and agency are exact"
	tp_assert_eq 0 "$(tp_psql_val "SELECT count(*) FROM tthc.procedure_routing_daily
		WHERE transfers <= 0")" "[$label] no empty routing rows"

	tp_assert_eq 0 "$(diff_count \
		"SELECT day, province_code, procedure_code, procedure_level,
		        handling_level, received, resolved_early, resolved_on_time,
		        resolved_late, stopped, withdrawn, supplement_requested
		 FROM tthc.procedure_level_daily
		 WHERE received + resolved_early + resolved_on_time + resolved_late
		       + stopped + withdrawn + supplement_requested > 0" \
		"SELECT (e.occurred_at $VN, e.province_code, e.procedure_code,
		        e.procedure_level, e.handling_level,
		        count(*) FILTER (WHERE event_type = 'RECEIVED')::int,
		        count(*) FILTER (WHERE event_type = 'RESOLVED'
		                         AND d.outcome = 'early')::int,
		        count(*) FILTER (WHERE event_type = 'RESOLVED'
		                         AND d.outcome = 'on_time')::int,
		        count(*) FILTER (WHERE event_type = 'RESOLVED'
		                         AND d.outcome = 'late')::int,
		        count(*) FILTER (WHERE event_type = 'STOPPED')::int,
		        count(*) FILTER (WHERE event_type = 'WITHDRAWN')::int,
		        count(*) FILTER (WHERE event_type = 'SUPPLEMENT_REQUESTED')::int
		 FROM tthc.filing_events e JOIN tthc.dossiers d
		      USING (province_code, dossier_id)
		 WHERE event_type IN ('RECEIVED', 'RESOLVED', 'STOPPED', 'WITHDRAWN',
		                      'SUPPLEMENT_REQUESTED')
		 GROUP BY 1, 2, 3, 4, 5")" \
		"[$label] received / resolved (early, on time, late) / stopped / withdrawn / supplements per procedure and level are exact"

	# Exact time at each level, from the raw events: a stint starts at
	# RECEIVED or TRANSFERRED (at to_level) and ends at the next TRANSFERRED,
	# RESOLVED, STOPPED or WITHDRAWN; the intervals after an event that
	# leaves a pause open are subtracted.
	# Window functions only (linear): s1 = the next event that ends the
	# stint, paused_before = paused seconds before each event.
	tp_psql_val "CREATE TABLE tthc.test_stints AS
	WITH e AS (
		SELECT province_code, dossier_id, procedure_code, procedure_level,
		       seq, event_type, occurred_at, handling_level, to_level,
		       sum(CASE WHEN event_type IN ('SUPPLEMENT_REQUESTED', 'SUSPENDED') THEN 1
		                WHEN event_type IN ('SUPPLEMENT_RECEIVED', 'RESUMED') THEN -1
		                ELSE 0 END) OVER w AS depth,
		       lead(occurred_at) OVER w AS next_at
		FROM tthc.filing_events
		WINDOW w AS (PARTITION BY province_code, dossier_id ORDER BY seq)
	), p AS (
		SELECT *,
		       coalesce(sum(CASE WHEN depth > 0
		                         THEN extract(epoch FROM next_at - occurred_at)
		                         ELSE 0 END)
		                OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
		                0) AS paused_before,
		       min(seq) FILTER (WHERE event_type IN ('TRANSFERRED', 'RESOLVED',
		                                             'STOPPED', 'WITHDRAWN'))
		                OVER (w ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS s1
		FROM e
		WINDOW w AS (PARTITION BY province_code, dossier_id ORDER BY seq)
	)
	SELECT b.province_code, b.procedure_code, b.procedure_level,
	       CASE WHEN b.event_type = 'RECEIVED' THEN b.handling_level
	            ELSE b.to_level END AS lvl,
	       (e1.occurred_at $VN AS day,
	       (extract(epoch FROM e1.occurred_at - b.occurred_at)
	        - (e1.paused_before - b.paused_before)) / 3600.0 AS hours
	FROM p b JOIN p e1 ON e1.province_code = b.province_code
	     AND e1.dossier_id = b.dossier_id AND e1.seq = b.s1
	WHERE b.event_type IN ('RECEIVED', 'TRANSFERRED')" >/dev/null

	tp_assert_eq 0 "$(diff_count \
		"SELECT day, province_code, procedure_code, procedure_level,
		        handling_level, stints, hist
		 FROM tthc.procedure_level_daily WHERE stints > 0" \
		"SELECT day, province_code, procedure_code, procedure_level, lvl,
		        count(*)::int,
		        tthc.hist_sum(array_fill(0, ARRAY[tthc.hist_bucket(hours) - 1])
		                      || 1
		                      || array_fill(0, ARRAY[27 - tthc.hist_bucket(hours)]))
		 FROM tthc.test_stints GROUP BY 1, 2, 3, 4, 5")" \
		"[$label] time-at-level histograms per day, procedure and level are exact"

	# The monthly sums (migration 019) are the daily rows summed, row for row.
	tp_assert_eq 0 "$(diff_count \
		"SELECT * FROM tthc.procedure_level_by_month" \
		"SELECT date_trunc('month', day)::date, province_code, procedure_code,
		        procedure_level, handling_level, sum(received), sum(resolved_early),
		        sum(resolved_on_time), sum(resolved_late), sum(stopped),
		        sum(withdrawn), sum(supplement_requested), sum(stints),
		        sum(stint_ms), tthc.hist_sum(hist)
		 FROM tthc.procedure_level_daily GROUP BY 1, 2, 3, 4, 5")" \
		"[$label] procedure_level_by_month holds the daily rows summed per month"
	tp_assert_eq 0 "$(diff_count \
		"SELECT * FROM tthc.procedure_routing_by_month" \
		"SELECT date_trunc('month', day)::date, province_code, procedure_code,
		        procedure_level, from_level, to_level, to_agency_code,
		        sum(transfers)
		 FROM tthc.procedure_routing_daily GROUP BY 1, 2, 3, 4, 5, 6, 7")" \
		"[$label] procedure_routing_by_month holds the daily rows summed per month"
	tp_assert_eq 0 "$(diff_count \
		"SELECT * FROM tthc.routing_anomalies_by_month" \
		"SELECT date_trunc('month', day)::date, province_code, procedure_code,
		        procedure_level, sum(resolved), sum(resolved_off_level),
		        sum(transferred_dossiers), sum(multi_transfer_dossiers),
		        sum(transfers), sum(down_transfers)
		 FROM tthc.routing_anomalies_daily GROUP BY 1, 2, 3, 4")" \
		"[$label] routing_anomalies_by_month holds the daily rows summed per month"

	tp_assert_eq 0 "$(diff_count \
		"SELECT day, province_code, procedure_code, procedure_level, resolved,
		        resolved_off_level, transferred_dossiers,
		        multi_transfer_dossiers, transfers, down_transfers
		 FROM tthc.routing_anomalies_daily" \
		"WITH e AS (SELECT *, (occurred_at $VN AS day,
		        row_number() OVER (PARTITION BY province_code, dossier_id,
		                           event_type ORDER BY seq) AS nth,
		        CASE handling_level WHEN 'COMMUNE' THEN 0 WHEN 'PROVINCE' THEN 1
		             ELSE 2 END AS from_rank,
		        CASE to_level WHEN 'COMMUNE' THEN 0 WHEN 'PROVINCE' THEN 1
		             ELSE 2 END AS to_rank
		      FROM tthc.filing_events
		      WHERE event_type IN ('RESOLVED', 'TRANSFERRED'))
		 SELECT day, province_code, procedure_code, procedure_level,
		        count(*) FILTER (WHERE event_type = 'RESOLVED')::int,
		        count(*) FILTER (WHERE event_type = 'RESOLVED'
		                         AND handling_level <> procedure_level)::int,
		        count(*) FILTER (WHERE event_type = 'TRANSFERRED' AND nth = 1)::int,
		        count(*) FILTER (WHERE event_type = 'TRANSFERRED' AND nth = 2)::int,
		        count(*) FILTER (WHERE event_type = 'TRANSFERRED')::int,
		        count(*) FILTER (WHERE event_type = 'TRANSFERRED'
		                         AND to_rank < from_rank)::int
		 FROM e GROUP BY 1, 2, 3, 4")" \
		"[$label] routing anomalies per day and procedure are exact"
}
