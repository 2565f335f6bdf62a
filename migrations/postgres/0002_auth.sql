-- People and credentials for authenticated mode (PostgreSQL). Means the same as
-- migrations/sqlite/0002_auth.sql. Every secret is stored as its SHA-256 (tokens) or as an
-- argon2id PHC string (passwords); plaintext never reaches the database.

-- Emails are stored lower-cased; one account per address.
ALTER TABLE users ADD COLUMN password_hash TEXT;
CREATE UNIQUE INDEX users_email ON users(email);

CREATE TABLE sessions (
    id UUID PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    ip_address TEXT,
    user_agent TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

-- owner | admin | operator | viewer; status active | suspended.
CREATE TABLE company_memberships (
    company_id UUID NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (company_id, user_id)
);
CREATE INDEX company_memberships_user ON company_memberships(user_id);

-- invite_type company_join (company_id set) | bootstrap_ceo (company_id NULL).
CREATE TABLE invites (
    id UUID PRIMARY KEY,
    company_id UUID REFERENCES companies(id) ON DELETE CASCADE,
    invite_type TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    allowed_join_types TEXT NOT NULL,
    human_role TEXT,
    invited_by_user_id TEXT,
    expires_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ,
    accepted_at TIMESTAMPTZ,
    accepted_by_user_id TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX invites_company ON invites(company_id);

-- The one-time URL that lets a signed-in person take over an instance that ran local_trusted.
CREATE TABLE board_claims (
    id UUID PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    code_hash TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    claimed_at TIMESTAMPTZ,
    claimed_by_user_id TEXT,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE board_api_keys (
    id UUID PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    expires_at TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX board_api_keys_user ON board_api_keys(user_id);

-- `paperclip auth login`: the CLI opens a challenge and gets its board token at once; the
-- token works only after a signed-in person approves the challenge in the browser (the key row
-- is inserted then, with the pending hash).
CREATE TABLE cli_auth_challenges (
    id UUID PRIMARY KEY,
    secret_hash TEXT NOT NULL,
    command TEXT NOT NULL,
    client_name TEXT,
    requested_access TEXT NOT NULL,
    pending_key_hash TEXT NOT NULL,
    pending_key_name TEXT NOT NULL,
    approved_by_user_id TEXT REFERENCES users(id) ON DELETE SET NULL,
    board_api_key_id UUID REFERENCES board_api_keys(id) ON DELETE SET NULL,
    approved_at TIMESTAMPTZ,
    cancelled_at TIMESTAMPTZ,
    expires_at TIMESTAMPTZ NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
