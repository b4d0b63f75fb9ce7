// UNIDIRECTIONAL_SEQUENCE_LSTM: the 24 (or legacy 20) inputs checked as TFLite's Prepare checks
// them, weights read once at load, and the whole sequence run in one native call: float32,
// hybrid (float input, int8 weights; ops/lstm-native.ts) or integer 8x8→16 (int8 input, int16
// cell state; ops/lstm-qs8-native.ts). The reference LSTMs (reference-ops/lstm.ts) run while
// calibrating (observeIntermediate needs the values from inside) and for what a kernel refuses.
//
// State: the output state (input 18) and cell state (input 19) are variable tensors: the plan
// resets them before every run (or keeps them from run to run with keepState; plan.ts), and the
// LSTM leaves the final state in them. Variable tensors live for the whole plan
// (memory-plan.ts), so no other tensor shares their bytes.
import { ModelFormatError } from '../../errors.js';
import { ActivationFunctionType, TensorType } from '../../tflite/schema.js';
import {
  createLstmFloat32,
  createLstmHybrid,
  createLstmInteger,
  deriveLstmInteger,
  LSTM_GATES,
  type HybridMatrix,
  type LstmDims,
  type LstmFloatParams,
  type LstmHybridParams,
  type LstmIntegerDerived,
  type LstmIntegerKernel,
  type LstmIntegerParams,
  type LstmIntegerScales,
  type PerGate,
} from '../reference-ops/lstm.js';
import type { PlanTensor } from '../tensors.js';
import { typeName } from '../tensors.js';
import type { Compiled, OpCompiler, OpContext } from './context.js';
import { nativeLstmFloat32, nativeLstmHybrid } from './lstm-native.js';
import { nativeLstmInteger } from './lstm-qs8-native.js';

// TFLite's input indices (lstm_shared.h).
const INPUT = 0;
const INPUT_WEIGHTS = [1, 2, 3, 4] as const;
const RECURRENT_WEIGHTS = [5, 6, 7, 8] as const;
const PEEPHOLE = [9, 10, 11] as const; // input, forget, output gates
const BIAS = [12, 13, 14, 15] as const;
const PROJECTION = 16;
const PROJECTION_BIAS = 17;
const OUTPUT_STATE = 18;
const CELL_STATE = 19;
const LAYER_NORM = [20, 21, 22, 23] as const;

/** The tensors of one LSTM, by role, with the checks TFLite's Prepare makes. */
interface LstmTensors {
  readonly dims: LstmDims;
  readonly inputWeights: PerGate<PlanTensor | null>;
  readonly recurrentWeights: PerGate<PlanTensor | null>;
  readonly recurrentDiagonal: PerGate<boolean>;
  readonly peephole: PerGate<PlanTensor | null>;
  readonly bias: PerGate<PlanTensor | null>;
  readonly layerNorm: PerGate<PlanTensor | null> | null;
  readonly projection: PlanTensor | null;
  readonly projectionBias: PlanTensor | null;
  readonly outputState: PlanTensor;
  readonly cellState: PlanTensor;
}

function perGate<T>(f: (g: number) => T): PerGate<T> {
  return [f(0), f(1), f(2), f(3)];
}

function collect(ctx: OpContext, timeMajor: boolean): LstmTensors {
  const { ins, where } = ctx;
  const fail = (message: string): never => {
    throw new ModelFormatError(`${where}: ${message}`);
  };
  if (ins.length !== 24 && ins.length !== 20) fail(`expected 20 or 24 inputs for an LSTM but received ${ins.length}`);
  if (ctx.outs.length !== 1) fail(`expected 1 output for an LSTM but received ${ctx.outs.length}`);
  const at = (i: number): PlanTensor | null => ins[i] ?? null;
  const input = ctx.input;
  const rank = input.shape.length;
  // TFLite's Prepare reads the input size from dims[2]: only rank-3 inputs run.
  if (rank !== 3) fail(`expected a rank-3 input ([batch, time, features], or [time, batch, features] when time-major) but received shape [${input.shape.join(', ')}]`);
  const nInput = input.shape[2]!;
  const maxTime = timeMajor ? input.shape[0]! : input.shape[1]!;
  const batch = timeMajor ? input.shape[1]! : input.shape[0]!;

  const shapeOf = (t: PlanTensor): string => `[${t.shape.join(', ')}]`;
  const need = (i: number, what: string): PlanTensor => at(i) ?? fail(`the ${what} (input ${i}) is missing`);
  const inputToOutput = need(INPUT_WEIGHTS[3], 'output gate input weights');
  if (inputToOutput.shape.length !== 2 || inputToOutput.shape[1] !== nInput) {
    fail(`expected output gate input weights [n_cell, ${nInput}] but received ${shapeOf(inputToOutput)}`);
  }
  const nCell = inputToOutput.shape[0]!;
  const recurrentToOutput = need(RECURRENT_WEIGHTS[3], 'output gate recurrent weights');
  const diagonalOutput = recurrentToOutput.shape.length === 1;
  const nOutput = diagonalOutput ? recurrentToOutput.shape[0]! : recurrentToOutput.shape[1]!;

  const checkShape = (t: PlanTensor | null, want: readonly number[], what: string): void => {
    if (t !== null && (t.shape.length !== want.length || t.shape.some((d, k) => d !== want[k]))) {
      fail(`expected the ${what} of shape [${want.join(', ')}] but received ${shapeOf(t)}`);
    }
  };
  const inputWeights = perGate((g) => (g === 0 ? at(INPUT_WEIGHTS[0]) : need(INPUT_WEIGHTS[g]!, `${LSTM_GATES[g]} gate input weights`)));
  const recurrentWeights = perGate((g) =>
    g === 0 ? at(RECURRENT_WEIGHTS[0]) : need(RECURRENT_WEIGHTS[g]!, `${LSTM_GATES[g]} gate recurrent weights`),
  );
  const recurrentDiagonal = perGate((g) => recurrentWeights[g]?.shape.length === 1);
  for (let g = 0; g < 4; g++) {
    checkShape(inputWeights[g]!, [nCell, nInput], `${LSTM_GATES[g]} gate input weights`);
    checkShape(recurrentWeights[g]!, recurrentDiagonal[g] ? [nCell] : [nCell, nOutput], `${LSTM_GATES[g]} gate recurrent weights`);
  }
  const cifg = inputWeights[0] === null;
  if (cifg !== (recurrentWeights[0] === null)) fail('the input gate needs both its input and recurrent weights, or neither (CIFG)');

  const peephole: PerGate<PlanTensor | null> = [at(PEEPHOLE[0]), at(PEEPHOLE[1]), null, at(PEEPHOLE[2])];
  for (const g of [0, 1, 3]) checkShape(peephole[g]!, [nCell], `${LSTM_GATES[g]} gate peephole weights`);
  const peepholeAll = (peephole[0] !== null || cifg) && peephole[1] !== null && peephole[3] !== null;
  const peepholeNone = peephole[0] === null && peephole[1] === null && peephole[3] === null;
  if (!peepholeAll && !peepholeNone) fail('the peephole weights must be all present (the input gate\'s only without CIFG) or all absent');

  const bias = perGate((g) => (g === 0 ? at(BIAS[0]) : need(BIAS[g]!, `${LSTM_GATES[g]} gate bias`)));
  if (cifg && bias[0] !== null) fail('a CIFG LSTM (no input gate weights) cannot have an input gate bias');
  if (!cifg && bias[0] === null) fail('the input gate bias (input 12) is missing');
  for (let g = 0; g < 4; g++) checkShape(bias[g]!, [nCell], `${LSTM_GATES[g]} gate bias`);

  const projection = at(PROJECTION);
  const projectionBias = at(PROJECTION_BIAS);
  checkShape(projection, [nOutput, nCell], 'projection weights');
  checkShape(projectionBias, [nOutput], 'projection bias');
  if (projection === null && projectionBias !== null) fail('a projection bias needs projection weights');
  if (projection === null && nOutput !== nCell) fail(`n_output ${nOutput} differs from n_cell ${nCell} without a projection`);

  let layerNorm: PerGate<PlanTensor | null> | null = null;
  if (ins.length === 24 && at(LAYER_NORM[1]) !== null) {
    layerNorm = perGate((g) => at(LAYER_NORM[g]!));
    if (cifg !== (layerNorm[0] === null)) fail('the input gate layer norm coefficients must be present exactly when the input gate is');
    for (let g = 0; g < 4; g++) {
      if (g > 0 && layerNorm[g] === null) fail(`the ${LSTM_GATES[g]} gate layer norm coefficients (input ${LAYER_NORM[g]}) are missing`);
      checkShape(layerNorm[g]!, [nCell], `${LSTM_GATES[g]} gate layer norm coefficients`);
    }
  }

  const outputState = need(OUTPUT_STATE, 'output state');
  const cellState = need(CELL_STATE, 'cell state');
  if (outputState.data.length !== batch * nOutput) {
    fail(`expected an output state of ${batch * nOutput} values (batch ${batch} × n_output ${nOutput}) but received ${shapeOf(outputState)}`);
  }
  if (cellState.data.length !== batch * nCell) {
    fail(`expected a cell state of ${batch * nCell} values (batch ${batch} × n_cell ${nCell}) but received ${shapeOf(cellState)}`);
  }
  if (ctx.output.data.length !== maxTime * batch * nOutput) {
    fail(`expected an output of ${maxTime * batch * nOutput} values (shape [${[...input.shape.slice(0, -1), nOutput].join(', ')}]) but it holds ${ctx.output.data.length}`);
  }
  for (const t of [...inputWeights, ...recurrentWeights, ...peephole, ...bias, ...(layerNorm ?? []), projection, projectionBias]) {
    if (t !== null && t !== undefined && !t.constant) fail(`tensor ${t.index} (${t.name}) must be a constant for this runtime`);
  }
  return {
    dims: { maxTime, batch, inputSize: nInput, cellSize: nCell, outputSize: nOutput, timeMajor },
    inputWeights,
    recurrentWeights,
    recurrentDiagonal,
    peephole,
    bias,
    layerNorm,
    projection,
    projectionBias,
    outputState,
    cellState,
  };
}

/** UNIDIRECTIONAL_SEQUENCE_LSTM as current TFLite (LiteRT) computes it. */
export function compileUnidirectionalSequenceLstm(ctx: OpContext): Compiled | null {
  return compileLstm(ctx, 'builtin');
}

/**
 * The compiler for one integer-LSTM rule ('builtin-2023' reproduces the TFLite of tfjs-tflite,
 * the one official runtime that runs LSTMs in Node: tests swap it in).
 */
export function lstmCompiler(kernel: LstmIntegerKernel, options: LstmCompileOptions = {}): OpCompiler {
  return (ctx) => compileLstm(ctx, kernel, options);
}

export interface LstmCompileOptions {
  /** false: the integer LSTM runs the TypeScript reference instead of the native kernel (tests). */
  readonly nativeInteger?: boolean;
}

export function compileLstm(ctx: OpContext, kernel: LstmIntegerKernel, compileOptions: LstmCompileOptions = {}): Compiled | null {
  const { input, output, op, where } = ctx;
  const options = op.builtinOptions;
  if (options !== null && options.kind !== 'UnidirectionalSequenceLSTMOptions') return null;
  const activation = options?.fusedActivationFunction ?? ActivationFunctionType.NONE;
  const cellClip = options?.cellClip ?? 0;
  const projClip = options?.projClip ?? 0;
  if (!(cellClip >= 0) || !(projClip >= 0)) {
    throw new ModelFormatError(`${where}: expected non-negative clips but received cell_clip ${cellClip}, proj_clip ${projClip}`);
  }
  const l = collect(ctx, options?.timeMajor ?? false);
  const weightType = l.inputWeights[3]!.type;
  const h = l.outputState.data;
  const c = l.cellState.data;

  const types = (ts: readonly (PlanTensor | null)[], type: TensorType): boolean => ts.every((t) => t === null || t.type === type);
  const f32 = (t: PlanTensor | null): Float32Array | null => (t === null ? null : (t.data as Float32Array));
  const matrices = [...l.inputWeights, ...l.recurrentWeights, l.projection];
  const layerNorm = l.layerNorm ?? [];

  if (input.type === TensorType.FLOAT32 && weightType === TensorType.FLOAT32) {
    const floats = [output, l.outputState, l.cellState, ...matrices, ...l.peephole, ...l.bias, ...layerNorm, l.projectionBias];
    if (!types(floats, TensorType.FLOAT32)) return null;
    checkActivation(activation, where);
    const params: LstmFloatParams = {
      dims: l.dims,
      activation,
      cellClip,
      projClip,
      inputWeights: perGate((g) => f32(l.inputWeights[g]!)),
      recurrentWeights: perGate((g) => f32(l.recurrentWeights[g]!)),
      recurrentDiagonal: l.recurrentDiagonal,
      peephole: perGate((g) => f32(l.peephole[g]!)),
      bias: perGate((g) => f32(l.bias[g]!)),
      layerNorm: l.layerNorm === null ? null : perGate((g) => f32(l.layerNorm![g]!)),
      projection: f32(l.projection),
      projectionBias: f32(l.projectionBias),
      observe: ctx.observeIntermediate,
    };
    // Calibration needs the values the reference reports from inside the steps.
    const native = ctx.observeIntermediate === undefined ? nativeLstmFloat32(params, ctx.threads) : { fallback: 'calibrating' };
    if ('run' in native) {
      return { impl: native.impl, run: () => native.run(input.data as Float32Array, h as Float32Array, c as Float32Array, output.data as Float32Array) };
    }
    const run = createLstmFloat32(params);
    return { impl: `reference lstm (float32; ${native.fallback})`, run: () => run(input.data as Float32Array, h as Float32Array, c as Float32Array, output.data as Float32Array) };
  }

  if (input.type === TensorType.FLOAT32 && weightType === TensorType.INT8) {
    const floats = [output, l.outputState, l.cellState, ...l.bias, ...layerNorm, l.projectionBias];
    if (!types(floats, TensorType.FLOAT32) || !types([...matrices, ...l.peephole], TensorType.INT8)) return null;
    if (l.recurrentDiagonal.some((d) => d)) return null;
    checkActivation(activation, where);
    const matrix = (t: PlanTensor | null, rows: number): HybridMatrix | null =>
      t === null ? null : { data: t.data as Int8Array, scale: perTensorScale(t, where), rows, cols: t.data.length / rows };
    const { cellSize, outputSize } = l.dims;
    const params: LstmHybridParams = {
      dims: l.dims,
      activation,
      cellClip,
      projClip,
      asymmetricQuantizeInputs: options?.asymmetricQuantizeInputs ?? false,
      inputWeights: perGate((g) => matrix(l.inputWeights[g]!, cellSize)),
      recurrentWeights: perGate((g) => matrix(l.recurrentWeights[g]!, cellSize)),
      peephole: perGate((g) => {
        const t = l.peephole[g]!;
        return t === null ? null : { data: t.data as Int8Array, scale: perTensorScale(t, where) };
      }),
      bias: perGate((g) => f32(l.bias[g]!)),
      layerNorm: l.layerNorm === null ? null : perGate((g) => f32(l.layerNorm![g]!)),
      projection: matrix(l.projection, outputSize),
      projectionBias: f32(l.projectionBias),
    };
    // Calibrating runs the references (the hybrid one reports nothing, but the rule stays simple).
    const native = ctx.observeIntermediate === undefined ? nativeLstmHybrid(params, ctx.threads) : { fallback: 'calibrating' };
    if ('run' in native) {
      return { impl: native.impl, run: () => native.run(input.data as Float32Array, h as Float32Array, c as Float32Array, output.data as Float32Array) };
    }
    const run = createLstmHybrid(params);
    const rows = options?.asymmetricQuantizeInputs === true ? 'asymmetric' : 'symmetric';
    return {
      impl: `reference lstm (hybrid, ${rows} rows; ${native.fallback})`,
      run: () => run(input.data as Float32Array, h as Float32Array, c as Float32Array, output.data as Float32Array),
    };
  }

  if (input.type === TensorType.INT8 && weightType === TensorType.INT8) {
    if (output.type !== TensorType.INT8 || l.outputState.type !== TensorType.INT8 || l.cellState.type !== TensorType.INT16) return null;
    if (!types(matrices, TensorType.INT8) || !types([...l.bias, l.projectionBias], TensorType.INT32)) return null;
    if (!types([...l.peephole, ...layerNorm], TensorType.INT16) || l.recurrentDiagonal.some((d) => d)) return null;
    const fail = (message: string): never => {
      throw new ModelFormatError(`${where}: ${message}`);
    };
    const intermediates = ctx.intermediates;
    if (intermediates.length !== 5) fail(`an integer LSTM needs 5 intermediate tensors (calibrated gate and hidden scales) but has ${intermediates.length}`);
    const hidden = intermediates[4]?.quantization ?? fail('the hidden intermediate (intermediate 4) has no quantization parameters');
    const { cellSize, outputSize } = l.dims;
    if (l.peephole[3] !== null && outputSize > cellSize) {
      fail(`an integer peephole LSTM with n_output ${outputSize} > n_cell ${cellSize} reads past TFLite's peephole weights`);
    }
    const scaleOf = (t: PlanTensor | null): number | null => (t === null ? null : perTensorScale(t, where));
    const q = (t: PlanTensor): { scale: number; zeroPoint: number } =>
      t.quantization ?? fail(`tensor ${t.index} (${t.name}) has no quantization parameters`);
    const gateScales =
      l.layerNorm === null
        ? null
        : perGate((g) => {
            if (g === 0 && l.inputWeights[0] === null) return 1;
            return intermediates[g]?.quantization?.scale ?? fail(`the ${LSTM_GATES[g]} gate intermediate (intermediate ${g}) has no quantization parameters`);
          });
    const scales: LstmIntegerScales = {
      input: q(input),
      outputState: q(l.outputState),
      cellStateScale: q(l.cellState).scale,
      outputScale: q(output).scale,
      inputWeights: perGate((g) => scaleOf(l.inputWeights[g]!)),
      recurrentWeights: perGate((g) => scaleOf(l.recurrentWeights[g]!)),
      peephole: perGate((g) => scaleOf(l.peephole[g]!)),
      layerNorm: l.layerNorm === null ? null : perGate((g) => scaleOf(l.layerNorm![g]!)),
      projection: scaleOf(l.projection),
      gateScales,
      hidden,
    };
    let params: LstmIntegerParams;
    let derived: LstmIntegerDerived;
    try {
      params = {
        dims: l.dims,
        inputWeights: perGate((g) => (l.inputWeights[g]?.data ?? null) as Int8Array | null),
        recurrentWeights: perGate((g) => (l.recurrentWeights[g]?.data ?? null) as Int8Array | null),
        peephole: perGate((g) => (l.peephole[g]?.data ?? null) as Int16Array | null),
        bias: perGate((g) => (l.bias[g]?.data ?? null) as Int32Array | null),
        layerNorm: l.layerNorm === null ? null : perGate((g) => (l.layerNorm![g]?.data ?? null) as Int16Array | null),
        projection: (l.projection?.data ?? null) as Int8Array | null,
        projectionBias: (l.projectionBias?.data ?? null) as Int32Array | null,
        scales,
        cellClip,
        projClip,
      };
      derived = deriveLstmInteger(params);
    } catch (error) {
      if (error instanceof RangeError) fail(error.message);
      throw error;
    }
    const native = compileOptions.nativeInteger === false ? { fallback: 'native kernel disabled' } : nativeLstmInteger(params, derived, kernel, ctx.threads);
    if ('run' in native) {
      return { impl: native.impl, run: () => native.run(input.data as Int8Array, h as Int8Array, c as Int16Array, output.data as Int8Array) };
    }
    const run = createLstmInteger(params, derived, kernel);
    return {
      impl: `reference lstm (int8x8→16${kernel === 'builtin' ? '' : `, ${kernel}`}; ${native.fallback})`,
      run: () => run(input.data as Int8Array, h as Int8Array, c as Int16Array, output.data as Int8Array),
    };
  }
  return null;
}

/** TFLite reads one scale (params.scale) from LSTM weights: per-channel weights are refused. */
function perTensorScale(t: PlanTensor, where: string): number {
  if (t.quantization === null || t.scales.length !== 1 || t.zeroPoints.some((z) => z !== 0)) {
    throw new ModelFormatError(
      `${where}: expected one scale and zero point 0 for LSTM tensor ${t.index} (${t.name}, ${typeName(t.type)}) but received scales [${t.scales.join(', ')}], zero points [${t.zeroPoints.join(', ')}]`,
    );
  }
  return t.quantization.scale;
}

/** The activations TFLite's float and hybrid LSTMs apply (NONE leaves its buffers unwritten in TFLite). */
function checkActivation(activation: ActivationFunctionType, where: string): void {
  const supported: readonly ActivationFunctionType[] = [
    ActivationFunctionType.TANH,
    ActivationFunctionType.RELU,
    ActivationFunctionType.RELU6,
    ActivationFunctionType.RELU_N1_TO_1,
    ActivationFunctionType.SIGN_BIT,
  ];
  if (!supported.includes(activation)) {
    throw new ModelFormatError(`${where}: expected an LSTM activation among TANH, RELU, RELU6, RELU_N1_TO_1, SIGN_BIT but received ${activation}`);
  }
}
