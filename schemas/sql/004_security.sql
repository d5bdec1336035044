-- 004_security.sql: least privilege for the service and analyst roles, and
-- row-level security so a province's analyst sees only its province.
-- Applied by `tthc-admin migrate` as the owner role (it needs CREATEROLE).
-- Never edit a shipped migration: add one.
--
-- Roles (group roles, NOLOGIN; give people and services login roles that
-- are members of them, see docs/operations.md "Roles"):
--   tthc_service           the consumers: read and write their own tables,
--                          create TEMP tables, no DDL (month partitions come
--                          from the SECURITY DEFINER tthc.ensure_month_partition)
--   tthc_analyst           read-only, every province
--   tthc_province_analyst  read-only, only the rows of the province(s) bound
--                          to the current role in tthc.analyst_provinces;
--                          made with tthc.create_province_analyst(role, code)
--
-- The owner bypasses row-level security (it is not FORCEd); tthc_service and
-- tthc_analyst have permissive policies that see every row, so nobody needs
-- BYPASSRLS (which only a superuser can grant). A role in none of these
-- groups sees no row of a protected table even if granted SELECT.
--
-- Note for writers: COPY FROM is refused on a table with row-level security
-- for every role the policies apply to (PostgreSQL has no WITH CHECK path in
-- COPY): tthc_service writes tthc.filing_events with INSERT ... SELECT from
-- a TEMP table it COPYs into.

DO $$
BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tthc_province_analyst') THEN
                CREATE ROLE tthc_province_analyst NOLOGIN;
        END IF;
END
$$;

-- ---- no DDL ---------------------------------------------------------------
-- Only the owner creates objects in schema tthc. The database keeps
-- CONNECT and TEMPORARY (the services stage batches in TEMP tables) but not
-- CREATE (new schemas); PostgreSQL 15 already denies CREATE on schema
-- public to PUBLIC, older servers are brought in line. These statements
-- need the database's owner: run by another role, they only warn.
REVOKE CREATE ON SCHEMA tthc FROM PUBLIC;
GRANT USAGE ON SCHEMA tthc TO tthc_province_analyst;
DO $$
BEGIN
        EXECUTE format('REVOKE CREATE ON DATABASE %I FROM PUBLIC', current_database());
        EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO tthc_service',
                       current_database());
        EXECUTE format('GRANT CONNECT ON DATABASE %I TO tthc_analyst, tthc_province_analyst',
                       current_database());
        REVOKE CREATE ON SCHEMA public FROM PUBLIC;
EXCEPTION WHEN insufficient_privilege THEN
        RAISE WARNING 'database privileges not changed (run 004 as the database owner): %', SQLERRM;
END
$$;

-- ---- tthc_service: exactly the writes the consumers make (001's tables;
-- later migrations grant their own) -----------------------------------------
REVOKE ALL ON tthc.provinces, tthc.communes, tthc.holidays,
        tthc.schema_migrations FROM PUBLIC, tthc_service;
GRANT SELECT ON tthc.provinces, tthc.communes, tthc.holidays TO tthc_service;
REVOKE DELETE, TRUNCATE, REFERENCES, TRIGGER ON tthc.filing_events,
        tthc.dossiers, tthc.commune_throughput_hourly, tthc.rejected_messages,
        tthc.consumer_offsets, tthc.partition_progress FROM PUBLIC, tthc_service;
GRANT SELECT, INSERT, UPDATE ON tthc.filing_events, tthc.dossiers,
        tthc.commune_throughput_hourly, tthc.rejected_messages,
        tthc.consumer_offsets, tthc.partition_progress TO tthc_service;

-- ---- tthc_analyst: read-only everywhere -------------------------------------
REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER
        ON ALL TABLES IN SCHEMA tthc FROM tthc_analyst;
REVOKE USAGE, UPDATE ON ALL SEQUENCES IN SCHEMA tthc FROM tthc_analyst;
GRANT SELECT ON tthc.provinces, tthc.communes, tthc.holidays,
        tthc.filing_events, tthc.dossiers, tthc.commune_throughput_hourly,
        tthc.commune_throughput_daily, tthc.freshness, tthc.open_dossiers,
        tthc.rejected_messages, tthc.partition_progress TO tthc_analyst;

-- ---- province analysts ---------------------------------------------------------
-- Which province(s) each role may see. A login role inherits the binding of
-- every role it is a member of (pg_has_role ... 'USAGE').
CREATE TABLE tthc.analyst_provinces (
        role_name       name NOT NULL,
        province_code   text NOT NULL CHECK (province_code ~ '^[0-9]{2}$'),
        granted_at      timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (role_name, province_code)
);
COMMENT ON TABLE tthc.analyst_provinces IS
        'row-level security: members of tthc_province_analyst see the rows of the provinces bound to a role they have the privileges of';

-- The province codes the current role may see.
CREATE FUNCTION tthc.analyst_province_codes() RETURNS SETOF text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
        SELECT ap.province_code
        FROM tthc.analyst_provinces ap
        JOIN pg_catalog.pg_roles r ON r.rolname = ap.role_name
        WHERE pg_catalog.pg_has_role(current_user, r.oid, 'USAGE')
$$;

-- The province of a province topic ('tthc.filings.01' -> '01'), else NULL.
CREATE FUNCTION tthc.topic_province(topic text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT substring(topic FROM '^tthc\.filings\.([0-9]{2})$')
$$;

-- Turns on row-level security for a table with a province: tthc_service
-- reads and writes every row, tthc_analyst reads every row, members of
-- tthc_province_analyst read the rows whose province_expr (an SQL
-- expression over the table's columns) is one of theirs. Idempotent.
-- Later migrations can call it for their own tables.
CREATE FUNCTION tthc.enable_province_rls(tbl regclass,
                                         province_expr text DEFAULT 'province_code')
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
        EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
        EXECUTE format('DROP POLICY IF EXISTS tthc_service_all ON %s', tbl);
        EXECUTE format('DROP POLICY IF EXISTS tthc_analyst_all ON %s', tbl);
        EXECUTE format('DROP POLICY IF EXISTS tthc_province_rows ON %s', tbl);
        EXECUTE format('CREATE POLICY tthc_service_all ON %s FOR ALL TO tthc_service '
                       'USING (true) WITH CHECK (true)', tbl);
        EXECUTE format('CREATE POLICY tthc_analyst_all ON %s FOR SELECT TO tthc_analyst '
                       'USING (true)', tbl);
        EXECUTE format('CREATE POLICY tthc_province_rows ON %s FOR SELECT '
                       'TO tthc_province_analyst USING ((%s) IN '
                       '(SELECT tthc.analyst_province_codes()))', tbl, province_expr);
        EXECUTE format('GRANT SELECT ON %s TO tthc_province_analyst', tbl);
END
$$;
REVOKE ALL ON FUNCTION tthc.enable_province_rls(regclass, text) FROM PUBLIC;

SELECT tthc.enable_province_rls('tthc.filing_events');
SELECT tthc.enable_province_rls('tthc.dossiers');
SELECT tthc.enable_province_rls('tthc.commune_throughput_hourly');
SELECT tthc.enable_province_rls('tthc.partition_progress');
SELECT tthc.enable_province_rls('tthc.rejected_messages', 'tthc.topic_province(topic)');

-- Views over those tables are security_invoker, so the policies apply
-- through them; reference data is public knowledge.
GRANT SELECT ON tthc.provinces, tthc.communes, tthc.holidays,
        tthc.commune_throughput_daily, tthc.freshness, tthc.open_dossiers,
        tthc.analyst_provinces TO tthc_province_analyst;

-- Creates (if missing) a NOLOGIN role bound to a province, member of
-- tthc_province_analyst. Then: ALTER ROLE r LOGIN PASSWORD '...', or
-- GRANT r TO a_person. Call again to add a province; unbind with
-- DELETE FROM tthc.analyst_provinces. Refuses a role that would see more
-- than its province anyway.
CREATE FUNCTION tthc.create_province_analyst(p_role name, p_province text)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
        r       pg_roles%ROWTYPE;
BEGIN
        IF p_province IS NULL OR p_province !~ '^[0-9]{2}$' THEN
                RAISE EXCEPTION 'invalid province code "%"', p_province
                        USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF NOT EXISTS (SELECT 1 FROM tthc.provinces WHERE code = p_province) THEN
                RAISE EXCEPTION 'unknown province "%"', p_province
                        USING ERRCODE = 'invalid_parameter_value',
                              HINT = 'load the reference data first (tthc-admin migrate)';
        END IF;
        SELECT * INTO r FROM pg_roles WHERE rolname = p_role;
        IF NOT FOUND THEN
                EXECUTE format('CREATE ROLE %I NOLOGIN', p_role);
        ELSIF r.rolsuper OR r.rolbypassrls
              OR pg_has_role(r.oid, 'tthc_analyst', 'USAGE')
              OR pg_has_role(r.oid, 'tthc_service', 'USAGE') THEN
                RAISE EXCEPTION 'role "%" already sees every province', p_role
                        USING ERRCODE = 'invalid_parameter_value';
        END IF;
        EXECUTE format('GRANT tthc_province_analyst TO %I', p_role);
        INSERT INTO tthc.analyst_provinces (role_name, province_code)
        VALUES (p_role, p_province) ON CONFLICT DO NOTHING;
END
$$;
REVOKE ALL ON FUNCTION tthc.create_province_analyst(name, text) FROM PUBLIC;

-- Default privileges are deliberately not used for tables: a default SELECT
-- for analysts would also reach the month partitions of filing_events
-- (created later by the owner) and let a member read around the parent's
-- policies. Each migration grants what its objects need.
