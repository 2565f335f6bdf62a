-- Costs that hold on subscriptions: each cost event says whether its dollars were reported or
-- are an estimate (from the price table, or the CLI's own figure on a subscription), and a
-- monthly rollup per (company, agent, project) answers summaries without scanning the ledger.
ALTER TABLE cost_events ADD COLUMN cost_status TEXT NOT NULL DEFAULT 'reported';
ALTER TABLE cost_events ADD COLUMN estimated_cost_cents INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cost_events ADD COLUMN price_source TEXT;
UPDATE cost_events SET cost_status = 'unpriced' WHERE cost_cents IS NULL;

-- The UTC month ('YYYY-MM') that spent_monthly_cents counts; a cost of a newer month starts
-- the count again.
ALTER TABLE companies ADD COLUMN spent_month TEXT NOT NULL DEFAULT '';
ALTER TABLE agents ADD COLUMN spent_month TEXT NOT NULL DEFAULT '';

CREATE TABLE cost_rollups (
    company_id TEXT NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    month TEXT NOT NULL,
    agent_id TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    -- The project's id, or '' for costs of no project.
    project_key TEXT NOT NULL DEFAULT '',
    cost_cents INTEGER NOT NULL DEFAULT 0,
    estimated_cost_cents INTEGER NOT NULL DEFAULT 0,
    input_tokens INTEGER NOT NULL DEFAULT 0,
    cached_input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    subscription_input_tokens INTEGER NOT NULL DEFAULT 0,
    subscription_cached_input_tokens INTEGER NOT NULL DEFAULT 0,
    subscription_output_tokens INTEGER NOT NULL DEFAULT 0,
    api_events INTEGER NOT NULL DEFAULT 0,
    subscription_events INTEGER NOT NULL DEFAULT 0,
    unpriced_events INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (company_id, month, agent_id, project_key)
);

INSERT INTO cost_rollups
SELECT company_id, substr(occurred_at, 1, 7), agent_id, COALESCE(project_id, ''),
    SUM(COALESCE(cost_cents, 0)), SUM(estimated_cost_cents),
    SUM(input_tokens), SUM(cached_input_tokens), SUM(output_tokens),
    SUM(CASE WHEN billing_type LIKE 'subscription%' THEN input_tokens ELSE 0 END),
    SUM(CASE WHEN billing_type LIKE 'subscription%' THEN cached_input_tokens ELSE 0 END),
    SUM(CASE WHEN billing_type LIKE 'subscription%' THEN output_tokens ELSE 0 END),
    SUM(CASE WHEN billing_type LIKE 'subscription%' THEN 0 ELSE 1 END),
    SUM(CASE WHEN billing_type LIKE 'subscription%' THEN 1 ELSE 0 END),
    SUM(CASE WHEN cost_status = 'unpriced' THEN 1 ELSE 0 END)
FROM cost_events
GROUP BY company_id, substr(occurred_at, 1, 7), agent_id, COALESCE(project_id, '');

UPDATE agents SET spent_month = strftime('%Y-%m', 'now'),
    spent_monthly_cents = COALESCE((SELECT SUM(r.cost_cents + r.estimated_cost_cents)
        FROM cost_rollups r WHERE r.agent_id = agents.id AND r.month = strftime('%Y-%m', 'now')), 0);
UPDATE companies SET spent_month = strftime('%Y-%m', 'now'),
    spent_monthly_cents = COALESCE((SELECT SUM(r.cost_cents + r.estimated_cost_cents)
        FROM cost_rollups r WHERE r.company_id = companies.id AND r.month = strftime('%Y-%m', 'now')), 0);
