import type { GraphBuilder, Value } from '../onnx/graph-builder.js';
import type { StateSpec } from './layout.js';

/** Graph input/output names of a carried state. */
export const stateInputName = (name: string): string => `state_in.${name}`;
export const stateOutputName = (name: string): string => `state_out.${name}`;

/**
 * Collects the streaming states of one graph: each is a graph input
 * `state_in.<name>` ([batch, ...shape]) and an output `state_out.<name>` that
 * the runner stores back for the rows that executed.
 */
export class StreamStates {
  readonly specs: StateSpec[] = [];
  constructor(private readonly b: GraphBuilder) {}

  /** Declares a state and returns its current value. `init` is its fresh-session value. */
  input(name: string, shape: number[], init: number): Value {
    if (this.specs.some((s) => s.name === name)) throw new Error(`duplicate streaming state ${name}`);
    this.specs.push({ name, shape, init });
    return this.b.input(stateInputName(name), 'float32', ['batch', ...shape]);
  }

  output(name: string, value: Value): void {
    const spec = this.specs.find((s) => s.name === name);
    if (!spec) throw new Error(`streaming state ${name} was never declared`);
    this.b.output(value, stateOutputName(name), 'float32', ['batch', ...spec.shape]);
  }
}
