-- Publication on the source (sourcedb). Idempotent: a second run does nothing.
-- CREATE PUBLICATION has no IF NOT EXISTS, hence the psql conditional.
SELECT NOT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = 'my_publication')
       AS need_publication \gset
\if :need_publication
CREATE PUBLICATION my_publication FOR ALL TABLES;
\else
\echo 'publication my_publication already exists'
\endif
SELECT pubname, puballtables, pubinsert, pubupdate, pubdelete, pubtruncate
FROM pg_publication WHERE pubname = 'my_publication';
