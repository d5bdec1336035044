#!/usr/bin/env bash
# test_route.sh - tthc-route against a known stream: duplicates, poison
# messages, a kill -9 restart and two instances in one group. Its
# aggregates must equal what SQL computes from tthc.filing_events and
# tthc.dossiers after tthc-ingest ran on the same stream: transfers and
# per-level counters exactly, time-at-level histograms exactly (so the
# percentiles are within one bucket of the exact value), anomalies
# exactly.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$TP_ROOT"

tp_stack 3
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
tp_assert_eq 1 "$(grep -c 'in a backlog: applying each batch' "$W/route-a1.log")" \
	"the killed instance applied batches while others committed (--pipeline)"
tp_assert_eq 0 "$(cat "$W"/route-a2.log "$W"/route-b.log |
	grep -c -E 'Sanitizer|runtime error|level=error' || true)" \
	"the restarted instances logged no error (sanitizers included)"

# ---- checks ------------------------------------------------------------------
source "$(dirname "${BASH_SOURCE[0]}")/common_route.sh"
diff_count() { tp_diff_count "$@"; }
VN=$TP_VN

tp_assert_eq "$N_EVENTS" "$(tp_psql_val 'SELECT count(*) FROM tthc.filing_events')" \
	"tthc-ingest stored each distinct event once"
tp_route_exact route

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

# tthc.hist_add (PL/pgSQL since 023) against 002's definition, over
# histograms of different lengths, NULL elements and NULL arrays.
read -r NPAIRS NDIFF < <(tp_psql_val "WITH h AS (
	SELECT i, CASE WHEN i % 17 = 0 THEN NULL ELSE ARRAY(
	       SELECT CASE WHEN (i * 7 + j) % 11 = 0 THEN NULL ELSE (i * j) % 50 END
	       FROM generate_series(1, 20 + i % 9) j) END AS a
	FROM generate_series(0, 199) i
), p AS (
	SELECT x.a AS a, y.a AS b FROM h x JOIN h y ON y.i = (x.i * 13 + 5) % 200
), r AS (
	SELECT tthc.hist_add(a, b) AS got,
	       CASE WHEN a IS NULL THEN b WHEN b IS NULL THEN a
	            ELSE ARRAY(SELECT coalesce(x, 0) + coalesce(y, 0)
	                       FROM unnest(a, b) WITH ORDINALITY AS u(x, y, i)
	                       ORDER BY i) END AS want
	FROM p
)
SELECT count(*), count(*) FILTER (WHERE got IS DISTINCT FROM want) FROM r" | tr '|' ' ')
tp_assert_eq 200 "$NPAIRS" "histogram pairs summed"
tp_assert_eq 0 "$NDIFF" "tthc.hist_add sums as 002 defined it"
tp_assert_eq '{1,0,3}' "$(tp_psql_val "SELECT tthc.hist_add('{1,NULL}', '{}'::int[] || 0 || 0 || 3)")" \
	"tthc.hist_add: a longer histogram and a NULL bucket"

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

tp_finish
