// A repository's tests, most likely to fail first (GET
// /api/v1/repos/{name}/test-ranking): per job, the order its next run gives
// them, with the reasons, the failures out of the runs and the mean
// duration; flaky ones are marked. The same ranking as `tauon tests rank`.

import { h, fill, link, duration } from '../util.js';
import { loadOnce } from './load_once.js';

function row(test) {
  return h('tr', { 'data-test': test.id, class: test.last_failed ? 'last-failed' : undefined },
    h('td', { class: 'num small' }, String(test.rank)),
    h('td', { class: 'mono' }, test.id,
      test.flaky ? [' ', h('span', { class: 'badge flaky-badge', title: test.flaky.reason }, '~ flaky')] : null),
    h('td', { class: 'num small' }, `${test.failures}/${test.runs}`),
    h('td', { class: 'num small' }, duration(test.mean_duration_ms)),
    h('td', { class: 'small reasons' }, test.reasons.join('; ')));
}

function jobSection(job) {
  return h('section', { class: 'card', 'data-job': job.job },
    h('h2', {}, job.job, ' ', h('span', { class: 'muted small' },
      `${job.tests.length} test${job.tests.length === 1 ? '' : 's'} from ${job.runs} run${job.runs === 1 ? '' : 's'}`)),
    h('div', { class: 'scroll' }, h('table', { class: 'table test-ranking' },
      h('thead', {}, h('tr', {}, ['#', 'test', 'failed', 'mean time', 'why here'].map((t) => h('th', {}, t)))),
      h('tbody', {}, job.tests.map(row)))));
}

export function render(main, params) {
  const repo = params.repo;
  document.title = `Tests of ${repo} · Tauon`;
  const body = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const encoded = encodeURIComponent(repo);
  fill(main,
    h('h1', {}, 'Tests of ', repo),
    h('p', { class: 'muted' },
      'Each job\'s tests in the order its next run gives them, most likely to fail first, learned from their history. ',
      'Before each job runs, Tauon writes this order to the file named by ', h('code', {}, '$TAUON_TEST_ORDER'), '. ',
      link(`/repos/${encoded}/flaky-tests`, 'Flaky tests →'), ' · ',
      link(`/runs?repo=${encoded}`, `All runs of ${repo} →`)),
    body);
  return loadOnce(body, `/repos/${encoded}/test-ranking`, (answer) => (answer.jobs.length
    ? answer.jobs.map(jobSection)
    : h('p', { class: 'muted no-tests' }, 'No test results yet: a job with ',
      h('code', {}, 'reports: { junit: FILE }'), ' records them.')));
}
