// What the board decides and what the company spends, driven as a board member does it: hires
// that wait for approval (one approved with a note and a comment, one rejected), then a month's
// costs by agent, the company's budget and an agent's. Runs after companyScenario (the company
// "Acme Notes" with its agent "Ada Quill"), in both modes; the page may be anywhere.
import { apiFromPage, check, snapshot, step } from "./lib.mjs";

const COMPANY = "Acme Notes";
const AGENT = "Ada Quill";
const HIRE = "Grace Ledger";
const REFUSED = "Mallory Spend";
const APPROVE_NOTE = "Welcome aboard: keep the books tidy.";
const REJECT_NOTE = "No second bookkeeper this quarter.";
const COMMENT = "Does she report to Ada?";

export async function governanceScenario(page) {
  let companyId = "";
  let hireAgentId = "";
  let hireApprovalId = "";
  const companyNav = () => page.getByRole("navigation", { name: COMPANY });
  const row = (tableName, text) => page.getByRole("table", { name: tableName }).getByRole("row").filter({ hasText: text });
  const approval = (title) => page.getByRole("region", { name: title, exact: true });
  /** Cents as this browser's money() writes them. */
  const money = (cents) => page.evaluate((c) => (c / 100).toLocaleString(undefined, { style: "currency", currency: "USD" }), cents);

  /** The Agents page's form; in this company the hire waits for the board. */
  async function hireThroughTheForm(name, title, role) {
    await companyNav().getByRole("link", { name: "Agents" }).click();
    await page.getByRole("heading", { name: "Agents", level: 1 }).waitFor();
    await page.getByRole("button", { name: "Hire agent" }).click();
    const form = page.getByRole("form", { name: "Hire agent" });
    await form.getByLabel("Name", { exact: true }).fill(name);
    await form.getByLabel("Title", { exact: true }).fill(title);
    await form.getByLabel("Role", { exact: true }).selectOption(role);
    await form.getByLabel("Monthly budget (USD)", { exact: true }).fill("25");
    await form.getByRole("button", { name: "Hire agent" }).click();
    await page.getByRole("status").filter({ hasText: `${name} waits for the board's approval` }).waitFor();
    await row("Agents", name).getByText("pending approval", { exact: true }).waitFor();
    const agents = await apiFromPage(page, "GET", `/companies/${companyId}/agents`);
    const agent = agents.body.find((a) => a.name === name);
    check(agent?.status === "pending_approval", `the server's hired agent: ${JSON.stringify(agent)}`);
    return agent.id;
  }

  await step(page, "a company that approves hires sends a new agent to the board", async () => {
    const companies = await apiFromPage(page, "GET", "/companies");
    companyId = companies.body.find((c) => c.name === COMPANY)?.id;
    check(companyId, `no company ${COMPANY} to govern: ${JSON.stringify(companies.body)}`);
    const changed = await apiFromPage(page, "PATCH", `/companies/${companyId}`, { requireBoardApprovalForNewAgents: true });
    check(changed.status === 200 && changed.body.requireBoardApprovalForNewAgents === true, `PATCH answered ${changed.status}`);
    await page.goto(`/companies/${companyId}`);
    await page.getByRole("heading", { name: COMPANY, level: 1 }).waitFor();
    hireAgentId = await hireThroughTheForm(HIRE, "Bookkeeper", "cfo");
  });

  await step(page, "the pending hire is on the Approvals page with the proposed agent", async () => {
    await companyNav().getByRole("link", { name: "Approvals" }).click();
    await page.getByRole("heading", { name: "Approvals", level: 1 }).waitFor();
    check((await page.getByLabel("Status", { exact: true }).inputValue()) === "pending", "the filter does not start at pending");
    const card = approval(`Hire ${HIRE}`);
    await card.waitFor();
    const text = await card.innerText();
    check(/hire an agent/i.test(text) && /cfo/.test(text) && text.includes("Bookkeeper") && text.includes(await money(2500)), `the hire reads: ${text}`);
    check(/Asked by you/.test(text), `the board asked for it: ${text}`);
    check((await card.getByTestId("approval-status").innerText()) === "pending", "the hire is not shown pending");
    await card.getByText("pending approval", { exact: true }).waitFor();
    const pending = await apiFromPage(page, "GET", `/companies/${companyId}/approvals?status=pending`);
    const found = pending.body.find((a) => a.type === "hire_agent" && a.payload.agentId === hireAgentId);
    check(found, `the server has no pending hire of ${HIRE}: ${JSON.stringify(pending.body)}`);
    hireApprovalId = found.id;
    await snapshot(page, "approvals");
  });

  await step(page, "a comment on the hire appears in its details", async () => {
    const card = approval(`Hire ${HIRE}`);
    await card.getByRole("button", { name: "Comments and details" }).click();
    await card.getByText("No comments yet.").waitFor();
    await card.getByLabel("Add a comment", { exact: true }).fill(COMMENT);
    await card.getByRole("button", { name: "Post comment" }).click();
    await card.getByRole("list", { name: "Comments" }).getByText(COMMENT).waitFor();
    const comments = await apiFromPage(page, "GET", `/approvals/${hireApprovalId}/comments`);
    check(comments.body.length === 1 && comments.body[0].body === COMMENT, `the server's comments: ${JSON.stringify(comments.body)}`);
  });

  await step(page, "approving with a note updates the hire in place and activates the agent", async () => {
    const card = approval(`Hire ${HIRE}`);
    await card.getByLabel("Decision note", { exact: true }).fill(APPROVE_NOTE);
    await card.getByRole("button", { name: "Approve", exact: true }).click();
    await card.getByTestId("approval-status").filter({ hasText: /^approved$/ }).waitFor();
    check((await card.getByTestId("decision-note").innerText()) === APPROVE_NOTE, "the decision note is not shown");
    check((await card.getByRole("button", { name: "Approve", exact: true }).count()) === 0, "a decided approval still offers Approve");
    // The hire's agent, as the server now has it.
    await card.getByText("idle", { exact: true }).waitFor();
    const decided = await apiFromPage(page, "GET", `/approvals/${hireApprovalId}`);
    check(decided.body.status === "approved" && decided.body.decisionNote === APPROVE_NOTE, `the server's approval: ${JSON.stringify(decided.body)}`);
    const agent = await apiFromPage(page, "GET", `/agents/${hireAgentId}`);
    check(agent.body.status !== "pending_approval" && agent.body.status !== "terminated", `the approved agent is ${agent.body.status}`);
    await snapshot(page, "approval-decided");
  });

  await step(page, "the approved agent is no longer pending on the Agents page", async () => {
    await companyNav().getByRole("link", { name: "Agents" }).click();
    const r = row("Agents", HIRE);
    await r.waitFor();
    const text = await r.innerText();
    check(!/pending approval/.test(text) && /idle/.test(text), `the agent row reads: ${text}`);
    check(await page.getByRole("button", { name: `Pause ${HIRE}` }).isEnabled(), "the approved agent cannot be paused");
  });

  await step(page, "a rejected hire leaves its agent terminated", async () => {
    const refusedId = await hireThroughTheForm(REFUSED, "Second bookkeeper", "cfo");
    await companyNav().getByRole("link", { name: "Approvals" }).click();
    const card = approval(`Hire ${REFUSED}`);
    await card.waitFor();
    await card.getByLabel("Decision note", { exact: true }).fill(REJECT_NOTE);
    await card.getByRole("button", { name: "Reject", exact: true }).click();
    await card.getByTestId("approval-status").filter({ hasText: /^rejected$/ }).waitFor();
    check((await card.getByTestId("decision-note").innerText()) === REJECT_NOTE, "the rejection's note is not shown");
    // The agents list leaves terminated agents out; the page still names what became of it.
    await card.getByText("terminated", { exact: true }).waitFor();
    const agent = await apiFromPage(page, "GET", `/agents/${refusedId}`);
    check(agent.status === 200 && agent.body.status === "terminated", `the rejected agent is ${agent.body.status}`);
    const approvals = await apiFromPage(page, "GET", `/companies/${companyId}/approvals?status=rejected`);
    check(approvals.body.some((a) => a.payload.agentId === refusedId && a.decisionNote === REJECT_NOTE), "the server has no rejected hire");
  });

  await step(page, "nothing waits any more; All lists both decisions", async () => {
    await page.reload();
    await page.getByText("Nothing waits for the board").waitFor();
    await page.getByLabel("Status", { exact: true }).selectOption("all");
    await approval(`Hire ${HIRE}`).getByTestId("approval-status").filter({ hasText: /^approved$/ }).waitFor();
    await approval(`Hire ${REFUSED}`).getByTestId("approval-status").filter({ hasText: /^rejected$/ }).waitFor();
    check(page.url().endsWith("?status=all"), `the filter is not in the address: ${page.url()}`);
    // Later scenarios hire directly again.
    const reset = await apiFromPage(page, "PATCH", `/companies/${companyId}`, { requireBoardApprovalForNewAgents: false });
    check(reset.status === 200, `PATCH answered ${reset.status}`);
  });

  await step(page, "a decision on an approval decided meanwhile shows the server's refusal", async () => {
    const asked = await apiFromPage(page, "POST", `/companies/${companyId}/approvals`, {
      type: "request_board_approval",
      payload: { title: "Buy the calmnotes.app domain", amountCents: 1500, reason: "Before someone else does." },
    });
    check(asked.status === 201 && asked.body.status === "pending", `the request: ${JSON.stringify(asked)}`);
    await page.getByLabel("Status", { exact: true }).selectOption("pending");
    const card = approval("Buy the calmnotes.app domain");
    await card.waitFor();
    const text = await card.innerText();
    check(/board approval requested/i.test(text) && text.includes(await money(1500)) && text.includes("Before someone else does."), `the request reads: ${text}`);
    // Another board member approves it while this page still shows it pending.
    const elsewhere = await apiFromPage(page, "POST", `/approvals/${asked.body.id}/approve`, {});
    check(elsewhere.status === 200, `approve answered ${elsewhere.status}`);
    await card.getByRole("button", { name: "Reject", exact: true }).click();
    const alert = card.getByRole("alert");
    await alert.waitFor();
    const refused = await apiFromPage(page, "POST", `/approvals/${asked.body.id}/reject`, {});
    check(refused.status === 422, `rejecting an approved approval answered ${refused.status}`);
    check((await alert.innerText()).trim() === refused.body.error, `the alert reads "${await alert.innerText()}", the server said "${refused.body.error}"`);
    // The card now shows what the approval became.
    await card.getByTestId("approval-status").filter({ hasText: /^approved$/ }).waitFor();
  });

  let ada;
  let estimate = 0;
  await step(page, "reported and unpriced usage show by agent on the Costs page", async () => {
    const agents = await apiFromPage(page, "GET", `/companies/${companyId}/agents`);
    ada = agents.body.find((a) => a.name === AGENT);
    check(ada, `no agent ${AGENT}`);
    const priced = await apiFromPage(page, "POST", `/companies/${companyId}/cost-events`, {
      agentId: ada.id,
      provider: "anthropic",
      model: "claude-sonnet-4",
      billingType: "api",
      inputTokens: 12000,
      outputTokens: 3400,
      costCents: 1234,
    });
    check(priced.status === 201 && priced.body.costStatus === "reported", `the priced event: ${JSON.stringify(priced)}`);
    const unpriced = await apiFromPage(page, "POST", `/companies/${companyId}/cost-events`, {
      agentId: ada.id,
      provider: "anthropic",
      model: "claude-sonnet-4",
      billingType: "subscription",
      inputTokens: 200000,
      outputTokens: 40000,
    });
    check(unpriced.status === 201 && unpriced.body.costStatus === "unpriced" && unpriced.body.costCents === null, `the subscription event: ${JSON.stringify(unpriced)}`);
    estimate = unpriced.body.estimatedCostCents;

    await companyNav().getByRole("link", { name: "Costs" }).click();
    await page.getByRole("heading", { name: "Costs", level: 1 }).waitFor();
    const line = (await apiFromPage(page, "GET", `/companies/${companyId}/costs/by-agent`)).body.find((l) => l.agentId === ada.id);
    check(line && line.costCents === 1234 && line.unpricedCount === 1, `the server's line: ${JSON.stringify(line)}`);
    const r = row("Costs by agent", AGENT);
    await r.waitFor();
    const cells = await r.locator("td").allInnerTexts();
    check(cells[1] === (await money(1234)), `reported reads ${cells[1]}`);
    // Unpriced usage is an estimate, never $0.
    check(cells[2].startsWith(estimate > 0 ? `≈ ${await money(estimate)}` : "unpriced") && /1 unpriced event/.test(cells[2]), `estimated reads ${cells[2]}`);
    check(!cells[2].includes(await money(0)), `the estimate reads as zero: ${cells[2]}`);
    check(cells[4] === (await money(line.spendCents)), `spend reads ${cells[4]}, the server says ${line.spendCents} cents`);
    const summary = (await apiFromPage(page, "GET", `/companies/${companyId}/costs/summary`)).body;
    const reported = page.getByRole("region", { name: "Reported", exact: true });
    check((await reported.locator(".stat-value").innerText()) === (await money(summary.reportedCents)), "the month's reported dollars differ");
    const spend = page.getByRole("region", { name: "Spend", exact: true });
    check((await spend.locator(".stat-value").innerText()) === (await money(summary.spendCents)), "the month's spend differs");
  });

  await step(page, "the company budget set through the form shows the server's utilisation", async () => {
    const form = page.getByRole("form", { name: "Company budget" });
    await form.getByLabel("Monthly budget (USD)", { exact: true }).fill("50");
    await form.getByRole("button", { name: "Set budget" }).click();
    await form.getByRole("status").filter({ hasText: `Monthly budget set to ${await money(5000)}.` }).waitFor();
    const company = await apiFromPage(page, "GET", `/companies/${companyId}`);
    check(company.body.budgetMonthlyCents === 5000, `the server's budget: ${company.body.budgetMonthlyCents}`);
    const summary = (await apiFromPage(page, "GET", `/companies/${companyId}/costs/summary`)).body;
    check(summary.budgetCents === 5000 && summary.utilizationPercent > 0 && summary.utilizationPercent < 80, `the server's summary: ${JSON.stringify(summary)}`);
    const percent = `${Math.round(summary.utilizationPercent * 100) / 100}%`;
    await page.getByTestId("company-utilization").filter({ hasText: `${percent} of ${await money(5000)}` }).waitFor();
    await form.getByText(`${percent}`, { exact: true }).waitFor();
    const meter = page.getByRole("meter", { name: "Company budget used", exact: true });
    check((await meter.getAttribute("aria-valuenow")) === String(Math.round(summary.utilizationPercent)), "the meter disagrees with the server");
  });

  await step(page, "an agent's budget set from its row", async () => {
    await page.getByRole("button", { name: `Set the budget of ${AGENT}` }).click();
    const form = page.getByRole("form", { name: `Budget of ${AGENT}` });
    await form.getByLabel(`Monthly budget of ${AGENT} (USD)`, { exact: true }).fill("20");
    await form.getByRole("button", { name: "Save budget" }).click();
    await page.getByRole("status").filter({ hasText: `${AGENT}: monthly budget set to ${await money(2000)}.` }).waitFor();
    const agent = (await apiFromPage(page, "GET", `/agents/${ada.id}`)).body;
    check(agent.budgetMonthlyCents === 2000 && agent.status !== "paused", `the server's agent: ${agent.budgetMonthlyCents} cents, ${agent.status}`);
    // The page's figure is the by-agent line's spend (reported and estimated) over the budget.
    const month = new Date().toISOString().slice(0, 7);
    const lines = (await apiFromPage(page, "GET", `/companies/${ada.companyId}/costs/by-agent`)).body;
    const line = lines.find((l) => l.agentId === ada.id);
    check(line, `a by-agent line for ${AGENT} (${month}): ${JSON.stringify(lines)}`);
    const percent = Math.round((line.spendCents / 2000) * 10000) / 100;
    await row("Costs by agent", AGENT).getByText(`${percent}% of ${await money(2000)}`).waitFor();
    await snapshot(page, "costs");
  });
}
