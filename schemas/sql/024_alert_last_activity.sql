-- 024: each commune's latest activity survives a reload of tthc-alert's
-- state.
--
-- A snapshot row (tthc.alert_commune_ticks) records, besides the open
-- dossiers, the time of the commune's latest activity (last_event_at,
-- which the commune_silent rule and the alert details read). tthc-alert
-- kept the activity seen since the last snapshot in memory only: when it
-- reloaded a partition's state (after a restart, a failed batch, the
-- bisection of a refused row) the next snapshot fell back to the
-- previous one's time, so it depended on when reloads happened. The day
-- counters, written with the offsets, now keep the latest activity of
-- each day, and a reload takes the later of the two.
ALTER TABLE tthc.alert_commune_days ADD COLUMN last_event_at timestamptz;
COMMENT ON COLUMN tthc.alert_commune_days.last_event_at IS
        'the latest occurred_at of the events its desk or agency sent that day (NULL in rows written before migration 024)';
