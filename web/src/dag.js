// The job DAG: a layered layout by `needs` (pure, tested in
// web/test/dag.test.js) and its SVG drawing.

import { svg, duration } from './util.js';

export const NODE_WIDTH = 190;
export const NODE_HEIGHT = 52;
const COLUMN_GAP = 60;
const ROW_GAP = 16;
const MARGIN = 8;

// jobs: [{name, needs: [names]}] -> {nodes: {name: {x, y, layer}}, edges:
// [{from, to}], width, height}. A job's layer is the length of the longest
// chain of needs before it; needs naming no planned job are ignored (and
// cycles, which the pipeline validator refuses, cannot hang it). Within a
// layer, jobs are ordered by the mean row of what they need (barycenter),
// then by plan order, which keeps most edges short and uncrossed.
export function layoutDag(jobs) {
  const byName = new Map(jobs.map((job, index) => [job.name, { job, index }]));
  const layer = new Map();
  const visiting = new Set();
  const layerOf = (name) => {
    if (layer.has(name)) return layer.get(name);
    if (visiting.has(name)) return 0;
    visiting.add(name);
    let value = 0;
    for (const need of byName.get(name).job.needs || []) {
      if (byName.has(need)) value = Math.max(value, layerOf(need) + 1);
    }
    visiting.delete(name);
    layer.set(name, value);
    return value;
  };
  const layers = [];
  for (const job of jobs) {
    const l = layerOf(job.name);
    (layers[l] ||= []).push(job.name);
  }
  const row = new Map();
  layers.forEach((names, l) => {
    if (l > 0) {
      const center = (name) => {
        const rows = (byName.get(name).job.needs || []).filter((n) => row.has(n)).map((n) => row.get(n));
        return rows.length ? rows.reduce((a, b) => a + b, 0) / rows.length : Infinity;
      };
      names.sort((a, b) => center(a) - center(b) || byName.get(a).index - byName.get(b).index);
    }
    names.forEach((name, r) => row.set(name, r));
  });
  const rows = Math.max(1, ...layers.map((names) => (names ? names.length : 0)));
  const nodes = {};
  layers.forEach((names, l) => {
    // Each column is centred vertically against the tallest one.
    const offset = ((rows - names.length) * (NODE_HEIGHT + ROW_GAP)) / 2;
    names.forEach((name, r) => {
      nodes[name] = {
        layer: l,
        x: MARGIN + l * (NODE_WIDTH + COLUMN_GAP),
        y: MARGIN + offset + r * (NODE_HEIGHT + ROW_GAP),
      };
    });
  });
  const edges = [];
  for (const job of jobs) {
    for (const need of job.needs || []) {
      if (byName.has(need)) edges.push({ from: need, to: job.name });
    }
  }
  return {
    nodes,
    edges,
    width: 2 * MARGIN + layers.length * NODE_WIDTH + Math.max(0, layers.length - 1) * COLUMN_GAP,
    height: 2 * MARGIN + rows * NODE_HEIGHT + (rows - 1) * ROW_GAP,
  };
}

function truncate(text, max) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

// The SVG of a run's jobs; onSelect(name) when a job is clicked.
export function drawDag(jobs, selected, onSelect) {
  const layout = layoutDag(jobs);
  const edges = layout.edges.map(({ from, to }) => {
    const a = layout.nodes[from];
    const b = layout.nodes[to];
    const x1 = a.x + NODE_WIDTH;
    const y1 = a.y + NODE_HEIGHT / 2;
    const x2 = b.x;
    const y2 = b.y + NODE_HEIGHT / 2;
    const mid = (x1 + x2) / 2;
    return svg('path', { class: 'dag-edge', d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}` });
  });
  const nodes = jobs.map((job) => {
    const { x, y } = layout.nodes[job.name];
    const attempts = job.attempt > 1 ? ` · attempt ${job.attempt}` : '';
    const running = job.duration_ms === null && job.started_at && !job.finished_at;
    const time = running ? `${duration(Date.now() - Date.parse(job.started_at))}…` : duration(job.duration_ms);
    const detail = `${job.status} · ${time}${attempts}`;
    return svg('g', {
      class: `dag-node status-${job.status}${job.name === selected ? ' selected' : ''}`,
      transform: `translate(${x},${y})`,
      'data-job': job.name,
      role: 'button',
      tabindex: '0',
      onclick: () => onSelect(job.name),
      onkeydown: (event) => { if (event.key === 'Enter') onSelect(job.name); },
    },
    svg('title', {}, `${job.name}\n${detail}${job.error ? `\n${job.error}` : ''}`),
    svg('rect', { width: NODE_WIDTH, height: NODE_HEIGHT, rx: 6 }),
    svg('circle', { class: 'dag-dot', cx: 14, cy: 18, r: 5 }),
    svg('text', { class: 'dag-name', x: 26, y: 22 }, truncate(job.name, 22)),
    svg('text', { class: 'dag-detail', x: 12, y: 41 }, truncate(detail, 28)));
  });
  return svg('svg', {
    class: 'dag',
    viewBox: `0 0 ${layout.width} ${layout.height}`,
    width: layout.width,
    height: layout.height,
    role: 'img',
    'aria-label': 'job graph',
  }, edges, nodes);
}
