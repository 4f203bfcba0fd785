import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sseParser } from '../src/api.js';

const STREAM = 'event: line\ndata: {"text":"a\\u001b[31mb","position":1}\n\n'
  + ': keep-alive\n\n'
  + 'event: run\ndata: {"status":"success"}\n\n'
  + 'event: end\ndata: {}\n\n';
const EXPECTED = [
  ['line', { text: 'a\u001b[31mb', position: 1 }],
  ['run', { status: 'success' }],
  ['end', {}],
];

test('events in one piece, comments skipped', () => {
  const events = [];
  sseParser((type, data) => events.push([type, data]))(STREAM);
  assert.deepEqual(events, EXPECTED);
});

test('the same events cut anywhere', () => {
  for (let cut = 1; cut < STREAM.length; cut++) {
    const events = [];
    const push = sseParser((type, data) => events.push([type, data]));
    push(STREAM.slice(0, cut));
    push(STREAM.slice(cut));
    assert.deepEqual(events, EXPECTED, `cut at ${cut}`);
  }
});

test('CRLF line ends cut anywhere', () => {
  const crlf = STREAM.replace(/\n/g, '\r\n');
  for (let cut = 1; cut < crlf.length; cut++) {
    const events = [];
    const push = sseParser((type, data) => events.push([type, data]));
    push(crlf.slice(0, cut));
    push(crlf.slice(cut));
    assert.deepEqual(events, EXPECTED, `cut at ${cut}`);
  }
});

test('CRLF line ends and an incomplete last event', () => {
  const events = [];
  const push = sseParser((type, data) => events.push([type, data]));
  push('event: job\r\ndata: {"job":"x"}\r\n\r\nevent: run\r\ndata: {"st');
  assert.deepEqual(events, [['job', { job: 'x' }]]);
});
