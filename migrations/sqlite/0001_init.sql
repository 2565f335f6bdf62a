-- Paperclip core schema (SQLite). Ids are UUID text, times RFC 3339 UTC text with microseconds
-- (so text order is time order), JSON columns TEXT, money integer cents.

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE instance_user_roles (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (user_id, role)
);

CREATE TABLE companies (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT,
    status TEXT NOT NULL,
    issue_prefix TEXT NOT NULL UNIQUE,
    issue_counter INTEGER NOT NULL DEFAULT 0,
    -- Issues that exist (see issues_count_delete); equal to issue_counter while numbers have no gaps.
    issue_count INTEGER NOT NULL DEFAULT 0,
    budget_monthly_cents INTEGER NOT NULL DEFAULT 0,
    spent_monthly_cents INTEGER NOT NULL DEFAULT 0,
    require_board_approval_for_new_agents INTEGER NOT NULL DEFAULT 0,
    brand_color TEXT,
    archived_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE agents (
    id TEXT PRIMARY KEY,
    company_id TEXT NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    title TEXT,
    icon TEXT,
    status TEXT NOT NULL,
    reports_to TEXT REFERENCES agents(id),
    capabilities TEXT,
    adapter_type TEXT NOT NULL,
    adapter_config TEXT NOT NULL DEFAULT '{}',
    runtime_config TEXT NOT NULL DEFAULT '{}',
    budget_monthly_cents INTEGER NOT NULL DEFAULT 0,
    spent_monthly_cents INTEGER NOT NULL DEFAULT 0,
    pause_reason TEXT,
    paused_at TEXT,
    permissions TEXT NOT NULL DEFAULT '{}',
    last_heartbeat_at TEXT,
    metadata TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX agents_company ON agents(company_id);
CREATE INDEX agents_reports_to ON agents(reports_to);

CREATE TABLE agent_api_keys (
    id TEXT PRIMARY KEY,
    agent_id TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    company_id TEXT NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    last_used_at TEXT,
    revoked_at TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX agent_api_keys_agent ON agent_api_keys(agent_id);

CREATE TABLE goals (
    id TEXT PRIMARY KEY,
    company_id TEXT NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    description TEXT,
    level TEXT NOT NULL,
    status TEXT NOT NULL,
    parent_id TEXT REFERENCES goals(id) ON DELETE SET NULL,
    owner_agent_id TEXT REFERENCES agents(id) ON DELETE SET NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX goals_company ON goals(company_id);

CREATE TABLE projects (
    id TEXT PRIMARY KEY,
    company_id TEXT NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    goal_id TEXT REFERENCES goals(id) ON DELETE SET NULL,
    name TEXT NOT NULL,
    description TEXT,
    status TEXT NOT NULL,
    lead_agent_id TEXT REFERENCES agents(id) ON DELETE SET NULL,
    target_date TEXT,
    color TEXT,
    env TEXT NOT NULL DEFAULT '{}',
    archived_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX projects_company ON projects(company_id);

CREATE TABLE issues (
    id TEXT PRIMARY KEY,
    company_id TEXT NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    project_id TEXT REFERENCES projects(id) ON DELETE SET NULL,
    goal_id TEXT REFERENCES goals(id) ON DELETE SET NULL,
    parent_id TEXT REFERENCES issues(id) ON DELETE SET NULL,
    title TEXT NOT NULL,
    description TEXT,
    status TEXT NOT NULL,
    priority TEXT NOT NULL,
    assignee_agent_id TEXT REFERENCES agents(id),
    assignee_user_id TEXT,
    checkout_run_id TEXT,
    execution_run_id TEXT,
    execution_agent_name_key TEXT,
    execution_locked_at TEXT,
    created_by_agent_id TEXT,
    created_by_user_id TEXT,
    issue_number INTEGER NOT NULL,
    identifier TEXT NOT NULL UNIQUE,
    request_depth INTEGER NOT NULL DEFAULT 0,
    billing_code TEXT,
    idempotency_key TEXT,
    started_at TEXT,
    completed_at TEXT,
    cancelled_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (company_id, issue_number)
);
CREATE INDEX issues_company_status ON issues(company_id, status);
CREATE INDEX issues_assignee_status ON issues(assignee_agent_id, status);
CREATE INDEX issues_parent ON issues(parent_id);
CREATE INDEX issues_project ON issues(project_id);
-- How many issues a company has: issue creation adds one in the statement that takes the
-- number; this trigger takes one off for any deletion. While it equals issue_counter the
-- numbers are exactly 1..counter, and a list page seeks by number instead of stepping over
-- `offset` rows. (A per-row insert trigger made a bulk copy quadratic on PostgreSQL.)
CREATE TRIGGER issues_count_delete AFTER DELETE ON issues BEGIN
    UPDATE companies SET issue_count = issue_count - 1 WHERE id = OLD.company_id;
END;
CREATE UNIQUE INDEX issues_idempotency ON issues(company_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

CREATE TABLE issue_blockers (
    issue_id TEXT NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    blocker_issue_id TEXT NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    company_id TEXT NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    PRIMARY KEY (issue_id, blocker_issue_id)
);
CREATE INDEX issue_blockers_blocker ON issue_blockers(blocker_issue_id);

CREATE TABLE issue_comments (
    id TEXT PRIMARY KEY,
    company_id TEXT NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    issue_id TEXT NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    author_agent_id TEXT,
    author_user_id TEXT,
    body TEXT NOT NULL,
    created_by_run_id TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX issue_comments_issue_created ON issue_comments(issue_id, created_at);

CREATE TABLE activity_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    company_id TEXT NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    actor_type TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    action TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    agent_id TEXT,
    run_id TEXT,
    details TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL
);
CREATE INDEX activity_company_seq ON activity_log(company_id, seq);
CREATE INDEX activity_entity ON activity_log(entity_type, entity_id);
