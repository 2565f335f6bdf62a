-- Breakers: an agent paused by a provider's usage limit (until its reset) or by the loop
-- detector, with what tripped it; the scheduler lifts a usage limit's pause at `until`.
CREATE TABLE agent_breakers (
    agent_id UUID PRIMARY KEY REFERENCES agents(id) ON DELETE CASCADE,
    company_id UUID NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
    reason TEXT NOT NULL,
    credential TEXT,
    until TIMESTAMPTZ,
    details JSONB NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX agent_breakers_until ON agent_breakers(until);

-- The loop detector asks what an agent changed lately.
CREATE INDEX activity_agent_created ON activity_log(agent_id, created_at);
