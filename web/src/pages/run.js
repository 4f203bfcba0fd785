// One run: header with cancel/rerun, the job DAG, the selected job's steps
// and live logs (Server-Sent Events through fetch), test results with
// failures first (known-flaky ones apart, with their evidence) and each
// test's recent history, and artifacts.

import { api, streamEvents, download } from '../api.js';
import { rendered, navigate } from '../app.js';
import { drawDag } from '../dag.js';
import { splitTests, testSummary, evidenceOf } from '../flaky.js';
import { LogView } from '../logview.js';
import { h, fill, badge, link, ago, localTime, duration, shortSha, errorBox, isTerminal } from '../util.js';

const POLL_MS = 2000;
const HISTORY_RUNS = 20;

function elapsed(item) {
  if (item.duration_ms !== null && item.duration_ms !== undefined) return duration(item.duration_ms);
  if (item.started_at && !item.finished_at) return `${duration(Date.now() - Date.parse(item.started_at))} so far`;
  return '–';
}

function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

// The pass/fail strip of one test: oldest run on the left, this run last.
function historyStrip(history, runId) {
  if (!history) return null;
  const cells = [...history].reverse().map((verdict) =>
    h('a', {
      href: `/runs/${verdict.run_id}`,
      'data-route': '',
      class: `cell status-${verdict.status}${verdict.flaky ? ' flaky' : ''}${verdict.known_flaky ? ' known-flaky' : ''}${verdict.run_id === runId ? ' current' : ''}`,
      title: `run #${verdict.run_id}: ${verdict.status}${verdict.flaky ? ' (flaky)' : ''}${verdict.known_flaky ? ' (known flaky)' : ''}`,
    }));
  return h('span', { class: 'history', 'aria-label': 'recent verdicts' }, cells);
}

// Why a test is known to be flaky, with the runs and commits that show it.
function flakyEvidence(evidence) {
  if (!evidence) return null;
  const runs = evidence.runs || [];
  const commits = evidence.commits || [];
  return h('p', { class: 'flaky-evidence small' },
    h('span', { class: 'flaky-reason' }, evidence.reason),
    runs.length ? [' · ', runs.length === 1 ? 'run ' : 'runs ',
      runs.map((id, i) => [i ? ', ' : '', link(`/runs/${id}`, `#${id}`)])] : null,
    commits.length ? [' · ', commits.length === 1 ? 'commit ' : 'commits ',
      commits.map((sha, i) => [i ? ', ' : '', h('span', { class: 'mono', title: sha }, shortSha(sha))])] : null);
}

export function render(main, params) {
  const runId = Number(params.id);
  document.title = `Run #${runId} · Tauon`;
  const controller = new AbortController();
  const header = h('div', { class: 'run-header' }, h('p', { class: 'muted' }, 'Loading…'));
  const actions = h('div', { class: 'actions' });
  const notice = h('div', {});
  const dag = h('div', { class: 'dag-box card' });
  const jobPanel = h('div', { class: 'job-panel card' });
  const tests = h('section', { class: 'card tests' }, h('h2', {}, 'Tests'), h('p', { class: 'muted' }, 'Loading…'));
  const artifacts = h('section', { class: 'card artifacts' }, h('h2', {}, 'Artifacts'), h('p', { class: 'muted' }, 'Loading…'));
  fill(main, header, actions, notice, dag, jobPanel, tests, artifacts);

  let run = null;
  let selected = decodeURIComponent((location.hash.match(/job=([^&]+)/) || [])[1] || '') || null;
  // Until a job is chosen (a click, or #job= in the address), the panel
  // follows the run: its first failed job, else its running one.
  let chosen = selected !== null;
  const logs = new Map();  // job name -> {attempt, view}
  let pollTimer = null;
  let refetchTimer = null;
  let finishedLoaded = false;
  let streamEnded = false;

  const logView = (job, attempt) => {
    let entry = logs.get(job);
    if (!entry || attempt > entry.attempt) {
      entry = { attempt, view: new LogView() };
      logs.set(job, entry);
      if (job === selected && run) drawJob();
    }
    return entry.view;
  };

  function drawHeader() {
    const sha = run.commit;
    fill(header,
      h('h1', {}, `Run #${run.id} `, badge(run.status)),
      h('p', { class: 'meta' },
        h('strong', {}, link(`/runs?repo=${encodeURIComponent(run.repo)}`, run.repo)), ' · ',
        run.branch ? link(`/runs?repo=${encodeURIComponent(run.repo)}&branch=${encodeURIComponent(run.branch)}`, run.branch) : '(detached)', ' · ', h('span', { class: 'mono', title: sha }, shortSha(sha)),
        ' · ', run.message || '', ' · ', h('span', { class: 'muted' }, run.author)),
      h('p', { class: 'meta muted' },
        `${run.pipeline ? `pipeline ${run.pipeline} · ` : ''}${run.event} · created `, h('span', { title: localTime(run.created_at) }, ago(run.created_at)),
        ` · duration ${elapsed(run)}`),
      run.error ? h('div', { class: 'error' }, run.error) : null);
    // The buttons are replaced only when they change: the header is drawn
    // again every poll, and a click across a redraw would be lost.
    const rerunFailed = run.jobs.some((job) => job.status === 'success') && run.status !== 'success';
    const key = isTerminal(run.status) ? `ended ${rerunFailed}` : 'running';
    if (actions.dataset.key === key) return;
    actions.dataset.key = key;
    const buttons = [];
    if (!isTerminal(run.status)) {
      buttons.push(h('button', { class: 'danger', id: 'cancel', onclick: cancel }, 'Cancel'));
    } else {
      buttons.push(h('button', { id: 'rerun', onclick: () => rerun(false) }, 'Rerun'));
      if (rerunFailed) {
        buttons.push(h('button', { id: 'rerun-failed', onclick: () => rerun(true) }, 'Rerun failed jobs'));
      }
    }
    fill(actions, ...buttons);
  }

  function drawDagBox() {
    if (!run.jobs.length) {
      fill(dag, h('p', { class: 'muted' }, run.status === 'queued' ? 'Queued: waiting for a job slot…' : 'No jobs.'));
      return;
    }
    fill(dag, h('div', { class: 'dag-scroll' }, drawDag(run.jobs, selected, (name) => {
      selected = name;
      chosen = true;
      history.replaceState(null, '', `#job=${encodeURIComponent(name)}`);
      drawDagBox();
      drawJob();
    })));
  }

  function drawJob() {
    const job = run.jobs.find((j) => j.name === selected);
    if (!job) {
      fill(jobPanel, h('p', { class: 'muted' }, 'Select a job in the graph.'));
      return;
    }
    const entry = logs.get(job.name) && logs.get(job.name).attempt >= job.attempt
      ? logs.get(job.name).view : logView(job.name, job.attempt);
    entry.setSteps(job.steps, job.status);
    const attempts = job.attempts.length
      ? h('p', { class: 'small' }, 'Earlier attempts: ', job.attempts.map((a, i) =>
        h('span', {}, i ? ', ' : '', `#${a.attempt} `, badge(a.status), ` ${duration(a.duration_ms)}${a.error ? ` (${a.error})` : ''}`)))
      : null;
    const gates = job.gates.length ? h('table', { class: 'table small gates' },
      h('thead', {}, h('tr', {}, ['gate', 'verdict', 'message'].map((t) => h('th', {}, t)))),
      h('tbody', {}, job.gates.map((g) => h('tr', {}, h('td', { class: 'mono' }, g.expression), h('td', {}, badge(g.verdict)), h('td', {}, g.message || ''))))) : null;
    const metrics = Object.keys(job.metrics).length ? h('p', { class: 'small mono' },
      Object.entries(job.metrics).map(([k, v]) => `${k} = ${v}`).join(' · ')) : null;
    const current = jobPanel.querySelector('.logview');
    const header = h('div', { class: 'job-header' },
      h('h2', {}, job.name, ' ', badge(job.status)),
      h('p', { class: 'muted small' }, `attempt ${job.attempt} · ${elapsed(job)}`,
        job.needs.length ? ` · needs ${job.needs.join(', ')}` : ''),
      job.error && job.status !== 'success' ? h('div', { class: 'error' }, job.error) : null,
      job.warnings.map((w) => h('div', { class: 'warning small' }, w)),
      attempts, metrics, gates);
    if (current === entry.element) {
      jobPanel.firstChild.replaceWith(header);
    } else {
      fill(jobPanel, header, entry.element);
    }
  }

  function draw() {
    if (!chosen || !run.jobs.some((j) => j.name === selected)) {
      const pick = run.jobs.find((j) => j.status === 'failed') || run.jobs.find((j) => j.status === 'running') ||
        run.jobs.find((j) => j.name === selected) || run.jobs[0];
      selected = pick ? pick.name : null;
    }
    drawHeader();
    drawDagBox();
    drawJob();
  }

  async function fetchRun() {
    try {
      const first = !run;
      run = await api(`/runs/${runId}`, { signal: controller.signal });
      if (first && !isTerminal(run.status)) {
        for (const section of [tests, artifacts]) {
          fill(section, section.firstChild, h('p', { class: 'muted' }, 'Shown when the run ends.'));
        }
      }
      draw();
      rendered();
      if (isTerminal(run.status)) {
        clearInterval(pollTimer);
        pollTimer = null;
        if (!finishedLoaded && streamEnded) loadResults();
      }
    } catch (error) {
      if (error.name === 'AbortError') return;
      if (!run) {
        fill(header, h('h1', {}, `Run #${runId}`), errorBox(error));
        fill(dag, );
        rendered();
      } else {
        fill(notice, errorBox(error));
      }
    }
  }

  // Job and run events come in bursts: one fetch for a burst.
  function refetchSoon() {
    if (!refetchTimer) refetchTimer = setTimeout(() => { refetchTimer = null; fetchRun(); }, 150);
  }

  async function follow() {
    for (let attempt = 0; attempt < 5 && !controller.signal.aborted; attempt++) {
      let ended = false;
      try {
        await streamEvents(`/runs/${runId}/logs?follow=1`, (type, data) => {
          if (type === 'line') logView(data.job, data.attempt).addLine(data);
          else if (type === 'job' || type === 'run') refetchSoon();
          else if (type === 'end') ended = true;
          else if (type === 'error') fill(notice, errorBox(new Error(data.error)));
        }, controller.signal);
      } catch (error) {
        if (error.name === 'AbortError') return;
        if (error.status === 404) return;
      }
      if (ended) {
        streamEnded = true;
        fetchRun();
        return;
      }
      // Cut off (the server restarted?): the stream replays everything.
      logs.clear();
      await new Promise((resolve) => setTimeout(resolve, 1000 * (attempt + 1)));
    }
  }

  async function loadResults() {
    finishedLoaded = true;
    try {
      const [list, historyData, files] = await Promise.all([
        api(`/runs/${runId}/tests`, { signal: controller.signal }),
        api(`/runs/${runId}/tests/history?limit=${HISTORY_RUNS}`, { signal: controller.signal }),
        api(`/runs/${runId}/artifacts`, { signal: controller.signal }),
      ]);
      drawTests(list.tests, historyData.tests);
      drawArtifacts(files.artifacts);
    } catch (error) {
      if (error.name !== 'AbortError') tests.append(errorBox(error));
    }
  }

  function drawTests(list, histories) {
    const key = (t) => `${t.job}\u0000${t.classname}\u0000${t.name}`;
    const historyOf = new Map(histories.map((t) => [key(t), t.history]));
    if (!list.length) {
      fill(tests, h('h2', {}, 'Tests'), h('p', { class: 'muted' }, 'No test report.'));
      return;
    }
    const { real, knownFlaky, others } = splitTests(list);
    const title = (t) => `${t.classname ? `${t.classname}::` : ''}${t.name}`;
    const failureItem = (t, known) => h('div', { class: `test failed${known ? ' known-flaky' : ''}`, 'data-test': t.name },
      h('div', { class: 'test-head' }, badge(t.status), ' ',
        known ? [h('span', { class: 'badge flaky-badge' }, '~ known flaky'), ' '] : null,
        h('span', { class: 'mono' }, title(t)),
        h('span', { class: 'muted small' }, ` ${t.job} · ${duration(t.duration_ms)}`), ' ', historyStrip(historyOf.get(key(t)), runId)),
      known ? flakyEvidence(evidenceOf(t)) : null,
      t.message ? h('pre', { class: 'test-message' }, t.message) : null,
      t.details ? h('details', {}, h('summary', { class: 'small' }, 'details'), h('pre', { class: 'test-details' }, t.details)) : null);
    const otherRows = others.map((t) => h('tr', { 'data-test': t.name },
      h('td', {}, badge(t.status), t.flaky ? h('span', { class: 'small warning' }, ' flaky') : null),
      h('td', { class: 'mono' }, title(t)), h('td', { class: 'small' }, t.job),
      h('td', { class: 'num small' }, duration(t.duration_ms)), h('td', {}, historyStrip(historyOf.get(key(t)), runId))));
    fill(tests,
      h('h2', {}, 'Tests'),
      h('p', { class: 'test-summary' },
        h('span', { class: real.length ? 'error-text' : '' }, testSummary(list)), ' · ',
        link(`/repos/${encodeURIComponent(run.repo)}/flaky-tests`, `flaky tests of ${run.repo}`)),
      real.map((t) => failureItem(t, false)),
      knownFlaky.length ? h('section', { class: 'flaky-failures' },
        h('h3', {}, `Known-flaky failures (${knownFlaky.length})`),
        h('p', { class: 'muted small' }, 'Tests known to be flaky before the job ran, each with why and the runs that show it. ',
          'With ', h('code', {}, 'reports: { quarantine: true }'), ' such failures alone do not fail the job.'),
        knownFlaky.map((t) => failureItem(t, true))) : null,
      others.length ? h('details', { class: 'passed-tests', open: !real.length && !knownFlaky.length && others.length <= 50 },
        h('summary', {}, `Passed and skipped (${others.length})`),
        h('table', { class: 'table small' }, h('tbody', {}, otherRows))) : null);
  }

  function drawArtifacts(list) {
    if (!list.length) {
      fill(artifacts, h('h2', {}, 'Artifacts'), h('p', { class: 'muted' }, 'No artifacts.'));
      return;
    }
    const rows = list.map((a) => {
      const path = `/runs/${runId}/artifacts/${a.path.split('/').map(encodeURIComponent).join('/')}?job=${encodeURIComponent(a.job)}`;
      const name = a.path.split('/').pop();
      return h('tr', {},
        h('td', { class: 'small' }, a.job),
        h('td', {}, h('a', {
          href: `/api/v1${path}`, class: 'artifact mono', 'data-path': a.path,
          onclick: (event) => {
            event.preventDefault();
            download(path, name).catch((error) => fill(notice, errorBox(error)));
          },
        }, a.path)),
        h('td', { class: 'num small' }, formatBytes(a.size)),
        h('td', { class: 'mono small muted', title: a.digest }, a.digest.slice(0, 19)));
    });
    fill(artifacts, h('h2', {}, 'Artifacts'),
      h('table', { class: 'table' }, h('thead', {}, h('tr', {}, ['job', 'path', 'size', 'digest'].map((t) => h('th', {}, t)))),
        h('tbody', {}, rows)));
  }

  async function cancel() {
    const button = actions.querySelector('#cancel');
    if (button) { button.disabled = true; button.textContent = 'Cancelling…'; }
    try {
      await api(`/runs/${runId}/cancel`, { method: 'POST' });
      fill(notice, h('div', { class: 'info' }, 'Cancelling: running steps get SIGTERM, then SIGKILL after 5 s.'));
      refetchSoon();
    } catch (error) {
      fill(notice, errorBox(error));
      if (button) { button.disabled = false; button.textContent = 'Cancel'; }
    }
  }

  async function rerun(failedOnly) {
    try {
      const again = await api(`/runs/${runId}/rerun`, { method: 'POST', body: { failed: failedOnly } });
      navigate(`/runs/${again.id}`);
    } catch (error) {
      fill(notice, errorBox(error));
    }
  }

  fetchRun().then(() => {
    if (!run) return;
    follow();
    if (!isTerminal(run.status)) pollTimer = setInterval(() => { if (!document.hidden) fetchRun(); }, POLL_MS);
  });
  return () => {
    controller.abort();
    clearInterval(pollTimer);
    clearTimeout(refetchTimer);
  };
}
