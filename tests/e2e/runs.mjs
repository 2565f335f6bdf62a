export async function runsScenario() {}
