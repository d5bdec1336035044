-- 005: row-level security (004's policies) for the tables of tthc-route
-- (002) and tthc-alert (003), and province analysts' access to their views.
-- tthc.alert_commune_ticks is left without policies: tthc-alert COPYs into
-- it (COPY FROM refuses tables with row-level security for non-owners),
-- and tthc.commune_health joins it with tthc.alert_provinces, which has
-- them, so a province analyst still sees only their province there.

SELECT tthc.enable_province_rls('tthc.route_dossiers');
SELECT tthc.enable_province_rls('tthc.procedure_routing_daily');
SELECT tthc.enable_province_rls('tthc.procedure_level_daily');
SELECT tthc.enable_province_rls('tthc.routing_anomalies_daily');
SELECT tthc.enable_province_rls('tthc.alerts');
SELECT tthc.enable_province_rls('tthc.alert_commune_days');
SELECT tthc.enable_province_rls('tthc.alert_provinces');

GRANT SELECT ON tthc.procedure_level_monthly, tthc.procedure_level_times,
        tthc.routing_anomalies, tthc.routing_anomalies_worst,
        tthc.scorecard_monthly, tthc.top_procedures,
        tthc.procedure_commune_share, tthc.slowest_procedures,
        tthc.procedure_month_over_month, tthc.commune_health,
        tthc.alert_commune_ticks
        TO tthc_province_analyst;
