// `litequant run MODEL.tflite --input data.npy[,more.npy] -o out.npy[,more.npy]`: the model on
// every sample (the first axis of the .npy files), one .npy per model output.
//
// - Inputs: lib/cli/input-data.ts (one file per model input, read sample by sample from disk;
//   the conversions, --input-scale/--input-offset and the NaN rule are documented there and in
//   --help).
// - Outputs: output j's file has shape [N, ...per-sample shape] and the output tensor's dtype;
//   the per-sample shape is the tensor's shape without its leading batch axis of 1 ([1, 10] ->
//   [N, 10]; a rank-1 tensor keeps its shape: [3] -> [N, 3]). Each file is written to a temp
//   file in its directory and renamed into place only after every sample ran, so a failed or
//   interrupted run (Ctrl-C) leaves no partial file and any previous file intact.
// - Runs on the calling thread (worker: false): nothing else competes with it, and the loop
//   yields to the event loop regularly so Ctrl-C and the progress bar are served.
import cliProgress from 'cli-progress';

import { expected, InvalidArgumentError } from '../errors.js';
import { discardPendingFiles, discardPendingFilesOnExit } from '../fs-atomic.js';
import { createNpyWriter, NPY_DTYPE_NAMES, type NpyWriter } from '../npy.js';
import type { Session, SessionTensorInfo, TensorData } from '../runtime/session.js';
import { describeFeed, describeInput, formatShape, NPY_OF_DTYPE, openInputData, parseNumberList, type InputData } from './input-data.js';
import { loadModelFile } from './model-file.js';

export interface RunCommandOptions {
  readonly input: readonly string[];
  readonly output: string;
  readonly inputScale?: string;
  readonly inputOffset?: string;
  readonly threads?: string;
  readonly batch?: string;
  readonly allowNonfinite?: boolean;
  readonly progress?: boolean;
  readonly json?: boolean;
}

export const RUN_HELP = `
Inputs: one .npy file per model input (comma-separated, in the model's input order), samples
along the first axis. A sample's shape must be the input's shape up to size-1 axes (data
[N, 32, 32, 3] for an input [1, 32, 32, 3]) or flat ([N, 3072]); a transposed layout with the
same element count is rejected. Every file needs the same number of samples N >= 1.

Values:
  float32 input:  float32(raw * S + O) for data of any numeric dtype (S, O: --input-scale,
                  --input-offset; defaults 1 and 0).
  int8/int16/uint8 quantized input: data of the input's own dtype is already quantized and goes
                  in as is; other data is real values: q = clamp(round_half_to_even(
                  float32(raw * S + O) / scale) + zero_point), with the input tensor's scale and
                  zero point.
  other integer or bool inputs: the values go in as is (whole numbers in range, bool 0/1).
  S and O take one value for every input or one per input ("0.0039,1"); for an input fed as is
  they must be 1 and 0.
  NaN or Infinity in an input (after scaling) is an error naming the file and element; with
  --allow-nonfinite they go to float inputs as they are (quantized inputs clamp +-Infinity; NaN
  has no quantized value and stays an error).

Outputs: one .npy per model output, shape [N, ...output shape without its batch axis of 1]
([1, 10] -> [N, 10]) and the output tensor's dtype. -o takes one path per output
(comma-separated); with one path and several outputs, output 0 goes to out.npy and output k to
out_k.npy. Files appear only when every sample has run (written to a temporary file and renamed):
an error or Ctrl-C leaves no partial file and keeps any previous one.

--batch B feeds B samples per run when every model input has a dynamic batch (shape signature
[-1, ...]); the results do not depend on B.`;

/** Parses an integer option within [min, max]. */
export function parseIntOption(text: string | undefined, option: string, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^\s*-?\d+\s*$/.test(text) || value < min || value > max) {
    throw expected(`an integer from ${min} to ${max}`, option, text);
  }
  return value;
}

/** Per-sample shape of an output: its shape without a leading batch axis of 1. */
export function sampleShapeOf(t: SessionTensorInfo): number[] {
  return t.shape.length >= 2 && t.shape[0] === 1 ? t.shape.slice(1) : [...t.shape];
}

/** One path per output from -o: a comma-separated list, or one path expanded to out.npy, out_1.npy... */
export function outputPaths(text: string, outputs: readonly SessionTensorInfo[]): string[] {
  const paths = text.split(',').map((s) => s.trim());
  if (paths.some((p) => p === '')) throw expected('a path, or comma-separated paths (one per model output)', '-o', text);
  if (paths.length === 1 && outputs.length > 1) {
    const only = paths[0]!;
    const stem = only.endsWith('.npy') ? only.slice(0, -4) : only;
    return outputs.map((_, k) => (k === 0 ? only : `${stem}_${k}.npy`));
  }
  if (paths.length !== outputs.length) {
    throw new InvalidArgumentError(
      `Expected ${outputs.length} paths for -o (one per model output: ${outputs.map(describeInput).join('; ')}), or one, but received ${paths.length}: ${text}`,
    );
  }
  const seen = new Set<string>();
  for (const p of paths) {
    if (seen.has(p)) throw new InvalidArgumentError(`Expected distinct paths for -o but '${p}' appears twice`);
    seen.add(p);
  }
  return paths;
}

function countNonFinite(data: TensorData): number {
  if (!(data instanceof Float32Array)) return 0;
  let n = 0;
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!)) n++;
  return n;
}

interface Progress {
  update(done: number): void;
  stop(): void;
}

function progressBar(total: number, enabled: boolean): Progress {
  if (!enabled) return { update: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    { format: 'running {bar} {value}/{total} samples | {eta_formatted} left', hideCursor: true, clearOnComplete: true, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return { update: (done) => bar.update(done), stop: () => bar.stop() };
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export async function runCommand(modelPath: string, opts: RunCommandOptions): Promise<void> {
  const threads = parseIntOption(opts.threads, '--threads', 1, 0, 256);
  const batch = parseIntOption(opts.batch, '--batch', 1, 1, 1 << 20);
  const scale = parseNumberList(opts.inputScale, '--input-scale');
  const offset = parseNumberList(opts.inputOffset, '--input-offset');
  const inputPaths = opts.input.flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== '');

  const loadStart = performance.now();
  const { session } = await loadModelFile(modelPath, { threads, worker: false });
  const loadMs = performance.now() - loadStart;
  let data: InputData | null = null;
  const writers: NpyWriter[] = [];
  let progress: Progress | null = null;
  const onSignal = (signal: NodeJS.Signals): void => {
    progress?.stop();
    discardPendingFiles();
    process.stderr.write(`litequant: interrupted (${signal}); no output written\n`);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  try {
    data = openInputData(inputPaths, session.inputs, { ...(scale && { scale }), ...(offset && { offset }), allowNonFinite: opts.allowNonfinite === true });
    if (batch > 1) {
      const fixed = session.inputs.findIndex((t) => t.shapeSignature[0] !== -1);
      if (fixed >= 0) {
        const t = session.inputs[fixed]!;
        throw new InvalidArgumentError(
          `--batch ${batch} needs a dynamic batch (shape signature [-1, ...]) on every model input, but input ${describeInput(t, fixed)} has signature ${formatShape(t.shapeSignature)}; use --batch 1`,
        );
      }
    }
    const n = data.samples;
    const paths = outputPaths(opts.output, session.outputs);
    // Open every output now: an unwritable path fails before any work.
    discardPendingFilesOnExit();
    for (const [j, t] of session.outputs.entries()) {
      writers.push(createNpyWriter(paths[j]!, NPY_OF_DTYPE[t.dtype], [n, ...sampleShapeOf(t)]));
    }
    process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
    progress = progressBar(n, opts.progress !== false && process.stderr.isTTY === true && process.stdout.isTTY === true);
    const nonFinite = session.outputs.map(() => 0);
    const runStart = performance.now();
    let lastYield = runStart;
    for (let start = 0; start < n; start += batch) {
      const k = Math.min(batch, n - start);
      const outputs = await session.run(data.read(start, k));
      for (const [j, t] of session.outputs.entries()) {
        const out = outputs[j]!;
        if (out.length !== k * t.length) {
          throw new InvalidArgumentError(
            `Expected ${k * t.length} elements from model output ${describeInput(t, j)} for ${k} sample${k === 1 ? '' : 's'} but the run returned ${out.length}`,
          );
        }
        nonFinite[j]! += countNonFinite(out);
        writers[j]!.append(out);
      }
      progress.update(start + k);
      if (performance.now() - lastYield > 50) {
        await yieldToEventLoop();
        lastYield = performance.now();
      }
    }
    const runMs = performance.now() - runStart;
    progress.stop();
    for (const w of writers) w.commit();

    const summary = {
      model: modelPath,
      samples: n,
      batch,
      threads,
      inputs: data.feeds.map((f) => ({ path: f.file.path, dtype: NPY_DTYPE_NAMES[f.file.dtype], shape: f.file.shape, feed: f.mode, scale: f.scale, offset: f.offset })),
      outputs: session.outputs.map((t, j) => ({
        path: writers[j]!.path,
        name: t.name,
        dtype: t.dtype,
        shape: writers[j]!.shape,
        nonFinite: nonFinite[j]!,
      })),
      loadMs: round(loadMs),
      runMs: round(runMs),
      msPerSample: round(runMs / n, 4),
    };
    if (opts.json === true) {
      process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    } else {
      const lines = [
        `${modelPath}: ${n} sample${n === 1 ? '' : 's'} in ${summary.runMs} ms (${summary.msPerSample} ms per sample, batch ${batch}, ${threads === 0 ? 'one thread per core' : `${threads} thread${threads === 1 ? '' : 's'}`}; load ${summary.loadMs} ms)`,
        ...data.feeds.map((f) => `  in   ${describeFeed(f)}`),
        ...summary.outputs.map(
          (o, j) => `  out  output ${j} '${o.name}' ${o.dtype} -> '${o.path}' ${formatShape(o.shape)}${o.nonFinite > 0 ? ` (${o.nonFinite} NaN/Infinity values)` : ''}`,
        ),
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    }
  } catch (error) {
    progress?.stop();
    for (const w of writers) w.abort();
    throw error;
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    data?.close();
    await closeQuietly(session);
  }
}

async function closeQuietly(session: Session): Promise<void> {
  try {
    await session.close();
  } catch {
    // closing a main-thread session cannot fail in a way that matters here
  }
}

function round(x: number, digits = 3): number {
  return Number(x.toFixed(digits));
}
