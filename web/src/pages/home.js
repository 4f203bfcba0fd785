// Repositories and their branches with the latest run of each, and charts of
// recent runs (duration, test counts).

import { api } from '../api.js';
import { rendered } from '../app.js';
import { h, fill, badge, link, ago, localTime, shortSha, errorBox } from '../util.js';

const REFRESH_MS = 5000;

function branchRows(repo, branches) {
  // Branches the mirror has, plus branches that have runs (deleted since, or
  // filtered out of polling but run by `tauon trigger`).
  const names = new Set(Object.keys(repo.heads || {}));
  for (const b of branches) names.add(b.branch);
  return [...names].sort().map((name) => {
    const latest = branches.find((b) => b.branch === name);
    const run = latest && latest.run;
    return h('tr', { 'data-branch': name },
      h('td', {}, name
        ? link(`/runs?repo=${encodeURIComponent(repo.name)}&branch=${encodeURIComponent(name)}`, name)
        : h('span', { class: 'muted' }, '(detached)')),
      h('td', { class: 'mono' }, shortSha((repo.heads || {})[name])),
      h('td', {}, run ? badge(run.status) : h('span', { class: 'muted' }, 'no run yet')),
      h('td', {}, run ? link(`/runs/${run.id}`, `#${run.id}`) : ''),
      h('td', { class: 'ellipsis' }, run ? run.message : ''),
      h('td', { title: run ? localTime(run.created_at) : '' }, run ? ago(run.created_at) : ''));
  });
}

function repoSection(repo, branches) {
  return h('section', { class: 'card', 'data-repo': repo.name },
    h('h2', {}, repo.name, ' ', h('span', { class: 'muted small' }, repo.url || '')),
    repo.branches ? h('p', { class: 'muted small' },
      `branches: ${repo.branches.length ? repo.branches.join(', ') : 'all'} · polled every ${repo.poll_ms / 1000}s`,
      repo.webhook_secret ? ' · webhooks on' : '') : null,
    h('div', { class: 'scroll' }, h('table', { class: 'table' },
      h('thead', {}, h('tr', {}, ['branch', 'head', 'latest run', '', 'commit', 'when'].map((t) => h('th', {}, t)))),
      h('tbody', {}, branchRows(repo, branches)))),
    h('p', {}, link(`/runs?repo=${encodeURIComponent(repo.name)}`, `All runs of ${repo.name} →`), ' · ',
      link(`/repos/${encodeURIComponent(repo.name)}/tests`, 'Tests most likely to fail →'), ' · ',
      link(`/repos/${encodeURIComponent(repo.name)}/flaky-tests`, 'Flaky tests →')));
}

export function render(main) {
  document.title = 'Repositories · Tauon';
  const list = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const charts = h('section', { class: 'card charts' }, h('h2', {}, 'Recent runs'),
    h('div', { class: 'chart', id: 'duration-chart' }), h('div', { class: 'chart', id: 'tests-chart' }));
  fill(main, h('h1', {}, 'Repositories'), list, charts);
  const controller = new AbortController();
  let destroyCharts = [];
  let timer = null;

  async function refresh() {
    try {
      const [repos, branches] = await Promise.all([
        api('/repos', { signal: controller.signal }),
        api('/branches', { signal: controller.signal }),
      ]);
      const known = new Set(repos.repos.map((r) => r.name));
      const sections = repos.repos.map((repo) => repoSection(repo, branches.branches.filter((b) => b.repo === repo.name)));
      // Runs recorded by `tauon run` in the server's data directory.
      const others = [...new Set(branches.branches.map((b) => b.repo).filter((name) => !known.has(name)))];
      for (const name of others) {
        sections.push(repoSection({ name, heads: {} }, branches.branches.filter((b) => b.repo === name)));
      }
      if (!sections.length) {
        sections.push(h('p', { class: 'muted' }, 'No repository yet: add one with ',
          h('code', {}, 'tauon repo add NAME URL'), '.'));
      }
      fill(list, ...sections);
      rendered();
    } catch (error) {
      if (error.name !== 'AbortError') fill(list, errorBox(error));
    }
  }

  async function drawCharts() {
    try {
      const [stats, chartsModule] = await Promise.all([
        api('/stats/runs?limit=200', { signal: controller.signal }),
        import('../charts.js'),
      ]);
      destroyCharts.forEach((destroy) => destroy());
      const duration = charts.querySelector('#duration-chart');
      const tests = charts.querySelector('#tests-chart');
      fill(duration, );
      fill(tests, );
      destroyCharts = [
        chartsModule.durationChart(duration, stats.runs),
        chartsModule.testCountChart(tests, stats.runs),
      ];
    } catch (error) {
      if (error.name !== 'AbortError') charts.append(errorBox(error));
    }
  }

  refresh();
  drawCharts();
  timer = setInterval(() => { if (!document.hidden) refresh(); }, REFRESH_MS);
  return () => {
    controller.abort();
    clearInterval(timer);
    destroyCharts.forEach((destroy) => destroy());
  };
}
