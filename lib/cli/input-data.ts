// Model inputs from .npy files, for `litequant run`, `bench --input` and calibration: one file
// per model input, samples along the first axis, read from disk on demand (lib/npy.ts openNpy).
//
// How a sample becomes an input (checked once when the files are opened):
// - float32 input: any numeric dtype; each value becomes float32(raw * scale + offset)
//   (--input-scale / --input-offset, defaults 1 and 0). NaN or ±Infinity is an error unless
//   allowNonFinite.
// - quantized int8/int16/uint8 input: data of the input's own dtype is taken as already
//   quantized and goes in as is; data of any other dtype is real values: float32(raw * scale +
//   offset), then q = clamp(roundHalfToEven(real / inputScale) + inputZeroPoint, qmin, qmax).
//   NaN is always an error (it has no quantized value); ±Infinity clamps when allowNonFinite.
// - any other integer or bool input (ids, indices, masks): the values go in as is; data of
//   another dtype must hold whole numbers in the input's range (bool: 0 or 1).
// scale/offset that are not 1/0 for an input fed as is are an error, not silently ignored.
import { expected, InvalidArgumentError } from '../errors.js';
import { NPY_DTYPE_NAMES, openNpy, type NpyData, type NpyDtype, type NpyFile } from '../npy.js';
import type { SessionDtype, SessionTensorInfo, TensorData } from '../runtime/session.js';

export interface InputDataOptions {
  /** One value for every input, or one per input. Default [1]. */
  readonly scale?: readonly number[];
  /** One value for every input, or one per input. Default [0]. */
  readonly offset?: readonly number[];
  /** Let NaN/±Infinity through to float inputs (and clamp ±Infinity for quantized ones). */
  readonly allowNonFinite?: boolean;
  /** The option that named the files, for messages. Default '--input'. */
  readonly option?: string;
}

/** How one input is filled: 'as-is' (same dtype), 'float', 'quantize' or 'integer' (converted, exact). */
export type FeedMode = 'as-is' | 'float' | 'quantize' | 'integer';

export interface InputFeed {
  readonly file: NpyFile;
  readonly input: SessionTensorInfo;
  readonly index: number;
  readonly mode: FeedMode;
  readonly scale: number;
  readonly offset: number;
}

/** The .npy dtype code that holds each session dtype unchanged. */
export const NPY_OF_DTYPE: Readonly<Record<SessionDtype, NpyDtype>> = {
  float32: 'f4',
  int8: 'i1',
  int16: 'i2',
  int32: 'i4',
  uint8: 'u1',
  bool: 'b1',
  int64: 'i8',
};

const RANGES: Partial<Record<SessionDtype, readonly [number, number]>> = {
  int8: [-128, 127],
  int16: [-32768, 32767],
  uint8: [0, 255],
  int32: [-2147483648, 2147483647],
  bool: [0, 1],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

export function describeInput(t: SessionTensorInfo, i: number): string {
  return `${i} '${t.name}' ${t.dtype} ${formatShape(t.shape)}`;
}

/** Parses "1.5" or "1,0.5" (one number, or one per model input) for an option. */
export function parseNumberList(text: string | undefined, option: string): number[] | undefined {
  if (text === undefined) return undefined;
  const parts = text.split(',').map((s) => s.trim());
  const values = parts.map(Number);
  if (parts.some((s) => s === '') || values.some((v) => !Number.isFinite(v))) {
    throw expected('a finite number, or a comma-separated list of them (one per model input)', option, text);
  }
  return values;
}

function perInput(values: readonly number[] | undefined, fallback: number, count: number, option: string): number[] {
  if (values === undefined) return Array.from({ length: count }, () => fallback);
  if (values.length === 1) return Array.from({ length: count }, () => values[0]!);
  if (values.length !== count) {
    throw new InvalidArgumentError(
      `Expected one value for ${option}, or ${count} (one per model input), but received ${values.length}: ${values.join(',')}`,
    );
  }
  return [...values];
}

const squeeze = (shape: readonly number[]): number[] => shape.filter((d) => d !== 1);
const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * A sample fits an input when its shape is the input's shape up to size-1 axes (which do not
 * change the memory order: [32,32,3] fits [1,32,32,3]) or is flat with the same element count.
 * Anything else with the same count (NCHW for NHWC, a transposed matrix) is a layout mistake.
 */
function sampleFits(sample: readonly number[], input: readonly number[], length: number): boolean {
  if (sameShape(squeeze(sample), squeeze(input))) return true;
  return sample.length === 1 && sample[0] === length;
}

function chooseMode(t: SessionTensorInfo, dtype: NpyDtype): FeedMode {
  if (t.dtype === 'float32') return 'float';
  if (dtype === NPY_OF_DTYPE[t.dtype]) return 'as-is';
  const quantizable = t.dtype === 'int8' || t.dtype === 'int16' || t.dtype === 'uint8';
  return quantizable && t.scale !== null && t.scale > 0 ? 'quantize' : 'integer';
}

function roundHalfToEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/** The samples of a set of .npy files, one per model input, checked against the inputs. */
export class InputData {
  readonly feeds: readonly InputFeed[];
  /** Samples in every file (the files agree). */
  readonly samples: number;
  readonly #allowNonFinite: boolean;

  /** Use openInputData. */
  constructor(feeds: InputFeed[], allowNonFinite: boolean) {
    this.feeds = feeds;
    this.samples = feeds[0]?.file.samples ?? 0;
    this.#allowNonFinite = allowNonFinite;
  }

  /** Samples start..start+count-1 as model inputs: one typed array of count * input length each. */
  read(start: number, count = 1): TensorData[] {
    return this.feeds.map((feed) => this.#convert(feed, feed.file.read(start, count), start));
  }

  close(): void {
    for (const feed of this.feeds) feed.file.close();
  }

  /** "'x.npy'[17, 0, 3]" for flat element `flat` of the block read from sample `start`. */
  #where(feed: InputFeed, start: number, flat: number): string {
    const per = feed.file.sampleLength;
    const index = [start + Math.floor(flat / per)];
    let rest = flat % per;
    const dims = feed.file.sampleShape;
    const sub: number[] = [];
    for (let d = dims.length - 1; d >= 0; d--) {
      const size = dims[d]!;
      sub.unshift(rest % size);
      rest = Math.floor(rest / size);
    }
    return `'${feed.file.path}'[${[...index, ...sub].join(', ')}]`;
  }

  #convert(feed: InputFeed, raw: NpyData, start: number): TensorData {
    const { input: t, mode, scale, offset } = feed;
    if (mode === 'as-is') return raw as TensorData;
    const n = raw.length;
    const value = (i: number): number => Number(raw[i]!);
    const allow = this.#allowNonFinite;
    const nonFinite = (i: number, v: number, why: string): InvalidArgumentError => {
      const raw0 = value(i);
      const after = Number.isFinite(raw0) ? ` after scaling (raw value ${raw0} * ${scale} + ${offset})` : '';
      return new InvalidArgumentError(`${this.#where(feed, start, i)} is ${v}${after}: ${why}`);
    };
    if (mode === 'float') {
      const out = new Float32Array(n);
      const identity = scale === 1 && offset === 0;
      for (let i = 0; i < n; i++) {
        const v = identity ? value(i) : value(i) * scale + offset;
        out[i] = v;
        if (!allow && !Number.isFinite(out[i]!)) {
          throw nonFinite(i, out[i]!, `model input ${describeInput(t, feed.index)} takes finite values (--allow-nonfinite lets NaN/Infinity through)`);
        }
      }
      return out;
    }
    if (mode === 'quantize') {
      const [qmin, qmax] = RANGES[t.dtype]!;
      const qscale = t.scale!;
      const zeroPoint = t.zeroPoint ?? 0;
      const out = t.dtype === 'int8' ? new Int8Array(n) : t.dtype === 'int16' ? new Int16Array(n) : new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const real = Math.fround(value(i) * scale + offset);
        if (Number.isNaN(real) || (!allow && !Number.isFinite(real))) {
          throw nonFinite(
            i,
            real,
            `it cannot be quantized for model input ${describeInput(t, feed.index)}${Number.isNaN(real) ? '' : ' (--allow-nonfinite clamps ±Infinity)'}`,
          );
        }
        out[i] = Math.min(qmax, Math.max(qmin, roundHalfToEven(real / qscale) + zeroPoint));
      }
      return out;
    }
    // 'integer': exact conversion of whole numbers in range.
    const [lo, hi] = RANGES[t.dtype] ?? [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER];
    const bad = (i: number, v: number | bigint): InvalidArgumentError =>
      new InvalidArgumentError(
        `${this.#where(feed, start, i)} is ${v}: model input ${describeInput(t, feed.index)} takes whole numbers from ${lo} to ${hi}`,
      );
    if (t.dtype === 'int64') {
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) {
        const r = raw[i]!;
        if (typeof r === 'bigint') {
          if (r > 0x7fffffffffffffffn) throw bad(i, r);
          out[i] = r;
        } else {
          if (!Number.isSafeInteger(r)) throw bad(i, r);
          out[i] = BigInt(r);
        }
      }
      return out;
    }
    const Ctor = { int8: Int8Array, int16: Int16Array, int32: Int32Array, uint8: Uint8Array, bool: Uint8Array, float32: Float32Array }[t.dtype];
    const out = new Ctor(n);
    for (let i = 0; i < n; i++) {
      const v = value(i);
      if (!Number.isInteger(v) || v < lo || v > hi) throw bad(i, raw[i]!);
      out[i] = v;
    }
    return out;
  }
}

/**
 * Opens one .npy file per model input and checks them: the count, the sample shapes, the
 * dtypes, equal sample counts and at least one sample. The data is read by InputData.read.
 */
export function openInputData(paths: readonly string[], inputs: readonly SessionTensorInfo[], options: InputDataOptions = {}): InputData {
  const option = options.option ?? '--input';
  if (paths.length !== inputs.length) {
    throw new InvalidArgumentError(
      `Expected ${inputs.length} .npy file${inputs.length === 1 ? '' : 's'} for ${option} (one per model input: ${inputs
        .map(describeInput)
        .join('; ')}) but received ${paths.length}${paths.length > 0 ? `: ${paths.join(', ')}` : ''}`,
    );
  }
  const scales = perInput(options.scale, 1, inputs.length, '--input-scale');
  const offsets = perInput(options.offset, 0, inputs.length, '--input-offset');
  const feeds: InputFeed[] = [];
  try {
    for (const [i, t] of inputs.entries()) {
      const path = paths[i]!;
      const file = openNpy(path);
      feeds.push({ file, input: t, index: i, mode: chooseMode(t, file.dtype), scale: scales[i]!, offset: offsets[i]! });
      const feed = feeds[i]!;
      const shape = formatShape(file.shape);
      if (file.samples === 0) throw new InvalidArgumentError(`'${path}' has no samples (shape ${shape}); at least one is needed`);
      if (!sampleFits(file.sampleShape, t.shape, t.length)) {
        throw new InvalidArgumentError(
          `Expected samples of shape ${formatShape(squeeze(t.shape))} (size-1 axes may be added or dropped, or flat [${t.length}]) for model input ${describeInput(t, i)} but '${path}' has shape ${shape}: samples of ${formatShape(file.sampleShape)}`,
        );
      }
      if ((feed.mode === 'as-is' || feed.mode === 'integer') && (feed.scale !== 1 || feed.offset !== 0)) {
        const why = feed.mode === 'as-is' ? `'${path}' is ${NPY_DTYPE_NAMES[file.dtype]} like the input, so its values go in as is` : 'its values go in as is';
        throw new InvalidArgumentError(
          `--input-scale/--input-offset (${feed.scale}/${feed.offset}) do not apply to model input ${describeInput(t, i)}: ${why}. Give 1 and 0 for it (one value per input: e.g. --input-scale 0.5,1), or float data to have it quantized`,
        );
      }
      const first = feeds[0]!.file;
      if (file.samples !== first.samples) {
        throw new InvalidArgumentError(
          `Expected the same number of samples in every ${option} file but '${first.path}' has ${first.samples} and '${path}' has ${file.samples}`,
        );
      }
    }
  } catch (error) {
    for (const feed of feeds) feed.file.close();
    throw error;
  }
  return new InputData(feeds, options.allowNonFinite === true);
}

/** What a feed does, for the CLI's summary. */
export function describeFeed(feed: InputFeed): string {
  const from = `'${feed.file.path}' ${NPY_DTYPE_NAMES[feed.file.dtype]} ${formatShape(feed.file.shape)}`;
  const to = `input ${describeInput(feed.input, feed.index)}`;
  const real = feed.scale === 1 && feed.offset === 0 ? 'raw' : `raw * ${feed.scale} + ${feed.offset}`;
  switch (feed.mode) {
    case 'as-is':
      return `${from} -> ${to}: as is`;
    case 'float':
      return `${from} -> ${to}: ${real}`;
    case 'quantize':
      return `${from} -> ${to}: quantized (${real}) / ${feed.input.scale} + ${feed.input.zeroPoint ?? 0}, round half to even`;
    case 'integer':
      return `${from} -> ${to}: converted (whole numbers)`;
  }
}
