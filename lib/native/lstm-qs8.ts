// UNIDIRECTIONAL_SEQUENCE_LSTM, full integer (TFLite's 8x8→16: int8 input, output and hidden
// state, int16 cell state, int8 weights), on the native kernels: the whole sequence in one call
// (native/include/litequant/lstm_qs8.h), bit for bit TFLite's integer LSTM.
//
// The caller passes what TFLite's Prepare derives (effective multipliers, zero-point-folded
// biases, quantized clips: the runtime takes them from deriveLstmInteger) and the gemmlowp
// sigmoid/tanh as 65536-entry tables; packing copies them. run() then steps through the
// sequence without crossing back into JavaScript: int8 GEMMs for the input contribution of all
// time steps (in chunks of about 20 rows, just ahead of the steps), then per step the recurrent
// product, requantization to int16 gates, peephole, layer norm, table lookups, the cell update,
// the hidden requantization and the projection.
import { InvalidArgumentError, expected } from '../errors.js';
import type { IsaPath, LstmQs8Handle, LstmQs8PackParams } from './binding.js';
import { callNative } from './index.js';
import { checkThreads } from './layer-params.js';

export type PerGate<T> = readonly [T, T, T, T];

/** A real multiplier as TFLite stores it: Q31 multiplier in [0, 2^31), shift in [-31, 31]. */
export interface LstmQs8Multiplier {
  readonly multiplier: number;
  readonly shift: number;
}

export interface LstmQs8Options {
  readonly maxTime: number;
  readonly batch: number;
  readonly inputSize: number;
  readonly cellSize: number;
  readonly outputSize: number;
  /** Input and output [time, batch, features]; default [batch, time, features]. */
  readonly timeMajor?: boolean;
  /** Threads for the input GEMM (1..256). Default 1. */
  readonly threads?: number;
}

/**
 * Gates in TFLite's order (input, forget, cell, output); the input gate's entries are null for
 * CIFG, peephole[2] is null. Biases are the effective ones (bias + zero-point terms); with layer
 * norm the gate biases go to layerNormBias instead of inputBias.
 */
export interface LstmQs8Weights {
  readonly inputWeights: PerGate<Int8Array | null>;
  readonly recurrentWeights: PerGate<Int8Array | null>;
  readonly inputBias: PerGate<Int32Array | null>;
  readonly recurrentBias: PerGate<Int32Array | null>;
  readonly inputScale: PerGate<LstmQs8Multiplier>;
  readonly recurrentScale: PerGate<LstmQs8Multiplier>;
  readonly peephole: PerGate<Int16Array | null>;
  readonly peepholeScale: PerGate<LstmQs8Multiplier>;
  readonly layerNorm: PerGate<Int16Array | null> | null;
  readonly layerNormBias: PerGate<Int32Array | null> | null;
  /** Applied with shift + 12 (TFLite's layer norm output step). */
  readonly layerNormScale: PerGate<LstmQs8Multiplier>;
  readonly varianceGuard: PerGate<number>;
  readonly projection: Int8Array | null;
  readonly projectionBias: Int32Array | null;
  readonly projectionScale: LstmQs8Multiplier;
  readonly hiddenScale: LstmQs8Multiplier;
  /** Added to MBQM(o·tanh(c)) without a projection (−128..128: the 2023 rule negates it). */
  readonly hiddenOutputZeroPoint: number;
  /** Subtracted from MBQM(o·tanh(c)) before the projection. */
  readonly hiddenZeroPoint: number;
  /** Added after the projection. */
  readonly outputStateZeroPoint: number;
  /** log2 of the cell state's scale, −15..−9. */
  readonly cellShift: number;
  /** Quantized clips: 0..32767 (cell state units), 0..127 (output units); 0 = none. */
  readonly cellClip: number;
  readonly projClip: number;
  /** gemmlowp's int16 functions at every input (index x + 32768). */
  readonly tables: { readonly sigmoid: Int16Array; readonly tanhGate: Int16Array; readonly tanhCell: Int16Array };
}

export interface NativeLstmQs8 {
  /** The instruction-set path and kernels the LSTM was packed for. */
  readonly path: IsaPath;
  readonly kernel: string;
  /**
   * Runs the sequence: input [T*B*inputSize]; outputState [B*outputSize] and cellState
   * [B*cellSize] hold the initial state and receive the final one; output [T*B*outputSize].
   */
  run(input: Int8Array, outputState: Int8Array, cellState: Int16Array, output: Int8Array): void;
}

const MAX_DIM = 2 ** 24;

function checkInteger(value: unknown, param: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(`Expected an integer between ${min} and ${max} for ${param} but received ${String(value)}`);
  }
  return value;
}

/** The addon's (multiplier, shift) pairs and variance guards (lstm_qs8_binding.cc's layout). */
function numbers(w: LstmQs8Weights): Int32Array {
  const out = new Int32Array(40);
  const put = (at: number, m: LstmQs8Multiplier, param: string): void => {
    out[at] = checkInteger(m.multiplier, `${param}.multiplier`, 0, 2 ** 31 - 1);
    out[at + 1] = checkInteger(m.shift, `${param}.shift`, -31, 31);
  };
  for (let g = 0; g < 4; g++) {
    put(8 * g, w.inputScale[g]!, `inputScale[${g}]`);
    put(8 * g + 2, w.recurrentScale[g]!, `recurrentScale[${g}]`);
    put(8 * g + 4, w.peepholeScale[g]!, `peepholeScale[${g}]`);
    put(8 * g + 6, w.layerNormScale[g]!, `layerNormScale[${g}]`);
    out[36 + g] = checkInteger(w.varianceGuard[g], `varianceGuard[${g}]`, 1, 2 ** 31 - 1);
  }
  put(32, w.hiddenScale, 'hiddenScale');
  put(34, w.projectionScale, 'projectionScale');
  return out;
}

/** Packs a full-integer LSTM. Throws InvalidArgumentError naming an inconsistent array or value. */
export function packLstmQs8(options: LstmQs8Options, w: LstmQs8Weights): NativeLstmQs8 {
  if (options === null || typeof options !== 'object') throw expected('an object', 'options', options);
  if (options.timeMajor !== undefined && typeof options.timeMajor !== 'boolean') throw expected('a boolean', 'timeMajor', options.timeMajor);
  const threads = checkThreads(options.threads);
  const params: LstmQs8PackParams = {
    maxTime: checkInteger(options.maxTime, 'maxTime', 0, MAX_DIM),
    batch: checkInteger(options.batch, 'batch', 0, MAX_DIM),
    inputSize: checkInteger(options.inputSize, 'inputSize', 1, MAX_DIM),
    cellSize: checkInteger(options.cellSize, 'cellSize', 1, MAX_DIM),
    outputSize: checkInteger(options.outputSize, 'outputSize', 1, MAX_DIM),
    timeMajor: options.timeMajor ?? false,
    cellShift: checkInteger(w.cellShift, 'cellShift', -15, -9),
    hiddenOutputZeroPoint: checkInteger(w.hiddenOutputZeroPoint, 'hiddenOutputZeroPoint', -128, 128),
    hiddenZeroPoint: checkInteger(w.hiddenZeroPoint, 'hiddenZeroPoint', -128, 127),
    outputStateZeroPoint: checkInteger(w.outputStateZeroPoint, 'outputStateZeroPoint', -128, 127),
    cellClip: checkInteger(w.cellClip, 'cellClip', 0, 32767),
    projClip: checkInteger(w.projClip, 'projClip', 0, 127),
  };
  const none = [null, null, null, null] as const;
  const arrays = [
    ...w.inputWeights,
    ...w.recurrentWeights,
    ...w.inputBias,
    ...w.recurrentBias,
    ...w.peephole,
    ...(w.layerNorm ?? none),
    ...(w.layerNormBias ?? none),
    w.projection,
    w.projectionBias,
    w.tables.sigmoid,
    w.tables.tanhGate,
    w.tables.tanhCell,
  ];
  const handle: LstmQs8Handle = callNative((b) => b.lstmQs8Pack(arrays, numbers(w), params));
  const info = callNative((b) => b.lstmQs8Info(handle));
  return {
    path: info.path,
    kernel: info.kernel,
    run(input, outputState, cellState, output) {
      callNative((b) => b.lstmQs8Run(handle, input, outputState, cellState, output, threads));
    },
  };
}

/** gemmlowp's int16 logistic or tanh with `integerBits` (0..7) integer bits for every input, into `out[x + 32768]`. */
export function lstmQs8Table(kind: 'logistic' | 'tanh', integerBits: number, out: Int16Array): void {
  callNative((b) => b.lstmQs8Table(kind, integerBits, out));
}
