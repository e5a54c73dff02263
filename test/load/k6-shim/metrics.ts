// k6 custom metrics that record every sample for the test to read.
export interface ShimSample {
  name: string;
  value: number;
  tags?: Record<string, string>;
}

export const created = new Map<string, string>();
export const samples: ShimSample[] = [];

class ShimMetric {
  constructor(readonly name: string, kind: string) {
    created.set(name, kind);
  }

  add(value: number | boolean, tags?: Record<string, string>): void {
    samples.push({ name: this.name, value: Number(value), tags });
  }
}

export class Trend extends ShimMetric {
  constructor(name: string, readonly isTime = false) {
    super(name, 'trend');
  }
}

export class Counter extends ShimMetric {
  constructor(name: string) {
    super(name, 'counter');
  }
}

export class Rate extends ShimMetric {
  constructor(name: string) {
    super(name, 'rate');
  }
}
