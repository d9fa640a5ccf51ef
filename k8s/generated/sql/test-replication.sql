-- DML on the source (sourcedb) exercising INSERT, UPDATE and DELETE.
-- Idempotent: keyed on usernames, so re-running leaves the same end state.
BEGIN;
INSERT INTO users (username, email)
VALUES ('frank', 'frank@example.com'),
       ('grace', 'grace@example.com')
ON CONFLICT (username) DO NOTHING;

INSERT INTO orders (user_id, product_name, quantity, price)
SELECT u.id, 'Webcam', 1, 59.90 FROM users u
WHERE u.username = 'frank'
  AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.user_id = u.id AND o.product_name = 'Webcam');
COMMIT;

UPDATE users SET email = 'alice@new-domain.example' WHERE username = 'alice';
UPDATE orders SET quantity = 3, price = 24.00
WHERE product_name = 'Mouse'
  AND user_id = (SELECT id FROM users WHERE username = 'alice');

-- Delete eve and her orders (orders first: the foreign key).
DELETE FROM orders WHERE user_id = (SELECT id FROM users WHERE username = 'eve');
DELETE FROM users WHERE username = 'eve';

SELECT count(*) AS users FROM users;
SELECT count(*) AS orders FROM orders;
