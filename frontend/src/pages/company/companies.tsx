// "/": every company the board sees, and the form that founds a new one (with its goal, as
// Paperclip's onboarding does).
import { useState, type FormEvent } from "react";
import { get, post } from "../../api";
import { companiesChanged } from "../../components/layout";
import { Badge, Button, Card, Empty, ErrorNote, Field, Loading, PageHeader } from "../../components/ui";
import { money, relative } from "../../format";
import { useAction, useData } from "../../hooks";
import { Link, navigate } from "../../router";
import type { Company } from "../../types";
import { centsOf, companyTone, spend } from "./types";
import "./company.css";

export function Companies(_: { params: Record<string, string> }) {
  const companies = useData(() => get<Company[]>("/companies"), []);
  const list = companies.data ?? [];

  return (
    <>
      <PageHeader title="Companies" subtitle="Each company has its own goal, agents, issues and budget." />
      {companies.error ? <ErrorNote error={companies.error} /> : null}
      {companies.loading && !companies.data ? (
        <Loading what="Loading companies" />
      ) : list.length === 0 && !companies.error ? (
        <Empty title="No companies yet">
          Found your first company below: give it a name and a goal, then hire agents to work toward it.
        </Empty>
      ) : list.length > 0 ? (
        <Card title="Your companies">
          <table className="table" aria-label="Companies">
            <thead>
              <tr>
                <th>Name</th>
                <th>Prefix</th>
                <th>Status</th>
                <th className="num">Spend this month</th>
                <th>Created</th>
              </tr>
            </thead>
            <tbody>
              {list.map((c) => (
                <tr key={c.id} className={c.status === "archived" ? "dim" : undefined}>
                  <td>
                    <Link to={`/companies/${c.id}`} className="strong-link">
                      {c.name}
                    </Link>
                    {c.description ? <div className="muted cell-sub">{c.description}</div> : null}
                  </td>
                  <td>
                    <code>{c.issuePrefix}</code>
                  </td>
                  <td>
                    <Badge tone={companyTone(c.status)}>{c.status}</Badge>
                  </td>
                  <td className="num">{spend(c.spentMonthlyCents, c.budgetMonthlyCents, money)}</td>
                  <td className="muted" title={c.createdAt}>
                    {relative(c.createdAt)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </Card>
      ) : null}
      <NewCompany />
    </>
  );
}

function NewCompany() {
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [goal, setGoal] = useState("");
  const [budget, setBudget] = useState("");
  const action = useAction();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const created = await action.run(() =>
      post<Company>("/companies", {
        name: name.trim(),
        description: description.trim() || undefined,
        goal: goal.trim() || undefined,
        budgetMonthlyCents: centsOf(budget),
      }),
    );
    if (created) {
      companiesChanged();
      navigate(`/companies/${created.id}`);
    }
  };

  return (
    <Card title="New company">
      <form onSubmit={submit} aria-label="New company">
        <div className="form-row top">
          <Field label="Name" htmlFor="company-name" hint="Its first three letters make the issue prefix (Acme → ACM).">
            <input id="company-name" value={name} onChange={(e) => setName(e.target.value)} required maxLength={200} autoComplete="off" />
          </Field>
          <Field label="Monthly budget (USD)" htmlFor="company-budget" hint="Leave empty for no budget.">
            <input
              id="company-budget"
              type="number"
              min={0}
              step="0.01"
              inputMode="decimal"
              value={budget}
              onChange={(e) => setBudget(e.target.value)}
            />
          </Field>
        </div>
        <Field label="Goal" htmlFor="company-goal" hint="What the company works toward; agents read it.">
          <input id="company-goal" value={goal} onChange={(e) => setGoal(e.target.value)} maxLength={500} autoComplete="off" />
        </Field>
        <Field label="Description" htmlFor="company-description">
          <textarea id="company-description" value={description} onChange={(e) => setDescription(e.target.value)} />
        </Field>
        <ErrorNote error={action.error} />
        <div className="form-actions">
          <Button type="submit" pending={action.pending}>
            Create company
          </Button>
        </div>
      </form>
    </Card>
  );
}
