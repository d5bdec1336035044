#!/usr/bin/env bash
# test_route.sh - tthc-route against a known stream: duplicates, poison
# messages, a kill -9 restart and two instances in one group. Its
# aggregates must equal what SQL computes from tthc.filing_events and
# tthc.dossiers after tthc-ingest ran on the same stream: transfers and
# per-level counters exactly, time-at-level histograms exactly (so the
# percentiles are within one bucket of the exact value), anomalies
# exactly. The example queries of docs/analysts.md run as tthc_analyst.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$TP_ROOT"

W=$(tp_workdir)
tp_pg_start
tp_broker_start 3
"$TTHC_BIN/tthc-admin" migrate --pg "$TTHC_PG" --migrations schemas/sql \
	--reference reference >"$W/migrate.log" 2>&1 ||
	{ cat "$W/migrate.log" >&2; tp_die "migrate failed"; }
tp_psql_super_val "GRANT tthc_analyst TO tthc_owner" >/dev/null

# ---- the stream ------------------------------------------------------------
cat >"$W/gen.py" <<'EOF'
import json, random, sys, uuid, zlib
rng = random.Random(20251001)
out1, out2 = sys.argv[1], sys.argv[2]
SCHEMA = "schemas/avro/1-filing_event.avsc"
H = 3600 * 1000
T0 = 1756659600000  # 2025-09-01 00:00 Vietnam time
communes = {}
for line in open("reference/communes.csv", encoding="utf-8").readlines()[1:]:
    code, prov = line.split(",")[:2]
    communes.setdefault(prov, []).append(code)
PROVS = ["01", "79", "48"]
PROCS = [("1.004227", "COMMUNE"), ("1.001612", "COMMUNE"),
         ("2.000908", "COMMUNE"), ("1.000656", "PROVINCE"),
         ("1.010736", "PROVINCE"), ("2.002154", "CENTRAL")]
RANK = {"COMMUNE": 0, "PROVINCE": 1, "CENTRAL": 2}
events = []

def agency(prov, level, commune):
    if level == "COMMUNE":
        return "UBND-" + commune
    if level == "PROVINCE":
        return "SO-%s-%d" % (prov, rng.randint(1, 4))
    return "BO-%d" % rng.randint(1, 3)

def dossier(n):
    prov = rng.choice(PROVS)
    home = rng.choice(communes[prov][:25])
    proc, plevel = rng.choice(PROCS)
    did = "D%s-%05d" % (prov, n)
    channel = rng.choice(["ONLINE", "ONLINE", "IN_PERSON", "POSTAL"])
    at_centre = rng.random() < 0.2
    recv_commune = None if at_centre else home
    t = T0 + rng.randint(0, 50 * 24) * H + rng.randint(0, H - 1)
    seq = [0]
    st = {"level": "PROVINCE" if at_centre else "COMMUNE",
          "hc": None if at_centre else home, "due": None}
    st["agency"] = agency(prov, st["level"], home)

    def emit(etype, **kw):
        seq[0] += 1
        ev = {"event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
              "event_type": etype, "occurred_at": t, "dossier_id": did,
              "seq": seq[0], "province_code": prov,
              "commune_code": recv_commune, "procedure_code": proc,
              "procedure_level": plevel, "channel": channel,
              "agency_code": st["agency"], "handling_level": st["level"],
              "to_level": None, "to_agency_code": None, "due_at": st["due"],
              "source_system": "test-" + prov,
              "handling_commune_code": st["hc"]}
        ev.update(kw)
        events.append(ev)

    def later(lo, hi):
        nonlocal t
        t += rng.randint(int(lo * H), int(hi * H))

    def move(level, commune=None):
        to_agency = agency(prov, level, commune or home)
        emit("TRANSFERRED", to_level=level, to_agency_code=to_agency)
        st["level"], st["agency"] = level, to_agency
        st["hc"] = (commune or home) if level == "COMMUNE" else None

    if channel == "ONLINE":
        emit("SUBMITTED")
        later(0.2, 30)
        if rng.random() < 0.04:
            emit("INTAKE_REFUSED")
            return
    st["due"] = t + {"COMMUNE": 3, "PROVINCE": 10, "CENTRAL": 20}[plevel] * 24 * H
    emit("RECEIVED")
    if rng.random() < 0.05 and st["level"] == "COMMUNE":
        later(0.5, 8)   # a desk passes it to another commune (Decree 118)
        move("COMMUNE", rng.choice(communes[prov][:25]))
    if rng.random() < 0.1 and st["level"] != "COMMUNE":
        later(0.5, 12)  # sent down by mistake, then back up
        move("COMMUNE")
        later(1, 24)
        move("PROVINCE")
    if RANK[st["level"]] < RANK[plevel] and rng.random() < 0.9:
        later(0.5, 48)
        move(plevel)
    elif RANK[st["level"]] > RANK[plevel] and rng.random() < 0.7:
        later(0.5, 24)
        move(plevel)
    if rng.random() < 0.3:
        later(1, 72)
        emit("SUPPLEMENT_REQUESTED")
        if rng.random() < 0.3:
            later(1, 24)
            emit("SUSPENDED")
            later(1, 24)
            emit("RESUMED")
        paused = t
        later(2, 120)
        st["due"] += t - paused
        emit("SUPPLEMENT_RECEIVED")
    if rng.random() < 0.15:
        later(1, 48)
        emit("TRANSFERRED", to_level="PROVINCE",
             to_agency_code=agency(prov, "PROVINCE", home))
        st["level"], st["hc"] = "PROVINCE", None
        st["agency"] = events[-1]["to_agency_code"]
    r = rng.random()
    later(1, 24 * 12)
    if r < 0.78:
        emit("RESOLVED")
        later(1, 48)
        emit("RESULT_RETURNED")
    elif r < 0.84:
        emit("STOPPED")
    elif r < 0.9:
        emit("WITHDRAWN")
    # else: still open

for n in range(1, 1501):
    dossier(n)

def line(ev):
    part = zlib.crc32(ev["dossier_id"].encode()) % 3
    return {"topic": "tthc.filings." + ev["province_code"],
            "key": ev["dossier_id"], "partition": part, "schema_id": 1,
            "schema_file": SCHEMA, "event": ev}

events.sort(key=lambda e: (e["occurred_at"], e["dossier_id"], e["seq"]))
lines = [line(e) for e in events]
# Exact duplicates, delivered again a little later on the same partition.
for i in sorted(rng.sample(range(len(lines) - 300), 150), reverse=True):
    lines.insert(i + rng.randint(1, 250), json.loads(json.dumps(lines[i])))
# Conflicting duplicates (same dossier and seq, other content).
for i in rng.sample(range(len(lines) - 300), 3):
    c = json.loads(json.dumps(lines[i]))
    c["event"]["agency_code"] = "TAMPERED"
    c["event"]["event_id"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    lines.insert(i + 200, c)
# Poison: bad framing, unknown schema, bad Avro, unknown commune.
poison = [{"raw_hex": "ff00"}, {"raw_hex": "000000006300"},
          {"raw_hex": "0000000001ffffffffff0f"}]
for k, p in enumerate(poison):
    p.update({"topic": "tthc.filings.01", "key": "POISON-%d" % k,
              "partition": k % 3})
    lines.insert(len(lines) // 3 * (k % 2 + 1), p)
bad = json.loads(json.dumps(lines[10]))
bad["event"]["commune_code"] = "99999"
bad["event"]["dossier_id"] = bad["key"] = "BAD-COMMUNE"
lines.insert(20, bad)
cut = len(lines) * 55 // 100
with open(out1, "w") as f:
    f.writelines(json.dumps(l) + "\n" for l in lines[:cut])
with open(out2, "w") as f:
    f.writelines(json.dumps(l) + "\n" for l in lines[cut:])
print(len(events), len(lines))
EOF
read -r N_EVENTS N_LINES < <(python3 "$W/gen.py" "$W/part1.jsonl" "$W/part2.jsonl")
tp_log "stream: $N_EVENTS events, $N_LINES messages"

produce() {
	"$TTHC_BIN/tp-produce" "$TTHC_BROKERS" <"$1" >/dev/null ||
		tp_die "tp-produce $1 failed"
}
ingest() {
	timeout 300 "${TTHC_INGEST_BIN:-$TTHC_BIN/tthc-ingest}" --migrate --exit-when-idle --idle-exit-ms 3000 \
		>>"$W/ingest.log" 2>&1 || {
		cat "$W/ingest.log" >&2
		tp_die "tthc-ingest failed"
	}
}
kill_quietly() { kill -KILL "$1" 2>/dev/null || true; }
route_start() { # route_start NAME: starts an instance, sets ROUTE_PID
	"$TTHC_BIN/tthc-route" --batch-size 40 --batch-ms 100 \
		--kafka.session.timeout.ms=6000 >>"$W/route-$1.log" 2>&1 &
	ROUTE_PID=$!
	tp_on_exit kill_quietly "$ROUTE_PID"
}
offsets() { # offsets GROUP: the sum of the stored next offsets
	tp_psql_val "SELECT coalesce(sum(next_offset), 0) FROM
		tthc.consumer_offsets WHERE group_id = '$1'"
}

produce "$W/part1.jsonl"
ingest
# One instance, killed with -9 in the middle of its work.
route_start a1
A1=$ROUTE_PID
tp_wait_for '(( $(offsets tthc-route) > 800 ))' 120 ||
	{ cat "$W/route-a1.log" >&2; tp_die "tthc-route made no progress"; }
kill -KILL "$A1"
wait "$A1" 2>/dev/null || true
tp_log "killed tthc-route at $(offsets tthc-route) of $(offsets tthc-ingest)"

# The rest of the stream, with two instances in the group.
produce "$W/part2.jsonl"
route_start a2
A2=$ROUTE_PID
route_start b
B=$ROUTE_PID
ingest
TOTAL=$(offsets tthc-ingest)
tp_wait_for '[[ $(offsets tthc-route) == "$TOTAL" ]]' 180 ||
	{ tail -n 20 "$W"/route-*.log >&2; tp_die "tthc-route did not catch up"; }
kill -TERM "$A2" "$B"
wait "$A2" || tp_die "tthc-route a2 did not exit cleanly"
wait "$B" || tp_die "tthc-route b did not exit cleanly"
tp_assert_eq "$N_LINES" "$TOTAL" "every message consumed by both groups"
grep -h 'applied' "$W"/route-*.log >&2 || true
tp_assert_eq 0 "$(cat "$W"/route-a2.log "$W"/route-b.log |
	grep -c -E 'Sanitizer|runtime error|level=error' || true)" \
	"the restarted instances logged no error (sanitizers included)"

# ---- checks ------------------------------------------------------------------
# Each check counts the rows of a symmetric difference: 0 means equal.
diff_count() { # diff_count "SQL A" "SQL B"
	tp_psql_val "WITH a AS ($1), b AS ($2) SELECT count(*) FROM
		((TABLE a EXCEPT ALL TABLE b) UNION ALL
		 (TABLE b EXCEPT ALL TABLE a)) x"
}
VN="AT TIME ZONE 'Asia/Ho_Chi_Minh')::date"

tp_assert_eq "$N_EVENTS" "$(tp_psql_val 'SELECT count(*) FROM tthc.filing_events')" \
	"tthc-ingest stored each distinct event once"
tp_assert_eq 0 "$(tp_psql_val "SELECT count(*) FROM tthc.dossiers d
	FULL JOIN tthc.route_dossiers r USING (province_code, dossier_id)
	WHERE r.last_seq IS DISTINCT FROM d.last_seq
	   OR r.status IS DISTINCT FROM d.status
	   OR r.outcome IS DISTINCT FROM d.outcome
	   OR r.original_due_at IS DISTINCT FROM d.original_due_at")" \
	"route_dossiers agrees with tthc.dossiers (last_seq, status, outcome)"

tp_assert_eq 0 "$(diff_count \
	"SELECT day, province_code, procedure_code, procedure_level,
	        from_level, to_level, to_agency_code, sum(transfers)::bigint
	 FROM tthc.procedure_routing_daily GROUP BY 1, 2, 3, 4, 5, 6, 7" \
	"SELECT (occurred_at $VN, province_code, procedure_code,
	        procedure_level, handling_level, to_level, to_agency_code,
	        count(*)
	 FROM tthc.filing_events WHERE event_type = 'TRANSFERRED'
	 GROUP BY 1, 2, 3, 4, 5, 6, 7")" \
	"transfers per day, procedure, from/to level and agency are exact"
tp_assert_eq 0 "$(tp_psql_val "SELECT count(*) FROM tthc.procedure_routing_daily
	WHERE transfers <= 0")" "no empty routing rows"

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
	"received / resolved (early, on time, late) / stopped / withdrawn / supplements per procedure and level are exact"

# Exact time at each level, from the raw events: a stint starts at
# RECEIVED or TRANSFERRED (at to_level) and ends at the next TRANSFERRED,
# RESOLVED, STOPPED or WITHDRAWN; the intervals after an event that
# leaves a pause open are subtracted.
tp_psql_val "CREATE TABLE tthc.test_stints AS
WITH e AS (
	SELECT *, sum(CASE WHEN event_type IN ('SUPPLEMENT_REQUESTED', 'SUSPENDED') THEN 1
	                   WHEN event_type IN ('SUPPLEMENT_RECEIVED', 'RESUMED') THEN -1
	                   ELSE 0 END) OVER w AS depth,
	       lead(occurred_at) OVER w AS next_at
	FROM tthc.filing_events
	WINDOW w AS (PARTITION BY province_code, dossier_id ORDER BY seq)
), b AS (
	SELECT province_code, dossier_id, procedure_code, procedure_level,
	       seq AS s0, occurred_at AS t0,
	       CASE WHEN event_type = 'RECEIVED' THEN handling_level ELSE to_level END AS lvl
	FROM e WHERE event_type IN ('RECEIVED', 'TRANSFERRED')
), x AS (
	SELECT b.*, (SELECT min(seq) FROM e WHERE e.province_code = b.province_code
	              AND e.dossier_id = b.dossier_id AND e.seq > b.s0
	              AND e.event_type IN ('TRANSFERRED', 'RESOLVED', 'STOPPED', 'WITHDRAWN')) AS s1
	FROM b
)
SELECT x.province_code, x.procedure_code, x.procedure_level, x.lvl,
       (e1.occurred_at $VN AS day,
       (extract(epoch FROM e1.occurred_at - x.t0)
        - (SELECT coalesce(sum(extract(epoch FROM p.next_at - p.occurred_at)), 0)
           FROM e p WHERE p.province_code = x.province_code
             AND p.dossier_id = x.dossier_id AND p.seq >= x.s0
             AND p.seq < x.s1 AND p.depth > 0)) / 3600.0 AS hours
FROM x JOIN e e1 ON e1.province_code = x.province_code
     AND e1.dossier_id = x.dossier_id AND e1.seq = x.s1" >/dev/null

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
	"time-at-level histograms per day, procedure and level are exact"

read -r NGROUPS FAR < <(tp_psql_val "WITH ex AS (
	SELECT province_code, procedure_code, lvl, p,
	       percentile_disc(p) WITHIN GROUP (ORDER BY hours) AS exact
	FROM tthc.test_stints, unnest(ARRAY[0.5, 0.9, 0.99]) p
	GROUP BY 1, 2, 3, 4
), est AS (
	SELECT t.province_code, t.procedure_code, t.handling_level, p,
	       tthc.hist_percentile(t.hist, p) AS est
	FROM tthc.procedure_level_times t, unnest(ARRAY[0.5, 0.9, 0.99]) p
	WHERE t.stints > 0
)
SELECT count(*), count(*) FILTER (WHERE est IS NULL
       OR abs(tthc.hist_bucket(est) - tthc.hist_bucket(exact)) > 1)
FROM ex JOIN est ON est.province_code = ex.province_code
     AND est.procedure_code = ex.procedure_code
     AND est.handling_level = ex.lvl AND est.p = ex.p" | tr '|' ' ')
tp_log "percentiles compared: $NGROUPS"
tp_assert_eq 1 "$((NGROUPS > 30))" "percentiles were compared ($NGROUPS)"
tp_assert_eq 0 "$FAR" "p50/p90/p99 within one bucket of the exact value"
tp_assert_eq 0 "$(tp_psql_val "SELECT count(*) FROM tthc.procedure_level_times
	WHERE stints > 0 AND NOT (p50_hours <= p90_hours AND p90_hours <= p99_hours)")" \
	"p50 <= p90 <= p99 in the view"

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
	"routing anomalies per day and procedure are exact"
tp_assert_eq 1 "$(tp_psql_val "SELECT (count(*) > 0)::int FROM
	tthc.routing_anomalies_worst WHERE rank = 1")" "the worst anomalies are listed"

tp_assert_eq 0 "$(tp_psql_val "SELECT count(*) FROM tthc.scorecard_monthly
	WHERE score < 0 OR score > 20 OR handled < in_progress_within + in_progress_past")" \
	"scores within 0..20"
tp_assert_eq 3 "$(tp_psql_val "SELECT count(DISTINCT province_code) FROM
	tthc.scorecard_monthly WHERE scope = 'province' AND rank >= 1")" \
	"every province ranked"
tp_assert_eq 0 "$(tp_psql_val "WITH s AS (SELECT * FROM tthc.scorecard_monthly
	WHERE scope = 'province'), c AS (SELECT province_code, month,
	sum(handled) h FROM tthc.scorecard_monthly WHERE scope = 'commune'
	GROUP BY 1, 2) SELECT count(*) FROM s JOIN c USING (province_code, month)
	WHERE c.h > s.handled")" "commune rows add up to at most their province"

# ---- docs/analysts.md: every sql block runs as tthc_analyst -------------------
n=0
while IFS= read -r -d '' q; do
	n=$((n + 1))
	if ! rows=$(psql -XAtq -v ON_ERROR_STOP=1 "$TTHC_PG" \
		-c "SET ROLE tthc_analyst" -c "$q" 2>"$W/q$n.err" | wc -l); then
		cat "$W/q$n.err" >&2
		rows=error
	fi
	tp_assert_eq 1 "$([[ $rows != error && $rows -gt 0 ]] && echo 1 || echo "$rows")" \
		"docs/analysts.md query $n returns rows"
done < <(python3 -c '
import re, sys
text = open("docs/analysts.md", encoding="utf-8").read()
for q in re.findall(r"```sql\n(.*?)```", text, re.S):
    sys.stdout.write(q + "\0")')
tp_assert_eq 1 "$((n >= 6))" "docs/analysts.md has example queries ($n)"
tp_finish
