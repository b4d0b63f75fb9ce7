// UNIDIRECTIONAL_SEQUENCE_LSTM as TFLite's builtin kernel computes it (lstm_eval.cc): XNNPACK
// does not take the op, so both official runtimes run this kernel. Three forms, chosen by the
// input and weight types:
//
// - float32: per gate, gate = bias + W_x·x + W_h·h (+ w_c ⊙ c, peephole) in float, or with layer
//   norm gate = coeff ⊙ normalize(W_x·x + W_h·h (+ w_c ⊙ c)) + bias; sigmoid for the input,
//   forget and output gates, the op's activation for the cell gate. c = f ⊙ c + i ⊙ g (CIFG:
//   i = 1 − f), clipped to ±cell_clip; h = o ⊙ act(c), then h = P·h + b_P clipped to
//   ±proj_clip with a projection. The output gate's peephole reads the new c.
// - hybrid (float input and state, int8 weights): x and h quantized per row each step
//   (symmetric, or asymmetric with asymmetric_quantize_inputs), int32 dot products scaled back
//   as gate += float(acc − zp_row·Σw) · float(s_row·s_w); peephole weights dequantized to float;
//   the rest as float32. With a projection, o ⊙ act(c) is quantized the same way.
// - integer 8x8→16 (int8 x and h, int16 c, int8 weights, int32 biases, int16 peephole and layer
//   norm): each matrix product is requantized to int16 with its own effective scale
//   (s_w·s_in/s_gate, s_gate = 2^-12, or the calibrated intermediate's scale with layer norm)
//   and the zero points folded into the biases; gemmlowp fixed-point sigmoid and tanh (Q3.12 in,
//   Q0.15 out); c in Q(−cell_scale) with rounding shifts; h = o·tanh(c) requantized by
//   2^-30/s_hidden to the hidden intermediate. Bit for bit TFLite's arithmetic, including
//   - the peephole product running over n_output (not n_cell) values of the flattened batch;
//   - a projection quantizing o·tanh(c) with zero point −zp_hidden and adding zp_hidden·ΣP to
//     the projection bias (without a projection, h = MBQM(o·tanh(c)) + zp_hidden; the 2023 TFLite
//     of tfjs-tflite subtracts zp_hidden there: `LstmIntegerKernel`);
//   - layer norm's integer mean/variance (the variance is exact only for power-of-two n_cell).
//
// Row order: time-major inputs run one step over all batch rows at a time; batch-major inputs
// run each batch row through every time step (TFLite's loops; the results are the same unless
// the integer peephole quirk mixes rows). The state arrays (h: [batch, n_output], c: [batch,
// n_cell]) are read as the initial state and left holding the final state.
import { ActivationFunctionType } from '../../tflite/schema.js';
import { invSqrtQuantizedMultiplierExp } from './activations.js';
import {
  checkedLog2,
  f32,
  gemmlowp16,
  multiplyByQuantizedMultiplier,
  quantizeMultiplier,
  roundHalfAway,
  roundingDivideByPOT,
  type QuantizedMultiplier,
} from './fixed-point.js';

/** Gate order of TFLite's 24 inputs and of every per-gate array here. */
export const LSTM_GATES = ['input', 'forget', 'cell', 'output'] as const;
export type PerGate<T> = readonly [T, T, T, T];

/** gates[g] without the undefined that indexing a tuple with a number adds. */
function gateOf<T>(gates: PerGate<T>, g: number): T {
  return gates[g] as T;
}

const INPUT = 0;
const FORGET = 1;
const CELL = 2;
const OUTPUT = 3;

export interface LstmDims {
  readonly maxTime: number;
  readonly batch: number;
  readonly inputSize: number;
  readonly cellSize: number;
  readonly outputSize: number;
  /** Input and output are [time, batch, features]; otherwise [batch, time, features]. */
  readonly timeMajor: boolean;
}

export interface LstmOptions {
  /** The cell gate's and the output's activation (float and hybrid; integer LSTMs use tanh). */
  readonly activation: ActivationFunctionType;
  /** 0 = no clipping. */
  readonly cellClip: number;
  readonly projClip: number;
}

/**
 * Calls step(row, rows, stateRow) for each block of rows TFLite processes together: `row` is the
 * first input/output row (in units of rows of the [.., .., features] tensors), `stateRow` the
 * first state row.
 */
function forEachStep(dims: LstmDims, step: (row: number, rows: number, stateRow: number) => void): void {
  const { maxTime, batch } = dims;
  if (dims.timeMajor) {
    for (let t = 0; t < maxTime; t++) step(t * batch, batch, 0);
  } else {
    for (let b = 0; b < batch; b++) for (let t = 0; t < maxTime; t++) step(b * maxTime + t, 1, b);
  }
}

// ---------------------------------------------------------------------------------------------
// float32

export interface LstmFloatParams extends LstmOptions {
  readonly dims: LstmDims;
  /** [n_cell, n_input] per gate; the input gate's is null for CIFG (coupled input and forget gates). */
  readonly inputWeights: PerGate<Float32Array | null>;
  /** [n_cell, n_output] per gate, or [n_cell] when recurrentDiagonal[gate]. */
  readonly recurrentWeights: PerGate<Float32Array | null>;
  readonly recurrentDiagonal: PerGate<boolean>;
  /** [n_cell] peephole weights (the cell gate has none). */
  readonly peephole: PerGate<Float32Array | null>;
  readonly bias: PerGate<Float32Array | null>;
  /** [n_cell] layer norm coefficients per gate, or null for a plain LSTM. */
  readonly layerNorm: PerGate<Float32Array | null> | null;
  /** [n_output, n_cell] and [n_output]. */
  readonly projection: Float32Array | null;
  readonly projectionBias: Float32Array | null;
  /** Calibration: receives the values TFLite's calibrator logs, per step (LSTM_OBSERVED_SLOTS). */
  readonly observe?: ((slot: number, values: Float32Array) => void) | undefined;
}

/**
 * What createLstmFloat32 reports to `observe`, once per step (the values of the rows processed
 * together; a view valid during the call). Slots 0-4 are the op's intermediate tensors, as
 * TFLite's calibrator logs them (builtin_logging_ops/lstm.cc):
 * - 0-3 (input, forget, cell, output gate): with layer norm only, the gate's pre-normalization
 *   sum W_x·x + W_h·h (+ peephole), no bias;
 * - 4 (hidden): o ⊙ act(c), before the projection;
 * - 5 (cell state): the cell state after the step's update and clip (the integer LSTM's int16
 *   cell scale is a power of two covering its range).
 */
export const LSTM_OBSERVED_SLOTS = { gates: [0, 1, 2, 3], hidden: 4, cellState: 5 } as const;

/** TFLite's ApplyActivationToVector (float). NONE leaves the values (TFLite's own no-op). */
function activate(v: Float32Array, n: number, activation: ActivationFunctionType): void {
  switch (activation) {
    case ActivationFunctionType.NONE:
      return;
    case ActivationFunctionType.RELU:
      for (let i = 0; i < n; i++) v[i] = Math.max(0, v[i]!);
      return;
    case ActivationFunctionType.RELU_N1_TO_1:
      for (let i = 0; i < n; i++) v[i] = Math.max(-1, Math.min(1, v[i]!));
      return;
    case ActivationFunctionType.RELU6:
      for (let i = 0; i < n; i++) v[i] = Math.max(0, Math.min(6, v[i]!));
      return;
    case ActivationFunctionType.TANH:
      for (let i = 0; i < n; i++) v[i] = Math.tanh(v[i]!);
      return;
    case ActivationFunctionType.SIGN_BIT:
      for (let i = 0; i < n; i++) v[i] = v[i]! < 0 || Object.is(v[i], -0) ? 1 : 0;
      return;
    default:
      throw new RangeError(`Unsupported LSTM activation ${activation}`);
  }
}

function sigmoid(v: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) v[i] = 1 / (1 + Math.exp(-v[i]!));
}

/** TFLite's MeanStddevNormalization (float32, ε = 1e-8) then coeff ⊙ v + bias, per row. */
function layerNormFloat(v: Float32Array, rows: number, n: number, coeff: Float32Array, bias: Float32Array | null): void {
  const epsilon = f32(1e-8);
  for (let r = 0; r < rows; r++) {
    const base = r * n;
    let sum = 0;
    for (let i = 0; i < n; i++) sum = f32(sum + v[base + i]!);
    const mean = f32(sum / n);
    let sumDiffSq = 0;
    for (let i = 0; i < n; i++) {
      const d = f32(v[base + i]! - mean);
      sumDiffSq = f32(sumDiffSq + f32(d * d));
    }
    const variance = f32(sumDiffSq / n);
    const inverse = f32(1 / f32(Math.sqrt(f32(variance + epsilon))));
    for (let i = 0; i < n; i++) {
      const normalized = f32(f32(v[base + i]! - mean) * inverse);
      v[base + i] = f32(f32(coeff[i]! * normalized) + (bias === null ? 0 : bias[i]!));
    }
  }
}

/** Float cell update: c = f ⊙ c + i ⊙ g (CIFG: (1 − f) ⊙ g), clipped. */
function updateCellFloat(c: Float32Array, cBase: number, n: number, i: Float32Array | null, f: Float32Array, g: Float32Array, clip: number): void {
  for (let k = 0; k < n; k++) {
    const input = i === null ? f32(1 - f[k]!) : i[k]!;
    let v = f32(f32(f[k]! * c[cBase + k]!) + f32(g[k]! * input));
    if (clip > 0) v = Math.max(Math.min(clip, v), -clip);
    c[cBase + k] = v;
  }
}

/** A float32 LSTM: run(input, h, c, output) runs the whole sequence, updating h and c in place. */
export function createLstmFloat32(
  p: LstmFloatParams,
): (input: Float32Array, outputState: Float32Array, cellState: Float32Array, output: Float32Array) => void {
  const { inputSize: nIn, cellSize: nCell, outputSize: nOut, batch } = p.dims;
  const gates = [0, 1, 2, 3].map(() => new Float32Array(batch * nCell));
  const hidden = new Float32Array(batch * nCell);
  const cifg = p.inputWeights[INPUT] === null;

  const gate = (g: number, x: Float32Array, xBase: number, rows: number, h: Float32Array, hBase: number, c: Float32Array, cBase: number): Float32Array => {
    const out = gates[g]!;
    const wx = gateOf(p.inputWeights, g)!;
    const wh = gateOf(p.recurrentWeights, g)!;
    const diagonal = gateOf(p.recurrentDiagonal, g);
    const peephole = gateOf(p.peephole, g);
    const bias = gateOf(p.bias, g);
    const norm = p.layerNorm === null ? null : gateOf(p.layerNorm, g);
    for (let r = 0; r < rows; r++) {
      const xr = xBase + r * nIn;
      const hr = hBase + r * nOut;
      const cr = cBase + r * nCell;
      for (let j = 0; j < nCell; j++) {
        // The input product (a fully connected layer whose bias is the gate's start value).
        let acc = norm !== null || bias === null ? 0 : bias[j]!;
        const wxj = j * nIn;
        for (let k = 0; k < nIn; k++) acc += wx[wxj + k]! * x[xr + k]!;
        let v = f32(acc);
        if (diagonal) {
          v = f32(v + f32(wh[j]! * h[hr + j]!));
        } else {
          let rec = v;
          const whj = j * nOut;
          for (let k = 0; k < nOut; k++) rec += wh[whj + k]! * h[hr + k]!;
          v = f32(rec);
        }
        if (peephole !== null) v = f32(v + f32(peephole[j]! * c[cr + j]!));
        out[r * nCell + j] = v;
      }
    }
    if (norm !== null) {
      p.observe?.(g, out.subarray(0, rows * nCell));
      layerNormFloat(out, rows, nCell, norm, bias);
    }
    if (g === CELL) activate(out, rows * nCell, p.activation);
    else sigmoid(out, rows * nCell);
    return out;
  };

  return (input, outputState, cellState, output) => {
    forEachStep(p.dims, (row, rows, stateRow) => {
      const xBase = row * nIn;
      const hBase = stateRow * nOut;
      const cBase = stateRow * nCell;
      const i = cifg ? null : gate(INPUT, input, xBase, rows, outputState, hBase, cellState, cBase);
      const f = gate(FORGET, input, xBase, rows, outputState, hBase, cellState, cBase);
      const g = gate(CELL, input, xBase, rows, outputState, hBase, cellState, cBase);
      for (let r = 0; r < rows; r++) {
        const at = r * nCell;
        updateCellFloat(cellState, cBase + at, nCell, i === null ? null : i.subarray(at), f.subarray(at), g.subarray(at), p.cellClip);
      }
      p.observe?.(LSTM_OBSERVED_SLOTS.cellState, cellState.subarray(cBase, cBase + rows * nCell));
      const o = gate(OUTPUT, input, xBase, rows, outputState, hBase, cellState, cBase);
      // h = o ⊙ act(c), then the projection.
      for (let k = 0; k < rows * nCell; k++) hidden[k] = cellState[cBase + k]!;
      activate(hidden, rows * nCell, p.activation);
      for (let k = 0; k < rows * nCell; k++) hidden[k] = f32(o[k]! * hidden[k]!);
      p.observe?.(LSTM_OBSERVED_SLOTS.hidden, hidden.subarray(0, rows * nCell));
      if (p.projection === null) {
        for (let k = 0; k < rows * nOut; k++) outputState[hBase + k] = hidden[k]!;
      } else {
        const w = p.projection;
        for (let r = 0; r < rows; r++) {
          for (let j = 0; j < nOut; j++) {
            let acc = p.projectionBias === null ? 0 : p.projectionBias[j]!;
            for (let k = 0; k < nCell; k++) acc += w[j * nCell + k]! * hidden[r * nCell + k]!;
            let v = f32(acc);
            if (p.projClip > 0) v = Math.max(Math.min(p.projClip, v), -p.projClip);
            outputState[hBase + r * nOut + j] = v;
          }
        }
      }
      output.set(outputState.subarray(hBase, hBase + rows * nOut), row * nOut);
    });
  };
}

// ---------------------------------------------------------------------------------------------
// hybrid: float activations and state, int8 weights

/** A per-tensor int8 matrix [rows, cols] and its scale. */
export interface HybridMatrix {
  readonly data: Int8Array;
  readonly scale: number;
  readonly rows: number;
  readonly cols: number;
}

export interface LstmHybridParams extends LstmOptions {
  readonly dims: LstmDims;
  readonly asymmetricQuantizeInputs: boolean;
  readonly inputWeights: PerGate<HybridMatrix | null>;
  readonly recurrentWeights: PerGate<HybridMatrix | null>;
  /** [n_cell] int8 peephole weights with their scale. */
  readonly peephole: PerGate<{ readonly data: Int8Array; readonly scale: number } | null>;
  readonly bias: PerGate<Float32Array | null>;
  readonly layerNorm: PerGate<Float32Array | null> | null;
  readonly projection: HybridMatrix | null;
  readonly projectionBias: Float32Array | null;
}

/**
 * TFLite's BatchQuantizeFloats for one row: symmetric (scale max|x|/127, q in ±127) or
 * asymmetric (min/max including 0, nudged zero point). Writes q and returns the row's float
 * scale and zero point (scale 1, zero point 0 for an all-zero row).
 */
export function quantizeRow(x: Float32Array, base: number, n: number, q: Int8Array, qBase: number, asymmetric: boolean): { scale: number; zeroPoint: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = x[base + i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (!asymmetric) {
    const range = Math.max(Math.abs(min), Math.abs(max));
    if (range === 0 || n === 0) {
      q.fill(0, qBase, qBase + n);
      return { scale: 1, zeroPoint: 0 };
    }
    const scale = f32(range / 127);
    const inverse = f32(127 / range);
    for (let i = 0; i < n; i++) q[qBase + i] = Math.max(-127, Math.min(127, roundHalfAway(f32(x[base + i]! * inverse))));
    return { scale, zeroPoint: 0 };
  }
  const rmin = Math.min(0, min);
  const rmax = Math.max(0, max);
  if (rmin === rmax) {
    q.fill(0, qBase, qBase + n);
    return { scale: 1, zeroPoint: 0 };
  }
  const scaleDouble = (rmax - rmin) / 255;
  const fromMin = -128 - rmin / scaleDouble;
  const fromMax = 127 - rmax / scaleDouble;
  const errorMin = 128 + Math.abs(rmin / scaleDouble);
  const errorMax = 127 + Math.abs(rmax / scaleDouble);
  const zp = errorMin < errorMax ? fromMin : fromMax;
  const zeroPoint = zp <= -128 ? -128 : zp >= 127 ? 127 : roundHalfAway(zp);
  const scale = f32(scaleDouble);
  const inverse = f32(1 / scale);
  for (let i = 0; i < n; i++) {
    q[qBase + i] = Math.max(-128, Math.min(127, roundHalfAway(f32(zeroPoint + f32(x[base + i]! * inverse)))));
  }
  return { scale, zeroPoint };
}

function rowSums(m: HybridMatrix): Int32Array {
  const sums = new Int32Array(m.rows);
  for (let r = 0; r < m.rows; r++) {
    let s = 0;
    for (let k = 0; k < m.cols; k++) s += m.data[r * m.cols + k]!;
    sums[r] = s;
  }
  return sums;
}

/**
 * TFLite's hybrid MatrixBatchVectorMultiplyAccumulate: out[r][j] += float(acc − zp_r·Σw_j) ·
 * float(s_r·s_w), every operation in float32 in this order.
 */
function hybridMatVecAccumulate(
  m: HybridMatrix,
  sums: Int32Array,
  q: Int8Array,
  rows: number,
  scales: Float64Array,
  zeroPoints: Int32Array,
  out: Float32Array,
  outStride: number,
): void {
  const { data, cols } = m;
  for (let r = 0; r < rows; r++) {
    const scale = f32(scales[r]! * m.scale);
    const zp = zeroPoints[r]!;
    const qr = r * cols;
    for (let j = 0; j < m.rows; j++) {
      let acc = 0;
      const wj = j * cols;
      for (let k = 0; k < cols; k++) acc += data[wj + k]! * q[qr + k]!;
      acc |= 0;
      if (zp !== 0) acc = (acc - Math.imul(zp, sums[j]!)) | 0;
      const at = r * outStride + j;
      out[at] = f32(out[at]! + f32(f32(acc) * scale));
    }
  }
}

/** A hybrid LSTM: run(input, h, c, output) runs the whole sequence, updating h and c in place. */
export function createLstmHybrid(
  p: LstmHybridParams,
): (input: Float32Array, outputState: Float32Array, cellState: Float32Array, output: Float32Array) => void {
  const { inputSize: nIn, cellSize: nCell, outputSize: nOut, batch } = p.dims;
  const gates = [0, 1, 2, 3].map(() => new Float32Array(batch * nCell));
  const hidden = new Float32Array(batch * nCell);
  const cifg = p.inputWeights[INPUT] === null;
  const asym = p.asymmetricQuantizeInputs;
  const inputSums = p.inputWeights.map((m) => (m === null ? new Int32Array(0) : rowSums(m)));
  const recurrentSums = p.recurrentWeights.map((m) => (m === null ? new Int32Array(0) : rowSums(m)));
  const projectionSums = p.projection === null ? new Int32Array(0) : rowSums(p.projection);
  const peephole = p.peephole.map((w) => (w === null ? null : Float32Array.from(w.data, (v) => f32(w.scale * v))));
  const qx = new Int8Array(batch * nIn);
  const qh = new Int8Array(batch * Math.max(nOut, nCell));
  const xScales = new Float64Array(batch);
  const xZeroPoints = new Int32Array(batch);
  const hScales = new Float64Array(batch);
  const hZeroPoints = new Int32Array(batch);

  const isZero = (v: Float32Array, base: number, n: number): boolean => {
    for (let i = 0; i < n; i++) if (v[base + i] !== 0) return false;
    return true;
  };
  const quantizeRows = (v: Float32Array, base: number, rows: number, n: number, q: Int8Array, scales: Float64Array, zps: Int32Array): void => {
    for (let r = 0; r < rows; r++) {
      const { scale, zeroPoint } = quantizeRow(v, base + r * n, n, q, r * n, asym);
      scales[r] = scale;
      zps[r] = asym ? zeroPoint : 0;
    }
  };

  return (input, outputState, cellState, output) => {
    forEachStep(p.dims, (row, rows, stateRow) => {
      const xBase = row * nIn;
      const hBase = stateRow * nOut;
      const cBase = stateRow * nCell;
      // TFLite skips the products of an all-zero input or state (they would add zeros).
      const xZero = isZero(input, xBase, rows * nIn);
      const hZero = isZero(outputState, hBase, rows * nOut);
      if (!xZero) quantizeRows(input, xBase, rows, nIn, qx, xScales, xZeroPoints);
      if (!hZero) quantizeRows(outputState, hBase, rows, nOut, qh, hScales, hZeroPoints);

      const gate = (g: number): Float32Array => {
        const out = gates[g]!;
        const bias = gateOf(p.bias, g);
        const norm = p.layerNorm === null ? null : gateOf(p.layerNorm, g);
        for (let r = 0; r < rows; r++) {
          for (let j = 0; j < nCell; j++) out[r * nCell + j] = norm !== null || bias === null ? 0 : bias[j]!;
        }
        if (!xZero) hybridMatVecAccumulate(gateOf(p.inputWeights, g)!, inputSums[g]!, qx, rows, xScales, xZeroPoints, out, nCell);
        if (!hZero) hybridMatVecAccumulate(gateOf(p.recurrentWeights, g)!, recurrentSums[g]!, qh, rows, hScales, hZeroPoints, out, nCell);
        const pe = peephole[g];
        if (pe !== null && pe !== undefined) {
          for (let r = 0; r < rows; r++) {
            for (let j = 0; j < nCell; j++) out[r * nCell + j] = f32(out[r * nCell + j]! + f32(pe[j]! * cellState[cBase + r * nCell + j]!));
          }
        }
        if (norm !== null) layerNormFloat(out, rows, nCell, norm, bias);
        if (g === CELL) activate(out, rows * nCell, p.activation);
        else sigmoid(out, rows * nCell);
        return out;
      };

      const i = cifg ? null : gate(INPUT);
      const f = gate(FORGET);
      const g = gate(CELL);
      for (let r = 0; r < rows; r++) {
        const at = r * nCell;
        updateCellFloat(cellState, cBase + at, nCell, i === null ? null : i.subarray(at), f.subarray(at), g.subarray(at), p.cellClip);
      }
      const o = gate(OUTPUT);
      for (let k = 0; k < rows * nCell; k++) hidden[k] = cellState[cBase + k]!;
      activate(hidden, rows * nCell, p.activation);
      for (let k = 0; k < rows * nCell; k++) hidden[k] = f32(o[k]! * hidden[k]!);
      if (p.projection === null) {
        for (let k = 0; k < rows * nOut; k++) outputState[hBase + k] = hidden[k]!;
      } else {
        for (let r = 0; r < rows; r++) {
          for (let j = 0; j < nOut; j++) outputState[hBase + r * nOut + j] = p.projectionBias === null ? 0 : p.projectionBias[j]!;
        }
        if (!isZero(hidden, 0, rows * nCell)) {
          quantizeRows(hidden, 0, rows, nCell, qh, hScales, hZeroPoints);
          hybridMatVecAccumulate(p.projection, projectionSums, qh, rows, hScales, hZeroPoints, outputState.subarray(hBase), nOut);
        }
        if (p.projClip > 0) {
          for (let k = 0; k < rows * nOut; k++) outputState[hBase + k] = Math.max(Math.min(p.projClip, outputState[hBase + k]!), -p.projClip);
        }
      }
      output.set(outputState.subarray(hBase, hBase + rows * nOut), row * nOut);
    });
  };
}

// ---------------------------------------------------------------------------------------------
// integer 8x8→16

/** The scales and zero points the integer LSTM's parameters derive from (TFLite's Prepare). */
export interface LstmIntegerScales {
  readonly input: { readonly scale: number; readonly zeroPoint: number };
  readonly outputState: { readonly scale: number; readonly zeroPoint: number };
  readonly cellStateScale: number;
  /** The op's output tensor scale (the projection clip is quantized with it). */
  readonly outputScale: number;
  readonly inputWeights: PerGate<number | null>;
  readonly recurrentWeights: PerGate<number | null>;
  readonly peephole: PerGate<number | null>;
  readonly layerNorm: PerGate<number | null> | null;
  readonly projection: number | null;
  /** Intermediates 0..3 (the gates' int16 scale with layer norm; 2^-12 without) and 4 (hidden). */
  readonly gateScales: PerGate<number> | null;
  readonly hidden: { readonly scale: number; readonly zeroPoint: number };
}

export interface LstmIntegerParams {
  readonly dims: LstmDims;
  readonly inputWeights: PerGate<Int8Array | null>;
  readonly recurrentWeights: PerGate<Int8Array | null>;
  /** [n_cell] int16 peephole weights. */
  readonly peephole: PerGate<Int16Array | null>;
  /** int32 gate biases (used directly only with layer norm; otherwise folded into the effective biases). */
  readonly bias: PerGate<Int32Array | null>;
  readonly layerNorm: PerGate<Int16Array | null> | null;
  readonly projection: Int8Array | null;
  readonly projectionBias: Int32Array | null;
  readonly scales: LstmIntegerScales;
  readonly cellClip: number;
  readonly projClip: number;
}

/** What TFLite's PopulateQuantizedLstmParams8x8_16 and PopulatePrecomputedZPTimesWeightsWithBias derive. */
export interface LstmIntegerDerived {
  readonly inputScale: PerGate<QuantizedMultiplier>;
  readonly recurrentScale: PerGate<QuantizedMultiplier>;
  readonly peepholeScale: PerGate<QuantizedMultiplier>;
  readonly layerNormScale: PerGate<QuantizedMultiplier>;
  readonly varianceGuard: PerGate<number>;
  readonly hiddenScale: QuantizedMultiplier;
  readonly projectionScale: QuantizedMultiplier;
  /** log2 of the cell state's scale (a power of two). */
  readonly cellShift: number;
  readonly quantizedCellClip: number;
  readonly quantizedProjClip: number;
  readonly inputBias: PerGate<Int32Array | null>;
  readonly recurrentBias: PerGate<Int32Array | null>;
  readonly projectionBias: Int32Array | null;
}

/** bias + zeroPoint·Σ_k w[j][k] in int32 (TFLite's PrecomputeZeroPointTimesWeightWithBias). */
function zeroPointTimesWeights(w: Int8Array | null, rows: number, zeroPoint: number, bias: Int32Array | null): Int32Array | null {
  if (w === null) return null;
  const cols = w.length / rows;
  const out = bias === null ? new Int32Array(rows) : Int32Array.from(bias);
  if (zeroPoint !== 0) {
    for (let r = 0; r < rows; r++) {
      let sum = 0;
      for (let k = 0; k < cols; k++) sum += w[r * cols + k]!;
      out[r] = (out[r]! + Math.imul(sum, zeroPoint)) | 0;
    }
  }
  return out;
}

/**
 * The integer LSTM's effective scales, clips and biases, as TFLite's Prepare computes them (float32
 * products and quotients, a few in double). Throws a RangeError for a cell state scale TFLite
 * cannot run (not a power of two, or tanh's integer bits outside 0..6).
 */
export function deriveLstmInteger(p: LstmIntegerParams): LstmIntegerDerived {
  const s = p.scales;
  const { cellSize: nCell, outputSize: nOut } = p.dims;
  const log2 = checkedLog2(s.cellStateScale);
  if (!log2.isPowerOfTwo) throw new RangeError(`the cell state scale ${s.cellStateScale} is not a power of two`);
  const cellShift = log2.log2;
  if (15 + cellShift < 0 || 15 + cellShift > 6) {
    throw new RangeError(`the cell state scale 2^${cellShift} is outside TFLite's range 2^-15..2^-9`);
  }
  const useLayerNorm = p.layerNorm !== null;
  const gateScale = (g: number): number => (useLayerNorm && s.gateScales !== null ? f32(gateOf(s.gateScales, g)) : 2 ** -12);
  const hiddenScale = f32(s.hidden.scale);
  const inScale = f32(s.input.scale);
  const hScale = f32(s.outputState.scale);
  const scaleOr1 = (v: number | null | undefined): number => (v === null || v === undefined ? 1 : f32(v));
  const perGate = <T>(f: (g: number) => T): PerGate<T> => [f(0), f(1), f(2), f(3)];
  const cifg = p.inputWeights[INPUT] === null;
  const peepholeUsed = p.peephole[OUTPUT] !== null;
  const projectionUsed = p.projection !== null;

  const inputScale = perGate((g) =>
    g === INPUT && cifg ? quantizeMultiplier(1) : quantizeMultiplier(f32(f32(scaleOr1(gateOf(s.inputWeights, g)) * inScale) / gateScale(g))),
  );
  const recurrentScale = perGate((g) =>
    g === INPUT && cifg ? quantizeMultiplier(1) : quantizeMultiplier(f32(f32(scaleOr1(gateOf(s.recurrentWeights, g)) * hScale) / gateScale(g))),
  );
  const peepholeScale = perGate((g) =>
    !peepholeUsed || g === CELL || (g === INPUT && cifg)
      ? quantizeMultiplier(1)
      : quantizeMultiplier(f32((2 ** cellShift * scaleOr1(gateOf(s.peephole, g))) / gateScale(g))),
  );
  const lnScale = perGate((g) => (useLayerNorm && !(g === INPUT && cifg) ? scaleOr1((s.layerNorm === null ? null : gateOf(s.layerNorm, g))) : 1));
  const layerNormScale = perGate((g) => quantizeMultiplier(gateOf(lnScale, g)));
  const varianceGuard = perGate((g) => Math.max(1, Math.trunc(f32(10000 * gateOf(lnScale, g)))));
  const hidden = quantizeMultiplier(f32((2 ** -15 / hiddenScale) * 2 ** -15));
  const projectionScale = quantizeMultiplier(f32(f32(scaleOr1(projectionUsed ? s.projection : null) * hiddenScale) / hScale));

  const quantizedCellClip = p.cellClip > 0 ? Math.trunc(Math.min(Math.max(f32(f32(p.cellClip) / f32(s.cellStateScale)), -32768), 32767)) : 0;
  const quantizedProjClip = p.projClip > 0 ? Math.trunc(Math.min(Math.max(f32(f32(p.projClip) / f32(s.outputScale)), -128), 127)) : 0;

  // Zero points folded into the biases: the gate bias joins the input product unless layer norm
  // adds it after normalizing.
  const inputBias = perGate((g) => zeroPointTimesWeights(gateOf(p.inputWeights, g), nCell, -s.input.zeroPoint, useLayerNorm ? null : gateOf(p.bias, g)));
  const recurrentBias = perGate((g) => zeroPointTimesWeights(gateOf(p.recurrentWeights, g), nCell, -s.outputState.zeroPoint, null));
  const projectionBias = zeroPointTimesWeights(p.projection, nOut, s.hidden.zeroPoint, p.projectionBias);

  return {
    inputScale,
    recurrentScale,
    peepholeScale,
    layerNormScale,
    varianceGuard,
    hiddenScale: hidden,
    projectionScale,
    cellShift,
    quantizedCellClip,
    quantizedProjClip,
    inputBias,
    recurrentBias,
    projectionBias,
  };
}

/**
 * gemmlowp's int16 sigmoid or tanh with `integerBits` integer bits in, memoized per input value
 * (an LSTM evaluates them for every gate value of every step; 65536 possible inputs).
 */
const UNSET = 0x7fffffff;
const memoized = new Map<string, Int32Array>();
function int16Function(kind: 'logistic' | 'tanh', integerBits: number): (x: number) => number {
  const key = `${kind}${integerBits}`;
  let table = memoized.get(key);
  if (table === undefined) {
    table = new Int32Array(65536).fill(UNSET);
    memoized.set(key, table);
  }
  const t = table;
  const f = kind === 'logistic' ? gemmlowp16.logistic : gemmlowp16.tanh;
  return (x) => {
    const i = x + 32768;
    let y = t[i]!;
    if (y === UNSET) y = t[i] = f(x, integerBits);
    return y;
  };
}

const clamp16 = (v: number): number => (v > 32767 ? 32767 : v < -32768 ? -32768 : v);
const clamp8 = (v: number): number => (v > 127 ? 127 : v < -128 ? -128 : v);
const wrap16 = (v: number): number => (v << 16) >> 16;

/**
 * TFLite's integer MatrixBatchVectorMultiplyAccumulate: out = clamp(MBQM(bias + Σ x·w) + zp + out)
 * to the output type's range.
 */
function integerMatVecAccumulate(
  x: Int8Array,
  xBase: number,
  rows: number,
  cols: number,
  w: Int8Array,
  outRows: number,
  bias: Int32Array,
  m: QuantizedMultiplier,
  zeroPoint: number,
  out: Int16Array | Int8Array,
  outBase: number,
  clamp: (v: number) => number,
): void {
  for (let r = 0; r < rows; r++) {
    const xr = xBase + r * cols;
    for (let j = 0; j < outRows; j++) {
      let acc = bias[j]!;
      const wj = j * cols;
      for (let k = 0; k < cols; k++) acc += x[xr + k]! * w[wj + k]!;
      const at = outBase + r * outRows + j;
      out[at] = clamp(multiplyByQuantizedMultiplier(acc | 0, m.multiplier, m.shift) + zeroPoint + out[at]!);
    }
  }
}

/** TFLite's integer ApplyLayerNorm (in place), per row of n values. */
function layerNormInteger(v: Int16Array, rows: number, n: number, coeff: Int16Array, bias: Int32Array | null, m: QuantizedMultiplier, guard: number): void {
  const twoPow20 = 1 << 20;
  const temp = Math.trunc(twoPow20 / n);
  for (let r = 0; r < rows; r++) {
    const base = r * n;
    let sum = 0;
    let sumSq = 0;
    for (let j = 0; j < n; j++) {
      const x = v[base + j]!;
      sum += x;
      sumSq += x * x;
    }
    const mean = Number(BigInt.asIntN(32, (BigInt(sum) * 1024n) / BigInt(n)));
    const variance = BigInt(sumSq) * BigInt(temp) - BigInt(mean) * BigInt(mean);
    let variance2 = Number(BigInt.asIntN(32, variance / BigInt(twoPow20)));
    if (variance2 < 1) variance2 = guard;
    const inv = invSqrtQuantizedMultiplierExp(variance2);
    for (let j = 0; j < n; j++) {
      const shifted = (1024 * v[base + j]! - mean) | 0;
      const rescaled = multiplyByQuantizedMultiplier(shifted, inv.multiplier, inv.shift);
      // int32 arithmetic (TFLite computes the product in int32 before widening).
      const val3 = (Math.imul(rescaled, coeff[j]!) + (bias === null ? 0 : bias[j]!)) | 0;
      const val4 = Math.trunc((val3 > 0 ? val3 + 512 : val3 - 512) / 1024);
      const val5 = multiplyByQuantizedMultiplier(val4, m.multiplier, m.shift + 12);
      v[base + j] = clamp16(val5);
    }
  }
}

/**
 * Which TFLite's integer LSTM to reproduce; they differ only without a projection and with a
 * non-zero hidden zero point: h = MBQM(o·tanh(c)) + zp_hidden ('builtin': TFLite since the
 * b/246629213 fix of late 2022, LiteRT) or − zp_hidden ('builtin-2023': the TFLite in
 * tfjs-tflite 0.0.1-alpha.10, whose CwiseMul subtracted its output zero point).
 */
export type LstmIntegerKernel = 'builtin' | 'builtin-2023';

/** An integer (8x8→16) LSTM: run(input, h, c, output) runs the sequence, updating h and c in place. */
export function createLstmInteger(
  p: LstmIntegerParams,
  derived: LstmIntegerDerived = deriveLstmInteger(p),
  kernel: LstmIntegerKernel = 'builtin',
): (input: Int8Array, outputState: Int8Array, cellState: Int16Array, output: Int8Array) => void {
  const { inputSize: nIn, cellSize: nCell, outputSize: nOut, batch } = p.dims;
  const d = derived;
  const gates = [0, 1, 2, 3].map(() => new Int16Array(batch * nCell));
  const scratch = new Int16Array(batch * nCell);
  const hidden8 = new Int8Array(batch * nCell);
  const cifg = p.inputWeights[INPUT] === null;
  const hiddenZp = p.scales.hidden.zeroPoint;
  const outputHiddenZp = kernel === 'builtin-2023' ? -hiddenZp : hiddenZp;
  const outputZp = p.scales.outputState.zeroPoint;
  const cellShift = d.cellShift;
  // Gates in Q3.12 (2^-12 or a layer norm output), the cell in Q(15 + cell_shift).12.
  const sigmoid16 = int16Function('logistic', 3);
  const tanhGate16 = int16Function('tanh', 3);
  const tanhCell16 = int16Function('tanh', 15 + cellShift);

  return (input, outputState, cellState, output) => {
    forEachStep(p.dims, (row, rows, stateRow) => {
      const xBase = row * nIn;
      const hBase = stateRow * nOut;
      const cBase = stateRow * nCell;
      const n = rows * nCell;

      const gate = (g: number): Int16Array => {
        const out = gates[g]!;
        out.fill(0, 0, n);
        integerMatVecAccumulate(input, xBase, rows, nIn, gateOf(p.inputWeights, g)!, nCell, gateOf(d.inputBias, g)!, gateOf(d.inputScale, g), 0, out, 0, clamp16);
        integerMatVecAccumulate(outputState, hBase, rows, nOut, gateOf(p.recurrentWeights, g)!, nCell, gateOf(d.recurrentBias, g)!, gateOf(d.recurrentScale, g), 0, out, 0, clamp16);
        const pe = gateOf(p.peephole, g);
        if (pe !== null && g !== CELL) {
          // TFLite passes n_output as the vector size here (not n_cell).
          const m = gateOf(d.peepholeScale, g);
          for (let b = 0; b < rows; b++) {
            for (let v = 0; v < nOut; v++) {
              const at = b * nOut + v;
              const prod = multiplyByQuantizedMultiplier(pe[v]! * cellState[cBase + at]!, m.multiplier, m.shift);
              out[at] = clamp16(prod + out[at]!);
            }
          }
        }
        const norm = p.layerNorm === null ? null : gateOf(p.layerNorm, g);
        if (norm !== null) layerNormInteger(out, rows, nCell, norm, gateOf(p.bias, g), gateOf(d.layerNormScale, g), gateOf(d.varianceGuard, g));
        if (g === CELL) for (let k = 0; k < n; k++) out[k] = tanhGate16(out[k]!);
        else for (let k = 0; k < n; k++) out[k] = sigmoid16(out[k]!);
        return out;
      };

      const i = cifg ? null : gate(INPUT);
      const f = gate(FORGET);
      const g = gate(CELL);
      // c = f·c >> 15 + i·g >> (30 + cell_shift), saturated, clipped.
      const mixShift = 30 + cellShift;
      for (let k = 0; k < n; k++) {
        const kept = wrap16(roundingDivideByPOT(f[k]! * cellState[cBase + k]!, 15));
        const inputGate = i === null ? 32767 - f[k]! : i[k]!;
        const added = wrap16(roundingDivideByPOT(inputGate * g[k]!, mixShift));
        let c = clamp16(kept + added);
        if (d.quantizedCellClip > 0) c = Math.max(Math.min(d.quantizedCellClip, c), -d.quantizedCellClip);
        cellState[cBase + k] = c;
      }
      const o = gate(OUTPUT);
      for (let k = 0; k < n; k++) scratch[k] = tanhCell16(cellState[cBase + k]!);
      const hm = d.hiddenScale;
      if (p.projection === null) {
        for (let k = 0; k < n; k++) {
          outputState[hBase + k] = clamp8(multiplyByQuantizedMultiplier(o[k]! * scratch[k]!, hm.multiplier, hm.shift) + outputHiddenZp);
        }
      } else {
        for (let k = 0; k < n; k++) {
          hidden8[k] = clamp8(multiplyByQuantizedMultiplier(o[k]! * scratch[k]!, hm.multiplier, hm.shift) - hiddenZp);
        }
        outputState.fill(0, hBase, hBase + rows * nOut);
        integerMatVecAccumulate(hidden8, 0, rows, nCell, p.projection, nOut, d.projectionBias!, d.projectionScale, outputZp, outputState, hBase, clamp8);
        const clip = d.quantizedProjClip;
        if (clip > 0) for (let k = 0; k < rows * nOut; k++) outputState[hBase + k] = Math.max(Math.min(clip, outputState[hBase + k]!), -clip);
      }
      output.set(outputState.subarray(hBase, hBase + rows * nOut), row * nOut);
    });
  };
}
