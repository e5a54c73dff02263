import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RingBook } from '../../../../src/model/lm/gpu/ring-book.js';
import { inlineOutputs } from '../../../../src/model/lm/gpu/inline-outputs.js';
import { GraphBuilder } from '../../../../src/model/onnx/graph-builder.js';

const visible = (book: RingBook, row: number) => book.bias.subarray(row * book.capacity, (row + 1) * book.capacity).filter((v) => v === 0).length;

test('a row writes position p to slot p mod C and sees its last C frames, the new one included', () => {
  const C = 12;
  const book = new RingBook(1, C, C);
  for (let step = 0; step < 40; step++) {
    assert.equal(book.slot[0], step % C, `step ${step}`);
    assert.equal(visible(book, 0), 1 + Math.min(step, C - 1), `step ${step}`);
    book.advance();
  }
});

test('a ring shorter than the context keeps the last C frames; a longer one is refused', () => {
  const book = new RingBook(1, 8, 20);
  for (let step = 0; step < 30; step++) book.advance();
  assert.equal(visible(book, 0), 8);
  assert.throws(() => new RingBook(1, 21, 20), /longer than the context/);
});

test('skipped steps keep nothing and do not advance the row; the slot stays visible for the step itself', () => {
  const book = new RingBook(2, 8, 8);
  const exec = Uint8Array.of(1, 0);
  for (let i = 0; i < 3; i++) book.advance(exec);
  assert.deepEqual([...book.positions], [3, 0]);
  assert.deepEqual([...book.slot], [3, 0]);
  assert.equal(visible(book, 0), 4);
  assert.equal(visible(book, 1), 1); // row 1: only the frame of the coming step
  book.reset(0);
  assert.equal(visible(book, 0), 1);
  assert.equal(book.positions[0], 0);
});

test('move carries a row\'s positions and bias to another row', () => {
  const book = new RingBook(2, 8, 8);
  for (let i = 0; i < 5; i++) book.advance(Uint8Array.of(0, 1));
  book.move(1, 0);
  book.reset(1);
  assert.deepEqual([...book.positions], [5, 0]);
  assert.equal(book.slot[0], 5);
  assert.equal(visible(book, 0), 6);
  assert.equal(visible(book, 1), 1);
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
