// Small DOM and formatting helpers shared by the pages.

// h('div', {class: 'x', onclick: f}, 'text', child, [more]) builds an
// element. Children may be strings (as text, never parsed as HTML), nodes,
// arrays, or null/false (skipped).
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else if (name === 'dataset') Object.assign(element.dataset, value);
    else element.setAttribute(name, value === true ? '' : value);
  }
  append(element, children);
  return element;
}

// Replaces an element's children, with h()'s rules for them.
export function fill(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(element, child);
    else element.append(child instanceof Node ? child : String(child));
  }
}

// SVG elements need their namespace.
export function svg(tag, attributes = {}, ...children) {
  const element = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) {
      element.append(child instanceof Node ? child : String(child));
    }
  }
  return element;
}

// 1234 -> "1.2s", 65000 -> "1m05s", null -> "–".
export function duration(ms) {
  if (ms === null || ms === undefined) return '–';
  if (ms < 1000) return `${ms}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

// An RFC 3339 time as "5m ago" (the full time in a tooltip by the caller).
export function ago(time) {
  if (!time) return '–';
  const seconds = Math.max(0, (Date.now() - Date.parse(time)) / 1000);
  if (seconds < 60) return `${Math.floor(seconds)}s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h ago`;
  return `${Math.floor(seconds / 86400)}d ago`;
}

export function localTime(time) {
  return time ? new Date(time).toLocaleString() : '–';
}

const STATUS_ICONS = {
  success: '✓', passed: '✓', pass: '✓',
  failed: '✗', error: '✗', fail: '✗',
  running: '●', queued: '○', pending: '○',
  cancelled: '⊘', interrupted: '⊘', skipped: '–',
  // Environments: release phases, replica states, analysis verdicts.
  live: '✓', ready: '✓', ok: '✓', canary: '◐', rolling: '◐', preview: '◐', starting: '○', unready: '○', backoff: '↻',
  stopping: '⊘', stopped: '⊘', superseded: '–', empty: '–', inconclusive: '?',
};

// A status word with its colour and icon.
export function badge(status) {
  return h('span', { class: `badge status-${status}` }, `${STATUS_ICONS[status] || '?'} ${status}`);
}

export function isTerminal(status) {
  return !['queued', 'running'].includes(status);
}

export function shortSha(sha) {
  return sha ? sha.slice(0, 8) : '';
}

// A link handled by the app's router (no page load).
export function link(href, ...children) {
  return h('a', { href, 'data-route': '' }, ...children);
}

// A message box for failures a person should see.
export function errorBox(error) {
  return h('div', { class: 'error', role: 'alert' }, error.message || String(error));
}
