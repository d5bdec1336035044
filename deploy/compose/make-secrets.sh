#!/bin/bash
# make-secrets.sh - random passwords and conninfo files for compose.yaml,
# in deploy/compose/secrets/ (git-ignored). Does not overwrite.
set -euo pipefail
cd "$(dirname "$0")/secrets"
umask 077
for n in pg-superuser-password pg-owner-password pg-service-password pg-analyst-password; do
	[[ -s $n ]] || openssl rand -hex 24 >"$n"
done
[[ -s pg-owner-conninfo ]] ||
	echo "host=postgres dbname=tthc user=tthc_owner password=$(cat pg-owner-password)" >pg-owner-conninfo
[[ -s pg-service-conninfo ]] ||
	echo "host=postgres dbname=tthc user=tthc_svc password=$(cat pg-service-password)" >pg-service-conninfo
# The containers run as an unprivileged user: compose mounts these
# files as they are, so let that user read them.
chmod 0644 ./*
echo "secrets in $PWD"
