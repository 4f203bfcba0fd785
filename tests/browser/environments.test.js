// The Environments pages in a real browser (Debian's Chromium through
// playwright-core) against a real `tauon serve` whose replicas are real
// python3 HTTP servers:
// - a deploy appears live in the environments list;
// - an environment's page shows its ready replicas, weights, the traffic of
//   requests sent to its router (table and live charts), a replica's log;
// - a canary in progress shows its weights, its analysis (checks and a
//   command provider's values), and Promote
//   (with a confirmation) makes it the live release; Abort rolls one back;
// - a blue-green release in preview shows its preview URL, and Promote
//   switches the traffic to it;
// - leaving the page stops its polling.
// Screenshots go to $TAUON_BROWSER_OUT.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { workspace, startServer, launchBrowser, screenshot, login, waitFor, sleep, TAUON, OUT } from './lib.js';

const run = promisify(execFile);

const SERVE = `import http.server, json, os
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        body = json.dumps({"model": os.environ["TAUON_MODEL"]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        if self.path != "/healthz":
            print("request", self.path, flush=True)
print("serving", os.environ["TAUON_MODEL"], flush=True)
http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
`;

// One canary step without a pause: a second release waits for Promote.
const PIPELINE = `jobs:
  train:
    steps:
      - run: mkdir -p out/model && echo weights > out/model/weights.bin
    artifacts: [out/model/]
model: { name: tiny, path: out/model/ }
deploy:
  serve:
    command: exec python3 serve.py
    readiness: { http: /healthz, period: 100ms }
    stop_timeout: 2s
  environments:
    staging:
      replicas: 2
      strategy:
        canary:
          steps: [ { weight: 50 } ]
          analysis:
            interval: 500ms
            min_requests: 1
            checks: [ error_rate < 0.5 ]
            providers: [ { command: { name: probe, run: 'printf ''{"ok": 1}''' } } ]
    production:
      replicas: 1
      strategy:
        blue_green: { auto_promote: false, scale_down_delay: 0 }
`;

let ws;
let server;
let browser;
let data;

// `tauon ARGS` on the server's data dir.
const tauon = (...args) => run(TAUON, ['--data-dir', data, ...args], { env: ws.env, timeout: 60000 });

// GETs /predict on the environment's router `count` times.
async function requests(url, count) {
  for (let i = 0; i < count; i++) {
    const response = await fetch(`${url}/predict`);
    assert.equal(response.status, 200);
    await response.text();
  }
}

before(async () => {
  ws = workspace('environments');
  data = path.join(ws.dir, 'data');
  const repo = ws.remote('tiny');
  repo.write('serve.py', SERVE);
  repo.write('.tauon.yml', PIPELINE);
  repo.commitAndPush('tiny model');
  await tauon('run', repo.work);  // tiny@1
  repo.commitAndPush('tiny model, again');
  await tauon('run', repo.work);  // tiny@2
  server = await startServer(ws, data);
  browser = await launchBrowser(ws);
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
  if (ws) ws.remove();
  console.log(`screenshots in ${OUT}`);
});

test('a deploy appears live in the environments list', async () => {
  const { page } = browser;
  await login(page, server.url, server.token);
  await page.click('nav a[data-nav=environments]');
  await page.locator('main p', { hasText: 'No environment yet' }).waitFor();
  const { stdout } = await tauon('--server', server.url, 'deploy', 'staging', '--model', 'tiny@1');
  assert.match(stdout, /release 1 is live in staging/);
  // The list polls: the environment appears without a reload.
  const row = page.locator('tr[data-environment="staging"]');
  await row.waitFor({ timeout: 10000 });
  await waitFor('2 ready replicas in the list', async () => (await row.locator('.ready').textContent()) === '2/2', 10000);
  const text = await row.textContent();
  assert.match(text, /tiny@1/);
  assert.match(text, /live/);
  assert.match(text, /tiny@1 100%/);
  assert.match(text, /http:\/\/127\.0\.0\.1:\d+/);
  await screenshot(page, '01-environments');
});

test('an environment shows its replicas, weights, traffic and a replica\'s log', async () => {
  const { page } = browser;
  const environment = await server.api('GET', '/environments/staging');
  await page.click('tr[data-environment="staging"] a');
  await page.locator('.summary .ready', { hasText: '2/2' }).waitFor();
  assert.match(await page.locator('.summary .phase').textContent(), /live/);
  assert.match(await page.locator('.summary .strategy').textContent(), /canary/);
  assert.match(await page.locator('.weight[data-ref="tiny@1"]').textContent(), /100%/);
  const replicas = page.locator('.replica-table tbody tr');
  assert.equal(await replicas.count(), 2);
  for (const r of environment.replicas) {
    const row = page.locator(`.replica-table tr[data-replica="${r.name}"]`);
    const text = await row.textContent();
    assert.match(text, /ready/);
    assert.ok(text.includes(String(r.pid)) && text.includes(String(r.port)), `${r.name}: pid and port shown`);
  }
  await requests(environment.url, 30);
  // The page polls: the requests show in the traffic table, then the charts.
  const flow = page.locator('.traffic-table tr[data-version="tiny@1"]');
  await waitFor('30 requests in the traffic table', async () => Number(await flow.locator('.total').textContent()) >= 30, 10000);
  assert.ok(Number(await flow.locator('.class-2xx').textContent()) >= 30);
  assert.ok(Number(await flow.locator('.rate').textContent()) > 0, 'a request rate');
  assert.notEqual((await flow.locator('.p95').textContent()).trim(), '–', 'a p95 latency');
  await page.locator('#rate-chart canvas').waitFor();
  await page.locator('#latency-chart canvas').waitFor();
  assert.match(await page.locator('#rate-chart .u-legend').textContent(), /tiny@1/);
  assert.match(await flow.textContent(), /stable/);
  await sleep(2500);  // A few samples in the charts.
  await screenshot(page, '02-environment');
  // A replica's log.
  await page.click('.replica-table tr[data-replica="r1"] a.replica-log');
  const log = page.locator('pre.replica-log-text');
  await log.filter({ hasText: 'serving tiny@1' }).waitFor();
  assert.match(await log.textContent(), /request \/predict/);
  await screenshot(page, '03-replica-log');
});

test('a canary shows its weights and analysis, and Promote makes it live', async () => {
  const { page } = browser;
  const environment = await server.api('POST', '/environments/staging/deploy', { model: 'tiny@2' });
  assert.equal(environment.release, 2);
  await page.locator('#promote').waitFor({ timeout: 15000 });
  assert.equal(await page.locator('#abort').count(), 1);
  assert.match(await page.locator('.summary .strategy').textContent(), /step 1 of 1: 50% of traffic/);
  await page.locator('.weight[data-ref="tiny@2"]', { hasText: '50%' }).waitFor();
  assert.match(await page.locator('.weight[data-ref="tiny@1"]').textContent(), /50%/);
  // Traffic for both releases, and the canary's analysis intervals.
  await waitFor('an analysis interval that passed', async () => {
    await requests(environment.url, 10);
    return (await page.locator('.analysis-table .verdict .badge.status-pass').count()) > 0;
  }, 15000);
  assert.match(await page.locator('.analysis-table').textContent(), /error_rate < 0\.5 \(error_rate=0\)/);
  // An analysis provider's values, after the checks.
  assert.match(await page.locator('.analysis-table').textContent(), /ok command 'probe' \(probe\.ok=1\)/);
  const canary = page.locator('.traffic-table tr[data-version="tiny@2"]');
  assert.match(await canary.textContent(), /canary/);
  await waitFor('the canary\'s requests in the traffic table', async () => Number(await canary.locator('.total').textContent()) > 0, 5000);
  await waitFor('both releases in the rate chart', async () => /tiny@2/.test(await page.locator('#rate-chart .u-legend').textContent()), 5000);
  await screenshot(page, '04-canary');
  // Promote asks first; a dismissed confirmation changes nothing.
  page.once('dialog', (dialog) => dialog.dismiss());
  await page.click('#promote');
  assert.equal((await server.api('GET', '/environments/staging')).phase, 'canary');
  page.once('dialog', (dialog) => dialog.accept());
  await page.click('#promote');
  await page.locator('.info', { hasText: 'release 2' }).waitFor();
  await page.locator('.summary .phase', { hasText: 'live' }).waitFor({ timeout: 10000 });
  assert.match(await page.locator('.summary .model').textContent(), /tiny@2/);
  await page.locator('.weight[data-ref="tiny@2"]', { hasText: '100%' }).waitFor();
  assert.equal(await page.locator('#promote').count(), 0);
  assert.equal(await page.locator('#abort').count(), 0);
  await sleep(2500);  // Charts keep a line per version, none for the canary's empty slot.
  assert.doesNotMatch(await page.locator('#rate-chart .u-legend').textContent(), /Value/);
  assert.match(await page.locator('.release-table tr[data-release="1"]').textContent(), /superseded/);
  assert.ok(await page.locator('.event-table tr[data-what="live"]').count() > 0);
  await screenshot(page, '05-promoted');
});

test('Abort rolls a canary back', async () => {
  const { page } = browser;
  const environment = await server.api('POST', '/environments/staging/deploy', { model: 'tiny@1' });
  assert.equal(environment.release, 3);
  await page.locator('#abort').waitFor({ timeout: 15000 });
  page.once('dialog', (dialog) => dialog.accept());
  await page.click('#abort');
  await page.locator('.release-table tr[data-release="3"]', { hasText: 'failed' }).waitFor({ timeout: 10000 });
  await page.locator('.weight[data-ref="tiny@2"]', { hasText: '100%' }).waitFor();
  assert.equal(await page.locator('#abort').count(), 0);
  assert.ok(await page.locator('.event-table tr[data-what="rolled-back"]').count() > 0);
  await screenshot(page, '06-aborted');
});

test('a blue-green release waits behind its preview, and Promote switches to it', async () => {
  const { page } = browser;
  const { stdout } = await tauon('--server', server.url, 'deploy', 'production', '--model', 'tiny@1');
  assert.match(stdout, /is live in production: tiny@1/);
  const environment = await server.api('POST', '/environments/production/deploy', { model: 'tiny@2' });
  await page.goto(`${server.url}/environments/production`);
  await page.locator('#promote').waitFor({ timeout: 15000 });
  assert.match(await page.locator('.summary .phase').textContent(), /preview/);
  assert.match(await page.locator('.summary .strategy').textContent(), /blue_green/);
  const preview = (await server.api('GET', '/environments/production')).preview_url;
  assert.match(preview, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(await page.locator('.summary .preview a').textContent(), preview);
  // The preview answers with the new version; users still get the old one.
  assert.equal((await (await fetch(`${preview}/predict`)).json()).model, 'tiny@2');
  assert.equal((await (await fetch(`${environment.url}/predict`)).json()).model, 'tiny@1');
  assert.match(await page.locator('.weight[data-ref="tiny@1"]').textContent(), /100%/);
  await screenshot(page, '07-preview');
  page.once('dialog', (dialog) => dialog.accept());
  await page.click('#promote');
  await page.locator('.summary .phase', { hasText: 'live' }).waitFor({ timeout: 10000 });
  assert.match(await page.locator('.summary .model').textContent(), /tiny@2/);
  await page.locator('.weight[data-ref="tiny@2"]', { hasText: '100%' }).waitFor();
  assert.equal((await (await fetch(`${environment.url}/predict`)).json()).model, 'tiny@2');
  await screenshot(page, '08-switched');
});

test('an unknown environment says so', async () => {
  const { page } = browser;
  // A dotted name still loads the app (it is not taken for a file).
  await page.goto(`${server.url}/environments/prod.eu`);
  await page.locator('.error', { hasText: "no environment 'prod.eu'" }).waitFor();
  assert.equal(await page.locator('main h1').textContent(), 'prod.eu');
  await page.goto(`${server.url}/environments/staging`);
  await page.locator('.summary .phase', { hasText: 'live' }).waitFor();
});

test('leaving the page stops its polling', async () => {
  const { page } = browser;
  let polls = 0;
  const count = (request) => { if (request.url().includes('/api/v1/environments/staging')) polls++; };
  page.on('request', count);
  await page.click('nav a[data-nav=models]');
  await page.locator('h1', { hasText: 'Models' }).waitFor();
  polls = 0;
  await sleep(4500);
  page.off('request', count);
  assert.equal(polls, 0, 'no poll of the environment after leaving its page');
  assert.deepEqual(browser.errors.filter((e) => !/401|Failed to load resource/.test(e)), []);
});
