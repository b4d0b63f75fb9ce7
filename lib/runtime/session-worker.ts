// The worker side of a Session: compiles the plan inside a worker_threads Worker (weights are
// packed there, buffers live there) and runs it on request, so the main thread stays free.
//
// Protocol (session.ts is the other side):
//   workerData      { model: Uint8Array | Graph, threads, keepState }
//   worker -> main  { type: 'ready', inputs, outputs, steps } | { type: 'error', error }
//   main -> worker  { id, inputs: TypedArray[], profileRuns?, resetState? } (buffers transferred)
//   worker -> main  { id, outputs } | { id, profile } | { id, error } (buffers transferred)
// Errors travel as { name, code, message } and are rebuilt into the same class by session.ts.
import { parentPort, workerData } from 'node:worker_threads';

import type { Graph } from '../ir/graph.js';
import { readModel } from '../tflite/read.js';
import type { TensorData } from './plan.js';
import type { RunProfile } from './profile.js';
import { PlanRunner } from './runner.js';
import { describePlan } from './session-info.js';

export interface WorkerRequest {
  readonly inputs: TensorData[];
  /** When set, time every step over this many runs instead of returning outputs. */
  readonly profileRuns?: number;
  /** When set, reset the variable tensors (inputs is empty) and reply with no outputs. */
  readonly resetState?: true;
}

export interface WorkerReply {
  readonly outputs?: TensorData[];
  readonly profile?: RunProfile;
}

export interface SerializedError {
  readonly name: string;
  readonly code: string | undefined;
  readonly message: string;
  /** UnsupportedOperatorError's fields. */
  readonly op?: string;
  readonly index?: number;
}

function serialize(error: unknown): SerializedError {
  if (error instanceof Error) {
    const { code, op, index } = error as { code?: string; op?: string; index?: number };
    return { name: error.name, code, message: error.message, op, index };
  }
  return { name: 'Error', code: undefined, message: String(error) };
}

const port = parentPort;
if (port === null) throw new Error('session-worker.ts must run in a worker_threads Worker');
const data = workerData as { model: Uint8Array | Graph; threads: number; keepState: boolean };

let runner: PlanRunner | undefined;
try {
  runner = new PlanRunner(data.model instanceof Uint8Array ? readModel(data.model) : data.model, { threads: data.threads, keepState: data.keepState });
  port.postMessage({ type: 'ready', ...describePlan(runner.base) });
} catch (error) {
  port.postMessage({ type: 'error', error: serialize(error) });
}

port.on('message', (message: WorkerRequest & { id: number }) => {
  const { id, inputs, profileRuns } = message;
  try {
    if (runner === undefined) throw new Error('the model did not load');
    if (message.resetState === true) {
      runner.resetState();
      port.postMessage({ id });
      return;
    }
    if (profileRuns !== undefined) {
      port.postMessage({ id, profile: runner.profile(inputs, profileRuns) });
      return;
    }
    const outputs = runner.run(inputs);
    port.postMessage({ id, outputs }, outputs.map((o) => o.buffer as ArrayBuffer));
  } catch (error) {
    port.postMessage({ id, error: serialize(error) });
  }
});
