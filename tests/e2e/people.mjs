// Company secrets and members, driven as a board member uses them: store, rotate, disable and
// delete secrets without a value ever coming back; on an authenticated server, invite a person
// who signs up in another browser, then change their role and revoke an unused invite. Runs
// after companyScenario (its company "Acme Notes") in both modes.
import { apiFromPage, baseUrl, check, mode, snapshot, step } from "./lib.mjs";

const COMPANY = "Acme Notes";
const SECRET = "OpenAI";
const VALUE = "sk-e2e-do-not-echo-4f9c2b7d1a";
const ROTATED = "sk-e2e-rotated-8e1d0c3b5f";
const OTHER = "Stripe";
const OTHER_VALUE = "rk-e2e-stripe-6a2f9d";
const newcomer = { name: "Nora Newman", email: "nora@example.com", password: "a long enough password" };

export async function peopleScenario(page) {
  let companyId = "";
  const companyNav = () => page.getByRole("navigation", { name: COMPANY });
  const secretRow = (name) => page.getByRole("table", { name: "Secrets" }).getByRole("row").filter({ has: page.getByText(name, { exact: true }) });
  /** No stored value anywhere: not in the page's HTML (inputs included), not in the API's list. */
  const noValues = async (values) => {
    const html = await page.content();
    for (const v of values) check(!html.includes(v), `the page holds a secret value: ${v}`);
    const listed = await apiFromPage(page, "GET", `/companies/${companyId}/secrets`);
    check(listed.status === 200, `GET secrets answered ${listed.status}`);
    const json = JSON.stringify(listed.body);
    for (const v of values) check(!json.includes(v), `the API list holds a secret value: ${v}`);
    return listed.body;
  };

  await step(page, "open Secrets from the company's sidebar", async () => {
    const companies = await apiFromPage(page, "GET", "/companies");
    companyId = companies.body.find((c) => c.name === COMPANY)?.id;
    check(companyId, `no company ${COMPANY}: ${JSON.stringify(companies.body)}`);
    await page.goto(`/companies/${companyId}`);
    await companyNav().getByRole("link", { name: "Secrets" }).click();
    await page.waitForURL(`**/companies/${companyId}/secrets`);
    await page.getByRole("heading", { name: "Secrets", level: 1 }).waitFor();
    await page.getByText("No secrets yet").waitFor();
    await page.getByText("nobody can read it back").first().waitFor();
  });

  await step(page, "add a secret: listed at version 1, its value nowhere", async () => {
    await page.getByRole("button", { name: "Add secret" }).click();
    const form = page.getByRole("form", { name: "Add secret" });
    await form.getByLabel("Name", { exact: true }).fill(SECRET);
    const value = form.getByLabel("Value", { exact: true });
    check((await value.getAttribute("type")) === "password", "the value input is not a password input");
    await value.fill(VALUE);
    await form.getByLabel("Description", { exact: true }).fill("Model calls for the writers");
    await form.getByText("Optional; empty: openai").waitFor();
    await form.getByRole("button", { name: "Add secret" }).click();
    await page.getByRole("status").filter({ hasText: `Stored ${SECRET} as version 1` }).waitFor();
    const text = await secretRow(SECRET).innerText();
    check(/\bv1\b/.test(text) && /active/.test(text) && /openai/.test(text) && /no agent/.test(text), `secret row reads: ${text}`);
    const listed = await noValues([VALUE]);
    const s = listed.find((x) => x.name === SECRET);
    check(s && s.latestVersion === 1 && s.key === "openai" && s.referenceCount === 0, `the server's secret: ${JSON.stringify(s)}`);
    check(!("value" in s), "the list carries a value field");
  });

  await step(page, "the row shows how an agent names the secret", async () => {
    await page.getByRole("button", { name: `How agents use ${SECRET}` }).click();
    const usage = page.getByRole("region", { name: `How agents use ${SECRET}` });
    const listed = await apiFromPage(page, "GET", `/companies/${companyId}/secrets`);
    const id = listed.body.find((x) => x.name === SECRET).id;
    const text = await usage.innerText();
    check(text.includes(`"secretId":"${id}"`) && text.includes('"type":"secret_ref"'), `usage reads: ${text}`);
    check(text.includes(`"$secret:${SECRET}"`), `usage lacks the shorthand: ${text}`);
    await page.getByRole("button", { name: `How agents use ${SECRET}` }).click();
    await usage.waitFor({ state: "detached" });
  });

  await step(page, "an agent that references the secret is counted", async () => {
    // The Agents page has no env editor: name the secret from the agent's config by API.
    const agents = await apiFromPage(page, "GET", `/companies/${companyId}/agents`);
    const agent = agents.body[0];
    check(agent, "companyScenario left no agent");
    const listed = await apiFromPage(page, "GET", `/companies/${companyId}/secrets`);
    const id = listed.body.find((x) => x.name === SECRET).id;
    // The by-name shorthand the page shows; the server stores the reference it names.
    const config = { ...(agent.adapterConfig ?? {}), env: { OPENAI_API_KEY: `$secret:${SECRET}` } };
    const patched = await apiFromPage(page, "PATCH", `/agents/${agent.id}`, { adapterConfig: config });
    check(patched.status === 200, `PATCH agent answered ${patched.status}: ${JSON.stringify(patched.body)}`);
    const stored = patched.body.adapterConfig.env.OPENAI_API_KEY;
    check(stored.type === "secret_ref" && stored.secretId === id, `stored as the reference: ${JSON.stringify(stored)}`);
    await page.reload();
    await secretRow(SECRET).getByText("1 agent", { exact: true }).waitFor();
  });

  await step(page, "rotate the secret to version 2", async () => {
    await page.getByRole("button", { name: `Rotate ${SECRET}` }).click();
    const form = page.getByRole("form", { name: `Rotate ${SECRET}` });
    await form.getByText("Becomes version 2").waitFor();
    await form.getByLabel("New value", { exact: true }).fill(ROTATED);
    await form.getByRole("button", { name: "Rotate" }).click();
    await page.getByRole("status").filter({ hasText: `${SECRET} is at version 2` }).waitFor();
    await form.waitFor({ state: "detached" });
    check(/\bv2\b/.test(await secretRow(SECRET).innerText()), "the row does not read v2");
    const listed = await noValues([VALUE, ROTATED]);
    check(listed.find((x) => x.name === SECRET).latestVersion === 2, "the server's secret is not at version 2");
  });

  await step(page, "disable the secret: its badge changes and rotation waits", async () => {
    const r = secretRow(SECRET);
    await page.getByRole("button", { name: `Disable ${SECRET}` }).click();
    await r.getByText("disabled", { exact: true }).waitFor();
    check(await page.getByRole("button", { name: `Rotate ${SECRET}` }).isDisabled(), "a disabled secret offers rotation");
    const listed = await apiFromPage(page, "GET", `/companies/${companyId}/secrets`);
    check(listed.body.find((x) => x.name === SECRET).status === "disabled", "the server's secret is not disabled");
    await page.getByRole("button", { name: `Enable ${SECRET}` }).waitFor();
  });

  await step(page, "a taken name is refused with the server's sentence", async () => {
    await page.getByRole("button", { name: "Add secret" }).click();
    const form = page.getByRole("form", { name: "Add secret" });
    await form.getByLabel("Name", { exact: true }).fill(SECRET);
    await form.getByLabel("Value", { exact: true }).fill("anything");
    await form.getByRole("button", { name: "Add secret" }).click();
    const alert = form.getByRole("alert");
    await alert.waitFor();
    check((await alert.innerText()).includes(`Secret already exists: ${SECRET}`), `alert reads: ${await alert.innerText()}`);
    await page.getByRole("button", { name: "Close form" }).click();
  });

  await step(page, "add a second secret and delete it with a confirming click", async () => {
    await page.getByRole("button", { name: "Add secret" }).click();
    const form = page.getByRole("form", { name: "Add secret" });
    await form.getByLabel("Name", { exact: true }).fill(OTHER);
    await form.getByLabel("Key", { exact: true }).fill("stripe_live");
    await form.getByLabel("Value", { exact: true }).fill(OTHER_VALUE);
    await form.getByRole("button", { name: "Add secret" }).click();
    await secretRow(OTHER).getByText("stripe_live", { exact: true }).waitFor();
    await noValues([VALUE, ROTATED, OTHER_VALUE]);
    await snapshot(page, "secrets");
    await page.getByRole("button", { name: `Delete ${OTHER}`, exact: true }).click();
    // One click only asks; the secret is still there.
    const before = await apiFromPage(page, "GET", `/companies/${companyId}/secrets`);
    check(before.body.some((x) => x.name === OTHER), "the first click deleted the secret");
    await page.getByRole("button", { name: `Delete ${OTHER} now` }).click();
    await page.getByRole("status").filter({ hasText: `Deleted ${OTHER}` }).waitFor();
    await secretRow(OTHER).waitFor({ state: "detached" });
    const after = await apiFromPage(page, "GET", `/companies/${companyId}/secrets`);
    check(!after.body.some((x) => x.name === OTHER) && after.body.some((x) => x.name === SECRET), `secrets after delete: ${JSON.stringify(after.body.map((x) => x.name))}`);
  });

  if (mode !== "authenticated") {
    await step(page, "members exist only on an authenticated server", async () => {
      check((await companyNav().getByRole("link", { name: "Members" }).count()) === 0, "local_trusted shows a Members link");
      await page.goto(`/companies/${companyId}/members`);
      await page.getByRole("heading", { name: "Members", level: 1 }).waitFor();
      await page.getByRole("status").filter({ hasText: "Members exist only on an authenticated server" }).waitFor();
    });
    return;
  }

  let inviteUrl = "";
  await step(page, "the admin opens Members and invites an operator; the link is shown once", async () => {
    await companyNav().getByRole("link", { name: "Members" }).click();
    await page.getByRole("heading", { name: "Members", level: 1 }).waitFor();
    await page.getByRole("table", { name: "Members" }).or(page.getByText("No members yet")).first().waitFor();
    await page.getByRole("button", { name: "Invite someone" }).click();
    const form = page.getByRole("form", { name: "Invite someone" });
    check((await form.getByLabel("Role", { exact: true }).inputValue()) === "operator", "the invite form does not default to operator");
    await form.getByLabel("Role", { exact: true }).selectOption("operator");
    await form.getByRole("button", { name: "Create invite" }).click();
    inviteUrl = (await page.getByTestId("secret-value").innerText()).trim();
    check(inviteUrl.startsWith(`${baseUrl}/invite/pcp_invite_`), `the invite URL reads ${inviteUrl}`);
    await page.getByText("it is shown once").waitFor();
    const r = page.getByRole("table", { name: "Invites" }).getByRole("row").filter({ hasText: "operator" });
    await r.getByText("active", { exact: true }).waitFor();
    await snapshot(page, "members-invite");
    await page.getByRole("button", { name: "Done" }).click();
    const token = inviteUrl.split("/invite/")[1];
    check(!(await page.content()).includes(token), "the token is still on the page after Done");
    const listed = await apiFromPage(page, "GET", `/companies/${companyId}/invites`);
    check(!JSON.stringify(listed.body).includes(token), "the invites list carries the token");
  });

  await step(page, "a new person opens the invite in another browser, signs up and accepts", async () => {
    const other = await page.context().browser().newContext({ baseURL: baseUrl, viewport: { width: 1280, height: 820 } });
    try {
      other.setDefaultTimeout(10_000);
      const p2 = await other.newPage();
      await p2.goto(inviteUrl);
      await p2.getByRole("heading", { name: `Join ${COMPANY}` }).waitFor();
      await p2.getByText("role: operator").waitFor();
      await p2.getByLabel("Name").fill(newcomer.name);
      await p2.getByLabel("Email").fill(newcomer.email);
      await p2.getByLabel("Password").fill(newcomer.password);
      await p2.getByRole("button", { name: "Create account" }).click();
      await p2.getByRole("button", { name: "Accept invite" }).click();
      await p2.waitForURL(`**/companies/${companyId}`);
      await p2.getByRole("heading", { name: COMPANY, level: 1 }).waitFor();
      // An operator may not manage members: the page says why instead of listing them.
      await p2.getByRole("navigation", { name: COMPANY }).getByRole("link", { name: "Members" }).click();
      await p2.getByText("Managing members needs the owner role").waitFor();
      check((await p2.getByRole("button", { name: "Invite someone" }).count()) === 0, "an operator is offered to invite");
      const used = await p2.goto(inviteUrl).then(() => p2.getByRole("heading", { name: "This invite cannot be used" }));
      await used.waitFor();
    } finally {
      await other.close();
    }
  });

  await step(page, "the new person is listed as operator; the admin makes them a viewer", async () => {
    await page.reload();
    const role = page.getByLabel(`Role of ${newcomer.name}`, { exact: true });
    await role.waitFor();
    check((await role.inputValue()) === "operator", `role reads ${await role.inputValue()}`);
    const row = page.getByRole("table", { name: "Members" }).getByRole("row").filter({ hasText: newcomer.email });
    check((await page.getByLabel(`Status of ${newcomer.name}`, { exact: true }).inputValue()) === "active", "the new member is not active");
    await page.getByRole("table", { name: "Invites" }).getByRole("row").filter({ hasText: "operator" }).getByText("accepted", { exact: true }).first().waitFor();
    await role.selectOption("viewer");
    await page.getByRole("status").filter({ hasText: `${newcomer.name} is now viewer.` }).waitFor();
    check((await role.inputValue()) === "viewer", "the select went back");
    const members = await apiFromPage(page, "GET", `/companies/${companyId}/members`);
    const nora = members.body.find((m) => m.user.email === newcomer.email);
    check(nora && nora.membershipRole === "viewer" && nora.status === "active", `the server's member: ${JSON.stringify(nora)}`);
    await row.waitFor();
  });

  await step(page, "a second, unused invite is revoked with a confirming click", async () => {
    await page.getByRole("button", { name: "Invite someone" }).click();
    const form = page.getByRole("form", { name: "Invite someone" });
    await form.getByLabel("Role", { exact: true }).selectOption("admin");
    await form.getByRole("button", { name: "Create invite" }).click();
    await page.getByTestId("secret-value").waitFor();
    await page.getByRole("button", { name: "Done" }).click();
    const invites = await apiFromPage(page, "GET", `/companies/${companyId}/invites`);
    const open = invites.body.find((i) => i.humanRole === "admin" && i.state === "active");
    check(open, `no open admin invite: ${JSON.stringify(invites.body)}`);
    const r = page.locator(`tr[data-invite-id="${open.id}"]`);
    await r.getByText("active", { exact: true }).waitFor();
    await r.getByRole("button", { name: "Revoke admin invite" }).click();
    await r.getByRole("button", { name: "Revoke now" }).click();
    await r.getByText("revoked", { exact: true }).waitFor();
    check((await r.getByRole("button").count()) === 0, "a revoked invite still offers buttons");
    const after = await apiFromPage(page, "GET", `/companies/${companyId}/invites`);
    check(after.body.find((i) => i.id === open.id)?.state === "revoked", "the server's invite is not revoked");
    await snapshot(page, "members");
  });
}
