import type { InputClip } from './input-clip.js';
import { runSession, type SessionResult } from './session.js';
import { chatUrl, type Scenario } from './scenario.js';
import { sleep, type LoadRuntime } from './runtime.js';

/** A conversation shorter than this is not worth opening near the end of the duration. */
const MIN_TALK_MS = 2_000;
/** Pause after a conversation that never got its handshake, so a refusing server is not hammered. */
const RETRY_PAUSE_MS = 1_000;

export interface IterationContext {
  /** 1-based VU number (k6 `__VU`). */
  vu: number;
  /** 0-based iteration of this VU (k6 `__ITER`). */
  iteration: number;
  /** Runtime-clock time the scenario started. */
  scenarioStart: number;
  /** Base chat URL, e.g. ws://127.0.0.1:8998/api/chat. */
  url: string;
}

export function staggerMs(s: Scenario, vu: number): number {
  return s.vus <= 1 ? 0 : ((vu - 1) * s.staggerS * 1000) / s.vus;
}

/**
 * One k6 iteration of a VU: (first time only) wait for its stagger slot, hold
 * one conversation, then pause. Returns null when too little time was left
 * to start one; it then sleeps out the duration so that an executor that
 * repeats iterations does not spin.
 */
export async function runIteration(rt: LoadRuntime, s: Scenario, clip: InputClip, ctx: IterationContext): Promise<SessionResult | null> {
  const end = ctx.scenarioStart + s.durationS * 1000;
  if (ctx.iteration === 0) await sleep(rt, staggerMs(s, ctx.vu));
  if (end - rt.now() < MIN_TALK_MS) {
    await sleep(rt, end - rt.now());
    return null;
  }
  const [lo, hi] = s.talkS;
  const result = await runSession(rt, clip, {
    url: chatUrl(ctx.url, s.query),
    talkMs: (lo + Math.random() * (hi - lo)) * 1000,
    talkUntil: end,
    handshakeTimeoutMs: s.handshakeTimeoutMs,
    drainMs: s.drainMs,
    closeTimeoutMs: s.closeTimeoutMs,
  });
  const pause = result.handshake ? s.pauseS * 1000 : RETRY_PAUSE_MS;
  await sleep(rt, Math.min(pause, end - rt.now()));
  return result;
}
