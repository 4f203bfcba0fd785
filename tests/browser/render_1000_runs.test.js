// Time to first render of the dashboard's pages with 1,000 runs in the
// database (seeded through SQLite, see seed_runs.py): the runs list, a run
// page and the repositories page with its charts. Printed and written to
// $TAUON_BROWSER_OUT/render-1000-runs.json; not asserted (figures go to
// bench/README.md). "First render" is the app's performance mark
// 'tauon:rendered', set when a page first shows its data.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { workspace, startServer, launchBrowser, login, screenshot, OUT } from './lib.js';

const RUNS = 1000;
const here = path.dirname(fileURLToPath(import.meta.url));
let ws;
let server;
let browser;

before(async () => {
  ws = workspace('render');
  const data = path.join(ws.dir, 'data');
  server = await startServer(ws, data, ['--max-jobs', '1']);
  const python = '/usr/bin/python3';
  execFileSync(python, [path.join(here, 'seed_runs.py'), path.join(data, 'tauon.db'), String(RUNS)], { timeout: 60000 });
  browser = await launchBrowser(ws);
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
  if (ws) ws.remove();
});

// Loads `url` in a fresh document and returns the time (ms since the
// navigation started) of the 'tauon:rendered' mark and of DOMContentLoaded.
async function measure(page, url, ready) {
  await page.goto(url);
  await page.waitForSelector(ready);
  return page.evaluate(() => {
    const mark = performance.getEntriesByName('tauon:rendered')[0];
    const navigation = performance.getEntriesByType('navigation')[0];
    return {
      first_render_ms: Math.round(mark ? mark.startTime : -1),
      dom_content_loaded_ms: Math.round(navigation.domContentLoadedEventEnd),
    };
  });
}

test(`pages render promptly with ${RUNS} runs`, async () => {
  const { page } = browser;
  assert.equal((await server.api('GET', '/runs?limit=1')).runs[0].id, RUNS);
  await login(page, server.url, server.token);
  const figures = {};
  // Twice each: the first load fills the browser's cache of modules.
  for (const round of ['cold', 'warm']) {
    figures[`runs list (${round})`] = await measure(page, `${server.url}/runs`, `tr[data-run="${RUNS}"]`);
    figures[`run page (${round})`] = await measure(page, `${server.url}/runs/${RUNS}`, '.test-summary');
    figures[`repositories (${round})`] = await measure(page, `${server.url}/`, 'section[data-repo="seeded"]');
  }
  await page.locator('#duration-chart canvas').waitFor();
  await screenshot(page, 'render-1000-runs-repositories');
  await page.goto(`${server.url}/runs/${RUNS}`);
  await page.locator('.test.failed').waitFor();
  await screenshot(page, 'render-1000-runs-run-page');
  for (const [name, figure] of Object.entries(figures)) {
    console.log(`first render, ${name}: ${figure.first_render_ms} ms (DOMContentLoaded ${figure.dom_content_loaded_ms} ms)`);
    assert.ok(figure.first_render_ms >= 0, `${name}: the page set its render mark`);
  }
  writeFileSync(path.join(OUT, 'render-1000-runs.json'), `${JSON.stringify(figures, null, 2)}\n`);
});
