// The dashboard in a real browser (Debian's Chromium through playwright-core)
// against a real `tauon serve` polling a real git repository:
// - a wrong token is refused on the login form;
// - a pushed commit's run appears in the live runs list, goes running ->
//   success on its page with log lines arriving while it runs (ANSI colours
//   rendered, in-log search), its DAG drawn, its artifacts downloadable;
// - a failing job shows its failing test, message and history strip;
// - the API routes behind the dashboard, and how its files are served;
// - Cancel on a running run's page stops it (no step process left), Rerun
//   opens the new run;
// - the Models page shows registered versions, metric charts, a comparison
//   and lineage;
// - the repositories page shows branches with their latest status.
// Screenshots go to $TAUON_BROWSER_OUT.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { workspace, startServer, launchBrowser, screenshot, login, waitFor, OUT } from './lib.js';

// The steps print slowly so that the test sees the run while it runs.
const PIPELINE = (testBody, extra = '') => `name: web
on:
  push: { branches: [main] }
jobs:
  lint:
    steps:
      - run: printf '\\033[32mlint ok\\033[0m\\n'
  test:
    steps:
      - name: unit tests
        run: |
          mkdir -p out
          cat > out/junit.xml <<'XML'
          ${testBody}
          XML
          grep -q '<failure' out/junit.xml && { echo 'tests failed'; exit 1; }
          echo 'tests passed'
    reports: { junit: out/junit.xml }
  build:
    needs: [lint, test]
    steps:
      - name: compile
        run: |
          for i in $(seq 1 12); do echo "build line $i"; sleep 0.5; done
          printf '\\033[1;34mbuilt\\033[0m\\n'
          mkdir -p out/dist && echo 'hello from the artifact' > out/dist/greeting.txt
    artifacts: [out/dist/]
${extra}`;

const PASSING = `<testsuite name="unit"><testcase classname="tests.test_greet" name="test_greet" time="0.01"/><testcase classname="tests.test_greet" name="test_other" time="0.02"/></testsuite>`;
const FAILING = `<testsuite name="unit"><testcase classname="tests.test_greet" name="test_greet" time="0.01"><failure message="AssertionError: expected hello, got hi">assert greet() == 'hello'</failure></testcase><testcase classname="tests.test_greet" name="test_other" time="0.02"/></testsuite>`;

let ws;
let server;
let browser;
let repo;

before(async () => {
  ws = workspace('dashboard');
  repo = ws.remote('hello');
  repo.write('.tauon.yml', PIPELINE(PASSING));
  repo.commitAndPush('initial commit');
  server = await startServer(ws, path.join(ws.dir, 'data'), ['--max-jobs', '2']);
  await server.api('POST', '/repos', { name: 'hello', url: repo.bare, poll: '1s' });
  browser = await launchBrowser(ws);
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
  if (ws) ws.remove();
  console.log(`screenshots in ${OUT}`);
});

// Whether process `pid` exists (and is not a zombie).
function alive(pid) {
  try {
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

const status = (page) => page.locator('.run-header h1 .badge').textContent();

test('a wrong token is refused with an error', async () => {
  const { page } = browser;
  await page.goto(`${server.url}/runs`);
  await page.fill('#token', 'not-the-token');
  await page.click('form.login button[type=submit]');
  const error = page.locator('form.login .error');
  await error.waitFor({ state: 'visible' });
  assert.match(await error.textContent(), /Wrong token/);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('tauon.token')), null);
  await screenshot(page, '01-login-wrong-token');
});

test('a pushed commit appears, runs live and succeeds', async () => {
  const { page } = browser;
  await login(page, server.url, server.token);
  await page.click('nav a[data-nav=runs]');
  await page.waitForSelector('table.runs');
  repo.write('README.md', 'hello\n');
  repo.commitAndPush('Add a greeting');
  // The runs list polls: the row appears without a reload.
  const row = page.locator('tr[data-run="1"]');
  await row.waitFor({ timeout: 20000 });
  assert.match(await row.textContent(), /Add a greeting/);
  await screenshot(page, '02-runs-list');
  await row.locator('a').first().click();
  await page.waitForSelector('svg.dag');
  // Live: a log line of the build job while the run is still running.
  await page.click('g.dag-node[data-job="build"]');
  await page.locator('pre.log .line', { hasText: 'build line' }).first().waitFor({ timeout: 20000 });
  const first = await page.locator('pre.log .line').count();
  assert.equal((await status(page)).trim(), '● running', 'the run runs while its lines arrive');
  assert.equal(await page.locator('pre.log .line', { hasText: 'built' }).count(), 0, 'not every line is in yet');
  await waitFor('more lines', async () => (await page.locator('pre.log .line').count()) > first, 20000);
  await screenshot(page, '03-run-live');
  await waitFor('the run to succeed', async () => (await status(page)).includes('success'));
  // Every job in the DAG, with edges by needs.
  assert.equal(await page.locator('g.dag-node').count(), 3);
  assert.equal(await page.locator('path.dag-edge').count(), 2);
  assert.equal(await page.locator('g.dag-node.status-success').count(), 3);
  // ANSI colours are rendered, not printed.
  const built = page.locator('pre.log .line', { hasText: 'built' });
  assert.equal(await built.locator('span.ansi-fg-12, span.ansi-fg-4').count(), 1);
  assert.doesNotMatch(await built.textContent(), /\[1;34m/);
  // In-log search.
  await page.fill('.log-search', 'line 3');
  await page.locator('.search-status', { hasText: '1 matching line' }).waitFor();
  assert.equal(await page.locator('pre.log .line:not([hidden]) mark').count(), 1);
  await page.fill('.log-search', '');
  // Tests and artifacts, after the run ends.
  await page.locator('.test-summary', { hasText: '0 failed, 2 passed' }).waitFor();
  const artifact = page.locator('a.artifact[data-path="out/dist/greeting.txt"]');
  await artifact.waitFor();
  const [download] = await Promise.all([page.waitForEvent('download'), artifact.click()]);
  assert.equal(download.suggestedFilename(), 'greeting.txt');
  assert.equal(readFileSync(await download.path(), 'utf8'), 'hello from the artifact\n');
  await screenshot(page, '04-run-success');
});

test('a failing job shows its failing test and message', async () => {
  const { page } = browser;
  repo.write('.tauon.yml', PIPELINE(FAILING));
  repo.commitAndPush('Shorter greeting');
  await waitFor('run 2', async () => (await server.api('GET', '/runs?limit=1')).runs[0]?.id === 2);
  await page.goto(`${server.url}/runs/2`);
  await waitFor('run 2 to fail', async () => (await status(page)).includes('failed'), 30000);
  // The failed job is selected, its failing step open.
  assert.match(await page.locator('.job-panel h2').textContent(), /test/);
  const failed = page.locator('.test.failed');
  await failed.waitFor();
  assert.match(await failed.textContent(), /tests\.test_greet::test_greet/);
  assert.match(await failed.locator('.test-message').textContent(), /AssertionError: expected hello, got hi/);
  // History strip: passed in run 1, failed in run 2 (this run, outlined).
  const cells = failed.locator('.history .cell');
  assert.equal(await cells.count(), 2);
  assert.match(await cells.nth(0).getAttribute('class'), /status-passed/);
  assert.match(await cells.nth(1).getAttribute('class'), /status-failed.*current/);
  assert.match(await page.locator('.test-summary').textContent(), /1 failed, 1 passed/);
  assert.equal(await page.locator('g.dag-node[data-job="build"].status-skipped').count(), 1);
  await screenshot(page, '05-run-failed-test');
});

test('the API routes behind the dashboard, and how its files are served', async () => {
  const branches = await server.api('GET', '/branches');
  assert.deepEqual(branches.branches.map((b) => [b.repo, b.branch, b.run.id, b.run.status]),
    [['hello', 'main', 2, 'failed']]);
  const stats = await server.api('GET', '/stats/runs?limit=10');
  assert.deepEqual(stats.runs.map((r) => [r.id, r.status, r.tests]), [
    [1, 'success', { total: 2, passed: 2, failed: 0, flaky_failed: 0, skipped: 0 }],
    [2, 'failed', { total: 2, passed: 1, failed: 1, flaky_failed: 0, skipped: 0 }],
  ]);
  assert.ok(stats.runs.every((r) => r.duration_ms >= 0 && r.created_at.endsWith('Z')));
  const history = await server.api('GET', '/runs/2/tests/history?limit=5');
  assert.deepEqual(history.runs, [2, 1]);
  assert.deepEqual(history.tests.map((t) => [t.job, t.classname, t.name, t.history.map((v) => `${v.run_id}:${v.status}`)]), [
    ['test', 'tests.test_greet', 'test_greet', ['2:failed', '1:passed']],
    ['test', 'tests.test_greet', 'test_other', ['2:passed', '1:passed']],
  ]);
  const get = (p, headers = {}) => fetch(`${server.url}${p}`, { headers: { Authorization: `Bearer ${server.token}`, ...headers } });
  let response = await get('/api/v1/stats/runs?limit=0');
  assert.equal(response.status, 400);
  assert.deepEqual(await response.json(), { error: "invalid limit '0': expected 1 to 500" });
  response = await get('/api/v1/runs/99/tests/history');
  assert.equal(response.status, 404);
  assert.deepEqual(await response.json(), { error: 'no run 99' });
  response = await get('/api/v1/runs/2/tests/history?limit=101');
  assert.equal(response.status, 400);
  response = await fetch(`${server.url}/api/v1/branches`);
  assert.equal(response.status, 401, 'the routes need the token');
  // Pages are the app (no token needed for files); unknown files and API paths are 404.
  response = await fetch(`${server.url}/runs/2`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type'), /^text\/html/);
  assert.match(await response.text(), /<script type="module" src="\/app.js">/);
  response = await fetch(`${server.url}/vendor/uplot.esm.js`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type'), /^text\/javascript/);
  const etag = response.headers.get('etag');
  response = await fetch(`${server.url}/vendor/uplot.esm.js`, { headers: { 'If-None-Match': etag } });
  assert.equal(response.status, 304);
  for (const p of ['/nope.js', '/api/v1/nope']) {
    response = await get(p);
    assert.equal(response.status, 404, p);
    assert.deepEqual(await response.json(), { error: `not found: ${p}` });
  }
});

test('cancel from the page stops a running run', async () => {
  const { page } = browser;
  repo.write('.tauon.yml', `name: slow
on:
  push: { branches: [main] }
jobs:
  wait:
    steps:
      - run: echo "$$" > "${ws.dir}/slow-$TAUON_RUN_ID.pid"; echo 'waiting'; exec sleep 120
`);
  repo.commitAndPush('Slow job');
  await waitFor('run 3', async () => (await server.api('GET', '/runs?limit=1')).runs[0]?.id === 3);
  await page.goto(`${server.url}/runs/3`);
  await page.locator('pre.log .line', { hasText: 'waiting' }).waitFor({ timeout: 20000 });
  await page.click('#cancel');
  await waitFor('run 3 to be cancelled', async () => (await status(page)).includes('cancelled'), 20000);
  assert.equal((await server.api('GET', '/runs/3')).status, 'cancelled');
  assert.ok(!alive(Number(readFileSync(path.join(ws.dir, 'slow-3.pid'), 'utf8'))), 'the step\'s process is gone');
  assert.equal(await page.locator('#cancel').count(), 0);
  await screenshot(page, '06-run-cancelled');
  // Rerun opens the new run's page; cancelled again from there.
  await page.click('#rerun');
  await page.waitForURL(`${server.url}/runs/4`);
  await page.locator('pre.log .line', { hasText: 'waiting' }).waitFor({ timeout: 20000 });
  assert.equal((await server.api('GET', '/runs/4')).status, 'running');
  await page.click('#cancel');
  await waitFor('run 4 to be cancelled', async () => (await status(page)).includes('cancelled'), 20000);
});

test('the Models page shows registered versions, metric charts and lineage', async () => {
  const { page } = browser;
  const modelPipeline = (accuracy) => `name: model
on:
  push: { branches: [main] }
jobs:
  train:
    steps:
      - run: mkdir -p out/model && echo 'weights ${accuracy}' > out/model/weights.bin
    artifacts: [out/model/]
  evaluate:
    needs: [train]
    steps:
      - run: |
          mkdir -p out
          echo '{"accuracy": ${accuracy}, "latency": {"p95_ms": 2}}' > out/metrics.json
    metrics: out/metrics.json
    gates:
      - accuracy >= 0.5
model:
  name: greeter
  path: out/model/
`;
  repo.write('.tauon.yml', modelPipeline(0.9));
  repo.commitAndPush('A model');
  await waitFor('model version 1', async () => (await server.api('GET', '/models')).models.length === 1, 30000);
  repo.write('.tauon.yml', modelPipeline(0.95));
  repo.commitAndPush('A better model');
  await waitFor('model version 2', async () => (await server.api('GET', '/models')).models.length === 2, 30000);
  await server.api('POST', '/models/greeter@2/aliases', { alias: 'production' });
  await page.click('nav a[data-nav=models]');
  const row = page.locator('tr[data-model="greeter"]');
  await row.waitFor();
  assert.match(await row.textContent(), /greeter\s*2\s*v2\s*production → v2/);
  await screenshot(page, '07-models');
  await row.locator('a').first().click();
  await page.locator('tr[data-version="2"]').waitFor();
  assert.match(await page.locator('tr[data-version="2"]').textContent(), /production/);
  const chart = page.locator('.chart[data-metric="accuracy"] canvas');
  await chart.waitFor();
  assert.equal(await page.locator('.chart[data-metric="latency.p95_ms"]').count(), 1);
  // Compared: v1 with v2 (the latest) by default.
  const accuracy = page.locator('.compare tr[data-metric="accuracy"]');
  await accuracy.waitFor();
  assert.match(await accuracy.textContent(), /0\.9000\s*0\.9500\s*\+0\.05000/);
  await screenshot(page, '08-model-versions');
  await page.click('tr[data-version="1"] a');
  await page.locator('.lineage').waitFor();
  const lineage = await page.locator('.lineage').textContent();
  assert.match(lineage, /Run #\d+/);
  assert.match(lineage, /evaluate/);
  assert.match(lineage, /weights\.bin/);
  await screenshot(page, '09-model-lineage');
});

test('the repositories page shows branches with their latest status', async () => {
  const { page } = browser;
  await page.click('nav a[data-nav=home]');
  const main = page.locator('section[data-repo="hello"] tr[data-branch="main"]');
  await main.waitFor();
  assert.match(await main.textContent(), /success/);
  await page.locator('#duration-chart canvas').waitFor();
  await page.locator('#tests-chart canvas').waitFor();
  await screenshot(page, '10-repositories');
  assert.deepEqual(browser.errors.filter((e) => !/401|Failed to load resource/.test(e)), []);
});
