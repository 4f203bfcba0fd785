// node --test web/test: the dashboard's pure modules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAnsi, stripAnsi } from '../src/ansi.js';

test('plain text is one unstyled segment', () => {
  assert.deepEqual(parseAnsi('hello'), [{ text: 'hello', classes: [], style: {} }]);
});

test('colours, bold and reset', () => {
  assert.deepEqual(parseAnsi('\x1b[1;31mFAIL\x1b[0m ok'), [
    { text: 'FAIL', classes: ['ansi-fg-1', 'ansi-bold'], style: {} },
    { text: ' ok', classes: [], style: {} },
  ]);
  assert.deepEqual(parseAnsi('\x1b[92mbright\x1b[39m'), [{ text: 'bright', classes: ['ansi-fg-10'], style: {} }]);
  assert.deepEqual(parseAnsi('\x1b[44mbg'), [{ text: 'bg', classes: ['ansi-bg-4'], style: {} }]);
});

test('256 colours and truecolor become inline colours', () => {
  assert.deepEqual(parseAnsi('\x1b[38;5;196mred'), [{ text: 'red', classes: [], style: { color: 'rgb(255,0,0)' } }]);
  assert.deepEqual(parseAnsi('\x1b[38;5;2mgreen'), [{ text: 'green', classes: ['ansi-fg-2'], style: {} }]);
  assert.deepEqual(parseAnsi('\x1b[48;2;1;2;3mx'), [{ text: 'x', classes: [], style: { background: 'rgb(1,2,3)' } }]);
});

test('other sequences are dropped and a carriage return keeps the last state', () => {
  assert.equal(stripAnsi('\x1b[2Kprogress\x1b[1G'), 'progress');
  assert.equal(stripAnsi('10%\r50%\r100%'), '100%');
  assert.equal(stripAnsi('\x1b]0;title\x07text'), 'text');
  assert.equal(stripAnsi('windows line\r'), 'windows line');
});
