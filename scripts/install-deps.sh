#!/usr/bin/env bash
# install-deps.sh - install the Debian 12 packages tthc-pulse needs to build,
# test and run locally. Idempotent: does nothing when all are installed.
#
# Uses sudo only when not run as root. Packages are installed without starting
# their services (the Debian-packaged PostgreSQL cluster on port 5432 is not
# used: tests run their own server via scripts/pg-local.sh, default port 55432).
set -euo pipefail

PACKAGES=(
	build-essential cmake pkg-config
	librdkafka-dev libavro-dev libpq-dev libcmocka-dev libcurl4-openssl-dev
	libjansson-dev libmicrohttpd-dev
	postgresql postgresql-contrib
	prometheus-alertmanager prometheus python3-yaml yamllint
	python3 curl clang clang-format ca-certificates openssl
	procps psmisc iproute2
	# tthc-web's tests: headless Chromium, and a font with Vietnamese
	chromium fonts-dejavu-core
)

log() { printf 'install-deps: %s\n' "$*" >&2; }
die() {
	printf 'install-deps: error: %s\n' "$*" >&2
	exit 1
}

if ! command -v dpkg-query >/dev/null || ! command -v apt-get >/dev/null; then
	die "this script is for Debian/Ubuntu (apt) systems"
fi

installed() {
	[[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" == installed ]]
}

has_candidate() {
	local cand
	cand=$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2}')
	[[ -n "$cand" && "$cand" != "(none)" ]]
}

missing=()
for p in "${PACKAGES[@]}"; do
	installed "$p" || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
	log "all ${#PACKAGES[@]} packages already installed"
	exit 0
fi

log "missing: ${missing[*]}"
SUDO=()
if [[ $EUID -ne 0 ]]; then
	command -v sudo >/dev/null ||
		die "not root and sudo is not available; as root run: $0"
	SUDO=(sudo)
fi
log "apt-get update"
"${SUDO[@]}" apt-get update -qq

to_install=()
dropped=()
for p in "${missing[@]}"; do
	if has_candidate "$p"; then
		to_install+=("$p")
	else
		dropped+=("$p")
	fi
done
if [[ ${#dropped[@]} -gt 0 ]]; then
	log "WARNING: not available from the configured apt sources, skipped: ${dropped[*]}"
fi
if [[ ${#to_install[@]} -eq 0 ]]; then
	log "nothing installable"
	exit 0
fi

# Keep apt from starting services (postgresql would start its own cluster on
# 5432): a policy-rc.d answering 101, if there is none already.
policy=/usr/sbin/policy-rc.d
made_policy=0
cleanup() {
	if [[ $made_policy == 1 ]]; then "${SUDO[@]}" rm -f "$policy"; fi
}
trap cleanup EXIT
if [[ ! -e $policy ]]; then
	printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null
	"${SUDO[@]}" chmod 0755 "$policy"
	made_policy=1
fi

log "installing: ${to_install[*]}"
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
	apt-get install -y -q --no-install-recommends "${to_install[@]}"

for p in "${to_install[@]}"; do
	installed "$p" || die "package $p did not install"
done
log "done"
