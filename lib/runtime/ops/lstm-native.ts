// The float32 and hybrid LSTMs of ops/lstm.ts on the native whole-sequence kernels
// (lib/native/lstm.ts), built from the same parameters as the TypeScript references. What the
// native kernels cannot run returns a reason, and the caller keeps the reference.
import { packLstmFloat32, packLstmHybrid, type LstmActivation, type NativeLstm, type PerGate } from '../../native/lstm.js';
import { ActivationFunctionType } from '../../tflite/schema.js';
import type { LstmFloatParams, LstmHybridParams } from '../reference-ops/lstm.js';

export interface NativeLstmStep {
  readonly impl: string;
  readonly run: (input: Float32Array, outputState: Float32Array, cellState: Float32Array, output: Float32Array) => void;
}

const ACTIVATIONS = new Map<ActivationFunctionType, LstmActivation>([
  [ActivationFunctionType.TANH, 'tanh'],
  [ActivationFunctionType.RELU, 'relu'],
  [ActivationFunctionType.RELU6, 'relu6'],
  [ActivationFunctionType.RELU_N1_TO_1, 'relu-n1-to-1'],
  [ActivationFunctionType.SIGN_BIT, 'sign-bit'],
]);

function step(lstm: NativeLstm, what: string): NativeLstmStep {
  return { impl: `native lstm (${what}, ${lstm.kernel})`, run: (x, h, c, y) => lstm.run(x, h, c, y) };
}

/**
 * The native float32 LSTM, or the reason it cannot run one. Diagonal (1-D) recurrent weights
 * become diagonal matrices: each gate then adds 0 + w[j]·h[j] (exact) to its sum, as TFLite does.
 */
export function nativeLstmFloat32(p: LstmFloatParams, threads: number): NativeLstmStep | { readonly fallback: string } {
  const { cellSize, outputSize } = p.dims;
  const activation = ACTIVATIONS.get(p.activation);
  if (activation === undefined) return { fallback: `activation ${p.activation} has no native kernel` };
  if (p.recurrentDiagonal.some((d) => d) && outputSize !== cellSize) {
    return { fallback: `diagonal recurrent weights need n_output = n_cell, here ${outputSize} and ${cellSize}` };
  }
  const recurrent = p.recurrentWeights.map((w, g) => {
    if (w === null || !p.recurrentDiagonal[g]) return w;
    const full = new Float32Array(cellSize * outputSize);
    for (let j = 0; j < cellSize; j++) full[j * outputSize + j] = w[j]!;
    return full;
  }) as unknown as PerGate<Float32Array | null>;
  const lstm = packLstmFloat32(
    { ...p.dims, activation, cellClip: p.cellClip, projClip: p.projClip, threads },
    {
      inputWeights: p.inputWeights,
      recurrentWeights: recurrent,
      peephole: p.peephole,
      bias: p.bias,
      layerNorm: p.layerNorm,
      projection: p.projection,
      projectionBias: p.projectionBias,
    },
  );
  return step(lstm, 'float32');
}

/** The native hybrid LSTM, or the reason it cannot run one. */
export function nativeLstmHybrid(p: LstmHybridParams, threads: number): NativeLstmStep | { readonly fallback: string } {
  const activation = ACTIVATIONS.get(p.activation);
  if (activation === undefined) return { fallback: `activation ${p.activation} has no native kernel` };
  const lstm = packLstmHybrid(
    { ...p.dims, activation, cellClip: p.cellClip, projClip: p.projClip, threads },
    {
      inputWeights: p.inputWeights,
      recurrentWeights: p.recurrentWeights,
      peephole: p.peephole,
      bias: p.bias,
      layerNorm: p.layerNorm,
      projection: p.projection,
      projectionBias: p.projectionBias,
      asymmetricQuantizeInputs: p.asymmetricQuantizeInputs,
    },
  );
  return step(lstm, `hybrid, ${p.asymmetricQuantizeInputs ? 'asymmetric' : 'symmetric'} rows`);
}
