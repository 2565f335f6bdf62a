// Signing in, the first admin's invite, the CLI's browser approval and the board claim, as a
// person does them in the browser.
import { baseUrl, check, snapshot, step } from "./lib.mjs";

const person = { name: "Rosa Board", email: "rosa@example.com", password: "correct horse battery" };

/** Authenticated mode: a new instance's first admin arrives by the invite printed at start. */
export async function accessScenario(page, inviteUrl) {
  check(inviteUrl, "PAPERCLIP_UI_INVITE_URL names the bootstrap invite");

  await step(page, "a signed-out visitor is sent to sign in", async () => {
    await page.goto("/");
    await page.waitForURL("**/sign-in?next=%2F");
    await page.getByRole("heading", { name: "Sign in to Paperclip" }).waitFor();
  });

  await step(page, "a wrong password is refused with the server's sentence", async () => {
    await page.getByLabel("Email").fill("nobody@example.com");
    await page.getByLabel("Password").fill("not the password");
    await page.getByRole("button", { name: "Sign in" }).click();
    const alert = page.getByRole("alert");
    await alert.waitFor();
    check((await alert.textContent()).length > 5, "an error sentence is shown");
    check(page.url().includes("/sign-in"), "still on the sign-in page");
  });

  await step(page, "the bootstrap invite makes an account and the first admin", async () => {
    await page.goto(inviteUrl);
    await page.getByRole("heading", { name: "Set up this Paperclip instance" }).waitFor();
    await page.getByLabel("Name").fill(person.name);
    await page.getByLabel("Email").fill(person.email);
    await page.getByLabel("Password").fill("short");
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByRole("alert").filter({ hasText: "at least 8 characters" }).waitFor();
    await page.getByLabel("Password").fill(person.password);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByRole("button", { name: "Accept invite" }).click();
    await page.waitForURL(`${baseUrl}/`);
    await page.locator(".who-name").filter({ hasText: person.name }).waitFor();
    await snapshot(page, "first-admin");
  });

  await step(page, "signing out and in again returns to the page asked for", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL("**/sign-in");
    await page.goto("/settings/api-keys");
    await page.waitForURL("**/sign-in?next=**");
    await page.getByLabel("Email").fill(person.email);
    await page.getByLabel("Password").fill(person.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL("**/settings/api-keys");
    await page.getByRole("heading", { name: "API keys" }).waitFor();
  });

  await step(page, "a ?next= that leads off this server is ignored after sign-in", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL("**/sign-in");
    // Browsers drop the tab, which would make "//evil.example" of it.
    await page.goto("/sign-in?next=%2F%09%2Fevil.example");
    await page.getByLabel("Email").fill(person.email);
    await page.getByLabel("Password").fill(person.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${baseUrl}/`);
    await page.locator(".who-name").filter({ hasText: person.name }).waitFor();
  });
}

/** `paperclip auth login`'s challenge, approved on its page; the CLI's key then works. */
export async function cliApprovalScenario(page) {
  let challenge;
  await step(page, "the CLI's approval page shows the request and approves it", async () => {
    const r = await fetch(`${baseUrl}/api/cli-auth/challenges`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ command: "paperclip auth login", clientName: "e2e laptop" }),
    });
    check(r.status === 201, `a challenge is made: ${r.status}`);
    challenge = await r.json();
    await page.goto(challenge.approvalPath);
    await page.getByRole("heading", { name: "Sign in the Paperclip CLI" }).waitFor();
    await page.getByText("e2e laptop").waitFor();
    await page.getByText("pending").waitFor();
    const before = await poll(challenge);
    check(before.status === "pending", `the CLI still waits: ${JSON.stringify(before)}`);
    await snapshot(page, "cli-auth");
    await page.getByRole("button", { name: "Approve" }).click();
    await page.getByText("Go back to your terminal").waitFor();
  });

  await step(page, "the waiting CLI sees the approval and its key works", async () => {
    const after = await poll(challenge);
    check(after.status === "approved", `approved for the CLI too: ${JSON.stringify(after)}`);
    const me = await fetch(`${baseUrl}/api/cli-auth/me`, { headers: { Authorization: `Bearer ${challenge.boardApiToken}` } });
    check(me.status === 200, `the CLI's key works: ${me.status}`);
  });

  await step(page, "the CLI's key is listed with the 30-day expiry it was given", async () => {
    await page.goto("/settings/api-keys");
    const rows = page.getByRole("table", { name: "Board API keys" }).locator("tbody tr");
    await rows.first().waitFor();
    const year = new Date(Date.now() + 30 * 86400e3).getFullYear();
    const texts = await rows.locator("td:nth-child(3)").allTextContents();
    check(texts.some((t) => t.includes(String(year)) && t.includes("(in ")), `an expiry date in ${year} is shown: ${texts}`);
  });
}

async function poll(challenge) {
  const r = await fetch(`${baseUrl}/api${challenge.pollPath}?token=${encodeURIComponent(challenge.token)}`);
  return r.json();
}

/** A local instance now run authenticated: the first person to open the claim URL owns it. */
export async function claimScenario(page, claimUrl, companyName) {
  check(claimUrl, "PAPERCLIP_UI_CLAIM_URL names the printed claim URL");
  await step(page, "the claim page asks a signed-out visitor to make an account first", async () => {
    await page.goto(claimUrl);
    await page.getByRole("heading", { name: "Claim this Paperclip instance" }).waitFor();
    await page.getByRole("link", { name: "Create an account" }).click();
    await page.getByRole("heading", { name: "Create your account" }).waitFor();
  });

  await step(page, "after signing up the person is back on the claim and takes the instance", async () => {
    await page.getByLabel("Name").fill(person.name);
    await page.getByLabel("Email").fill(person.email);
    await page.getByLabel("Password").fill(person.password);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByRole("heading", { name: "Claim this Paperclip instance" }).waitFor();
    await page.getByRole("button", { name: "Claim instance" }).click();
    await page.getByText("You own this instance now").waitFor();
    await snapshot(page, "board-claim");
  });

  await step(page, "the claimed instance's companies are the new owner's", async () => {
    await page.getByRole("link", { name: "Open the board" }).click();
    await page.getByRole("main").getByText(companyName).first().waitFor();
  });

  await step(page, "the used claim link says it was claimed", async () => {
    await page.goto(claimUrl);
    await page.getByText("You own this instance now").waitFor();
  });
}
