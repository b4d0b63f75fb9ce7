// A structured description of a graph: what `litequant inspect` prints and --json emits.
import { builtinOperatorName, tensorTypeName } from '../tflite/names.js';
import { BuiltinOperator } from '../tflite/schema.js';
import { tensorTypeBits, type Graph, type Quantization, type Tensor } from './graph.js';

export interface QuantizationSummary {
  /** One entry per tensor, or per channel along `axis`. */
  readonly scale: readonly number[];
  readonly zeroPoint: readonly number[];
  readonly axis: number | null;
}

export interface TensorSummary {
  readonly index: number;
  readonly name: string;
  readonly dtype: string;
  /** The shape with -1 where shape_signature marks a dynamic dimension. */
  readonly shape: readonly number[];
  readonly quantization: QuantizationSummary | null;
  readonly constant: boolean;
  readonly variable: boolean;
  readonly bytes: number;
}

export interface OpCount {
  readonly op: string;
  readonly version: number;
  readonly count: number;
}

export interface SubgraphSummary {
  readonly index: number;
  readonly name: string;
  readonly inputs: readonly TensorSummary[];
  readonly outputs: readonly TensorSummary[];
  readonly operators: number;
  readonly tensors: readonly TensorSummary[];
}

export interface ModelSummary {
  readonly description: string;
  readonly version: number;
  readonly ops: readonly OpCount[];
  readonly subgraphs: readonly SubgraphSummary[];
  readonly signatures: readonly { key: string; subgraph: number; inputs: string[]; outputs: string[] }[];
  /** Constant (weight) elements and bytes per dtype, over all subgraphs. */
  readonly parameters: { readonly count: number; readonly bytes: number; readonly byType: Readonly<Record<string, { count: number; bytes: number }>> };
  readonly buffers: number;
}

function quantSummary(q: Quantization | null): QuantizationSummary | null {
  if (q === null || q.scale.length === 0) return null;
  return { scale: q.scale, zeroPoint: q.zeroPoint, axis: q.scale.length > 1 ? q.quantizedDimension : null };
}

function elementCount(t: Tensor): number {
  return t.shape.reduce((a, b) => a * b, 1);
}

export function summarize(graph: Graph): ModelSummary {
  const opCounts = new Map<string, OpCount>();
  const byType: Record<string, { count: number; bytes: number }> = {};
  let paramCount = 0;
  let paramBytes = 0;

  const subgraphs = graph.subgraphs.map((sg, sgIndex): SubgraphSummary => {
    for (const op of sg.operators) {
      const code = graph.operatorCodes[op.opcodeIndex];
      const name =
        code === undefined
          ? '?'
          : code.builtinCode === BuiltinOperator.CUSTOM
            ? `CUSTOM(${code.customCode})`
            : builtinOperatorName(code.builtinCode);
      const version = code?.version ?? 0;
      const key = `${name}\u0000${version}`;
      const prev = opCounts.get(key);
      opCounts.set(key, { op: name, version, count: (prev?.count ?? 0) + 1 });
    }
    const tensors = sg.tensors.map((t, index): TensorSummary => {
      const data = graph.buffers[t.buffer]?.data;
      const constant = data !== undefined && data.length > 0;
      const bytes = constant ? data.length : Math.ceil((elementCount(t) * tensorTypeBits(t.type)) / 8);
      if (constant && !t.isVariable) {
        const dtype = tensorTypeName(t.type);
        const entry = (byType[dtype] ??= { count: 0, bytes: 0 });
        entry.count += elementCount(t);
        entry.bytes += data.length;
        paramCount += elementCount(t);
        paramBytes += data.length;
      }
      return {
        index,
        name: t.name,
        dtype: tensorTypeName(t.type),
        shape: t.shapeSignature && t.shapeSignature.length === t.shape.length ? t.shapeSignature : t.shape,
        quantization: quantSummary(t.quantization),
        constant,
        variable: t.isVariable,
        bytes,
      };
    });
    const pick = (ids: readonly number[]) => ids.flatMap((i) => (tensors[i] ? [tensors[i]] : []));
    return {
      index: sgIndex,
      name: sg.name,
      inputs: pick(sg.inputs),
      outputs: pick(sg.outputs),
      operators: sg.operators.length,
      tensors,
    };
  });

  return {
    description: graph.description,
    version: graph.version,
    ops: [...opCounts.values()].sort((a, b) => b.count - a.count || a.op.localeCompare(b.op)),
    subgraphs,
    signatures: (graph.signatureDefs ?? []).map((s) => ({
      key: s.signatureKey,
      subgraph: s.subgraphIndex,
      inputs: s.inputs.map((m) => m.name),
      outputs: s.outputs.map((m) => m.name),
    })),
    parameters: { count: paramCount, bytes: paramBytes, byType },
    buffers: graph.buffers.length,
  };
}
