import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModelDir, MANIFEST_FILE } from '../../src/model/manifest.js';
import { fixtureModelDir } from '../helpers/server-harness.js';

function withManifest(edit: (m: Record<string, unknown> & { files: Record<string, unknown> }) => void): string {
  const m = JSON.parse(readFileSync(join(fixtureModelDir(), MANIFEST_FILE), 'utf8')) as Record<string, unknown> & { files: Record<string, unknown> };
  edit(m);
  const dir = mkdtempSync(join(tmpdir(), 'parley-manifest-'));
  writeFileSync(join(dir, MANIFEST_FILE), JSON.stringify(m));
  return dir;
}

test('a manifest without host graphs and without device graphs is rejected, naming what it needs', () => {
  const dir = withManifest((m) => {
    delete m.files['temporal'];
    delete m.files['depformer'];
    delete m.files['depformerFrame'];
  });
  assert.throws(() => loadModelDir(dir), /invalid manifest[\s\S]*files: needs the host-cache LM graphs/);
});

test('a manifest with only some of the host graphs is rejected', () => {
  const dir = withManifest((m) => {
    delete m.files['depformerFrame'];
    m.files['gpu'] = { precision: 'fp16', temporal: 'gpu_temporal.onnx', depformer: ['gpu_depformer_0.onnx'], depformerFrame: 'gpu_depformer_frame.onnx' };
  });
  assert.throws(() => loadModelDir(dir), /needs the host-cache LM graphs/);
});

test('a manifest of another model format version asks for a new conversion', () => {
  const dir = withManifest((m) => {
    m['version'] = 3;
  });
  assert.throws(() => loadModelDir(dir), /model format 3; this one reads \d+.*convert it again/);
});
