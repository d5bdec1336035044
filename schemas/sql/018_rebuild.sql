-- 018: what tthc-admin rebuild needs to apply a stored event exactly as
-- it was consumed. An event from a writer without handling_commune_code
-- (design.md, field 17) and one that carried it as null differ while a
-- commune handles the dossier (the receiving commune is assumed for the
-- first only); tthc.filing_events kept the code, not which case it was.
-- Rows stored before this migration have NULL: the code given when
-- present.

ALTER TABLE tthc.filing_events ADD COLUMN handling_commune_given boolean;
COMMENT ON COLUMN tthc.filing_events.handling_commune_given IS
        'the writer had the handling_commune_code field (false: an older writer, the receiving commune is assumed while a commune handles it); NULL on events stored before migration 018';
