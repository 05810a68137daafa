-- Metrics snapshots published by `appview-ingest run` (at least every 5 s) for the API's
-- GET /api/metrics/event-processor and /health. One row per ingest process; the leader's row is
-- the one that counts, standbys publish that they are waiting.
CREATE TABLE ingest_metrics (
    instance    text PRIMARY KEY,                 -- '<host>:<pid>' of the process
    role        text NOT NULL CHECK (role IN ('leader', 'standby', 'stopped')),
    source      text NOT NULL,                    -- ingest_cursor.source it consumes
    snapshot    jsonb NOT NULL,                   -- the counters, names as served by the API
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX ingest_metrics_role_updated_idx ON ingest_metrics (role, updated_at DESC);
