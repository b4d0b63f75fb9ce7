// UNIDIRECTIONAL_SEQUENCE_LSTM, float32 and hybrid (float input and state, int8 weights with one
// scale each), on the native kernels: the whole sequence in one call (native/include/litequant/
// lstm.h). Packed once: the gates' input weights as one matrix (its product for every time step
// and batch row is one GEMM per run), the recurrent weights as another, biases, peephole, layer
// norm, projection and options; run() then steps through the sequence without crossing back
// into JavaScript.
//
// Numerics: float32 within ~1e-6 relative of TFLite's float LSTM (float sums with FMA instead
// of the reference's order); hybrid follows TFLite's hybrid rules (per-row symmetric or
// asymmetric quantization of x and h, row-sum zero-point correction, TFLite's float order), so
// it differs from the TypeScript reference only through sigmoid/tanh (< 3e-7 relative on the
// AVX2/NEON paths, double precision on the reference path).
import { InvalidArgumentError, expected } from '../errors.js';
import type { IsaPath, LstmHandle, LstmPackParams } from './binding.js';
import { callNative } from './index.js';
import { checkThreads } from './layer-params.js';

export type PerGate<T> = readonly [T, T, T, T];

/** TFLite's fused activation of an LSTM's cell gate and cell output. */
export type LstmActivation = 'tanh' | 'relu' | 'relu6' | 'relu-n1-to-1' | 'sign-bit';

export interface LstmLayerOptions {
  readonly maxTime: number;
  readonly batch: number;
  readonly inputSize: number;
  readonly cellSize: number;
  readonly outputSize: number;
  /** Input and output [time, batch, features]; default [batch, time, features]. */
  readonly timeMajor?: boolean;
  /** Default 'tanh'. */
  readonly activation?: LstmActivation;
  /** 0 (default): no clipping. */
  readonly cellClip?: number;
  readonly projClip?: number;
  /** Threads for the input GEMM (1..256). Default 1. */
  readonly threads?: number;
}

/**
 * Gates in TFLite's order (input, forget, cell, output). The input gate's entries are null for
 * CIFG; peephole[2] is null; layerNorm null for a plain LSTM.
 */
export interface LstmFloat32Weights {
  readonly inputWeights: PerGate<Float32Array | null>;
  readonly recurrentWeights: PerGate<Float32Array | null>;
  readonly peephole: PerGate<Float32Array | null>;
  readonly bias: PerGate<Float32Array | null>;
  readonly layerNorm: PerGate<Float32Array | null> | null;
  readonly projection: Float32Array | null;
  readonly projectionBias: Float32Array | null;
}

/** An int8 tensor with its one scale (zero point 0). */
export interface Int8WithScale {
  readonly data: Int8Array;
  readonly scale: number;
}

export interface LstmHybridWeights {
  readonly inputWeights: PerGate<Int8WithScale | null>;
  readonly recurrentWeights: PerGate<Int8WithScale | null>;
  readonly peephole: PerGate<Int8WithScale | null>;
  readonly bias: PerGate<Float32Array | null>;
  readonly layerNorm: PerGate<Float32Array | null> | null;
  readonly projection: Int8WithScale | null;
  readonly projectionBias: Float32Array | null;
  /** The op's asymmetric_quantize_inputs: per-row zero points instead of symmetric rows. */
  readonly asymmetricQuantizeInputs: boolean;
}

export interface NativeLstm {
  readonly kind: 'float32' | 'hybrid';
  /** The instruction-set path and kernels the LSTM was packed for. */
  readonly path: IsaPath;
  readonly kernel: string;
  /**
   * Runs the sequence: input [T*B*inputSize]; outputState [B*outputSize] and cellState
   * [B*cellSize] hold the initial state and receive the final one; output [T*B*outputSize].
   */
  run(input: Float32Array, outputState: Float32Array, cellState: Float32Array, output: Float32Array): void;
}

const MAX_DIM = 2 ** 24;
const ACTIVATIONS: readonly LstmActivation[] = ['tanh', 'relu', 'relu6', 'relu-n1-to-1', 'sign-bit'];

function checkDim(value: unknown, param: string, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > MAX_DIM) {
    throw new InvalidArgumentError(`Expected an integer between ${min} and ${MAX_DIM} for ${param} but received ${String(value)}`);
  }
  return value;
}

function checkClip(value: unknown, param: string): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value)) {
    throw new InvalidArgumentError(`Expected a finite number >= 0 for ${param} but received ${String(value)}`);
  }
  return value;
}

function packParams(options: LstmLayerOptions, asymmetric: boolean): LstmPackParams {
  if (options === null || typeof options !== 'object') throw expected('an object', 'options', options);
  const activation = options.activation ?? 'tanh';
  if (!ACTIVATIONS.includes(activation)) throw expected(`one of ${ACTIVATIONS.join(', ')}`, 'activation', activation);
  if (options.timeMajor !== undefined && typeof options.timeMajor !== 'boolean') throw expected('a boolean', 'timeMajor', options.timeMajor);
  return {
    maxTime: checkDim(options.maxTime, 'maxTime', 0),
    batch: checkDim(options.batch, 'batch', 0),
    inputSize: checkDim(options.inputSize, 'inputSize', 1),
    cellSize: checkDim(options.cellSize, 'cellSize', 1),
    outputSize: checkDim(options.outputSize, 'outputSize', 1),
    timeMajor: options.timeMajor ?? false,
    activation,
    cellClip: checkClip(options.cellClip, 'cellClip'),
    projClip: checkClip(options.projClip, 'projClip'),
    asymmetric,
  };
}

/** The 21 tensors in the addon's order: TFLite's inputs 1..17, then 20..23. */
function tensorList<T>(w: {
  inputWeights: PerGate<T | null>;
  recurrentWeights: PerGate<T | null>;
  peephole: PerGate<T | null>;
  bias: PerGate<Float32Array | null>;
  layerNorm: PerGate<Float32Array | null> | null;
  projection: T | null;
  projectionBias: Float32Array | null;
}): (T | Float32Array | null)[] {
  if (w.peephole[2] !== null) throw new InvalidArgumentError('Expected null for peephole[2] (the cell gate has no peephole) but received an array');
  return [
    ...w.inputWeights,
    ...w.recurrentWeights,
    w.peephole[0],
    w.peephole[1],
    w.peephole[3],
    ...w.bias,
    w.projection,
    w.projectionBias,
    ...(w.layerNorm ?? [null, null, null, null]),
  ];
}

function layer(handle: LstmHandle, threads: number): NativeLstm {
  const info = callNative((b) => b.lstmInfo(handle));
  return {
    kind: info.kind,
    path: info.path,
    kernel: info.kernel,
    run(input, outputState, cellState, output) {
      callNative((b) => b.lstmRun(handle, input, outputState, cellState, output, threads));
    },
  };
}

/** Packs a float32 LSTM. Throws InvalidArgumentError naming an inconsistent tensor or option. */
export function packLstmFloat32(options: LstmLayerOptions, weights: LstmFloat32Weights): NativeLstm {
  const params = packParams(options, false);
  const threads = checkThreads(options.threads);
  const tensors = tensorList(weights);
  return layer(callNative((b) => b.lstmPack('float32', tensors, null, params)), threads);
}

/** Packs a hybrid LSTM (int8 weights with one scale each, float activations and state). */
export function packLstmHybrid(options: LstmLayerOptions, weights: LstmHybridWeights): NativeLstm {
  const params = packParams(options, weights.asymmetricQuantizeInputs);
  const threads = checkThreads(options.threads);
  const list = tensorList(weights);
  const scales = new Float32Array(21);
  const tensors = list.map((t, k) => {
    if (t === null || t instanceof Float32Array) return t;
    scales[k] = t.scale;
    return t.data;
  });
  return layer(callNative((b) => b.lstmPack('hybrid', tensors, scales, params)), threads);
}
