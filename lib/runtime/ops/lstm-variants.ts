// LSTM (one time step) and BIDIRECTIONAL_SEQUENCE_LSTM, compiled onto the sequence LSTM of
// ops/lstm.ts (so they get its checks, its kernels and its state handling):
// - LSTM (full kernel): a sequence of one step, [batch, input] read as [1, batch, input].
// - BIDIRECTIONAL_SEQUENCE_LSTM: a forward LSTM over the input and a backward one over the input
//   reversed in time, whose outputs are reversed back; merged outputs interleave the two along
//   the last axis. As in TFLite, float and hybrid only, no layer norm; a bare aux input feeds the
//   backward LSTM (stacking without cross links), aux weights are not supported.
import { ModelFormatError, UnsupportedOperatorError } from '../../errors.js';
import { ActivationFunctionType, LSTMKernelType, TensorType } from '../../tflite/schema.js';
import type { UnidirectionalSequenceLSTMOptions } from '../../tflite/schema.js';
import type { PlanTensor, TensorData } from '../tensors.js';
import { copyInto, type Compiled, type OpContext } from './context.js';
import { compileLstm } from './lstm.js';

function sequenceOptions(
  from: { fusedActivationFunction: ActivationFunctionType; cellClip: number; projClip: number; asymmetricQuantizeInputs: boolean } | null,
  timeMajor: boolean,
): UnidirectionalSequenceLSTMOptions {
  return {
    kind: 'UnidirectionalSequenceLSTMOptions',
    // TFLite reads absent options as zeros: no activation, no clips.
    fusedActivationFunction: from?.fusedActivationFunction ?? ActivationFunctionType.NONE,
    cellClip: from?.cellClip ?? 0,
    projClip: from?.projClip ?? 0,
    timeMajor,
    asymmetricQuantizeInputs: from?.asymmetricQuantizeInputs ?? false,
    diagonalRecurrentTensors: false,
  };
}

/** The same tensor seen with another shape (same buffer). */
function reshaped(t: PlanTensor, shape: readonly number[]): PlanTensor {
  return { ...t, shape, shapeSignature: shape };
}

/** A scratch tensor of the runtime's own, typed like `like`. */
function scratch(like: PlanTensor, name: string, shape: readonly number[]): PlanTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = like.type === TensorType.FLOAT32 ? new Float32Array(n) : like.type === TensorType.INT8 ? new Int8Array(n) : null;
  if (data === null) throw new ModelFormatError(`${name}: expected a float32 or int8 LSTM output`);
  return { ...like, index: -1, name, shape, shapeSignature: shape, data, constant: false };
}

function sequenceContext(ctx: OpContext, ins: (PlanTensor | null)[], output: PlanTensor, options: UnidirectionalSequenceLSTMOptions, where: string): OpContext {
  const input = ins[0]!;
  return {
    ...ctx,
    op: { ...ctx.op, builtinOptions: options },
    ins,
    outs: [output],
    input,
    output,
    where,
    put: (source: TensorData) => copyInto(output.data, source, where),
  };
}

/** LSTM (builtin 16), full kernel: one step of the sequence LSTM. */
export function compileLstmCell(ctx: OpContext): Compiled | null {
  const options = ctx.op.builtinOptions;
  if (options !== null && options.kind !== 'LSTMOptions') return null;
  if (options?.kernelType === LSTMKernelType.BASIC) {
    throw new UnsupportedOperatorError('LSTM', -1, `${ctx.where}: the basic LSTM kernel (kernel_type BASIC, 5 inputs and 4 outputs) is not supported; only the full kernel is`);
  }
  const { input, output, where } = ctx;
  if (input.shape.length !== 2) {
    throw new ModelFormatError(`${where}: expected an input of shape [batch, features] but received [${input.shape.join(', ')}]`);
  }
  const seqInput = reshaped(input, [1, ...input.shape]);
  const seqOutput = reshaped(output, [1, ...output.shape]);
  const compiled = compileLstm(sequenceContext(ctx, [seqInput, ...ctx.ins.slice(1)], seqOutput, sequenceOptions(options, true), where), 'builtin');
  return compiled === null ? null : { impl: `${compiled.impl}, one step`, run: compiled.run };
}

// BIDIRECTIONAL_SEQUENCE_LSTM input indices (TFLite's bidirectional_sequence_lstm.cc).
const FW_WEIGHTS = 1; // 17 tensors: input weights, recurrent weights, peephole, biases, projection
const BW_WEIGHTS = 18;
const FW_STATE = [35, 36] as const;
const BW_STATE = [37, 38] as const;
const AUX_INPUT = 39;
const AUX_WEIGHTS = [40, 48] as const;

/** Copies `src` to `dst` with the time axis reversed (rows of `width` values). */
function reverseTime(src: TensorData, dst: TensorData, time: number, batch: number, width: number, timeMajor: boolean, dstWidth = width, dstOffset = 0): void {
  for (let t = 0; t < time; t++) {
    const r = time - 1 - t;
    for (let b = 0; b < batch; b++) {
      const from = (timeMajor ? t * batch + b : b * time + t) * width;
      const to = (timeMajor ? r * batch + b : b * time + r) * dstWidth + dstOffset;
      for (let j = 0; j < width; j++) dst[to + j] = src[from + j]!;
    }
  }
}

/** Copies rows of `width` values into every `dstWidth`-wide row of `dst` at `dstOffset`. */
function interleave(src: TensorData, dst: TensorData, rows: number, width: number, dstWidth: number, dstOffset: number): void {
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < width; j++) dst[r * dstWidth + dstOffset + j] = src[r * width + j]!;
  }
}

export function compileBidirectionalSequenceLstm(ctx: OpContext): Compiled | null {
  const options = ctx.op.builtinOptions;
  if (options !== null && options.kind !== 'BidirectionalSequenceLSTMOptions') return null;
  const { ins, outs, where } = ctx;
  const fail = (message: string): never => {
    throw new ModelFormatError(`${where}: ${message}`);
  };
  if (ins.length !== 48) fail(`expected 48 inputs for a bidirectional LSTM but received ${ins.length}`);
  const merge = options?.mergeOutputs ?? false;
  if (outs.length !== (merge ? 1 : 2)) fail(`expected ${merge ? 1 : 2} outputs (merge_outputs ${merge}) but received ${outs.length}`);
  if (ins.slice(AUX_WEIGHTS[0], AUX_WEIGHTS[1]).some((t) => t !== null)) {
    throw new UnsupportedOperatorError('BIDIRECTIONAL_SEQUENCE_LSTM', -1, `${where}: aux input weights (inputs 40-47, stacking with cross links) are not supported`);
  }
  const input = ctx.input;
  // TFLite's bidirectional LSTM runs float and hybrid weights only.
  if (input.type !== TensorType.FLOAT32) return null;
  const auxInput = ins[AUX_INPUT] ?? null;
  const bwInput = auxInput ?? input;
  if (input.shape.length !== 3) fail(`expected a rank-3 input but received [${input.shape.join(', ')}]`);
  if (bwInput.shape.length !== 3 || bwInput.shape[0] !== input.shape[0] || bwInput.shape[1] !== input.shape[1]) {
    fail(`expected the aux input (the backward LSTM's input) to have the input's time and batch but received [${bwInput.shape.join(', ')}]`);
  }
  const timeMajor = options?.timeMajor ?? true;
  const [d0, d1] = input.shape as [number, number, number];
  const [time, batch] = timeMajor ? [d0, d1] : [d1, d0];
  const outputSize = (w: number): number => {
    const rec = ins[w + 7] ?? fail(`the ${w === FW_WEIGHTS ? 'forward' : 'backward'} output gate recurrent weights (input ${w + 7}) are missing`);
    return rec.shape[rec.shape.length - 1]!;
  };
  const nFw = outputSize(FW_WEIGHTS);
  const nBw = outputSize(BW_WEIGHTS);
  const width = merge ? nFw + nBw : null;
  const out0 = outs[0]!;
  if (out0.shape[out0.shape.length - 1] !== (width ?? nFw)) {
    fail(`expected the ${merge ? 'merged ' : 'forward '}output's last dimension to be ${width ?? nFw} but received [${out0.shape.join(', ')}]`);
  }
  const seqShape = (n: number): number[] => (timeMajor ? [time, batch, n] : [batch, time, n]);
  const seqOptions = sequenceOptions(options, timeMajor);
  const direction = (first: number, state: readonly [number, number], dirInput: PlanTensor, output: PlanTensor, name: string): Compiled => {
    const dirIns = [dirInput, ...ins.slice(first, first + 17), ins[state[0]] ?? null, ins[state[1]] ?? null];
    const compiled = compileLstm(sequenceContext(ctx, dirIns, output, seqOptions, `${where} (${name})`), 'builtin');
    if (compiled === null) fail(`the ${name} LSTM has tensor types the runtime cannot run`);
    return compiled!;
  };

  // Forward: straight into the output unless it is merged.
  const fwOutput = merge ? scratch(out0, `${where} forward output`, seqShape(nFw)) : reshaped(out0, seqShape(nFw));
  const fw = direction(FW_WEIGHTS, FW_STATE, input, fwOutput, 'forward');
  // Backward: the input reversed in time, the output reversed back.
  const bwIn = scratch(bwInput, `${where} backward input`, timeMajor ? [time, batch, bwInput.shape[2]!] : [batch, time, bwInput.shape[2]!]);
  const bwOutput = scratch(out0, `${where} backward output`, seqShape(nBw));
  const bw = direction(BW_WEIGHTS, BW_STATE, bwIn, bwOutput, 'backward');
  const bwTarget = merge ? out0 : outs[1]!;
  if (!merge && bwTarget.data.length !== time * batch * nBw) fail(`expected the backward output to hold ${time * batch * nBw} values but it holds ${bwTarget.data.length}`);
  const rows = time * batch;
  return {
    impl: `bidirectional: ${fw.impl}`,
    run: () => {
      fw.run();
      if (merge) interleave(fwOutput.data, out0.data, rows, nFw, nFw + nBw, 0);
      reverseTime(bwInput.data, bwIn.data, time, batch, bwInput.shape[2]!, timeMajor);
      bw.run();
      reverseTime(bwOutput.data, bwTarget.data, time, batch, nBw, timeMajor, merge ? nFw + nBw : nBw, merge ? nFw : 0);
    },
  };
}
