import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_SAMPLING_PARAMS,
  formatSamplingError,
  parseSamplingQuery,
  samplingQuerySchema,
} from '../../../src/engine/sampling/sampling-params.js';

test('an empty query gives Moshi\'s defaults and no seeds', () => {
  const r = samplingQuerySchema.parse({});
  assert.deepEqual(r, { ...DEFAULT_SAMPLING_PARAMS });
  assert.equal(r.textTemperature, 0.7);
  assert.equal(r.textTopK, 25);
  assert.equal(r.audioTemperature, 0.8);
  assert.equal(r.audioTopK, 250);
  assert.ok(!('textSeed' in r) && !('audioSeed' in r));
});

test('the web client\'s parameters are parsed from strings, unknown ones ignored', () => {
  const r = parseSamplingQuery(
    new URLSearchParams(
      'text_temperature=0.5&text_topk=10&audio_temperature=1&audio_topk=100&text_seed=18446744073709551615&audio_seed=7' +
        '&pad_mult=-1.5&repetition_penalty_context=64&repetition_penalty=1.1&worker_auth_id=abc&email=a%40b.c',
    ),
  );
  assert.deepEqual(r, {
    ok: true,
    params: {
      textTemperature: 0.5,
      textTopK: 10,
      audioTemperature: 1,
      audioTopK: 100,
      textSeed: 18446744073709551615n,
      audioSeed: 7n,
      padMult: -1.5,
      repetitionPenaltyContext: 64,
      repetitionPenalty: 1.1,
    },
  });
});

function rejects(query: Record<string, string | string[]>, message: string): void {
  const r = parseSamplingQuery(query);
  assert.equal(r.ok, false, `accepted ${JSON.stringify(query)}`);
  if (!r.ok) assert.equal(r.error, message);
}

test('bad values are rejected with a message naming the parameter and why', () => {
  rejects({ text_temperature: '-0.1' }, 'text_temperature: must be a number >= 0');
  rejects({ text_temperature: 'NaN' }, 'text_temperature: must be a number >= 0');
  rejects({ audio_temperature: '' }, 'audio_temperature: must be a number >= 0');
  rejects({ audio_temperature: '0.8x' }, 'audio_temperature: must be a number >= 0');
  rejects({ text_temperature: '1e9' }, 'text_temperature: must be at most 10 (got 1e9)');
  rejects({ text_topk: '0' }, 'text_topk: must be an integer >= 1');
  rejects({ audio_topk: '2.5' }, 'audio_topk: must be an integer >= 1');
  rejects({ audio_topk: '-3' }, 'audio_topk: must be an integer >= 1');
  rejects({ text_topk: '99999999' }, 'text_topk: must be at most 100000 (got 99999999)');
  rejects({ text_seed: '-1' }, 'text_seed: must be an integer between 0 and 18446744073709551615');
  rejects({ audio_seed: '1.5' }, 'audio_seed: must be an integer between 0 and 18446744073709551615');
  rejects({ audio_seed: '18446744073709551616' }, 'audio_seed: must be an integer between 0 and 18446744073709551615');
  rejects({ repetition_penalty_context: '3.5' }, 'repetition_penalty_context: must be an integer >= 0');
  rejects({ repetition_penalty: '0' }, 'repetition_penalty: must be a number > 0');
  rejects({ pad_mult: 'Infinity' }, 'pad_mult: must be a number between -10 and 10');
  rejects({ text_topk: ['5', '6'] }, 'text_topk: must be given once');
});

test('several bad values are reported together on one line', () => {
  rejects({ text_temperature: '-1', audio_topk: 'x' }, 'text_temperature: must be a number >= 0; audio_topk: must be an integer >= 1');
});

test('formatSamplingError turns a zod error into one line', () => {
  const r = samplingQuerySchema.safeParse({ text_topk: '0' });
  assert.equal(r.success, false);
  if (!r.success) assert.equal(formatSamplingError(r.error), 'text_topk: must be an integer >= 1');
});

test('boundary values are accepted: temperature 0 (greedy), top-k 1, seed 0, context 0', () => {
  const r = samplingQuerySchema.parse({ text_temperature: '0', audio_topk: '1', text_seed: '0', repetition_penalty_context: '0' });
  assert.equal(r.textTemperature, 0);
  assert.equal(r.audioTopK, 1);
  assert.equal(r.textSeed, 0n);
  assert.equal(r.repetitionPenaltyContext, 0);
});
