-- Sover metadata schema, version 4: accounts join the metadata op log.
--
-- Every write of an account row, local or applied from a peer, takes the next value of
-- change_seq into the row's seq, as albums and photos do since V3, so a family's accounts
-- travel to every full node. Sessions and API tokens stay local.

-- Existing rows enter the log in no particular order; distinct values are all that matters.
ALTER TABLE accounts ADD COLUMN seq BIGINT;
UPDATE accounts SET seq = NEXT VALUE FOR change_seq;
ALTER TABLE accounts ALTER COLUMN seq NOT NULL;
CREATE UNIQUE INDEX accounts_seq ON accounts (seq);

-- Made by V1 for an op log read in update order, which is read by seq instead.
DROP INDEX accounts_updated;
