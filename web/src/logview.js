// The log panel of one job: a section per step with its lines (ANSI colours
// rendered), lines appended as they stream in, and in-log search.

import { parseAnsi, stripAnsi } from './ansi.js';
import { h, fill, badge, duration } from './util.js';

// Lines kept per step; older ones are dropped from the page (the full log
// stays available with `tauon logs`).
const MAX_LINES = 20000;

function lineElement(number, text) {
  const content = h('span', { class: 'text' });
  for (const segment of parseAnsi(text)) {
    if (!segment.classes.length && !Object.keys(segment.style).length) {
      content.append(segment.text);
      continue;
    }
    const span = h('span', { class: segment.classes.join(' ') || null }, segment.text);
    Object.assign(span.style, segment.style);
    content.append(span);
  }
  const line = h('div', { class: 'line' }, h('span', { class: 'ln' }, String(number)), content);
  line.plain = stripAnsi(text).toLowerCase();
  line.raw = text;
  return line;
}

// Wraps each occurrence of `needle` (lower case) in the line's text in <mark>.
function highlight(line, needle) {
  const content = line.querySelector('.text');
  const walker = document.createTreeWalker(content, NodeFilter.SHOW_TEXT);
  const nodes = [];
  while (walker.nextNode()) nodes.push(walker.currentNode);
  for (const node of nodes) {
    const lower = node.data.toLowerCase();
    let at = lower.indexOf(needle);
    if (at < 0) continue;
    const fragment = document.createDocumentFragment();
    let from = 0;
    while (at >= 0) {
      fragment.append(node.data.slice(from, at), h('mark', {}, node.data.slice(at, at + needle.length)));
      from = at + needle.length;
      at = lower.indexOf(needle, from);
    }
    fragment.append(node.data.slice(from));
    node.replaceWith(fragment);
  }
}

function unhighlight(line) {
  if (!line.querySelector('mark')) return;
  line.replaceWith(Object.assign(lineElement(Number(line.firstChild.textContent), line.raw)));
}

export class LogView {
  constructor() {
    this.steps = new Map();  // position -> {section, pre, count, summary}
    this.search = '';
    this.pending = [];
    this.flushTimer = null;
    this.status = h('span', { class: 'muted small search-status' });
    this.input = h('input', {
      type: 'search', placeholder: 'Search the logs', class: 'log-search', 'aria-label': 'search the logs',
      oninput: () => {
        clearTimeout(this.searchTimer);
        this.searchTimer = setTimeout(() => this.setSearch(this.input.value), 120);
      },
    });
    this.body = h('div', { class: 'steps' });
    this.element = h('div', { class: 'logview' }, h('div', { class: 'log-tools' }, this.input, this.status), this.body);
  }

  // steps: the job's steps from the run resource (last attempt), in order.
  setSteps(steps, jobStatus) {
    steps.forEach((step, index) => {
      const entry = this.step(index + 1, step.name);
      fill(entry.summary,
        badge(step.status), ' ', h('span', { class: 'step-name' }, step.name), ' ',
        h('span', { class: 'muted small' }, duration(step.duration_ms)),
        step.error && step.status !== 'success' ? h('span', { class: 'small error-text' }, ` ${step.error}`) : null);
      entry.section.dataset.status = step.status;
      if (step.status === 'failed' && !entry.opened) {
        entry.section.open = true;
        entry.opened = true;
      }
    });
    if (!steps.length && !this.steps.size) {
      fill(this.body, h('p', { class: 'muted' },
        jobStatus === 'pending' ? 'Waiting for the jobs it needs…' : 'No steps ran.'));
      this.empty = true;
    }
  }

  step(position, name) {
    let entry = this.steps.get(position);
    if (entry) return entry;
    if (this.empty) {
      fill(this.body, );
      this.empty = false;
    }
    const summary = h('summary', {}, h('span', { class: 'step-name' }, name));
    const pre = h('pre', { class: 'log' });
    const section = h('details', { class: 'step', open: true, 'data-position': position }, summary, pre);
    entry = { section, pre, summary, count: 0 };
    this.steps.set(position, entry);
    // Sections in step order, whatever order they appear in.
    const after = [...this.body.children].find((child) => Number(child.dataset.position) > position);
    this.body.insertBefore(section, after || null);
    return entry;
  }

  // A `line` event of the log stream.
  addLine(event) {
    this.pending.push(event);
    if (!this.flushTimer) this.flushTimer = setTimeout(() => this.flush(), 16);
  }

  flush() {
    this.flushTimer = null;
    const needle = this.search;
    const byStep = new Map();
    for (const event of this.pending) {
      const entry = this.step(event.position, event.step);
      entry.count += 1;
      const line = lineElement(entry.count, event.text);
      if (needle) {
        if (line.plain.includes(needle)) highlight(line, needle);
        else line.hidden = true;
      }
      if (!byStep.has(entry)) byStep.set(entry, document.createDocumentFragment());
      byStep.get(entry).append(line);
    }
    this.pending = [];
    for (const [entry, fragment] of byStep) {
      const pre = entry.pre;
      const atBottom = pre.scrollHeight - pre.scrollTop - pre.clientHeight < 24;
      pre.append(fragment);
      while (pre.childElementCount > MAX_LINES) pre.firstElementChild.remove();
      if (atBottom) pre.scrollTop = pre.scrollHeight;
    }
    if (needle) this.updateStatus();
  }

  setSearch(text) {
    this.search = text.trim().toLowerCase();
    for (const { pre, section } of this.steps.values()) {
      let found = false;
      for (const line of [...pre.children]) unhighlight(line);
      for (const line of pre.children) {
        const match = !this.search || line.plain.includes(this.search);
        line.hidden = !match;
        if (match && this.search) {
          highlight(line, this.search);
          found = true;
        }
      }
      if (found) section.open = true;
    }
    this.updateStatus();
  }

  updateStatus() {
    if (!this.search) {
      this.status.textContent = '';
      return;
    }
    let n = 0;
    for (const { pre } of this.steps.values()) n += pre.querySelectorAll('.line:not([hidden])').length;
    this.status.textContent = `${n} matching line${n === 1 ? '' : 's'}`;
  }
}
