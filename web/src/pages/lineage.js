// One model version's lineage: commit -> run -> jobs (tests, gates) -> model
// files -> aliases (with their history) -> deployments.

import { api } from '../api.js';
import { rendered } from '../app.js';
import { h, fill, badge, link, localTime, shortSha, duration, errorBox } from '../util.js';

function step(title, ...content) {
  return h('li', { class: 'lineage-step' }, h('h3', {}, title), ...content);
}

export function render(main, params) {
  const ref = `${params.name}@${params.version}`;
  document.title = `${ref} · Tauon`;
  fill(main, h('p', { class: 'muted' }, 'Loading…'));
  const controller = new AbortController();
  api(`/models/${encodeURIComponent(ref)}/lineage`, { signal: controller.signal }).then((lineage) => {
    const model = lineage.model;
    const run = lineage.run;
    const jobs = run ? run.jobs.map((job) => h('tr', {},
      h('td', {}, job.name), h('td', {}, badge(job.status)), h('td', { class: 'num' }, duration(job.duration_ms)),
      h('td', { class: 'small' }, job.tests ? `${job.tests.passed}/${job.tests.total} passed` : ''),
      h('td', { class: 'small' }, job.gates.map((g) => h('div', {}, badge(g.verdict), ' ', h('span', { class: 'mono' }, g.expression)))))) : [];
    const files = (model.files || []).map((f) => h('tr', {},
      h('td', { class: 'mono' }, f.path), h('td', { class: 'num' }, String(f.size)), h('td', { class: 'mono small muted' }, f.digest.slice(0, 19))));
    const aliasHistory = (lineage.alias_history || []).map((a) => h('li', { class: 'small' },
      `${a.alias} → v${a.version ?? model.version} · ${localTime(a.set_at)} by ${a.set_by}`));
    fill(main,
      h('p', {}, link(`/models/${encodeURIComponent(params.name)}`, `← ${params.name}`)),
      h('h1', {}, `${model.name} v${model.version} `, (model.aliases || []).map((a) => h('span', { class: `alias alias-${a}` }, a))),
      h('p', { class: 'muted small mono' }, model.digest),
      h('ol', { class: 'lineage' },
        step('Commit', h('p', {}, h('span', { class: 'mono' }, shortSha(model.commit)), ` on ${model.branch} of ${model.repo}`,
          run ? ` · ${run.message}` : '', h('br'), h('span', { class: 'muted small' }, model.author))),
        step('Run', run
          ? h('p', {}, link(`/runs/${run.id}`, `Run #${run.id}`), ' ', badge(run.status), ` · ${duration(run.duration_ms)} · ${localTime(run.created_at)}`)
          : h('p', { class: 'muted' }, `run #${model.run_id} is gone`)),
        step('Jobs', h('table', { class: 'table' }, h('tbody', {}, jobs)),
          Object.entries(model.metrics || {}).map(([job, metrics]) => h('p', { class: 'small mono' },
            `${job}: `, Object.entries(metrics).map(([name, value]) => `${name} = ${value}`).join(' · ')))),
        step('Model files', h('table', { class: 'table' }, h('tbody', {}, files)),
          Object.keys(model.params || {}).length ? h('p', { class: 'small mono' }, `params ${JSON.stringify(model.params)}`) : null),
        step('Aliases', aliasHistory.length ? h('ul', {}, aliasHistory) : h('p', { class: 'muted' }, 'No alias has pointed here.')),
        step('Deployments', (lineage.deployments || []).length
          ? h('table', { class: 'table' }, h('tbody', {}, lineage.deployments.map((d) =>
            h('tr', {},
              h('td', {}, d.environment),
              h('td', {}, `release ${d.release}`),
              h('td', {}, badge(d.phase)),
              h('td', {}, localTime(d.created_at)),
              h('td', { class: 'muted' }, d.reason || `by ${d.created_by}`)))))
          : h('p', { class: 'muted' }, 'Not deployed.'))));
    rendered();
  }).catch((error) => {
    if (error.name !== 'AbortError') fill(main, h('h1', {}, ref), errorBox(error));
    rendered();
  });
  return () => controller.abort();
}
