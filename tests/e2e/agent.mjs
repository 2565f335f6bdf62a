// One agent's page as the board uses it: reached from the Agents list, its title and process
// command edited through the form (keys the form does not show kept), its environment bound to a
// plain value and a company secret, a plain credential kept across a save that does not touch it
// (the ***REDACTED*** placeholder is never sent back), a reportsTo cycle refused with the server's
// sentence, and an agent API key made, used and revoked. Runs after runsScenario (company "Acme
// Notes"); it hires its own agents so the later scenarios see the others unchanged. The page may
// be anywhere when it starts.
import { apiFromPage, baseUrl, check, snapshot, step } from "./lib.mjs";

const COMPANY = "Acme Notes";
const AGENT = "Quill Config";
const HELPER = "Cycle Helper";
const REDACTED = "***REDACTED***";

/** The server's answer to `path` with `token` as the bearer (from outside the browser). */
async function withToken(token, path) {
  const r = await fetch(`${baseUrl}/api${path}`, { headers: { Authorization: `Bearer ${token}` } });
  return { status: r.status, body: await r.json().catch(() => null) };
}

/** Hires through the API, through the approval when the company asks for one. */
async function hire(page, companyId, body) {
  const direct = await apiFromPage(page, "POST", `/companies/${companyId}/agents`, body);
  if (direct.status === 201) return direct.body.id;
  check(direct.body?.code === "approval_required", `POST /agents answered ${direct.status}: ${JSON.stringify(direct.body)}`);
  const pending = await apiFromPage(page, "POST", `/companies/${companyId}/agent-hires`, body);
  check(pending.status === 201, `POST /agent-hires answered ${pending.status}: ${JSON.stringify(pending.body)}`);
  const approved = await apiFromPage(page, "POST", `/approvals/${pending.body.approval.id}/approve`, {});
  check(approved.status === 200, `approving the hire answered ${approved.status}: ${JSON.stringify(approved.body)}`);
  return pending.body.agent.id;
}

export async function agentScenario(page) {
  let companyId = "";
  let agentId = "";
  let secret = null;
  let token = "";
  const companyNav = () => page.getByRole("navigation", { name: COMPANY });
  const stored = async () => {
    const r = await apiFromPage(page, "GET", `/agents/${agentId}`);
    check(r.status === 200, `GET /agents/${agentId} answered ${r.status}`);
    return r.body;
  };
  const save = async () => {
    await page.getByRole("button", { name: "Save configuration" }).click();
    await page.getByRole("status").filter({ hasText: "Saved." }).waitFor();
  };

  await step(page, "the Agents page from the sidebar leads to an agent's own page", async () => {
    await page.goto("/");
    const companies = await apiFromPage(page, "GET", "/companies");
    const acme = companies.body.find((c) => c.name === COMPANY);
    check(acme, `no company ${COMPANY}`);
    companyId = acme.id;
    agentId = await hire(page, companyId, {
      name: AGENT,
      role: "engineer",
      adapterType: "process",
      adapterConfig: { command: "echo", args: ["hello"], graceSec: 5, customKey: "keep me" },
    });
    await hire(page, companyId, { name: HELPER, role: "general", adapterType: "process", reportsTo: agentId });
    const secrets = await apiFromPage(page, "GET", `/companies/${companyId}/secrets`);
    secret = secrets.body.find((s) => s.status === "active") ?? null;
    if (!secret) {
      const made = await apiFromPage(page, "POST", `/companies/${companyId}/secrets`, { name: "openai-e2e", value: "sk-e2e-not-real" });
      check(made.status === 201, `creating a secret answered ${made.status}: ${JSON.stringify(made.body)}`);
      secret = made.body;
    }
    await page.goto(`/companies/${companyId}`);
    await companyNav().getByRole("link", { name: "Agents" }).click();
    await page.getByRole("heading", { name: "Agents", level: 1 }).waitFor();
    await page.getByRole("table", { name: "Agents" }).getByRole("link", { name: AGENT, exact: true }).click();
    await page.waitForURL(`**/companies/${companyId}/agents/${agentId}`);
    await page.getByRole("heading", { name: AGENT, level: 1 }).waitFor();
    await page.getByRole("heading", { name: "Configuration" }).waitFor();
    check((await page.getByLabel("Command", { exact: true }).inputValue()) === "echo", "the form shows the stored command");
  });

  await step(page, "the title and the process command saved through the form, other keys kept", async () => {
    await page.getByLabel("Title", { exact: true }).fill("Configuration keeper");
    await page.getByLabel("Command", { exact: true }).fill("sh");
    await page.getByLabel("Arguments").fill("-c\necho configured by the board");
    await save();
    const a = await stored();
    check(a.title === "Configuration keeper", `title: ${a.title}`);
    const c = a.adapterConfig;
    check(c.command === "sh", `command: ${JSON.stringify(c)}`);
    check(JSON.stringify(c.args) === JSON.stringify(["-c", "echo configured by the board"]), `args: ${JSON.stringify(c.args)}`);
    check(c.customKey === "keep me" && c.graceSec === 5, `keys the form does not change were kept: ${JSON.stringify(c)}`);
    await page.getByText("Configuration keeper · engineer").waitFor();
  });

  await step(page, "env rows: a plain value and a company secret, stored as bindings", async () => {
    await page.getByRole("button", { name: "Add variable" }).click();
    await page.getByLabel("Name of variable 1").fill("LOG_LEVEL");
    await page.getByLabel("Value of variable 1").fill("debug");
    await page.getByRole("button", { name: "Add variable" }).click();
    await page.getByLabel("Name of variable 2").fill("OPENAI_API_KEY");
    await page.getByLabel("Binding of variable 2").selectOption("secret");
    await page.getByLabel("Secret for variable 2").selectOption({ label: secret.name });
    await save();
    const env = (await stored()).adapterConfig.env;
    check(env?.LOG_LEVEL?.type === "plain" && env.LOG_LEVEL.value === "debug", `LOG_LEVEL: ${JSON.stringify(env)}`);
    const ref = env?.OPENAI_API_KEY;
    check(ref?.type === "secret_ref" && ref.secretId === secret.id && ref.version === "latest", `OPENAI_API_KEY: ${JSON.stringify(ref)}`);
  });

  await step(page, "a plain credential reads back hidden and survives a save that does not touch it", async () => {
    await page.reload();
    await page.getByRole("heading", { name: "Configuration" }).waitFor();
    check((await page.getByLabel("Secret for variable 2").inputValue()) === secret.id, "the secret binding reads back after a reload");
    await page.getByRole("button", { name: "Add variable" }).click();
    await page.getByLabel("Name of variable 3").fill("GITHUB_TOKEN");
    await page.getByLabel("Value of variable 3").fill("ghp_e2e_not_real");
    await save();
    check((await stored()).adapterConfig.env.GITHUB_TOKEN?.value === REDACTED, "the server hides the token");
    await page.reload();
    await page.locator('[data-env-name="GITHUB_TOKEN"]').getByText("stored, hidden").waitFor();

    // A change to the adapter settings would have to send the placeholder back: the form says so.
    await page.getByLabel("Command", { exact: true }).fill("bash");
    await page.getByRole("button", { name: "Save configuration" }).click();
    await page.getByRole("alert").filter({ hasText: "GITHUB_TOKEN holds a value the server does not show again" }).waitFor();
    await page.getByRole("button", { name: "Discard changes" }).click();

    await page.getByLabel("Title", { exact: true }).fill("Configuration keeper, v2");
    const sent = page.waitForResponse((r) => r.url().endsWith(`/api/agents/${agentId}`) && r.request().method() === "PATCH");
    await page.getByRole("button", { name: "Save configuration" }).click();
    const response = await sent;
    const body = response.request().postData() ?? "";
    check(response.status() === 200, `the save answered ${response.status()}: ${await response.text()}`);
    check(!body.includes(REDACTED) && !body.includes("adapterConfig"), `only the title was sent: ${body}`);
    await page.getByRole("status").filter({ hasText: "Saved." }).waitFor();
    const a = await stored();
    check(a.title === "Configuration keeper, v2", `title: ${a.title}`);
    const env = a.adapterConfig.env;
    check(env.GITHUB_TOKEN?.type === "plain" && env.GITHUB_TOKEN.value === REDACTED, `GITHUB_TOKEN is still stored: ${JSON.stringify(env)}`);
    check(env.OPENAI_API_KEY?.secretId === secret.id && env.LOG_LEVEL?.value === "debug", `the other rows are unchanged: ${JSON.stringify(env)}`);
    check(a.adapterConfig.command === "sh", `the discarded command was not saved: ${a.adapterConfig.command}`);
  });

  await step(page, "a reportsTo cycle is refused with the server's sentence", async () => {
    await page.getByLabel("Reports to").selectOption({ label: HELPER });
    await page.getByRole("button", { name: "Save configuration" }).click();
    await page.getByRole("alert").filter({ hasText: "would create a cycle" }).waitFor();
    check((await stored()).reportsTo === null, "the manager did not change");
    await page.getByRole("button", { name: "Discard changes" }).click();
  });

  await step(page, "an agent API key is shown once and signs the agent in", async () => {
    await page.getByLabel("Key name").fill("e2e script");
    await page.getByRole("button", { name: "Create key" }).click();
    const shown = page.getByTestId("secret-value");
    await shown.waitFor();
    token = (await shown.textContent()).trim();
    check(token.startsWith("paperclip_agent_"), `an agent token is shown: ${token.slice(0, 20)}…`);
    const me = await withToken(token, "/agents/me");
    check(me.status === 200 && me.body?.id === agentId, `the key works: ${me.status} ${JSON.stringify(me.body?.id)}`);
    await page.getByRole("button", { name: "Done" }).click();
    check((await page.getByTestId("secret-value").count()) === 0, "the token is gone from the page");
  });

  await step(page, "a revoked agent key is refused", async () => {
    const keys = page.getByRole("table", { name: "Agent API keys" });
    await page.getByRole("button", { name: "Revoke e2e script" }).click();
    await page.getByRole("button", { name: "Revoke now" }).click();
    await keys.locator("tr", { hasText: "e2e script" }).getByText("revoked").waitFor();
    const me = await withToken(token, "/agents/me");
    check(me.status === 401, `a revoked key is refused: ${me.status}`);
  });

  await step(page, "Invoke queues a run that shows under Recent runs", async () => {
    await page.getByRole("button", { name: "Invoke", exact: true }).click();
    await page.getByRole("list", { name: "Recent runs" }).getByRole("link").first().waitFor();
    const href = await page.getByRole("list", { name: "Recent runs" }).getByRole("link").first().getAttribute("href");
    check(href?.startsWith(`/companies/${companyId}/runs/`), `a run link: ${href}`);
    await snapshot(page, "agent");
  });
}
