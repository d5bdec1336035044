#!/usr/bin/env bash
# tests/torture/run.sh - runs every torture script, at CI size (--small,
# the default) or full size (--full), and prints each one's result and its
# "figures" lines (events checked, lost, duplicated) at the end.
#
#   BUILD_DIR=build-rel tests/torture/run.sh [--small|--full] [NAME...]
#
# NAME: kill, kill_route, kill_alert, pg, broker, churn, replay, soak
# (default: all). Logs go to $TT_LOG_DIR (default: a new
# /tmp/tthc-torture-XXXXXX). Exit 1 if any script failed.
set -uo pipefail # no -e: checks exit codes itself (CONTRIBUTING.md)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
size=--small
names=()
for a in "$@"; do
	case $a in
	--small | --full) size=$a ;;
	-h | --help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) names+=("$a") ;;
	esac
done
((${#names[@]})) || names=(kill kill_route kill_alert pg broker churn replay soak)
: "${TT_LOG_DIR:=$(mktemp -d /tmp/tthc-torture-XXXXXX)}"
mkdir -p "$TT_LOG_DIR"
failed=0
summary=()
for n in "${names[@]}"; do
	s=$here/torture_$n.sh
	[[ -f "$s" ]] || { echo "no such torture script: $s" >&2; exit 2; }
	t0=$SECONDS
	echo "=== torture_$n $size"
	bash "$s" "$size" >"$TT_LOG_DIR/$n.log" 2>&1
	rc=$?
	grep -E '^(ok|not ok) |^sample |passed, .* failed$' "$TT_LOG_DIR/$n.log"
	result=$(grep -E 'passed, [0-9]+ failed$' "$TT_LOG_DIR/$n.log" | tail -n 1)
	((rc == 0)) || failed=$((failed + 1))
	summary+=("$(printf '%-8s %s rc=%d %ds: %s' "$n" "$size" "$rc" "$((SECONDS - t0))" "${result:-no result}")")
	while IFS= read -r f; do summary+=("         $f"); done < <(grep '^figures ' "$TT_LOG_DIR/$n.log")
done
echo "=== summary (logs: $TT_LOG_DIR)"
printf '%s\n' "${summary[@]}"
((failed == 0))
