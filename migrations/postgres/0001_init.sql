-- Paperclip core schema (PostgreSQL 15+). Means the same as migrations/sqlite/0001_init.sql:
-- uuid ids (users keep text ids such as 'local-board'), timestamptz times (microseconds),
-- jsonb documents, money in integer cents, wire enums as text.

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE instance_user_roles (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, role)
);

CREATE TABLE companies (
    id UUID PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT,
    status TEXT NOT NULL,
    issue_prefix TEXT NOT NULL UNIQUE,
    issue_counter BIGINT NOT NULL DEFAULT 0,
    -- Issues that exist (see issues_count_delete); equal to issue_counter while numbers have no gaps.
    issue_count BIGINT NOT NULL DEFAULT 0,
    budget_monthly_cents BIGINT NOT NULL DEFAULT 0,
    spent_monthly_cents BIGINT NOT NULL DEFAULT 0,
    require_board_approval_for_new_agents BOOLEAN NOT NULL DEFAULT FALSE,
    brand_color TEXT,
    archived_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE agents (
    id UUID PRIMARY KEY,
    company_id UUID NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    title TEXT,
    icon TEXT,
    status TEXT NOT NULL,
    reports_to UUID REFERENCES agents(id),
    capabilities TEXT,
    adapter_type TEXT NOT NULL,
    adapter_config JSONB NOT NULL DEFAULT '{}',
    runtime_config JSONB NOT NULL DEFAULT '{}',
    budget_monthly_cents BIGINT NOT NULL DEFAULT 0,
    spent_monthly_cents BIGINT NOT NULL DEFAULT 0,
    pause_reason TEXT,
    paused_at TIMESTAMPTZ,
    permissions JSONB NOT NULL DEFAULT '{}',
    last_heartbeat_at TIMESTAMPTZ,
    metadata JSONB NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX agents_company ON agents(company_id);
CREATE INDEX agents_reports_to ON agents(reports_to);

CREATE TABLE agent_api_keys (
    id UUID PRIMARY KEY,
    agent_id UUID NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    company_id UUID NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    last_used_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX agent_api_keys_agent ON agent_api_keys(agent_id);

CREATE TABLE goals (
    id UUID PRIMARY KEY,
    company_id UUID NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    description TEXT,
    level TEXT NOT NULL,
    status TEXT NOT NULL,
    parent_id UUID REFERENCES goals(id) ON DELETE SET NULL,
    owner_agent_id UUID REFERENCES agents(id) ON DELETE SET NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX goals_company ON goals(company_id);

CREATE TABLE projects (
    id UUID PRIMARY KEY,
    company_id UUID NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    goal_id UUID REFERENCES goals(id) ON DELETE SET NULL,
    name TEXT NOT NULL,
    description TEXT,
    status TEXT NOT NULL,
    lead_agent_id UUID REFERENCES agents(id) ON DELETE SET NULL,
    target_date TEXT,
    color TEXT,
    env JSONB NOT NULL DEFAULT '{}',
    archived_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX projects_company ON projects(company_id);

CREATE TABLE issues (
    id UUID PRIMARY KEY,
    company_id UUID NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    project_id UUID REFERENCES projects(id) ON DELETE SET NULL,
    goal_id UUID REFERENCES goals(id) ON DELETE SET NULL,
    parent_id UUID REFERENCES issues(id) ON DELETE SET NULL,
    title TEXT NOT NULL,
    description TEXT,
    status TEXT NOT NULL,
    priority TEXT NOT NULL,
    assignee_agent_id UUID REFERENCES agents(id),
    assignee_user_id TEXT,
    checkout_run_id UUID,
    execution_run_id UUID,
    execution_agent_name_key TEXT,
    execution_locked_at TIMESTAMPTZ,
    created_by_agent_id UUID,
    created_by_user_id TEXT,
    issue_number BIGINT NOT NULL,
    identifier TEXT NOT NULL UNIQUE,
    request_depth BIGINT NOT NULL DEFAULT 0,
    billing_code TEXT,
    idempotency_key TEXT,
    started_at TIMESTAMPTZ,
    completed_at TIMESTAMPTZ,
    cancelled_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (company_id, issue_number)
);
CREATE INDEX issues_company_status ON issues(company_id, status);
CREATE INDEX issues_assignee_status ON issues(assignee_agent_id, status);
CREATE INDEX issues_parent ON issues(parent_id);
CREATE INDEX issues_project ON issues(project_id);
CREATE UNIQUE INDEX issues_idempotency ON issues(company_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

-- Issue creation adds one to issue_count in the statement that takes the number; any deletion
-- takes one off here (see the SQLite twin).
CREATE FUNCTION paperclip_issue_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE companies SET issue_count = issue_count - 1 WHERE id = OLD.company_id;
    RETURN OLD;
END $$;
CREATE TRIGGER issues_count_delete AFTER DELETE ON issues
    FOR EACH ROW EXECUTE FUNCTION paperclip_issue_deleted();

CREATE TABLE issue_blockers (
    issue_id UUID NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    blocker_issue_id UUID NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    company_id UUID NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (issue_id, blocker_issue_id)
);
CREATE INDEX issue_blockers_blocker ON issue_blockers(blocker_issue_id);

CREATE TABLE issue_comments (
    id UUID PRIMARY KEY,
    company_id UUID NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    issue_id UUID NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    author_agent_id UUID,
    author_user_id TEXT,
    body TEXT NOT NULL,
    created_by_run_id UUID,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX issue_comments_issue_created ON issue_comments(issue_id, created_at);

CREATE TABLE activity_log (
    seq BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    id UUID NOT NULL UNIQUE,
    company_id UUID NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    actor_type TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    action TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    agent_id UUID,
    run_id UUID,
    details JSONB NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX activity_company_seq ON activity_log(company_id, seq);
CREATE INDEX activity_entity ON activity_log(entity_type, entity_id);
