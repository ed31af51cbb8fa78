-- Integrations: an ATS that embeds the verification badge. Its API key (only the SHA-256 kept)
-- asks for embed tokens server to server; its signing key (sealed under CLEARANCE_SECRET_KEY)
-- signs them; rotating bumps the generation, revoking sets revoked_at — either ends every token.
CREATE TABLE integrations (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    name            TEXT NOT NULL UNIQUE,
    allowed_origins TEXT NOT NULL,
    api_key_sha256  TEXT NOT NULL UNIQUE,
    signing_key     TEXT NOT NULL,
    generation      INTEGER NOT NULL DEFAULT 1,
    token_ttl_secs  INTEGER NOT NULL,
    expires_at      TEXT,
    revoked_at      TEXT,
    created_by      INTEGER REFERENCES users(id),
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);

-- Badge views are counted per integration and day, not audited one by one.
CREATE TABLE badge_views (
    integration_id INTEGER NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    day            TEXT NOT NULL,
    views          INTEGER NOT NULL,
    PRIMARY KEY (integration_id, day)
);
