-- Sover metadata schema, version 3: the metadata op log.
--
-- Every write of an album or photo row, local or applied from a peer, takes the next value of
-- change_seq into the row's seq. A peer pulls "rows with seq above my cursor" in seq order, so
-- it never misses a change, whatever the writers' clocks say. A row keeps only its latest seq:
-- the log holds each record's current state once, tombstones included.

CREATE SEQUENCE change_seq AS BIGINT START WITH 1 NO CYCLE;

-- Writers lock this table in SHARE mode first in their transaction; a reader of the log locks
-- it EXCLUSIVE for an instant, so it knows that every seq handed out before has committed
-- (DerbyMetadataLog). It never holds rows.
CREATE TABLE change_gate (
    unused INT
);

-- Existing rows enter the log in no particular order; distinct values are all that matters.
ALTER TABLE albums ADD COLUMN seq BIGINT;
UPDATE albums SET seq = NEXT VALUE FOR change_seq;
ALTER TABLE albums ALTER COLUMN seq NOT NULL;
CREATE UNIQUE INDEX albums_seq ON albums (seq);

ALTER TABLE photos ADD COLUMN seq BIGINT;
UPDATE photos SET seq = NEXT VALUE FOR change_seq;
ALTER TABLE photos ALTER COLUMN seq NOT NULL;
CREATE UNIQUE INDEX photos_seq ON photos (seq);

-- V1 made these for an op log read in update order; the log reads by seq instead, and an
-- unused index only slows every write.
DROP INDEX albums_updated;
DROP INDEX photos_updated;

-- How far this node has pulled each peer's log. log_cursor is the peer's opaque cursor
-- (CURSOR is reserved in Derby).
CREATE TABLE peer_cursors (
    node_id     VARCHAR(128) NOT NULL PRIMARY KEY,
    log_cursor  VARCHAR(200) NOT NULL,
    saved_at    BIGINT       NOT NULL
);
