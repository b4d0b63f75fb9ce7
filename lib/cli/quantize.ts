// `litequant quantize IN.tflite -o OUT.tflite --mode int8 --calibration data.npy`: the
// quantizer (lib/quantize/quantize.ts) from the command line.
//
// - Calibration data (int8, int16x8): one .npy per model input, read sample by sample from disk
//   (lib/cli/input-data.ts, the same checks and conversions as `litequant run`: a float input
//   gets float32(raw * --input-scale + --input-offset)); --samples N uses the first N. Nothing
//   holds the whole file in memory.
// - Options that do nothing in the chosen mode (--calibration with dynamic, --min-weight-elements
//   with int8...) are errors, not silently ignored; so are --exclude entries that are not an op
//   name, an operator index or a /regex/. An entry that matches no operator is a warning.
// - The output is written to a temporary file in its directory and renamed into place when
//   complete: an error or Ctrl-C (SIGINT aborts the quantizer through its AbortSignal; exit 130)
//   leaves no partial file and keeps any previous one. An unwritable path fails before any work.
// - On a terminal, calibration shows a progress bar on stderr; piped, nothing but the result.
// The model argument is optional in the grammar: without it (or with --example) main.ts runs
// lib/cli/example.ts, which quantizes the example model the package ships; quantizeCommand itself
// still needs a model.
import cliProgress from 'cli-progress';

import { expected, InvalidArgumentError } from '../errors.js';
import { discardPendingFiles, discardPendingFilesOnExit, openAtomic, type AtomicFile } from '../fs-atomic.js';
import type { Graph } from '../ir/graph.js';
import { GraphEditor } from '../quantize/graph-edit.js';
import { isExcluded, resolveOptions } from '../quantize/options.js';
import { quantize } from '../quantize/quantize.js';
import type { CalibrationMethod, Diagnostic, IoType, ProgressEvent, QuantizeMode, QuantizeOptions, QuantizeResult } from '../quantize/types.js';
import { describeTensor, type SessionTensorInfo } from '../runtime/session-info.js';
import type { TensorData } from '../runtime/plan.js';
import { elementCount, planTensor, runShape } from '../runtime/tensors.js';
import { describeFeed, openInputData, parseNumberList, type InputData } from './input-data.js';
import { readModelArgument } from './convert.js';
import { parseIntOption } from './run.js';

export const QUANTIZE_MODES: readonly QuantizeMode[] = ['int8', 'int16x8', 'dynamic', 'float16', 'weight-only'];
export const CALIBRATION_METHODS: readonly CalibrationMethod[] = ['minmax', 'ema', 'percentile', 'entropy', 'mse'];
export const IO_TYPES: readonly IoType[] = ['float', 'int8', 'uint8', 'int16'];

export interface QuantizeCommandOptions {
  readonly output?: string;
  readonly mode?: string;
  readonly calibration?: readonly string[];
  readonly inputScale?: string;
  readonly inputOffset?: string;
  readonly method?: string;
  readonly samples?: string;
  readonly perTensor?: boolean;
  readonly io?: string;
  readonly exclude?: readonly string[];
  readonly strict?: boolean;
  readonly minWeightElements?: string;
  readonly progress?: boolean;
  readonly json?: boolean;
}

export const QUANTIZE_HELP = `
Modes:
  int8         full integer: int8 activations (calibrated), int8 weights (per channel for
               CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED), int32 biases. Needs --calibration.
  int16x8      int16 activations (symmetric), int8 weights, int64 biases. Needs --calibration.
  dynamic      int8 weights, float activations; hybrid kernels quantize inputs on the fly.
  float16      float16 weights, dequantized to float32 when the model loads (about 2x smaller).
  weight-only  int8 weights dequantized to float32 in the graph; float compute.
  dynamic and weight-only keep weights with fewer than --min-weight-elements elements (default
  1024, TFLite's) in float.

Calibration (int8, int16x8): one .npy file per model input (comma-separated, in the model's
input order), samples along the first axis, read from disk one sample at a time; --samples N
uses the first N. A float input gets float32(raw * S + O) (S, O: --input-scale, --input-offset,
defaults 1 and 0; one value, or one per input), e.g. --input-scale 0.00392156862745098 for
uint8 pixels a model expects in [0, 1]. The sample shape rules are those of 'litequant run'.
NaN or Infinity in the data (after scaling) is an error naming the file and element.

--method: how observed values become ranges: minmax (TFLite's), ema (moving average of each
sample's min/max), percentile (99.99th of |x| on each side), entropy (KL divergence, TensorRT's),
mse (the clipping with the least quantization error).
--io: the model's input/output type after int8/int16x8: float (QUANTIZE/DEQUANTIZE at the edges,
the default), int8 or uint8 (mode int8), int16 (mode int16x8).
--exclude keeps ops in float: an op name (SOFTMAX), an operator index (7), or /regex/flags
matched against the names of an op's output tensors; comma-separated or repeated.
--strict: an op with no quantized kernel is an error instead of a float island.

The output is written to a temporary file and renamed into place when complete: an error or
Ctrl-C leaves no partial file and keeps any previous one. Exit code 0 on success, 1 on an error
(one line: "litequant: <message> [<code>]"), 130 when interrupted.
--json prints { input, output, report, diagnostics } (report: sizes, calibration, what each
operator became, every quantized tensor's range, scales and zero points, timings).`;

/** What a model input looks like to the .npy reader (the runtime's own description of it). */
export function modelInputs(graph: Graph): SessionTensorInfo[] {
  const subgraph = graph.subgraphs[0];
  if (subgraph === undefined) return [];
  return subgraph.inputs.map((index) => {
    const t = subgraph.tensors[index]!;
    const shape = runShape(t, null);
    return describeTensor(planTensor(graph, t, index, shape, new Float32Array(elementCount(shape))));
  });
}

/**
 * --exclude entries: "SOFTMAX" (an op name), "7" (an operator index), "/conv.*\/Relu/i" (a
 * RegExp over output tensor names). Entries are comma-separated; a comma inside /.../ belongs
 * to the regex.
 */
export function parseExclude(values: readonly string[]): (string | number | RegExp)[] {
  const pieces = values.flatMap((v) => v.split(','));
  const entries: (string | number | RegExp)[] = [];
  const regex = /^\/(.*)\/([a-z]*)$/s;
  for (let i = 0; i < pieces.length; i++) {
    let piece = pieces[i]!.trim();
    if (piece === '') continue;
    if (piece.startsWith('/')) {
      while (!(piece.length > 1 && regex.test(piece)) && i + 1 < pieces.length) piece += `,${pieces[++i]!}`;
      const m = regex.exec(piece);
      if (m === null || piece.length < 2) throw expected('/regex/ or /regex/flags (a closing slash)', '--exclude', piece);
      try {
        entries.push(new RegExp(m[1]!, m[2]));
      } catch (error) {
        throw new InvalidArgumentError(`Expected a valid regular expression for --exclude but received ${piece}: ${(error as Error).message}`);
      }
    } else if (/^\d+$/.test(piece)) {
      entries.push(Number(piece));
    } else if (/^[A-Za-z][A-Za-z0-9_]*$/.test(piece)) {
      entries.push(piece.toUpperCase());
    } else {
      throw expected('an op name (SOFTMAX), an operator index (7) or a /regex/', '--exclude', piece);
    }
  }
  return entries;
}

/** Warnings for --exclude entries that match no operator (an index out of range is an error). */
function checkExclude(graph: Graph, entries: readonly (string | number | RegExp)[]): Diagnostic[] {
  if (entries.length === 0) return [];
  const editor = new GraphEditor(graph);
  const count = editor.operators.length;
  const found: Diagnostic[] = [];
  for (const entry of entries) {
    if (typeof entry === 'number' && entry >= count) {
      throw new InvalidArgumentError(`Expected an operator index from 0 to ${count - 1} for --exclude but received ${entry} (the model has ${count} operators)`);
    }
    const one = resolveOptions({ mode: 'dynamic', exclude: [entry] });
    let matched = false;
    for (let i = 0; i < count && !matched; i++) matched = isExcluded(editor, i, one);
    if (!matched) {
      const ops = [...new Set(editor.operators.map((_, i) => editor.opName(i)))].join(', ');
      const hint = typeof entry === 'string' ? ` (its ops: ${ops})` : '';
      found.push({ level: 'warning', code: 'exclude-unmatched', message: `--exclude ${String(entry)} matches no operator of the model${hint}` });
    }
  }
  return found;
}

/** The first `count` samples of the .npy files, one at a time, as model inputs. */
export function npySamples(data: InputData, count: number): Iterable<TensorData[]> & { readonly length: number } {
  return {
    length: count,
    *[Symbol.iterator]() {
      for (let i = 0; i < count; i++) yield data.read(i, 1);
    },
  };
}

export function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], option: string): T | undefined {
  if (value === undefined) return undefined;
  if (!allowed.includes(value as T)) throw expected(`one of ${allowed.join(', ')}`, option, value);
  return value as T;
}

/** Options that mean nothing in `mode` are errors. */
export function checkApplicable(mode: QuantizeMode, opts: QuantizeCommandOptions, io: IoType | undefined): void {
  const calibrated = mode === 'int8' || mode === 'int16x8';
  const given = (names: [string, unknown][]): string[] => names.filter(([, v]) => v !== undefined && v !== false).map(([n]) => n);
  const refuse = (names: string[], where: string, why = ''): void => {
    if (names.length > 0) {
      throw new InvalidArgumentError(`${names.join(', ')} ${names.length === 1 ? 'applies' : 'apply'} only to ${where}, not to --mode ${mode}${why}`);
    }
  };
  if (!calibrated) {
    refuse(
      given([
        ['--calibration', opts.calibration],
        ['--method', opts.method],
        ['--samples', opts.samples],
        ['--input-scale', opts.inputScale],
        ['--input-offset', opts.inputOffset],
        ['--io', opts.io],
      ]),
      '--mode int8 and int16x8',
      ' (it needs no calibration data)',
    );
  } else if (opts.calibration === undefined || opts.calibration.length === 0) {
    throw new InvalidArgumentError(`Expected --calibration data.npy (representative inputs: one .npy per model input) for --mode ${mode} but received none`);
  }
  if (mode !== 'dynamic' && mode !== 'weight-only') refuse(given([['--min-weight-elements', opts.minWeightElements]]), '--mode dynamic and weight-only');
  if (mode === 'float16') refuse(given([['--per-tensor', opts.perTensor]]), 'modes with int8 weights');
  if (io !== undefined && ((mode === 'int8' && io === 'int16') || (mode === 'int16x8' && (io === 'int8' || io === 'uint8')))) {
    throw expected(mode === 'int8' ? 'float, int8 or uint8 with --mode int8' : 'float or int16 with --mode int16x8', '--io', io);
  }
}

interface Progress {
  event(e: ProgressEvent): void;
  stop(): void;
}

function progressBar(enabled: boolean): Progress {
  if (!enabled) return { event: () => undefined, stop: () => undefined };
  let bar: cliProgress.SingleBar | null = null;
  let last = 0;
  const stop = (): void => {
    bar?.stop();
    bar = null;
  };
  return {
    event: (e) => {
      if (e.phase !== 'calibrate') return stop();
      if (bar === null) {
        bar = new cliProgress.SingleBar(
          { format: 'calibrating {bar} {value}/{total} samples | {eta_formatted} left', hideCursor: true, clearOnComplete: true, stream: process.stderr },
          cliProgress.Presets.shades_classic,
        );
        bar.start(e.total ?? 0, e.done);
        last = performance.now();
      } else if (performance.now() - last > 50 || e.done === e.total) {
        // At most 20 updates a second: the ETA is estimated from the last 10 updates.
        bar.update(e.done);
        last = performance.now();
      }
    },
    stop,
  };
}

/** The reason the CLI aborts the quantizer with on SIGINT/SIGTERM. */
class Interrupted extends Error {
  readonly signal: NodeJS.Signals;
  constructor(signal: NodeJS.Signals) {
    super(`interrupted (${signal})`);
    this.signal = signal;
  }
}

const kb = (bytes: number): string => (bytes < 1e6 ? `${(bytes / 1e3).toFixed(1)} KB` : `${(bytes / 1e6).toFixed(2)} MB`);

/** True when an op of the report was quantized (its compute or its weights), false when it stayed float. */
export function opQuantized(how: string): boolean {
  return !how.startsWith('float (') && !how.startsWith('unchanged');
}

function formatResult(input: string, output: string, graph: Graph, result: QuantizeResult, data: InputData | null, options: QuantizeOptions): string {
  const { report, diagnostics } = result;
  const ratio = report.sizeAfter > 0 ? report.sizeBefore / report.sizeAfter : 0;
  const change = ratio >= 1 ? `${ratio.toFixed(2)}x smaller` : `${(1 / ratio).toFixed(2)}x larger`;
  const lines = [`${input} -> ${output}: ${report.mode}, ${kb(report.sizeBefore)} -> ${kb(report.sizeAfter)} (${change}) in ${(report.elapsedMs / 1000).toFixed(2)} s`];
  const cal = report.calibration;
  if (cal !== null && data !== null) {
    lines.push(`  calibration  ${cal.samples} sample${cal.samples === 1 ? '' : 's'}, method ${cal.method}, ${cal.ms.toFixed(0)} ms`);
    for (const feed of data.feeds) lines.push(`               ${describeFeed(feed)}`);
  }
  const settings: string[] = [];
  if (report.mode !== 'float16') settings.push(`weights per ${options.perChannel === false ? 'tensor' : 'channel'}`);
  if (report.mode === 'int8' || report.mode === 'int16x8') settings.push(`model I/O ${options.io ?? 'float'}`);
  if (report.mode === 'dynamic' || report.mode === 'weight-only') settings.push(`weights under ${options.minWeightElements ?? 1024} elements stay float`);
  if (options.strict === true) settings.push('strict');
  if (settings.length > 0) lines.push(`  settings     ${settings.join(', ')}`);
  const quantized = report.ops.filter((o) => opQuantized(o.how)).length;
  const total = graph.subgraphs[0]?.operators.length ?? 0;
  lines.push(`  ops          ${quantized} quantized, ${report.ops.length - quantized} left float (the model has ${total} operator${total === 1 ? '' : 's'})`);
  const byHow = new Map<string, number>();
  for (const o of report.ops) byHow.set(o.how, (byHow.get(o.how) ?? 0) + 1);
  const hows = [...byHow].sort((a, b) => Number(opQuantized(b[0])) - Number(opQuantized(a[0])) || b[1] - a[1]);
  for (const [how, n] of hows) lines.push(`               ${String(n).padStart(4)}  ${how}`);
  const warnings = diagnostics.filter((d) => d.level === 'warning');
  const infos = diagnostics.filter((d) => d.level !== 'warning');
  const shown = infos.slice(0, 20);
  const line = (d: Diagnostic): string => `  ${d.level.padEnd(7)}  [${d.code}]${d.op !== undefined ? ` op ${d.op}:` : ''} ${d.message}`;
  lines.push(...warnings.map(line), ...shown.map(line));
  if (infos.length > shown.length) lines.push(`  ... and ${infos.length - shown.length} more notes (--json lists them all)`);
  return `${lines.join('\n')}\n`;
}

export async function quantizeCommand(modelPath: string | undefined, opts: QuantizeCommandOptions): Promise<void> {
  if (modelPath === undefined) {
    throw new InvalidArgumentError('Expected a model file for litequant quantize (litequant quantize IN.tflite -o OUT.tflite --mode int8 --calibration data.npy) but received none');
  }
  if (opts.output === undefined || opts.output.trim() === '') {
    throw new InvalidArgumentError(`Expected -o OUT.tflite (where the quantized model goes) but received ${opts.output === undefined ? 'none' : 'an empty path'}`);
  }
  if (opts.mode === undefined) throw new InvalidArgumentError(`Expected --mode (${QUANTIZE_MODES.join(', ')}) but received none`);
  const mode = oneOf(opts.mode, QUANTIZE_MODES, '--mode')!;
  const method = oneOf(opts.method, CALIBRATION_METHODS, '--method');
  const io = oneOf(opts.io, IO_TYPES, '--io');
  checkApplicable(mode, opts, io);
  const samplesWanted = opts.samples === undefined ? Infinity : Number(opts.samples);
  if (opts.samples !== undefined && (!/^\s*\d+\s*$/.test(opts.samples) || !(samplesWanted >= 1))) throw expected('a positive integer', '--samples', opts.samples);
  const minWeightElements = opts.minWeightElements === undefined ? undefined : parseIntOption(opts.minWeightElements, '--min-weight-elements', 1024, 0, 2 ** 31 - 1);
  const scale = parseNumberList(opts.inputScale, '--input-scale');
  const offset = parseNumberList(opts.inputOffset, '--input-offset');
  const exclude = parseExclude(opts.exclude ?? []);
  const outputPath = opts.output;

  const { bytes, graph } = await readModelArgument(modelPath); // a .tflite, or a TensorFlow.js model.json converted
  const notes = checkExclude(graph, exclude);
  let data: InputData | null = null;
  let file: AtomicFile | null = null;
  let progress: Progress | null = null;
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (!controller.signal.aborted) {
      // The quantizer stops at its next check (between samples, between phases).
      controller.abort(new Interrupted(signal));
      return;
    }
    // A second Ctrl-C: stop now.
    progress?.stop();
    discardPendingFiles();
    process.stderr.write(`litequant: interrupted (${signal}); no output written\n`);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  try {
    let calibration: Iterable<TensorData[]> | undefined;
    if (opts.calibration !== undefined) {
      const paths = opts.calibration.flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== '');
      data = openInputData(paths, modelInputs(graph), { ...(scale && { scale }), ...(offset && { offset }), option: '--calibration' });
      const count = Math.min(samplesWanted, data.samples);
      if (samplesWanted !== Infinity && samplesWanted > data.samples) {
        notes.push({ level: 'info', code: 'fewer-samples', message: `--samples ${samplesWanted}: the calibration data has ${data.samples}, all used` });
      }
      calibration = npySamples(data, count);
    }
    process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
    // Open the output now: an unwritable path fails before any work.
    discardPendingFilesOnExit();
    file = openAtomic(outputPath);
    progress = progressBar(opts.progress !== false && process.stderr.isTTY === true && process.stdout.isTTY === true);
    const options: QuantizeOptions = {
      mode,
      ...(calibration && { calibration }),
      ...(method && { method }),
      ...(opts.perTensor === true && { perChannel: false }),
      ...(io && { io }),
      ...(exclude.length > 0 && { exclude }),
      ...(opts.strict === true && { strict: true }),
      ...(minWeightElements !== undefined && { minWeightElements }),
      signal: controller.signal,
      onProgress: progress.event,
    };
    let result: QuantizeResult;
    try {
      result = await quantize(bytes, options);
    } catch (error) {
      throw controller.signal.aborted ? controller.signal.reason : error;
    }
    progress.stop();
    if (controller.signal.aborted) throw controller.signal.reason;
    file.write(result.model);
    file.commit();
    const diagnostics = [...notes, ...result.diagnostics].sort((a, b) => Number(b.level === 'warning') - Number(a.level === 'warning'));
    if (opts.json === true) {
      process.stdout.write(`${JSON.stringify({ input: modelPath, output: outputPath, report: result.report, diagnostics }, null, 2)}\n`);
    } else {
      process.stdout.write(formatResult(modelPath, outputPath, graph, { ...result, diagnostics }, data, options));
    }
  } catch (error) {
    progress?.stop();
    file?.abort();
    if (error instanceof Interrupted) {
      process.stderr.write(`litequant: interrupted (${error.signal}); no output written\n`);
      process.exit(error.signal === 'SIGINT' ? 130 : 143);
    }
    throw error;
  } finally {
    data?.close();
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  }
}
