import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultMimiConfig, loadMimiConfig, mimiDims, parseMimiConfig } from '../../../src/model/mimi/config.js';
import { FIXTURE_DIR } from './fixture.js';

function fixtureJson(): Record<string, Record<string, unknown>> {
  return JSON.parse(readFileSync(join(FIXTURE_DIR, 'mimi_config.json'), 'utf8'));
}

test('the fixture mimi_config.json parses with its own sizes', () => {
  const cfg = loadMimiConfig(join(FIXTURE_DIR, 'mimi_config.json'));
  assert.equal(cfg.seanet.dimension, 32);
  assert.equal(cfg.quantizer.bins, 64);
  assert.equal(cfg.transformer.context, 250);
  const d = mimiDims(cfg);
  assert.deepEqual([d.frameSize, d.hop, d.steps, d.resampleStride], [1920, 960, 2, 2]);
});

test('a missing mimi_config.json means Kyutai default Mimi', () => {
  assert.equal(loadMimiConfig(join(FIXTURE_DIR, 'no-such-file.json')), defaultMimiConfig);
  assert.equal(loadMimiConfig(undefined), defaultMimiConfig);
  const d = mimiDims(defaultMimiConfig);
  assert.deepEqual([d.frameSize, d.dimension, d.codebookDim, d.cardinality, d.totalCodebooks, d.layers, d.heads, d.context],
    [1920, 512, 256, 2048, 32, 8, 8, 250]);
});

test('a wrong type in mimi_config.json gives a message naming the field', () => {
  const bad = fixtureJson();
  bad['seanet']!['n_filters'] = '4';
  assert.throws(() => parseMimiConfig(bad), (e: Error) => /seanet\.n_filters/.test(e.message) && /number/.test(e.message));
  const bad2 = fixtureJson();
  bad2['transformer']!['layer_scale'] = 'small';
  assert.throws(() => parseMimiConfig(bad2), /transformer\.layer_scale/);
  const bad3 = fixtureJson();
  bad3['seanet']!['ratios'] = [8, 'six', 5, 4];
  assert.throws(() => parseMimiConfig(bad3), /seanet\.ratios\.1/);
});

test('loading a file with a wrong type names the file and the field', () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-mimi-cfg-'));
  const path = join(dir, 'mimi_config.json');
  const bad = fixtureJson();
  bad['quantizer']!['bins'] = true;
  writeFileSync(path, JSON.stringify(bad));
  assert.throws(() => loadMimiConfig(path), (e: Error) => e.message.includes(path) && /quantizer\.bins/.test(e.message));
  writeFileSync(path, '{ not json');
  assert.throws(() => loadMimiConfig(path), /not valid JSON/);
});

test('settings that cannot stream are refused by name, unknown keys too', () => {
  const reflect = fixtureJson();
  reflect['seanet']!['pad_mode'] = 'reflect';
  assert.throws(() => parseMimiConfig(reflect), /seanet\.pad_mode/);
  const noContext = fixtureJson();
  noContext['transformer']!['context'] = null;
  assert.throws(() => parseMimiConfig(noContext), /transformer\.context/);
  const unknown = fixtureJson();
  unknown['seanet']!['n_filterz'] = 4;
  assert.throws(() => parseMimiConfig(unknown), /n_filterz/);
  const missing = fixtureJson();
  delete missing['transformer']!['d_model'];
  assert.throws(() => parseMimiConfig(missing), /transformer\.d_model/);
});
