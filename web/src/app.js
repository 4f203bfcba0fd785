// The dashboard's shell: login, a client-side router over history.pushState,
// and the pages in pages/*.js. Each page is a module exporting
// `render(main, params) -> cleanup function or undefined`; the cleanup stops
// its timers and streams when the page is left.

import { setToken, token, checkToken, setUnauthorizedHandler } from './api.js';
import { h, fill } from './util.js';

const routes = [
  { pattern: /^\/$/, nav: 'home', load: () => import('./pages/home.js') },
  { pattern: /^\/runs\/?$/, nav: 'runs', load: () => import('./pages/runs.js') },
  { pattern: /^\/runs\/(\d+)$/, nav: 'runs', load: () => import('./pages/run.js'), params: ['id'] },
  { pattern: /^\/repos\/([^/]+)\/flaky-tests$/, nav: 'home', load: () => import('./pages/flaky.js'), params: ['repo'] },
  { pattern: /^\/repos\/([^/]+)\/tests$/, nav: 'home', load: () => import('./pages/tests.js'), params: ['repo'] },
  { pattern: /^\/models\/?$/, nav: 'models', load: () => import('./pages/models.js') },
  { pattern: /^\/models\/([^/]+)$/, nav: 'models', load: () => import('./pages/models.js'), params: ['name'] },
  { pattern: /^\/models\/([^/]+)\/(\d+)$/, nav: 'models', load: () => import('./pages/lineage.js'), params: ['name', 'version'] },
  { pattern: /^\/environments\/?$/, nav: 'environments', load: () => import('./pages/environments.js') },
  { pattern: /^\/environments\/([^/]+)$/, nav: 'environments', load: () => import('./pages/environment.js'), params: ['name'] },
];

const main = document.getElementById('main');
let cleanup = null;
let firstRender = true;

// Marks the first render of page content for the Performance API
// ('tauon:rendered'); the browser test reads it.
export function rendered() {
  if (firstRender) {
    firstRender = false;
    performance.mark('tauon:rendered');
  }
}

function leave() {
  if (cleanup) {
    try { cleanup(); } catch (error) { console.error(error); }
    cleanup = null;
  }
}

function showLogin(message) {
  leave();
  setToken(null);
  document.getElementById('logout').hidden = true;
  document.title = 'Log in · Tauon';
  const input = h('input', {
    id: 'token', name: 'token', type: 'password', autocomplete: 'off', required: true,
    placeholder: '64 hex digits', size: 70,
  });
  const error = h('div', { class: 'error', role: 'alert', hidden: !message }, message || '');
  const button = h('button', { type: 'submit' }, 'Log in');
  const form = h('form', {
    class: 'login',
    onsubmit: async (event) => {
      event.preventDefault();
      button.disabled = true;
      error.hidden = true;
      try {
        const value = input.value.trim();
        if (await checkToken(value)) {
          setToken(value);
          route();
        } else {
          error.textContent = 'Wrong token: the server refused it. It is in the file "token" of the server\'s data directory.';
          error.hidden = false;
        }
      } catch (failure) {
        error.textContent = `Cannot reach the server: ${failure.message}`;
        error.hidden = false;
      } finally {
        button.disabled = false;
      }
    },
  },
  h('h1', {}, 'Log in to Tauon'),
  h('p', { class: 'muted' }, 'Paste the API token (the file "token" in the server\'s data directory). It is kept in this browser tab only.'),
  h('label', { for: 'token' }, 'API token'), input, button, error);
  fill(main, form);
  input.focus();
  rendered();
}

async function route() {
  leave();
  if (!token()) {
    showLogin();
    return;
  }
  document.getElementById('logout').hidden = false;
  const path = location.pathname;
  const found = routes.find((r) => r.pattern.test(path));
  for (const a of document.querySelectorAll('[data-nav]')) {
    a.classList.toggle('active', found && a.dataset.nav === found.nav);
  }
  if (!found) {
    fill(main, h('h1', {}, 'Not found'), h('p', {}, `No page at ${path}.`));
    rendered();
    return;
  }
  const match = path.match(found.pattern);
  const params = {};
  (found.params || []).forEach((name, i) => { params[name] = decodeURIComponent(match[i + 1]); });
  const page = await found.load();
  if (location.pathname !== path) return;  // Navigated away while loading.
  cleanup = page.render(main, params) || null;
}

export function navigate(href) {
  history.pushState(null, '', href);
  route();
  window.scrollTo(0, 0);
}

document.addEventListener('click', (event) => {
  const a = event.target.closest('a[data-route]');
  if (!a || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
  event.preventDefault();
  navigate(a.getAttribute('href'));
});
window.addEventListener('popstate', route);
document.getElementById('logout').addEventListener('click', () => showLogin());
setUnauthorizedHandler(() => showLogin('The server refused the token: log in again.'));
route();
