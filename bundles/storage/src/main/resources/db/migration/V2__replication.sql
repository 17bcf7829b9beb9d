-- Sover metadata schema, version 2: the blob replication queue and the facts about peers.
-- All of it is local to this node (nothing here replicates). Times are epoch milliseconds.

-- One job per (blob, peer). state is the wire name: pending, in_flight, done, failed.
-- next_attempt_at: when a pending job is due; for a failed job the end of its cool-down, or
-- NULL when only a person or the peer's return requeues it. lease_until: while in_flight.
CREATE TABLE jobs (
    id               VARCHAR(32)   NOT NULL PRIMARY KEY,
    blob_id          VARCHAR(128)  NOT NULL,
    photo_id         VARCHAR(32),
    peer_id          VARCHAR(128)  NOT NULL,
    state            VARCHAR(16)   NOT NULL,
    attempts         INT           NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT,
    last_error       VARCHAR(2000),
    transport        VARCHAR(64),
    path             VARCHAR(64),
    created_at       BIGINT        NOT NULL,
    updated_at       BIGINT        NOT NULL,
    first_attempt_at BIGINT,
    lease_until      BIGINT,
    CONSTRAINT jobs_state CHECK (state IN ('pending', 'in_flight', 'done', 'failed')),
    -- Also the index for "the jobs of this blob" (a deleted blob, a re-uploaded one).
    CONSTRAINT jobs_blob_peer UNIQUE (blob_id, peer_id)
);

-- lease() of one peer (due pending jobs, oldest due first), requeuePeer() and the counts per peer.
CREATE INDEX jobs_due ON jobs (state, peer_id, next_attempt_at);
-- lease() across peers and promoteCooledDown(): by due time without a sort over every peer.
CREATE INDEX jobs_due_any ON jobs (state, next_attempt_at);
-- releaseExpiredLeases().
CREATE INDEX jobs_lease ON jobs (state, lease_until);
-- jobs(): newest first (keyset on created_at DESC, id DESC), unfiltered, by state, by peer.
CREATE INDEX jobs_newest ON jobs (created_at DESC, id DESC);
CREATE INDEX jobs_state_newest ON jobs (state, created_at DESC, id DESC);
-- Also serves dropping the jobs of an unpinned peer.
CREATE INDEX jobs_peer_newest ON jobs (peer_id, created_at DESC, id DESC);

-- Pinned peers. addresses: base URLs joined by newlines, the one that last worked first.
CREATE TABLE peers (
    node_id         VARCHAR(128)  NOT NULL PRIMARY KEY,
    public_key      VARCHAR(128) FOR BIT DATA NOT NULL,
    name            VARCHAR(200)  NOT NULL,
    role            VARCHAR(16)   NOT NULL,
    addresses       VARCHAR(4096) NOT NULL,
    paired_at       BIGINT        NOT NULL,
    last_contact_at BIGINT,
    last_error      VARCHAR(2000),
    last_error_at   BIGINT,
    CONSTRAINT peers_role CHECK (role IN ('full', 'storage'))
);

-- The block list is kept apart from peers: it must outlive unpinning, and it may name nodes
-- that were never pinned.
CREATE TABLE blocked_nodes (
    node_id     VARCHAR(128) NOT NULL PRIMARY KEY,
    blocked_at  BIGINT       NOT NULL
);

-- One-time pairing tokens, by hash (the token itself is only in the pairing line).
CREATE TABLE pairing_tokens (
    token_hash  VARCHAR(128) NOT NULL PRIMARY KEY,
    role        VARCHAR(16)  NOT NULL,
    expires_at  BIGINT       NOT NULL,
    CONSTRAINT pairing_tokens_role CHECK (role IN ('full', 'storage'))
);

-- Pairing requests without a valid token, waiting for an admin.
CREATE TABLE pending_peers (
    node_id       VARCHAR(128)  NOT NULL PRIMARY KEY,
    public_key    VARCHAR(128) FOR BIT DATA NOT NULL,
    name          VARCHAR(200)  NOT NULL,
    role          VARCHAR(16)   NOT NULL,
    addresses     VARCHAR(4096) NOT NULL,
    requested_at  BIGINT        NOT NULL,
    CONSTRAINT pending_peers_role CHECK (role IN ('full', 'storage'))
);
