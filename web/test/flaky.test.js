import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitTests, testSummary, evidenceText, evidenceOf, sortFlakyTests } from '../src/flaky.js';

const evidence = { reason: 'passed and failed on the same commit', runs: [1, 3], commits: ['1a2b3c4d5e6f', 'abcdefabcdef'] };
const list = [
  { name: 'real', status: 'failed', known_flaky: null, flaky: false },
  { name: 'flappy', status: 'error', known_flaky: evidence.reason, flaky_evidence: evidence, flaky: false },
  { name: 'ok', status: 'passed', known_flaky: null, flaky: true },
  { name: 'skip', status: 'skipped', known_flaky: null, flaky: false },
  { name: 'broken', status: 'failed', known_flaky: null, flaky: false },
];

test('known-flaky failures are told apart from real ones, order kept', () => {
  const { real, knownFlaky, others } = splitTests(list);
  assert.deepEqual(real.map((t) => t.name), ['real', 'broken']);
  assert.deepEqual(knownFlaky.map((t) => t.name), ['flappy']);
  assert.deepEqual(others.map((t) => t.name), ['ok', 'skip']);
});

test('the summary counts known-flaky failures among the failures', () => {
  assert.equal(testSummary(list), '3 failed (1 known flaky), 1 passed, 1 skipped, 1 flaky');
  assert.equal(testSummary([{ status: 'passed' }]), '0 failed, 1 passed, 0 skipped');
});

test('evidence reads as the CLI prints it', () => {
  assert.equal(evidenceText(evidence), 'passed and failed on the same commit: runs 1, 3 (commits 1a2b3c4d5e6f, abcdefabcdef)');
  assert.equal(evidenceText({ reason: 'flips often', runs: [4], commits: [] }), 'flips often: run 4');
  assert.equal(evidenceText(null), '');
  // An older server sends the reason alone.
  assert.deepEqual(evidenceOf({ known_flaky: 'why' }), { reason: 'why', runs: [], commits: [] });
  assert.equal(evidenceOf({ known_flaky: null }), null);
  assert.equal(evidenceOf(list[1]), evidence);
});

test('flaky tests that failed last come first, then the newest', () => {
  const sorted = sortFlakyTests([
    { job: 'b', id: 'x', last_run: 9, last_status: 'passed' },
    { job: 'a', id: 'y', last_run: 3, last_status: 'failed' },
    { job: 'a', id: 'z', last_run: 7, last_status: 'error' },
    { job: 'a', id: 'w', last_run: 9, last_status: 'passed' },
  ]);
  assert.deepEqual(sorted.map((t) => t.id), ['z', 'y', 'w', 'x']);
});
