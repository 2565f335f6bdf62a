// The company pages driven as a board member uses them: found a company with a goal, hire an
// agent, file and assign issues, talk on one, close it, and see the server refuse a rule
// break. Runs in both modes (in authenticated mode after accessScenario has signed someone in).
import { apiFromPage, check, snapshot, step } from "./lib.mjs";

const COMPANY = "Acme Notes";
const GOAL = "Ship the calmest note-taking app";
const AGENT = "Ada Quill";
const ISSUE = "Write the onboarding guide";
const OTHER = "Pick a logo";
const COMMENT = "Start with the three-minute tour, please.";

export async function companyScenario(page) {
  let companyId = "";
  let agentId = "";
  const companyNav = () => page.getByRole("navigation", { name: COMPANY });
  const row = (tableName, text) => page.getByRole("table", { name: tableName }).getByRole("row").filter({ hasText: text });

  await step(page, "companies page invites creating a company", async () => {
    await page.goto("/");
    await page.getByRole("heading", { name: "Companies", level: 1 }).waitFor();
    await page.getByRole("form", { name: "New company" }).waitFor();
    const companies = await apiFromPage(page, "GET", "/companies");
    check(companies.status === 200, `GET /companies answered ${companies.status}`);
    if (companies.body.length === 0) {
      await page.getByText("No companies yet").waitFor();
    }
  });

  await step(page, "create a company through the form and land on its dashboard", async () => {
    await page.getByLabel("Name", { exact: true }).fill(COMPANY);
    await page.getByLabel("Goal", { exact: true }).fill(GOAL);
    await page.getByLabel("Description", { exact: true }).fill("Notes that write themselves.");
    await page.getByRole("button", { name: "Create company" }).click();
    await page.waitForURL(/\/companies\/[0-9a-f-]{36}$/);
    companyId = page.url().split("/").pop();
    await page.getByRole("heading", { name: COMPANY, level: 1 }).waitFor();
    await page.getByRole("region", { name: "Company goal" }).getByText(GOAL).waitFor();
    const company = await apiFromPage(page, "GET", `/companies/${companyId}`);
    check(company.status === 200 && company.body.name === COMPANY, `the server has no such company: ${JSON.stringify(company)}`);
    check(company.body.issuePrefix === "ACM", `prefix is ${company.body.issuePrefix}, expected ACM`);
    const goals = await apiFromPage(page, "GET", `/companies/${companyId}/goals`);
    check(goals.body.some((g) => g.title === GOAL), `the goal was not created: ${JSON.stringify(goals.body)}`);
    await page.getByText("Open issues").waitFor();
    await page.getByText("Spend this month").waitFor();
  });

  await step(page, "the sidebar switcher lists the company and selects it", async () => {
    const switcher = page.getByLabel("Company", { exact: true });
    await switcher.locator("option", { hasText: COMPANY }).waitFor({ state: "attached" });
    check((await switcher.inputValue()) === companyId, "the switcher does not show the current company");
    await companyNav().getByRole("link", { name: "Dashboard" }).waitFor();
  });

  await step(page, "hire an agent through the Agents page", async () => {
    await companyNav().getByRole("link", { name: "Agents" }).click();
    await page.getByRole("heading", { name: "Agents", level: 1 }).waitFor();
    await page.getByText("No agents yet").waitFor();
    await page.getByRole("button", { name: "Hire agent" }).click();
    const form = page.getByRole("form", { name: "Hire agent" });
    await form.getByLabel("Name", { exact: true }).fill(AGENT);
    await form.getByLabel("Title", { exact: true }).fill("Founding engineer");
    await form.getByLabel("Role", { exact: true }).selectOption("engineer");
    await form.getByLabel("Adapter", { exact: true }).selectOption("process");
    await form.getByRole("button", { name: "Hire agent" }).click();
    const r = row("Agents", AGENT);
    await r.waitFor();
    const text = await r.innerText();
    check(/engineer/.test(text) && /Founding engineer/.test(text) && /process/.test(text), `agent row reads: ${text}`);
    check(/never/.test(text), `a new agent has no heartbeat yet: ${text}`);
    const agents = await apiFromPage(page, "GET", `/companies/${companyId}/agents`);
    const ada = agents.body.find((a) => a.name === AGENT);
    check(ada && ada.role === "engineer" && ada.adapterType === "process", `the server's agent: ${JSON.stringify(ada)}`);
    agentId = ada.id;
    await snapshot(page, "agents");
  });

  await step(page, "pause and resume the agent from its row", async () => {
    const r = row("Agents", AGENT);
    await page.getByRole("button", { name: `Pause ${AGENT}` }).click();
    await r.getByText("paused", { exact: true }).waitFor();
    const paused = await apiFromPage(page, "GET", `/agents/${agentId}`);
    check(paused.body.status === "paused", `server says ${paused.body.status} after Pause`);
    await page.getByRole("button", { name: `Resume ${AGENT}` }).click();
    await page.getByRole("button", { name: `Pause ${AGENT}` }).waitFor();
    const resumed = await apiFromPage(page, "GET", `/agents/${agentId}`);
    check(resumed.body.status !== "paused", "the agent is still paused after Resume");
  });

  await step(page, "create an issue assigned to the agent and see ACM-1 in the list", async () => {
    await companyNav().getByRole("link", { name: "Issues" }).click();
    await page.getByRole("heading", { name: "Issues", level: 1 }).waitFor();
    await page.getByText("No issues yet").waitFor();
    await page.getByRole("button", { name: "New issue" }).click();
    const form = page.getByRole("form", { name: "New issue" });
    await form.getByLabel("Title", { exact: true }).fill(ISSUE);
    await form.getByLabel("Description", { exact: true }).fill("A guide a new user reads in three minutes.");
    await form.getByLabel("Priority", { exact: true }).selectOption("high");
    await form.getByLabel("Assignee", { exact: true }).selectOption({ label: AGENT });
    await form.getByRole("button", { name: "Create issue" }).click();
    await page.getByRole("status").filter({ hasText: "Created ACM-1" }).waitFor();
    const r = row("Issues", "ACM-1");
    await r.waitFor();
    const text = await r.innerText();
    check(text.includes(ISSUE) && /todo/.test(text) && text.includes(AGENT) && /high/i.test(text), `issue row reads: ${text}`);
  });

  await step(page, "create an unassigned issue and filter the list", async () => {
    await page.getByRole("button", { name: "New issue" }).click();
    const form = page.getByRole("form", { name: "New issue" });
    await form.getByLabel("Title", { exact: true }).fill(OTHER);
    await form.getByRole("button", { name: "Create issue" }).click();
    const r = row("Issues", "ACM-2");
    await r.waitFor();
    check(/backlog/.test(await r.innerText()), "an unassigned issue should start in backlog");
    await snapshot(page, "issues");
    await page.getByLabel("Search", { exact: true }).fill("logo");
    await row("Issues", "ACM-1").waitFor({ state: "detached" });
    check((await row("Issues", "ACM-2").count()) === 1, "the search hid the matching issue");
    await page.getByLabel("Search", { exact: true }).fill("");
    await row("Issues", "ACM-1").waitFor();
    await page.getByLabel("Status", { exact: true }).selectOption("todo");
    await row("Issues", "ACM-2").waitFor({ state: "detached" });
    check((await row("Issues", "ACM-1").count()) === 1, "the todo filter hid the todo issue");
    await page.getByLabel("Status", { exact: true }).selectOption("");
    await row("Issues", "ACM-2").waitFor();
  });

  await step(page, "open the issue from the list", async () => {
    await row("Issues", "ACM-1").getByRole("link", { name: ISSUE }).click();
    await page.waitForURL(/\/issues\/ACM-1$/);
    await page.getByRole("heading", { name: ISSUE, level: 1 }).waitFor();
    check((await page.getByTestId("issue-status").innerText()) === "todo", "the issue page shows the wrong status");
    check((await page.getByLabel("Assignee", { exact: true }).inputValue()) === agentId, "the assignee select does not show the agent");
    check((await page.getByLabel("Priority", { exact: true }).inputValue()) === "high", "the priority select does not show high");
    await page.getByText("A guide a new user reads in three minutes.").waitFor();
  });

  await step(page, "post a comment and see it appear", async () => {
    await page.getByText("No comments yet.").waitFor();
    await page.getByLabel("Add a comment", { exact: true }).fill(COMMENT);
    await page.getByRole("button", { name: "Post comment" }).click();
    await page.getByRole("list", { name: "Comments" }).getByText(COMMENT).waitFor();
    check((await page.getByLabel("Add a comment", { exact: true }).inputValue()) === "", "the comment box was not cleared");
    const comments = await apiFromPage(page, "GET", "/issues/ACM-1/comments");
    check(comments.body.length === 1 && comments.body[0].body === COMMENT, `the server's comments: ${JSON.stringify(comments.body)}`);
  });

  await step(page, "close the issue as done", async () => {
    await page.getByLabel("Status", { exact: true }).selectOption("done");
    await page.getByTestId("issue-status").filter({ hasText: /^done$/ }).waitFor();
    await page.getByText("Completed", { exact: true }).waitFor();
    const issue = await apiFromPage(page, "GET", "/issues/ACM-1");
    check(issue.body.status === "done" && issue.body.completedAt, `the server's issue: ${issue.body.status}`);
    // Still done after a reload: the page shows the server's state, not its own.
    await page.reload();
    await page.getByTestId("issue-status").filter({ hasText: /^done$/ }).waitFor();
    await page.getByRole("list", { name: "Comments" }).getByText(COMMENT).waitFor();
    await snapshot(page, "issue");
  });

  await step(page, "a refused change shows the server's sentence", async () => {
    await page.goto(`/companies/${companyId}/issues/ACM-2`);
    await page.getByRole("heading", { name: OTHER, level: 1 }).waitFor();
    await page.getByLabel("Status", { exact: true }).selectOption("in_progress");
    const alert = page.getByRole("alert");
    await alert.waitFor();
    // The same request straight to the API: the UI must show exactly its error sentence.
    const refused = await apiFromPage(page, "PATCH", "/issues/ACM-2", { status: "in_progress" });
    check(refused.status === 422, `in_progress without an assignee answered ${refused.status}`);
    const shown = (await alert.innerText()).trim();
    check(shown === refused.body.error, `alert shows "${shown}", the server said "${refused.body.error}"`);
    check((await page.getByLabel("Status", { exact: true }).inputValue()) === "backlog", "the status select did not fall back to backlog");
    check((await page.getByTestId("issue-status").innerText()) === "backlog", "the badge changed although the server refused");
  });

  await step(page, "the dashboard counts the work and lists the activity", async () => {
    await companyNav().getByRole("link", { name: "Dashboard" }).click();
    await page.getByRole("heading", { name: COMPANY, level: 1 }).waitFor();
    const open = page.getByRole("region", { name: "Open issues", exact: true });
    check((await open.locator(".stat-value").innerText()) === "1", `open issues reads ${await open.innerText()}`);
    const done = page.getByRole("region", { name: "Done", exact: true });
    check((await done.locator(".stat-value").innerText()) === "1", `done reads ${await done.innerText()}`);
    const activity = page.getByRole("list", { name: "Recent activity" });
    await activity.getByText(OTHER).first().waitFor();
    await activity.getByText(AGENT).first().waitFor();
    await snapshot(page, "dashboard");
  });

  await step(page, "the companies page lists the company with its prefix", async () => {
    await page.goto("/");
    const r = row("Companies", COMPANY);
    await r.waitFor();
    const text = await r.innerText();
    check(text.includes("ACM") && /active/.test(text), `company row reads: ${text}`);
    await snapshot(page, "companies");
    await r.getByRole("link", { name: COMPANY }).click();
    await page.waitForURL(new RegExp(`/companies/${companyId}$`));
  });

  await step(page, "an unknown company reads as not found", async () => {
    await page.goto("/companies/00000000-0000-4000-8000-000000000000");
    await page.getByText("Company not found").waitFor();
    await page.goto("/companies/00000000-0000-4000-8000-000000000000/issues");
    await page.getByText("Company not found").waitFor();
    await page.goto(`/companies/${companyId}/issues/ACM-999`);
    await page.getByText("Issue not found").waitFor();
  });
}
