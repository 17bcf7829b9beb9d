-- Sover metadata schema, version 1.
-- Times are epoch milliseconds (BIGINT). Ids are Ids.newId() strings (26 characters) except
-- blob ids, which are hex HMACs of the plaintext.
--
-- albums, photos and accounts replicate between nodes: each row carries the last-writer-wins
-- clock (rev, updated_at, node_id) and deletes are tombstones (deleted = TRUE). They have no
-- foreign keys between them, because operations from peers may arrive in any order.
-- blobs, idempotency_keys, sessions and api_tokens are local to this node.

CREATE TABLE albums (
    id          VARCHAR(32)  NOT NULL PRIMARY KEY,
    name        VARCHAR(200) NOT NULL,
    created_at  BIGINT       NOT NULL,
    updated_at  BIGINT       NOT NULL,
    rev         BIGINT       NOT NULL,
    node_id     VARCHAR(128) NOT NULL,
    deleted     BOOLEAN      NOT NULL DEFAULT FALSE
);

-- albums(): live albums, newest first.
CREATE INDEX albums_live_created ON albums (deleted, created_at DESC, id DESC);
-- The replication op log reads changes in update order.
CREATE INDEX albums_updated ON albums (updated_at, id);

CREATE TABLE blobs (
    id             VARCHAR(128)  NOT NULL PRIMARY KEY,
    size           BIGINT        NOT NULL,
    cipher_size    BIGINT        NOT NULL,
    segments       INT           NOT NULL,
    cipher_sha256  VARCHAR(64)   NOT NULL,
    origin_node_id VARCHAR(128)  NOT NULL,
    created_at     BIGINT        NOT NULL,
    signature      VARCHAR(512) FOR BIT DATA NOT NULL
);

CREATE TABLE photos (
    id             VARCHAR(32)  NOT NULL PRIMARY KEY,
    album_id       VARCHAR(32)  NOT NULL,
    blob_id        VARCHAR(128) NOT NULL,
    filename       VARCHAR(255) NOT NULL,
    content_type   VARCHAR(255) NOT NULL,
    size           BIGINT       NOT NULL,
    width          INT,
    height         INT,
    taken_at       BIGINT       NOT NULL,
    uploaded_at    BIGINT       NOT NULL,
    updated_at     BIGINT       NOT NULL,
    rev            BIGINT       NOT NULL,
    node_id        VARCHAR(128) NOT NULL,
    thumb_blob_id  VARCHAR(128),
    uploaded_by    VARCHAR(128),
    deleted        BOOLEAN      NOT NULL DEFAULT FALSE
);

-- Album pages (keyset: taken_at DESC, id DESC), photo counts and covers.
CREATE INDEX photos_album_page ON photos (album_id, deleted, taken_at DESC, id DESC);
-- The timeline across albums.
CREATE INDEX photos_timeline ON photos (deleted, taken_at DESC, id DESC);
-- "Is this blob still referenced?" and "does the album already hold this blob?".
CREATE INDEX photos_blob ON photos (blob_id, deleted);
CREATE INDEX photos_thumb ON photos (thumb_blob_id);
CREATE INDEX photos_updated ON photos (updated_at, id);

CREATE TABLE idempotency_keys (
    account_id  VARCHAR(32)  NOT NULL,
    idem_key    VARCHAR(128) NOT NULL,
    photo_id    VARCHAR(32)  NOT NULL REFERENCES photos (id) ON DELETE CASCADE,
    created_at  BIGINT       NOT NULL,
    PRIMARY KEY (account_id, idem_key)
);

CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

CREATE TABLE accounts (
    id             VARCHAR(32)  NOT NULL PRIMARY KEY,
    username       VARCHAR(64)  NOT NULL,
    username_lower VARCHAR(64)  NOT NULL UNIQUE,
    role           VARCHAR(16)  NOT NULL,
    password_hash  VARCHAR(512) NOT NULL,
    created_at     BIGINT       NOT NULL,
    updated_at     BIGINT       NOT NULL,
    rev            BIGINT       NOT NULL,
    node_id        VARCHAR(128) NOT NULL,
    deleted        BOOLEAN      NOT NULL DEFAULT FALSE
);

CREATE INDEX accounts_updated ON accounts (updated_at, id);

CREATE TABLE sessions (
    hash        VARCHAR(128) NOT NULL PRIMARY KEY,
    account_id  VARCHAR(32)  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at  BIGINT       NOT NULL,
    expires_at  BIGINT       NOT NULL
);

CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE api_tokens (
    id            VARCHAR(32)  NOT NULL PRIMARY KEY,
    account_id    VARCHAR(32)  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name          VARCHAR(200) NOT NULL,
    hash          VARCHAR(128) NOT NULL UNIQUE,
    created_at    BIGINT       NOT NULL,
    last_used_at  BIGINT
);

CREATE INDEX api_tokens_account ON api_tokens (account_id, created_at);
