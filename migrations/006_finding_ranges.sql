-- Findings become one open row per torrent, piece range and cause, seen
-- again by later runs (last_seen_at, seen_count, last_run_id) instead of a
-- new row per piece per run. See docs/ARCHITECTURE.md, "Lifecycle".
--
--   piece, piece_count : the range [piece, piece + piece_count)
--   run_id             : the run that first found it
--   last_run_id        : the latest run that judged it
--   seen_count         : how many runs (or migrated rows) saw it bad
--   state_changed_at   : when it entered its state (repair time-out)
ALTER TABLE findings
    ADD COLUMN piece_count integer NOT NULL DEFAULT 1 CHECK (piece_count > 0),
    ADD COLUMN last_seen_at timestamptz,
    ADD COLUMN seen_count integer NOT NULL DEFAULT 1 CHECK (seen_count > 0),
    ADD COLUMN last_run_id bigint REFERENCES verify_runs (id) ON DELETE SET NULL,
    ADD COLUMN state_changed_at timestamptz;

UPDATE findings SET last_seen_at = detected_at, last_run_id = run_id, state_changed_at = detected_at;
ALTER TABLE findings
    ALTER COLUMN last_seen_at SET NOT NULL, ALTER COLUMN last_seen_at SET DEFAULT now(),
    ALTER COLUMN state_changed_at SET NOT NULL, ALTER COLUMN state_changed_at SET DEFAULT now();

-- 1. Rows of one piece not yet repaired (one per run that saw it) become
-- one: the newest row's state, kind and file facts (the latest judgement),
-- the first detection, every sighting counted.
WITH g AS (
    SELECT torrent_id, piece, max(id) AS keep, min(detected_at) AS first_at, max(last_seen_at) AS last_at,
           count(*) AS n, (array_agg(run_id ORDER BY id))[1] AS first_run
    FROM findings WHERE state <> 'repaired' GROUP BY torrent_id, piece HAVING count(*) > 1)
UPDATE findings f SET detected_at = g.first_at, last_seen_at = g.last_at, seen_count = g.n, run_id = g.first_run
FROM g WHERE f.id = g.keep;
DELETE FROM findings f USING findings k
WHERE f.state <> 'repaired' AND k.state <> 'repaired' AND k.torrent_id = f.torrent_id AND k.piece = f.piece AND k.id > f.id;

-- 2. Consecutive pieces of one torrent with the same cause and state
-- become one range (gaps and islands), kept on the range's first row.
WITH n AS (
    SELECT id, torrent_id, piece, kind, state,
           piece - row_number() OVER (PARTITION BY torrent_id, kind, state ORDER BY piece) AS island
    FROM findings WHERE state <> 'repaired'),
i AS (
    SELECT (array_agg(n.id ORDER BY n.piece))[1] AS keep, count(*) AS cnt, array_agg(n.id) AS ids
    FROM n GROUP BY torrent_id, kind, state, island HAVING count(*) > 1),
agg AS (
    SELECT i.keep, i.cnt, min(f.detected_at) AS first_at, max(f.last_seen_at) AS last_at, max(f.seen_count) AS seen,
           min(f.state_changed_at) AS since
    FROM i JOIN findings f ON f.id = ANY(i.ids) GROUP BY i.keep, i.cnt),
upd AS (
    UPDATE findings f SET piece_count = agg.cnt, detected_at = agg.first_at, last_seen_at = agg.last_at,
        seen_count = agg.seen, state_changed_at = agg.since
    FROM agg WHERE f.id = agg.keep RETURNING f.id)
DELETE FROM findings f USING i WHERE f.id = ANY(i.ids) AND f.id <> i.keep;

DROP INDEX findings_open_idx;
-- One open range starts at a piece; ranges of a torrent do not overlap.
CREATE UNIQUE INDEX findings_open_idx ON findings (torrent_id, piece) WHERE state <> 'repaired';
CREATE INDEX findings_last_run_idx ON findings (last_run_id);

---- create above / drop below ----

DROP INDEX findings_last_run_idx;
DROP INDEX findings_open_idx;
CREATE INDEX findings_open_idx ON findings (torrent_id, piece) WHERE state <> 'repaired';
ALTER TABLE findings DROP COLUMN piece_count, DROP COLUMN last_seen_at, DROP COLUMN seen_count,
    DROP COLUMN last_run_id, DROP COLUMN state_changed_at;
