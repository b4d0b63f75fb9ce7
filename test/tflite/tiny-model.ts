// A small model written as a Graph literal, for the format tests: one FULLY_CONNECTED layer
// (input [1,4] → output [1,3]) with float weights and bias, a quantized copy of the output, a
// signature and metadata. The IR builder is not used so these tests only depend on lib/tflite.
import { operatorCode, type Graph, type Tensor } from '../../lib/ir/graph.js';
import { BuiltinOperator, TensorType } from '../../lib/tflite/schema.js';

function bytesOf(values: Float32Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

export function tensor(name: string, shape: number[], buffer = 0, type: TensorType = TensorType.FLOAT32): Tensor {
  return {
    name,
    type,
    shape,
    shapeSignature: null,
    buffer,
    quantization: null,
    isVariable: false,
    sparsity: null,
    hasRank: true,
    variantTensors: [],
    externalBuffer: 0,
  };
}

export function tinyGraph(): Graph {
  const weights = new Float32Array(12).map((_, i) => (i - 6) / 8);
  const bias = new Float32Array([0.25, -0.5, 1]);
  return {
    version: 3,
    description: 'litequant test model',
    operatorCodes: [operatorCode(BuiltinOperator.FULLY_CONNECTED, 1), operatorCode(BuiltinOperator.QUANTIZE, 1)],
    subgraphs: [
      {
        name: 'main',
        tensors: [
          { ...tensor('input', [1, 4]), shapeSignature: [-1, 4] },
          tensor('weights', [3, 4], 1),
          tensor('bias', [3], 2),
          tensor('output', [1, 3]),
          {
            ...tensor('output_q', [1, 3], 0, TensorType.INT8),
            quantization: { min: [-2], max: [2], scale: [Math.fround(4 / 255)], zeroPoint: [-1], quantizedDimension: 0, details: null },
          },
        ],
        inputs: [0],
        outputs: [4],
        operators: [
          {
            opcodeIndex: 0,
            inputs: [0, 1, 2],
            outputs: [3],
            intermediates: null,
            builtinOptions: {
              kind: 'FullyConnectedOptions',
              fusedActivationFunction: 1,
              weightsFormat: 0,
              keepNumDims: false,
              asymmetricQuantizeInputs: false,
              quantizedBiasType: 0,
            },
            builtinOptions2: null,
            customOptions: null,
            customOptionsFormat: 0,
            largeCustomOptions: false,
            mutatingVariableInputs: [],
            debugMetadataIndex: -1,
          },
          {
            opcodeIndex: 1,
            inputs: [3],
            outputs: [4],
            intermediates: null,
            builtinOptions: null,
            builtinOptions2: null,
            customOptions: null,
            customOptionsFormat: 0,
            largeCustomOptions: false,
            mutatingVariableInputs: [],
            debugMetadataIndex: -1,
          },
        ],
        debugMetadataIndex: -1,
      },
    ],
    buffers: [
      { data: new Uint8Array(0), external: false },
      { data: bytesOf(weights), external: false },
      { data: bytesOf(bias), external: false },
      { data: new TextEncoder().encode('1.5.0'), external: false },
    ],
    metadata: [{ name: 'min_runtime_version', buffer: 3 }],
    metadataBuffer: [],
    signatureDefs: [
      {
        signatureKey: 'serving_default',
        subgraphIndex: 0,
        inputs: [{ name: 'input', tensorIndex: 0 }],
        outputs: [{ name: 'output', tensorIndex: 4 }],
      },
    ],
    externalBufferGroups: [],
    externalBuffers: [],
  };
}
