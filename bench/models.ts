// The layer shapes of the shared models (../shared/models/*.tflite): every CONV_2D,
// DEPTHWISE_CONV_2D and FULLY_CONNECTED, with the element types that decide which kernel family
// runs it (int8 -> qs8_*, float -> f32_*, int8 weights with float input -> hybrid_gemm,
// int16 activations -> qs16_gemm).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

import { BuiltinOperator, Padding, TensorType, readModel } from 'litequant';
import type { Graph, Subgraph } from 'litequant';

import type { ConvShape, GemmShape, LayerShape } from './shapes.js';

export interface ModelLayer {
  readonly model: string;
  readonly subgraph: number;
  readonly operator: number;
  readonly op: 'CONV_2D' | 'DEPTHWISE_CONV_2D' | 'FULLY_CONNECTED';
  readonly dtype: 'int8' | 'f32' | 'hybrid' | 'int16x8' | 'other';
  readonly shape: LayerShape;
}

export interface ModelScan {
  readonly dir: string;
  readonly layers: readonly ModelLayer[];
  /** Files or layers that were left out, and why. */
  readonly notes: readonly string[];
}

function modelFiles(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.tflite')) found.push(path);
    }
  };
  walk(dir);
  return found.sort();
}

function dtypeOf(input: TensorType | undefined, filter: TensorType | undefined): ModelLayer['dtype'] {
  if (filter === TensorType.FLOAT32 || filter === TensorType.FLOAT16) {
    return input === TensorType.FLOAT32 || input === TensorType.FLOAT16 ? 'f32' : 'other';
  }
  if (filter === TensorType.INT8) {
    if (input === TensorType.INT8) return 'int8';
    if (input === TensorType.FLOAT32) return 'hybrid';
    if (input === TensorType.INT16) return 'int16x8';
  }
  return 'other';
}

function layersOf(model: string, graph: Graph, notes: string[]): ModelLayer[] {
  const layers: ModelLayer[] = [];
  graph.subgraphs.forEach((sg: Subgraph, s: number) => {
    sg.operators.forEach((op, o) => {
      const code = graph.operatorCodes[op.opcodeIndex]?.builtinCode;
      const name =
        code === BuiltinOperator.CONV_2D
          ? 'CONV_2D'
          : code === BuiltinOperator.DEPTHWISE_CONV_2D
            ? 'DEPTHWISE_CONV_2D'
            : code === BuiltinOperator.FULLY_CONNECTED
              ? 'FULLY_CONNECTED'
              : undefined;
      if (name === undefined) return;
      const input = sg.tensors[op.inputs[0] ?? -1];
      const filter = sg.tensors[op.inputs[1] ?? -1];
      const output = sg.tensors[op.outputs[0] ?? -1];
      if (!input || !filter || !output) {
        notes.push(`${model}: ${name} #${o} lacks an input, filter or output tensor: skipped`);
        return;
      }
      const dtype = dtypeOf(input.type, filter.type);
      const where = { model, subgraph: s, operator: o, op: name, dtype } as const;
      if (name === 'FULLY_CONNECTED') {
        const [N, K] = filter.shape;
        const elements = input.shape.reduce((a, b) => a * b, 1);
        if (N === undefined || K === undefined || K <= 0 || elements % K !== 0) {
          notes.push(`${model}: FULLY_CONNECTED #${o} has filter [${filter.shape.join(', ')}] and input [${input.shape.join(', ')}]: skipped`);
          return;
        }
        const shape: GemmShape = { kind: 'gemm', M: elements / K, K, N };
        layers.push({ ...where, shape });
        return;
      }
      const [batch, H, W, C] = input.shape;
      const [, KH, KW] = filter.shape;
      const OC = output.shape[3];
      const options = op.builtinOptions;
      if (
        batch === undefined || H === undefined || W === undefined || C === undefined ||
        KH === undefined || KW === undefined || OC === undefined || options === null ||
        (options.kind !== 'Conv2DOptions' && options.kind !== 'DepthwiseConv2DOptions')
      ) {
        notes.push(`${model}: ${name} #${o} has unexpected shapes or options: skipped`);
        return;
      }
      const shape: ConvShape = {
        kind: name === 'CONV_2D' ? 'conv' : 'dwconv',
        N: batch,
        H,
        W,
        C,
        OC,
        KH,
        KW,
        SH: options.strideH,
        SW: options.strideW,
        DH: options.dilationHFactor,
        DW: options.dilationWFactor,
        padding: options.padding === Padding.VALID ? 'VALID' : 'SAME',
      };
      layers.push({ ...where, shape });
    });
  });
  return layers;
}

/** Reads every model under dir; a model that fails to parse is noted and skipped. */
export function scanModels(dir: string): ModelScan {
  const notes: string[] = [];
  if (!existsSync(dir)) {
    return { dir, layers: [], notes: [`${dir} is absent (the shared models are not in this checkout): model layer shapes skipped`] };
  }
  const layers: ModelLayer[] = [];
  for (const file of modelFiles(dir)) {
    const model = basename(file, '.tflite');
    try {
      layers.push(...layersOf(model, readModel(new Uint8Array(readFileSync(file))), notes));
    } catch (error) {
      notes.push(`${model}: ${(error as Error).message}: skipped`);
    }
  }
  return { dir, layers, notes };
}
