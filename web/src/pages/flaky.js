// A repository's flaky tests (GET /api/v1/repos/{name}/flaky-tests): each
// with why it is flaky, the runs and commits that show it, its failures and
// its last verdict. Loaded once; the history behind it changes run by run.

import { h, fill, badge, link, shortSha } from '../util.js';
import { loadOnce } from './load_once.js';
import { sortFlakyTests } from '../flaky.js';

function row(test) {
  const evidence = test.flaky;
  return h('tr', { 'data-test': test.id },
    h('td', { class: 'mono' }, test.id),
    h('td', { class: 'small' }, test.job),
    h('td', { class: 'flaky-reason' }, evidence.reason),
    h('td', { class: 'small' }, evidence.runs.map((id, i) => [i ? ', ' : '', link(`/runs/${id}`, `#${id}`)])),
    h('td', { class: 'small' }, evidence.commits.map((sha, i) => [i ? ', ' : '', h('span', { class: 'mono', title: sha }, shortSha(sha))])),
    h('td', { class: 'num small' }, `${test.failures}/${test.executions}`),
    h('td', {}, badge(test.last_status), ' ', link(`/runs/${test.last_run}`, `#${test.last_run}`)));
}

export function render(main, params) {
  const repo = params.repo;
  document.title = `Flaky tests of ${repo} · Tauon`;
  const body = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  fill(main,
    h('h1', {}, 'Flaky tests of ', repo),
    h('p', { class: 'muted' },
      'Tests that passed and failed on the same commit (a retry, a rerun), that the test runner reported as passing only after failing, or whose verdict flips often (4 of their last 10). ',
      'A failure of one of them is shown apart from real failures; with ', h('code', {}, 'reports: { quarantine: true }'),
      ' it does not fail its job. ', link(`/repos/${encodeURIComponent(repo)}/tests`, 'All tests, most likely to fail first →'), ' · ',
      link(`/runs?repo=${encodeURIComponent(repo)}`, `All runs of ${repo} →`)),
    body);
  return loadOnce(body, `/repos/${encodeURIComponent(repo)}/flaky-tests`, (answer) => (answer.tests.length
    ? h('section', { class: 'card' }, h('div', { class: 'scroll' }, h('table', { class: 'table flaky-tests' },
      h('thead', {}, h('tr', {}, ['test', 'job', 'why', 'runs', 'commits', 'failed', 'last'].map((t) => h('th', {}, t)))),
      h('tbody', {}, sortFlakyTests(answer.tests).map(row)))))
    : h('p', { class: 'muted no-flaky' }, 'No flaky test in this repository\'s history.')));
}
