import { test } from 'node:test';
import assert from 'node:assert/strict';
import { layoutDag, NODE_WIDTH } from '../src/dag.js';

test('layers follow the longest chain of needs', () => {
  const layout = layoutDag([
    { name: 'lint', needs: [] },
    { name: 'test', needs: [] },
    { name: 'train', needs: ['lint', 'test'] },
    { name: 'evaluate', needs: ['train'] },
    { name: 'report', needs: ['lint', 'evaluate'] },
  ]);
  const layers = Object.fromEntries(Object.entries(layout.nodes).map(([name, node]) => [name, node.layer]));
  assert.deepEqual(layers, { lint: 0, test: 0, train: 1, evaluate: 2, report: 3 });
  assert.equal(layout.edges.length, 5);
  assert.ok(layout.nodes.train.x > layout.nodes.lint.x + NODE_WIDTH);
  assert.ok(layout.width >= 4 * NODE_WIDTH);
});

test('jobs in a layer are ordered by the rows of what they need', () => {
  const layout = layoutDag([
    { name: 'a', needs: [] },
    { name: 'b', needs: [] },
    { name: 'after-b', needs: ['b'] },
    { name: 'after-a', needs: ['a'] },
  ]);
  assert.ok(layout.nodes['after-a'].y < layout.nodes['after-b'].y);
});

test('unknown needs and cycles do not hang or throw', () => {
  const layout = layoutDag([
    { name: 'x', needs: ['y', 'missing'] },
    { name: 'y', needs: ['x'] },
  ]);
  assert.equal(Object.keys(layout.nodes).length, 2);
  assert.equal(layout.edges.length, 2);
});
