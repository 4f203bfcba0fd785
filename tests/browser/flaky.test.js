// Flaky tests in the dashboard, against a real `tauon serve`: a test that
// failed and then passed on a retry of one commit is known flaky; on the
// next run's page its failure is shown apart from the real one (a "known
// flaky" badge, the runs and commits that show it, a striped history cell),
// also in a `rerun --failed` that reuses its quarantined job; the
// repository's flaky-tests page lists it with its evidence, and its tests
// page ranks its tests most likely to fail first, with the reasons.
// Screenshots go to $TAUON_BROWSER_OUT.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { rmSync, writeFileSync } from 'node:fs';
import { workspace, startServer, launchBrowser, screenshot, login, waitFor, OUT } from './lib.js';

// test_flappy fails on odd invocations (the count is outside the
// workspace), test_real while `broken` is in the commit; lint fails while
// `lint-broken` is.
const PIPELINE = (state, retry) => `name: flaky
jobs:
  test:
    retry: ${retry}
    steps:
      - run: |
          n=$(( $(cat "${state}" 2>/dev/null || echo 0) + 1 )); echo $n > "${state}"
          flappy=; real=
          [ $((n % 2)) = 1 ] && flappy="<failure message=\\"unlucky invocation $n\\">boom</failure>"
          [ -e broken ] && real='<failure message="really broken">bad</failure>'
          printf '<testsuite name="unit"><testcase classname="tests.test_net" name="test_flappy">%s</testcase><testcase classname="tests.test_net" name="test_real">%s</testcase></testsuite>\\n' "$flappy" "$real" > junit.xml
          ! grep -q '<failure' junit.xml
    reports: { junit: junit.xml, quarantine: true }
  lint:
    steps:
      - run: test ! -e lint-broken
`;

let ws;
let server;
let browser;
let repo;
let state;
let firstSha;

async function runTo(id, status) {
  await waitFor(`run ${id} to end ${status}`, async () => {
    const run = await server.api('GET', `/runs/${id}`).catch(() => null);
    return run && run.status === status;
  }, 30000);
}

before(async () => {
  ws = workspace('flaky');
  state = path.join(ws.dir, 'flappy-count');
  repo = ws.remote('flakes');
  repo.write('.tauon.yml', PIPELINE(state, 1));
  firstSha = repo.commitAndPush('flaky tests');
  server = await startServer(ws, path.join(ws.dir, 'data'));
  await server.api('POST', '/repos', { name: 'flakes', url: repo.bare, poll: '1h' });
  browser = await launchBrowser(ws);
  // Run 1: fails, then passes on the retry of the same commit.
  await server.api('POST', '/runs', { repo: 'flakes', ref: 'main' });
  await runTo(1, 'success');
  // Run 2: the known-flaky failure next to a real one.
  repo.write('broken', '');
  repo.write('.tauon.yml', PIPELINE(state, 0));
  repo.commitAndPush('break test_real');
  await server.api('POST', '/runs', { repo: 'flakes', ref: 'main' });
  await runTo(2, 'failed');
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
  if (ws) ws.remove();
  console.log(`screenshots in ${OUT}`);
});

test('a known-flaky failure is shown apart from the real one, with its evidence', async () => {
  const { page } = browser;
  await login(page, server.url, server.token);
  await page.goto(`${server.url}/runs/2`);
  await page.locator('.test-summary', { hasText: '2 failed (1 known flaky)' }).waitFor();
  // The real failure first, as before: red, no badge.
  const real = page.locator('.tests > .test.failed');
  assert.equal(await real.count(), 1);
  assert.match(await real.textContent(), /tests\.test_net::test_real/);
  assert.equal(await real.locator('.flaky-badge').count(), 0);
  // The flaky one in its own section, with the badge and the evidence.
  const section = page.locator('section.flaky-failures');
  assert.match(await section.locator('h3').textContent(), /Known-flaky failures \(1\)/);
  const flaky = section.locator('.test.known-flaky[data-test="test_flappy"]');
  assert.match(await flaky.locator('.flaky-badge').textContent(), /known flaky/);
  assert.equal(await flaky.locator('.flaky-reason').textContent(), 'passed and failed on the same commit');
  const evidence = flaky.locator('.flaky-evidence');
  assert.equal(await evidence.locator('a[href="/runs/1"]').textContent(), '#1');
  assert.equal(await evidence.locator('.mono').getAttribute('title'), firstSha.slice(0, 12));
  assert.match(await flaky.locator('.test-message').textContent(), /unlucky invocation 3/);
  // Its history: passed in run 1 (the retry), a known-flaky failure now.
  const cells = flaky.locator('.history .cell');
  assert.equal(await cells.count(), 2);
  assert.match(await cells.nth(1).getAttribute('class'), /status-failed known-flaky current/);
  assert.match(await cells.nth(1).getAttribute('title'), /known flaky/);
  await screenshot(page, '01-run-known-flaky');
});

test('a rerun that reuses the quarantined job still shows its flaky failure apart', async () => {
  const { page } = browser;
  repo.write('lint-broken', '');
  rmSync(path.join(repo.work, 'broken'));
  repo.commitAndPush('break lint');
  writeFileSync(state, '0\n');  // The next invocation is odd: test_flappy fails, quarantined.
  await server.api('POST', '/runs', { repo: 'flakes', ref: 'main' });
  await runTo(3, 'failed');
  const rerun = await server.api('POST', '/runs/3/rerun', { failed: true });
  assert.equal(rerun.id, 4);
  await runTo(4, 'failed');
  await page.goto(`${server.url}/runs/4`);
  await page.locator('.test-summary', { hasText: '1 failed (1 known flaky)' }).waitFor();
  assert.equal(await page.locator('.tests > .test.failed').count(), 0, 'no real failure');
  const flaky = page.locator('section.flaky-failures .test.known-flaky[data-test="test_flappy"]');
  assert.equal(await flaky.locator('.flaky-reason').textContent(), 'passed and failed on the same commit');
  await screenshot(page, '02-rerun-known-flaky');
});

test('the repository lists its flaky tests with their evidence', async () => {
  const { page } = browser;
  await page.goto(`${server.url}/`);
  await page.locator('section[data-repo="flakes"] a', { hasText: 'Flaky tests' }).click();
  await page.waitForURL(`${server.url}/repos/flakes/flaky-tests`);
  const row = page.locator('table.flaky-tests tr[data-test="tests.test_net::test_flappy"]');
  await row.waitFor();
  assert.equal(await page.locator('table.flaky-tests tbody tr').count(), 1);
  assert.match(await row.textContent(), /passed and failed on the same commit/);
  assert.equal(await row.locator('a[href="/runs/1"]').count(), 1);
  assert.match(await row.textContent(), /3\/4/);  // Failures over executions, the reused copy not counted.
  assert.equal(await page.locator('nav a[data-nav=home].active').count(), 1);
  await screenshot(page, '03-repo-flaky-tests');
  // An unknown repository is an error.
  await page.goto(`${server.url}/repos/nope/flaky-tests`);
  await page.locator('.error', { hasText: "no repository named 'nope'" }).waitFor();
  assert.deepEqual(browser.errors.filter((e) => !/401|404|Failed to load resource/.test(e)), []);
});

test('the repository lists its tests most likely to fail first, with the reasons', async () => {
  const { page } = browser;
  await page.goto(`${server.url}/repos/flakes/flaky-tests`);
  await page.locator('a', { hasText: 'All tests, most likely to fail first' }).click();
  await page.waitForURL(`${server.url}/repos/flakes/tests`);
  // Only the job with test results, in its next run's order.
  const section = page.locator('section[data-job="test"]');
  await section.waitFor();
  assert.equal(await page.locator('section[data-job]').count(), 1, 'the lint job has no tests');
  assert.match(await section.locator('h2').textContent(), /2 tests from 4 runs/);
  const rows = section.locator('table.test-ranking tbody tr');
  assert.deepEqual(await rows.evaluateAll((trs) => trs.map((tr) => tr.dataset.test)),
    ['tests.test_net::test_flappy', 'tests.test_net::test_real']);
  const flappy = rows.nth(0);
  assert.match(await flappy.getAttribute('class'), /last-failed/);
  assert.equal(await flappy.locator('.flaky-badge').getAttribute('title'), 'passed and failed on the same commit');
  assert.equal(await flappy.locator('td').nth(2).textContent(), '3/4');
  assert.equal(await flappy.locator('.reasons').textContent(),
    'failed last run; failure rate 3/4; flaky: passed and failed on the same commit');
  const real = rows.nth(1);
  assert.equal(await real.locator('.flaky-badge').count(), 0);
  assert.equal(await real.locator('td').nth(2).textContent(), '1/4');
  assert.equal(await real.getAttribute('class'), null);
  assert.equal(await real.locator('.reasons').textContent(), 'last failed 2 runs ago; failure rate 1/4');
  assert.equal(await page.locator('nav a[data-nav=home].active').count(), 1);
  await screenshot(page, '04-repo-test-ranking');
  // The home page links to it.
  await page.goto(`${server.url}/`);
  await page.locator('section[data-repo="flakes"] a', { hasText: 'Tests most likely to fail' }).click();
  await page.waitForURL(`${server.url}/repos/flakes/tests`);
  await page.locator('section[data-job="test"]').waitFor();
  // A repository without test results says so.
  await server.api('POST', '/repos', { name: 'quiet', url: repo.bare, poll: '1h' });
  await page.goto(`${server.url}/repos/quiet/tests`);
  await page.locator('.no-tests', { hasText: 'No test results yet' }).waitFor();
  // An unknown repository is an error.
  await page.goto(`${server.url}/repos/nope/tests`);
  await page.locator('.error', { hasText: "no repository named 'nope'" }).waitFor();
  assert.deepEqual(browser.errors.filter((e) => !/401|404|Failed to load resource/.test(e)), []);
});
