// ANSI escape sequences in log lines -> styled segments. Pure (no DOM), so
// node's test runner checks it (web/test/ansi.test.js).
//
// Handles SGR (ESC [ ... m): reset, bold, dim, italic, underline, the 8 and
// bright 8 colours (as classes ansi-fg-N / ansi-bg-N, N = 0..15), 256-colour
// and truecolor (as inline colours). Other CSI sequences (erase line, cursor
// moves) are dropped. A carriage return keeps what follows it, as a terminal
// would show a progress bar's last state.

const PALETTE_256 = (() => {
  const colors = [];
  const steps = [0, 95, 135, 175, 215, 255];
  for (let r = 0; r < 6; r++) {
    for (let g = 0; g < 6; g++) {
      for (let b = 0; b < 6; b++) colors.push(`rgb(${steps[r]},${steps[g]},${steps[b]})`);
    }
  }
  for (let i = 0; i < 24; i++) {
    const v = 8 + i * 10;
    colors.push(`rgb(${v},${v},${v})`);
  }
  return colors;
})();

// A colour from an extended SGR (38/48 ; 5 ; n  or  38/48 ; 2 ; r ; g ; b):
// {value, used} where value is a class index (0..15) or a CSS colour.
function extendedColor(codes, i) {
  if (codes[i + 1] === 5 && codes[i + 2] !== undefined) {
    const n = codes[i + 2];
    return { value: n < 16 ? n : PALETTE_256[n - 16] || null, used: 2 };
  }
  if (codes[i + 1] === 2 && codes[i + 4] !== undefined) {
    const [r, g, b] = codes.slice(i + 2, i + 5).map((c) => Math.min(255, c));
    return { value: `rgb(${r},${g},${b})`, used: 4 };
  }
  return { value: null, used: 0 };
}

function applySgr(state, parameters) {
  const codes = parameters === '' ? [0] : parameters.split(';').map((c) => (c === '' ? 0 : Number(c)));
  for (let i = 0; i < codes.length; i++) {
    const code = codes[i];
    if (code === 0) Object.assign(state, { fg: null, bg: null, bold: false, dim: false, italic: false, underline: false });
    else if (code === 1) state.bold = true;
    else if (code === 2) state.dim = true;
    else if (code === 3) state.italic = true;
    else if (code === 4) state.underline = true;
    else if (code === 22) state.bold = state.dim = false;
    else if (code === 23) state.italic = false;
    else if (code === 24) state.underline = false;
    else if (code >= 30 && code <= 37) state.fg = code - 30;
    else if (code >= 90 && code <= 97) state.fg = code - 90 + 8;
    else if (code === 39) state.fg = null;
    else if (code >= 40 && code <= 47) state.bg = code - 40;
    else if (code >= 100 && code <= 107) state.bg = code - 100 + 8;
    else if (code === 49) state.bg = null;
    else if (code === 38 || code === 48) {
      const { value, used } = extendedColor(codes, i);
      state[code === 38 ? 'fg' : 'bg'] = value;
      i += used;
    }
  }
}

// Splits `line` into [{text, classes: [..], style: {color?, background?}}].
// Segments without styling have classes [] and style {}.
export function parseAnsi(line) {
  const carriage = line.lastIndexOf('\r', line.length - 2);
  if (carriage >= 0) line = line.slice(carriage + 1);
  line = line.replace(/\r$/, '');
  const segments = [];
  const state = { fg: null, bg: null, bold: false, dim: false, italic: false, underline: false };
  // ESC [ params final  |  ESC ] ... BEL/ST (titles, links)  |  other ESC X
  const pattern = /\x1b\[([0-9;?]*)([A-Za-z])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]?/g;
  let last = 0;
  const push = (text) => {
    if (!text) return;
    const classes = [];
    const style = {};
    if (typeof state.fg === 'number') classes.push(`ansi-fg-${state.fg}`);
    else if (state.fg) style.color = state.fg;
    if (typeof state.bg === 'number') classes.push(`ansi-bg-${state.bg}`);
    else if (state.bg) style.background = state.bg;
    if (state.bold) classes.push('ansi-bold');
    if (state.dim) classes.push('ansi-dim');
    if (state.italic) classes.push('ansi-italic');
    if (state.underline) classes.push('ansi-underline');
    segments.push({ text, classes, style });
  };
  for (let match; (match = pattern.exec(line)); ) {
    push(line.slice(last, match.index));
    last = pattern.lastIndex;
    if (match[2] === 'm') applySgr(state, match[1]);
  }
  push(line.slice(last));
  return segments;
}

// The text without any escape sequence (for search).
export function stripAnsi(line) {
  return parseAnsi(line).map((segment) => segment.text).join('');
}
