-- Target (PostgreSQL 16 by default) schema, run on database targetdb. No data: the
-- subscription's initial copy fills it. Must match init-source.sql's tables.
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
