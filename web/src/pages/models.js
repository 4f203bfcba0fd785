// The model registry: every model with its versions (/models), and one
// model's versions with a chart of each metric across them (/models/NAME).

import { api } from '../api.js';
import { rendered } from '../app.js';
import { h, fill, link, ago, localTime, shortSha, errorBox } from '../util.js';

// {"JOB": {"metric": v}} -> {"JOB / metric": v}; a job's name is left out
// when only one job reports metrics in the model's versions.
function flatMetrics(versions) {
  const jobs = new Set(versions.flatMap((v) => Object.keys(v.metrics || {})));
  return versions.map((v) => {
    const out = {};
    for (const [job, metrics] of Object.entries(v.metrics || {})) {
      for (const [name, value] of Object.entries(metrics)) out[jobs.size > 1 ? `${job} / ${name}` : name] = value;
    }
    return out;
  });
}

function aliasBadges(aliases) {
  return (aliases || []).map((a) => h('span', { class: `alias alias-${a}` }, a));
}

function format(value) {
  if (value === undefined) return '–';
  return Number.isInteger(value) ? String(value) : Number(value).toPrecision(4);
}

function overview(main, models) {
  const byName = new Map();
  for (const version of models) {
    if (!byName.has(version.name)) byName.set(version.name, []);
    byName.get(version.name).push(version);
  }
  const rows = [...byName.entries()].sort().map(([name, versions]) => {
    const latest = versions[versions.length - 1];
    const aliases = versions.flatMap((v) => (v.aliases || []).map((a) => `${a} → v${v.version}`));
    return h('tr', { 'data-model': name },
      h('td', {}, link(`/models/${encodeURIComponent(name)}`, name)),
      h('td', { class: 'num' }, String(versions.length)),
      h('td', {}, link(`/models/${encodeURIComponent(name)}/${latest.version}`, `v${latest.version}`)),
      h('td', { class: 'small' }, aliases.join(', ') || h('span', { class: 'muted' }, 'none')),
      h('td', {}, latest.repo, ' ', h('span', { class: 'mono small' }, shortSha(latest.commit))),
      h('td', { title: localTime(latest.created_at) }, ago(latest.created_at)));
  });
  fill(main, h('h1', {}, 'Models'), rows.length
    ? h('table', { class: 'table models' },
      h('thead', {}, h('tr', {}, ['model', 'versions', 'latest', 'aliases', 'from', 'registered'].map((t) => h('th', {}, t)))),
      h('tbody', {}, rows))
    : h('p', { class: 'muted' }, 'No model registered yet: a successful run of a pipeline with ', h('code', {}, 'model:'), ' registers one.'));
}

// Two versions side by side (GET /models/diff): each metric, its delta.
function compareSection(name, versions, signal) {
  const options = (selected) => [...versions].reverse().map((v) =>
    h('option', { value: v.version, selected: v.version === selected }, `v${v.version}${(v.aliases || []).length ? ` (${v.aliases.join(', ')})` : ''}`));
  const latest = versions[versions.length - 1].version;
  const production = versions.find((v) => (v.aliases || []).includes('production'));
  const a = h('select', { name: 'a', 'aria-label': 'first version' },
    options(production && production.version !== latest ? production.version : versions[Math.max(0, versions.length - 2)].version));
  const b = h('select', { name: 'b', 'aria-label': 'second version' }, options(latest));
  const result = h('div', { class: 'diff' });
  const compare = async () => {
    const ref = (select) => encodeURIComponent(`${name}@${select.value}`);
    try {
      const diff = await api(`/models/diff?a=${ref(a)}&b=${ref(b)}`, { signal });
      const sign = (d) => (d === null ? '–' : `${d > 0 ? '+' : ''}${format(d)}`);
      fill(result, h('table', { class: 'table' },
        h('thead', {}, h('tr', {}, ['metric', diff.a, diff.b, 'delta'].map((t) => h('th', {}, t)))),
        h('tbody', {}, diff.metrics.map((m) => h('tr', { 'data-metric': m.metric },
          h('td', { class: 'mono' }, m.metric), h('td', { class: 'num' }, format(m.a ?? undefined)),
          h('td', { class: 'num' }, format(m.b ?? undefined)),
          h('td', { class: 'num' }, sign(m.delta)))))),
        h('p', { class: 'small muted' }, diff.same_files ? 'Same model files.' : 'Different model files.'));
    } catch (error) {
      if (error.name !== 'AbortError') fill(result, errorBox(error));
    }
  };
  a.addEventListener('change', compare);
  b.addEventListener('change', compare);
  if (versions.length > 1) compare();
  return h('section', { class: 'card compare' }, h('h2', {}, 'Compare versions'),
    h('p', {}, a, ' with ', b), result);
}

function modelPage(main, name, versions, destroyers, signal) {
  if (!versions.length) {
    fill(main, h('h1', {}, name), errorBox(new Error(`no model named '${name}'`)));
    return;
  }
  const metrics = flatMetrics(versions);
  const metricNames = [...new Set(metrics.flatMap((m) => Object.keys(m)))].sort();
  const rows = versions.map((v, i) => h('tr', { 'data-version': v.version },
    h('td', {}, link(`/models/${encodeURIComponent(name)}/${v.version}`, `v${v.version}`)),
    h('td', {}, aliasBadges(v.aliases)),
    h('td', {}, link(`/runs/${v.run_id}`, `#${v.run_id}`)),
    h('td', {}, v.branch, ' ', h('span', { class: 'mono small' }, shortSha(v.commit))),
    h('td', { class: 'mono small', title: v.digest }, v.digest.slice(7, 19)),
    metricNames.map((m) => h('td', { class: 'num' }, format(metrics[i][m]))),
    h('td', { title: localTime(v.created_at) }, ago(v.created_at)))).reverse();
  const charts = h('div', { class: 'metric-charts' });
  fill(main,
    h('p', {}, link('/models', '← Models')),
    h('h1', {}, name),
    h('section', { class: 'card' }, h('h2', {}, 'Versions'),
      h('div', { class: 'scroll' }, h('table', { class: 'table versions' },
        h('thead', {}, h('tr', {}, ['version', 'aliases', 'run', 'commit', 'digest', ...metricNames, 'registered'].map((t) => h('th', {}, t)))),
        h('tbody', {}, rows)))),
    metricNames.length ? h('section', { class: 'card' }, h('h2', {}, 'Metrics across versions'), charts) : null,
    versions.length > 1 ? compareSection(name, versions, signal) : null);
  if (!metricNames.length) return;
  import('../charts.js').then((module) => {
    for (const metric of metricNames) {
      const points = versions.map((v, i) => ({ version: v.version, value: metrics[i][metric] }))
        .filter((p) => typeof p.value === 'number');
      const box = h('div', { class: 'chart', 'data-metric': metric });
      charts.append(box);
      destroyers.push(module.metricChart(box, metric, points));
    }
  });
}

export function render(main, params) {
  document.title = `${params.name || 'Models'} · Tauon`;
  fill(main, h('p', { class: 'muted' }, 'Loading…'));
  const controller = new AbortController();
  const destroyers = [];
  api('/models', { signal: controller.signal }).then((answer) => {
    if (params.name) modelPage(main, params.name, answer.models.filter((v) => v.name === params.name), destroyers, controller.signal);
    else overview(main, answer.models);
    rendered();
  }).catch((error) => {
    if (error.name !== 'AbortError') fill(main, h('h1', {}, 'Models'), errorBox(error));
    rendered();
  });
  return () => { controller.abort(); destroyers.forEach((destroy) => destroy()); };
}
