// Charts, drawn by uPlot (web/node_modules/uplot, embedded as /vendor/).
// Loaded on demand: pages without charts never fetch the library.

import uPlot from '/vendor/uplot.esm.js';

const COLORS = {
  green: '#2da44e', red: '#cf222e', grey: '#8c959f', blue: '#0969da', orange: '#bc4c00', purple: '#8250df',
  yellow: '#bf8700',
};
const SERIES_COLORS = [COLORS.blue, COLORS.orange, COLORS.purple, COLORS.green, COLORS.red, COLORS.grey];

function width(container) {
  return Math.max(280, Math.min(container.clientWidth || 600, 900));
}

// Resizes with its container; returns a function that destroys the chart.
function mount(container, options, data) {
  const chart = new uPlot({ ...options, width: width(container) }, data, container);
  const observer = new ResizeObserver(() => chart.setSize({ width: width(container), height: options.height }));
  observer.observe(container);
  return () => { observer.disconnect(); chart.destroy(); };
}

// Run durations over time: runs = [{created_at, duration_ms, status}] oldest
// first; runs without a duration are left out.
export function durationChart(container, runs) {
  const done = runs.filter((run) => run.duration_ms !== null);
  const data = [
    done.map((run) => Date.parse(run.created_at) / 1000),
    done.map((run) => run.duration_ms / 1000),
  ];
  return mount(container, {
    title: 'Run duration',
    height: 220,
    scales: { x: { time: true } },
    axes: [{}, { label: 'seconds', size: 60 }],
    series: [{}, { label: 'duration (s)', stroke: COLORS.blue, width: 1.5, points: { show: true, size: 5 } }],
  }, data);
}

// Test counts per run: runs = [{id, tests: {passed, failed, skipped} | null}].
export function testCountChart(container, runs) {
  const tested = runs.filter((run) => run.tests);
  const data = [
    tested.map((run) => Date.parse(run.created_at) / 1000),
    tested.map((run) => run.tests.passed),
    // Real failures and known-flaky ones apart (older servers send no flaky_failed).
    tested.map((run) => run.tests.failed - (run.tests.flaky_failed || 0)),
    tested.map((run) => run.tests.flaky_failed || 0),
    tested.map((run) => run.tests.skipped),
  ];
  const line = (label, stroke) => ({ label, stroke, width: 1.5, points: { show: true, size: 5 } });
  return mount(container, {
    title: 'Tests per run',
    height: 220,
    scales: { x: { time: true } },
    axes: [{}, { label: 'tests', size: 50 }],
    series: [{}, line('passed', COLORS.green), line('failed', COLORS.red),
      line('known flaky', COLORS.yellow), line('skipped', COLORS.grey)],
  }, data);
}

// One metric across model versions: points = [{version, value}] by version.
export function metricChart(container, title, points) {
  const data = [points.map((p) => p.version), points.map((p) => p.value)];
  return mount(container, {
    title,
    height: 180,
    scales: { x: { time: false } },
    axes: [{ label: 'version', values: (u, values) => values.map((v) => (Number.isInteger(v) ? `v${v}` : '')) }, { size: 60 }],
    series: [{ label: 'version' }, {
      label: title, stroke: SERIES_COLORS[title.length % SERIES_COLORS.length], width: 2, points: { show: true, size: 7 },
    }],
  }, data);
}

// A chart of samples taken by the page (an environment's traffic): time on
// x, one line per series. Returns {update(times, series), destroy}; `times`
// are seconds since the epoch, `series` [{label, values}] aligned with them
// (null where a series has no sample). The chart is rebuilt when the series
// change (a release appears or goes), else only its data is replaced.
export function liveChart(container, title, unit) {
  let chart = null;
  let observer = null;
  let labels = '';
  const destroy = () => {
    if (observer) observer.disconnect();
    if (chart) chart.destroy();
    chart = null;
    observer = null;
  };
  const update = (times, series) => {
    const data = [times, ...series.map((s) => s.values)];
    const key = series.map((s) => s.label).join('\n');
    if (chart && key === labels) {
      chart.setData(data);
      return;
    }
    destroy();
    labels = key;
    const options = {
      title,
      height: 200,
      width: width(container),
      scales: { x: { time: true } },
      axes: [{}, { label: unit, size: 60 }],
      series: [{}, ...series.map((s, i) => ({
        label: s.label, stroke: SERIES_COLORS[i % SERIES_COLORS.length], width: 1.5, spanGaps: false, points: { show: false },
      }))],
    };
    chart = new uPlot(options, data, container);
    observer = new ResizeObserver(() => chart && chart.setSize({ width: width(container), height: options.height }));
    observer.observe(container);
  };
  return { update, destroy };
}
