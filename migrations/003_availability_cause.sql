-- Availability becomes a typed state: a cause next to the free-text
-- reason, and 'degraded' (seeding, but writes fail: disk full, quota,
-- read-only, I/O error). Existing unavailable rows get their cause from the
-- reason texts earlier versions wrote.
ALTER TABLE torrents ADD COLUMN availability_cause text NOT NULL DEFAULT ''
    CHECK (availability_cause IN ('', 'data_missing', 'data_unreadable', 'mass_failure', 'bad_metadata',
        'disk_full', 'quota_exceeded', 'read_only', 'write_io_error'));

UPDATE torrents SET availability_cause = CASE
    WHEN availability_reason LIKE '%does not exist%' OR availability_reason LIKE '%is missing%'
        OR availability_reason LIKE '%none of the%files exists%' THEN 'data_missing'
    WHEN availability_reason LIKE '%checked pieces bad%' THEN 'mass_failure'
    WHEN availability_reason LIKE 'verify run%' THEN 'mass_failure'
    WHEN availability_reason LIKE '%data directory%' THEN 'data_unreadable'
    ELSE 'bad_metadata' END
WHERE availability = 'unavailable';

ALTER TABLE torrents DROP CONSTRAINT torrents_availability_check;
ALTER TABLE torrents ADD CONSTRAINT torrents_availability_check
    CHECK (availability IN ('ok', 'unavailable', 'degraded'));
ALTER TABLE torrents ADD CONSTRAINT torrents_availability_cause_ok
    CHECK ((availability = 'ok') = (availability_cause = ''));

---- create above / drop below ----

-- Degraded torrents were seeding: they go back to 'ok' (the cause is lost).
UPDATE torrents SET availability = 'ok' WHERE availability = 'degraded';
ALTER TABLE torrents DROP CONSTRAINT torrents_availability_cause_ok;
ALTER TABLE torrents DROP CONSTRAINT torrents_availability_check;
ALTER TABLE torrents ADD CONSTRAINT torrents_availability_check
    CHECK (availability IN ('ok', 'unavailable'));
ALTER TABLE torrents DROP COLUMN availability_cause;
