import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CacheBook, foldGroupOf, foldGroupsFor, foldPhase, windowFor } from '../../../../src/model/lm/gpu/cache-book.js';
import { inlineOutputs } from '../../../../src/model/lm/gpu/inline-outputs.js';
import { GraphBuilder } from '../../../../src/model/onnx/graph-builder.js';

test('window length divides the ring and is shorter than it', () => {
  assert.equal(windowFor(3000), 50);
  assert.equal(windowFor(40), 20);
  assert.equal(windowFor(7), 1);
  assert.equal(windowFor(64, 16), 16);
});

test('a row sees exactly its last `context` positions across ring, window and folds', () => {
  const [C, N] = [12, 4];
  const book = new CacheBook(1, C, N, C);
  for (let step = 0; step < 40; step++) {
    const bias = book.bias();
    const visible = [...bias].filter((v) => v === 0).length;
    // The new frame plus min(p, C - 1) earlier ones: positions > p - C.
    assert.equal(visible, 1 + Math.min(step, C - 1), `step ${step}`);
    const at = book.advance();
    if (at !== null) {
      assert.equal(at % N, 0);
      book.merged(at);
    }
  }
});

test('a book with a phase folds early, then every N steps, and still sees exactly the last `context` positions', () => {
  const [C, N, phase] = [12, 4, 3];
  const book = new CacheBook(1, C, N, C, phase);
  const folds: number[] = [];
  for (let step = 0; step < 40; step++) {
    const visible = [...book.bias()].filter((v) => v === 0).length;
    assert.equal(visible, 1 + Math.min(step, C - 1), `step ${step}`);
    const at = book.advance();
    if (at !== null) {
      folds.push(step + 1);
      assert.equal(at, ((folds.length - 1) * N) % C);
      book.merged(at);
    }
  }
  assert.deepEqual(folds.slice(0, 3), [1, 5, 9]); // step + phase a multiple of N
});

test('fold groups split the layers into contiguous runs, each with its own phase', () => {
  assert.equal(foldGroupsFor(32, 50), 4);
  assert.equal(foldGroupsFor(2, 20), 2);
  assert.equal(foldGroupsFor(6, 3), 3);
  const groups = Array.from({ length: 32 }, (_, l) => foldGroupOf(l, 32, 4));
  assert.deepEqual([0, 1, 2, 3].map((g) => groups.filter((x) => x === g).length), [8, 8, 8, 8]);
  assert.ok(groups.every((g, l) => l === 0 || g >= groups[l - 1]!));
  assert.deepEqual([0, 1, 2, 3].map((g) => foldPhase(g, 4, 100)), [0, 25, 50, 75]);
  assert.throws(() => new CacheBook(1, 12, 4, 12, 4), /phase/);
});

test('skipped steps store nothing and do not advance the row', () => {
  const book = new CacheBook(2, 8, 4, 8);
  const exec = Uint8Array.of(1, 0);
  for (let i = 0; i < 3; i++) book.advance(exec);
  assert.deepEqual([...book.positions], [3, 0]);
  const bias = book.bias();
  assert.equal(bias.subarray(12, 24).filter((v) => v === 0).length, 1); // row 1: only its own new frame
  book.reset(0);
  assert.equal(book.bias().subarray(0, 12).filter((v) => v === 0).length, 1);
});

test('inlineOutputs drops output Identity nodes and keeps the graph valid', () => {
  const b = new GraphBuilder('g');
  const x = b.input('x', 'float32', [2]);
  const y = b.add(x, x);
  b.output(y, 'y', 'float32', [2]);
  b.output(y, 'y2', 'float32', [2]); // the same value twice: the second keeps its Identity
  b.output(x, 'x_out', 'float32', [2]); // a graph input: kept
  const g = inlineOutputs(b.build());
  assert.equal(g.nodes.filter((n) => n.opType === 'Identity').length, 2);
  assert.deepEqual(g.nodes.find((n) => n.opType === 'Add')!.outputs, ['y']);
});
