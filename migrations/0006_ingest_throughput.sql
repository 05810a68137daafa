-- Ingest throughput and delete tombstones.

-- Notifications: the primary key leads with the causing record, so deleting a record's
-- notifications (WHERE record_uri = ANY(…)) walks the key's prefix and the separate record index
-- goes: one btree fewer to maintain per notification. Reads use notifications_recipient_sort_idx.
ALTER TABLE notifications DROP CONSTRAINT notifications_pkey;
ALTER TABLE notifications ADD CONSTRAINT notifications_pkey PRIMARY KEY (record_uri, recipient_did);
DROP INDEX notifications_record_idx;

-- A delete leaves a tombstone (record URI, delete event time_us): a create or update of that URI
-- whose event is not newer is not applied, so a create arriving after its delete (out of order
-- across a rewind or a resumed import) does not bring the record back. Pruned by the ingest once
-- older than INGEST_TOMBSTONE_HORIZON_S (by event time) behind the newest event it applied.
CREATE TABLE record_tombstones (
    uri      text PRIMARY KEY,
    time_us  bigint NOT NULL
);
-- pruning (time_us < horizon) and the newest tombstone (max(time_us)) per batch
CREATE INDEX record_tombstones_time_idx ON record_tombstones (time_us);
