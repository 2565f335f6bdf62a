-- The company a CLI sign-in challenge asks about (`requestedCompanyId`), shown on the approval
-- page (SQLite). Means the same as migrations/postgres/0003_cli_auth_company.sql.
ALTER TABLE cli_auth_challenges
    ADD COLUMN requested_company_id TEXT REFERENCES companies(id) ON DELETE SET NULL;
