// Known-flaky failures told apart from real ones (docs/history.md, "Flaky
// tests"): pure functions over the API's documents, shared by the run page
// and a repository's flaky-tests page, tested under node (web/test).

export function isFailure(test) {
  return test.status === 'failed' || test.status === 'error';
}

// A run's test list (GET /runs/{id}/tests) in three groups, each in the
// list's order: real failures, failures of tests known to be flaky when the
// job ran (known_flaky set), and the rest (passed, skipped).
export function splitTests(list) {
  const real = [];
  const knownFlaky = [];
  const others = [];
  for (const test of list) {
    if (!isFailure(test)) others.push(test);
    else if (test.known_flaky) knownFlaky.push(test);
    else real.push(test);
  }
  return { real, knownFlaky, others };
}

// "3 failed (1 known flaky), 5 passed, 1 skipped, 1 flaky": the same words
// as `tauon run`'s summary.
export function testSummary(list) {
  const { real, knownFlaky, others } = splitTests(list);
  const failed = real.length + knownFlaky.length;
  const passed = others.filter((t) => t.status === 'passed').length;
  const skipped = others.filter((t) => t.status === 'skipped').length;
  const flaky = list.filter((t) => t.flaky).length;
  return `${failed} failed${knownFlaky.length ? ` (${knownFlaky.length} known flaky)` : ''}` +
    `, ${passed} passed, ${skipped} skipped${flaky ? `, ${flaky} flaky` : ''}`;
}

// The evidence of a flaky test ({reason, runs, commits}) on one line, as the
// CLI prints it: "passed and failed on the same commit: run 3 (commit 1a2b…)".
export function evidenceText(evidence) {
  if (!evidence) return '';
  let text = evidence.reason || '';
  const runs = evidence.runs || [];
  const commits = evidence.commits || [];
  if (runs.length) text += `: run${runs.length === 1 ? '' : 's'} ${runs.join(', ')}`;
  if (commits.length) text += ` (commit${commits.length === 1 ? '' : 's'} ${commits.join(', ')})`;
  return text;
}

// A test's evidence from a run's test list: the flaky_evidence object, or
// the reason alone from a server that did not send it.
export function evidenceOf(test) {
  if (test.flaky_evidence) return test.flaky_evidence;
  return test.known_flaky ? { reason: test.known_flaky, runs: [], commits: [] } : null;
}

// A repository's flaky tests (GET /repos/{name}/flaky-tests), those that
// failed most recently first, then by job and id.
export function sortFlakyTests(tests) {
  return [...tests].sort((a, b) =>
    (isFailure({ status: b.last_status }) - isFailure({ status: a.last_status })) ||
    (b.last_run - a.last_run) || a.job.localeCompare(b.job) || a.id.localeCompare(b.id));
}
