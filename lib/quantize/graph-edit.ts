// A mutable copy of subgraph 0 for the quantizer's rewrites: tensors, operators and buffers can
// be changed, added and inserted; build() drops what nothing uses any more (tensors, buffers,
// operator codes), renumbers the references (operators, inputs/outputs, signatures) and
// returns a new Graph. The source Graph is never modified.
import { InvalidArgumentError, ModelFormatError } from '../errors.js';
import { operatorCode, type Graph, type ModelBuffer, type Operator, type OperatorCode, type Quantization, type Tensor } from '../ir/graph.js';
import { BuiltinOperator, TensorType } from '../tflite/schema.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
export type EditableTensor = Mutable<Tensor>;
export type EditableOperator = Mutable<Operator>;

const OP_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(BuiltinOperator).map(([name, code]) => [code as number, name]),
);

export function builtinName(code: number): string {
  return OP_NAMES.get(code) ?? `builtin ${code}`;
}

type Data = Float32Array | Int8Array | Uint8Array | Int16Array | Int32Array | BigInt64Array | Uint16Array;

export class GraphEditor {
  readonly source: Graph;
  readonly tensors: EditableTensor[];
  readonly operators: EditableOperator[];
  readonly inputs: number[];
  readonly outputs: number[];
  readonly buffers: ModelBuffer[];
  readonly operatorCodes: OperatorCode[];

  constructor(graph: Graph) {
    if (graph.subgraphs.length !== 1) {
      throw new InvalidArgumentError(
        `Expected a model with one subgraph (control flow is not supported by the quantizer) but received ${graph.subgraphs.length} subgraphs`,
      );
    }
    const subgraph = graph.subgraphs[0]!;
    this.source = graph;
    this.tensors = subgraph.tensors.map((t) => ({ ...t }));
    this.operators = subgraph.operators.map((op) => ({ ...op, inputs: [...op.inputs], outputs: [...op.outputs] }));
    this.inputs = [...subgraph.inputs];
    this.outputs = [...subgraph.outputs];
    this.buffers = [...graph.buffers];
    this.operatorCodes = [...graph.operatorCodes];
  }

  /** The builtin code of operator `i`. */
  code(i: number): number {
    const op = this.operators[i];
    const code = op === undefined ? undefined : this.operatorCodes[op.opcodeIndex];
    if (code === undefined) throw new ModelFormatError(`operator ${i}: opcode index out of range`);
    return code.builtinCode;
  }

  opName(i: number): string {
    return builtinName(this.code(i));
  }

  tensor(i: number): EditableTensor {
    const t = this.tensors[i];
    if (t === undefined) throw new ModelFormatError(`tensor index ${i} out of range (${this.tensors.length} tensors)`);
    return t;
  }

  /** True when the tensor holds constant data (a weight, a bias, a shape). */
  isConstant(i: number): boolean {
    const t = this.tensor(i);
    return !t.isVariable && (this.buffers[t.buffer]?.data.length ?? 0) > 0 && this.producer(i) === null;
  }

  /** The constant's bytes copied into an aligned array of its element type. */
  constantData<T extends Data>(i: number, kind: new (buffer: ArrayBuffer) => T): T {
    const bytes = this.buffers[this.tensor(i).buffer]?.data ?? new Uint8Array(0);
    const copy = new Uint8Array(bytes.length);
    copy.set(bytes);
    return new kind(copy.buffer);
  }

  /** The operator that writes tensor `i`, or null. */
  producer(i: number): number | null {
    const index = this.operators.findIndex((op) => op.outputs.includes(i));
    return index < 0 ? null : index;
  }

  /** Every (operator, input slot) that reads tensor `i`. */
  consumers(i: number): { op: number; slot: number }[] {
    const uses: { op: number; slot: number }[] = [];
    this.operators.forEach((op, index) => op.inputs.forEach((t, slot) => t === i && uses.push({ op: index, slot })));
    return uses;
  }

  /** A new buffer holding a copy of `data`'s bytes; returns its index. */
  addBuffer(data: Data): number {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
    return this.buffers.push({ data: bytes, external: false }) - 1;
  }

  /** Appends a tensor; with `data`, a constant in a new buffer. Returns its index. */
  addTensor(spec: {
    name: string;
    type: TensorType;
    shape: readonly number[];
    shapeSignature?: readonly number[] | null;
    quantization?: Quantization | null;
    data?: Data;
  }): number {
    return (
      this.tensors.push({
        name: spec.name,
        type: spec.type,
        shape: [...spec.shape],
        shapeSignature: spec.shapeSignature ? [...spec.shapeSignature] : null,
        buffer: spec.data === undefined ? 0 : this.addBuffer(spec.data),
        quantization: spec.quantization ?? null,
        isVariable: false,
        sparsity: null,
        hasRank: true,
        variantTensors: [],
        externalBuffer: 0,
      }) - 1
    );
  }

  /** Gives tensor `i` new constant data (a new buffer; the old one is dropped when unused). */
  setData(i: number, type: TensorType, data: Data): void {
    const t = this.tensor(i);
    t.type = type;
    t.buffer = this.addBuffer(data);
  }

  /** The index of the operator code (code, version), added when missing. */
  opcode(code: BuiltinOperator, version = 1): number {
    const found = this.operatorCodes.findIndex((c) => c.builtinCode === code && c.version === version && c.customCode === '');
    return found >= 0 ? found : this.operatorCodes.push(operatorCode(code, version)) - 1;
  }

  /** Sets operator `i`'s version (its code entry is shared, so a new one is used). */
  setVersion(i: number, version: number): void {
    const op = this.operators[i]!;
    const code = this.operatorCodes[op.opcodeIndex]!;
    if (code.version === version) return;
    if (code.customCode !== '') throw new InvalidArgumentError(`Expected a builtin operator for operator ${i} but received CUSTOM ${code.customCode}`);
    op.opcodeIndex = this.opcode(code.builtinCode, version);
  }

  /** Inserts an operator before position `at` (default: the end); returns its index. */
  insertOperator(code: BuiltinOperator, inputs: number[], outputs: number[], at = this.operators.length, version = 1): number {
    this.operators.splice(at, 0, {
      opcodeIndex: this.opcode(code, version),
      inputs,
      outputs,
      intermediates: null,
      builtinOptions: null,
      builtinOptions2: null,
      customOptions: null,
      customOptionsFormat: 0,
      largeCustomOptions: false,
      mutatingVariableInputs: [],
      debugMetadataIndex: -1,
    });
    return at;
  }

  /** Every reader of `from` (operators and graph outputs) reads `to` instead. */
  replaceUses(from: number, to: number, options: { operators?: boolean; graphOutputs?: boolean } = {}): void {
    if (options.operators ?? true) {
      for (const op of this.operators) op.inputs = op.inputs.map((t) => (t === from ? to : t));
    }
    if (options.graphOutputs ?? true) {
      for (let k = 0; k < this.outputs.length; k++) if (this.outputs[k] === from) this.outputs[k] = to;
    }
  }

  /** The edited model: unused tensors, buffers and operator codes removed, indices renumbered. */
  build(): Graph {
    const usedTensors = new Set<number>([...this.inputs, ...this.outputs]);
    for (const op of this.operators) {
      for (const t of [...op.inputs, ...op.outputs, ...(op.intermediates ?? [])]) if (t >= 0) usedTensors.add(t);
    }
    const tensorMap = new Map<number, number>();
    const tensors: Tensor[] = [];
    this.tensors.forEach((t, i) => {
      if (usedTensors.has(i)) tensorMap.set(i, tensors.push(t) - 1);
    });
    const remapT = (i: number): number => (i < 0 ? i : tensorMap.get(i)!);

    // Buffer 0 stays the empty sentinel; metadata buffers are kept.
    const usedBuffers = new Set<number>([0, ...this.source.metadata.map((m) => m.buffer)]);
    for (const t of tensors) usedBuffers.add(t.buffer);
    const bufferMap = new Map<number, number>();
    const buffers: ModelBuffer[] = [];
    this.buffers.forEach((b, i) => {
      if (usedBuffers.has(i)) bufferMap.set(i, buffers.push(b) - 1);
    });

    const usedCodes = new Set(this.operators.map((op) => op.opcodeIndex));
    const codeMap = new Map<number, number>();
    const operatorCodes: OperatorCode[] = [];
    this.operatorCodes.forEach((c, i) => {
      if (usedCodes.has(i)) codeMap.set(i, operatorCodes.push(c) - 1);
    });

    const signatureDefs =
      this.source.signatureDefs?.map((s) => ({
        ...s,
        inputs: s.inputs.filter((m) => tensorMap.has(m.tensorIndex)).map((m) => ({ ...m, tensorIndex: remapT(m.tensorIndex) })),
        outputs: s.outputs.filter((m) => tensorMap.has(m.tensorIndex)).map((m) => ({ ...m, tensorIndex: remapT(m.tensorIndex) })),
      })) ?? null;

    const subgraph = this.source.subgraphs[0]!;
    return {
      ...this.source,
      operatorCodes,
      buffers,
      metadata: this.source.metadata.map((m) => ({ ...m, buffer: bufferMap.get(m.buffer)! })),
      metadataBuffer: this.source.metadataBuffer.filter((b) => bufferMap.has(b)).map((b) => bufferMap.get(b)!),
      signatureDefs,
      subgraphs: [
        {
          ...subgraph,
          tensors: tensors.map((t) => ({ ...t, buffer: bufferMap.get(t.buffer) ?? 0 })),
          inputs: this.inputs.map(remapT),
          outputs: this.outputs.map(remapT),
          operators: this.operators.map((op) => ({
            ...op,
            opcodeIndex: codeMap.get(op.opcodeIndex)!,
            inputs: op.inputs.map(remapT),
            outputs: op.outputs.map(remapT),
            intermediates: op.intermediates?.map(remapT) ?? null,
          })),
        },
      ],
    };
  }
}
