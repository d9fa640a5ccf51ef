-- Subscription on the target (targetdb) to the source's my_publication.
-- Idempotent. CREATE SUBSCRIPTION cannot run in a transaction block (it
-- creates the remote slot), so the check is a psql conditional, not DO.
--
-- source_conninfo is how the TARGET server reaches the source; pass it with
--   psql -v source_conninfo='host=... port=... dbname=sourcedb user=... password=...'
-- The default is the docker-compose network name.
\if :{?source_conninfo}
\else
\set source_conninfo 'host=db_source port=5432 dbname=sourcedb user=postgres password=postgres'
\endif
SELECT NOT EXISTS (SELECT 1 FROM pg_subscription WHERE subname = 'my_subscription')
       AS need_subscription \gset
\if :need_subscription
CREATE SUBSCRIPTION my_subscription
    CONNECTION :'source_conninfo'
    PUBLICATION my_publication;
\else
\echo 'subscription my_subscription already exists'
\endif
SELECT subname, subenabled, subpublications FROM pg_subscription
WHERE subname = 'my_subscription';
