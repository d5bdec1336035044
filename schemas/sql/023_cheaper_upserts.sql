-- 023: cheaper upserts for the consumers' tables.
--
-- 1. Room for HOT updates. The consumers update their state and counter
-- rows in place, batch after batch (a dossier's row at each of its
-- events, a day's counters at every batch that day), and no update
-- changes an indexed column of these tables: PostgreSQL can then keep the
-- new version on the same page without touching any index (a HOT
-- update), but only when the page has room. At the default fillfactor
-- (100) new rows fill their pages, so nearly every update moved the row
-- and added an entry to each index (5 % of tthc.route_dossiers' updates
-- were HOT on a 5-day stream, 12 % of procedure_level_daily's). Pages
-- filled to 70 % leave that room: an 8,000-row upsert of
-- procedure_level_daily took 95-120 ms instead of 130-230 ms. The
-- setting applies to pages written from now on (no table is rewritten
-- here; VACUUM FULL would apply it to old pages); these tables grow
-- about 45 % larger. tthc.dossiers is left as is: its updates change
-- indexed columns (status, closing), so they could not be HOT anyway.
-- tthc-ingest's hourly and daily counters are left too: at 70 % its runs
-- were no faster (its counters are a small part of its time), and the
-- analysts' range scans of tthc.commune_throughput_hourly read more pages
-- (docs/benchmarks.md, "Fillfactor 70 and the analyst queries").
ALTER TABLE tthc.route_dossiers SET (fillfactor = 70);
ALTER TABLE tthc.procedure_level_daily SET (fillfactor = 70);
ALTER TABLE tthc.procedure_routing_daily SET (fillfactor = 70);
ALTER TABLE tthc.routing_anomalies_daily SET (fillfactor = 70);
ALTER TABLE tthc.procedure_level_by_month SET (fillfactor = 70);
ALTER TABLE tthc.procedure_routing_by_month SET (fillfactor = 70);
ALTER TABLE tthc.routing_anomalies_by_month SET (fillfactor = 70);
ALTER TABLE tthc.alert_dossiers SET (fillfactor = 70);
ALTER TABLE tthc.alert_commune_days SET (fillfactor = 70);

-- 2. tthc.hist_add in PL/pgSQL.
--
-- 002's tthc.hist_add is a SQL function over a subquery (unnest WITH
-- ORDINALITY, sorted back); it is tthc.hist_sum's transition function and
-- tthc-route calls it in every upsert of a level row whose stints moved.
-- As an aggregate step PostgreSQL cannot inline it, and each call runs the
-- subquery: about 8 us a row. The same element-wise sum as a loop over
-- the array in place is twice as fast, alone and inside tthc.hist_sum
-- (200,000 histograms of 27 buckets on the 2-core machine: 225 -> 108 ms
-- as a function, 1.63 -> 0.88 s summed by hist_sum in 1,000 groups), with
-- the same result: NULL when both are NULL, the other one when one is,
-- else the longer length, missing and NULL elements counting 0
-- (tests/integration/test_route.sh compares the two).
CREATE OR REPLACE FUNCTION tthc.hist_add(a integer[], b integer[])
RETURNS integer[] LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
        IF a IS NULL THEN
                RETURN b;
        END IF;
        IF b IS NULL THEN
                RETURN a;
        END IF;
        FOR i IN 1 .. greatest(cardinality(a), cardinality(b)) LOOP
                a[i] := coalesce(a[i], 0) + coalesce(b[i], 0);
        END LOOP;
        RETURN a;
END
$$;
