// The board UI, driven as a person would use it. PAPERCLIP_UI_URL names a running server and
// PAPERCLIP_UI_MODE the scenario:
//   local_trusted   the company pages, API keys and the CLI's approval, no sign-in
//   authenticated   the first admin's invite (PAPERCLIP_UI_INVITE_URL), sign-in, then the same
//   claim           a local instance now authenticated, claimed (PAPERCLIP_UI_CLAIM_URL) by a
//                   new person who then sees its company (PAPERCLIP_UI_CLAIM_COMPANY)
// Run against a server: `npm run test:e2e` (tests/http/board_ui.rs starts one for each).
import { launch, mode, summary, StepFailed } from "./lib.mjs";
import { companyScenario } from "./company.mjs";
import { projectsScenario } from "./projects.mjs";
import { keysScenario } from "./keys.mjs";
import { accessScenario, claimScenario, cliApprovalScenario } from "./access.mjs";
import { governanceScenario } from "./governance.mjs";
import { peopleScenario } from "./people.mjs";
import { runsScenario } from "./runs.mjs";
import { agentScenario } from "./agent.mjs";
import { liveScenario } from "./live.mjs";

const { browser, page, consoleErrors } = await launch();
let ok = false;
try {
  if (mode === "claim") {
    await claimScenario(page, process.env.PAPERCLIP_UI_CLAIM_URL, process.env.PAPERCLIP_UI_CLAIM_COMPANY);
  } else {
    if (mode === "authenticated") await accessScenario(page, process.env.PAPERCLIP_UI_INVITE_URL);
    await companyScenario(page);
    await projectsScenario(page);
    await governanceScenario(page);
    await peopleScenario(page);
    await runsScenario(page);
    await agentScenario(page);
    await liveScenario(page);
    await keysScenario(page);
    await cliApprovalScenario(page);
  }
  ok = summary();
} catch (e) {
  if (!(e instanceof StepFailed)) console.log(`scenario error: ${e?.stack ?? e}`);
  summary();
} finally {
  if (consoleErrors.length) console.log(`browser console (4xx answers the scenarios provoke on purpose show here too):\n  ${consoleErrors.join("\n  ")}`);
  await browser.close();
}
process.exit(ok ? 0 : 1);
