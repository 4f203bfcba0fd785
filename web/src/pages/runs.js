// The runs list, newest first, live: the first page is polled every 2 s
// (one small indexed query: ?limit=50), older pages load on demand.

import { api } from '../api.js';
import { rendered, navigate } from '../app.js';
import { h, fill, badge, link, ago, localTime, duration, shortSha, errorBox } from '../util.js';

const PAGE = 50;
const POLL_MS = 2000;
const STATUSES = ['', 'queued', 'running', 'success', 'failed', 'cancelled', 'interrupted'];

function row(run) {
  return h('tr', { 'data-run': run.id, class: `run-row status-${run.status}` },
    h('td', {}, link(`/runs/${run.id}`, `#${run.id}`)),
    h('td', {}, badge(run.status)),
    h('td', {}, run.repo),
    h('td', {}, run.branch),
    h('td', { class: 'mono' }, shortSha(run.commit)),
    h('td', { class: 'ellipsis', title: run.error || run.message }, run.message, run.error ? h('div', { class: 'small error-text' }, run.error) : null),
    h('td', { class: 'ellipsis small' }, run.author.replace(/ <.*>$/, '')),
    h('td', { title: localTime(run.created_at) }, ago(run.created_at)),
    h('td', { class: 'num' }, run.status === 'running' && run.started_at
      ? `${duration(Date.now() - Date.parse(run.started_at))}…` : duration(run.duration_ms)));
}

export function render(main) {
  document.title = 'Runs · Tauon';
  const query = new URLSearchParams(location.search);
  const filters = { repo: query.get('repo') || '', branch: query.get('branch') || '', status: query.get('status') || '' };
  const queryString = (extra = {}) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries({ ...filters, ...extra })) if (v) q.set(k, v);
    return q.toString();
  };

  const applyFilters = () => navigate(`/runs${queryString() ? `?${queryString()}` : ''}`);
  const input = (name, placeholder) => h('input', {
    name, placeholder, value: filters[name], size: 14,
    onchange: (e) => { filters[name] = e.target.value.trim(); applyFilters(); },
  });
  const status = h('select', { name: 'status', onchange: (e) => { filters.status = e.target.value; applyFilters(); } },
    STATUSES.map((s) => h('option', { value: s, selected: s === filters.status }, s || 'any status')));

  const body = h('tbody', {});
  const table = h('table', { class: 'table runs' },
    h('thead', {}, h('tr', {}, ['run', 'status', 'repo', 'branch', 'commit', 'message', 'author', 'created', 'duration'].map((t) => h('th', {}, t)))),
    body);
  const message = h('div', {});
  const more = h('button', { hidden: true, onclick: () => loadOlder() }, 'Load older runs');
  fill(main,
    h('h1', {}, 'Runs'),
    h('form', { class: 'filters', onsubmit: (e) => e.preventDefault() }, input('repo', 'repository'), input('branch', 'branch'), status),
    message, h('div', { class: 'scroll' }, table), more);

  const controller = new AbortController();
  const rows = new Map();  // id -> {run JSON text, tr}
  let olderBefore = null;  // next_before of the last page shown
  let firstPageEnd = null;

  function show(runs, { prepend }) {
    let anchor = prepend ? body.firstChild : null;
    for (const run of runs) {
      const text = JSON.stringify(run);
      const existing = rows.get(run.id);
      if (existing) {
        // Running rows are redrawn for their time so far.
        if (existing.text !== text || run.status === 'running') {
          const tr = row(run);
          existing.tr.replaceWith(tr);
          rows.set(run.id, { text, tr });
        }
        anchor = rows.get(run.id).tr.nextSibling;
        continue;
      }
      const tr = row(run);
      rows.set(run.id, { text, tr });
      body.insertBefore(tr, anchor);
    }
  }

  async function poll() {
    try {
      const page = await api(`/runs?${queryString({ limit: PAGE })}`, { signal: controller.signal });
      fill(message, );
      show(page.runs, { prepend: true });
      if (firstPageEnd === null) {
        firstPageEnd = page.next_before;
        olderBefore = page.next_before;
        more.hidden = olderBefore === null;
      }
      if (!rows.size) fill(message, h('p', { class: 'muted' }, 'No runs yet.'));
      rendered();
    } catch (error) {
      if (error.name !== 'AbortError') fill(message, errorBox(error));
    }
  }

  async function loadOlder() {
    more.disabled = true;
    try {
      const page = await api(`/runs?${queryString({ limit: PAGE, before: olderBefore })}`, { signal: controller.signal });
      show(page.runs, { prepend: false });
      olderBefore = page.next_before;
      more.hidden = olderBefore === null;
    } catch (error) {
      if (error.name !== 'AbortError') fill(message, errorBox(error));
    } finally {
      more.disabled = false;
    }
  }

  poll();
  const timer = setInterval(() => { if (!document.hidden) poll(); }, POLL_MS);
  return () => { controller.abort(); clearInterval(timer); };
}
