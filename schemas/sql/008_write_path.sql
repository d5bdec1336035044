-- 008: the consumers' write path (docs/performance.md).
--
-- The per-dossier state tables are updated in place batch after batch
-- (one row per dossier a batch changed). With pages filled to 100 %, every
-- update puts the new row version on another page and inserts it into the
-- primary key as well; leaving a quarter of each page free lets most
-- updates stay on their page without touching the index (HOT updates).
-- Only pages written from now on are affected.
ALTER TABLE tthc.route_dossiers SET (fillfactor = 75);
ALTER TABLE tthc.dossiers SET (fillfactor = 75);
ALTER TABLE tthc.alert_dossiers SET (fillfactor = 75);
