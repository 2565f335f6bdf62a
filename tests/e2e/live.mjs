export async function liveScenario() {}
