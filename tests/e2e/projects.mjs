// The Goals and Projects pages driven as a board member plans work: break the company goal down
// for a team, start a project towards it with a lead agent, give its runs an environment (one
// value the server hides), change the project without losing the hidden value, and see the
// server refuse a bad variable name and (maybe) the goal's deletion. Runs right after
// companyScenario ("Acme Notes", its goal, Ada Quill); leaves those as they were.
import { apiFromPage, check, snapshot, step } from "./lib.mjs";

const COMPANY = "Acme Notes";
const COMPANY_GOAL = "Ship the calmest note-taking app";
const TEAM_GOAL = "Docs team: a guide for every feature";
const AGENT = "Ada Quill";
const PROJECT = "Website";
const REDACTED = "***REDACTED***";

export async function projectsScenario(page) {
  let companyId = "";
  let teamGoalId = "";
  let projectId = "";
  const companyNav = () => page.getByRole("navigation", { name: COMPANY });
  const goalItem = (title) => page.getByRole("group", { name: title, exact: true });
  const projectRow = () => page.getByRole("table", { name: "Projects" }).getByRole("row").filter({ hasText: PROJECT });
  const editForm = () => page.getByRole("form", { name: `Edit ${PROJECT}` });
  const getProject = async () => {
    const r = await apiFromPage(page, "GET", `/projects/${projectId}`);
    check(r.status === 200, `GET /projects/${projectId} answered ${r.status}`);
    return r.body;
  };

  await step(page, "the goals page shows the company goal", async () => {
    if (!(await companyNav().count())) {
      const companies = await apiFromPage(page, "GET", "/companies");
      const acme = companies.body.find((c) => c.name === COMPANY);
      check(acme, `no ${COMPANY} among ${JSON.stringify(companies.body.map((c) => c.name))}`);
      await page.goto(`/companies/${acme.id}`);
    }
    await companyNav().getByRole("link", { name: "Goals" }).click();
    await page.getByRole("heading", { name: "Goals", level: 1 }).waitFor();
    companyId = page.url().split("/").at(-2);
    const item = goalItem(COMPANY_GOAL);
    await item.waitFor();
    const text = await item.innerText();
    check(/company/.test(text), `the company goal reads: ${text}`);
  });

  await step(page, "create a team goal under it and see it nested", async () => {
    await page.getByRole("button", { name: "New goal" }).click();
    const form = page.getByRole("form", { name: "New goal" });
    await form.getByLabel("Title", { exact: true }).fill(TEAM_GOAL);
    await form.getByLabel("Level", { exact: true }).selectOption("team");
    await form.getByLabel("Parent goal", { exact: true }).selectOption({ label: `${COMPANY_GOAL} (company)` });
    await form.getByLabel("Owner", { exact: true }).selectOption({ label: AGENT });
    await form.getByRole("button", { name: "Create goal" }).click();
    // Nested: inside the list of what sits under the company goal.
    const nested = page.getByRole("list", { name: `Under ${COMPANY_GOAL}` }).getByRole("group", { name: TEAM_GOAL });
    await nested.waitFor();
    const text = await nested.innerText();
    check(/team/.test(text) && text.includes(AGENT), `the team goal reads: ${text}`);
    check((await nested.getByTestId("goal-status").innerText()) === "planned", "a new goal should read planned");
    const goals = await apiFromPage(page, "GET", `/companies/${companyId}/goals`);
    const parent = goals.body.find((g) => g.title === COMPANY_GOAL);
    const team = goals.body.find((g) => g.title === TEAM_GOAL);
    check(team && team.level === "team" && team.parentId === parent.id && team.ownerAgentId, `the server's team goal: ${JSON.stringify(team)}`);
    teamGoalId = team.id;
  });

  await step(page, "mark the team goal achieved; the API agrees", async () => {
    await page.getByLabel(`Status of ${TEAM_GOAL}`, { exact: true }).selectOption("achieved");
    await goalItem(TEAM_GOAL).getByTestId("goal-status").filter({ hasText: /^achieved$/ }).waitFor();
    const goal = await apiFromPage(page, "GET", `/goals/${teamGoalId}`);
    check(goal.body.status === "achieved", `the server says ${goal.body.status}`);
    await page.reload();
    await goalItem(TEAM_GOAL).getByTestId("goal-status").filter({ hasText: /^achieved$/ }).waitFor();
  });

  await step(page, "create the Website project led by Ada towards the team goal", async () => {
    await companyNav().getByRole("link", { name: "Projects" }).click();
    await page.getByRole("heading", { name: "Projects", level: 1 }).waitFor();
    await page.getByRole("button", { name: "New project" }).click();
    const form = page.getByRole("form", { name: "New project" });
    await form.getByLabel("Name", { exact: true }).fill(PROJECT);
    await form.getByLabel("Description", { exact: true }).fill("The marketing site and the docs.");
    await form.getByLabel("Status", { exact: true }).selectOption("planned");
    await form.getByLabel("Goal", { exact: true }).selectOption({ label: `${TEAM_GOAL} (team)` });
    await form.getByLabel("Lead agent", { exact: true }).selectOption({ label: AGENT });
    await form.getByLabel("Target date", { exact: true }).fill("2027-03-01");
    await form.getByLabel("Color", { exact: true }).fill("#4f46e5");
    await form.getByRole("button", { name: "Create project" }).click();
    await page.getByRole("status").filter({ hasText: `Created ${PROJECT}.` }).waitFor();
    const r = projectRow();
    await r.waitFor();
    const text = await r.innerText();
    check(text.includes(TEAM_GOAL) && text.includes(AGENT) && /planned/.test(text) && text.includes("2027-03-01") && /0 variables/.test(text), `project row reads: ${text}`);
    await r.getByText("0 issues").waitFor();
    const projects = await apiFromPage(page, "GET", `/companies/${companyId}/projects`);
    const p = projects.body.find((x) => x.name === PROJECT);
    check(p && p.status === "planned" && p.goalId === teamGoalId && p.targetDate === "2027-03-01" && p.color === "#4f46e5", `the server's project: ${JSON.stringify(p)}`);
    const agents = await apiFromPage(page, "GET", `/companies/${companyId}/agents`);
    check(p.leadAgentId === agents.body.find((a) => a.name === AGENT).id, "the lead is not Ada");
    projectId = p.id;
  });

  await step(page, "add LOG_LEVEL and DEPLOY_TOKEN to the env and save", async () => {
    await page.getByRole("button", { name: `Edit ${PROJECT}` }).click();
    const form = editForm();
    await form.getByText("No variables.").waitFor();
    await form.getByRole("button", { name: "Add variable" }).click();
    await form.getByLabel("Variable 1 name", { exact: true }).fill("LOG_LEVEL");
    await form.getByLabel("Variable 1 value", { exact: true }).fill("debug");
    await form.getByRole("button", { name: "Add variable" }).click();
    await form.getByLabel("Variable 2 name", { exact: true }).fill("DEPLOY_TOKEN");
    await form.getByLabel("Variable 2 value", { exact: true }).fill("tok-live-123");
    await form.getByRole("button", { name: "Save project" }).click();
    await page.getByRole("status").filter({ hasText: `Saved ${PROJECT}.` }).waitFor();
    await projectRow().getByText("2 variables").waitFor();
    const p = await getProject();
    check(JSON.stringify(p.env.LOG_LEVEL) === JSON.stringify({ type: "plain", value: "debug" }), `LOG_LEVEL is ${JSON.stringify(p.env.LOG_LEVEL)}`);
    check(JSON.stringify(p.env.DEPLOY_TOKEN) === JSON.stringify({ type: "plain", value: REDACTED }), `DEPLOY_TOKEN reads ${JSON.stringify(p.env.DEPLOY_TOKEN)}`);
  });

  await step(page, "after a reload DEPLOY_TOKEN reads hidden, LOG_LEVEL its value", async () => {
    await page.reload();
    await page.getByRole("button", { name: `Edit ${PROJECT}` }).click();
    const form = editForm();
    // Sorted by name: DEPLOY_TOKEN first.
    check((await form.getByLabel("Variable 1 name", { exact: true }).inputValue()) === "DEPLOY_TOKEN", "variable 1 is not DEPLOY_TOKEN");
    const hidden = form.getByLabel("Variable 1 value", { exact: true });
    check((await hidden.inputValue()) === "", `the hidden value shows "${await hidden.inputValue()}"`);
    check(/hidden/.test((await hidden.getAttribute("placeholder")) ?? ""), "the hidden value does not say it is hidden");
    await form.getByText("hidden", { exact: true }).waitFor();
    check((await form.getByLabel("Variable 2 value", { exact: true }).inputValue()) === "debug", "LOG_LEVEL lost its value");
    await snapshot(page, "projects");
  });

  await step(page, "change only the status: the hidden value survives", async () => {
    const form = editForm();
    await form.getByLabel("Status", { exact: true }).selectOption("in_progress");
    const sent = page.waitForRequest((r) => r.method() === "PATCH" && r.url().endsWith(`/api/projects/${projectId}`));
    const answered = page.waitForResponse((r) => r.request().method() === "PATCH" && r.url().endsWith(`/api/projects/${projectId}`));
    await form.getByRole("button", { name: "Save project" }).click();
    const body = JSON.parse((await sent).postData() ?? "{}");
    check(JSON.stringify(body) === JSON.stringify({ status: "in_progress" }), `the PATCH sent ${JSON.stringify(body)}`);
    check((await answered).status() === 200, `the PATCH answered ${(await answered).status()}`);
    await page.getByRole("status").filter({ hasText: `Saved ${PROJECT}.` }).waitFor();
    check((await page.getByRole("alert").count()) === 0, "an error shows after saving");
    await projectRow().getByText("in progress", { exact: true }).waitFor();
    const p = await getProject();
    check(p.status === "in_progress", `status is ${p.status}`);
    check(p.env.DEPLOY_TOKEN?.value === REDACTED && p.env.LOG_LEVEL?.value === "debug", `env after the status change: ${JSON.stringify(p.env)}`);
  });

  await step(page, "an env change with the hidden value untouched is held back", async () => {
    await page.getByRole("button", { name: `Edit ${PROJECT}` }).click();
    const form = editForm();
    await form.getByRole("button", { name: "Add variable" }).click();
    await form.getByLabel("Variable 3 name", { exact: true }).fill("1BAD");
    await form.getByLabel("Variable 3 value", { exact: true }).fill("x");
    let patched = false;
    const spy = (r) => {
      if (r.method() === "PATCH" && r.url().includes("/api/projects/")) patched = true;
    };
    page.on("request", spy);
    await form.getByRole("button", { name: "Save project" }).click();
    await form.getByRole("status").filter({ hasText: "DEPLOY_TOKEN has a hidden value" }).waitFor();
    page.off("request", spy);
    check(!patched, "the form sent a PATCH that would drop or echo the hidden value");
  });

  await step(page, "an invalid env name shows the server's sentence", async () => {
    const form = editForm();
    // Type the token again, so the environment can be sent whole.
    await form.getByLabel("Variable 1 value", { exact: true }).fill("tok-live-456");
    await form.getByRole("button", { name: "Save project" }).click();
    const alert = form.getByRole("alert");
    await alert.waitFor();
    const refused = await apiFromPage(page, "PATCH", `/projects/${projectId}`, { env: { "1BAD": "x" } });
    check(refused.status === 422, `an invalid name answered ${refused.status}`);
    const shown = (await alert.innerText()).trim();
    check(shown === refused.body.error, `alert shows "${shown}", the server said "${refused.body.error}"`);
    const p = await getProject();
    check(!("1BAD" in p.env) && p.env.DEPLOY_TOKEN?.value === REDACTED && p.env.LOG_LEVEL?.value === "debug", `env after the refusal: ${JSON.stringify(p.env)}`);
    await form.getByRole("button", { name: "Cancel" }).click();
  });

  await step(page, "delete the team goal: refused while a project works towards it, or gone", async () => {
    await companyNav().getByRole("link", { name: "Goals" }).click();
    const item = goalItem(TEAM_GOAL);
    await item.waitFor();
    await item.getByText(PROJECT).waitFor();
    await page.getByRole("button", { name: `Delete ${TEAM_GOAL}`, exact: true }).click();
    await item.getByRole("status").filter({ hasText: `${PROJECT} works towards it` }).waitFor();
    await snapshot(page, "goals");
    const answered = page.waitForResponse((r) => r.request().method() === "DELETE" && r.url().endsWith(`/api/goals/${teamGoalId}`));
    await page.getByRole("button", { name: `Delete ${TEAM_GOAL} now` }).click();
    const status = (await answered).status();
    const goal = await apiFromPage(page, "GET", `/goals/${teamGoalId}`);
    if (status >= 400) {
      const alert = item.getByRole("alert");
      await alert.waitFor();
      check(goal.status === 200, `refused (${status}) but the goal is gone: ${goal.status}`);
      console.log(`     (the server refused the delete with ${status}: ${(await alert.innerText()).trim()})`);
    } else {
      await item.waitFor({ state: "detached" });
      await page.getByRole("status").filter({ hasText: `Deleted “${TEAM_GOAL}”.` }).waitFor();
      check(goal.status === 404, `deleted but GET answers ${goal.status}`);
      const p = await getProject();
      console.log(`     (the server deleted it; the project's goalId is now ${p.goalId})`);
    }
    await goalItem(COMPANY_GOAL).waitFor();
  });
}
