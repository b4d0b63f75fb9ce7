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

import { expected, InvalidArgumentError, ModelFormatError, NativeLoadError, UnsupportedOperatorError } from '../errors.js';
import type { Graph } from '../ir/graph.js';
import { readModel } from '../tflite/read.js';
import type { TensorData } from './plan.js';
import type { RunProfile } from './profile.js';
import { PlanRunner } from './runner.js';
import { ARRAY_TYPES, describePlan, type SessionInfo, type SessionStep, type SessionTensorInfo } from './session-info.js';
import type { SerializedError, WorkerReply, WorkerRequest } from './session-worker.js';

export type { SessionDtype, SessionInfo, SessionStep, SessionTensorInfo } from './session-info.js';
export type { TensorData } from './plan.js';
export type { RunProfile } from './profile.js';

export interface LoadModelOptions {
  /** Threads per native call: 1 to 256, or 0 for one per core. Default 1. */
  readonly threads?: number;
  /** Run in a worker thread (default true) or on the calling thread (false). */
  readonly worker?: boolean;
  /**
   * Keep the model's variable tensors (LSTM state) from one run() to the next, as TFLite's
   * interpreter does, for streaming a sequence chunk by chunk; resetState() starts over.
   * Default false: every run starts from the reset state, so runs are independent.
   */
  readonly keepState?: boolean;
}

/** Rebuilds an error posted by the worker as the class it was thrown as. */
function rebuildError(error: SerializedError): Error {
  switch (error.code) {
    case 'ERR_LITEQUANT_INVALID_ARGUMENT':
      return new InvalidArgumentError(error.message);
    case 'ERR_LITEQUANT_MODEL_FORMAT':
      return new ModelFormatError(error.message);
    case 'ERR_LITEQUANT_UNSUPPORTED_OPERATOR':
      return new UnsupportedOperatorError(error.op ?? '', error.index ?? -1, error.message);
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
  resetState(): Promise<void>;
  profile(inputs: TensorData[], runs: number): Promise<RunProfile>;
  close(): Promise<void>;
}

class MainThreadBackend implements Backend {
  readonly #runner: PlanRunner;
  constructor(runner: PlanRunner) {
    this.#runner = runner;
  }
  run(inputs: TensorData[]): Promise<TensorData[]> {
    return Promise.resolve(this.#runner.run(inputs));
  }
  resetState(): Promise<void> {
    this.#runner.resetState();
    return Promise.resolve();
  }
  profile(inputs: TensorData[], runs: number): Promise<RunProfile> {
    return Promise.resolve(this.#runner.profile(inputs, runs));
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

class WorkerBackend implements Backend {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (reply: WorkerReply) => void; reject: (e: Error) => void }>();
  #nextId = 0;
  #dead: Error | null = null;

  constructor(worker: Worker) {
    this.#worker = worker;
    worker.on('message', (message: WorkerReply & { id: number; error?: SerializedError }) => {
      const pending = this.#pending.get(message.id);
      if (pending === undefined) return;
      this.#pending.delete(message.id);
      if (this.#pending.size === 0) worker.unref();
      if (message.error !== undefined) pending.reject(rebuildError(message.error));
      else pending.resolve(message);
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

  async run(inputs: TensorData[]): Promise<TensorData[]> {
    return (await this.#request({ inputs })).outputs ?? [];
  }

  async resetState(): Promise<void> {
    await this.#request({ inputs: [], resetState: true });
  }

  async profile(inputs: TensorData[], runs: number): Promise<RunProfile> {
    const reply = await this.#request({ inputs, profileRuns: runs });
    if (reply.profile === undefined) throw new Error('the worker did not return a profile');
    return reply.profile;
  }

  #request(request: WorkerRequest): Promise<WorkerReply> {
    if (this.#dead !== null) return Promise.reject(this.#dead);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.ref();
      this.#worker.postMessage({ id, ...request }, request.inputs.map((x) => x.buffer as ArrayBuffer));
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
  /** Activation memory at the static batch: the shared arena vs one buffer per tensor. */
  readonly memory: SessionInfo['memory'];
  readonly #backend: Backend;
  #queue: Promise<unknown> = Promise.resolve();

  /** Use loadModel. */
  constructor(info: SessionInfo, backend: Backend) {
    this.inputs = info.inputs;
    this.outputs = info.outputs;
    this.steps = info.steps;
    this.memory = info.memory;
    this.#backend = backend;
  }

  /** Runs the model on one typed array per input; resolves to one new typed array per output. */
  run(inputs: readonly TensorData[]): Promise<TensorData[]> {
    const error = this.#checkInputs(inputs);
    if (error !== null) return Promise.reject(error);
    // Copy now: callers may reuse their arrays as soon as run() returns, and the worker
    // backend transfers (detaches) what it sends.
    const copies = inputs.map((x) => x.slice() as TensorData);
    return this.#enqueue(() => this.#backend.run(copies));
  }

  /**
   * Runs the model `runs` times (default 10) on the same inputs, timing every step: for
   * `litequant bench` and tuning. Steps are timed in the thread that runs them.
   */
  profile(inputs: readonly TensorData[], runs = 10): Promise<RunProfile> {
    const error = this.#checkInputs(inputs) ?? (Number.isInteger(runs) && runs >= 1 ? null : expected('an integer >= 1', 'runs', runs));
    if (error !== null) return Promise.reject(error);
    const copies = inputs.map((x) => x.slice() as TensorData);
    return this.#enqueue(() => this.#backend.profile(copies, runs));
  }

  /** Restores the variable tensors (LSTM state) to their reset values; for keepState sessions. */
  resetState(): Promise<void> {
    return this.#enqueue(() => this.#backend.resetState());
  }

  #enqueue<T>(job: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(job);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  #checkInputs(inputs: readonly TensorData[]): Error | null {
    if (!Array.isArray(inputs) || inputs.length !== this.inputs.length) {
      return expected(`an array of ${this.inputs.length} typed arrays (one per model input)`, 'inputs', inputs);
    }
    // A dynamic batch (-1 first dimension in every input's signature) takes any whole
    // multiple of the static shape, the same multiple for every input.
    const dynamic = this.inputs.every((t) => t.shapeSignature[0] === -1 && t.length > 0);
    let batches: number | null = null;
    for (const [i, t] of this.inputs.entries()) {
      const value: unknown = inputs[i];
      const kind = ARRAY_TYPES[t.dtype];
      if (!(value instanceof kind)) {
        return expected(`a ${kind.name} (model input ${i} '${t.name}' is ${t.dtype})`, `inputs[${i}]`, value);
      }
      const k = value.length / t.length;
      const fits = dynamic ? Number.isInteger(k) && k >= 1 && (batches === null || k === batches) : k === 1;
      if (!fits) {
        const allowed = dynamic
          ? `a positive multiple of ${t.length} elements (shape [${t.shape.join(', ')}], batch dynamic)${batches === null ? '' : `, ${batches}x as the other inputs`}`
          : `${t.length} elements (shape [${t.shape.join(', ')}])`;
        return new InvalidArgumentError(`Expected ${allowed} for inputs[${i}] but received ${value.length}`);
      }
      batches = k;
    }
    return null;
  }

  /** Ends the worker thread (if any); later runs reject. */
  close(): Promise<void> {
    return this.#backend.close();
  }
}

function checkOptions(options: LoadModelOptions): { threads: number; worker: boolean; keepState: boolean } {
  if (options === null || typeof options !== 'object') throw expected('an object', 'options', options);
  const threads = options.threads ?? 1;
  if (typeof threads !== 'number' || !Number.isInteger(threads) || threads < 0 || threads > 256) {
    throw expected('an integer from 0 to 256', 'options.threads', threads);
  }
  const worker = options.worker ?? true;
  if (typeof worker !== 'boolean') throw expected('a boolean', 'options.worker', worker);
  const keepState = options.keepState ?? false;
  if (typeof keepState !== 'boolean') throw expected('a boolean', 'options.keepState', keepState);
  return { threads, worker, keepState };
}

function startWorker(model: Uint8Array | Graph, threads: number, keepState: boolean): Promise<Session> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./session-worker.js', import.meta.url), { workerData: { model, threads, keepState } });
    const onError = (error: Error): void => reject(error);
    worker.once('error', onError);
    worker.once('message', (message: { type: string; error?: SerializedError } & SessionInfo) => {
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
  const { threads, worker, keepState } = checkOptions(options);
  const isGraph = model !== null && typeof model === 'object' && Array.isArray((model as Graph).subgraphs);
  if (!(model instanceof Uint8Array) && !isGraph) throw expected('a Uint8Array (.tflite bytes) or a Graph', 'model', model);
  if (worker) {
    // Bytes are read here first, so a malformed file fails the same way on both backends.
    if (model instanceof Uint8Array) readModel(model);
    return startWorker(model, threads, keepState);
  }
  const runner = new PlanRunner(model instanceof Uint8Array ? readModel(model) : model, { threads, keepState });
  return new Session(describePlan(runner.base), new MainThreadBackend(runner));
}
