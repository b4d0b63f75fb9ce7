// The integer (8x8→16) LSTM of ops/lstm.ts on the native whole-sequence kernel
// (lib/native/lstm-qs8.ts), from the parameters and derived values of the TypeScript reference
// (createLstmInteger), so both compute the same function bit for bit. What the native kernel
// cannot run returns a reason, and the caller keeps the reference.
import { lstmQs8Table, packLstmQs8, type LstmQs8Multiplier, type PerGate } from '../../native/lstm-qs8.js';
import type { LstmIntegerDerived, LstmIntegerKernel, LstmIntegerParams } from '../reference-ops/lstm.js';

export interface NativeLstmIntegerStep {
  readonly impl: string;
  readonly run: (input: Int8Array, outputState: Int8Array, cellState: Int16Array, output: Int8Array) => void;
}

const tables = new Map<string, Int16Array>();

/**
 * gemmlowp's int16 logistic or tanh with `integerBits` integer bits at every input, once per
 * process, computed natively (the same function as the reference's gemmlowp16, ~100x faster
 * than evaluating it in TypeScript; test/runtime/lstm-qs8-native.test.ts compares the two).
 */
export function int16Table(kind: 'logistic' | 'tanh', integerBits: number): Int16Array {
  const key = `${kind}${integerBits}`;
  let table = tables.get(key);
  if (table === undefined) {
    table = new Int16Array(65536);
    lstmQs8Table(kind, integerBits, table);
    tables.set(key, table);
  }
  return table;
}

const perGate = <T>(f: (g: number) => T): PerGate<T> => [f(0), f(1), f(2), f(3)];

/** Why a multiplier is outside the kernel's range, or null. */
function outOfRange(m: LstmQs8Multiplier, extraShift: number, what: string): string | null {
  const shift = m.shift + extraShift;
  return m.multiplier < 0 || m.multiplier > 2 ** 31 - 1 || shift < -31 || shift > 31 ? `the ${what} (2^${shift}) is outside the kernel's shifts -31..31` : null;
}

/** The native integer LSTM, or the reason it cannot run this one. */
export function nativeLstmInteger(
  p: LstmIntegerParams,
  d: LstmIntegerDerived,
  kernel: LstmIntegerKernel,
  threads: number,
): NativeLstmIntegerStep | { readonly fallback: string } {
  const cifg = p.inputWeights[0] === null;
  const present = (g: number): boolean => g !== 0 || !cifg;
  const layerNorm = p.layerNorm;
  for (let g = 0; g < 4; g++) {
    if (!present(g)) continue;
    const reason =
      outOfRange(d.inputScale[g]!, 0, 'input scale') ??
      outOfRange(d.recurrentScale[g]!, 0, 'recurrent scale') ??
      (p.peephole[g] !== null && g !== 2 ? outOfRange(d.peepholeScale[g]!, 0, 'peephole scale') : null) ??
      (layerNorm !== null ? outOfRange(d.layerNormScale[g]!, 12, 'layer norm scale') : null);
    if (reason !== null) return { fallback: reason };
  }
  const projectionReason = p.projection === null ? null : outOfRange(d.projectionScale, 0, 'projection scale');
  const reason = outOfRange(d.hiddenScale, 0, 'hidden scale') ?? projectionReason;
  if (reason !== null) return { fallback: reason };

  const hiddenZp = p.scales.hidden.zeroPoint;
  const unit: LstmQs8Multiplier = { multiplier: 0, shift: 0 };
  const lstm = packLstmQs8(
    { ...p.dims, threads },
    {
      inputWeights: p.inputWeights,
      recurrentWeights: p.recurrentWeights,
      inputBias: d.inputBias,
      recurrentBias: d.recurrentBias,
      inputScale: d.inputScale,
      recurrentScale: d.recurrentScale,
      // The reference reads the input gate's peephole only when it computes that gate.
      peephole: perGate((g) => (present(g) && g !== 2 ? p.peephole[g]! : null)),
      peepholeScale: perGate((g) => (p.peephole[g] !== null && g !== 2 ? d.peepholeScale[g]! : unit)),
      layerNorm,
      // With layer norm the gate biases are added after normalizing (not folded into inputBias).
      layerNormBias: layerNorm === null ? null : p.bias,
      layerNormScale: d.layerNormScale,
      varianceGuard: d.varianceGuard,
      projection: p.projection,
      projectionBias: d.projectionBias,
      projectionScale: d.projectionScale,
      hiddenScale: d.hiddenScale,
      hiddenOutputZeroPoint: kernel === 'builtin-2023' ? -hiddenZp : hiddenZp,
      hiddenZeroPoint: hiddenZp,
      outputStateZeroPoint: p.scales.outputState.zeroPoint,
      cellShift: d.cellShift,
      cellClip: d.quantizedCellClip,
      projClip: d.quantizedProjClip,
      tables: { sigmoid: int16Table('logistic', 3), tanhGate: int16Table('tanh', 3), tanhCell: int16Table('tanh', 15 + d.cellShift) },
    },
  );
  const rule = kernel === 'builtin' ? '' : `, ${kernel}`;
  return { impl: `native lstm (int8x8→16${rule}, ${lstm.kernel})`, run: (x, h, c, y) => lstm.run(x, h, c, y) };
}
