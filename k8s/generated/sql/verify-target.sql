-- Shows, on the target (targetdb), that the test DML of test-replication.sql
-- arrived, and fails if it did not. That every table equals the source's,
-- row for row, is asserted by env/jobs/verify-replication.sh.
SELECT id, username, email FROM users ORDER BY id;
SELECT id, user_id, product_name, quantity, price FROM orders ORDER BY id;

-- Expectations after test-replication.sql. A failed one raises an error, so
-- psql -v ON_ERROR_STOP=1 exits non-zero (the k8s verify Job fails).
DO $$
BEGIN
    IF (SELECT count(*) FROM users WHERE username IN ('frank', 'grace')) <> 2 THEN
        RAISE EXCEPTION 'verify-target: frank and grace were not replicated';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM users WHERE username = 'alice'
                                         AND email = 'alice@new-domain.example') THEN
        RAISE EXCEPTION 'verify-target: the UPDATE of alice''s email was not replicated';
    END IF;
    IF EXISTS (SELECT 1 FROM users WHERE username = 'eve') THEN
        RAISE EXCEPTION 'verify-target: the DELETE of eve was not replicated';
    END IF;
    IF EXISTS (SELECT 1 FROM orders o LEFT JOIN users u ON u.id = o.user_id
               WHERE u.id IS NULL) THEN
        RAISE EXCEPTION 'verify-target: orders without a user';
    END IF;
    RAISE NOTICE 'verify-target: test DML present on the target';
END
$$;
