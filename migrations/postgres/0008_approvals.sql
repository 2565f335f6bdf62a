-- Approvals: decisions the board takes (hires, the CEO's strategy, what an agent asks for, a
-- budget override), their comments, and the issues they concern.
CREATE TABLE approvals (
    id UUID PRIMARY KEY,
    company_id UUID NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    type TEXT NOT NULL,
    requested_by_agent_id UUID REFERENCES agents(id) ON DELETE SET NULL,
    requested_by_user_id TEXT,
    status TEXT NOT NULL DEFAULT 'pending',
    payload JSONB NOT NULL DEFAULT '{}',
    decision_note TEXT,
    decided_by_user_id TEXT,
    decided_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX approvals_company_status_type ON approvals(company_id, status, type);

CREATE TABLE approval_comments (
    id UUID PRIMARY KEY,
    company_id UUID NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    approval_id UUID NOT NULL REFERENCES approvals(id) ON DELETE CASCADE,
    author_agent_id UUID REFERENCES agents(id) ON DELETE SET NULL,
    author_user_id TEXT,
    body TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX approval_comments_approval ON approval_comments(approval_id, created_at);

CREATE TABLE issue_approvals (
    company_id UUID NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    issue_id UUID NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    approval_id UUID NOT NULL REFERENCES approvals(id) ON DELETE CASCADE,
    linked_by_agent_id UUID,
    linked_by_user_id TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (issue_id, approval_id)
);
CREATE INDEX issue_approvals_approval ON issue_approvals(approval_id);
