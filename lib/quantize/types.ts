// The quantizer's public types (the contract of ../shared/DESIGN.md) and the internal contract
// between its parts: calibration produces TensorRanges, each mode rewrites a GraphEditor and
// records what it did in the report.
import type { TensorData } from '../runtime/plan.js';

export type QuantizeMode = 'dynamic' | 'int8' | 'int16x8' | 'float16' | 'weight-only';
export type CalibrationMethod = 'minmax' | 'ema' | 'percentile' | 'entropy' | 'mse';
/** The model's input/output type after full-integer quantization ('int16' with mode 'int16x8'). */
export type IoType = 'float' | 'int8' | 'uint8' | 'int16';

/**
 * One input's values in a calibration sample: a Float32Array for a float32 input (a Float64Array
 * or an array of numbers is converted; integer typed arrays are refused: scale them to the values
 * the model expects first), exactly the input's typed-array kind otherwise. A dynamic-batch (-1)
 * input takes any whole number of rows (the same for every input).
 */
export type CalibrationTensor = TensorData | Float64Array | readonly number[];

/** One calibration sample: one array per model input (a bare array for a one-input model). */
export type CalibrationSample = readonly CalibrationTensor[] | CalibrationTensor;

export interface ProgressEvent {
  readonly phase: 'calibrate' | 'quantize' | 'write';
  readonly done: number;
  /** null while the total is unknown (an iterator without a length). */
  readonly total: number | null;
}

export interface QuantizeOptions {
  readonly mode: QuantizeMode;
  /** Representative inputs (int8, int16x8): streamed, never all held in memory. */
  readonly calibration?: Iterable<CalibrationSample> | AsyncIterable<CalibrationSample>;
  /** How calibration turns observed values into ranges. Default 'minmax'. */
  readonly method?: CalibrationMethod;
  /** Per-channel weights for CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED. Default true. */
  readonly perChannel?: boolean;
  /**
   * int8/int16x8: the model's input and output type. Default 'float' (QUANTIZE/DEQUANTIZE at the
   * edges); 'int8' or 'uint8' with mode 'int8', 'int16' with mode 'int16x8'.
   */
  readonly io?: IoType;
  /**
   * Ops to leave in float: an op name ('SOFTMAX'), an operator index (number), or a RegExp
   * matched against the names of the op's output tensors.
   */
  readonly exclude?: readonly (string | number | RegExp)[];
  /** An op with no quantized kernel is an error instead of a float island with a diagnostic. */
  readonly strict?: boolean;
  /** dynamic / weight-only: weights with fewer elements stay float. Default 1024 (TFLite's). */
  readonly minWeightElements?: number;
  /**
   * 'percentile' method: the percentile kept on each side of zero (max = that percentile of the
   * values >= 0, min = minus that percentile of |x| over the values < 0). Default 99.99.
   */
  readonly percentile?: number;
  /** 'ema' method: weight of the running range (0..1). Default 0.9. */
  readonly emaDecay?: number;
  /**
   * Histogram resolution of the percentile/entropy/mse methods: the observed range of a tensor
   * spans between `bins` and 2 x bins bins (16 x bins bytes per tensor). Default 2048.
   */
  readonly bins?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (event: ProgressEvent) => void;
}

export interface Diagnostic {
  readonly level: 'info' | 'warning';
  /** Stable identifier, e.g. 'op-left-float', 'bias-scale-widened'. */
  readonly code: string;
  readonly message: string;
  /** Operator index in subgraph 0 (of the input model), when the diagnostic is about an op. */
  readonly op?: number;
  readonly tensor?: string;
}

export interface TensorReport {
  readonly name: string;
  readonly type: string;
  readonly shape: readonly number[];
  /** Calibrated range (activations) or the weight's range. */
  readonly min: number | null;
  readonly max: number | null;
  readonly scale: readonly number[];
  readonly zeroPoint: readonly number[];
  /** Channel axis of per-channel parameters. */
  readonly axis: number | null;
}

export interface OpReport {
  /** Operator index in the input model. */
  readonly index: number;
  readonly op: string;
  /** e.g. 'int8', 'int16x8', 'hybrid', 'float (excluded)', 'float (no int8 kernel)'. */
  readonly how: string;
}

export interface QuantizeReport {
  readonly mode: QuantizeMode;
  readonly sizeBefore: number;
  readonly sizeAfter: number;
  readonly calibration: { readonly samples: number; readonly method: CalibrationMethod; readonly ms: number } | null;
  readonly ops: readonly OpReport[];
  readonly tensors: readonly TensorReport[];
  readonly elapsedMs: number;
}

export interface QuantizeResult {
  readonly model: Uint8Array;
  readonly diagnostics: Diagnostic[];
  readonly report: QuantizeReport;
}

/** Observed float range of a tensor (index in subgraph 0 of the float model). */
export interface TensorRange {
  readonly min: number;
  readonly max: number;
}

export type TensorRanges = ReadonlyMap<number, TensorRange>;

/**
 * Observed ranges of values ops compute inside themselves (the float LSTM's gate sums, hidden
 * output and cell state): operator index (subgraph 0 of the float model) -> slot -> range. The
 * slots are the op's (reference-ops/lstm.ts LSTM_OBSERVED_SLOTS).
 */
export type IntermediateRanges = ReadonlyMap<number, ReadonlyMap<number, TensorRange>>;
