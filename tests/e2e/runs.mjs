// Heartbeat runs as the board watches them: a `process` agent invoked from the Agents page,
// its run found on the Runs page and followed to the end with its log (stdout and stderr told
// apart), a long run stopped with Cancel, and the list filtered by status and agent. Runs after
// companyScenario (company "Acme Notes", whose agent's runs are there already); the page may
// be anywhere when it starts.
import { apiFromPage, check, snapshot, step } from "./lib.mjs";

const COMPANY = "Acme Notes";
const ECHO = "Echo Runner";
const SLEEPY = "Sleepy Sam";
const UNKNOWN = "00000000-0000-4000-8000-000000000000";

export async function runsScenario(page) {
  let companyId = "";
  let echoId = "";
  let echoRunId = "";
  let longRunId = "";
  const companyNav = () => page.getByRole("navigation", { name: COMPANY });
  const runRows = () => page.getByRole("table", { name: "Runs" }).locator("tbody tr");
  const status = () => page.getByTestId("run-status");
  const log = () => page.getByTestId("run-log");

  /** A process agent through the API: the hire form has no place for a command line. */
  const hire = async (name, script) => {
    const made = await apiFromPage(page, "POST", `/companies/${companyId}/agents`, {
      name,
      role: "engineer",
      adapterType: "process",
      adapterConfig: { command: "sh", args: ["-c", script], timeoutSec: 120 },
    });
    check(made.status === 201 || made.status === 200, `hiring ${name} answered ${made.status}: ${JSON.stringify(made.body)}`);
    return made.body.id;
  };

  await step(page, "a process agent invoked from the Agents page queues a run", async () => {
    await page.goto("/");
    const companies = await apiFromPage(page, "GET", "/companies");
    const acme = companies.body.find((c) => c.name === COMPANY);
    check(acme, `no company ${COMPANY}: ${JSON.stringify(companies.body.map((c) => c.name))}`);
    companyId = acme.id;
    echoId = await hire(ECHO, "echo hello from the run; echo to stderr 1>&2; sleep 1; echo done");
    await page.goto(`/companies/${companyId}/agents`);
    await page.getByRole("heading", { name: "Agents", level: 1 }).waitFor();
    await page.getByRole("button", { name: `Invoke heartbeat of ${ECHO}` }).click();
    // The run is the server's word, whatever sentence the page says back.
    let runs = [];
    for (let i = 0; i < 20 && runs.length === 0; i++) {
      runs = (await apiFromPage(page, "GET", `/companies/${companyId}/heartbeat-runs?agentId=${echoId}`)).body;
      if (runs.length === 0) await page.waitForTimeout(250);
    }
    check(runs.length === 1, `expected one run of ${ECHO}, the server has ${runs.length}`);
    check(runs[0].invocationSource === "on_demand" && runs[0].triggerDetail === "manual", `the run's source: ${runs[0].invocationSource}/${runs[0].triggerDetail}`);
    echoRunId = runs[0].id;
  });

  await step(page, "the Runs page from the sidebar lists the run", async () => {
    await companyNav().getByRole("link", { name: "Runs" }).click();
    await page.getByRole("heading", { name: "Runs", level: 1 }).waitFor();
    const r = runRows().filter({ hasText: echoRunId.slice(0, 8) });
    await r.waitFor();
    const text = await r.innerText();
    check(text.includes(ECHO) && /On demand, by hand/.test(text), `run row reads: ${text}`);
    // The list refreshes itself while the run goes on: it ends succeeded without a reload.
    await r.getByText("succeeded", { exact: true }).waitFor({ timeout: 20_000 });
    check(/exit 0/.test(await r.innerText()), `a finished row shows its exit code: ${await r.innerText()}`);
  });

  await step(page, "the run page shows the run succeeded with its log", async () => {
    await runRows().filter({ hasText: echoRunId.slice(0, 8) }).getByRole("link", { name: `Run ${echoRunId.slice(0, 8)}` }).click();
    await page.waitForURL(new RegExp(`/runs/${echoRunId}$`));
    await page.getByRole("heading", { name: `Run of ${ECHO}`, level: 1 }).waitFor();
    await status().filter({ hasText: /^succeeded$/ }).waitFor({ timeout: 20_000 });
    await log().getByText("hello from the run").waitFor();
    await log().getByText(/done/).waitFor();
    const stderr = await log().locator('[data-stream="stderr"]').allInnerTexts();
    check(stderr.some((t) => t.includes("to stderr")), `stderr is not told apart: ${JSON.stringify(stderr)}`);
    const stdout = await log().locator('[data-stream="stdout"]').allInnerTexts();
    check(!stdout.some((t) => t.includes("to stderr")), "stderr text shows as stdout");
    // Shown as text, in the order written.
    const all = await log().innerText();
    check(all.indexOf("hello from the run") < all.indexOf("done"), `the log is out of order: ${all}`);
    check((await page.getByRole("button", { name: "Cancel run" }).count()) === 0, "a finished run still offers Cancel");
    const run = await apiFromPage(page, "GET", `/heartbeat-runs/${echoRunId}`);
    check(run.body.status === "succeeded" && run.body.exitCode === 0, `the server's run: ${run.body.status}, exit ${run.body.exitCode}`);
    const facts = await page.locator(".run-facts").innerText();
    check(/Exit code\s*0/.test(facts) && /On demand, by hand/.test(facts), `the details read: ${facts}`);
    await snapshot(page, "run");
  });

  await step(page, "a long run is stopped with Cancel", async () => {
    const sleepyId = await hire(SLEEPY, "echo going to sleep; sleep 30; echo woke up");
    const invoked = await apiFromPage(page, "POST", `/agents/${sleepyId}/heartbeat/invoke`, {});
    check(invoked.status === 202 && invoked.body.id, `invoke answered ${invoked.status}: ${JSON.stringify(invoked.body)}`);
    longRunId = invoked.body.id;
    await page.goto(`/companies/${companyId}/runs/${longRunId}`);
    await page.getByRole("heading", { name: `Run of ${SLEEPY}`, level: 1 }).waitFor();
    // Let it start, so Cancel stops a process and not just a queue entry.
    await log().getByText("going to sleep").waitFor({ timeout: 15_000 });
    await status().filter({ hasText: /^running$/ }).waitFor();
    await page.getByRole("button", { name: "Cancel run" }).click();
    await status().filter({ hasText: /^cancelled$/ }).waitFor();
    await page.getByRole("button", { name: "Cancel run" }).waitFor({ state: "detached" });
    const run = await apiFromPage(page, "GET", `/heartbeat-runs/${longRunId}`);
    check(run.body.status === "cancelled", `the server says ${run.body.status} after Cancel`);
    check(!(await log().innerText()).includes("woke up"), "the cancelled process went on running");
  });

  await step(page, "the runs list filters by status and agent, kept in the address", async () => {
    await companyNav().getByRole("link", { name: "Runs" }).click();
    await page.getByRole("heading", { name: "Runs", level: 1 }).waitFor();
    await runRows().filter({ hasText: longRunId.slice(0, 8) }).waitFor();
    const server = (await apiFromPage(page, "GET", `/companies/${companyId}/heartbeat-runs`)).body;
    check((await runRows().count()) === server.length, `the list shows ${await runRows().count()} of the server's ${server.length} runs`);
    // Newest first, as the server ordered them.
    check((await runRows().first().innerText()).includes(longRunId.slice(0, 8)), "the newest run is not on top");
    await snapshot(page, "runs");

    await page.getByLabel("Status", { exact: true }).selectOption("cancelled");
    await runRows().filter({ hasText: echoRunId.slice(0, 8) }).waitFor({ state: "detached" });
    const cancelled = await runRows().allInnerTexts();
    check(cancelled.length === server.filter((r) => r.status === "cancelled").length, `cancelled rows: ${cancelled.length}`);
    check(cancelled.every((t) => /\bcancelled\b/.test(t)), `a row that is not cancelled: ${JSON.stringify(cancelled)}`);
    check(new URL(page.url()).searchParams.get("status") === "cancelled", `the address does not keep the filter: ${page.url()}`);

    await page.getByLabel("Status", { exact: true }).selectOption("succeeded");
    await runRows().filter({ hasText: echoRunId.slice(0, 8) }).waitFor();
    const succeeded = await runRows().allInnerTexts();
    check(succeeded.every((t) => /\bsucceeded\b/.test(t)), `a row that did not succeed: ${JSON.stringify(succeeded)}`);

    // A reload keeps the filter; the agent filter asks the server for that agent's runs.
    await page.reload();
    await runRows().filter({ hasText: echoRunId.slice(0, 8) }).waitFor();
    check((await page.getByLabel("Status", { exact: true }).inputValue()) === "succeeded", "the reload lost the status filter");
    await page.getByLabel("Status", { exact: true }).selectOption("");
    await page.getByLabel("Agent", { exact: true }).selectOption({ label: ECHO });
    await runRows().filter({ hasText: longRunId.slice(0, 8) }).waitFor({ state: "detached" });
    const echo = await runRows().allInnerTexts();
    check(echo.length === 1 && echo[0].includes(ECHO), `the agent filter shows: ${JSON.stringify(echo)}`);
    check(new URL(page.url()).searchParams.get("agentId") === echoId, `the address does not keep the agent: ${page.url()}`);
    await page.getByLabel("Agent", { exact: true }).selectOption({ label: SLEEPY });
    await page.getByLabel("Status", { exact: true }).selectOption("succeeded");
    await page.getByText("No runs match").waitFor();
  });

  await step(page, "an unknown run reads as not found", async () => {
    await page.goto(`/companies/${companyId}/runs/${UNKNOWN}`);
    await page.getByText("Run not found").waitFor();
    await page.goto(`/companies/${companyId}/runs/not-a-run`);
    await page.getByText("Run not found").waitFor();
  });

  await step(page, "the dashboard names the agent a heartbeat woke and links its run", async () => {
    await page.getByRole("navigation", { name: COMPANY }).getByRole("link", { name: "Dashboard", exact: true }).click();
    const entry = page
      .getByRole("list", { name: "Recent activity" })
      .getByRole("listitem")
      .filter({ hasText: "invoked a heartbeat of" })
      .filter({ hasText: SLEEPY })
      .first();
    await entry.waitFor();
    const href = await entry.getByRole("link", { name: SLEEPY }).getAttribute("href");
    check(/\/runs\/[0-9a-f-]{36}$/.test(href ?? ""), `the entry links its run: ${href}`);
  });
}
