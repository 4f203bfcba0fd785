// One environment (/environments/NAME): the release that serves, its phase
// and strategy, the traffic weights, replicas (and their logs), the router's
// traffic per release with live charts of request rate and p95 latency,
// the canary's analysis, the releases and events; Promote and Abort while a
// release is in progress. Polled every 2 s; the charts' samples are the
// page's own (kept while it is open, the last 10 minutes).

import { api, apiText } from '../api.js';
import { rendered } from '../app.js';
import { h, fill, badge, link, ago, localTime, errorBox } from '../util.js';
import { weightsText, readyCount } from './environments.js';

const REFRESH_MS = 2000;
const MAX_SAMPLES = 300;
const WEIGHT_COLORS = ['#0969da', '#bc4c00', '#8250df', '#2da44e', '#cf222e', '#8c959f'];

function number(value, digits = 1) {
  if (value === null || value === undefined) return '–';
  return Number.isInteger(value) ? String(value) : Number(value).toFixed(digits);
}

function table(className, headings, rows) {
  return h('div', { class: 'scroll' }, h('table', { class: `table ${className}` },
    h('thead', {}, h('tr', {}, headings.map((t) => h('th', {}, t)))),
    h('tbody', {}, rows)));
}

function modelLink(model, version) {
  if (!model) return h('span', { class: 'muted' }, 'none');
  return link(`/models/${encodeURIComponent(model)}/${version}`, `${model}@${version}`);
}

// The weights as one bar, a segment per release that gets traffic.
function weightBar(weights) {
  const entries = Object.entries(weights || {});
  if (!entries.length) return h('p', { class: 'muted' }, 'No release gets traffic.');
  return h('div', { class: 'weight-bar', role: 'img', 'aria-label': weightsText(weights) },
    entries.map(([ref, percent], i) => h('div', {
      class: 'weight', 'data-ref': ref, title: `${ref}: ${percent}%`,
      style: `flex-grow: ${percent}; background: ${WEIGHT_COLORS[i % WEIGHT_COLORS.length]}`,
    }, `${ref} ${percent}%`)));
}

function replicaRows(environment, showLog) {
  return (environment.replicas || []).map((r) => h('tr', { 'data-replica': r.name, 'data-release': r.release },
    h('td', {}, r.name),
    h('td', { class: 'num' }, String(r.release)),
    h('td', {}, r.version === undefined ? '' : String(r.version)),
    h('td', {}, badge(r.state), r.serving ? h('span', { class: 'small muted' }, ' serving') : null,
      r.restart_at ? h('span', { class: 'small muted', title: localTime(r.restart_at) }, ` restarts ${ago(r.restart_at)}`) : null),
    h('td', { class: 'num mono' }, r.pid ? String(r.pid) : '–'),
    h('td', { class: 'num mono' }, r.port ? String(r.port) : '–'),
    h('td', { class: 'num' }, String(r.restarts ?? 0)),
    h('td', { class: 'small' }, r.last_exit || h('span', { class: 'muted' }, '–')),
    h('td', { title: localTime(r.since) }, ago(r.since)),
    h('td', {}, h('a', {
      href: '#', class: 'replica-log',
      onclick: (event) => { event.preventDefault(); showLog(r.name, r.release); },
    }, 'log'))));
}

// The release id of each "NAME@VERSION" among the environment's releases.
function releaseIds(environment) {
  const ids = new Map();
  for (const r of [...(environment.releases || [])].reverse()) ids.set(`${r.model}@${r.version}`, r.id);
  return ids;
}

// The router's statistics name a release by its role (`stable`, `canary`)
// and its version.
function trafficRows(traffic, ids) {
  return ((traffic && traffic.releases) || []).map((t) => {
    const requests = t.requests || {};
    const upstream = Object.values(t.upstream_errors || {}).reduce((a, b) => a + b, 0);
    const latency = t.latency_ms || {};
    // A role without a release (the canary's, once promoted or rolled
    // back) keeps its counters.
    return h('tr', { 'data-version': t.version, 'data-role': t.release },
      h('td', {}, t.version || h('span', { class: 'muted' }, 'none'), h('span', { class: 'small muted' }, ` ${t.release}`)),
      h('td', { class: 'num' }, ids.has(t.version) ? String(ids.get(t.version)) : '–'),
      h('td', { class: 'num' }, `${t.weight}%`),
      h('td', { class: 'num' }, String(t.ready_replicas ?? '')),
      h('td', { class: 'num rate' }, number(t.rate_per_second, 2)),
      h('td', { class: 'num total' }, String(requests.total ?? 0)),
      ['2xx', '3xx', '4xx', '5xx'].map((c) => h('td', { class: `num class-${c}` }, String(requests[c] ?? 0))),
      h('td', { class: 'num' }, String(upstream)),
      h('td', { class: 'num' }, number(latency.p50)), h('td', { class: 'num p95' }, number(latency.p95)), h('td', { class: 'num' }, number(latency.p99)),
      h('td', { class: 'num' }, String(t.in_flight ?? 0)));
  });
}

function checkText(check) {
  const values = Object.entries(check.values || {}).map(([name, value]) => `${name}=${number(value, 4)}`).join(' ');
  return h('div', { class: 'small' }, badge(check.verdict), ' ', h('span', { class: 'mono' }, check.check),
    values ? h('span', { class: 'mono muted' }, ` (${values})`) : null,
    check.message ? h('span', { class: 'muted' }, ` ${check.message}`) : null);
}

function analysisRows(analysis) {
  return (analysis || []).map((a) => h('tr', { 'data-interval': a.interval },
    h('td', { class: 'num' }, String(a.interval)),
    h('td', { title: localTime(a.at) }, ago(a.at)),
    h('td', { class: 'verdict' }, badge(a.verdict)),
    h('td', { class: 'num' }, String(a.canary_requests ?? '')),
    h('td', {}, (a.checks || []).map(checkText), a.reason ? h('div', { class: 'small muted' }, a.reason) : null)));
}

function releaseRows(releases) {
  return (releases || []).map((r) => h('tr', { 'data-release': r.id },
    h('td', { class: 'num' }, String(r.id)),
    h('td', {}, modelLink(r.model, r.version)),
    h('td', {}, badge(r.phase)),
    h('td', { class: 'num' }, String(r.replicas ?? '')),
    h('td', { class: 'small' }, r.reason || ''),
    h('td', { class: 'small' }, r.created_by || ''),
    h('td', { title: localTime(r.created_at) }, ago(r.created_at)),
    h('td', { title: localTime(r.live_at) }, r.live_at ? ago(r.live_at) : '–'),
    h('td', { title: localTime(r.finished_at) }, r.finished_at ? ago(r.finished_at) : '–')));
}

function eventRows(events) {
  return (events || []).map((e) => h('tr', { 'data-what': e.what },
    h('td', { title: localTime(e.at) }, ago(e.at)),
    h('td', { class: 'mono small' }, e.what),
    h('td', { class: 'num' }, e.release === null || e.release === undefined ? '' : String(e.release)),
    h('td', { class: 'small' }, e.why || ''),
    h('td', { class: 'small muted' }, e.who || '')));
}

export function render(main, params) {
  const name = params.name;
  const path = `/environments/${encodeURIComponent(name)}`;
  document.title = `${name} · Tauon`;
  const header = h('div', {}, h('h1', {}, name), h('p', { class: 'muted' }, 'Loading…'));
  const actions = h('div', { class: 'actions' });
  const notice = h('div', {});
  const problem = h('div', {});  // The last refresh's failure, gone with the next success.
  const summary = h('section', { class: 'card summary' });
  const replicas = h('section', { class: 'card replicas' });
  const logTitle = h('h2', {});
  const logText = h('pre', { class: 'replica-log-text' });
  const logPanel = h('section', { class: 'card replica-log-panel', hidden: true }, logTitle, logText);
  const traffic = h('section', { class: 'card traffic' });
  const rateBox = h('div', { class: 'chart', id: 'rate-chart' });
  const latencyBox = h('div', { class: 'chart', id: 'latency-chart' });
  const charts = h('section', { class: 'card live-charts' }, h('h2', {}, 'Live traffic'),
    h('p', { class: 'small muted' }, 'Sampled every 2 s while this page is open: request rate and p95 latency over the last minute, per model version.'),
    h('div', { class: 'metric-charts' }, rateBox, latencyBox));
  const analysis = h('section', { class: 'card analysis', hidden: true });
  const releases = h('section', { class: 'card releases' });
  const events = h('section', { class: 'card events' });
  fill(main, h('p', {}, link('/environments', '← Environments')), header, actions, notice, problem, summary, replicas, logPanel,
    traffic, charts, analysis, releases, events);

  const controller = new AbortController();
  const { signal } = controller;
  const samples = [];  // {t, releases: {id: {rate, p95, label}}}
  let chartsModule = null;
  let rateChart = null;
  let latencyChart = null;
  let shownLog = null;  // {replica, release}
  let busy = false;

  async function showLog(replica, release) {
    shownLog = { replica, release };
    logPanel.hidden = false;
    fill(logTitle, `Log of ${replica} (release ${release}) `,
      h('button', { class: 'small', onclick: () => showLog(replica, release) }, 'Reload'), ' ',
      h('button', { class: 'small', onclick: () => { shownLog = null; logPanel.hidden = true; } }, 'Close'));
    logText.textContent = 'Loading…';
    try {
      const text = await apiText(`${path}/replicas/${encodeURIComponent(replica)}/logs?release=${release}`, { signal });
      if (shownLog && shownLog.replica === replica && shownLog.release === release) {
        logText.textContent = text || '(no output yet)';
        logText.scrollTop = logText.scrollHeight;
      }
    } catch (error) {
      if (error.name !== 'AbortError') fill(logText, errorBox(error));
    }
    logPanel.scrollIntoView({ block: 'nearest' });
  }

  async function act(what) {
    const verb = what === 'promote' ? 'Promote' : 'Abort';
    const question = what === 'promote'
      ? `Promote the release in progress in ${name} (a canary's next step, or a blue-green switch)?`
      : `Abort the release in progress in ${name}? All traffic goes back to the stable release.`;
    if (!window.confirm(question)) return;
    for (const button of actions.querySelectorAll('button')) button.disabled = true;
    try {
      const answer = await api(`${path}/${what}`, { method: 'POST', body: {} });
      fill(notice, h('div', { class: 'info' }, answer.message || `${verb}d.`));
    } catch (error) {
      if (error.name !== 'AbortError') fill(notice, errorBox(error));
    }
    refresh();
  }

  // A sample per poll, by version: a canary's line goes on under the same
  // name once it is the stable release.
  function sample(environment) {
    const point = { t: Date.now() / 1000, releases: {} };
    for (const t of (environment.traffic && environment.traffic.releases) || []) {
      if (!t.version) continue;
      point.releases[t.version] = {
        rate: t.rate_per_second ?? null,
        p95: (t.latency_ms && t.latency_ms.p95) ?? null,
      };
    }
    samples.push(point);
    if (samples.length > MAX_SAMPLES) samples.splice(0, samples.length - MAX_SAMPLES);
  }

  async function drawCharts() {
    if (!chartsModule) {
      chartsModule = await import('../charts.js');
      if (signal.aborted) return;
      rateChart = chartsModule.liveChart(rateBox, 'Request rate', 'requests/s');
      latencyChart = chartsModule.liveChart(latencyBox, 'p95 latency', 'ms');
    }
    const versions = [];  // In the order they appeared.
    for (const s of samples) for (const version of Object.keys(s.releases)) if (!versions.includes(version)) versions.push(version);
    const times = samples.map((s) => s.t);
    const series = (key) => versions.map((version) => ({
      label: version, values: samples.map((s) => (s.releases[version] ? s.releases[version][key] : null)),
    }));
    rateChart.update(times, series('rate'));
    latencyChart.update(times, series('p95'));
  }

  function draw(environment) {
    const inProgress = ['starting', 'canary', 'rolling', 'preview'].includes(environment.phase);
    const step = environment.step;
    fill(header,
      h('h1', {}, `${name} `, badge(environment.phase)),
      h('p', { class: 'meta' }, h('a', { href: environment.url, class: 'mono' }, environment.url),
        ' · repository ', h('strong', {}, environment.repo || '–'), ` · port ${environment.port}`));
    fill(actions,
      ['canary', 'preview'].includes(environment.phase) ? h('button', { id: 'promote', onclick: () => act('promote') }, 'Promote') : null,
      inProgress ? h('button', { id: 'abort', class: 'danger', onclick: () => act('abort') }, 'Abort') : null);
    fill(summary, h('h2', {}, 'Release'),
      h('table', { class: 'table facts' }, h('tbody', {},
        h('tr', {}, h('th', {}, 'release'), h('td', { class: 'release' }, environment.release === null ? '–' : String(environment.release))),
        h('tr', {}, h('th', {}, 'model'), h('td', { class: 'model' }, modelLink(environment.model, environment.version))),
        h('tr', {}, h('th', {}, 'phase'), h('td', { class: 'phase' }, badge(environment.phase))),
        h('tr', {}, h('th', {}, 'strategy'), h('td', { class: 'strategy' }, environment.strategy || '–',
          step ? h('span', { class: 'canary-step' }, ` · step ${step.index} of ${step.of}: ${step.weight}% of traffic`,
            step.since ? h('span', { class: 'muted', title: localTime(step.since) }, ` since ${ago(step.since)}`) : null) : null)),
        environment.preview_url ? h('tr', {}, h('th', {}, 'preview'),
          h('td', { class: 'preview' }, h('a', { href: environment.preview_url, class: 'mono' }, environment.preview_url))) : null,
        h('tr', {}, h('th', {}, 'ready replicas'), h('td', { class: 'ready' }, readyCount(environment))))),
      h('h3', {}, 'Weights'), weightBar(environment.weights));
    fill(replicas, h('h2', {}, 'Replicas'), (environment.replicas || []).length
      ? table('replica-table', ['replica', 'release', 'version', 'state', 'pid', 'port', 'restarts', 'last exit', 'since', ''],
        replicaRows(environment, showLog))
      : h('p', { class: 'muted' }, 'No replica runs.'));
    const flows = trafficRows(environment.traffic, releaseIds(environment));
    fill(traffic, h('h2', {}, 'Traffic'), flows.length
      ? [table('traffic-table', ['version', 'release', 'weight', 'ready', 'req/s', 'total', '2xx', '3xx', '4xx', '5xx', 'upstream errors', 'p50 ms', 'p95 ms', 'p99 ms', 'in flight'], flows),
        h('p', { class: 'small muted' }, 'Rates and latencies over the last minute; counts since the server started',
          environment.traffic.uptime_seconds !== undefined ? ` (${number(environment.traffic.uptime_seconds, 0)} s ago)` : '', '.')]
      : h('p', { class: 'muted' }, 'The router has no statistics yet.'));
    analysis.hidden = !(environment.analysis || []).length;
    fill(analysis, h('h2', {}, `Canary analysis of release ${environment.release}`),
      table('analysis-table', ['interval', 'at', 'verdict', 'canary requests', 'checks'], analysisRows(environment.analysis)));
    fill(releases, h('h2', {}, 'Releases'),
      table('release-table', ['release', 'model', 'phase', 'replicas', 'reason', 'by', 'created', 'live', 'finished'], releaseRows(environment.releases)));
    fill(events, h('h2', {}, 'Events'), (environment.events || []).length
      ? table('event-table', ['when', 'what', 'release', 'why', 'who'], eventRows(environment.events))
      : h('p', { class: 'muted' }, 'No events.'));
  }

  async function refresh() {
    if (busy) return;
    busy = true;
    try {
      const environment = await api(path, { signal });
      fill(problem);
      draw(environment);
      sample(environment);
      rendered();
      await drawCharts();
    } catch (error) {
      if (error.name !== 'AbortError') {
        if (!samples.length) fill(header, h('h1', {}, name));  // Never loaded: no "Loading…" left.
        fill(problem, errorBox(error));
        rendered();
      }
    } finally {
      busy = false;
    }
  }

  refresh();
  const timer = setInterval(() => { if (!document.hidden) refresh(); }, REFRESH_MS);
  return () => {
    controller.abort();
    clearInterval(timer);
    if (rateChart) rateChart.destroy();
    if (latencyChart) latencyChart.destroy();
  };
}
