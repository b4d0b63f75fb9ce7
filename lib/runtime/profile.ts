// Timing a plan: wall time of every run and of every step, measured where the plan runs.
import { runPlan, type Plan, type TensorData } from './plan.js';

export interface RunProfile {
  /** Wall time of each run, milliseconds. */
  readonly runMs: number[];
  /** Per step (in plan order): the op, its implementation and its mean time per run (ms). */
  readonly steps: { index: number; op: string; impl: string; meanMs: number }[];
}

export function profilePlan(plan: Plan, inputs: readonly TensorData[], runs: number): RunProfile {
  const stepMs = new Float64Array(plan.steps.length);
  const runMs: number[] = [];
  runPlan(plan, inputs); // warm-up: first-touch of buffers, JIT
  for (let r = 0; r < runs; r++) {
    const start = performance.now();
    runPlan(plan, inputs, stepMs);
    runMs.push(performance.now() - start);
  }
  const steps = plan.steps.map((s, i) => ({ index: s.index, op: s.op, impl: s.impl, meanMs: stepMs[i]! / runs }));
  return { runMs, steps };
}
