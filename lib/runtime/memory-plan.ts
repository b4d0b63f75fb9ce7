// Activation memory: one arena shared by every tensor an operator writes, each tensor at an
// offset chosen so that tensors alive at the same time never overlap (greedy by size, as
// TFLite's arena planner does). A tensor is alive from the step that writes it to the last
// step that reads it, both included, so no op's output ever aliases one of its own inputs.
// Subgraph inputs live from before the first step, outputs and variable tensors to the end.
import type { Subgraph } from '../ir/graph.js';

/** Byte offset alignment: a cache line, enough for every typed array kind. */
const ALIGNMENT = 64;

export interface MemoryPlan {
  /** Byte offset of each tensor in the arena; -1 for tensors that are not planned (constants). */
  readonly offsets: readonly number[];
  readonly arenaBytes: number;
  /** What one buffer per tensor would take. */
  readonly separateBytes: number;
}

interface Interval {
  readonly tensor: number;
  readonly bytes: number;
  readonly first: number;
  readonly last: number;
}

/**
 * Plans the arena for the tensors with `bytes[i] > 0` that are not `constant[i]`.
 * `bytes[i]` is tensor i's buffer size at the plan's shapes.
 */
export function planMemory(subgraph: Subgraph, bytes: readonly number[], constant: readonly boolean[]): MemoryPlan {
  const steps = subgraph.operators.length;
  const first = new Array<number>(bytes.length).fill(Number.POSITIVE_INFINITY);
  const last = new Array<number>(bytes.length).fill(Number.NEGATIVE_INFINITY);
  const touch = (t: number, step: number): void => {
    if (t < 0 || t >= bytes.length) return;
    first[t] = Math.min(first[t]!, step);
    last[t] = Math.max(last[t]!, step);
  };
  for (const t of subgraph.inputs) touch(t, -1);
  subgraph.operators.forEach((op, step) => {
    for (const t of op.inputs) touch(t, step);
    for (const t of op.outputs) touch(t, step);
  });
  for (const t of subgraph.outputs) touch(t, steps);
  subgraph.tensors.forEach((t, i) => {
    if (t.isVariable || first[i] === Number.POSITIVE_INFINITY) {
      touch(i, -1);
      touch(i, steps);
    }
  });

  const intervals: Interval[] = [];
  let separateBytes = 0;
  bytes.forEach((size, tensor) => {
    if (constant[tensor] === true || size === 0) return;
    separateBytes += size;
    intervals.push({ tensor, bytes: size, first: first[tensor]!, last: last[tensor]! });
  });
  intervals.sort((a, b) => b.bytes - a.bytes || a.first - b.first);

  const offsets = new Array<number>(bytes.length).fill(-1);
  const placed: (Interval & { offset: number })[] = [];
  let arenaBytes = 0;
  for (const item of intervals) {
    const live = placed
      .filter((p) => p.first <= item.last && item.first <= p.last)
      .sort((a, b) => a.offset - b.offset);
    let offset = 0;
    for (const p of live) {
      if (p.offset - offset >= item.bytes) break;
      offset = Math.max(offset, alignUp(p.offset + p.bytes));
    }
    placed.push({ ...item, offset });
    offsets[item.tensor] = offset;
    arenaBytes = Math.max(arenaBytes, alignUp(offset + item.bytes));
  }
  return { offsets, arenaBytes, separateBytes };
}

function alignUp(n: number): number {
  return Math.ceil(n / ALIGNMENT) * ALIGNMENT;
}
