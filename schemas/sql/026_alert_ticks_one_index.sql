-- 026: tthc-alert's snapshots with one index, in the order they are read
-- and written.
--
-- tthc.alert_commune_ticks had its primary key (topic, partition,
-- commune_code, tick) and an index (province_code, tick) for the
-- evaluator and the daily prune, which read a province's snapshots by
-- tick. Every snapshot row went into both, the primary key at one of
-- about 100,000 (partition, commune) places across the table. Led by the
-- province and the tick, the primary key alone serves the evaluator's and
-- the prune's reads, keeps the rows unique, and takes each batch's rows
-- at the end of each province's range. A partition's reload (tthc-alert
-- reads its latest snapshot per commune) now names the province too, and
-- reads all that province's rows (a few thousand after the daily prune,
-- more as the day goes on): about 2.5 ms more per partition on a national
-- stream, paid when partitions are assigned and after an attempt that did
-- not commit (tthc-alert then reloads every partition of the next one).
-- tthc.commune_health sorts the rows it reads either way (measured on a
-- national stream of 15 days: 377 ms before, 350 ms after).

ALTER TABLE tthc.alert_commune_ticks
        DROP CONSTRAINT alert_commune_ticks_pkey;
DROP INDEX tthc.alert_commune_ticks_province_idx;
ALTER TABLE tthc.alert_commune_ticks
        ADD PRIMARY KEY (province_code, tick, topic, partition, commune_code);
