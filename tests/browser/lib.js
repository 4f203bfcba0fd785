// Helpers for the dashboard's browser tests: a temp dir, git repositories,
// a real `tauon serve` on 127.0.0.1, and Debian's Chromium driven by
// playwright-core. Environment (set by ctest, see CMakeLists.txt):
//   TAUON               the binary (default: build/tauon)
//   TAUON_BROWSER_OUT   where screenshots and figures go (default: a temp dir)
//   TAUON_CHROMIUM      the browser (default: /usr/bin/chromium)
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const SOURCE_DIR = path.resolve(here, '../..');
export const TAUON = path.resolve(process.env.TAUON || path.join(SOURCE_DIR, 'build/tauon'));
export const CHROMIUM = process.env.TAUON_CHROMIUM || '/usr/bin/chromium';
export const OUT = process.env.TAUON_BROWSER_OUT || mkdtempSync(path.join(tmpdir(), 'tauon-browser-out.'));
mkdirSync(OUT, { recursive: true });

if (!existsSync(TAUON)) throw new Error(`TAUON=${TAUON} is not built (build it, or set TAUON)`);
if (!existsSync(CHROMIUM)) {
  throw new Error(`${CHROMIUM} is missing: install Debian's chromium (scripts/install-deps.sh does)`);
}

// A fresh temp dir with a git config of its own; remove() at the end.
export function workspace(name) {
  const dir = mkdtempSync(path.join(tmpdir(), `tauon-browser.${name}.`));
  const gitconfig = path.join(dir, 'gitconfig');
  writeFileSync(gitconfig, '[user]\n\tname = Ada Lovelace\n\temail = ada@example.com\n[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n');
  const env = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: gitconfig };
  delete env.TAUON_DATA_DIR;
  const git = (cwd, ...args) => execFileSync('git', args, { cwd, env, encoding: 'utf8', timeout: 30000 }).trim();
  return {
    dir,
    env,
    git,
    // A bare repository and a clone to commit and push from.
    remote(repoName) {
      const bare = path.join(dir, `${repoName}.git`);
      const work = path.join(dir, repoName);
      git(dir, 'init', '-q', '--bare', '-b', 'main', bare);
      git(dir, 'clone', '-q', bare, work);
      git(work, 'symbolic-ref', 'HEAD', 'refs/heads/main');
      return {
        bare,
        work,
        write(file, text) {
          const target = path.join(work, file);
          mkdirSync(path.dirname(target), { recursive: true });
          writeFileSync(target, text);
        },
        commitAndPush(message) {
          git(work, 'add', '-A');
          git(work, 'commit', '-q', '--allow-empty', '-m', message);
          git(work, 'push', '-q', 'origin', 'HEAD');
          return git(work, 'rev-parse', 'HEAD');
        },
      };
    },
    remove() {
      if (process.env.TAUON_BROWSER_KEEP) {
        console.log(`kept ${dir}`);
        return;
      }
      try { execFileSync('chmod', ['-R', 'u+w', dir]); } catch { /* best effort */ }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Polls `check` (async, truthy when done) every 100 ms for up to `ms`.
export async function waitFor(what, check, ms = 30000) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await check();
      if (last) return last;
    } catch (error) {
      last = error;
    }
    await sleep(100);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what} (last: ${last})`);
}

// `tauon serve` on a free port of 127.0.0.1 with the data dir `data`.
export async function startServer(ws, data, extraArgs = []) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const log = path.join(ws.dir, `server-${port}.log`);
  writeFileSync(log, '');
  const child = spawn(TAUON, ['--data-dir', data, 'serve', '--listen', `127.0.0.1:${port}`, ...extraArgs], {
    env: ws.env, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = [];
  child.stdout.on('data', (chunk) => output.push(chunk));
  child.stderr.on('data', (chunk) => output.push(chunk));
  await waitFor(`the server on ${url}`, async () => {
    if (child.exitCode !== null) throw new Error(`tauon serve exited: ${Buffer.concat(output)}`);
    const response = await fetch(`${url}/healthz`);
    return response.ok;
  }, 20000);
  const token = readFileSync(path.join(data, 'token'), 'utf8').trim();
  const api = async (method, apiPath, body) => {
    const response = await fetch(`${url}/api/v1${apiPath}`, {
      method,
      headers: { Authorization: `Bearer ${token}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await response.json();
    if (!response.ok) throw new Error(`${method} ${apiPath}: ${response.status} ${json.error}`);
    return json;
  };
  return {
    url,
    token,
    api,
    output: () => Buffer.concat(output).toString(),
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const deadline = Date.now() + 15000;
      while (child.exitCode === null && Date.now() < deadline) await sleep(50);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

// Chromium with a fresh profile; close() also removes the profile.
export async function launchBrowser(ws) {
  const profile = path.join(ws.dir, 'chromium-profile');
  mkdirSync(profile);
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
    acceptDownloads: true,
    timeout: 60000,
  });
  context.setDefaultTimeout(30000);
  const page = context.pages()[0] || await context.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  page.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()); });
  return { context, page, errors, close: () => context.close() };
}

export async function screenshot(page, name) {
  const file = path.join(OUT, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

// Logs in through the login form.
export async function login(page, url, token) {
  await page.goto(`${url}/`);
  await page.fill('#token', token);
  await page.click('form.login button[type=submit]');
  await page.waitForSelector('#logout:not([hidden])');
}

