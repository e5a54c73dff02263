import assert from 'node:assert/strict';
import type { EngineClient, EngineFrame } from '../../src/engine/engine-client.js';
import type { SamplingParams } from '../../src/engine/sampling/sampling-params.js';

/** Opens session `id`, pushes every frame, and returns each input frame's output tokens ([] before the delays fill). */
export async function serveFrames(engine: EngineClient, id: string, sampling: SamplingParams, frames: Float32Array[]): Promise<number[][]> {
  const served = new Map<number, number[]>();
  await new Promise<void>((resolve) => {
    void engine.open(id, sampling, {
      onFrame: (f: EngineFrame) => {
        served.set(f.inputFrame, f.tokens ? [...f.tokens] : []);
        if (served.size === frames.length) resolve();
      },
      onLost: () => {},
    }).then((ok) => {
      assert.ok(ok, `engine refused session ${id}`);
      // pushFrame hands the buffer to the worker; copies keep the caller's frames usable.
      for (const f of frames) engine.pushFrame(id, f.slice());
    });
  });
  return frames.map((_, i) => served.get(i)!);
}
