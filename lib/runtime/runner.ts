// Runs a model at any batch its inputs allow. A plan is compiled for a fixed batch; inputs
// whose first shape_signature dimension is -1 may hold k times the rows of the static shape.
// For a new batch size the runner compiles a plan at that batch (the few most recent are
// kept); when the model cannot be planned at that batch (a RESHAPE to a fixed batch, say), it
// runs the static plan once per slice of rows and concatenates the outputs. Both give the
// same values: every op the runtime has computes batch rows independently.
//
// With keepState, variable tensors (LSTM state) carry over from run to run; each batch size's
// plan holds its own state, and slices (which would carry state from one slice to the next)
// are refused.
import { InvalidArgumentError } from '../errors.js';
import type { Graph } from '../ir/graph.js';
import { compilePlan, resetState, runPlan, type Plan, type TensorData } from './plan.js';
import { profilePlan, type RunProfile } from './profile.js';

/** Batch plans kept besides the static one (each holds its own packed weights). */
const CACHED_BATCHES = 3;

export class PlanRunner {
  /** The plan at the file's static shapes (compiled at load: load errors surface here). */
  readonly base: Plan;
  readonly #graph: Graph;
  readonly #threads: number;
  readonly #keepState: boolean;
  /** Batch -> plan, or null when that batch cannot be planned (slices of the base plan run). */
  readonly #byBatch = new Map<number, Plan | null>();

  constructor(graph: Graph, options: { threads: number; keepState: boolean }) {
    this.#graph = graph;
    this.#threads = options.threads;
    this.#keepState = options.keepState;
    this.base = compilePlan(graph, options);
  }

  /** Restores the variable tensors of every plan to their reset values. */
  resetState(): void {
    resetState(this.base);
    for (const plan of this.#byBatch.values()) if (plan !== null) resetState(plan);
  }

  run(inputs: readonly TensorData[]): TensorData[] {
    const batch = this.#batchOf(inputs);
    if (batch === this.base.batch) return runPlan(this.base, inputs);
    const plan = this.#planFor(batch);
    if (plan !== null) return runPlan(plan, inputs);
    return this.#runSlices(inputs, batch);
  }

  profile(inputs: readonly TensorData[], runs: number): RunProfile {
    const batch = this.#batchOf(inputs);
    return profilePlan(batch === this.base.batch ? this.base : (this.#planFor(batch) ?? this.base), inputs, runs);
  }

  /** The batch the inputs hold (the caller checked they are whole multiples of the rows). */
  #batchOf(inputs: readonly TensorData[]): number {
    const first = this.base.inputs[0];
    if (first === undefined || inputs[0] === undefined) return this.base.batch;
    const rowLength = first.data.length / this.base.batch;
    return rowLength === 0 ? this.base.batch : inputs[0].length / rowLength;
  }

  #planFor(batch: number): Plan | null {
    const cached = this.#byBatch.get(batch);
    if (cached !== undefined) {
      this.#byBatch.delete(batch); // most recent last
      this.#byBatch.set(batch, cached);
      return cached;
    }
    let plan: Plan | null = null;
    try {
      plan = compilePlan(this.#graph, { threads: this.#threads, batch, keepState: this.#keepState });
      const sized = (t: { data: TensorData }, i: number, base: readonly { data: TensorData }[]): boolean =>
        t.data.length === (base[i]!.data.length / this.base.batch) * batch;
      if (!plan.inputs.every((t, i) => sized(t, i, this.base.inputs)) || !plan.outputs.every((t, i) => sized(t, i, this.base.outputs))) {
        plan = null;
      }
    } catch {
      plan = null; // not plannable at this batch: run slices of the static plan
    }
    this.#byBatch.set(batch, plan);
    if (this.#byBatch.size > CACHED_BATCHES) this.#byBatch.delete(this.#byBatch.keys().next().value!);
    return plan;
  }

  #runSlices(inputs: readonly TensorData[], batch: number): TensorData[] {
    const base = this.base;
    if (this.#keepState && base.variables.length > 0) {
      throw new InvalidArgumentError(`Expected a batch of ${base.batch} for a session that keeps state (the model cannot be planned at batch ${batch}) but received ${batch}`);
    }
    const slices = batch / base.batch;
    const outputs = base.outputs.map((t) => new (t.data.constructor as new (n: number) => TensorData)(t.data.length * slices));
    for (let s = 0; s < slices; s++) {
      const part = inputs.map((x, i) => {
        const n = base.inputs[i]!.data.length;
        return x.subarray(s * n, (s + 1) * n) as TensorData;
      });
      runPlan(base, part).forEach((y, i) => (outputs[i] as Float32Array).set(y as Float32Array, s * y.length));
    }
    return outputs;
  }
}
