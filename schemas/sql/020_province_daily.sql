-- 020: tthc-ingest's hourly counters summed per province and Vietnam day,
-- stored.
--
-- tthc-web's national page summed the month's tthc.commune_throughput_hourly
-- rows per province: about 1M rows by the end of a month on a national
-- year, 100 ms (p50) on the 4th of the month and several hundred ms by its
-- end. tthc-ingest now adds each batch's increments, summed per province
-- and Vietnam day, to tthc.province_throughput_daily in the statement after
-- the hourly upsert (same transaction), so a day's row is always the sum of
-- its hours' rows; the page reads at most 31 rows per province.

CREATE TABLE tthc.province_throughput_daily (
        day                     date NOT NULL,
        province_code           text NOT NULL,
        received                bigint NOT NULL DEFAULT 0,
        resolved_early          bigint NOT NULL DEFAULT 0,
        resolved_on_time        bigint NOT NULL DEFAULT 0,
        resolved_late           bigint NOT NULL DEFAULT 0,
        stopped                 bigint NOT NULL DEFAULT 0,
        withdrawn               bigint NOT NULL DEFAULT 0,
        intake_refused          bigint NOT NULL DEFAULT 0,
        transferred_out         bigint NOT NULL DEFAULT 0,
        supplement_requested    bigint NOT NULL DEFAULT 0,
        online_received         bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (province_code, day)
);

-- The counters mean what they mean on the hourly rows (014's comments);
-- copied from the catalog so that the two never say different things.
SELECT tthc.copy_column_comments('tthc.commune_throughput_hourly',
                                  'tthc.province_throughput_daily');
COMMENT ON TABLE tthc.province_throughput_daily IS
        'tthc.commune_throughput_hourly summed per province and Vietnam day (every RECEIVING commune and provincial centre), kept by tthc-ingest in the same transaction as the hours (migration 020)';
COMMENT ON COLUMN tthc.province_throughput_daily.day IS
        'Vietnam calendar day (Asia/Ho_Chi_Minh) of the hours summed';

SELECT tthc.enable_province_rls('tthc.province_throughput_daily');
REVOKE ALL ON tthc.province_throughput_daily FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE ON tthc.province_throughput_daily TO tthc_service;
GRANT SELECT ON tthc.province_throughput_daily TO tthc_analyst;

-- Recomputes the days from from_day on (NULL: every day) from the hourly
-- rows. tthc-ingest's rebuild calls it after deleting the hours it
-- replays; run by the owner, it also repairs the table by hand. Returns
-- the rows written.
CREATE FUNCTION tthc.province_throughput_resum(from_day date)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
        lo      date := coalesce(from_day, '-infinity'::date);
        n       bigint;
BEGIN
        DELETE FROM tthc.province_throughput_daily WHERE day >= lo;
        -- the hours of Vietnam day lo begin at its midnight in Vietnam
        INSERT INTO tthc.province_throughput_daily
        SELECT (hour AT TIME ZONE 'Asia/Ho_Chi_Minh')::date, province_code,
               sum(received), sum(resolved_early), sum(resolved_on_time),
               sum(resolved_late), sum(stopped), sum(withdrawn),
               sum(intake_refused), sum(transferred_out),
               sum(supplement_requested), sum(online_received)
        FROM tthc.commune_throughput_hourly
        WHERE from_day IS NULL
           OR hour >= (lo::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh')
        GROUP BY 1, 2;
        GET DIAGNOSTICS n = ROW_COUNT;
        RETURN n;
END
$$;
REVOKE ALL ON FUNCTION tthc.province_throughput_resum(date) FROM PUBLIC;
COMMENT ON FUNCTION tthc.province_throughput_resum(date) IS
        'recomputes tthc.province_throughput_daily from tthc.commune_throughput_hourly for the Vietnam days from the given day on (NULL: all); owner only';

SELECT tthc.province_throughput_resum(NULL);
ANALYZE tthc.province_throughput_daily;
