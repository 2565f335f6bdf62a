-- Company secrets (PostgreSQL). Means the same as migrations/sqlite/0004_secrets.sql.
-- A secret's value lives only in its versions, sealed (server/src/secrets/crypto.rs format v1);
-- no column holds plaintext or a hash of it.
CREATE TABLE company_secrets (
    id UUID PRIMARY KEY,
    company_id UUID NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    name TEXT NOT NULL,
    provider TEXT NOT NULL DEFAULT 'local_encrypted',
    status TEXT NOT NULL DEFAULT 'active',
    managed_mode TEXT NOT NULL DEFAULT 'paperclip_managed',
    external_ref TEXT,
    provider_metadata JSONB,
    latest_version BIGINT NOT NULL,
    description TEXT,
    last_resolved_at TIMESTAMPTZ,
    last_rotated_at TIMESTAMPTZ,
    created_by_agent_id UUID,
    created_by_user_id TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT company_secrets_company_name_uq UNIQUE (company_id, name),
    CONSTRAINT company_secrets_company_key_uq UNIQUE (company_id, key)
);

CREATE TABLE company_secret_versions (
    id UUID PRIMARY KEY,
    secret_id UUID NOT NULL REFERENCES company_secrets(id) ON DELETE CASCADE,
    version BIGINT NOT NULL,
    ciphertext TEXT NOT NULL, -- base64 of the sealed bytes
    status TEXT NOT NULL,
    created_by_agent_id UUID,
    created_by_user_id TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (secret_id, version)
);
