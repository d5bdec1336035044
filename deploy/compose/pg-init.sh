#!/bin/bash
# pg-init.sh - first start of the compose PostgreSQL: the owner role that
# runs migrations, and login roles for the services and an analyst, as
# members of the group roles the migrations grant to (001 creates
# tthc_service and tthc_analyst only when missing, so creating them here
# first is compatible). Passwords come from the mounted secrets.
set -euo pipefail
pw() { tr -d '\n' <"/run/secrets/$1"; }
psql -v ON_ERROR_STOP=1 -U postgres -d tthc \
	-v owner_pw="$(pw pg-owner-password)" \
	-v service_pw="$(pw pg-service-password)" \
	-v analyst_pw="$(pw pg-analyst-password)" <<'SQL'
CREATE ROLE tthc_owner LOGIN CREATEROLE PASSWORD :'owner_pw';
ALTER DATABASE tthc OWNER TO tthc_owner;
CREATE ROLE tthc_service NOLOGIN;
CREATE ROLE tthc_analyst NOLOGIN;
CREATE ROLE tthc_svc LOGIN PASSWORD :'service_pw' IN ROLE tthc_service;
CREATE ROLE analyst LOGIN PASSWORD :'analyst_pw' IN ROLE tthc_analyst;
SQL
