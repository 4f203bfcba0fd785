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

function modelPage(main, name, versions, destroyers) {
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
    metricNames.length ? h('section', { class: 'card' }, h('h2', {}, 'Metrics across versions'), charts) : null);
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
    if (params.name) modelPage(main, params.name, answer.models.filter((v) => v.name === params.name), destroyers);
    else overview(main, answer.models);
    rendered();
  }).catch((error) => {
    if (error.name !== 'AbortError') fill(main, h('h1', {}, 'Models'), errorBox(error));
    rendered();
  });
  return () => { controller.abort(); destroyers.forEach((destroy) => destroy()); };
}
