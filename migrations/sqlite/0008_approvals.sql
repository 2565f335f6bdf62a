-- Approvals: decisions the board takes (hires, the CEO's strategy, what an agent asks for, a
-- budget override), their comments, and the issues they concern.
CREATE TABLE approvals (
    id TEXT PRIMARY KEY,
    company_id TEXT NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    type TEXT NOT NULL,
    requested_by_agent_id TEXT REFERENCES agents(id) ON DELETE SET NULL,
    requested_by_user_id TEXT,
    status TEXT NOT NULL DEFAULT 'pending',
    payload TEXT NOT NULL DEFAULT '{}',
    decision_note TEXT,
    decided_by_user_id TEXT,
    decided_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX approvals_company_status_type ON approvals(company_id, status, type);

CREATE TABLE approval_comments (
    id TEXT PRIMARY KEY,
    company_id TEXT NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    approval_id TEXT NOT NULL REFERENCES approvals(id) ON DELETE CASCADE,
    author_agent_id TEXT REFERENCES agents(id) ON DELETE SET NULL,
    author_user_id TEXT,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX approval_comments_approval ON approval_comments(approval_id, created_at);

CREATE TABLE issue_approvals (
    company_id TEXT NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    issue_id TEXT NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    approval_id TEXT NOT NULL REFERENCES approvals(id) ON DELETE CASCADE,
    linked_by_agent_id TEXT,
    linked_by_user_id TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (issue_id, approval_id)
);
CREATE INDEX issue_approvals_approval ON issue_approvals(approval_id);
