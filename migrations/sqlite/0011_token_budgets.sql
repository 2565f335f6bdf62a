-- Budgets in tokens (SQLite). Means the same as migrations/postgres/0011_token_budgets.sql.
-- A monthly token budget beside the one in cents (0: none), and the tokens (input, cached
-- input and output together) spent in `spent_month`, kept with the cents by each cost event.
ALTER TABLE companies ADD COLUMN budget_monthly_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE companies ADD COLUMN spent_monthly_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE agents ADD COLUMN budget_monthly_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE agents ADD COLUMN spent_monthly_tokens INTEGER NOT NULL DEFAULT 0;

UPDATE agents SET spent_monthly_tokens = COALESCE((SELECT
        SUM(r.input_tokens + r.cached_input_tokens + r.output_tokens)
    FROM cost_rollups r WHERE r.agent_id = agents.id AND r.month = agents.spent_month), 0);
UPDATE companies SET spent_monthly_tokens = COALESCE((SELECT
        SUM(r.input_tokens + r.cached_input_tokens + r.output_tokens)
    FROM cost_rollups r WHERE r.company_id = companies.id AND r.month = companies.spent_month), 0);
