-- DID documents resolved for service auth (and later for handles / PDS endpoints), so that a
-- restart serves them from here instead of refetching everything from the PLC directory.
-- Written by the resolver after a successful fetch; rows with is_local were written by
-- `appview-ingest mint-token` on a local stack and are never fetched from the network.
CREATE TABLE did_documents (
    did         text PRIMARY KEY,
    document    text NOT NULL,          -- the JSON as received (re-parsed on load)
    fetched_at  timestamptz NOT NULL,   -- when it was fetched (or minted): the cache TTL runs from here
    is_local    boolean NOT NULL DEFAULT false
);
