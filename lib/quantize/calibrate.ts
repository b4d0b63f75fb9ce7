// Calibration: runs the float model in our runtime over the representative samples and
// observes every float32 activation (the graph's inputs and every operator's outputs), then
// turns each tensor's observations into a range with options.method (observers.ts).
//
// - Streamed: samples are pulled one at a time from the Iterable/AsyncIterable and dropped after
//   their run; observers hold constant-size statistics, so memory does not grow with the number
//   of samples. The model is compiled once (compilePlan, on the calling thread) and runs at its
//   static batch; a sample holding k times the rows of a dynamic-batch (-1) input runs as k
//   slices and counts as one sample ('ema' averages per sample).
// - A sample is one array per model input, or the bare array of a one-input model. A float32
//   input takes a Float32Array (used as is), a Float64Array or an array of numbers (converted to
//   float32); integer data is refused (scale it into the float range the model expects first,
//   e.g. pixels / 255). Any other input takes exactly its typed-array kind (Int32Array for
//   int32...). Length: the input's element count, or (dynamic batch) a positive multiple of it,
//   the same multiple for every input.
// - Errors (InvalidArgumentError, naming the sample index and input): a wrong count, kind or
//   length, NaN or Infinity in a float input, an empty dataset; NaN/Infinity produced inside the
//   model names the tensor and operator. The signal is checked between samples; the event loop
//   gets a turn every ~25 ms of work so an abort (or a timer) can land during a long run.
// - Every range contains 0 (min <= 0 <= max), as TFLite's zero-point nudging requires; a tensor
//   that was 0 on every sample gets [0, 0] (the consumer picks a scale for it).
// - Values an op computes inside itself (the float LSTM's gate sums, hidden output and cell
//   state: PlanOptions.observeIntermediate) are observed per time step with the same method and
//   returned by operator and slot (`intermediates`).
import { setImmediate as nextTurn } from 'node:timers/promises';

import { describeValue, expected, InvalidArgumentError } from '../errors.js';
import type { Graph } from '../ir/graph.js';
import { minMax } from '../native/tensor-utils.js';
import { compilePlan, runPlan, type PlanStep, type PlanTensor, type TensorData } from '../runtime/plan.js';
import { typeName } from '../runtime/tensors.js';
import { TensorType } from '../tflite/schema.js';
import { createObserver, type Observer, type ObserverSettings } from './observers.js';
import { checkAborted, type ResolvedOptions } from './options.js';
import type { CalibrationSample, IntermediateRanges, TensorRange, TensorRanges } from './types.js';

export interface CalibrationResult {
  /** A range (containing 0) for every float32 graph input and operator output. */
  readonly ranges: TensorRanges;
  /** Ranges of op-internal values (LSTM gates, hidden, cell state) by operator and slot. */
  readonly intermediates: IntermediateRanges;
  /** Samples observed. */
  readonly samples: number;
  /** Wall time, compilation included. */
  readonly ms: number;
}

/** How long calibration runs before letting the event loop turn (abort signals, timers). */
const YIELD_EVERY_MS = 25;

type Source = Iterable<CalibrationSample> | AsyncIterable<CalibrationSample>;

/** One model input as calibration sees it. */
interface InputSlot {
  readonly tensor: PlanTensor;
  readonly label: string;
  readonly float: boolean;
  /** Elements of one run (the plan's static shape). */
  readonly length: number;
  /** float32 conversions of Float64Array / number[] slices (allocated once). */
  readonly scratch: Float32Array | null;
  readonly observer: Observer | null;
}

export async function calibrate(graph: Graph, options: ResolvedOptions): Promise<CalibrationResult> {
  const started = performance.now();
  const source = options.calibration as Source | null;
  if (source === null || source === undefined || (typeof source !== 'object' && typeof source !== 'function')) {
    throw expected('an Iterable or AsyncIterable of samples', 'options.calibration', source);
  }
  checkAborted(options);
  const settings: ObserverSettings = {
    method: options.method,
    bins: options.bins,
    percentile: options.percentile,
    emaDecay: options.emaDecay,
    bits: options.mode === 'int16x8' ? 16 : 8,
  };
  const inner = new Map<number, Map<number, Observer>>();
  let sampleIndex = 0;
  const observeIntermediate = (opIndex: number, slot: number, values: Float32Array): void => {
    if (values.length === 0) return;
    let slots = inner.get(opIndex);
    if (slots === undefined) inner.set(opIndex, (slots = new Map()));
    let o = slots.get(slot);
    if (o === undefined) slots.set(slot, (o = createObserver(settings)));
    const mm = minMax(values);
    if (mm.hasNaN || mm.hasInfinity) {
      throw new InvalidArgumentError(
        `Expected finite values inside operator ${opIndex} (intermediate ${slot}) on calibration sample ${sampleIndex} but received NaN or Infinity: the float model overflows on this input`,
      );
    }
    o.add(values, mm.min, mm.max);
  };
  const plan = compilePlan(graph, { threads: 1, observeIntermediate });
  const observers = new Map<number, Observer>();
  const observerOf = (t: PlanTensor): Observer => {
    let o = observers.get(t.index);
    if (o === undefined) {
      o = createObserver(settings);
      observers.set(t.index, o);
    }
    return o;
  };
  const slots: InputSlot[] = plan.inputs.map((tensor, i) => {
    const float = tensor.type === TensorType.FLOAT32;
    return {
      tensor,
      label: `input ${i} '${tensor.name}'`,
      float,
      length: tensor.data.length,
      scratch: float ? new Float32Array(tensor.data.length) : null,
      observer: float ? observerOf(tensor) : null,
    };
  });
  const watched = plan.steps.map((step) => step.outputs.filter((t) => t.type === TensorType.FLOAT32).map((t) => [t, observerOf(t)] as const));
  const dynamic = slots.length > 0 && slots.every((s) => s.tensor.shapeSignature[0] === -1 && s.length > 0);

  let stepNo = 0;
  const afterStep = (step: PlanStep): void => {
    for (const [t, observer] of watched[stepNo++]!) {
      const data = t.data as Float32Array;
      if (data.length === 0) continue;
      const mm = minMax(data);
      if (mm.hasNaN || mm.hasInfinity) throw nonFiniteActivation(t, step, sampleIndex, data);
      observer.add(data, mm.min, mm.max);
    }
  };

  const total = lengthOf(source);
  const progress = options.onProgress;
  progress?.({ phase: 'calibrate', done: 0, total });
  let lastYield = performance.now();
  const runSample = (sample: unknown): void => {
    const { arrays, rows } = checkSample(sample, sampleIndex, slots, dynamic);
    const inputs: TensorData[] = new Array<TensorData>(slots.length);
    for (let r = 0; r < rows; r++) {
      slots.forEach((slot, i) => {
        inputs[i] = sliceOf(arrays[i]!, slot, r, sampleIndex);
      });
      stepNo = 0;
      runPlan(plan, inputs, undefined, afterStep);
    }
    for (const o of observers.values()) o.endSample();
    for (const slots of inner.values()) for (const o of slots.values()) o.endSample();
  };

  const asyncSource = Symbol.asyncIterator in source;
  const iterator = asyncSource
    ? (source as AsyncIterable<CalibrationSample>)[Symbol.asyncIterator]()
    : (source as Iterable<CalibrationSample>)[Symbol.iterator]();
  let finished = false;
  try {
    for (;;) {
      checkAborted(options);
      const next = asyncSource ? await (iterator as AsyncIterator<CalibrationSample>).next() : (iterator as Iterator<CalibrationSample>).next();
      if (next.done === true) {
        finished = true;
        break;
      }
      runSample(next.value);
      sampleIndex++;
      progress?.({ phase: 'calibrate', done: sampleIndex, total });
      if (performance.now() - lastYield > YIELD_EVERY_MS) {
        await nextTurn();
        lastYield = performance.now();
      }
    }
  } finally {
    // Let a generator clean up when calibration stops early (an error or an abort); an error
    // from its cleanup must not hide the reason calibration stopped.
    if (!finished) {
      try {
        await iterator.return?.();
      } catch {
        // ignored: the original error propagates
      }
    }
  }
  checkAborted(options);
  if (sampleIndex === 0) {
    throw new InvalidArgumentError('Expected at least one calibration sample for options.calibration but received an empty dataset');
  }
  const ranges = new Map<number, TensorRange>();
  for (const [index, observer] of observers) ranges.set(index, observer.range());
  const intermediates = new Map<number, Map<number, TensorRange>>();
  for (const [op, slots] of inner) intermediates.set(op, new Map([...slots].map(([slot, o]) => [slot, o.range()])));
  return { ranges, intermediates, samples: sampleIndex, ms: performance.now() - started };
}

/** The number of samples when the source says (an array, or anything with an integer length). */
function lengthOf(source: object): number | null {
  const length: unknown = (source as { length?: unknown }).length;
  return typeof length === 'number' && Number.isInteger(length) && length >= 0 ? length : null;
}

type SampleArray = TensorData | Float64Array | readonly number[];

function isNumberArray(value: unknown): value is readonly number[] {
  return Array.isArray(value) && (value.length === 0 || typeof value[0] === 'number');
}

/** Checks a sample's count, kinds and lengths; returns one array per input and its row count. */
function checkSample(
  sample: unknown,
  index: number,
  slots: readonly InputSlot[],
  dynamic: boolean,
): { arrays: SampleArray[]; rows: number } {
  const where = `calibration sample ${index}`;
  const bare = ArrayBuffer.isView(sample) || isNumberArray(sample);
  let arrays: unknown[];
  if (bare && slots.length === 1) arrays = [sample];
  else if (Array.isArray(sample) && !bare) arrays = sample as unknown[];
  else {
    const names = slots.map((s) => `'${s.tensor.name}'`).join(', ');
    const what =
      slots.length === 1
        ? `a typed array or an array of numbers (the model's input ${names}), or an array holding one`
        : `an array of ${slots.length} arrays (one per model input: ${names})`;
    throw expected(what, where, sample);
  }
  if (arrays.length !== slots.length) {
    const names = slots.map((s) => `'${s.tensor.name}'`).join(', ');
    throw new InvalidArgumentError(
      `Expected ${slots.length} arrays (one per model input: ${names}) for ${where} but received ${arrays.length}`,
    );
  }
  let rows: number | null = null;
  slots.forEach((slot, i) => {
    const value = arrays[i];
    const what = `${where}, ${slot.label}`;
    const kind = slot.tensor.data.constructor as { name: string; new (n: number): TensorData };
    const ok = slot.float
      ? value instanceof Float32Array || value instanceof Float64Array || isNumberArray(value)
      : value instanceof kind;
    if (!ok) {
      const allowed = slot.float
        ? 'a Float32Array, Float64Array or array of numbers (the input is float32: convert integer data to the values the model expects)'
        : `${/^[AEIO]/.test(kind.name) ? 'an' : 'a'} ${kind.name} (the input is ${typeName(slot.tensor.type).toLowerCase()})`;
      throw expected(allowed, what, value);
    }
    const length = (value as SampleArray).length;
    const k = length / slot.length;
    const fits = dynamic ? Number.isInteger(k) && k >= 1 && (rows === null || k === rows) : k === 1;
    if (!fits) {
      const shape = `[${slot.tensor.shape.join(', ')}]`;
      const allowed = dynamic
        ? `a positive multiple of ${slot.length} elements (shape ${shape}, batch dynamic)${rows === null ? '' : `, ${rows}x as the other inputs`}`
        : `${slot.length} elements (shape ${shape})`;
      throw new InvalidArgumentError(`Expected ${allowed} for ${what} but received ${length}`);
    }
    rows = k;
  });
  return { arrays: arrays as SampleArray[], rows: rows ?? 1 };
}

/** Row slice r of an input: a view (Float32Array and non-float kinds) or a float32 conversion; observed. */
function sliceOf(array: SampleArray, slot: InputSlot, r: number, sampleIndex: number): TensorData {
  const from = r * slot.length;
  const to = from + slot.length;
  if (!slot.float) return (array as TensorData).subarray(from, to) as TensorData;
  let values: Float32Array;
  if (array instanceof Float32Array) values = array.subarray(from, to);
  else {
    values = slot.scratch!;
    if (array instanceof Float64Array) values.set(array.subarray(from, to));
    else {
      const numbers = array as readonly number[];
      for (let j = from; j < to; j++) values[j - from] = numbers[j]!;
    }
  }
  if (values.length > 0) {
    const mm = minMax(values);
    if (mm.hasNaN || mm.hasInfinity) {
      const at = values.findIndex((v) => !Number.isFinite(v));
      throw new InvalidArgumentError(
        `Expected finite values for calibration sample ${sampleIndex}, ${slot.label} but received ${describeNumber(values[at]!)} at element ${from + at}`,
      );
    }
    slot.observer!.add(values, mm.min, mm.max);
  }
  return values;
}

function describeNumber(v: number): string {
  return Number.isNaN(v) ? 'NaN' : describeValue(v);
}

function nonFiniteActivation(t: PlanTensor, step: PlanStep, sampleIndex: number, data: Float32Array): InvalidArgumentError {
  const at = data.findIndex((v) => !Number.isFinite(v));
  return new InvalidArgumentError(
    `Expected finite activations for tensor ${t.index} '${t.name}' (output of operator ${step.index} ${step.op}) on calibration sample ${sampleIndex} but received ${describeNumber(data[at]!)} at element ${at}: the float model overflows on this input`,
  );
}
