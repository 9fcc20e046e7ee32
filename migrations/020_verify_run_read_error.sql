-- A verify run the seeder queues when a read for a peer fails on data
-- recorded complete (a file cut short, deleted or unreadable): kind
-- 'read_error', scoped to that torrent on that node, claimed and run by
-- the daemon like a manual run. See docs/ARCHITECTURE.md, "Verification".
ALTER TABLE verify_runs DROP CONSTRAINT verify_runs_kind_check;
ALTER TABLE verify_runs ADD CONSTRAINT verify_runs_kind_check CHECK (kind IN ('scheduled', 'manual', 'offline', 'read_error'));

---- create above / drop below ----

UPDATE verify_runs SET kind = 'manual' WHERE kind = 'read_error';
ALTER TABLE verify_runs DROP CONSTRAINT verify_runs_kind_check;
ALTER TABLE verify_runs ADD CONSTRAINT verify_runs_kind_check CHECK (kind IN ('scheduled', 'manual', 'offline'));
