// Sequence layers: Embedding (GATHER) and LSTM (UNIDIRECTIONAL_SEQUENCE_LSTM, checked against
// tfjs in the official runtime tfjs-tflite: LiteRT refuses variable tensors).
import { ModelFormatError } from '../errors.js';
import { builtinOptions } from '../ir/builder.js';
import { ActivationFunctionType, BuiltinOperator, TensorType } from '../tflite/schema.js';
import { activationName, bool, checkWeightShape, int, Unsupported, where, type Activation, type LayerRule } from './config.js';
import { columnsTransposed } from './emit.js';

/** Embedding: GATHER rows of the [vocabulary, dims] table by the int32 indices. */
export const embedding: LayerRule = {
  check(layer) {
    if (bool(layer, 'mask_zero', false)) throw new Unsupported('mask_zero true (TFLite has no masks; masked steps would be computed)');
  },
  convert(call, [input], ctx) {
    const layer = call.layer;
    if (input!.type !== TensorType.INT32) {
      throw new Unsupported(
        'float32 indices (TFLite GATHER needs int32 ones: feed the Embedding from a model input of dtype int32, or one that only Embedding layers read)',
      );
    }
    const table = ctx.weight(layer, 'embeddings');
    if (table.shape.length !== 2) throw new ModelFormatError(`${where(layer)}: embeddings has shape [${table.shape.join(', ')}], expected [vocabulary, dims]`);
    const params = ctx.emit.weights(`${layer.name}/embeddings`, table.shape, table.data);
    const out = ctx.emit.activation(layer.name, [...input!.shape, table.shape[1]!]);
    ctx.emit.op(BuiltinOperator.GATHER, [params, input!.tensor], [out.tensor], builtinOptions('GatherOptions', { axis: 0, batchDims: 0 }));
    ctx.define(call.output, out);
  },
};

const LSTM_ACTIVATIONS: Readonly<Partial<Record<Activation, ActivationFunctionType>>> = {
  tanh: ActivationFunctionType.TANH,
  relu: ActivationFunctionType.RELU,
  relu6: ActivationFunctionType.RELU6,
};

/**
 * LSTM: UNIDIRECTIONAL_SEQUENCE_LSTM (batch-major) with four gates split from the Keras kernels
 * (i, f, c, o), no peepholes or projection, and variable output/cell state tensors. Without
 * return_sequences the last step is taken with SLICE + RESHAPE.
 */
export const lstm: LayerRule = {
  check(layer) {
    const gate = layer.config['recurrent_activation'];
    if (gate !== 'sigmoid') {
      throw new Unsupported(
        `recurrent_activation ${JSON.stringify(gate)} (TFLite's LSTM gates are sigmoid; build the layer with recurrentActivation: 'sigmoid')`,
      );
    }
    const act = activationName(layer.config['activation'], 'activation');
    if (LSTM_ACTIVATIONS[act] === undefined) throw new Unsupported(`activation '${act}' (TFLite's LSTM takes tanh, relu or relu6)`);
    for (const key of ['return_state', 'go_backwards', 'stateful', 'time_major']) {
      if (bool(layer, key, false)) throw new Unsupported(`${key} true`);
    }
  },
  convert(call, [input], ctx) {
    const layer = call.layer;
    const emit = ctx.emit;
    if (input!.shape.length !== 3) throw new Unsupported(`a rank-${input!.shape.length} input (expected [batch, steps, features])`);
    const [batch, steps, features] = input!.shape as [number, number, number];
    const units = int(layer, 'units');
    const kernel = ctx.weight(layer, 'kernel');
    const recurrent = ctx.weight(layer, 'recurrent_kernel');
    checkWeightShape(layer, kernel, [features, 4 * units]);
    checkWeightShape(layer, recurrent, [units, 4 * units]);
    const useBias = bool(layer, 'use_bias', true);
    const bias = useBias ? ctx.weight(layer, 'bias') : null;
    if (bias !== null) checkWeightShape(layer, bias, [4 * units]);
    const gates = ['input', 'forget', 'cell', 'output'];
    const inputWeights = gates.map((g, k) =>
      emit.weights(`${layer.name}/input_to_${g}_weights`, [units, features], columnsTransposed(kernel.data, features, 4 * units, k * units, units)),
    );
    const recurrentWeights = gates.map((g, k) =>
      emit.weights(`${layer.name}/recurrent_to_${g}_weights`, [units, units], columnsTransposed(recurrent.data, units, 4 * units, k * units, units)),
    );
    const biases = gates.map((g, k) =>
      emit.weights(`${layer.name}/${g}_gate_bias`, [units], bias === null ? new Float32Array(units) : bias.data.slice(k * units, (k + 1) * units)),
    );
    const outputState = emit.variable(`${layer.name}/output_state`, [batch, units]);
    const cellState = emit.variable(`${layer.name}/cell_state`, [batch, units]);
    const returnSequences = bool(layer, 'return_sequences', false);
    const sequence = emit.activation(returnSequences ? layer.name : `${layer.name}/sequence`, [batch, steps, units]);
    const none = -1;
    emit.op(
      BuiltinOperator.UNIDIRECTIONAL_SEQUENCE_LSTM,
      [input!.tensor, ...inputWeights, ...recurrentWeights, none, none, none, ...biases, none, none, outputState, cellState, none, none, none, none],
      [sequence.tensor],
      builtinOptions('UnidirectionalSequenceLSTMOptions', {
        fusedActivationFunction: LSTM_ACTIVATIONS[activationName(layer.config['activation'], 'activation')]!,
        cellClip: 0,
        projClip: 0,
        timeMajor: false,
      }),
    );
    if (returnSequences) {
      ctx.define(call.output, sequence);
      return;
    }
    const lastStep = emit.activation(`${layer.name}/last_step`, [batch, 1, units]);
    const begin = emit.ints(`${layer.name}/begin`, [0, steps - 1, 0]);
    const size = emit.ints(`${layer.name}/size`, [-1, 1, units]);
    emit.op(BuiltinOperator.SLICE, [sequence.tensor, begin, size], [lastStep.tensor], builtinOptions('SliceOptions'));
    const newShape = [emit.dynamicBatch ? -1 : batch, units];
    const out = emit.activation(layer.name, [batch, units]);
    const shape = emit.ints(`${layer.name}/shape`, newShape);
    emit.op(BuiltinOperator.RESHAPE, [lastStep.tensor, shape], [out.tensor], builtinOptions('ReshapeOptions', { newShape }));
    ctx.define(call.output, out);
  },
};
