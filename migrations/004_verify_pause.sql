-- Operator control of a running scrub (`archivd verify pause|resume|cancel`).
-- A paused run stays 'running' (one run at a time: nothing else starts, a
-- window's scheduler queues no other) with paused_at set; the daemon's
-- verify service stops hashing within a second and hands its range back.
ALTER TABLE verify_runs ADD COLUMN paused_at timestamptz;

-- Pause, resume and cancel wake the daemon at once (the insert trigger
-- already wakes it for new runs).
CREATE TRIGGER verify_runs_control_notify AFTER UPDATE OF state, paused_at ON verify_runs
    FOR EACH ROW EXECUTE FUNCTION archivd_notify_change();

---- create above / drop below ----

DROP TRIGGER verify_runs_control_notify ON verify_runs;
ALTER TABLE verify_runs DROP COLUMN paused_at;
