-- 010: analyst logins see Vietnam time. A timestamptz prints in the
-- session's time zone, and a role's settings are not passed on by the
-- group roles it is a member of, so the setting goes on each login role:
-- tthc.create_analyst makes a national analyst login with it, and
-- tthc.create_province_analyst now sets it on the role it makes. The
-- services keep the server's zone (they convert explicitly).

CREATE FUNCTION tthc.create_analyst(p_role name, p_password text DEFAULT NULL)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = p_role) THEN
                EXECUTE format('CREATE ROLE %I LOGIN', p_role);
        END IF;
        IF p_password IS NOT NULL THEN
                EXECUTE format('ALTER ROLE %I LOGIN PASSWORD %L', p_role,
                               p_password);
        END IF;
        EXECUTE format('GRANT tthc_analyst TO %I', p_role);
        EXECUTE format('ALTER ROLE %I SET timezone = %L', p_role,
                       'Asia/Ho_Chi_Minh');
END
$$;
REVOKE ALL ON FUNCTION tthc.create_analyst(name, text) FROM PUBLIC;
COMMENT ON FUNCTION tthc.create_analyst(name, text) IS
        'creates (or completes) a national analyst login: member of tthc_analyst, Vietnam time';

CREATE OR REPLACE FUNCTION tthc.create_province_analyst(p_role name, p_province text)
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
        EXECUTE format('ALTER ROLE %I SET timezone = %L', p_role,
                       'Asia/Ho_Chi_Minh');
        INSERT INTO tthc.analyst_provinces (role_name, province_code)
        VALUES (p_role, p_province) ON CONFLICT DO NOTHING;
END
$$;
REVOKE ALL ON FUNCTION tthc.create_province_analyst(name, text) FROM PUBLIC;
