// The environments (/environments): each with its router's address, the
// release that serves, its phase, ready replicas and traffic weights.
// Refreshed every 2 s.

import { api } from '../api.js';
import { rendered } from '../app.js';
import { h, fill, badge, link, errorBox } from '../util.js';

const REFRESH_MS = 2000;

// {"tiny@1": 70, "tiny@2": 30} -> "tiny@1 70% · tiny@2 30%".
export function weightsText(weights) {
  const entries = Object.entries(weights || {});
  return entries.length ? entries.map(([ref, percent]) => `${ref} ${percent}%`).join(' · ') : '–';
}

// Ready replicas of the environment's current release, of its replicas.
export function readyCount(environment) {
  const mine = (environment.replicas || []).filter((r) => r.release === environment.release);
  return `${mine.filter((r) => r.state === 'ready').length}/${mine.length}`;
}

function row(environment) {
  const name = environment.environment;
  return h('tr', { 'data-environment': name },
    h('td', {}, link(`/environments/${encodeURIComponent(name)}`, name)),
    h('td', { class: 'mono small' }, environment.url),
    h('td', {}, environment.model
      ? link(`/models/${encodeURIComponent(environment.model)}/${environment.version}`, `${environment.model}@${environment.version}`)
      : h('span', { class: 'muted' }, 'none')),
    h('td', {}, badge(environment.phase), environment.step
      ? h('span', { class: 'small muted' }, ` step ${environment.step.index} of ${environment.step.of}`) : null),
    h('td', { class: 'num ready' }, readyCount(environment)),
    h('td', { class: 'small weights' }, weightsText(environment.weights)),
    h('td', { class: 'small muted' }, environment.repo));
}

export function render(main) {
  document.title = 'Environments · Tauon';
  const list = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  fill(main, h('h1', {}, 'Environments'), list);
  const controller = new AbortController();

  async function refresh() {
    try {
      const answer = await api('/environments', { signal: controller.signal });
      fill(list, answer.environments.length
        ? h('section', { class: 'card' }, h('div', { class: 'scroll' }, h('table', { class: 'table environments' },
          h('thead', {}, h('tr', {}, ['environment', 'url', 'serving', 'phase', 'ready', 'weights', 'repository'].map((t) => h('th', {}, t)))),
          h('tbody', {}, answer.environments.map(row)))))
        : h('p', { class: 'muted' }, 'No environment yet: ', h('code', {}, 'tauon deploy ENV --model NAME@VERSION'),
          ' deploys a model version to an environment of its pipeline\'s ', h('code', {}, 'deploy:'), '.'));
    } catch (error) {
      if (error.name !== 'AbortError') fill(list, errorBox(error));
    }
    rendered();
  }

  refresh();
  const timer = setInterval(() => { if (!document.hidden) refresh(); }, REFRESH_MS);
  return () => {
    controller.abort();
    clearInterval(timer);
  };
}
