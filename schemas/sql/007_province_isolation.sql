-- 007: province isolation by construction. Every relation granted to
-- tthc_province_analyst either has row-level security that filters by the
-- caller's provinces, is a security_invoker view over such relations, or
-- is reference data (tests/integration/test_security.sh walks the catalog
-- and fails otherwise).
--
-- tthc.alert_commune_ticks had no policies (tthc-alert COPYed into it, and
-- COPY FROM is refused on tables with row-level security for non-owners):
-- a province analyst read every province's rows. tthc-alert now writes it
-- through a TEMP table and INSERT ... SELECT, as tthc-ingest writes
-- tthc.filing_events.
SELECT tthc.enable_province_rls('tthc.alert_commune_ticks');

-- tthc.analyst_provinces showed every role's binding to every province
-- analyst. Its rows are now those of the roles the caller has the
-- privileges of (the bindings tthc.analyst_province_codes() reads), shown
-- through tthc.my_province_bindings. The table itself stays readable by
-- province analysts under that policy: the province policies of the other
-- tables call tthc.analyst_province_codes(), which reads it as the caller.
-- The policy must not read tthc.analyst_provinces itself (recursion).
ALTER TABLE tthc.analyst_provinces ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tthc_own_bindings ON tthc.analyst_provinces;
CREATE POLICY tthc_own_bindings ON tthc.analyst_provinces FOR SELECT
        TO tthc_province_analyst
        USING (EXISTS (SELECT 1 FROM pg_catalog.pg_roles r
                       WHERE r.rolname = role_name
                         AND pg_catalog.pg_has_role(current_user, r.oid, 'USAGE')));
DROP POLICY IF EXISTS tthc_analyst_all ON tthc.analyst_provinces;
CREATE POLICY tthc_analyst_all ON tthc.analyst_provinces FOR SELECT
        TO tthc_analyst USING (true);
GRANT SELECT ON tthc.analyst_provinces TO tthc_analyst;

CREATE VIEW tthc.my_province_bindings WITH (security_invoker = true) AS
SELECT ap.role_name, ap.province_code, ap.granted_at
FROM tthc.analyst_provinces ap
JOIN pg_catalog.pg_roles r ON r.rolname = ap.role_name
WHERE pg_catalog.pg_has_role(current_user, r.oid, 'USAGE');
COMMENT ON VIEW tthc.my_province_bindings IS
        'the province bindings of the roles the current role has the privileges of';
GRANT SELECT ON tthc.my_province_bindings TO tthc_analyst, tthc_province_analyst;
