export const STAGES = ['encode', 'temporal', 'depformer', 'decode', 'sampling', 'overhead'] as const;
export type Stage = (typeof STAGES)[number];
export type StageTimes = Record<Stage, number>;

export function emptyStageTimes(): StageTimes {
  return { encode: 0, temporal: 0, depformer: 0, decode: 0, sampling: 0, overhead: 0 };
}

/** Accumulates wall time per pipeline stage within one tick. */
export class StageTimer {
  readonly times = emptyStageTimes();
  private last = performance.now();
  private readonly start = this.last;

  /** Charges the time since the previous mark to `stage`. */
  mark(stage: Stage): void {
    const now = performance.now();
    this.times[stage] += now - this.last;
    this.last = now;
  }

  total(): number {
    return performance.now() - this.start;
  }
}
