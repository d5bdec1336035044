-- 017: tthc-web (docs/web.md). The pages read the analysts' views as the
-- role of the user asking; tthc-web itself logs in as a read-only,
-- NOINHERIT login that has no privilege of its own: it may only
-- SET ROLE to the roles it was allowed (tthc_analyst for the national
-- view, province analyst roles), so each page runs under exactly that
-- role's row-level security. Never edit a shipped migration: add one.

-- Makes (or completes) the web server's login: LOGIN NOINHERIT, Vietnam
-- time, read-only sessions. Then tthc.web_allow_role(login, role) for
-- each role a request may run as.
CREATE FUNCTION tthc.create_web_login(p_role name, p_password text DEFAULT NULL)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
        r       pg_roles%ROWTYPE;
BEGIN
        SELECT * INTO r FROM pg_roles WHERE rolname = p_role;
        IF NOT FOUND THEN
                EXECUTE format('CREATE ROLE %I LOGIN NOINHERIT', p_role);
        ELSIF r.rolsuper OR r.rolbypassrls OR r.rolcreaterole
              OR r.rolcreatedb THEN
                RAISE EXCEPTION 'role "%" has more privileges than a web login may have', p_role
                        USING ERRCODE = 'invalid_parameter_value';
        ELSE
                EXECUTE format('ALTER ROLE %I LOGIN NOINHERIT', p_role);
        END IF;
        IF p_password IS NOT NULL THEN
                EXECUTE format('ALTER ROLE %I PASSWORD %L', p_role, p_password);
        END IF;
        EXECUTE format('ALTER ROLE %I SET timezone = %L', p_role,
                       'Asia/Ho_Chi_Minh');
        EXECUTE format('ALTER ROLE %I SET default_transaction_read_only = on',
                       p_role);
        EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I',
                       current_database(), p_role);
END
$$;
REVOKE ALL ON FUNCTION tthc.create_web_login(name, text) FROM PUBLIC;
COMMENT ON FUNCTION tthc.create_web_login(name, text) IS
        'creates (or completes) tthc-web''s login: LOGIN NOINHERIT, read-only sessions, Vietnam time; allow it roles with tthc.web_allow_role';

-- Lets the web login SET ROLE to p_role: tthc_analyst (every province)
-- or a province analyst role (tthc.create_province_analyst). Refuses any
-- other role: the web server never writes and never sees more than an
-- analyst.
CREATE FUNCTION tthc.web_allow_role(p_login name, p_role name)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
        r       pg_roles%ROWTYPE;
        l       pg_roles%ROWTYPE;
BEGIN
        SELECT * INTO l FROM pg_roles WHERE rolname = p_login;
        IF NOT FOUND OR l.rolinherit THEN
                RAISE EXCEPTION 'role "%" is no web login (tthc.create_web_login)', p_login
                        USING ERRCODE = 'invalid_parameter_value';
        END IF;
        SELECT * INTO r FROM pg_roles WHERE rolname = p_role;
        IF NOT FOUND THEN
                RAISE EXCEPTION 'role "%" does not exist', p_role
                        USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF r.rolsuper OR r.rolbypassrls
           OR pg_has_role(r.oid, 'tthc_service', 'USAGE')
           OR NOT (p_role = 'tthc_analyst'
                   OR pg_has_role(r.oid, 'tthc_province_analyst', 'USAGE')) THEN
                RAISE EXCEPTION 'role "%" is neither tthc_analyst nor a province analyst role', p_role
                        USING ERRCODE = 'invalid_parameter_value';
        END IF;
        EXECUTE format('GRANT %I TO %I', p_role, p_login);
END
$$;
REVOKE ALL ON FUNCTION tthc.web_allow_role(name, name) FROM PUBLIC;
COMMENT ON FUNCTION tthc.web_allow_role(name, name) IS
        'lets a web login SET ROLE to tthc_analyst or a province analyst role';

-- The provinces the current role sees: all for tthc_analyst, its own for
-- a province analyst role (tthc.analyst_provinces). The pages list these.
CREATE FUNCTION tthc.visible_provinces() RETURNS SETOF text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
        SELECT p.code FROM tthc.provinces p
        WHERE pg_catalog.pg_has_role(current_user, 'tthc_analyst', 'USAGE')
           OR pg_catalog.pg_has_role(current_user, 'tthc_service', 'USAGE')
           OR p.code IN (SELECT tthc.analyst_province_codes())
$$;
COMMENT ON FUNCTION tthc.visible_provinces() IS
        'province codes the current role sees: every one for national analysts, its own for a province analyst';

-- What the pages look up by range.
-- This month's throughput per province (the national page).
CREATE INDEX IF NOT EXISTS commune_throughput_hourly_hour_idx
        ON tthc.commune_throughput_hourly (province_code, hour);
-- A commune's open dossiers by handling commune (the commune page).
CREATE INDEX IF NOT EXISTS dossiers_open_handling_idx
        ON tthc.dossiers (province_code, handling_commune_code)
        WHERE status IN ('submitted', 'processing', 'paused');
-- The firing alerts, newest first (the alerts page).
CREATE INDEX IF NOT EXISTS alerts_firing_idx ON tthc.alerts (started_at DESC)
        WHERE status = 'firing';
