// The browser harness for the board UI: Debian's Chromium through playwright-core (never a
// downloaded browser), numbered steps, a screenshot of every failure, and one summary line
// "N passed, M failed" that tests/http/board_ui.rs reads.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

export const baseUrl = (process.env.PAPERCLIP_UI_URL ?? "http://127.0.0.1:3100").replace(/\/$/, "");
export const mode = process.env.PAPERCLIP_UI_MODE ?? "local_trusted";
const artifacts = process.env.PAPERCLIP_UI_ARTIFACTS ?? "/tmp/paperclip-e2e";
mkdirSync(artifacts, { recursive: true });

export async function launch() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    headless: true,
    // This machine has no internet: without the background-networking flags Chromium floods
    // it with retries.
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const context = await browser.newContext({ baseURL: baseUrl, viewport: { width: 1280, height: 820 } });
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const consoleErrors = [];
  page.on("console", (m) => {
    if (m.type() !== "error") return;
    consoleErrors.push(m.text());
    // A page the CSP broke is a failure even when every step still found its text.
    if (/Content Security Policy|Refused to (load|execute|apply|connect)/.test(m.text())) fatal.push(m.text());
  });
  page.on("pageerror", (e) => fatal.push(`uncaught in the page: ${e}`));
  return { browser, context, page, consoleErrors };
}

/** Errors that fail the run whatever the steps said: uncaught exceptions, CSP refusals. */
const fatal = [];
let passed = 0;
let failed = 0;
let index = 0;

/** Runs one named step; a failure is reported with a screenshot and stops the scenario. */
export async function step(page, name, body) {
  index += 1;
  const label = `${String(index).padStart(2, "0")} ${name}`;
  try {
    await body();
    passed += 1;
    console.log(`ok   ${label}`);
  } catch (e) {
    failed += 1;
    const shot = join(artifacts, `${String(index).padStart(2, "0")}-failed.png`);
    await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
    console.log(`FAIL ${label}\n     ${String(e?.stack ?? e).split("\n").join("\n     ")}\n     screenshot: ${shot}`);
    throw new StepFailed(label);
  }
}

export class StepFailed extends Error {}

/** Keeps a picture of a page state worth looking at (in the artifacts folder). */
export async function snapshot(page, name) {
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
}

export function summary() {
  for (const e of fatal) console.log(`FAIL ${e}`);
  const failures = failed + fatal.length;
  console.log(`${passed} passed, ${failures} failed`);
  return failures === 0 && passed > 0;
}

export function check(condition, message) {
  if (!condition) throw new Error(message);
}

/** The JSON API as the page's own session sees it (same cookies, same origin). */
export async function apiFromPage(page, method, path, body) {
  return page.evaluate(
    async ({ method, path, body }) => {
      const r = await fetch(`/api${path}`, {
        method,
        headers: body === undefined ? {} : { "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await r.text();
      return { status: r.status, body: text ? JSON.parse(text) : null };
    },
    { method, path, body },
  );
}
