-- make cutover-load's pgbench script (env/cutover.sh --load): the demo
-- application's writes through PgBouncer, one INSERT and one UPDATE per
-- transaction on the tables of sql/init-source.sql (users 1-5 exist).
\set uid random(1, 5)
BEGIN;
INSERT INTO orders (user_id, product_name, quantity, price) VALUES (:uid, 'pgbench', 1, 9.99);
UPDATE users SET email = 'user' || :uid || '.' || :client_id || '@pgbench.example' WHERE id = :uid;
END;
