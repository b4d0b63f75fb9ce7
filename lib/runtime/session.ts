// loadModel: a model (bytes or a Graph) compiled once into a Plan (weights packed, buffers
// allocated), then run any number of times. run() validates the inputs (count, typed-array
// kind, length) on the calling thread, then computes:
// - by default in a worker_threads Worker that owns the plan (session-worker.ts), so the main
//   thread stays responsive; the inputs are copied and the copies transferred, the outputs
//   transferred back. The worker does not keep the process alive while no run is pending;
//   close() ends it.
// - with { worker: false } on the calling thread (still Promise-returning): for calibration
//   and tests that want the plan in-process.
// Either way runs are queued in order (they share the plan's buffers) and each resolves to new
// typed arrays.
import { Worker } from 'node:worker_threads';

import { expected, InvalidArgumentError, ModelFormatError, NativeLoadError } from '../errors.js';
import type { Graph } from '../ir/graph.js';
import { readModel } from '../tflite/read.js';
import { compilePlan, type Plan, type TensorData } from './plan.js';
import { ARRAY_TYPES, describeTensor, type SessionTensorInfo } from './session-info.js';
import type { SerializedError } from './session-worker.js';

export type { SessionDtype, SessionTensorInfo } from './session-info.js';
export type { TensorData } from './plan.js';

export interface LoadModelOptions {
  /** Threads per native call: 1 to 256, or 0 for one per core. Default 1. */
  readonly threads?: number;
  /** Run in a worker thread (default true) or on the calling thread (false). */
  readonly worker?: boolean;
}

export interface SessionStep {
  readonly index: number;
  readonly op: string;
  readonly impl: string;
}

/** Rebuilds an error posted by the worker as the class it was thrown as. */
function rebuildError(error: SerializedError): Error {
  switch (error.code) {
    case 'ERR_LITEQUANT_INVALID_ARGUMENT':
      return new InvalidArgumentError(error.message);
    case 'ERR_LITEQUANT_MODEL_FORMAT':
      return new ModelFormatError(error.message);
    case 'ERR_LITEQUANT_NATIVE_LOAD':
      return new NativeLoadError(error.message);
    default: {
      const rebuilt = new Error(error.message);
      rebuilt.name = error.name;
      return rebuilt;
    }
  }
}

interface Backend {
  run(inputs: TensorData[]): Promise<TensorData[]>;
  close(): Promise<void>;
}

class MainThreadBackend implements Backend {
  readonly #plan: Plan;
  constructor(plan: Plan) {
    this.#plan = plan;
  }
  run(inputs: TensorData[]): Promise<TensorData[]> {
    const plan = this.#plan;
    plan.inputs.forEach((t, i) => (t.data as Float32Array).set(inputs[i] as Float32Array));
    for (const step of plan.steps) step.run();
    return Promise.resolve(plan.outputs.map((t) => t.data.slice() as TensorData));
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

class WorkerBackend implements Backend {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (o: TensorData[]) => void; reject: (e: Error) => void }>();
  #nextId = 0;
  #dead: Error | null = null;

  constructor(worker: Worker) {
    this.#worker = worker;
    worker.on('message', (message: { id: number; outputs?: TensorData[]; error?: SerializedError }) => {
      const pending = this.#pending.get(message.id);
      if (pending === undefined) return;
      this.#pending.delete(message.id);
      if (this.#pending.size === 0) worker.unref();
      if (message.error !== undefined) pending.reject(rebuildError(message.error));
      else pending.resolve(message.outputs ?? []);
    });
    const fail = (error: Error): void => {
      this.#dead ??= error;
      for (const { reject } of this.#pending.values()) reject(error);
      this.#pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the session's worker thread exited (code ${code})`)));
    worker.unref();
  }

  run(inputs: TensorData[]): Promise<TensorData[]> {
    if (this.#dead !== null) return Promise.reject(this.#dead);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.ref();
      this.#worker.postMessage({ id, inputs }, inputs.map((x) => x.buffer as ArrayBuffer));
    });
  }

  async close(): Promise<void> {
    this.#dead ??= new Error('the session is closed');
    await this.#worker.terminate();
  }
}

export class Session {
  readonly inputs: readonly SessionTensorInfo[];
  readonly outputs: readonly SessionTensorInfo[];
  /** The compiled steps: operator index, op name and the implementation that runs it. */
  readonly steps: readonly SessionStep[];
  readonly #backend: Backend;
  #queue: Promise<unknown> = Promise.resolve();

  /** Use loadModel. */
  constructor(info: { inputs: SessionTensorInfo[]; outputs: SessionTensorInfo[]; steps: SessionStep[] }, backend: Backend) {
    this.inputs = info.inputs;
    this.outputs = info.outputs;
    this.steps = info.steps;
    this.#backend = backend;
  }

  /** Runs the model on one typed array per input; resolves to one new typed array per output. */
  run(inputs: readonly TensorData[]): Promise<TensorData[]> {
    if (!Array.isArray(inputs) || inputs.length !== this.inputs.length) {
      return Promise.reject(expected(`an array of ${this.inputs.length} typed arrays (one per model input)`, 'inputs', inputs));
    }
    for (const [i, t] of this.inputs.entries()) {
      const value: unknown = inputs[i];
      const kind = ARRAY_TYPES[t.dtype];
      if (!(value instanceof kind)) {
        return Promise.reject(expected(`a ${kind.name} (model input ${i} '${t.name}' is ${t.dtype})`, `inputs[${i}]`, value));
      }
      if (value.length !== t.length) {
        return Promise.reject(
          new InvalidArgumentError(
            `Expected ${t.length} elements (shape [${t.shape.join(', ')}]) for inputs[${i}] but received ${value.length}`,
          ),
        );
      }
    }
    // Copy now: callers may reuse their arrays as soon as run() returns, and the worker
    // backend transfers (detaches) what it sends.
    const copies = inputs.map((x) => x.slice() as TensorData);
    const result = this.#queue.then(() => this.#backend.run(copies));
    this.#queue = result.catch(() => undefined);
    return result;
  }

  /** Ends the worker thread (if any); later runs reject. */
  close(): Promise<void> {
    return this.#backend.close();
  }
}

function checkOptions(options: LoadModelOptions): { threads: number; worker: boolean } {
  if (options === null || typeof options !== 'object') throw expected('an object', 'options', options);
  const threads = options.threads ?? 1;
  if (typeof threads !== 'number' || !Number.isInteger(threads) || threads < 0 || threads > 256) {
    throw expected('an integer from 0 to 256', 'options.threads', threads);
  }
  const worker = options.worker ?? true;
  if (typeof worker !== 'boolean') throw expected('a boolean', 'options.worker', worker);
  return { threads, worker };
}

function startWorker(model: Uint8Array | Graph, threads: number): Promise<Session> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./session-worker.js', import.meta.url), { workerData: { model, threads } });
    const onError = (error: Error): void => reject(error);
    worker.once('error', onError);
    worker.once('message', (message: { type: string; error?: SerializedError } & ConstructorParameters<typeof Session>[0]) => {
      worker.off('error', onError);
      if (message.type === 'ready') {
        resolve(new Session(message, new WorkerBackend(worker)));
      } else {
        void worker.terminate();
        reject(rebuildError(message.error ?? { name: 'Error', code: undefined, message: 'the worker failed to load the model' }));
      }
    });
  });
}

/**
 * Reads (when given bytes) and compiles a model: weights packed, buffers allocated. An op or
 * dtype the runtime does not support is an error here, naming the op and its index.
 */
export async function loadModel(model: Uint8Array | Graph, options: LoadModelOptions = {}): Promise<Session> {
  const { threads, worker } = checkOptions(options);
  const isGraph = model !== null && typeof model === 'object' && Array.isArray((model as Graph).subgraphs);
  if (!(model instanceof Uint8Array) && !isGraph) throw expected('a Uint8Array (.tflite bytes) or a Graph', 'model', model);
  if (worker) {
    // Bytes are read here first, so a malformed file fails the same way on both backends.
    if (model instanceof Uint8Array) readModel(model);
    return startWorker(model, threads);
  }
  const plan = compilePlan(model instanceof Uint8Array ? readModel(model) : model, { threads });
  const info = {
    inputs: plan.inputs.map(describeTensor),
    outputs: plan.outputs.map(describeTensor),
    steps: plan.steps.map(({ index, op, impl }) => ({ index, op, impl })),
  };
  return new Session(info, new MainThreadBackend(plan));
}
