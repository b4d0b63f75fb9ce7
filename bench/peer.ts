// The peer: onnxruntime-node on the same shapes, one single-op ONNX model per shape built here
// as protobuf (onnx-proto). Int8 GEMM: MatMulInteger (int8 x int8 -> int32, the activation zero
// point as an input); hybrid GEMM: com.microsoft DynamicQuantizeMatMul (float in, int8 weights,
// float out); int8 conv and depthwise: QLinearConv (group = C for depthwise); float: MatMul and
// Conv; LSTM (lstm.ts): the ONNX LSTM and com.microsoft DynamicQuantizeLSTM on our models'
// weights. The int8 ops also run with uint8 activations (activations: 'uint8'): onnxruntime's x86
// kernels are much faster for u8 x s8 (the pairing its quantizer emits on x86), whose AVX2 path
// multiplies with 16-bit saturation (vpmaddubsw). Weights are initializers, so onnxruntime packs them once at session creation, as we do.
// Times are medians of repeated session.run calls after warm-up; they include onnxruntime's
// Node binding cost per call (measured separately by callOverhead()).
import { createRequire } from 'node:module';

import type { ConvShape, GemmShape, LayerShape } from './shapes.js';
import { convOutputSize } from './shapes.js';

// Both packages are CommonJS; the types come from their declarations.
type Ort = typeof import('onnxruntime-node');
type OnnxProto = typeof import('onnx-proto');
type Onnx = OnnxProto['onnx'];

const require = createRequire(import.meta.url);

export interface Peer {
  readonly version: string;
  /** The peer's time for one call, or a reason it has none for this family. */
  time(family: string, shape: LayerShape, threads: number, budgetSeconds: number, activations?: Activations): Promise<PeerTime>;
  /** Median time of a trivial call (int8 MatMulInteger 1x16x16): the per-call binding cost. */
  callOverhead(): Promise<number>;
  /** A session of onnxruntime's LSTM ('float') or DynamicQuantizeLSTM ('dynamic') on the given weights (lstm.ts times it). */
  lstm(weights: LstmPeerWeights, kind: 'float' | 'dynamic', threads: number): Promise<PeerLstm>;
}

/**
 * One forward LSTM, batch 1, in TFLite's layout: per gate in TFLite's order (input, forget, cell,
 * output), input weights [hidden, input] and recurrent weights [hidden, hidden] row-major, and a
 * bias. `quantized` is the same matrices in int8 with one scale per matrix (our hybrid model's),
 * for DynamicQuantizeLSTM.
 */
export interface LstmPeerWeights {
  readonly time: number;
  readonly input: number;
  readonly hidden: number;
  readonly inputWeights: readonly Float32Array[];
  readonly recurrentWeights: readonly Float32Array[];
  readonly bias: readonly Float32Array[];
  readonly quantized?: {
    readonly inputWeights: readonly Int8Array[];
    readonly inputScales: readonly number[];
    readonly recurrentWeights: readonly Int8Array[];
    readonly recurrentScales: readonly number[];
  };
}

export interface PeerLstm {
  readonly op: string;
  /** x [time, input] -> y [time, hidden] (all steps' h). */
  run(x: Float32Array): Promise<Float32Array>;
  release(): Promise<void>;
}

// ONNX orders the gates i, o, f, c: the TFLite gate (input 0, forget 1, cell 2, output 3) of each.
const ONNX_GATES = [0, 3, 1, 2] as const;

/** The activation type of the int8 ops' models (weights stay int8). */
export type Activations = 'int8' | 'uint8';

/** Whether the family has a uint8-activation variant. */
export function hasUint8Variant(family: string): boolean {
  return family === 'qs8_gemm' || family === 'qs8_conv' || family === 'qs8_dwconv';
}

export type PeerTime =
  | { readonly op: string; readonly seconds: number; readonly runs: number }
  | { readonly op: string | null; readonly skipped: string };

/** Loads onnxruntime-node and onnx-proto; throws with the reason when either is missing. */
export function loadPeer(): Peer {
  const ort = require('onnxruntime-node') as Ort;
  const onnx = (require('onnx-proto') as OnnxProto).onnx;
  return new OrtPeer(ort, onnx);
}

// A deterministic generator (the data does not change the work, but keeps runs comparable).
function fill<T extends Int8Array | Float32Array | Int32Array>(a: T, lo: number, hi: number, seed: number): T {
  let s = seed >>> 0;
  for (let i = 0; i < a.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const u = s / 4294967296;
    a[i] = a instanceof Float32Array ? lo + u * (hi - lo) : Math.floor(lo + u * (hi - lo + 1));
  }
  return a;
}

interface Built {
  readonly op: string;
  readonly model: Uint8Array;
  readonly feeds: (ort: Ort) => Record<string, InstanceType<Ort['Tensor']>>;
}

class OrtPeer implements Peer {
  readonly version: string;

  constructor(
    private readonly ort: Ort,
    private readonly onnx: Onnx,
  ) {
    this.version = ort.env.versions.node ?? ort.env.versions.common;
  }

  private tensor(name: string, type: number, dims: readonly number[], data: ArrayBufferView) {
    return this.onnx.TensorProto.create({
      name,
      dataType: type,
      dims: [...dims],
      rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    });
  }

  private valueInfo(name: string, type: number, dims: readonly number[]) {
    return this.onnx.ValueInfoProto.create({
      name,
      type: { tensorType: { elemType: type, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
    });
  }

  private ints(name: string, values: readonly number[]) {
    return this.onnx.AttributeProto.create({ name, type: this.onnx.AttributeProto.AttributeType.INTS, ints: [...values] });
  }

  private int(name: string, value: number) {
    return this.onnx.AttributeProto.create({ name, type: this.onnx.AttributeProto.AttributeType.INT, i: value });
  }

  private model(
    node: ReturnType<Onnx['NodeProto']['create']>,
    initializers: ReturnType<Onnx['TensorProto']['create']>[],
    inputs: ReturnType<Onnx['ValueInfoProto']['create']>[],
    outputs: ReturnType<Onnx['ValueInfoProto']['create']>[],
  ): Uint8Array {
    const model = this.onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'litequant-bench',
      opsetImport: [
        { domain: '', version: 17 },
        { domain: 'com.microsoft', version: 1 },
      ],
      graph: this.onnx.GraphProto.create({ name: 'bench', node: [node], initializer: initializers, input: inputs, output: outputs }),
    });
    return this.onnx.ModelProto.encode(model).finish();
  }

  private gemm(family: string, s: GemmShape, activations: Activations): Built | string {
    const T = this.onnx.TensorProto.DataType;
    const { M, K, N } = s;
    if (family === 'qs8_gemm') {
      const u8 = activations === 'uint8';
      const b = fill(new Int8Array(K * N), -127, 127, 2);
      const a = u8 ? new Uint8Array(fill(new Int8Array(M * K), -128, 127, 1).buffer) : fill(new Int8Array(M * K), -128, 127, 1);
      const aType = u8 ? T.UINT8 : T.INT8;
      return {
        op: u8 ? 'MatMulInteger u8s8' : 'MatMulInteger',
        model: this.model(
          this.onnx.NodeProto.create({ opType: 'MatMulInteger', input: ['A', 'B', 'a_zero_point'], output: ['Y'] }),
          [this.tensor('B', T.INT8, [K, N], b), this.tensor('a_zero_point', aType, [], new Uint8Array([u8 ? 131 : 3]))],
          [this.valueInfo('A', aType, [M, K])],
          [this.valueInfo('Y', T.INT32, [M, N])],
        ),
        feeds: (ort) => ({ A: u8 ? new ort.Tensor('uint8', a as Uint8Array, [M, K]) : new ort.Tensor('int8', a as Int8Array, [M, K]) }),
      };
    }
    if (family === 'f32_gemm') {
      const b = fill(new Float32Array(K * N), -1, 1, 2);
      const a = fill(new Float32Array(M * K), -1, 1, 1);
      return {
        op: 'MatMul',
        model: this.model(
          this.onnx.NodeProto.create({ opType: 'MatMul', input: ['A', 'B'], output: ['Y'] }),
          [this.tensor('B', T.FLOAT, [K, N], b)],
          [this.valueInfo('A', T.FLOAT, [M, K])],
          [this.valueInfo('Y', T.FLOAT, [M, N])],
        ),
        feeds: (ort) => ({ A: new ort.Tensor('float32', a, [M, K]) }),
      };
    }
    if (family === 'hybrid_gemm') {
      const b = fill(new Int8Array(K * N), -127, 127, 2);
      const a = fill(new Float32Array(M * K), -1, 1, 1);
      const scales = fill(new Float32Array(N), 0.001, 0.01, 3);
      return {
        op: 'DynamicQuantizeMatMul',
        model: this.model(
          this.onnx.NodeProto.create({
            opType: 'DynamicQuantizeMatMul',
            domain: 'com.microsoft',
            input: ['A', 'B', 'b_scale', 'b_zero_point', 'bias'],
            output: ['Y'],
          }),
          [
            this.tensor('B', T.INT8, [K, N], b),
            this.tensor('b_scale', T.FLOAT, [N], scales),
            this.tensor('b_zero_point', T.INT8, [N], new Int8Array(N)),
            this.tensor('bias', T.FLOAT, [N], fill(new Float32Array(N), -1, 1, 4)),
          ],
          [this.valueInfo('A', T.FLOAT, [M, K])],
          [this.valueInfo('Y', T.FLOAT, [M, N])],
        ),
        feeds: (ort) => ({ A: new ort.Tensor('float32', a, [M, K]) }),
      };
    }
    return `no onnxruntime counterpart for ${family}`;
  }

  // ONNX convolution is NCHW: the peer gets [N, C, H, W] input and [OC, C/group, KH, KW] weights,
  // with TFLite's SAME padding written out as explicit pads (extra row/column at the end).
  private conv(family: string, s: ConvShape, activations: Activations): Built | string {
    const T = this.onnx.TensorProto.DataType;
    const group = s.kind === 'dwconv' ? s.C : 1;
    const cPerGroup = s.C / group;
    const { OH, OW } = convOutputSize(s);
    const padsFor = (input: number, out: number, k: number, stride: number, dilation: number): [number, number] => {
      if (s.padding === 'VALID') return [0, 0];
      const total = Math.max(0, (out - 1) * stride + (k - 1) * dilation + 1 - input);
      return [Math.floor(total / 2), total - Math.floor(total / 2)];
    };
    const [pt, pb] = padsFor(s.H, OH, s.KH, s.SH, s.DH);
    const [pl, pr] = padsFor(s.W, OW, s.KW, s.SW, s.DW);
    const attributes = [
      this.ints('kernel_shape', [s.KH, s.KW]),
      this.ints('strides', [s.SH, s.SW]),
      this.ints('dilations', [s.DH, s.DW]),
      this.ints('pads', [pt, pl, pb, pr]),
      this.int('group', group),
    ];
    const xDims = [s.N, s.C, s.H, s.W];
    const wDims = [s.OC, cPerGroup, s.KH, s.KW];
    const yDims = [s.N, s.OC, OH, OW];
    const xSize = s.N * s.C * s.H * s.W;
    const wSize = s.OC * cPerGroup * s.KH * s.KW;
    if (family === 'qs8_conv' || family === 'qs8_dwconv') {
      const u8 = activations === 'uint8';
      const xi = fill(new Int8Array(xSize), -128, 127, 1);
      const aType = u8 ? T.UINT8 : T.INT8;
      return {
        op: u8 ? 'QLinearConv u8s8' : 'QLinearConv',
        model: this.model(
          this.onnx.NodeProto.create({
            opType: 'QLinearConv',
            input: ['x', 'x_scale', 'x_zero_point', 'w', 'w_scale', 'w_zero_point', 'y_scale', 'y_zero_point', 'B'],
            output: ['y'],
            attribute: attributes,
          }),
          [
            this.tensor('x_scale', T.FLOAT, [], new Float32Array([0.02])),
            this.tensor('x_zero_point', aType, [], new Int8Array([u8 ? 123 : -5])),
            this.tensor('w', T.INT8, wDims, fill(new Int8Array(wSize), -127, 127, 2)),
            this.tensor('w_scale', T.FLOAT, [s.OC], fill(new Float32Array(s.OC), 0.001, 0.01, 3)),
            this.tensor('w_zero_point', T.INT8, [s.OC], new Int8Array(s.OC)),
            this.tensor('y_scale', T.FLOAT, [], new Float32Array([0.05])),
            this.tensor('y_zero_point', aType, [], new Int8Array([u8 ? 126 : 2])),
            this.tensor('B', T.INT32, [s.OC], fill(new Int32Array(s.OC), -1000, 1000, 4)),
          ],
          [this.valueInfo('x', aType, xDims)],
          [this.valueInfo('y', aType, yDims)],
        ),
        feeds: (ort) => ({
          x: u8 ? new ort.Tensor('uint8', new Uint8Array(xi.buffer), xDims) : new ort.Tensor('int8', xi, xDims),
        }),
      };
    }
    if (family === 'f32_conv' || family === 'f32_dwconv') {
      const x = fill(new Float32Array(xSize), -1, 1, 1);
      return {
        op: 'Conv',
        model: this.model(
          this.onnx.NodeProto.create({ opType: 'Conv', input: ['x', 'w', 'B'], output: ['y'], attribute: attributes }),
          [
            this.tensor('w', T.FLOAT, wDims, fill(new Float32Array(wSize), -1, 1, 2)),
            this.tensor('B', T.FLOAT, [s.OC], fill(new Float32Array(s.OC), -1, 1, 4)),
          ],
          [this.valueInfo('x', T.FLOAT, xDims)],
          [this.valueInfo('y', T.FLOAT, yDims)],
        ),
        feeds: (ort) => ({ x: new ort.Tensor('float32', x, xDims) }),
      };
    }
    return `no onnxruntime counterpart for ${family}`;
  }

  private session(model: Uint8Array, threads: number) {
    return this.ort.InferenceSession.create(model, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
  }

  private async measure(built: Built, threads: number, budgetSeconds: number): Promise<{ seconds: number; runs: number }> {
    const session = await this.session(built.model, threads);
    try {
      const feeds = built.feeds(this.ort);
      const first = process.hrtime.bigint();
      await session.run(feeds);
      const once = Number(process.hrtime.bigint() - first) * 1e-9;
      // Warm-up: a few calls, fewer when one call is long.
      const warmups = once > budgetSeconds / 4 ? 0 : Math.min(5, Math.floor(budgetSeconds / 4 / Math.max(once, 1e-6)));
      for (let i = 0; i < warmups; i++) await session.run(feeds);
      const times: number[] = [];
      const deadline = process.hrtime.bigint() + BigInt(Math.round(budgetSeconds * 1e9));
      while (times.length < 5 || (process.hrtime.bigint() < deadline && times.length < 2000)) {
        const t0 = process.hrtime.bigint();
        await session.run(feeds);
        times.push(Number(process.hrtime.bigint() - t0) * 1e-9);
        if (times.length >= 3 && once > budgetSeconds) break; // a very large shape: 3 runs are enough
      }
      times.sort((a, b) => a - b);
      return { seconds: times[Math.floor(times.length / 2)] ?? once, runs: times.length };
    } finally {
      await session.release();
    }
  }

  async time(
    family: string,
    shape: LayerShape,
    threads: number,
    budgetSeconds: number,
    activations: Activations = 'int8',
  ): Promise<PeerTime> {
    const built = shape.kind === 'gemm' ? this.gemm(family, shape, activations) : this.conv(family, shape, activations);
    if (typeof built === 'string') return { op: null, skipped: built };
    try {
      return { op: built.op, ...(await this.measure(built, threads, budgetSeconds)) };
    } catch (error) {
      return { op: built.op, skipped: `onnxruntime failed: ${(error as Error).message.split('\n')[0]}` };
    }
  }

  // ONNX LSTM: W [1, 4H, I] and R [1, 4H, H] are the gate matrices stacked in i, o, f, c order,
  // B [1, 8H] the input biases then the recurrent ones (zero here). DynamicQuantizeLSTM takes them
  // transposed, W [1, I, 4H] and R [1, H, 4H], with a scale per column ([1, 4H]: each gate's own).
  async lstm(w: LstmPeerWeights, kind: 'float' | 'dynamic', threads: number): Promise<PeerLstm> {
    const T = this.onnx.TensorProto.DataType;
    const { time, input: I, hidden: H } = w;
    const bias = new Float32Array(8 * H);
    ONNX_GATES.forEach((g, k) => bias.set(w.bias[g] as Float32Array, k * H));
    const stacked = (mats: readonly Float32Array[], cols: number): Float32Array => {
      const out = new Float32Array(4 * H * cols);
      ONNX_GATES.forEach((g, k) => out.set(mats[g] as Float32Array, k * H * cols));
      return out;
    };
    const transposed = (mats: readonly Int8Array[], cols: number): Int8Array => {
      const out = new Int8Array(cols * 4 * H);
      ONNX_GATES.forEach((g, k) => {
        const m = mats[g] as Int8Array;
        for (let j = 0; j < H; j++) for (let c = 0; c < cols; c++) out[c * 4 * H + k * H + j] = m[j * cols + c] as number;
      });
      return out;
    };
    const perColumn = (scales: readonly number[]): Float32Array => {
      const out = new Float32Array(4 * H);
      ONNX_GATES.forEach((g, k) => out.fill(scales[g] as number, k * H, (k + 1) * H));
      return out;
    };
    const attribute = [this.int('hidden_size', H)];
    const xInfo = [this.valueInfo('X', T.FLOAT, [time, 1, I])];
    const yInfo = [this.valueInfo('Y', T.FLOAT, [time, 1, 1, H])];
    let op: string;
    let model: Uint8Array;
    if (kind === 'float') {
      op = 'LSTM';
      model = this.model(
        this.onnx.NodeProto.create({ opType: 'LSTM', input: ['X', 'W', 'R', 'B'], output: ['Y'], attribute }),
        [
          this.tensor('W', T.FLOAT, [1, 4 * H, I], stacked(w.inputWeights, I)),
          this.tensor('R', T.FLOAT, [1, 4 * H, H], stacked(w.recurrentWeights, H)),
          this.tensor('B', T.FLOAT, [1, 8 * H], bias),
        ],
        xInfo,
        yInfo,
      );
    } else {
      const q = w.quantized;
      if (q === undefined) throw new Error('Expected int8 weights (quantized) for DynamicQuantizeLSTM but received none');
      op = 'DynamicQuantizeLSTM';
      model = this.model(
        this.onnx.NodeProto.create({
          opType: 'DynamicQuantizeLSTM',
          domain: 'com.microsoft',
          input: ['X', 'W', 'R', 'B', '', '', '', '', 'W_scale', 'W_zero_point', 'R_scale', 'R_zero_point'],
          output: ['Y'],
          attribute,
        }),
        [
          this.tensor('W', T.INT8, [1, I, 4 * H], transposed(q.inputWeights, I)),
          this.tensor('R', T.INT8, [1, H, 4 * H], transposed(q.recurrentWeights, H)),
          this.tensor('B', T.FLOAT, [1, 8 * H], bias),
          this.tensor('W_scale', T.FLOAT, [1, 4 * H], perColumn(q.inputScales)),
          this.tensor('W_zero_point', T.INT8, [1, 4 * H], new Int8Array(4 * H)),
          this.tensor('R_scale', T.FLOAT, [1, 4 * H], perColumn(q.recurrentScales)),
          this.tensor('R_zero_point', T.INT8, [1, 4 * H], new Int8Array(4 * H)),
        ],
        xInfo,
        yInfo,
      );
    }
    const session = await this.session(model, threads);
    const ort = this.ort;
    return {
      op,
      async run(x: Float32Array): Promise<Float32Array> {
        const out = await session.run({ X: new ort.Tensor('float32', x, [time, 1, I]) });
        return out['Y']?.data as Float32Array;
      },
      release: () => session.release(),
    };
  }

  async callOverhead(): Promise<number> {
    const built = this.gemm('qs8_gemm', { kind: 'gemm', M: 1, K: 16, N: 16 }, 'int8');
    if (typeof built === 'string') return NaN;
    return (await this.measure(built, 1, 0.2)).seconds;
  }
}
