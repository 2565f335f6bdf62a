// Board API keys in the browser: made with and without an expiry, the expiry shown, the token
// shown once and working, revoked keys refused. Runs in both modes.
import { baseUrl, check, snapshot, step } from "./lib.mjs";

/** The server's answer to `path` with `token` as the bearer (from outside the browser). */
async function withToken(token, path) {
  const r = await fetch(`${baseUrl}/api${path}`, { headers: { Authorization: `Bearer ${token}` } });
  return { status: r.status, body: await r.json().catch(() => null) };
}

export async function keysScenario(page) {
  let token;
  const rows = page.getByRole("table", { name: "Board API keys" }).locator("tbody tr");
  const row = (name) => rows.filter({ has: page.getByRole("cell", { name, exact: true }) });

  await step(page, "the sidebar leads to the API keys page", async () => {
    await page.getByRole("link", { name: "API keys" }).click();
    await page.waitForURL("**/settings/api-keys");
    await page.getByRole("heading", { name: "API keys" }).waitFor();
    await page.getByRole("heading", { name: "Your keys" }).waitFor();
  });

  await step(page, "a key made to expire in 30 days shows its token once and its expiry", async () => {
    await page.getByLabel("Name").fill("deploy script");
    await page.getByLabel("Expires", { exact: true }).selectOption("30");
    await page.getByRole("button", { name: "Create key" }).click();
    const shown = page.getByTestId("secret-value");
    await shown.waitFor();
    token = (await shown.textContent()).trim();
    check(token.startsWith("pcp_board_"), `a board token is shown: ${token}`);
    await page.getByText("it is shown once").waitFor();
    const expires = row("deploy script").locator("td").nth(2);
    await expires.waitFor();
    const text = await expires.textContent();
    const year = new Date(Date.now() + 30 * 86400e3).getFullYear();
    check(text.includes(String(year)) && /in 4 weeks|in 1 month|in 30 days/.test(text), `the expiry cell shows the date and how far: ${text}`);
    check((await row("deploy script").getByText("active").count()) === 1, "the new key is active");
    await snapshot(page, "api-keys-created");
  });

  await step(page, "the token works until it is revoked, as the server confirms", async () => {
    const me = await withToken(token, "/auth/get-session");
    check(me.status === 200, `the new key signs requests in: ${JSON.stringify(me)}`);
    await page.getByRole("button", { name: "Done" }).click();
    check((await page.getByTestId("secret-value").count()) === 0, "the token is gone from the page");
  });

  await step(page, "a key made with the default expiry never expires", async () => {
    await page.getByLabel("Name").fill("notebook");
    await page.getByRole("button", { name: "Create key" }).click();
    await page.getByTestId("secret-value").waitFor();
    await row("notebook").locator("td").nth(2).getByText("Never", { exact: true }).waitFor();
    await page.getByRole("button", { name: "Done" }).click();
  });

  await step(page, "an expiry date in the past is refused with a sentence, nothing made", async () => {
    const before = await rows.count();
    await page.getByLabel("Name").fill("yesterday");
    await page.getByLabel("Expires", { exact: true }).selectOption("date");
    await page.getByLabel("Expiry date").fill("2020-01-01");
    await page.getByRole("button", { name: "Create key" }).click();
    await page.getByRole("alert").filter({ hasText: "must be in the future" }).waitFor();
    check((await rows.count()) === before, "no key was made");
    await page.getByLabel("Expires", { exact: true }).selectOption("never");
    await page.getByLabel("Name").fill("");
  });

  await step(page, "revoking asks once more, then the key is revoked and refused", async () => {
    await page.getByRole("button", { name: "Revoke deploy script" }).click();
    await page.getByRole("button", { name: "Revoke now" }).click();
    await row("deploy script").getByText("revoked").waitFor();
    const me = await withToken(token, "/auth/get-session");
    check(me.status === 401, `a revoked key is refused: ${JSON.stringify(me)}`);
    check((await row("notebook").getByText("active").count()) === 1, "the other key is untouched");
    await snapshot(page, "api-keys");
  });
}
