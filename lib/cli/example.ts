// `litequant quantize` with no model argument, or `litequant quantize --example`: quantizes the
// example model the project trains itself and ships in examples/mnist/ (a small CNN for
// handwritten digits, made by `npm run example:train`), then shows what quantization did to it:
// size, accuracy before and after on held-back digits, and speed. It needs nothing but the
// package: the model, the calibration digits and the test digits are files of the package.
//
// - Mode: --mode (default int8). int8 and int16x8 calibrate on examples/mnist/calib_x.npy (200
//   uint8 training digits, fed as pixel/255); --calibration, --input-scale and --input-offset are
//   refused (they describe your own model's data). Every other quantize option works as for a
//   model file (the same checks).
// - Output: -o, default ./mnist_<mode>.tflite. It is written atomically; an existing file at that
//   path is replaced and the output says so ("replaced the previous file").
// - Accuracy: the float and the quantized model run in litequant's runtime on the 500
//   held-back digits of examples/mnist/test_x.npy (never trained on); the top class is compared
//   with test_y.npy. Also reported: how often the quantized model picks the float model's class.
// - Speed: median latency of one digit (session.run on the calling thread, one thread), float
//   and quantized runs interleaved after a warm-up, so both see the same machine load.
// --json prints all of it, with the quantizer's report and diagnostics.
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

import { InvalidArgumentError } from '../errors.js';
import { discardPendingFilesOnExit, openAtomic } from '../fs-atomic.js';
import { packageRoot } from '../native/loader.js';
import { readNpyFile, type NpyData } from '../npy.js';
import { quantize } from '../quantize/quantize.js';
import type { Diagnostic, QuantizeMode, QuantizeOptions, QuantizeReport, QuantizeResult } from '../quantize/types.js';
import { loadModel, type Session, type SessionTensorInfo, type TensorData } from '../runtime/session.js';
import { readModel } from '../tflite/read.js';
import { latencyStats, type LatencyStats } from './bench.js';
import { openInputData, type InputData } from './input-data.js';
import {
  CALIBRATION_METHODS,
  checkApplicable,
  IO_TYPES,
  modelInputs,
  npySamples,
  oneOf,
  opQuantized,
  parseExclude,
  QUANTIZE_MODES,
  type QuantizeCommandOptions,
} from './quantize.js';
import { parseIntOption } from './run.js';

/** Where the example's files are: examples/mnist/ in the package. */
export const EXAMPLE_DIR = join(packageRoot, 'examples', 'mnist');

/** Pixels are uint8 in the .npy files; the model takes pixel / 255. */
export const EXAMPLE_INPUT_SCALE = 1 / 255;

export interface ExampleFiles {
  readonly dir: string;
  /** The float model. */
  readonly model: string;
  /** uint8 [N, 28, 28, 1] training digits for calibration. */
  readonly calibration: string;
  /** uint8 [N, 28, 28, 1] held-back digits and their uint8 [N] labels. */
  readonly testX: string;
  readonly testY: string;
}

/** The example's files in `dir`; a missing one is an error that says how to make them. */
export function exampleFiles(dir: string = EXAMPLE_DIR): ExampleFiles {
  const files = {
    dir,
    model: join(dir, 'model.tflite'),
    calibration: join(dir, 'calib_x.npy'),
    testX: join(dir, 'test_x.npy'),
    testY: join(dir, 'test_y.npy'),
  };
  const missing = [files.model, files.calibration, files.testX, files.testY].filter((p) => !existsSync(p));
  if (missing.length > 0) {
    throw new InvalidArgumentError(
      `The example model's files are missing (${missing.join(', ')}): this copy of litequant was installed without examples/mnist/. ` +
        'Run `npm run example:train` in a clone of the repository to make them, or give a model: litequant quantize MODEL.tflite -o OUT.tflite --calibration data.npy',
    );
  }
  return files;
}

export interface ExampleEvaluation {
  /** Digits evaluated. */
  readonly digits: number;
  /** Fraction of digits whose top class is the label. */
  readonly float: number;
  readonly quantized: number;
  /** Fraction of digits where the quantized model's top class is the float model's. */
  readonly agreement: number;
}

export interface ExampleLatency {
  readonly runs: number;
  readonly threads: 1;
  readonly floatMs: LatencyStats;
  readonly quantizedMs: LatencyStats;
  /** Float median / quantized median. */
  readonly speedup: number;
}

export interface ExampleResult {
  readonly example: string;
  readonly input: string;
  readonly output: string;
  /** An existing file at the output path was replaced. */
  readonly replaced: boolean;
  readonly mode: QuantizeMode;
  readonly size: { readonly float: number; readonly quantized: number; readonly ratio: number };
  readonly accuracy: ExampleEvaluation;
  readonly latency: ExampleLatency;
  readonly report: QuantizeReport;
  readonly diagnostics: readonly Diagnostic[];
}

function argmax(values: TensorData, offset: number, n: number): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (Number(values[offset + i]) > Number(values[offset + best])) best = i;
  return best;
}

/**
 * A digit's uint8 pixels as the model's input: float32 pixel/255, or that value quantized with
 * the input's scale and zero point (round half to even) for a model with int8/uint8/int16 I/O.
 */
export function digitInput(input: SessionTensorInfo, pixels: Uint8Array): TensorData {
  const real = Float32Array.from(pixels, (p) => p * EXAMPLE_INPUT_SCALE);
  if (input.dtype === 'float32') return real;
  const ranges = { int8: [-128, 127], uint8: [0, 255], int16: [-32768, 32767] } as const;
  const range = input.dtype === 'int8' || input.dtype === 'uint8' || input.dtype === 'int16' ? ranges[input.dtype] : undefined;
  if (range === undefined || input.scale === null || !(input.scale > 0)) {
    throw new InvalidArgumentError(`The example feeds float32 or quantized int8/uint8/int16 inputs, but the model's input is ${input.dtype}`);
  }
  const out = input.dtype === 'int8' ? new Int8Array(real.length) : input.dtype === 'uint8' ? new Uint8Array(real.length) : new Int16Array(real.length);
  const zeroPoint = input.zeroPoint ?? 0;
  for (let i = 0; i < real.length; i++) {
    const x = real[i]! / input.scale;
    const f = Math.floor(x);
    const rounded = x - f > 0.5 || (x - f === 0.5 && f % 2 !== 0) ? f + 1 : f;
    out[i] = Math.min(range[1], Math.max(range[0], rounded + zeroPoint));
  }
  return out;
}

/** The test digits (uint8 [N, 28, 28, 1]) and their labels. */
function testDigits(files: ExampleFiles): { pixels: Uint8Array; labels: NpyData; count: number; size: number } {
  const x = readNpyFile(files.testX);
  const y = readNpyFile(files.testY);
  const count = x.shape[0] ?? 0;
  if (x.dtype !== 'u1' || y.dtype !== 'u1' || y.shape.length !== 1 || y.shape[0] !== count || count === 0) {
    throw new InvalidArgumentError(`Expected uint8 digits [N, 28, 28, 1] in ${files.testX} and N uint8 labels in ${files.testY} but received ${x.dtype} [${x.shape.join(', ')}] and ${y.dtype} [${y.shape.join(', ')}]`);
  }
  return { pixels: x.data as Uint8Array, labels: y.data, count, size: x.data.length / count };
}

/** The top class of every test digit (one run per digit). */
async function classify(session: Session, digits: ReturnType<typeof testDigits>): Promise<Uint8Array> {
  const input = session.inputs[0]!;
  const classes = session.outputs[0]?.length ?? 0;
  const out = new Uint8Array(digits.count);
  for (let i = 0; i < digits.count; i++) {
    const [scores] = await session.run([digitInput(input, digits.pixels.subarray(i * digits.size, (i + 1) * digits.size))]);
    out[i] = argmax(scores!, 0, classes);
  }
  return out;
}

/** Accuracy of both models on the test digits, in litequant's runtime. */
export async function evaluateExample(floatModel: Uint8Array, quantizedModel: Uint8Array, files: ExampleFiles = exampleFiles()): Promise<ExampleEvaluation> {
  const digits = testDigits(files);
  const predictions: Uint8Array[] = [];
  for (const model of [floatModel, quantizedModel]) {
    const session = await loadModel(model, { worker: false, threads: 1 });
    try {
      predictions.push(await classify(session, digits));
    } finally {
      await session.close();
    }
  }
  const [f, q] = predictions as [Uint8Array, Uint8Array];
  let floatRight = 0;
  let quantRight = 0;
  let agree = 0;
  for (let i = 0; i < digits.count; i++) {
    const label = Number(digits.labels[i]);
    if (f[i] === label) floatRight++;
    if (q[i] === label) quantRight++;
    if (f[i] === q[i]) agree++;
  }
  const n = digits.count;
  return { digits: n, float: floatRight / n, quantized: quantRight / n, agreement: agree / n };
}

/** Median latency of one digit, float and quantized runs interleaved, one thread, calling thread. */
export async function timeExample(floatModel: Uint8Array, quantizedModel: Uint8Array, files: ExampleFiles = exampleFiles(), runs = 200, warmup = 20): Promise<ExampleLatency> {
  const digits = testDigits(files);
  const sessions = [await loadModel(floatModel, { worker: false, threads: 1 }), await loadModel(quantizedModel, { worker: false, threads: 1 })];
  try {
    const inputs = sessions.map((s) => digitInput(s.inputs[0]!, digits.pixels.subarray(0, digits.size)));
    const times: number[][] = [[], []];
    for (let r = 0; r < warmup + runs; r++) {
      for (let m = 0; m < 2; m++) {
        // A run may take ownership of its input buffers: each gets a fresh copy.
        const input = inputs[m]!.slice();
        const start = performance.now();
        await sessions[m]!.run([input]);
        if (r >= warmup) times[m]!.push(performance.now() - start);
      }
    }
    const floatMs = latencyStats(times[0]!);
    const quantizedMs = latencyStats(times[1]!);
    return { runs, threads: 1, floatMs, quantizedMs, speedup: floatMs.median / quantizedMs.median };
  } finally {
    for (const s of sessions) await s.close();
  }
}

const kb = (bytes: number): string => `${(bytes / 1e3).toFixed(1)} KB`;
const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
const ms = (x: number): string => (x >= 1 ? x.toFixed(2) : x.toFixed(3));

function formatExample(r: ExampleResult, outputShown: string, exampleShown: string): string {
  const { report } = r;
  const quantizedOps = report.ops.filter((o) => opQuantized(o.how)).length;
  const cal = report.calibration;
  const lines = [
    `litequant example: a small CNN for handwritten digits (MNIST) that this project trains and ships (${exampleShown})`,
    `  quantized  ${r.mode}${cal !== null ? `, calibrated on ${cal.samples} digits (${cal.method})` : ''}, ${quantizedOps} of ${report.ops.length} ops, in ${(report.elapsedMs / 1000).toFixed(2)} s`,
    `  output     ${outputShown}${r.replaced ? ' (replaced the previous file)' : ''}`,
    `  size       ${kb(r.size.float)} float -> ${kb(r.size.quantized)} ${r.mode} (${r.size.ratio >= 1 ? `${r.size.ratio.toFixed(2)}x smaller` : `${(1 / r.size.ratio).toFixed(2)}x larger`})`,
    `  accuracy   ${pct(r.accuracy.float)} float, ${pct(r.accuracy.quantized)} ${r.mode} on ${r.accuracy.digits} held-back digits (the same top class as float on ${pct(r.accuracy.agreement)})`,
    `  latency    ${ms(r.latency.floatMs.median)} ms float, ${ms(r.latency.quantizedMs.median)} ms ${r.mode} per digit (median of ${r.latency.runs} runs, 1 thread): ${
      Math.abs(r.latency.speedup - 1) < 0.05
        ? 'about the same'
        : r.latency.speedup > 1
          ? `${r.latency.speedup.toFixed(2)}x faster`
          : `${(1 / r.latency.speedup).toFixed(2)}x slower`
    }`,
  ];
  for (const d of r.diagnostics.filter((x) => x.level === 'warning')) lines.push(`  warning    [${d.code}]${d.op !== undefined ? ` op ${d.op}:` : ''} ${d.message}`);
  lines.push(
    '',
    `Look inside: litequant inspect ${outputShown}`,
    'Your own model: litequant quantize model.tflite -o model_int8.tflite --calibration samples.npy',
    '',
  );
  return lines.join('\n');
}

/** Options that describe your own model's data, which the example brings itself. */
const DATA_OPTIONS: readonly [keyof QuantizeCommandOptions, string][] = [
  ['calibration', '--calibration'],
  ['inputScale', '--input-scale'],
  ['inputOffset', '--input-offset'],
];

export interface ExampleCommandOptions extends QuantizeCommandOptions {
  readonly example?: boolean;
}

/** Quantizes the example model; the result is also printed (text, or JSON with --json). */
export async function exampleCommand(modelPath: string | undefined, opts: ExampleCommandOptions, dir: string = EXAMPLE_DIR): Promise<ExampleResult> {
  if (modelPath !== undefined) {
    throw new InvalidArgumentError(`Expected either a model file or --example for litequant quantize but received both (${modelPath} and --example)`);
  }
  const given = DATA_OPTIONS.filter(([key]) => opts[key] !== undefined).map(([, name]) => name);
  if (given.length > 0) {
    throw new InvalidArgumentError(
      `${given.join(', ')} describe${given.length === 1 ? 's' : ''} your own model's data, but no model was given, so litequant quantizes its example (which calibrates on digits it ships): give the model too, litequant quantize MODEL.tflite ${given.join(' ... ')} ...`,
    );
  }
  const mode = oneOf(opts.mode ?? 'int8', QUANTIZE_MODES, '--mode')!;
  const method = oneOf(opts.method, CALIBRATION_METHODS, '--method');
  const io = oneOf(opts.io, IO_TYPES, '--io');
  const calibrated = mode === 'int8' || mode === 'int16x8';
  const files = exampleFiles(dir);
  checkApplicable(mode, { ...opts, ...(calibrated && { calibration: [files.calibration] }) }, io);
  const samplesWanted = parseIntOption(opts.samples, '--samples', Number.MAX_SAFE_INTEGER, 1, Number.MAX_SAFE_INTEGER);
  const minWeightElements = opts.minWeightElements === undefined ? undefined : parseIntOption(opts.minWeightElements, '--min-weight-elements', 1024, 0, 2 ** 31 - 1);
  const exclude = parseExclude(opts.exclude ?? []);
  const outputPath = opts.output ?? `mnist_${mode}.tflite`;
  if (outputPath.trim() === '') throw new InvalidArgumentError('Expected -o OUT.tflite (where the quantized model goes) but received an empty path');

  const floatModel = new Uint8Array(readFileSync(files.model));
  const graph = readModel(floatModel);
  const replaced = existsSync(outputPath);
  discardPendingFilesOnExit();
  // Opened first: an unwritable path fails before any work.
  const file = openAtomic(outputPath);
  let data: InputData | null = null;
  let result: QuantizeResult;
  try {
    if (calibrated) {
      data = openInputData([files.calibration], modelInputs(graph), { scale: [EXAMPLE_INPUT_SCALE], option: '--calibration' });
    }
    const options: QuantizeOptions = {
      mode,
      ...(data !== null && { calibration: npySamples(data, Math.min(samplesWanted, data.samples)) }),
      ...(method && { method }),
      ...(opts.perTensor === true && { perChannel: false }),
      ...(io && { io }),
      ...(exclude.length > 0 && { exclude }),
      ...(opts.strict === true && { strict: true }),
      ...(minWeightElements !== undefined && { minWeightElements }),
    };
    result = await quantize(floatModel, options);
    file.write(result.model);
    file.commit();
  } catch (error) {
    file.abort();
    throw error;
  } finally {
    data?.close();
  }

  const accuracy = await evaluateExample(floatModel, result.model, files);
  const latency = await timeExample(floatModel, result.model, files);
  const example: ExampleResult = {
    example: files.dir,
    input: files.model,
    output: outputPath,
    replaced,
    mode,
    size: { float: floatModel.length, quantized: result.model.length, ratio: floatModel.length / result.model.length },
    accuracy,
    latency,
    report: result.report,
    diagnostics: result.diagnostics,
  };
  if (opts.json === true) {
    process.stdout.write(`${JSON.stringify(example, null, 2)}\n`);
  } else {
    const shownDir = relative(process.cwd(), files.dir);
    process.stdout.write(formatExample(example, outputPath, shownDir.startsWith('..') || shownDir === '' ? files.dir : shownDir));
  }
  return example;
}

export const EXAMPLE_HELP = `
Without a model (or with --example), quantizes the example model that litequant ships: a small
CNN for handwritten digits (MNIST) trained by this project (examples/mnist/, made by
'npm run example:train'). It calibrates on 200 digits it ships, writes -o (default
./mnist_<mode>.tflite; an existing file there is replaced, and the output says so), and prints
the float and quantized sizes, the accuracy of both on 500 held-back digits (in litequant's
runtime), and the median latency of one digit for both (one thread). --mode defaults to int8
here; --calibration, --input-scale and --input-offset are for your own model's data.`;
