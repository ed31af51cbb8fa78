-- Background-check partners (seed 000), the orders placed with them and every update they sent.
CREATE TABLE partners (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    name               TEXT NOT NULL UNIQUE,
    catalog_url        TEXT NOT NULL,
    orders_url         TEXT NOT NULL,
    account_id         TEXT NOT NULL,
    api_secret         TEXT NOT NULL,
    logo_png           BLOB,
    catalog_json       TEXT,
    catalog_fetched_at TEXT,
    catalog_error      TEXT,
    catalog_error_at   TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);

CREATE TABLE background_check_orders (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    background_check_id  TEXT NOT NULL UNIQUE,
    webhook_token_sha256 TEXT NOT NULL UNIQUE,
    candidate_id         INTEGER NOT NULL REFERENCES candidates(id) ON DELETE CASCADE,
    job_id               INTEGER NOT NULL REFERENCES jobs(id),
    partner_id           INTEGER NOT NULL REFERENCES partners(id),
    package_id           TEXT NOT NULL,
    package_name         TEXT NOT NULL,
    package_price        TEXT,
    add_ons              TEXT NOT NULL DEFAULT '[]',
    total                TEXT NOT NULL,
    ordered_by           INTEGER REFERENCES users(id),
    status               TEXT NOT NULL,
    result               TEXT,
    result_link_url      TEXT,
    error_message        TEXT,
    submitted_at         TEXT,
    result_at            TEXT,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL
);
CREATE INDEX background_check_orders_candidate ON background_check_orders (candidate_id, id);
CREATE INDEX background_check_orders_status ON background_check_orders (status, updated_at);

CREATE TABLE background_check_updates (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id    INTEGER NOT NULL REFERENCES background_check_orders(id) ON DELETE CASCADE,
    received_at TEXT NOT NULL,
    body        TEXT NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('applied','duplicate','stale'))
);
CREATE INDEX background_check_updates_order ON background_check_updates (order_id, id);
