// The runtime section of npm run bench (issue 5): every model in ../shared/models run whole,
// in our runtime (loadModel from the public API) and in the official one, LiteRT.js WASM
// (litert-worker.mjs, a child process), on the same file and the same inputs, in one run.
//
// Ours: load time (loadModel, the first load of that file in this process), first inference,
// then latency median and p90 on the calling thread (`worker: false`: the kernels' cost), on one
// thread and on two. One line on one model measures what the default worker thread adds: its
// start (loadModel) and its per-run cost. The official runtime: latency median and p90 after
// its load and a warm-up, with the build, thread count and delegate (XNNPACK) it used stated.
// Inputs: the real data of ../shared/data where a model has some, random otherwise; quantized
// models get the same values quantized with their input's scale and zero point.
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';

import { loadModel, readModel, readNpyFile, TensorType, tensorTypeName } from 'litequant';
import type { Graph, Session, Tensor, TensorData } from 'litequant';

export interface Latency {
  readonly runs: number;
  readonly medianMs: number;
  readonly p90Ms: number;
}

export interface OursResult {
  /** loadModel(bytes, { worker: false, threads: 1 }). */
  readonly loadMs: number;
  readonly firstMs: number;
  readonly oneThread: Latency;
  /** threads: 2 (null on one core or when the budget ran short). */
  readonly twoThreads: Latency | null;
}

export interface WasmResult {
  /** The LiteRT.js WASM build used (litert_wasm_compat_internal: no relaxed SIMD in this engine). */
  readonly build: string;
  readonly threads: number;
  /** The runtime logged that it created its XNNPACK delegate. */
  readonly xnnpack: boolean;
  readonly pinnedDims: number;
  /** Model load and compile (with --no-liftoff WASM; not comparable with ours, not compared). */
  readonly loadMs: number;
  readonly firstMs: number;
  readonly latency: Latency;
}

export interface RuntimeModelResult {
  /** Path under ../shared/models. */
  readonly model: string;
  readonly bytes: number;
  /** float32, int8, int8 (float I/O), hybrid, int16x8. */
  readonly kind: string;
  /** Where the inputs came from. */
  readonly inputs: string;
  /** Why the model was not measured at all; null when it was. */
  readonly skipped: string | null;
  readonly ours: OursResult | null;
  /** "unsupported: <message>" when our runtime does not load it. */
  readonly oursError: string | null;
  readonly wasm: WasmResult | null;
  readonly wasmError: string | null;
  /** Our outputs against the official runtime's on the first sample. */
  readonly agreement: string | null;
}

export interface TwinRow {
  readonly family: string;
  readonly float: string;
  readonly int8: string;
  /** 1-thread medians, ms; null when not measured. */
  readonly oursFloatMs: number | null;
  readonly oursInt8Ms: number | null;
  readonly wasmFloatMs: number | null;
  readonly wasmInt8Ms: number | null;
  /**
   * Our float time over our int8 time, from interleaved runs of the two (so that other load on
   * the machine hits both alike): their medians and run count.
   */
  readonly int8VsOurFloat: number | null;
  readonly interleaved: { readonly floatMs: number; readonly int8Ms: number; readonly runs: number } | null;
  /** The official runtime's time over ours, on the int8 file and on the float file. */
  readonly oursVsWasmInt8: number | null;
  readonly oursVsWasmFloat: number | null;
}

export interface WorkerOverhead {
  readonly model: string;
  /** loadModel with the default worker thread, and on the calling thread. */
  readonly workerLoadMs: number;
  readonly inThreadLoadMs: number;
  /** Medians of interleaved runs. */
  readonly workerMedianMs: number;
  readonly inThreadMedianMs: number;
  readonly perRunUs: number;
  readonly runs: number;
}

export interface LargestModel {
  readonly model: string;
  readonly bytes: number;
  /** With the default options (worker thread, 1 thread): loadModel, then the first run. */
  readonly loadMs: number | null;
  readonly firstMs: number | null;
  readonly totalMs: number | null;
  /** The same on the calling thread (worker: false), from the model's row. */
  readonly inThreadTotalMs: number | null;
  readonly error: string | null;
}

export interface RuntimeResult {
  readonly models: RuntimeModelResult[];
  readonly twins: TwinRow[];
  readonly worker: WorkerOverhead | null;
  readonly largest: LargestModel | null;
  /** Node flags of the WASM child process. */
  readonly wasmFlags: readonly string[];
  /** Instantiating the LiteRT.js WASM module (first model only). */
  readonly wasmInstantiateMs: number | null;
  readonly samplesPerModel: number;
  readonly seconds: number;
}

export interface RuntimeOptions {
  /** The package root (for bench/litert-worker.mjs). */
  readonly root: string;
  /** ../shared: models/ and data/. */
  readonly shared: string;
  readonly budgetSeconds: number;
  readonly log: (line: string) => void;
  readonly note: (text: string) => void;
}

// Every timed model cycles through this many input samples.
const SAMPLES = 8;
// The model the worker-thread line is measured on (the first that loads when it does not).
const WORKER_MODEL = 'ic_resnet8_int8_official.tflite';
// The float models and their full-int8 twins compared in the twins table.
const TWINS: readonly (readonly [string, string, string])[] = [
  ['ResNet-8', 'ic_resnet8_float.tflite', 'ic_resnet8_int8_official.tflite'],
  ['VWW MobileNetV1-0.25', 'vww_mobilenetv1_025_96_float.tflite', 'vww_mobilenetv1_025_96_int8_official.tflite'],
  ['AD autoencoder', 'ad01_fc_autoencoder_float.tflite', 'ad01_fc_autoencoder_int8_official.tflite'],
  ['hello_world sine', 'hello_world_sine_float.tflite', 'hello_world_sine_int8_official.tflite'],
];
const WASM_FLAGS = ['--no-liftoff'];

// ---- inputs -----------------------------------------------------------------------------------

interface InputSource {
  readonly describe: string;
  /** `count` samples of `length` floats each (the float model's input values). */
  samples(length: number, count: number): Float32Array[];
}

// Deterministic numbers, so that every run of the bench times the same inputs.
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomSource(describe: string, draw: (next: () => number) => number): InputSource {
  return {
    describe,
    samples: (length, count) => {
      const next = prng(12345);
      return Array.from({ length: count }, () => Float32Array.from({ length }, () => draw(next)));
    },
  };
}

const normal = randomSource('random N(0,1)', (next) => {
  const u = Math.max(next(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
});

function npySource(file: string, scale: number): InputSource {
  const name = file.split('/').pop() ?? file;
  return {
    describe: `${name}${scale === 1 ? '' : ' /255'}`,
    samples: (length, count) => {
      const npy = readNpyFile(file);
      const per = npy.shape.slice(1).reduce((a, b) => a * b, 1);
      if (per !== length) throw new Error(`${name} has ${per} values per sample, the model's input ${length}`);
      if (!(npy.data instanceof Uint8Array || npy.data instanceof Float32Array)) throw new Error(`${name} is ${npy.dtype}, not u1 or f4`);
      const values = npy.data;
      const n = Math.min(count, npy.shape[0] ?? 0);
      return Array.from({ length: n }, (_, i) => Float32Array.from(values.subarray(i * per, (i + 1) * per), (v) => v * scale));
    },
  };
}

// The inputs of each model family (../shared/README.md says which data fits which model).
function sourceFor(model: string, data: string): InputSource {
  const from = (file: string, scale: number): InputSource =>
    existsSync(join(data, file)) ? npySource(join(data, file), scale) : normal;
  if (model.startsWith('ic_resnet8')) return from('cifar10_200_x.npy', 1); // raw pixels 0..255
  if (model.startsWith('vww_')) return from('cifar10_200_96x96_x.npy', 1 / 255);
  if (model.startsWith('ad01_')) return from('toycar_196_x.npy', 1);
  if (model.startsWith('hello_world_sine')) return randomSource('random x in [0, 2π]', (next) => 2 * Math.PI * next());
  return normal;
}

const INT_RANGES: Partial<Record<TensorType, readonly [number, number, new (n: number) => TensorData]>> = {
  [TensorType.INT8]: [-128, 127, Int8Array],
  [TensorType.UINT8]: [0, 255, Uint8Array],
  [TensorType.INT16]: [-32768, 32767, Int16Array],
  [TensorType.INT32]: [-(2 ** 31), 2 ** 31 - 1, Int32Array],
};

/** Float values as the tensor's type: quantized with its (per-tensor) scale and zero point. */
function asTensor(values: Float32Array, tensor: Tensor): TensorData {
  if (tensor.type === TensorType.FLOAT32) return values;
  const range = INT_RANGES[tensor.type];
  if (range === undefined) throw new Error(`input ${tensor.name} has tensor type ${tensor.type}, which the bench does not feed`);
  const [lo, hi, Kind] = range;
  const scale = tensor.quantization?.scale[0] ?? 1;
  const zeroPoint = tensor.quantization?.zeroPoint[0] ?? 0;
  const out = new Kind(values.length) as Int8Array;
  values.forEach((v, i) => (out[i] = Math.min(hi, Math.max(lo, Math.round(v / scale) + zeroPoint))));
  return out;
}

const bytesOf = (t: TensorData): Uint8Array => new Uint8Array(t.buffer, t.byteOffset, t.byteLength).slice();

/** Up to `count` samples, each one typed array per input of subgraph 0 (in its order). */
function modelSamples(graph: Graph | null, source: InputSource, count: number): TensorData[][] {
  const main = graph?.subgraphs[0];
  if (!main) throw new Error('the model has no subgraph');
  const perInput = main.inputs.map((i) => {
    const t = main.tensors[i] as Tensor;
    return source.samples(t.shape.reduce((a, b) => a * b, 1), count).map((v) => asTensor(v, t));
  });
  const n = Math.min(...perInput.map((s) => s.length));
  return Array.from({ length: n }, (_, k) => perInput.map((s) => s[k] as TensorData));
}

// ---- timing -----------------------------------------------------------------------------------

function latency(times: readonly number[]): Latency {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return { runs: sorted.length, medianMs: at(0.5), p90Ms: at(0.9) };
}

interface Slice {
  readonly warmupSeconds: number;
  readonly seconds: number;
  readonly minRuns: number;
  readonly maxRuns: number;
}

async function timeRuns(run: () => Promise<unknown>, slice: Slice): Promise<number[]> {
  const warmEnd = performance.now() + slice.warmupSeconds * 1000;
  do await run();
  while (performance.now() < warmEnd);
  const times: number[] = [];
  const end = performance.now() + slice.seconds * 1000;
  while (times.length < slice.maxRuns && (times.length < slice.minRuns || performance.now() < end)) {
    const t0 = performance.now();
    await run();
    times.push(performance.now() - t0);
  }
  return times;
}

function cycle(samples: readonly TensorData[][]): () => TensorData[] {
  let next = 0;
  return () => {
    const sample = samples[next] as TensorData[];
    next = (next + 1) % samples.length;
    return sample;
  };
}

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';

/** Why loadModel failed: an op or type we lack, or (at any depth of causes) no addon. */
function loadFailure(error: unknown): string {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if ((e as { code?: unknown }).code === 'ERR_LITEQUANT_NATIVE_LOAD') return `the addon did not load: ${message(error)}`;
  }
  return `unsupported: ${message(error)}`;
}

// ---- the official runtime, in a child process -------------------------------------------------

type WasmReply =
  | {
      id: number;
      ok: true;
      build: string;
      threads: number;
      xnnpack: boolean;
      pinnedDims: number;
      instantiateMs: number;
      loadMs: number;
      firstMs: number;
      times: number[];
      outputs: Uint8Array[];
    }
  | { id: number; ok: false; stage: string; message: string };

class WasmChild {
  #child: ChildProcess | null = null;
  #stderr = '';
  #nextId = 0;
  constructor(private readonly file: string) {}

  request(body: Record<string, unknown>, timeoutMs: number): Promise<WasmReply> {
    const child = this.#spawn();
    const id = this.#nextId++;
    return new Promise((resolve) => {
      const done = (reply: WasmReply): void => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        child.off('error', onError);
        if (!reply.ok) this.close(); // the instance may be broken: the next model gets a new one
        resolve(reply);
      };
      const onMessage = (m: WasmReply): void => {
        if (m.id === id) done(m);
      };
      const onExit = (code: number | null, signal: string | null): void => {
        const tail = this.#stderr.trim().split('\n').slice(-3).join(' | ');
        done({ id, ok: false, stage: 'crash', message: `the LiteRT.js process exited (${signal ?? `code ${code}`})${tail ? `: ${tail}` : ''}` });
      };
      const onError = (error: Error): void => done({ id, ok: false, stage: 'crash', message: error.message });
      const timer = setTimeout(() => done({ id, ok: false, stage: 'timeout', message: `no reply within ${timeoutMs / 1000} s` }), timeoutMs);
      child.on('message', onMessage);
      child.on('exit', onExit);
      child.on('error', onError);
      child.send({ id, ...body });
    });
  }

  #spawn(): ChildProcess {
    if (this.#child !== null) return this.#child;
    const env = { ...process.env };
    delete env['NODE_OPTIONS'];
    delete env['NODE_V8_COVERAGE'];
    this.#stderr = '';
    const child = fork(this.file, [], { execArgv: [...WASM_FLAGS], env, serialization: 'advanced', stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => (this.#stderr = (this.#stderr + chunk).slice(-4000)));
    child.on('exit', () => {
      if (this.#child === child) this.#child = null;
    });
    child.on('error', () => undefined); // reported through the pending request
    this.#child = child;
    return child;
  }

  close(): void {
    const child = this.#child;
    this.#child = null;
    child?.kill('SIGKILL');
  }
}

// ---- comparing outputs ------------------------------------------------------------------------

function agreement(ours: readonly TensorData[], theirs: readonly Uint8Array[]): string {
  if (ours.length !== theirs.length) return `${ours.length} outputs vs ${theirs.length}`;
  let maxRel = 0;
  let differ = 0;
  let total = 0;
  let float = false;
  for (const [i, a] of ours.entries()) {
    const raw = theirs[i] as Uint8Array;
    if (raw.byteLength !== a.byteLength) return `output ${i}: ${a.byteLength} bytes vs ${raw.byteLength}`;
    const Kind = a.constructor as new (buffer: ArrayBuffer) => TensorData;
    const b = new Kind(raw.slice().buffer);
    total += a.length;
    if (a instanceof Float32Array) {
      float = true;
      a.forEach((v, k) => (maxRel = Math.max(maxRel, Math.abs(v - Number(b[k])) / (1e-6 + Math.abs(Number(b[k]))))));
    } else {
      for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) differ++;
    }
  }
  const allZero = ours.every((a) => a.every((v) => Number(v) === 0));
  if (float) return maxRel === 0 ? `identical${allZero ? ' (all 0)' : ''}` : `max rel ${maxRel.toExponential(1)}`;
  return differ === 0 ? 'bit-exact' : `${differ} of ${total} differ`;
}

// ---- the section ------------------------------------------------------------------------------

function kindOf(file: string, graph: Graph | null): string {
  if (file.startsWith('int16x8/')) return 'int16x8';
  if (/_dynrange_/.test(file)) return 'hybrid';
  if (/_int8_floatio_/.test(file)) return 'int8, float I/O';
  if (/_int8_/.test(file)) return 'int8';
  if (/_float\.tflite$/.test(file)) return 'float32';
  const main = graph?.subgraphs[0];
  const t = main?.inputs[0] === undefined ? undefined : main.tensors[main.inputs[0]];
  return t === undefined ? '?' : tensorTypeName(t.type).toLowerCase();
}

// Float first, then its twins, family by family; the int16x8 files last.
function modelFiles(models: string): string[] {
  const rank = (f: string): number => ['_float.', '_int8_official.', '_int8_floatio_', '_dynrange_'].findIndex((s) => f.includes(s)) + 1 || 9;
  const family = (f: string): string => f.replace(/_(float|int8_official|int8_floatio_official|dynrange_official)\.tflite$/, '');
  const top = readdirSync(models).filter((f) => f.endsWith('.tflite'));
  const sub = existsSync(join(models, 'int16x8'))
    ? readdirSync(join(models, 'int16x8')).filter((f) => f.endsWith('.tflite')).map((f) => `int16x8/${f}`)
    : [];
  top.sort((a, b) => family(a).localeCompare(family(b)) || rank(a) - rank(b));
  return [...top, ...sub.sort()];
}

/** Signature names of subgraph 0's inputs or outputs (tensor names where there is none). */
function ioNames(graph: Graph, which: 'inputs' | 'outputs'): string[] {
  const main = graph.subgraphs[0];
  if (main === undefined) return [];
  const signature = graph.signatureDefs?.find((s) => s.subgraphIndex === 0);
  const names = new Map((signature?.[which] ?? []).map((m) => [m.tensorIndex, m.name]));
  return main[which].map((i) => names.get(i) ?? main.tensors[i]?.name ?? '');
}

/** Medians of alternating runs of a float model and its int8 twin (calling thread, 1 thread). */
async function interleave(floatFile: string, int8File: string, source: InputSource, seconds: number): Promise<NonNullable<TwinRow['interleaved']>> {
  const open = async (file: string): Promise<{ session: Session; next: () => TensorData[] }> => {
    const bytes = new Uint8Array(readFileSync(file));
    const samples = modelSamples(readModel(bytes), source, SAMPLES);
    return { session: await loadModel(bytes, { worker: false, threads: 1 }), next: cycle(samples) };
  };
  const a = await open(floatFile);
  const b = await open(int8File);
  try {
    for (let i = 0; i < 10; i++) {
      await a.session.run(a.next());
      await b.session.run(b.next());
    }
    const ta: number[] = [];
    const tb: number[] = [];
    const end = performance.now() + seconds * 1000;
    while (ta.length < 20 || (performance.now() < end && ta.length < 20000)) {
      let t = performance.now();
      await a.session.run(a.next());
      ta.push(performance.now() - t);
      t = performance.now();
      await b.session.run(b.next());
      tb.push(performance.now() - t);
    }
    return { floatMs: latency(ta).medianMs, int8Ms: latency(tb).medianMs, runs: ta.length };
  } finally {
    await a.session.close();
    await b.session.close();
  }
}

export async function measureRuntime(o: RuntimeOptions): Promise<RuntimeResult> {
  const started = performance.now();
  const seconds = (): number => (performance.now() - started) / 1000;
  const models = join(o.shared, 'models');
  const data = join(o.shared, 'data');
  const results: RuntimeModelResult[] = [];
  const files = modelFiles(models);
  const twoThreads = availableParallelism() >= 2;
  // Time slices from the budget: per model about 3 slices (ours 1 and 2 threads, WASM) plus
  // loads and the WASM compile; at least 20 runs each.
  const per = Math.min(0.4, Math.max(0.08, (o.budgetSeconds - 12) / (3.5 * Math.max(1, files.length))));
  const slice: Slice = { warmupSeconds: Math.min(0.1, per / 3), seconds: per, minRuns: 20, maxRuns: 20000 };
  const wasmSlice: Slice = { ...slice, warmupSeconds: Math.min(0.2, per / 2) };
  const wasm = new WasmChild(join(o.root, 'bench', 'litert-worker.mjs'));
  let wasmInstantiateMs: number | null = null;
  const outputsOf = new Map<string, TensorData[]>();

  // The largest model first, before anything else has loaded it: load + first inference with
  // the default options (a worker thread), as a user's first call.
  const sizes = files.map((f) => ({ f, bytes: statSync(join(models, f)).size }));
  const biggest = sizes.reduce<{ f: string; bytes: number } | undefined>((a, s) => (!a || s.bytes > a.bytes ? s : a), undefined);
  let largest: Omit<LargestModel, 'inThreadTotalMs'> | null = null;
  if (biggest) {
    o.log(`runtime: load + first inference of the largest model, ${biggest.f} (worker thread)`);
    const bytes = new Uint8Array(readFileSync(join(models, biggest.f)));
    try {
      const inputs = modelSamples(readModel(bytes), sourceFor(biggest.f, data), 1)[0] ?? [];
      const t0 = performance.now();
      const session = await loadModel(bytes);
      const t1 = performance.now();
      await session.run(inputs);
      const t2 = performance.now();
      await session.close();
      largest = { model: biggest.f, bytes: biggest.bytes, loadMs: t1 - t0, firstMs: t2 - t1, totalMs: t2 - t0, error: null };
    } catch (error) {
      largest = { model: biggest.f, bytes: biggest.bytes, loadMs: null, firstMs: null, totalMs: null, error: message(error) };
    }
  }

  // One model: ours (1 and 2 threads), then the official runtime on the same inputs.
  async function measureModel(file: string): Promise<void> {
    const bytes = new Uint8Array(readFileSync(join(models, file)));
    let graph: Graph | null = null;
    try {
      graph = readModel(bytes);
    } catch {
      // Reported below through loadModel's own error.
    }
    const base = { model: file, bytes: bytes.length, kind: kindOf(file, graph) };
    if (file.includes('mnist_lstm')) {
      results.push({
        ...base,
        inputs: '-',
        skipped: 'UNIDIRECTIONAL_SEQUENCE_LSTM is another issue, and LiteRT.js refuses models with variable (state) tensors',
        ours: null,
        oursError: null,
        wasm: null,
        wasmError: null,
        agreement: null,
      });
      return;
    }
    if (seconds() > o.budgetSeconds) {
      results.push({ ...base, inputs: '-', skipped: 'time budget exhausted', ours: null, oursError: null, wasm: null, wasmError: null, agreement: null });
      return;
    }

    // Inputs (from the graph, so they exist even when our runtime does not load the model).
    const source = sourceFor(file, data);
    let samples: TensorData[][] = [];
    let inputs = source.describe;
    try {
      samples = modelSamples(graph, source, SAMPLES);
      if (samples.length < SAMPLES) inputs += ` (${samples.length} samples)`;
    } catch (error) {
      inputs = `none: ${message(error)}`;
    }
    if (samples.length === 0) {
      results.push({ ...base, inputs, skipped: `no inputs: ${inputs}`, ours: null, oursError: null, wasm: null, wasmError: null, agreement: null });
      return;
    }

    // Ours.
    o.log(`runtime: ${file} (ours${twoThreads ? ', 1 and 2 threads' : ''})`);
    let ours: OursResult | null = null;
    let oursError: string | null = null;
    let session: Session | null = null;
    try {
      const t0 = performance.now();
      session = await loadModel(bytes, { worker: false, threads: 1 });
      const loadMs = performance.now() - t0;
      const t1 = performance.now();
      outputsOf.set(file, await session.run(samples[0] as TensorData[]));
      const firstMs = performance.now() - t1;
      const one = session;
      const next = cycle(samples);
      const oneThread = latency(await timeRuns(() => one.run(next()), slice));
      let two: Latency | null = null;
      if (twoThreads && seconds() < o.budgetSeconds - 10) {
        const s2 = await loadModel(bytes, { worker: false, threads: 2 });
        two = latency(await timeRuns(() => s2.run(next()), { ...slice, seconds: slice.seconds / 2 }));
        await s2.close();
      }
      ours = { loadMs, firstMs, oneThread, twoThreads: two };
    } catch (error) {
      oursError = session === null ? loadFailure(error) : `failed: ${message(error)}`;
    }
    await session?.close();

    // The official runtime on the same file and inputs.
    o.log(`runtime: ${file} (LiteRT.js WASM)`);
    let wasmResult: WasmResult | null = null;
    let wasmError: string | null = null;
    let agreementText: string | null = null;
    const reply = await wasm.request(
      {
        model: bytes,
        inputNames: graph ? ioNames(graph, 'inputs') : [],
        outputNames: graph ? ioNames(graph, 'outputs') : [],
        samples: samples.map((s) => s.map(bytesOf)),
        ...wasmSlice,
      },
      60_000,
    );
    if (reply.ok) {
      wasmInstantiateMs ??= reply.instantiateMs;
      wasmResult = {
        build: reply.build,
        threads: reply.threads,
        xnnpack: reply.xnnpack,
        pinnedDims: reply.pinnedDims,
        loadMs: reply.loadMs,
        firstMs: reply.firstMs,
        latency: latency(reply.times),
      };
      const mine = outputsOf.get(file);
      if (mine) agreementText = agreement(mine, reply.outputs);
    } else {
      wasmError = `${reply.stage}: ${reply.message}`;
    }
    results.push({ ...base, inputs, skipped: null, ours, oursError, wasm: wasmResult, wasmError, agreement: agreementText });
  }

  try {
    for (const file of files) await measureModel(file);
  } finally {
    wasm.close();
  }

  // The worker thread: its start and what it adds to each run.
  let worker: WorkerOverhead | null = null;
  const workerModel =
    results.find((r) => r.model === WORKER_MODEL && r.ours) ?? results.find((r) => r.ours && r.kind === 'int8') ?? results.find((r) => r.ours);
  if (workerModel && seconds() < o.budgetSeconds + 5) {
    o.log(`runtime: worker-thread overhead on ${workerModel.model}`);
    try {
      const bytes = new Uint8Array(readFileSync(join(models, workerModel.model)));
      const samples = modelSamples(readModel(bytes), sourceFor(workerModel.model, data), SAMPLES);
      const t0 = performance.now();
      const threaded = await loadModel(bytes, { threads: 1 });
      const workerLoadMs = performance.now() - t0;
      const t1 = performance.now();
      const inThread = await loadModel(bytes, { threads: 1, worker: false });
      const inThreadLoadMs = performance.now() - t1;
      // Interleaved, so that both see the same machine.
      const a: number[] = [];
      const b: number[] = [];
      const next = cycle(samples);
      for (let i = 0; i < 20; i++) {
        await threaded.run(next());
        await inThread.run(next());
      }
      const end = performance.now() + slice.seconds * 2000;
      while (a.length < 40 || (performance.now() < end && a.length < 20000)) {
        const x = next();
        let t = performance.now();
        await threaded.run(x);
        a.push(performance.now() - t);
        t = performance.now();
        await inThread.run(x);
        b.push(performance.now() - t);
      }
      await threaded.close();
      await inThread.close();
      const la = latency(a);
      const lb = latency(b);
      worker = {
        model: workerModel.model,
        workerLoadMs,
        inThreadLoadMs,
        workerMedianMs: la.medianMs,
        inThreadMedianMs: lb.medianMs,
        perRunUs: (la.medianMs - lb.medianMs) * 1000,
        runs: a.length,
      };
    } catch (error) {
      o.note(`runtime: the worker-thread overhead was not measured: ${message(error)}`);
    }
  }

  const byName = new Map(results.map((r) => [r.model, r]));
  const median = (r: RuntimeModelResult | undefined, which: 'ours' | 'wasm'): number | null =>
    (which === 'ours' ? r?.ours?.oneThread.medianMs : r?.wasm?.latency.medianMs) ?? null;
  const ratio = (num: number | null, den: number | null): number | null => (num !== null && den !== null && den > 0 ? num / den : null);
  const twins: TwinRow[] = [];
  for (const [family, f, q] of TWINS.filter(([, f, q]) => byName.has(f) || byName.has(q))) {
    const oursFloatMs = median(byName.get(f), 'ours');
    const oursInt8Ms = median(byName.get(q), 'ours');
    const wasmFloatMs = median(byName.get(f), 'wasm');
    const wasmInt8Ms = median(byName.get(q), 'wasm');
    let interleaved: TwinRow['interleaved'] = null;
    if (oursFloatMs !== null && oursInt8Ms !== null) {
      o.log(`runtime: ${family}, float and int8 interleaved`);
      try {
        interleaved = await interleave(join(models, f), join(models, q), sourceFor(f, data), slice.seconds * 2);
      } catch (error) {
        o.note(`runtime: ${family} float and int8 were not interleaved: ${message(error)}`);
      }
    }
    twins.push({
      family,
      float: f,
      int8: q,
      oursFloatMs,
      oursInt8Ms,
      wasmFloatMs,
      wasmInt8Ms,
      int8VsOurFloat: interleaved ? interleaved.floatMs / interleaved.int8Ms : null,
      interleaved,
      oursVsWasmInt8: ratio(wasmInt8Ms, oursInt8Ms),
      oursVsWasmFloat: ratio(wasmFloatMs, oursFloatMs),
    });
  }

  const largestRow = largest ? byName.get(largest.model) : undefined;
  return {
    models: results,
    twins,
    worker,
    largest: largest
      ? { ...largest, inThreadTotalMs: largestRow?.ours ? largestRow.ours.loadMs + largestRow.ours.firstMs : null }
      : null,
    wasmFlags: WASM_FLAGS,
    wasmInstantiateMs,
    samplesPerModel: SAMPLES,
    seconds: seconds(),
  };
}

// ---- the printed tables -----------------------------------------------------------------------

const ms = (v: number | null | undefined, digits = 3): string => (v === null || v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits));
const times = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : `${v.toFixed(2)}x`);

/** A text table: columns padded to their widest cell, `left` ones left-aligned. */
export function table(header: readonly string[], rows: readonly (readonly string[])[], left: ReadonlySet<number>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (left.has(i) ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function runtimeReport(r: RuntimeResult): string {
  const out: string[] = [];
  const wasmInfo = r.models.find((m) => m.wasm)?.wasm;
  out.push(
    'Runtime: whole models (ms; ours on the calling thread, worker: false; LiteRT.js WASM after load and warm-up; ' +
      `${r.samplesPerModel} input samples cycled)`,
  );
  const rows = r.models.map((m) => {
    const o = m.ours;
    const w = m.wasm;
    const vs = o && w ? w.latency.medianMs / o.oneThread.medianMs : null;
    return [
      m.model,
      m.kind,
      `${(m.bytes / 1024).toFixed(0)}K`,
      ms(o?.loadMs, 1),
      ms(o?.firstMs, 2),
      ms(o?.oneThread.medianMs),
      ms(o?.oneThread.p90Ms),
      ms(o?.twoThreads?.medianMs),
      ms(w?.latency.medianMs),
      ms(w?.latency.p90Ms),
      times(vs),
      m.agreement ?? '-',
    ];
  });
  out.push(
    table(
      ['model', 'kind', 'size', 'load', 'first', 'ours 1T', 'p90', 'ours 2T', 'WASM', 'p90', 'WASM/ours', 'outputs vs WASM'],
      rows,
      new Set([0, 1, 11]),
    ),
  );
  const problems = r.models.filter((m) => m.skipped || m.oursError || m.wasmError);
  for (const m of problems) {
    if (m.skipped) out.push(`  ${m.model}: skipped: ${m.skipped}`);
    if (m.oursError) out.push(`  ${m.model}: ours: ${m.oursError}`);
    if (m.wasmError) out.push(`  ${m.model}: WASM: ${m.wasmError}`);
  }
  out.push(`  inputs: ${[...new Set(r.models.filter((m) => !m.skipped).map((m) => `${m.model.replace(/\.tflite$/, '')}: ${m.inputs}`))].join('; ')}`);
  if (wasmInfo) {
    out.push(
      `  WASM: @litertjs/core ${wasmInfo.build} (the build LiteRT.js picks on this Node), ${wasmInfo.threads} thread ` +
        `(its default here), CPU accelerator${wasmInfo.xnnpack ? ' with its XNNPACK delegate (logged)' : ' (no XNNPACK delegate was logged)'}, ` +
        `node ${r.wasmFlags.join(' ')} (every function TurboFan-compiled before timing)` +
        `${r.wasmInstantiateMs !== null ? `; instantiating it took ${r.wasmInstantiateMs.toFixed(0)} ms once` : ''}`,
    );
  }

  if (r.twins.length > 0) {
    out.push('', 'Runtime: float models and their int8 twins (1 thread, median ms)');
    out.push(
      table(
        ['model', 'our float', 'our int8', 'WASM float', 'WASM int8', 'int8 vs our float', 'ours vs WASM (int8)', 'ours vs WASM (float)'],
        r.twins.map((t) => [
          t.family,
          ms(t.oursFloatMs),
          ms(t.oursInt8Ms),
          ms(t.wasmFloatMs),
          ms(t.wasmInt8Ms),
          times(t.int8VsOurFloat),
          times(t.oursVsWasmInt8),
          times(t.oursVsWasmFloat),
        ]),
        new Set([0]),
      ),
    );
    out.push('  ratios are time over time: above 1x means int8 (resp. ours) is faster');
    const inter = r.twins.filter((t) => t.interleaved);
    if (inter.length > 0) {
      out.push(
        '  int8 vs our float: from runs of the two interleaved (medians float / int8, runs): ' +
          inter.map((t) => `${t.family} ${ms(t.interleaved?.floatMs)} / ${ms(t.interleaved?.int8Ms)} (${t.interleaved?.runs})`).join('; '),
      );
    }
  }
  if (r.worker) {
    const w = r.worker;
    out.push(
      '',
      `Runtime: the worker thread (${w.model}, ${w.runs} interleaved runs): loadModel ${w.workerLoadMs.toFixed(1)} ms with the ` +
        `default worker vs ${w.inThreadLoadMs.toFixed(1)} ms on the calling thread; per run ${w.workerMedianMs.toFixed(3)} ms vs ` +
        `${w.inThreadMedianMs.toFixed(3)} ms median: ${w.perRunUs.toFixed(0)} us added per run`,
    );
  }
  if (r.largest) {
    const l = r.largest;
    out.push(
      '',
      l.totalMs === null
        ? `Runtime: the largest model here, ${l.model} (${(l.bytes / 1e6).toFixed(2)} MB), did not load: ${l.error}`
        : `Runtime: the largest model here, ${l.model} (${(l.bytes / 1e6).toFixed(2)} MB): load ${ms(l.loadMs, 1)} ms + first ` +
            `inference ${ms(l.firstMs, 1)} ms = ${ms(l.totalMs, 1)} ms with the default worker thread` +
            `${l.inThreadTotalMs !== null ? `; ${ms(l.inThreadTotalMs, 1)} ms on the calling thread` : ''}`,
    );
  }
  return out.join('\n');
}
