-- The decoder's oracle workload, run on the PostgreSQL 14 source after both
-- slots exist. Every DML kind, the type corpus, TOAST, replica identities,
-- TRUNCATE CASCADE, a streamed transaction with rolled-back subtransactions.
-- Run with psql -v ON_ERROR_STOP=1. The test sets logical_decoding_work_mem
-- to its minimum (64kB) on the server, where the walsender decodes, so that
-- the big transaction below is streamed.

INSERT INTO types VALUES
 (1, 32767, 2147483647, 9223372036854775807, 'NaN', 1.5, 'Infinity', '-Infinity',
  'it''s a "quote" \ backslash', 'tab	here', 'ab',
  '\x00ff10', '{"b": [1, 2.50, null], "a": "é"}', '{"b":1,   "a":2}',
  '{1,NULL,3}', '{"a b","c,d",NULL,""}',
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '2024-02-29 23:59:59.999999',
  '2024-02-29 23:59:59.123456+05:30', '0001-01-01', '24:00:00', '1 year 2 mons -3 days 04:05:06.7',
  true, '10.1.2.3/32', B'1011'),
 (2, -32768, -2147483648, -9223372036854775808, '-0.000000000000000000001', -0.0001,
  '-0', '-0', E'line1\nline2\r\n', '', '     ',
  '\x', '[]', 'null', '{}', '{}',
  '00000000-0000-0000-0000-000000000000', '-infinity', 'infinity', 'epoch', '00:00', '0',
  false, '::1', B''),
 (3, NULL, NULL, NULL, '123456789012345678901234567890.123456789', NULL,
  1.17549435e-38, 2.2250738585072014e-308, 'unicode: ☃ 𝄞 日本', NULL, NULL,
  NULL, '{"deep": {"x": [true, false]}}', NULL, '{{1,2},{3,4}}', NULL,
  NULL, NULL, NULL, NULL, NULL, '-178000000 years', NULL, '2001:db8::/32', NULL),
 (4, 0, 0, 0, '0', 0, 3.4028235e38, 1e308, '', '', '',
  '\xdeadbeef', '"just a string"', '"x"', '{-1}', '{NULL}',
  'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF', '1999-12-31 23:59:59', '2000-01-01 00:00:00+00',
  '2000-01-01', '12:34:56.789', '-1 days +02:03', NULL, '0.0.0.0/0', B'11111111');
UPDATE types SET t = NULL, vc = 'NULL' WHERE id = 4;      -- NULL vs the word NULL
UPDATE types SET t = '' WHERE id = 3;                      -- '' vs NULL
UPDATE types SET f8 = 0 WHERE id = 2;                      -- -0 -> 0
DELETE FROM types WHERE id = 1;

-- Bodies of ~12.8 kB of hex digits: too random to compress, stored out of line.
INSERT INTO docs
SELECT g, 'doc ' || g, (SELECT string_agg(md5(g || ':' || i), '') FROM generate_series(1, 400) i),
       '{"v": 1}'
FROM generate_series(1, 5) g;
UPDATE docs SET title = title || ' (edited)' WHERE id <= 3; -- body unchanged: 'u'
UPDATE docs SET body = body || 'x' WHERE id = 4;           -- body changed: sent whole
DELETE FROM docs WHERE id = 5;

-- Toasting starts only past ~2 kB per row; then toast_tuple_target = 128
-- moves both values out of line.
INSERT INTO small_toast SELECT g, repeat('a', 1100), repeat('b', 1100) FROM generate_series(1, 4) g;
UPDATE small_toast SET a = 'short' WHERE id = 1;           -- b unchanged: 'u'
UPDATE small_toast SET id = 10 WHERE id = 2;               -- key change: 'K' old key
DELETE FROM small_toast WHERE id = 3;

INSERT INTO full_ident VALUES (1, 'one', NULL), (1, 'one', NULL), (2, 'two', 'n');
UPDATE full_ident SET note = 'changed' WHERE v = 'two';    -- 'O' whole old row
DELETE FROM full_ident WHERE k = 1;                        -- duplicates: two deletes

INSERT INTO events VALUES (now(), 'start', '{"a": 1}'), (now(), 'stop', NULL);

INSERT INTO accounts VALUES (1, 'alice', 100.00), (2, 'bob', 50.50);
BEGIN;
UPDATE accounts SET balance = balance - 10 WHERE id = 1;
UPDATE accounts SET balance = balance + 10 WHERE id = 2;
SELECT pg_logical_emit_message(true, 'pgparity', 'transfer 10');
COMMIT;
UPDATE accounts SET id = 3 WHERE id = 2;                   -- key change

INSERT INTO "Mixed Case" VALUES (1, 'kw', 'q"q');
UPDATE "Mixed Case" SET "we""ird" = NULL WHERE "Key" = 1;

INSERT INTO parent VALUES (1, 'p1'), (2, 'p2');
INSERT INTO child VALUES (1, 1, 10), (2, 2, 20);
TRUNCATE parent CASCADE;
INSERT INTO parent VALUES (3, 'p3');
TRUNCATE child, parent RESTART IDENTITY;

-- A transaction far larger than logical_decoding_work_mem: streamed.
-- Two of its subtransactions roll back; their changes must vanish.
BEGIN;
INSERT INTO bulk SELECT g, repeat('p', 100), 0 FROM generate_series(1, 3000) g;
SAVEPOINT s1;
INSERT INTO bulk SELECT g, 'rolled back', 1 FROM generate_series(100001, 101000) g;
ROLLBACK TO SAVEPOINT s1;
UPDATE bulk SET n = n + 1 WHERE id % 10 = 0;
SAVEPOINT s2;
DELETE FROM bulk WHERE id <= 500;
SAVEPOINT s3;
UPDATE bulk SET pad = 'nested' WHERE id > 2900;
RELEASE SAVEPOINT s3;
ROLLBACK TO SAVEPOINT s2;
DELETE FROM bulk WHERE id > 2990;
COMMIT;

-- And a streamed transaction that aborts entirely.
BEGIN;
INSERT INTO bulk SELECT g, repeat('q', 100), 0 FROM generate_series(200001, 203000) g;
ROLLBACK;

INSERT INTO accounts VALUES (99, 'last', 0);               -- the end marker
