// quantize() options: validated once, defaults filled in, and the exclusion rule.
import { expected, InvalidArgumentError } from '../errors.js';
import type { GraphEditor } from './graph-edit.js';
import type { CalibrationMethod, Diagnostic, IoType, OpReport, QuantizeMode, QuantizeOptions, TensorReport } from './types.js';

export interface ResolvedOptions {
  readonly mode: QuantizeMode;
  readonly calibration: QuantizeOptions['calibration'] | null;
  readonly method: CalibrationMethod;
  readonly perChannel: boolean;
  readonly io: IoType;
  readonly exclude: readonly (string | number | RegExp)[];
  readonly strict: boolean;
  readonly minWeightElements: number;
  readonly percentile: number;
  readonly emaDecay: number;
  readonly bins: number;
  readonly signal: AbortSignal | null;
  readonly onProgress: QuantizeOptions['onProgress'] | null;
}

/** What a mode writes besides the graph edits. */
export interface ModeOutput {
  readonly diagnostics: Diagnostic[];
  readonly ops: OpReport[];
  readonly tensors: TensorReport[];
}

const MODES: readonly QuantizeMode[] = ['dynamic', 'int8', 'int16x8', 'float16', 'weight-only'];
const METHODS: readonly CalibrationMethod[] = ['minmax', 'ema', 'percentile', 'entropy', 'mse'];
const IO_TYPES: readonly IoType[] = ['float', 'int8', 'uint8', 'int16'];

function oneOf<T extends string>(value: unknown, allowed: readonly T[], name: string, fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !allowed.includes(value as T)) throw expected(`one of ${allowed.map((a) => `'${a}'`).join(', ')}`, name, value);
  return value as T;
}

function numberIn(value: unknown, name: string, fallback: number, ok: (v: number) => boolean, what: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !ok(value)) throw expected(what, name, value);
  return value;
}

export function resolveOptions(options: QuantizeOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') throw expected('an options object with a mode', 'options', options);
  if (options.mode === undefined) throw expected(`a mode (${MODES.join(', ')})`, 'options.mode', undefined);
  const mode = oneOf(options.mode, MODES, 'options.mode', 'int8');
  const calibration = options.calibration ?? null;
  if (calibration !== null && !(Symbol.iterator in Object(calibration)) && !(Symbol.asyncIterator in Object(calibration))) {
    throw expected('an Iterable or AsyncIterable of samples', 'options.calibration', calibration);
  }
  if ((mode === 'int8' || mode === 'int16x8') && calibration === null) {
    throw new InvalidArgumentError(`Expected calibration samples for options.calibration (mode '${mode}' needs representative inputs) but received none`);
  }
  const exclude = options.exclude ?? [];
  if (!Array.isArray(exclude) || !exclude.every((e) => typeof e === 'string' || (typeof e === 'number' && Number.isInteger(e)) || e instanceof RegExp)) {
    throw expected('an array of op names, operator indices or RegExps', 'options.exclude', exclude);
  }
  const bool = (value: unknown, name: string, fallback: boolean): boolean => {
    if (value === undefined) return fallback;
    if (typeof value !== 'boolean') throw expected('a boolean', name, value);
    return value;
  };
  const io = oneOf(options.io, IO_TYPES, 'options.io', 'float');
  if ((mode === 'int8' && io === 'int16') || (mode === 'int16x8' && (io === 'int8' || io === 'uint8'))) {
    throw expected(mode === 'int8' ? "'float', 'int8' or 'uint8' with mode 'int8'" : "'float' or 'int16' with mode 'int16x8'", 'options.io', io);
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) throw expected('an AbortSignal', 'options.signal', options.signal);
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') throw expected('a function', 'options.onProgress', options.onProgress);
  return {
    mode,
    calibration,
    method: oneOf(options.method, METHODS, 'options.method', 'minmax'),
    perChannel: bool(options.perChannel, 'options.perChannel', true),
    io,
    exclude,
    strict: bool(options.strict, 'options.strict', false),
    minWeightElements: numberIn(options.minWeightElements, 'options.minWeightElements', 1024, (v) => Number.isInteger(v) && v >= 0, 'an integer >= 0'),
    percentile: numberIn(options.percentile, 'options.percentile', 99.99, (v) => v > 50 && v <= 100, 'a number in (50, 100]'),
    emaDecay: numberIn(options.emaDecay, 'options.emaDecay', 0.9, (v) => v >= 0 && v < 1, 'a number in [0, 1)'),
    bins: numberIn(options.bins, 'options.bins', 2048, (v) => Number.isInteger(v) && v >= 128 && v <= 1 << 20, 'an integer from 128 to 2^20'),
    signal: options.signal ?? null,
    onProgress: options.onProgress ?? null,
  };
}

/** True when the user asked to keep operator `index` in float. */
export function isExcluded(editor: GraphEditor, index: number, options: ResolvedOptions): boolean {
  const name = editor.opName(index);
  const outputs = editor.operators[index]!.outputs.map((t) => editor.tensor(t).name);
  return options.exclude.some((e) =>
    typeof e === 'number' ? e === index : typeof e === 'string' ? e.toUpperCase() === name : outputs.some((n) => e.test(n)),
  );
}

/** Throws an AbortError when the signal fired. */
export function checkAborted(options: ResolvedOptions): void {
  if (options.signal?.aborted === true) {
    const reason: unknown = options.signal.reason;
    throw reason instanceof Error ? reason : new DOMException('The quantization was aborted', 'AbortError');
  }
}
