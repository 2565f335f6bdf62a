// "/companies/:companyId/costs": a month of spend — reported dollars, estimates of the usage
// nobody priced, tokens — for the company, each agent and each project, against the monthly
// budgets the board sets here.
import { useEffect, useState, type FormEvent } from "react";
import { get, patch, query } from "../../api";
import { Badge, Button, Card, Empty, ErrorNote, Field, Loading, Note, PageHeader, RowMessage } from "../../components/ui";
import { Meter, Stat } from "../../components/figures";
import { money } from "../../format";
import { useAction, useData } from "../../hooks";
import { CompanyNotFound } from "./not-found";
import { agentTone, centsOf, orNotFound, words, type Agent } from "./types";
import type { Company } from "../../types";
import {
  percentOf,
  percentText,
  tokens,
  type AgentCostLine,
  type CostLine,
  type CostSummary,
  type ProjectCostLine,
} from "./governance-types";
import "./company.css";
import "./governance.css";

interface Month {
  summary: CostSummary;
  byAgent: AgentCostLine[];
  byProject: ProjectCostLine[];
}

export function Costs({ params }: { params: Record<string, string> }) {
  const id = params.companyId;
  // "" is the current UTC month; another month is kept in the address so it can be shared.
  const [month, setMonth] = useState(new URLSearchParams(window.location.search).get("month") ?? "");
  useEffect(() => {
    history.replaceState(null, "", `${window.location.pathname}${query({ month })}`);
  }, [month]);

  const costs = useData(async (): Promise<Month | null> => {
    const q = query({ month });
    const summary = await orNotFound(get<CostSummary>(`/companies/${id}/costs/summary${q}`));
    if (!summary) return null;
    const [byAgent, byProject] = await Promise.all([
      get<AgentCostLine[]>(`/companies/${id}/costs/by-agent${q}`),
      get<ProjectCostLine[]>(`/companies/${id}/costs/by-project${q}`),
    ]);
    return { summary, byAgent, byProject };
  }, [id, month]);
  const agents = useData(() => orNotFound(get<Agent[]>(`/companies/${id}/agents`)), [id]);

  if (costs.data === null || agents.data === null) return <CompanyNotFound />;
  if (costs.data === undefined)
    return (
      <>
        <PageHeader title="Costs" />
        {costs.error ? <ErrorNote error={costs.error} /> : <Loading what="Loading costs" />}
      </>
    );

  const { summary: s, byAgent, byProject } = costs.data;
  // Setting a budget can pause or resume agents: show them as the server now has them.
  const budgetsChanged = () => {
    void costs.reload();
    void agents.reload();
  };
  const agentChanged = (agent: Agent) => {
    agents.setData((prev) => prev?.map((a) => (a.id === agent.id ? agent : a)));
    budgetsChanged();
  };

  return (
    <>
      <PageHeader
        title="Costs"
        subtitle={
          <>
            {s.month ? `${monthName(s.month)} (UTC).` : "The chosen period."} Budgets count reported and estimated dollars
            together.
          </>
        }
        actions={
          <div className="field header-field">
            <label htmlFor="cost-month">Month</label>
            <input id="cost-month" type="month" value={month || s.month || ""} onChange={(e) => setMonth(e.target.value)} />
          </div>
        }
      />
      <ErrorNote error={costs.error} />

      <div className="grid stats" role="group" aria-label="Month summary">
        <Stat label="Spend" value={money(s.spendCents)} tone={s.budgetCents > 0 && s.utilizationPercent >= 80 ? "warn" : undefined}>
          {s.budgetCents > 0 ? (
            <>
              <Meter percent={s.utilizationPercent} label="Company budget used" />
              <span data-testid="company-utilization">
                {percentText(s.utilizationPercent)} of {money(s.budgetCents)}
              </span>
            </>
          ) : (
            "No monthly budget"
          )}
        </Stat>
        <Stat label="Reported" value={money(s.reportedCents)}>
          Dollars the providers billed
        </Stat>
        <Stat label="Estimated" value={s.unpricedEvents > 0 ? estimateText(s.estimatedCents) : "None"}>
          {s.unpricedEvents > 0
            ? `${count(s.unpricedEvents, "unpriced event")}, from ${s.priceTable}`
            : "All usage came with its price"}
        </Stat>
        <Stat label="Tokens" value={<span title={tokens(totalTokens(s)).exact}>{tokens(totalTokens(s)).short}</span>}>
          {tokens(s.inputTokens).short} in · {tokens(s.cachedInputTokens).short} cached · {tokens(s.outputTokens).short} out
        </Stat>
      </div>

      <CompanyBudget companyId={id} summary={s} onSet={budgetsChanged} />

      <Card title="By agent">
        <ErrorNote error={agents.error} />
        <AgentTable agents={agents.data ?? []} lines={byAgent} onChanged={agentChanged} />
      </Card>

      <Card title="By project">
        {byProject.length === 0 ? (
          <Empty title="No project costs this month">Usage reported against a project or one of its issues shows here.</Empty>
        ) : (
          <table className="table" aria-label="Costs by project">
            <thead>
              <tr>
                <th>Project</th>
                <CostHeads />
              </tr>
            </thead>
            <tbody>
              {byProject.map((p) => (
                <tr key={p.projectId}>
                  <td>
                    <strong>{p.projectName ?? "A removed project"}</strong>
                  </td>
                  <CostCells line={p} />
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
    </>
  );
}

function monthName(month: string): string {
  const [y, m] = month.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, 1)).toLocaleString(undefined, { month: "long", year: "numeric", timeZone: "UTC" });
}

function count(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? "" : "s"}`;
}

function totalTokens(t: { inputTokens: number; cachedInputTokens: number; outputTokens: number }): number {
  return t.inputTokens + t.cachedInputTokens + t.outputTokens;
}

/** An estimate is marked as one: "≈ $1.05"; with no price in the table, "unpriced", never $0. */
function estimateText(cents: number): string {
  return cents > 0 ? `≈ ${money(cents)}` : "unpriced";
}



/** Dollars as a form shows them: "50.00", or empty for no budget. */
function dollars(cents: number): string {
  return cents > 0 ? (cents / 100).toFixed(2) : "";
}

function CompanyBudget({ companyId, summary: s, onSet }: { companyId: string; summary: CostSummary; onSet: () => void }) {
  const [value, setValue] = useState(dollars(s.budgetCents));
  const [done, setDone] = useState<string | null>(null);
  const action = useAction();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setDone(null);
    // Empty means no budget, as 0 does.
    const cents = value.trim() === "" ? 0 : centsOf(value);
    if (cents === undefined) {
      action.setError("Enter the budget in dollars, like 50 or 12.50 (0 for none).");
      return;
    }
    const company = await action.run(() => patch<Company>(`/companies/${companyId}/budgets`, { budgetMonthlyCents: cents }));
    if (company) {
      setDone(company.budgetMonthlyCents > 0 ? `Monthly budget set to ${money(company.budgetMonthlyCents)}.` : "The company has no monthly budget now.");
      onSet();
    }
  };

  return (
    <Card title="Company budget">
      <form onSubmit={submit} aria-label="Company budget">
        <div className="form-row top">
          <Field
            label="Monthly budget (USD)"
            htmlFor="company-budget"
            hint="Empty or 0: none. At 80% the board is alerted; at 100% every agent of the company pauses until it is raised."
          >
            <input
              id="company-budget"
              type="number"
              min={0}
              step="0.01"
              inputMode="decimal"
              value={value}
              onChange={(e) => setValue(e.target.value)}
            />
          </Field>
          <div className="budget-now">
            <span className="stat-label">This month</span>
            {s.budgetCents > 0 ? (
              <>
                <Meter percent={s.utilizationPercent} label="Company budget used this month" />
                <span>
                  {money(s.spendCents)} of {money(s.budgetCents)} · <strong>{percentText(s.utilizationPercent)}</strong> used
                </span>
              </>
            ) : (
              <span className="muted">{money(s.spendCents)} spent, no budget</span>
            )}
          </div>
        </div>
        <ErrorNote error={action.error} />
        {done ? <Note kind="success">{done}</Note> : null}
        <div className="form-actions">
          <Button type="submit" pending={action.pending}>
            Set budget
          </Button>
        </div>
      </form>
    </Card>
  );
}

function CostHeads() {
  return (
    <>
      <th className="num">Reported</th>
      <th className="num">Estimated</th>
      <th className="num">Tokens</th>
      <th className="num">Spend</th>
    </>
  );
}

/** Reported and estimated dollars apart, tokens, and the two together (what budgets count). */
function CostCells({ line }: { line: CostLine | undefined }) {
  if (!line)
    return (
      <>
        <td className="num muted">—</td>
        <td className="num muted">—</td>
        <td className="num muted">—</td>
        <td className="num muted">{money(0)}</td>
      </>
    );
  const events = line.apiRunCount + line.subscriptionRunCount;
  const all = totalTokens(line);
  return (
    <>
      <td className="num">{line.costCents > 0 || events > line.unpricedCount ? money(line.costCents) : <span className="muted">—</span>}</td>
      <td className="num" title={line.unpricedCount > 0 ? "Usage without a price (a subscription, or tokens reported without dollars), estimated from the price table" : undefined}>
        {line.unpricedCount > 0 ? (
          <>
            {line.estimatedCostCents > 0 ? estimateText(line.estimatedCostCents) : <Badge tone="warn">unpriced</Badge>}
            <div className="muted cell-sub">{count(line.unpricedCount, "unpriced event")}</div>
          </>
        ) : (
          <span className="muted">—</span>
        )}
      </td>
      <td className="num" title={`${tokens(line.inputTokens).exact} in, ${tokens(line.cachedInputTokens).exact} cached, ${tokens(line.outputTokens).exact} out`}>
        {all > 0 ? tokens(all).short : <span className="muted">—</span>}
      </td>
      <td className="num">
        <strong>{money(line.spendCents)}</strong>
      </td>
    </>
  );
}

interface AgentRowData {
  id: string;
  name: string;
  status: string | null;
  budget: number;
  line: AgentCostLine | undefined;
  /** In the agents list (not terminated): its budget can be set. */
  current: boolean;
}

/** Every current agent (a budget can be set before any spend) and every agent that spent this
 * month, terminated ones too; most spend first. */
function AgentTable({ agents, lines, onChanged }: { agents: Agent[]; lines: AgentCostLine[]; onChanged: (agent: Agent) => void }) {
  const rows: AgentRowData[] = [
    ...agents.map((a) => ({ id: a.id, name: a.name, status: a.status, budget: a.budgetMonthlyCents, line: lines.find((l) => l.agentId === a.id), current: true })),
    ...lines
      .filter((l) => !agents.some((a) => a.id === l.agentId))
      .map((l) => ({ id: l.agentId, name: l.agentName ?? "A removed agent", status: l.agentStatus, budget: l.budgetMonthlyCents ?? 0, line: l, current: false })),
  ].sort((x, y) => (y.line?.spendCents ?? 0) - (x.line?.spendCents ?? 0) || x.name.localeCompare(y.name));

  if (rows.length === 0) return <Empty title="No agents yet">Hire one on the Agents page; what it spends shows here.</Empty>;
  return (
    <table className="table" aria-label="Costs by agent">
      <thead>
        <tr>
          <th>Agent</th>
          <CostHeads />
          <th className="budget-col">Budget</th>
          <th>
            <span className="visually-hidden">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <AgentRow key={r.id} row={r} onChanged={onChanged} />
        ))}
      </tbody>
    </table>
  );
}

function AgentRow({ row: r, onChanged }: { row: AgentRowData; onChanged: (agent: Agent) => void }) {
  const [editing, setEditing] = useState(false);
  const [value, setValue] = useState(dollars(r.budget));
  const [done, setDone] = useState<string | null>(null);
  const action = useAction();
  const spent = r.line?.spendCents ?? 0;
  const percent = percentOf(spent, r.budget);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setDone(null);
    const cents = value.trim() === "" ? 0 : centsOf(value);
    if (cents === undefined) {
      action.setError("Enter the budget in dollars, like 20 or 7.50 (0 for none).");
      return;
    }
    const agent = await action.run(() => patch<Agent>(`/agents/${r.id}/budgets`, { budgetMonthlyCents: cents }));
    if (agent) {
      setEditing(false);
      setDone(agent.budgetMonthlyCents > 0 ? `${agent.name}: monthly budget set to ${money(agent.budgetMonthlyCents)}.` : `${agent.name} has no budget of its own now.`);
      onChanged(agent);
    }
  };

  return (
    <>
      <tr className={r.current ? undefined : "dim"}>
        <td>
          <strong>{r.name}</strong>
          {r.status && r.status !== "idle" && r.status !== "active" ? (
            <div className="cell-sub">
              <Badge tone={agentTone(r.status)}>{words(r.status)}</Badge>
            </div>
          ) : null}
        </td>
        <CostCells line={r.line} />
        <td className="budget-col">
          {r.budget > 0 ? (
            <div className="budget-cell">
              <Meter percent={percent} label={`Budget of ${r.name} used`} />
              <span className="cell-sub">
                {percentText(percent)} of {money(r.budget)}
              </span>
            </div>
          ) : (
            <span className="muted">none</span>
          )}
        </td>
        <td>
          <div className="row-actions">
            {r.current ? (
              <Button
                variant="secondary"
                onClick={() => {
                  setEditing(!editing);
                  setValue(dollars(r.budget));
                  action.setError(null);
                }}
                aria-expanded={editing}
                aria-label={`Set the budget of ${r.name}`}
              >
                {editing ? "Close" : "Set budget"}
              </Button>
            ) : null}
          </div>
        </td>
      </tr>
      {editing || action.error || done ? (
        <RowMessage colSpan={7}>
          {editing ? (
            <form className="inline-budget" onSubmit={submit} aria-label={`Budget of ${r.name}`}>
              <Field label={`Monthly budget of ${r.name} (USD)`} htmlFor={`agent-budget-${r.id}`} hint="Empty or 0: none of its own. At 100% the agent pauses.">
                <input
                  id={`agent-budget-${r.id}`}
                  type="number"
                  min={0}
                  step="0.01"
                  inputMode="decimal"
                  value={value}
                  onChange={(e) => setValue(e.target.value)}
                  autoFocus
                />
              </Field>
              <Button type="submit" pending={action.pending}>
                Save budget
              </Button>
            </form>
          ) : null}
          <ErrorNote error={action.error ? `${r.name}: ${action.error}` : null} />
          {done && !editing ? <Note kind="success">{done}</Note> : null}
        </RowMessage>
      ) : null}
    </>
  );
}
