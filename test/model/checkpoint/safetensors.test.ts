import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SafetensorsFile } from '../../../src/model/checkpoint/safetensors.js';
import { SafetensorsWeights } from '../../../src/model/checkpoint/weights.js';
import { FIXTURE } from '../../helpers/fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'parley-st-'));

function file(name: string, header: object | string, data: Uint8Array, lenOverride?: number): string {
  const h = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(lenOverride ?? h.length));
  const p = join(dir, name);
  writeFileSync(p, Buffer.concat([len, h, data]));
  return p;
}

test('reads float32, float16 and bfloat16 tensors as float32', () => {
  const f32 = new Float32Array([1.5, -2]);
  const f16 = new Uint16Array([0x3c00, 0xc000]); // 1, -2
  const bf16 = new Uint16Array([0x3fc0, 0xc000]); // 1.5, -2
  const data = Buffer.concat([Buffer.from(f32.buffer), Buffer.from(f16.buffer), Buffer.from(bf16.buffer)]);
  const p = file('ok.safetensors', {
    a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
    b: { dtype: 'F16', shape: [2], data_offsets: [8, 12] },
    c: { dtype: 'BF16', shape: [1, 2], data_offsets: [12, 16] },
  }, data);
  const st = SafetensorsFile.open(p);
  assert.deepEqual([...st.readF32('a', [2])], [1.5, -2]);
  assert.deepEqual([...st.readF32('b', [2])], [1, -2]);
  assert.deepEqual([...st.readF32('c', [1, 2])], [1.5, -2]);
});

test('a corrupt header is rejected with a message saying so', () => {
  const p = file('bad-json.safetensors', '{"a": {"dtype": ', new Uint8Array(8));
  assert.throws(() => SafetensorsFile.open(p), /corrupt header: not valid JSON/);
  const q = file('bad-len.safetensors', '{}', new Uint8Array(0), 1 << 20);
  assert.throws(() => SafetensorsFile.open(q), /corrupt header: header length \d+ runs past the end/);
  const r = file('bad-dtype.safetensors', { a: { dtype: 'Q7', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4));
  assert.throws(() => SafetensorsFile.open(r), /corrupt header: tensor a: dtype/);
});

test('a truncated file is rejected, naming the tensor that runs past the end', () => {
  const p = file('trunc.safetensors', { w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, new Uint8Array(10));
  assert.throws(() => SafetensorsFile.open(p), /truncated file: tensor w needs bytes up to 16 but only 10 follow the header/);
  const real = readFileSync(join(FIXTURE, 'model.safetensors'));
  const cut = join(dir, 'cut.safetensors');
  writeFileSync(cut, real.subarray(0, real.length - 100));
  assert.throws(() => SafetensorsFile.open(cut), /truncated file/);
});

test('a misshapen or missing tensor names the tensor, the expected and the found shape', () => {
  const w = new SafetensorsWeights(SafetensorsFile.open(join(FIXTURE, 'model.safetensors')));
  assert.throws(() => w.get('text_emb.weight', [129, 65]), /tensor text_emb.weight has shape \[129, 64\], expected \[129, 65\]/);
  assert.throws(() => w.get('no.such.weight', [3]), /missing tensor no\.such\.weight \(expected shape \[3\]\)/);
});
