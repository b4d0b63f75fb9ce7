// The LSTM section of npm run bench (issue 7): one UNIDIRECTIONAL_SEQUENCE_LSTM of the issue's
// shape (n_cell = n_output = 256, input 128, 50 steps, batch 1, one thread) with deterministic
// random weights, run as users run it: loadModel(bytes, { worker: false, threads: 1 }), then
// Session.run.
// - Ours: float32, hybrid (int8 weights, float activations) and full int8 (TFLite's 8x8->16
//   LSTM). The hybrid and int8 models come from quantize() ('dynamic'; 'int8' calibrated on
//   CALIBRATION_SAMPLES random sequences) when it quantizes the LSTM; otherwise from GraphBuilder
//   (int8 weights with one scale per matrix; the int8 model's input, hidden and cell state
//   scales from float runs observed through the plan's observeIntermediate, as calibration
//   does), and the table says which.
// - onnxruntime-node (peer.ts): the ONNX LSTM on the float weights, and com.microsoft
//   DynamicQuantizeLSTM on the hybrid model's int8 weights and scales.
// - mnist_lstm from ../shared/models when present: the float model, the official int8 twin, and
//   ours (quantize() int8 calibrated on the first 100 digits of mnist_2000_x.npy).
// Before timing, each row's output is compared with our float output on the same input:
// onnxruntime's float LSTM must equal it within FLOAT_TOLERANCE (else the rows would not measure
// the same computation); the quantized rows report their distance.
// Timing: a group's rows run round-robin, one run each per round (so load from other work on the
// machine hits all alike), after a warm-up; median and p90 of each row.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import {
  ActivationFunctionType,
  BuiltinOperator,
  builtinOptions,
  GraphBuilder,
  loadModel,
  quantize,
  readModel,
  readNpyFile,
  TensorType,
  writeModel,
} from 'litequant';
import type { Graph, Session, TensorData } from 'litequant';

import { loadPeer, type LstmPeerWeights, type PeerLstm } from './peer.js';
import { table } from './runtime.js';

export const LSTM_SHAPE = { hidden: 256, input: 128, time: 50, batch: 1 } as const;
const CALIBRATION_SAMPLES = 8;
const FLOAT_TOLERANCE = 1e-4;
// The largest |y - y_float| still called close (h is tanh-bounded): hybrid rows (ours, and
// DynamicQuantizeLSTM, which quantizes x and h per tensor to uint8 where TFLite's hybrid does
// per row to int8) and int8 rows (one int8 step of h is about 0.008 here).
const CLOSE = { hybrid: 0.05, int8: 0.1 } as const;
const MNIST_FLOAT = 'mnist_lstm_float.tflite';
const MNIST_INT8 = 'mnist_lstm_int8_official.tflite';
// The issue's calibration set: the first 100 digits.
const MNIST_CALIBRATION = 100;

export interface Latency {
  readonly runs: number;
  readonly medianMs: number;
  readonly p90Ms: number;
}

export interface LstmRow {
  /** 'issue' (the issue's shape) or 'mnist_lstm'. */
  readonly group: 'issue' | 'mnist_lstm';
  readonly engine: 'litequant' | 'onnxruntime';
  readonly kind: 'float' | 'hybrid' | 'int8';
  /** Where the model came from: 'GraphBuilder', 'quantize() dynamic', a file. */
  readonly model: string;
  /** What ran the LSTM: our session step's implementation, or the onnxruntime op. */
  readonly impl: string;
  readonly latency: Latency | null;
  /** The group's float row (ours) median over this row's. */
  readonly vsFloat: number | null;
  /** Largest and mean |y - y_ours_float| over the output (int8 outputs dequantized). */
  readonly maxDiff: number | null;
  readonly meanDiff: number | null;
  /** What the output comparison says ('equals our float within 1e-4', 'DIFFERS ...'). */
  readonly check: string;
  readonly error: string | null;
}

export interface LstmResult {
  readonly shape: typeof LSTM_SHAPE;
  readonly threads: 1;
  readonly rows: LstmRow[];
  /** Why the quantized models did not come from quantize() (null when they did). */
  readonly fallback: { readonly hybrid: string | null; readonly int8: string | null };
  /** Round-robin rounds timed per group. */
  readonly rounds: { readonly issue: number; readonly mnist: number };
  /** onnxruntime-node's version (null without the peer). */
  readonly onnxruntime: string | null;
  readonly seconds: number;
}

export interface LstmBenchOptions {
  /** The package root (for dist/runtime/plan.js). */
  readonly root: string;
  /** ../shared: models/ and data/ (optional). */
  readonly shared: string;
  readonly budgetSeconds: number;
  /** Time onnxruntime's LSTMs too (false with --no-peer). */
  readonly peer: boolean;
  readonly log: (line: string) => void;
  readonly note: (text: string) => void;
}

// ---- weights and models -----------------------------------------------------------------------

/** A deterministic uniform generator in [0, 1) (mulberry32). */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function uniform(n: number, lo: number, hi: number, seed: number): Float32Array {
  const next = prng(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * next());
}

/** Symmetric int8 with one scale (TFLite's LSTM weights: per tensor, zero point 0; qmax 127). */
function quantizeSymmetric(w: Float32Array, qmax = 127): { data: Int8Array; scale: number } {
  const scale = w.reduce((m, v) => Math.max(m, Math.abs(v)), 0) / qmax;
  return { data: Int8Array.from(w, (v) => Math.round(v / scale)), scale };
}

/**
 * The float weights (TFLite gate order: input, forget, cell, output) and their int8 form (qmax
 * 63: onnxruntime's reduce_range, 7-bit weights, for the saturation check).
 */
function lstmWeights(qmax = 127): Required<LstmPeerWeights> {
  const { hidden: H, input: I, time } = LSTM_SHAPE;
  // Scaled with the fan-in so the gates are neither saturated nor flat; the forget gate's bias
  // starts near 1, as trained LSTMs' do.
  const inputWeights = [0, 1, 2, 3].map((g) => uniform(H * I, -0.6 / Math.sqrt(I), 0.6 / Math.sqrt(I), 10 + g));
  const recurrentWeights = [0, 1, 2, 3].map((g) => uniform(H * H, -0.6 / Math.sqrt(H), 0.6 / Math.sqrt(H), 20 + g));
  const bias = [0, 1, 2, 3].map((g) => (g === 1 ? uniform(H, 0.5, 1.5, 30 + g) : uniform(H, -0.3, 0.3, 30 + g)));
  const qi = inputWeights.map((m) => quantizeSymmetric(m, qmax));
  const qr = recurrentWeights.map((m) => quantizeSymmetric(m, qmax));
  return {
    time,
    input: I,
    hidden: H,
    inputWeights,
    recurrentWeights,
    bias,
    quantized: {
      inputWeights: qi.map((q) => q.data),
      inputScales: qi.map((q) => q.scale),
      recurrentWeights: qr.map((q) => q.data),
      recurrentScales: qr.map((q) => q.scale),
    },
  };
}

/** Scales of the full-integer model, from float runs (what calibration would observe). */
interface Int8Scales {
  readonly input: { readonly scale: number; readonly zeroPoint: number };
  /** The output state, the output and the hidden intermediate (one tensor without a projection). */
  readonly hidden: { readonly scale: number; readonly zeroPoint: number };
  /** log2 of the int16 cell state's scale. */
  readonly cellShift: number;
}

/** Asymmetric int8 parameters of a range (widened to hold 0, as TFLite's). */
function asymmetric(min: number, max: number): { scale: number; zeroPoint: number } {
  const lo = Math.min(0, min);
  const hi = Math.max(0, max);
  const scale = hi > lo ? (hi - lo) / 255 : 1;
  return { scale, zeroPoint: Math.max(-128, Math.min(127, Math.round(-128 - lo / scale))) };
}

function lstmModel(kind: 'float' | 'hybrid' | 'int8', w: Required<LstmPeerWeights>, s?: Int8Scales): Uint8Array {
  const { hidden: H, input: I, time: T, batch } = LSTM_SHAPE;
  const b = new GraphBuilder();
  const int8 = kind === 'int8';
  if (int8 && s === undefined) throw new Error('Expected the int8 scales for the int8 LSTM model but received none');
  const G = ['input', 'forget', 'cell', 'output'];
  const matrix = (name: string, g: number, recurrent: boolean): number => {
    const rows = H;
    const cols = recurrent ? H : I;
    if (kind === 'float') {
      return b.tensor({ name, type: TensorType.FLOAT32, shape: [rows, cols], data: (recurrent ? w.recurrentWeights : w.inputWeights)[g] as Float32Array });
    }
    const data = (recurrent ? w.quantized.recurrentWeights : w.quantized.inputWeights)[g] as Int8Array;
    const scale = (recurrent ? w.quantized.recurrentScales : w.quantized.inputScales)[g] as number;
    return b.tensor({ name, type: TensorType.INT8, shape: [rows, cols], data, quantization: { scale } });
  };
  const ins: number[] = new Array<number>(24).fill(-1);
  ins[0] = b.input({
    name: 'x',
    type: int8 ? TensorType.INT8 : TensorType.FLOAT32,
    shape: [batch, T, I],
    ...(s && int8 ? { quantization: s.input } : {}),
  });
  for (let g = 0; g < 4; g++) {
    ins[1 + g] = matrix(`w_x_${G[g]}`, g, false);
    ins[5 + g] = matrix(`w_h_${G[g]}`, g, true);
    const bias = w.bias[g] as Float32Array;
    if (s && int8) {
      // int32 in the input product's accumulator scale: s_x · s_w_x.
      const scale = s.input.scale * (w.quantized.inputScales[g] as number);
      ins[12 + g] = b.tensor({ name: `b_${G[g]}`, type: TensorType.INT32, shape: [H], data: Int32Array.from(bias, (v) => Math.round(v / scale)), quantization: { scale } });
    } else {
      ins[12 + g] = b.tensor({ name: `b_${G[g]}`, type: TensorType.FLOAT32, shape: [H], data: bias });
    }
  }
  const hq = s && int8 ? { quantization: s.hidden } : {};
  ins[18] = b.tensor({ name: 'h', type: int8 ? TensorType.INT8 : TensorType.FLOAT32, shape: [batch, H], isVariable: true, ...hq });
  ins[19] = b.tensor({
    name: 'c',
    type: int8 ? TensorType.INT16 : TensorType.FLOAT32,
    shape: [batch, H],
    isVariable: true,
    ...(s && int8 ? { quantization: { scale: 2 ** s.cellShift } } : {}),
  });
  const y = b.tensor({ name: 'y', type: int8 ? TensorType.INT8 : TensorType.FLOAT32, shape: [batch, T, H], ...hq });
  // Without layer norm the integer kernel computes the gates in Q3.12 and reads only the hidden
  // intermediate (index 4), which equals the output state without a projection.
  const intermediates = int8
    ? [...G.map((g) => b.tensor({ name: `gate_${g}`, type: TensorType.INT16, shape: [0] })), b.tensor({ name: 'hidden', type: TensorType.INT8, shape: [0], ...hq })]
    : undefined;
  b.op(BuiltinOperator.UNIDIRECTIONAL_SEQUENCE_LSTM, ins, [y], {
    options: builtinOptions('UnidirectionalSequenceLSTMOptions', {
      fusedActivationFunction: ActivationFunctionType.TANH,
      cellClip: 0,
      projClip: 0,
      timeMajor: false,
      asymmetricQuantizeInputs: false,
    }),
    ...(kind === 'hybrid' ? { version: 2 } : {}),
    ...(intermediates ? { intermediates } : {}),
  });
  b.output(y);
  return writeModel(b.build(`litequant bench: ${kind} LSTM H=${H} I=${I} T=${T}`));
}

// The plan API (not public): calibration's hook into the LSTM's internal values.
interface PlanModule {
  compilePlan(graph: Graph, options: { observeIntermediate?: (op: number, slot: number, values: Float32Array) => void }): unknown;
  runPlan(plan: unknown, inputs: readonly TensorData[]): TensorData[];
}

/** The int8 model's scales from float runs: input range, hidden output (slot 4) and cell state (slot 5). */
async function int8Scales(root: string, floatModel: Uint8Array, samples: readonly Float32Array[]): Promise<Int8Scales> {
  const plan = (await import(pathToFileURL(join(root, 'dist', 'runtime', 'plan.js')).href)) as PlanModule;
  let hMin = 0;
  let hMax = 0;
  let cMax = 0;
  const compiled = plan.compilePlan(readModel(floatModel), {
    observeIntermediate: (_op, slot, values) => {
      if (slot === 4) for (const v of values) (hMin = Math.min(hMin, v)), (hMax = Math.max(hMax, v));
      else if (slot === 5) for (const v of values) cMax = Math.max(cMax, Math.abs(v));
    },
  });
  let xMin = 0;
  let xMax = 0;
  for (const x of samples) {
    for (const v of x) (xMin = Math.min(xMin, v)), (xMax = Math.max(xMax, v));
    plan.runPlan(compiled, [x]);
  }
  if (hMax === hMin || cMax === 0) throw new Error('the float run reported no hidden or cell state values (observeIntermediate)');
  // The smallest power of two whose int16 range holds |c|, within TFLite's 2^-15..2^-9.
  const cellShift = Math.max(-15, Math.min(-9, Math.ceil(Math.log2(cMax)) - 15));
  return { input: asymmetric(xMin, xMax), hidden: asymmetric(hMin, hMax), cellShift };
}

/** The LSTM of a quantized model has the wanted form ('hybrid': int8 weights, float input; 'int8': int8 input). */
function lstmForm(bytes: Uint8Array): 'float' | 'hybrid' | 'int8' | null {
  const graph = readModel(bytes);
  const sg = graph.subgraphs[0];
  const op = sg?.operators.find((o) => graph.operatorCodes[o.opcodeIndex]?.builtinCode === BuiltinOperator.UNIDIRECTIONAL_SEQUENCE_LSTM);
  if (!sg || !op) return null;
  const type = (slot: number): TensorType | undefined => sg.tensors[op.inputs[slot] ?? -1]?.type;
  if (type(0) === TensorType.INT8) return 'int8';
  return type(2) === TensorType.INT8 ? 'hybrid' : 'float';
}

/** quantize() when it makes the wanted LSTM, else why not. */
async function fromQuantizer(
  floatModel: Uint8Array,
  mode: 'dynamic' | 'int8',
  calibration: readonly Float32Array[],
): Promise<{ model: Uint8Array } | { reason: string }> {
  const want = mode === 'dynamic' ? 'hybrid' : 'int8';
  try {
    const r = await quantize(floatModel, mode === 'dynamic' ? { mode } : { mode, calibration: calibration.map((x) => [x]) });
    const form = lstmForm(r.model);
    if (form === want) return { model: r.model };
    const said = r.diagnostics.find((d) => d.op === 0 || /LSTM/i.test(d.message));
    return { reason: `quantize({ mode: '${mode}' }) left the LSTM ${form ?? 'out'}${said ? `: ${said.message}` : ''}` };
  } catch (error) {
    return { reason: `quantize({ mode: '${mode}' }) failed: ${message(error)}` };
  }
}

// ---- running and comparing --------------------------------------------------------------------

function message(error: unknown): string {
  return ((error as Error).message ?? String(error)).split('\n')[0] ?? String(error);
}

/** A runner: one call of the row's engine on its input, the output as floats. */
interface Runner {
  readonly run: () => Promise<unknown>;
  readonly output: () => Promise<Float32Array>;
  readonly impl: string;
  readonly close: () => Promise<void>;
}

async function ourRunner(bytes: Uint8Array, x: Float32Array): Promise<Runner> {
  const session: Session = await loadModel(bytes, { worker: false, threads: 1 });
  const info = session.inputs[0];
  const out = session.outputs[0];
  // An int8 input takes x quantized with its own scale and zero point.
  const feed: TensorData =
    info?.dtype === 'int8'
      ? Int8Array.from(x, (v) => Math.max(-128, Math.min(127, Math.round(v / (info.scale ?? 1)) + (info.zeroPoint ?? 0))))
      : x;
  const step = session.steps.find((s) => /LSTM/.test(s.op)) ?? session.steps[0];
  return {
    run: () => session.run([feed]),
    output: async () => {
      const [y] = await session.run([feed]);
      if (y instanceof Float32Array) return y;
      const scale = out?.scale ?? 1;
      const zp = out?.zeroPoint ?? 0;
      return Float32Array.from(y as ArrayLike<number>, (v) => (v - zp) * scale);
    },
    impl: step ? `${step.impl}${session.steps.length > 1 ? ` (+${session.steps.length - 1} ops)` : ''}` : '?',
    close: () => session.close(),
  };
}

function peerRunner(p: PeerLstm, x: Float32Array): Runner {
  return { run: () => p.run(x), output: () => p.run(x), impl: `onnxruntime ${p.op}`, close: () => p.release() };
}

function distance(a: Float32Array, b: Float32Array): Distance {
  let max = 0;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs((a[i] as number) - (b[i] as number));
    max = Math.max(max, d);
    sum += d;
  }
  return { max: a.length === b.length ? max : Infinity, mean: sum / Math.max(1, a.length) };
}

function latency(times: readonly number[]): Latency {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return { runs: sorted.length, medianMs: at(0.5), p90Ms: at(0.9) };
}

/**
 * Round-robin: a warm-up round or two, then rounds (one run of each runner) until `seconds` have
 * passed, at least `minRounds` and at most `maxRounds`. Returns each runner's times (ms).
 */
async function roundRobin(runners: readonly Runner[], seconds: number, minRounds = 5, maxRounds = 3000): Promise<number[][]> {
  for (let w = 0; w < 2; w++) for (const r of runners) await r.run();
  const times = runners.map(() => [] as number[]);
  const end = performance.now() + seconds * 1000;
  for (let round = 0; round < maxRounds && (round < minRounds || performance.now() < end); round++) {
    for (const [i, r] of runners.entries()) {
      const t0 = performance.now();
      await r.run();
      times[i]?.push(performance.now() - t0);
    }
  }
  return times;
}

interface Pending {
  readonly row: Omit<LstmRow, 'latency' | 'vsFloat' | 'maxDiff' | 'meanDiff' | 'check' | 'error'>;
  readonly runner: Runner | null;
  readonly error: string | null;
}

type Distance = { readonly max: number; readonly mean: number };

/**
 * Compares each runner's output with the first row's (our float; no comparisons and no ratios
 * when it failed), times the group, closes the runners. `checkOf` words a row's comparison; it
 * also gets every row's output.
 */
async function measureGroup(
  pending: readonly Pending[],
  seconds: number,
  checkOf: (p: Pending, d: Distance, outputs: ReadonlyMap<Pending, Float32Array>) => string,
): Promise<{ rows: LstmRow[]; rounds: number }> {
  const outputs = new Map<Pending, Float32Array>();
  const failed = new Map<Pending, string>();
  for (const p of pending) {
    if (!p.runner) continue;
    try {
      outputs.set(p, await p.runner.output());
    } catch (error) {
      failed.set(p, message(error));
      await p.runner.close().catch(() => undefined);
    }
  }
  const live = pending.filter((p) => outputs.has(p));
  const float = pending[0] && outputs.has(pending[0]) ? pending[0] : undefined;
  const reference = float ? outputs.get(float) : undefined;
  const diffs = new Map<Pending, Distance>();
  for (const p of live) {
    if (p === float) continue;
    const y = outputs.get(p);
    if (reference && y) diffs.set(p, distance(reference, y));
  }
  const times = await roundRobin(live.map((p) => p.runner as Runner), seconds);
  await Promise.all(live.map((p) => p.runner?.close()));
  const latencies = new Map(live.map((p, i) => [p, latency(times[i] ?? [])]));
  const floatMs = float ? (latencies.get(float)?.medianMs ?? null) : null;
  const rows = pending.map((p): LstmRow => {
    const l = latencies.get(p) ?? null;
    const d = diffs.get(p);
    return {
      ...p.row,
      latency: l,
      vsFloat: l !== null && floatMs !== null ? floatMs / l.medianMs : null,
      maxDiff: d?.max ?? null,
      meanDiff: d?.mean ?? null,
      check: p === float ? 'the reference' : d ? checkOf(p, d, outputs) : '-',
      error: p.error ?? failed.get(p) ?? null,
    };
  });
  return { rows, rounds: times[0]?.length ?? 0 };
}

const fmt = (v: number): string => v.toExponential(1);

/** The first `count` MNIST digits as pixel/255 rows (random pixels without the data). */
function digits(shared: string, count: number): { x: Float32Array[]; source: string } {
  const file = join(shared, 'data', 'mnist_2000_x.npy');
  const per = 28 * 28;
  if (!existsSync(file)) return { x: Array.from({ length: count }, (_, i) => uniform(per, 0, 1, 100 + i)), source: 'random pixels' };
  const npy = readNpyFile(file);
  return {
    x: Array.from({ length: count }, (_, s) => Float32Array.from(npy.data.subarray(s * per, (s + 1) * per) as ArrayLike<number>, (v) => v / 255)),
    source: 'mnist_2000_x.npy',
  };
}

// ---- the section ------------------------------------------------------------------------------

export async function measureLstm(o: LstmBenchOptions): Promise<LstmResult> {
  const started = performance.now();
  const seconds = (): number => (performance.now() - started) / 1000;
  const { hidden: H, input: I, time: T } = LSTM_SHAPE;
  const w = lstmWeights();
  const x = uniform(T * I, -1, 1, 1);
  const calibration = Array.from({ length: CALIBRATION_SAMPLES }, (_, i) => uniform(T * I, -1, 1, 1000 + i));

  o.log(`lstm: models H=${H} I=${I} T=${T} (float; hybrid and int8 from quantize() or GraphBuilder)`);
  const floatModel = lstmModel('float', w);
  const hybrid = await fromQuantizer(floatModel, 'dynamic', calibration);
  const int8 = await fromQuantizer(floatModel, 'int8', calibration);
  const fallback = { hybrid: 'reason' in hybrid ? hybrid.reason : null, int8: 'reason' in int8 ? int8.reason : null };
  const models: { kind: 'float' | 'hybrid' | 'int8'; source: string; bytes: () => Promise<Uint8Array> }[] = [
    { kind: 'float', source: 'GraphBuilder', bytes: async () => floatModel },
    {
      kind: 'hybrid',
      source: 'model' in hybrid ? 'quantize() dynamic' : 'GraphBuilder (quantize() fallback)',
      bytes: async () => ('model' in hybrid ? hybrid.model : lstmModel('hybrid', w)),
    },
    {
      kind: 'int8',
      source: 'model' in int8 ? `quantize() int8, ${CALIBRATION_SAMPLES} samples` : 'GraphBuilder (quantize() fallback)',
      bytes: async () => ('model' in int8 ? int8.model : lstmModel('int8', w, await int8Scales(o.root, floatModel, calibration))),
    },
  ];
  if (fallback.hybrid !== null) o.note(`lstm: the hybrid model is GraphBuilder-made: ${fallback.hybrid}`);
  if (fallback.int8 !== null) o.note(`lstm: the int8 model is GraphBuilder-made (scales from ${CALIBRATION_SAMPLES} observed float runs): ${fallback.int8}`);

  const issue: Pending[] = [];
  for (const m of models) {
    const row = { group: 'issue' as const, engine: 'litequant' as const, kind: m.kind, model: m.source };
    try {
      const runner = await ourRunner(await m.bytes(), x);
      issue.push({ row: { ...row, impl: runner.impl }, runner, error: null });
    } catch (error) {
      issue.push({ row: { ...row, impl: '-' }, runner: null, error: message(error) });
      o.note(`lstm: our ${m.kind} LSTM did not run: ${message(error)}`);
    }
  }
  let peer: ReturnType<typeof loadPeer> | null = null;
  let reducedRange: Float32Array | null = null;
  if (o.peer) {
    try {
      peer = loadPeer();
    } catch (error) {
      o.note(`lstm: onnxruntime-node did not load (${message(error)}): no onnxruntime rows`);
    }
    for (const kind of ['float', 'dynamic'] as const) {
      if (!peer) break;
      const row = {
        group: 'issue' as const,
        engine: 'onnxruntime' as const,
        kind: kind === 'float' ? ('float' as const) : ('hybrid' as const),
        model: kind === 'float' ? 'same float weights' : "our hybrid's int8 weights, scales",
      };
      try {
        issue.push({ row: { ...row, impl: `onnxruntime ${kind === 'float' ? 'LSTM' : 'DynamicQuantizeLSTM'}` }, runner: peerRunner(await peer.lstm(w, kind, 1), x), error: null });
      } catch (error) {
        issue.push({ row: { ...row, impl: '-' }, runner: null, error: message(error) });
        o.note(`lstm: onnxruntime ${kind} LSTM failed: ${message(error)}`);
      }
    }
    // The same LSTM with 7-bit weights (its quantizer's reduce_range): onnxruntime's x86 u8 x s8
    // kernels without VNNI add pairs of products in int16 with saturation (vpmaddubsw), which
    // full-range int8 weights can overflow and 7-bit ones cannot.
    if (peer) {
      try {
        const narrow = await peer.lstm(lstmWeights(63), 'dynamic', 1);
        reducedRange = await narrow.run(x);
        await narrow.release();
      } catch (error) {
        o.note(`lstm: onnxruntime DynamicQuantizeLSTM with 7-bit weights failed: ${message(error)}`);
      }
    }
  }

  // The issue's shape gets most of the budget; mnist_lstm is small.
  const haveMnist = existsSync(join(o.shared, 'models', MNIST_FLOAT)) && existsSync(join(o.shared, 'models', MNIST_INT8));
  const issueSeconds = Math.max(3, (o.budgetSeconds - seconds()) * (haveMnist ? 0.75 : 0.9));
  o.log(`lstm: ${issue.filter((p) => p.runner).length} rows round-robin for ${issueSeconds.toFixed(0)} s`);
  const ourHybrid = issue.find((p) => p.row.engine === 'litequant' && p.row.kind === 'hybrid');
  const issueResult = await measureGroup(issue, issueSeconds, (p, d, outputs) => {
    const what = `max |Δ| ${fmt(d.max)}, mean ${fmt(d.mean)}`;
    if (p.row.engine === 'onnxruntime' && p.row.kind === 'float') {
      if (d.max <= FLOAT_TOLERANCE) return `equals our float within ${FLOAT_TOLERANCE} (${what})`;
      o.note(`lstm: onnxruntime's float LSTM DIFFERS from ours (${what}): the rows do not measure the same computation`);
      return `DIFFERS from our float (${what})`;
    }
    const verdict = p.row.kind !== 'float' && d.max <= CLOSE[p.row.kind] ? 'close to' : 'FAR from';
    if (p.row.engine === 'litequant') return `${verdict} our float (${what})`;
    // DynamicQuantizeLSTM against our hybrid too (the same int8 weights and scales), and with
    // 7-bit weights when full-range ones are far.
    const mine = ourHybrid ? outputs.get(ourHybrid) : undefined;
    const theirs = outputs.get(p);
    const vsHybrid = mine && theirs ? `; vs our hybrid max ${fmt(distance(mine, theirs).max)}` : '';
    const reference = outputs.get(issue[0] as Pending);
    const narrow = reducedRange && reference && d.max > CLOSE.hybrid ? distance(reference, reducedRange) : null;
    const why = narrow
      ? `; with 7-bit weights max ${fmt(narrow.max)}, mean ${fmt(narrow.mean)}${narrow.max <= CLOSE.hybrid ? ': its int16 pair-sum saturation (no VNNI)' : ''}`
      : '';
    return `${verdict} our float (${what})${vsHybrid}${why}`;
  });
  const rows = issueResult.rows;

  let mnistRounds = 0;
  if (haveMnist) {
    const { x: inputs, source } = digits(o.shared, MNIST_CALIBRATION);
    const read = (file: string): Uint8Array => new Uint8Array(readFileSync(join(o.shared, 'models', file)));
    const ours = async (): Promise<Uint8Array> => {
      const r = await fromQuantizer(read(MNIST_FLOAT), 'int8', inputs);
      if ('reason' in r) throw new Error(r.reason);
      return r.model;
    };
    const mnist: Pending[] = [];
    for (const [model, kind, bytes] of [
      [MNIST_FLOAT, 'float', async () => read(MNIST_FLOAT)],
      [MNIST_INT8, 'int8', async () => read(MNIST_INT8)],
      [`quantize() int8 of ${MNIST_FLOAT}, ${MNIST_CALIBRATION} digits`, 'int8', ours],
    ] as const) {
      const row = { group: 'mnist_lstm' as const, engine: 'litequant' as const, kind, model };
      try {
        const runner = await ourRunner(await bytes(), inputs[0] as Float32Array);
        mnist.push({ row: { ...row, impl: runner.impl }, runner, error: null });
      } catch (error) {
        mnist.push({ row: { ...row, impl: '-' }, runner: null, error: message(error) });
        o.note(`lstm: ${model} did not run: ${message(error)}`);
      }
    }
    const mnistSeconds = Math.max(2, o.budgetSeconds - seconds() - 1);
    o.log(`lstm: mnist_lstm rows round-robin for ${mnistSeconds.toFixed(0)} s at most (input: ${source})`);
    const m = await measureGroup(mnist, mnistSeconds, (_p, d) => `class scores vs our float: max |Δ| ${fmt(d.max)}, mean ${fmt(d.mean)}`);
    rows.push(...m.rows);
    mnistRounds = m.rounds;
  } else {
    o.note(`lstm: ${join(o.shared, 'models', MNIST_FLOAT)} or ${MNIST_INT8} is absent: no mnist_lstm rows`);
  }
  return { shape: LSTM_SHAPE, threads: 1, rows, fallback, rounds: { issue: issueResult.rounds, mnist: mnistRounds }, onnxruntime: peer?.version ?? null, seconds: seconds() };
}

// ---- report -----------------------------------------------------------------------------------

// Three decimals below 1 ms (mnist_lstm runs in tens of microseconds).
const ms = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : v.toFixed(v < 1 ? 3 : 2));

function rowName(r: LstmRow): string {
  if (r.engine === 'onnxruntime') return r.kind === 'float' ? 'onnxruntime LSTM' : 'onnxruntime DynamicQuantizeLSTM';
  return `ours ${r.kind}`;
}

function groupTable(rows: readonly LstmRow[]): string {
  return table(
    ['', 'model', 'implementation', 'median', 'p90', 'runs', 'vs our float', 'output vs our float'],
    rows.map((r) => [
      rowName(r),
      r.model,
      r.impl,
      r.error === null ? ms(r.latency?.medianMs) : 'failed',
      ms(r.latency?.p90Ms),
      String(r.latency?.runs ?? '-'),
      r.vsFloat === null ? '-' : `${r.vsFloat.toFixed(2)}x`,
      r.error ?? r.check,
    ]),
    new Set([0, 1, 2, 7]),
  );
}

/** Our median over onnxruntime's for one kind: > 1 when ours is faster. */
export function lstmVsPeer(r: LstmResult, kind: 'float' | 'hybrid'): number | null {
  const issue = r.rows.filter((x) => x.group === 'issue');
  const ours = issue.find((x) => x.engine === 'litequant' && x.kind === kind)?.latency;
  const theirs = issue.find((x) => x.engine === 'onnxruntime' && x.kind === kind)?.latency;
  return ours && theirs ? theirs.medianMs / ours.medianMs : null;
}

export function lstmReport(r: LstmResult): string {
  const { hidden, input, time, batch } = r.shape;
  const out = [
    `LSTM: UNIDIRECTIONAL_SEQUENCE_LSTM H=${hidden} (n_cell = n_output), I=${input}, T=${time}, batch ${batch}, 1 thread; ours through ` +
      `loadModel(bytes, { worker: false, threads: 1 }) + Session.run; rows run round-robin (${r.rounds.issue} rounds), ms`,
    groupTable(r.rows.filter((x) => x.group === 'issue')),
  ];
  const peer = (['float', 'hybrid'] as const).map((k) => [k, lstmVsPeer(r, k)] as const).filter(([, v]) => v !== null);
  if (peer.length > 0) {
    out.push(`  ours vs onnxruntime (its time / ours): ${peer.map(([k, v]) => `${k} ${(v as number).toFixed(2)}x`).join(', ')}`);
  }
  if (r.fallback.hybrid !== null) out.push(`  hybrid model from GraphBuilder: ${r.fallback.hybrid}`);
  if (r.fallback.int8 !== null) out.push(`  int8 model from GraphBuilder (scales from observed float runs): ${r.fallback.int8}`);
  const mnist = r.rows.filter((x) => x.group === 'mnist_lstm');
  if (mnist.length > 0) out.push('', `mnist_lstm (../shared/models), 1 thread, round-robin (${r.rounds.mnist} rounds), ms`, groupTable(mnist));
  return out.join('\n');
}
