-- Source (PostgreSQL 14 by default) schema and sample data, run on database sourcedb.
-- The target gets the same schema from init-target.sql; keep the two in step.
CREATE TABLE IF NOT EXISTS users (
    id         serial PRIMARY KEY,
    username   varchar(50)  NOT NULL UNIQUE,
    email      varchar(100) NOT NULL,
    created_at timestamptz  NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS orders (
    id           serial PRIMARY KEY,
    user_id      integer        NOT NULL REFERENCES users (id),
    product_name varchar(100)   NOT NULL,
    quantity     integer        NOT NULL CHECK (quantity > 0),
    price        numeric(10, 2) NOT NULL,
    order_date   timestamptz    NOT NULL DEFAULT now()
);

-- Sample data: inserted only into empty tables, so re-running is harmless.
INSERT INTO users (username, email)
SELECT v.username, v.email
FROM (VALUES
    (1, 'alice',   'alice@example.com'),
    (2, 'bob',     'bob@example.com'),
    (3, 'charlie', 'charlie@example.com'),
    (4, 'diana',   'diana@example.com'),
    (5, 'eve',     'eve@example.com')
) AS v (ord, username, email)
WHERE NOT EXISTS (SELECT 1 FROM users)
ORDER BY v.ord;

INSERT INTO orders (user_id, product_name, quantity, price)
SELECT u.id, v.product_name, v.quantity, v.price
FROM (VALUES
    (1, 'alice',   'Laptop',     1, 1299.99),
    (2, 'alice',   'Mouse',      2,   25.50),
    (3, 'bob',     'Keyboard',   1,   89.00),
    (4, 'charlie', 'Monitor',    2,  349.95),
    (5, 'diana',   'Headphones', 1,  199.00),
    (6, 'eve',     'USB cable',  5,    9.99)
) AS v (ord, username, product_name, quantity, price)
JOIN users u ON u.username = v.username
WHERE NOT EXISTS (SELECT 1 FROM orders)
ORDER BY v.ord;
