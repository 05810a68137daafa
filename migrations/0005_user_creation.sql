-- User creation: actors whose identity (handle, PDS) and profile still have to be fetched.
-- A row is written in the same transaction that creates the actor, so the work is durable from
-- the start: the in-memory queue is only a fast path, and what it evicts, defers or fails (or what
-- a stopped process left) is picked up again by the sweep once `next_attempt_at` has passed.
-- The row is deleted once the actor's handle and profile are settled.
CREATE TABLE user_creation_pending (
    did              text PRIMARY KEY,
    since            timestamptz NOT NULL DEFAULT now(),
    attempts         integer NOT NULL DEFAULT 0,      -- failed resolutions so far (backoff)
    -- A new actor is queued in memory at once; its marker becomes due only after a grace period,
    -- so the sweep does not offer it again while it is being worked on.
    next_attempt_at  timestamptz NOT NULL DEFAULT now() + interval '2 minutes',
    last_error       text
);

-- The sweep: the due markers, oldest first.
CREATE INDEX user_creation_pending_due_idx ON user_creation_pending (next_attempt_at);
