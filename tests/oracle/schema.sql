-- Schema of the decoder's oracle workload (PostgreSQL 14 source). Every table
-- is published (FOR ALL TABLES); see workload.sql for what is done to them.
CREATE TABLE types (
  id int PRIMARY KEY,
  i2 smallint, i4 int, i8 bigint,
  n numeric, n2 numeric(12,4),
  f4 real, f8 double precision,
  t text, vc varchar(40), c char(5),
  b bytea, j jsonb, js json,
  arr int[], tarr text[],
  u uuid, ts timestamp, tstz timestamptz, d date, tm time, iv interval,
  bo boolean, ip inet, bits bit varying(8)
);
-- Large values stored out of line: updates that leave them alone send 'u'.
CREATE TABLE docs (id int PRIMARY KEY, title text, body text, meta jsonb);
-- TOAST even for smallish values.
CREATE TABLE small_toast (id int PRIMARY KEY, a text, b text) WITH (toast_tuple_target = 128);
ALTER TABLE small_toast ALTER COLUMN a SET STORAGE EXTERNAL;
ALTER TABLE small_toast ALTER COLUMN b SET STORAGE EXTERNAL;
-- Old rows are sent whole.
CREATE TABLE full_ident (k int, v text, note text);
ALTER TABLE full_ident REPLICA IDENTITY FULL;
-- No key at all: inserts only (UPDATE/DELETE would fail once published).
CREATE TABLE events (at timestamptz, kind text, payload jsonb);
-- Key change sends the old key ('K').
CREATE TABLE accounts (id int PRIMARY KEY, owner text NOT NULL, balance numeric(14,2));
-- TRUNCATE ... CASCADE reaches the child.
CREATE TABLE parent (id int PRIMARY KEY, name text);
CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent (id), x int);
-- Quoted identifiers.
CREATE TABLE "Mixed Case" ("Key" int PRIMARY KEY, "select" text, "we""ird" text);
-- Big enough to exceed logical_decoding_work_mem and be streamed.
CREATE TABLE bulk (id int PRIMARY KEY, pad text, n int);
