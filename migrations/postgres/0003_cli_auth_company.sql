-- The company a CLI sign-in challenge asks about (`requestedCompanyId`), shown on the approval
-- page (PostgreSQL). Means the same as migrations/sqlite/0003_cli_auth_company.sql.
ALTER TABLE cli_auth_challenges
    ADD COLUMN requested_company_id UUID REFERENCES companies(id) ON DELETE SET NULL;
