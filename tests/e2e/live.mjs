// The org chart and the pages that follow the company's live events (WebSocket): a manager set
// through the API nests an agent under it, and an issue or a comment made outside the page
// (Node's fetch, or another tab of the same browser in authenticated mode) shows up in the open
// page without a reload. Runs after companyScenario (the company "Acme Notes" with its agent
// "Ada Quill"), in both modes; the page may be anywhere.
import { apiFromPage, baseUrl, check, mode, snapshot, step } from "./lib.mjs";

const COMPANY = "Acme Notes";
const MANAGER = "Ada Quill";
const REPORT = "Otto Outline";
const LIVE_ISSUE = "Translate the onboarding guide";
const COUNTED_ISSUE = "Proofread the release notes";
const LIVE_COMMENT = "Posted from another tab: the German draft is ready.";
/** How long an event may take to reach an open page (it is debounced by 300 ms). */
const LIVE_WAIT = 12_000;

export async function liveScenario(page) {
  let companyId = "";
  let managerId = "";
  let reportId = "";
  const companyNav = () => page.getByRole("navigation", { name: COMPANY });
  const chart = () => page.getByRole("list", { name: "Org chart" });
  const card = (name) => chart().getByRole("link", { name: named(name) });
  const live = () => page.getByTestId("live-status").filter({ hasText: /^Live$/ }).waitFor();

  /** The API as someone else sees it: Node's fetch without credentials where none are needed,
   * else a second tab that shares the browser's session cookie (closed after). */
  async function fromOutside(method, path, body) {
    if (mode !== "authenticated") {
      const r = await fetch(`${baseUrl}/api${path}`, {
        method,
        headers: body === undefined ? {} : { "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await r.text();
      return { status: r.status, body: text ? JSON.parse(text) : null };
    }
    const other = await page.context().newPage();
    try {
      // A board page, not an API answer: those forbid scripts any fetch (CSP default-src 'none').
      await other.goto("/");
      return await apiFromPage(other, method, path, body);
    } finally {
      await other.close();
    }
  }

  /** Marks the open document, so a later check can tell it was never reloaded. */
  const mark = () => page.evaluate(() => (window.__livePage = true));
  const stillSameDocument = async () => check(await page.evaluate(() => window.__livePage === true), "the page was reloaded");

  await step(page, "the org chart from the sidebar shows every agent as a card", async () => {
    if (!page.url().startsWith(baseUrl)) await page.goto("/");
    const companies = await apiFromPage(page, "GET", "/companies");
    companyId = companies.body.find((c) => c.name === COMPANY)?.id;
    check(companyId, `no company ${COMPANY}: ${JSON.stringify(companies.body)}`);
    let agents = (await apiFromPage(page, "GET", `/companies/${companyId}/agents`)).body;
    managerId = agents.find((a) => a.name === MANAGER)?.id;
    check(managerId, `no agent ${MANAGER}: ${JSON.stringify(agents)}`);
    reportId = agents.find((a) => a.name === REPORT)?.id ?? (await hire(page, companyId));
    agents = (await apiFromPage(page, "GET", `/companies/${companyId}/agents`)).body;

    await page.goto(`/companies/${companyId}`);
    await companyNav().getByRole("link", { name: "Org chart" }).click();
    await page.getByRole("heading", { name: "Org chart", level: 1 }).waitFor();
    await chart().waitFor();
    for (const a of agents) {
      const c = card(a.name);
      await c.first().waitFor();
      check((await c.first().getAttribute("href")) === `/companies/${companyId}/agents`, `${a.name}'s card does not lead to the Agents page`);
    }
    const cards = await chart().getByRole("link").count();
    check(cards === agents.length, `${cards} cards for ${agents.length} agents`);
    await card(REPORT).getByText("Technical writer").waitFor();
    await card(REPORT).getByText("engineer", { exact: true }).waitFor();
  });

  await step(page, "a manager set through the API nests the agent under it, live and after a reload", async () => {
    // From the top first, so the nesting seen below is the change's doing.
    const cleared = await apiFromPage(page, "PATCH", `/agents/${reportId}`, { reportsTo: null });
    check(cleared.status === 200, `PATCH reportsTo null answered ${cleared.status}: ${JSON.stringify(cleared.body)}`);
    await page.reload();
    await live();
    // The chart is drawn (not only the socket open) before the absence below means anything.
    await card(MANAGER).first().waitFor();
    await card(REPORT).first().waitFor();
    check((await page.getByRole("list", { name: `Reports of ${MANAGER}` }).getByRole("link", { name: named(REPORT) }).count()) === 0, `${REPORT} already reports to ${MANAGER}`);
    await mark();
    const changed = await fromOutside("PATCH", `/agents/${reportId}`, { reportsTo: managerId });
    check(changed.status === 200 && changed.body.reportsTo === managerId, `PATCH reportsTo answered ${changed.status}: ${JSON.stringify(changed.body)}`);
    const reports = page.getByRole("list", { name: `Reports of ${MANAGER}` });
    await reports.getByRole("link", { name: named(REPORT) }).waitFor({ timeout: LIVE_WAIT });
    await stillSameDocument();
    await page.reload();
    await reports.getByRole("link", { name: named(REPORT) }).waitFor();
    // The manager's card sits above its report's: a tree drawn top-down.
    const top = await card(MANAGER).first().boundingBox();
    const below = await reports.getByRole("link", { name: named(REPORT) }).boundingBox();
    check(top && below && below.y >= top.y + top.height, `${REPORT} is not drawn below ${MANAGER}: ${JSON.stringify({ top, below })}`);
    await snapshot(page, "org");
  });

  await step(page, "an issue created outside the page appears in the open Issues list", async () => {
    await companyNav().getByRole("link", { name: "Issues" }).click();
    await page.getByRole("heading", { name: "Issues", level: 1 }).waitFor();
    await page.getByRole("table", { name: "Issues" }).waitFor();
    await live();
    await mark();
    const created = await fromOutside("POST", `/companies/${companyId}/issues`, { title: LIVE_ISSUE, priority: "high" });
    check(created.status === 201, `POST /issues answered ${created.status}: ${JSON.stringify(created.body)}`);
    const row = page.getByRole("table", { name: "Issues" }).getByRole("row").filter({ hasText: LIVE_ISSUE });
    await row.waitFor({ timeout: LIVE_WAIT });
    await row.getByText(created.body.identifier, { exact: true }).waitFor();
    await stillSameDocument();
  });

  await step(page, "a comment posted outside appears on the open issue", async () => {
    await page.getByRole("table", { name: "Issues" }).getByRole("link", { name: LIVE_ISSUE }).click();
    await page.getByRole("heading", { name: LIVE_ISSUE, level: 1 }).waitFor();
    await page.getByText("No comments yet.").waitFor();
    await live();
    await mark();
    const issue = await apiFromPage(page, "GET", `/companies/${companyId}/issues?q=${encodeURIComponent(LIVE_ISSUE)}`);
    const id = issue.body.find((i) => i.title === LIVE_ISSUE)?.id;
    check(id, `the issue is not listed: ${JSON.stringify(issue.body)}`);
    const posted = await fromOutside("POST", `/issues/${id}/comments`, { body: LIVE_COMMENT });
    check(posted.status === 201, `POST /comments answered ${posted.status}: ${JSON.stringify(posted.body)}`);
    await page.getByText(LIVE_COMMENT).waitFor({ timeout: LIVE_WAIT });
    await page.getByRole("heading", { name: "Comments (1)" }).waitFor();
    // A change of status from outside reaches the open page too.
    const moved = await fromOutside("PATCH", `/issues/${id}`, { status: "todo" });
    check(moved.status === 200, `PATCH status answered ${moved.status}: ${JSON.stringify(moved.body)}`);
    await page.getByTestId("issue-status").filter({ hasText: "todo" }).waitFor({ timeout: LIVE_WAIT });
    await stillSameDocument();
  });

  await step(page, "the open dashboard counts an issue created outside it", async () => {
    await companyNav().getByRole("link", { name: "Dashboard" }).click();
    await page.getByRole("heading", { name: COMPANY, level: 1 }).waitFor();
    const open = page.getByRole("region", { name: "Open issues" }).locator(".stat-value");
    await open.waitFor();
    await live();
    await mark();
    const before = Number(await open.textContent());
    const dashboard = await apiFromPage(page, "GET", `/companies/${companyId}/dashboard`);
    check(dashboard.body.tasks.open === before, `the page shows ${before} open, the server ${dashboard.body.tasks.open}`);
    const created = await fromOutside("POST", `/companies/${companyId}/issues`, { title: COUNTED_ISSUE });
    check(created.status === 201, `POST /issues answered ${created.status}: ${JSON.stringify(created.body)}`);
    await page.getByRole("region", { name: "Open issues" }).locator(".stat-value").filter({ hasText: new RegExp(`^${before + 1}$`) }).waitFor({ timeout: LIVE_WAIT });
    await page.getByRole("list", { name: "Recent activity" }).getByText(COUNTED_ISSUE).waitFor({ timeout: LIVE_WAIT });
    await stillSameDocument();
  });
}

/** A card's accessible name holds role, name, title and status: match the name inside it. */
function named(name) {
  return new RegExp(`\\b${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\b`);
}

/** Hires the agent the chart nests, through the approval when the company asks for one. */
async function hire(page, companyId) {
  const body = { name: REPORT, role: "engineer", title: "Technical writer", adapterType: "process" };
  const direct = await apiFromPage(page, "POST", `/companies/${companyId}/agents`, body);
  if (direct.status === 201) return direct.body.id;
  check(direct.body?.code === "approval_required", `POST /agents answered ${direct.status}: ${JSON.stringify(direct.body)}`);
  const pending = await apiFromPage(page, "POST", `/companies/${companyId}/agent-hires`, body);
  check(pending.status === 201, `POST /agent-hires answered ${pending.status}: ${JSON.stringify(pending.body)}`);
  const approved = await apiFromPage(page, "POST", `/approvals/${pending.body.approval.id}/approve`, {});
  check(approved.status === 200, `approving the hire answered ${approved.status}: ${JSON.stringify(approved.body)}`);
  return pending.body.agent.id;
}
