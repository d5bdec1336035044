#!/usr/bin/env bash
# test_web.sh - tthc-web (issue 15, docs/web.md): the consumers process a
# simulated province stream with seeded laggards, tthc-alert delivers to a
# real Alertmanager with --web-url, and tthc-web serves the pages as a
# read-only NOINHERIT login. Headless Chromium renders every page (DOM
# checked, screenshots at desktop and phone widths kept in
# $BUILD_DIR/artifacts/web/); JSON matches SQL counts; hostile dossier ids
# and agency codes come out escaped; a province user sees its province
# only; the user header counts only from the trusted proxy address;
# Alertmanager's generatorURL opens the laggard's page.
set -uo pipefail # no -e: checks exit codes itself (CONTRIBUTING.md)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/common_ingest.sh"
source "$(dirname "${BASH_SOURCE[0]}")/common_alert.sh"
cd "$TP_ROOT" || exit 1

command -v chromium >/dev/null || tp_die "chromium not found (scripts/install-deps.sh)"
ART=$BUILD_DIR/artifacts/web
rm -rf "$ART"
mkdir -p "$ART"

tp_ingest_setup
PROV=48
"$TTHC_BIN/tthc-sim" --brokers "$TTHC_BROKERS" --provinces "$PROV" \
	--from 2025-09-01 --days 21 --laggards 2 \
	--seed 7 --truth "$W/truth.json" >"$W/sim.log" 2>&1 ||
	{ cat "$W/sim.log" >&2; tp_die "tthc-sim failed"; }
mapfile -t LAGGARDS < <(jq -r '.laggards[]' "$W/truth.json")
tp_log "laggards: ${LAGGARDS[*]}"
tp_ingest --exit-when-idle >"$W/ingest.log" 2>&1
tp_assert_eq 0 $? "tthc-ingest drains the stream"
tp_consumer route --exit-when-idle >"$W/route.log" 2>&1
tp_assert_eq 0 $? "tthc-route drains the stream"

# ---- tthc-web as a read-only NOINHERIT login ------------------------------
WEB_PORT=$(tp_free_port)
WEB=http://127.0.0.1:$WEB_PORT
tp_psql_val "SELECT tthc.create_web_login('tthc_web_t', 'web-secret');
	SELECT tthc.web_allow_role('tthc_web_t', 'tthc_analyst');
	SELECT tthc.create_province_analyst('web_prov_$PROV', '$PROV');
	SELECT tthc.web_allow_role('tthc_web_t', 'web_prov_$PROV')" >/dev/null
tp_assert_eq "f t" "$(tp_psql_val "SELECT rolinherit::text::char || ' ' || rolcanlogin::text::char
	FROM pg_roles WHERE rolname = 'tthc_web_t'")" \
	"the web login is a NOINHERIT login"
WEB_PG="$TTHC_PG user=tthc_web_t password=web-secret"
tp_assert_eq "0" "$(psql -XAtq "$WEB_PG" -c "SELECT count(*) FROM tthc.alerts" 2>&1 |
	grep -c '^[0-9]')" "without SET ROLE the web login reads nothing"
psql -XAtq "$WEB_PG" -c "SET ROLE tthc_analyst; CREATE TEMP TABLE x (i int);
	INSERT INTO x VALUES (1)" >/dev/null 2>&1
tp_assert_eq 1 $? "its sessions are read-only, even as tthc_analyst"
psql -XAtq "$WEB_PG" -c "SET ROLE tthc_service" >/dev/null 2>&1
tp_assert_eq 1 $? "it cannot SET ROLE to the service role"
psql -XAtq "$TTHC_PG" -c "SELECT tthc.web_allow_role('tthc_web_t', 'tthc_service')" \
	>/dev/null 2>&1
tp_assert_eq 1 $? "tthc.web_allow_role refuses a role that writes"

# ---- a hostile dossier id and agency code, overdue at the first laggard ------
LAG=${LAGGARDS[0]}
HOSTILE_ID='<script>alert(1)</script>"]]><!--'
HOSTILE_AGENCY="<img src=x onerror=alert(2)>'\"&amp;"
tp_psql_val "INSERT INTO tthc.dossiers (province_code, dossier_id, commune_code,
	procedure_code, procedure_level, channel, received_at, due_at,
	original_due_at, status, handling_level, agency_code,
	handling_commune_code, last_seq)
	VALUES ('$PROV', \$h\$$HOSTILE_ID\$h\$, '$LAG', '1.000037', 'COMMUNE',
	'ONLINE', '2025-09-01 08:00+07', '2025-09-02 08:00+07',
	'2025-09-02 08:00+07', 'processing', 'COMMUNE',
	\$h\$$HOSTILE_AGENCY\$h\$, '$LAG', 1)" >/dev/null
tp_assert_eq 1 "$(tp_psql_val "SELECT count(*) FROM tthc.open_dossiers
	WHERE dossier_id = \$h\$$HOSTILE_ID\$h\$ AND overdue")" \
	"the hostile dossier is open and overdue"

# ---- tthc-alert with Alertmanager and --web-url ----------------------------------
tp_alert_past_rules "$W/rules.conf"
AM_PORT=$(tp_free_port)
AM_URL=http://127.0.0.1:$AM_PORT
tp_alertmanager_start "$W" "$AM_PORT"
tp_consumer alert --rules "$W/rules.conf" --alertmanager "$AM_URL" \
	--web-url "$WEB/" >"$W/alert.log" 2>&1 &
tp_on_exit _tp_kill_wait $!
tp_wait_for "[[ \$(tp_psql_val \"SELECT count(*) FROM tthc.alert_provinces
	WHERE caught_up\") == 1 ]]" 120 ||
	{ tail -20 "$W/alert.log" >&2; tp_die "tthc-alert did not catch up"; }
FIRING=$(tp_psql_val "SELECT count(*) FROM tthc.alerts WHERE status = 'firing'")
am_with_url() {
	curl -sf "$AM_URL/api/v2/alerts?active=true" |
		jq '[.[] | select(.labels.service == "tthc-pulse")
			| select(.generatorURL | test("/(communes|provinces)/"))] | length'
}
tp_wait_for "[[ \$(am_with_url) == $FIRING ]]" 60
tp_assert_eq "$FIRING" "$(am_with_url)" \
	"every firing alert reaches Alertmanager with a generatorURL ($FIRING)"
((FIRING > 0)) || tp_die "no firing alert to look at"
# the laggard with a firing commune alert and an overdue dossier
LAG=$(tp_psql_val "SELECT commune_code FROM tthc.alerts WHERE status = 'firing'
	AND commune_code IN ('$(
		IFS=,
		echo "${LAGGARDS[*]}" | sed "s/,/','/g"
	)') ORDER BY commune_code = '$LAG' DESC, commune_code LIMIT 1")
[[ -n "$LAG" ]] || tp_die "no laggard fires"
tp_log "laggard page: /communes/$LAG"
GEN=$(curl -sf "$AM_URL/api/v2/alerts?active=true" | jq -r --arg c "$LAG" \
	'[.[] | select(.labels.commune == $c)][0].generatorURL')
tp_assert_eq "$WEB/communes/$LAG" "$GEN" "the laggard's generatorURL is its page"
# the Kafka messages (schema id 2 unchanged) carry the page in details.url:
# read back with a throwaway tthc-ingest group, which keeps what it cannot
# read as a filing event in tthc.rejected_messages (as test_alert.sh does)
tp_wait_for "[[ \$(tp_psql_val \"SELECT count(*) FROM tthc.alert_outbox
	WHERE kafka_sent_at IS NULL\") == 0 ]]" 60
"$TTHC_BIN/tthc-ingest" --brokers "$TTHC_BROKERS" --pg "$TTHC_PG" \
	--topics tthc.alerts --group tp-verify-alerts --dlq-topic tthc.verify.dlq \
	--exit-when-idle --kafka.session.timeout.ms=6000 >"$W/verify.log" 2>&1
tp_assert_eq "1 0" "$(tp_psql_val "SELECT (count(*) > 0)::int || ' ' ||
	count(*) FILTER (WHERE get_byte(raw_value, 4) <> 2
	  OR position(convert_to('\"url\":\"$WEB/communes/'
	              || convert_from(message_key, 'UTF8') || '\"', 'UTF8')
	              IN raw_value) = 0)
	FROM tthc.rejected_messages WHERE topic = 'tthc.alerts'
	AND length(message_key) = 5")" \
	"Kafka alert messages (schema id 2) carry details.url, the commune's page"

# ---- start tthc-web ------------------------------------------------------------
"$TTHC_BIN/tthc-web" --pg "$WEB_PG" --address 127.0.0.1 --port "$WEB_PORT" \
	--threads 3 --user-header X-Remote-User --trusted-proxy 127.0.0.1 \
	--user-role "lan=web_prov_$PROV" --user-role boss=tthc_analyst \
	--anonymous-role tthc_analyst --page-size 50 >"$W/web.log" 2>&1 &
WEB_PID=$!
tp_on_exit _tp_kill_wait "$WEB_PID"
tp_wait_for "curl -sf $WEB/healthz" 30 || { cat "$W/web.log" >&2; tp_die "tthc-web did not start"; }
tp_assert_eq 200 "$(curl -s -o /dev/null -w '%{http_code}' "$GEN")" \
	"Alertmanager's generatorURL opens"
curl -s "$GEN" >"$W/gen.html"
NAME=$(tp_psql_val "SELECT full_name FROM tthc.communes WHERE code = '$LAG'")
tp_assert_eq 1 "$(grep -c "<h1>$NAME</h1>" "$W/gen.html")" \
	"... on the commune's page ($NAME)"

# ---- headless Chromium: DOM and screenshots --------------------------------------
shot() { # NAME URL: desktop and phone screenshots, and the DOM
	local name=$1 url=$2 w
	for w in 1280,900 390,844; do
		timeout 60 chromium --headless --no-sandbox --disable-gpu \
			--hide-scrollbars --window-size="$w" \
			--screenshot="$ART/$name-${w%%,*}.png" "$url" \
			>/dev/null 2>&1
	done
	timeout 60 chromium --headless --no-sandbox --disable-gpu --dump-dom "$url" \
		2>/dev/null >"$ART/$name.html"
}
shot nation "$WEB/"
shot province "$WEB/provinces/$PROV"
shot commune "$WEB/communes/$LAG"
shot alerts "$WEB/alerts"
shot commune-en "$WEB/communes/$LAG?lang=en"
for f in nation province commune alerts; do
	tp_assert_eq 1 "$( [[ -s $ART/$f-1280.png && -s $ART/$f-390.png ]] && echo 1)" \
		"screenshots of $f at 1280 and 390 px"
done
NPROV=$(tp_psql_val "SELECT count(*) FROM tthc.provinces")
tp_assert_eq "$NPROV" "$(grep -o 'href="/provinces/[0-9][0-9]"' "$ART/nation.html" |
	sort -u | wc -l)" "the national page lists every province ($NPROV)"
tp_assert_eq 1 "$(grep -c 'Toàn quốc</h1>' "$ART/nation.html")" \
	"the national page is in Vietnamese by default"
tp_assert_eq 1 "$(grep -c '<svg class="bars"' "$ART/nation.html")" \
	"the national page has its chart"
tp_assert_eq 1 "$(grep -c 'đang diễn ra' "$ART/commune.html" | sed 's/^[1-9][0-9]*$/1/')" \
	"the laggard's page shows its firing alert"
FIRST=$(tp_psql_val "SELECT dossier_id FROM tthc.open_dossiers
	WHERE province_code = '$PROV' AND handling_commune_code = '$LAG'
	AND overdue AND dossier_id NOT LIKE '<%' ORDER BY original_due_at,
	dossier_id LIMIT 1")
tp_assert_eq 1 "$(grep -cF ">$FIRST<" "$ART/commune.html" | sed 's/^[1-9][0-9]*$/1/')" \
	"the laggard's page shows an overdue dossier id ($FIRST)"
tp_assert_eq 2 "$(grep -o '<svg class="chart"' "$ART/commune.html" | wc -l)" \
	"the laggard's page has its two charts"
tp_assert_eq 1 "$(grep -c "href=\"/communes/$LAG\"" "$ART/alerts.html" | sed 's/^[1-9][0-9]*$/1/')" \
	"/alerts lists the laggard"
tp_assert_eq 1 "$(grep -c 'Open overdue dossiers' "$ART/commune-en.html")" \
	"?lang=en shows English labels"
tp_assert_eq 1 "$(grep -c 'lang="en"' "$ART/commune-en.html")" "... and says so"

# hostile text: in the DOM as text only
python3 - "$ART/commune.html" "$HOSTILE_ID" "$HOSTILE_AGENCY" >"$W/hostile.out" <<'PY'
import sys
from html.parser import HTMLParser
tags, text = [], []
class P(HTMLParser):
    def handle_starttag(self, tag, attrs):
        tags.append(tag)
    def handle_data(self, d):
        text.append(d)
    def handle_comment(self, d):
        tags.append("!--")
P().feed(open(sys.argv[1], encoding="utf-8").read())
body = "".join(text)
print(int("script" not in tags and "img" not in tags and "!--" not in tags),
      int(sys.argv[2] in body), int(sys.argv[3] in body))
PY
tp_assert_eq "1 1 1" "$(cat "$W/hostile.out")" \
	"hostile dossier id and agency code are shown as text, no element injected"

# ---- JSON ---------------------------------------------------------------------------
J() { curl -sf -H 'Accept: application/json' "$@"; }
tp_assert_eq "$NPROV" "$(J "$WEB/" | jq '.provinces | length')" \
	"JSON /: every province"
tp_assert_eq "$FIRING" "$(J "$WEB/alerts" | jq '.total')" \
	"JSON /alerts: the firing count of tthc.alerts"
OVERDUE=$(tp_psql_val "SELECT count(*) FROM tthc.open_dossiers
	WHERE province_code = '$PROV' AND handling_commune_code = '$LAG' AND overdue")
tp_assert_eq "$OVERDUE" "$(J "$WEB/communes/$LAG" | jq '.overdue_total')" \
	"JSON commune: overdue dossiers as in tthc.open_dossiers ($OVERDUE)"
tp_assert_eq "90 1" "$(J "$WEB/communes/$LAG?format=json" | jq -r '"\(.days | length) \([.alerts[] | select(.status == "firing")] | length | if . > 0 then 1 else 0 end)"')" \
	"JSON commune: 90 days and its firing alert"
tp_assert_eq 1 "$(J "$WEB/communes/$LAG" | jq --arg h "$HOSTILE_ID" \
	'[.overdue_dossiers[] | select(.dossier_id == $h)] | length')" \
	"JSON carries the hostile id exactly (escaped by JSON, not mangled)"
NCOMM=$(tp_psql_val "SELECT least(count(*), 50) FROM tthc.communes
	WHERE province_code = '$PROV'")
tp_assert_eq "$NCOMM" "$(J "$WEB/provinces/$PROV" | jq '.communes | length')" \
	"JSON province: its communes, one page of 50"

# ---- errors and headers ---------------------------------------------------------
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
tp_assert_eq 404 "$(code "$WEB/communes/99999")" "unknown commune: 404"
tp_assert_eq 400 "$(code "$WEB/communes/12ab")" "malformed commune code: 400"
tp_assert_eq 400 "$(code "$WEB/provinces/1")" "malformed province code: 400"
tp_assert_eq 404 "$(code "$WEB/provinces/99")" "unknown province: 404"
tp_assert_eq 400 "$(code "$WEB/provinces/$PROV?sort=x;DROP")" "unknown sort: 400"
tp_assert_eq 400 "$(code "$WEB/alerts?severity=<x>")" "unknown severity: 400"
tp_assert_eq 404 "$(code "$WEB/nothing")" "unknown page: 404"
tp_assert_eq 405 "$(code -X POST "$WEB/")" "POST: 405"
HDRS=$(curl -sI "$WEB/")
for h in "Content-Security-Policy: default-src 'none'" "Cache-Control: no-store" \
	"X-Content-Type-Options: nosniff"; do
	tp_assert_eq 1 "$(grep -ciF "$h" <<<"$HDRS")" "header $h"
done

# ---- access: the province user, the untrusted address ------------------------------
tp_assert_eq "$PROV" "$(J -H 'X-Remote-User: lan' "$WEB/" | jq -r '[.provinces[].province_code] | join(",")')" \
	"a province user's / shows its province only"
tp_assert_eq 403 "$(code -H 'X-Remote-User: lan' "$WEB/communes/00004")" \
	"a province user gets 403 for another province's commune"
tp_assert_eq 403 "$(code -H 'X-Remote-User: lan' "$WEB/provinces/01")" \
	"... and for another province"
tp_assert_eq 0 "$(J -H 'X-Remote-User: lan' "$WEB/alerts?province=01" | jq '.total')" \
	"... and sees no alert of another province"
tp_assert_eq 200 "$(code -H 'X-Remote-User: lan' "$WEB/communes/$LAG")" \
	"... but its own communes"
tp_assert_eq 403 "$(code -H 'X-Remote-User: mallory' "$WEB/")" \
	"an unknown user: 403"
tp_assert_eq "$NPROV" "$(J --interface 127.0.0.2 -H 'X-Remote-User: lan' "$WEB/" |
	jq '.provinces | length')" \
	"the header from an untrusted address is ignored (anonymous role)"
NCONN=$(psql -XAtq "$TTHC_PG_SUPER" -c "SELECT count(*) FROM pg_stat_activity
	WHERE usename = 'tthc_web_t' AND backend_type = 'client backend'")
tp_assert_eq 1 "$((NCONN >= 1 && NCONN <= 3))" \
	"tthc-web holds at most --threads connections, reused ($NCONN after every request above)"
tp_assert_eq 0 "$(psql -XAtq "$TTHC_PG_SUPER" -c "SELECT count(*) FROM pg_stat_activity
	WHERE usename = 'tthc_web_t' AND state = 'idle'
	AND query ILIKE 'SET ROLE%'")" \
	"an idle connection is back to its own role (RESET ROLE after each request)"

# a server without an anonymous role refuses requests without a user
P2=$(tp_free_port)
"$TTHC_BIN/tthc-web" --pg "$WEB_PG" --address 127.0.0.1 --port "$P2" \
	--user-header X-Remote-User --trusted-proxy 127.0.0.1 \
	--user-role "lan=web_prov_$PROV" >"$W/web2.log" 2>&1 &
tp_on_exit _tp_kill_wait $!
tp_wait_for "curl -sf http://127.0.0.1:$P2/healthz" 30
tp_assert_eq 403 "$(code "http://127.0.0.1:$P2/")" "no anonymous role: 403 without a user"
tp_assert_eq 1 "$(curl -s -H 'Accept: application/json' "http://127.0.0.1:$P2/" |
	jq -r '.error' | grep -c 'reverse proxy')" \
	"... with a clear message"
tp_assert_eq 200 "$(code -H 'X-Remote-User: lan' "http://127.0.0.1:$P2/")" \
	"... and serves the mapped user"

# the bench script runs against this database (its timing is not checked)
bash bench/web_pages.sh --url "$WEB" --requests 3 >"$W/bench.out" 2>&1
tp_assert_eq 0 $? "bench/web_pages.sh runs ($(tr '\n' ' ' <"$W/bench.out" | cut -c1-200))"

kill -TERM "$WEB_PID"
wait "$WEB_PID"
tp_assert_eq 0 $? "tthc-web stops cleanly on SIGTERM (no leak under ASan)"
tp_assert_eq 0 "$(grep -c 'ERROR\|level=error' "$W/web.log")" "tthc-web logged no error"
tp_finish
