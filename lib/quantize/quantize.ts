// quantize(model, options): the quantizer's entry point.
//
// 1. options validated once (resolveOptions); the model read (bytes), taken as a Graph or
//    converted from a tf.LayersModel (lib/tfjs, fromTfjs);
//    a model that is already quantized (int8/uint8/int16 tensors, quantization parameters,
//    DEQUANTIZE ops) is refused.
// 2. int8 / int16x8: calibration (calibrate.ts) runs the float model over options.calibration.
// 3. The mode rewrites a GraphEditor: full-integer.ts (int8, int16x8), float-weights.ts
//    (dynamic, float16, weight-only); editor.build() drops what nothing uses any more.
// 4. The model is written and loaded once in our runtime: a quantized model the runtime cannot
//    run is a quantizer bug, reported as an error naming the operator (unless the runtime has
//    no kernel for that op in any type: then a 'not-verified' diagnostic says so).
// The result carries the bytes, the diagnostics and a report (sizes, per-op and per-tensor
// records, timings). options.signal is checked between phases (and by calibration between
// samples); options.onProgress receives 'calibrate', 'quantize' and 'write' events.
import { expected, InvalidArgumentError, LitequantError, ModelFormatError, UnsupportedOperatorError } from '../errors.js';
import type { Graph } from '../ir/graph.js';
import { OP_COMPILERS } from '../runtime/ops/index.js';
import { loadModel } from '../runtime/session.js';
import { tensorTypeName } from '../tflite/names.js';
import { readModel } from '../tflite/read.js';
import { BuiltinOperator, TensorType } from '../tflite/schema.js';
import { writeModel } from '../tflite/write.js';
import { isTfjsLayersModel, type TfjsLayersModelLike } from '../tfjs/artifacts.js';
import { fromTfjs } from '../tfjs/convert.js';
import { calibrate } from './calibrate.js';
import { quantizeDynamic, quantizeFloat16, quantizeWeightOnly } from './float-weights.js';
import { quantizeFullInteger } from './full-integer.js';
import { builtinName, GraphEditor } from './graph-edit.js';
import { checkAborted, resolveOptions, type ModeOutput } from './options.js';
import type { QuantizeOptions, QuantizeReport, QuantizeResult } from './types.js';

/** Names of the builtin ops our runtime has kernels for. */
const RUNTIME_OPS: ReadonlySet<string> = new Set([...OP_COMPILERS.keys()].map(builtinName));

const QUANTIZED_TYPES: ReadonlySet<number> = new Set([TensorType.INT8, TensorType.UINT8, TensorType.INT16, TensorType.INT4]);

/** Throws when the model is already quantized: integer activations or weights, or DEQUANTIZE ops. */
function refuseQuantized(graph: Graph): void {
  graph.subgraphs.forEach((subgraph, s) => {
    for (const [i, t] of subgraph.tensors.entries()) {
      const quantized = QUANTIZED_TYPES.has(t.type) || (t.quantization !== null && t.quantization.scale.length > 0);
      if (quantized) {
        throw new InvalidArgumentError(
          `Expected a float model for model but received a quantized one: tensor ${i} '${t.name}' of subgraph ${s} is ${tensorTypeName(t.type)}` +
            `${t.quantization !== null && t.quantization.scale.length > 0 ? ' with quantization parameters' : ''} (quantize the float model instead)`,
        );
      }
    }
    for (const [i, op] of subgraph.operators.entries()) {
      const code = graph.operatorCodes[op.opcodeIndex]?.builtinCode;
      if (code === BuiltinOperator.DEQUANTIZE || code === BuiltinOperator.QUANTIZE) {
        throw new InvalidArgumentError(
          `Expected a float model for model but received a quantized one: operator ${i} of subgraph ${s} is ${builtinName(code)} (quantize the float model instead)`,
        );
      }
    }
  });
}

/** Rethrows a failure to load the quantized model in our runtime as a quantizer bug naming the op. */
function loadFailure(error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  const text = `The quantized model does not load in litequant's runtime (a quantizer bug: please report it with the model): ${message}`;
  if (error instanceof UnsupportedOperatorError) return new UnsupportedOperatorError(error.op, error.index, text, { cause: error });
  if (error instanceof InvalidArgumentError) return new InvalidArgumentError(text, { cause: error });
  if (error instanceof LitequantError) return new ModelFormatError(text, { cause: error });
  return new Error(text, { cause: error });
}

/** Quantizes a float TFLite model (bytes or a Graph; or a tf.LayersModel, converted first) by options.mode. */
export async function quantize(model: Uint8Array | Graph | TfjsLayersModelLike, options: QuantizeOptions): Promise<QuantizeResult> {
  const started = performance.now();
  const resolved = resolveOptions(options);
  let graph: Graph;
  let sizeBefore: number;
  if (model instanceof Uint8Array) {
    graph = readModel(model);
    sizeBefore = model.byteLength;
  } else if (model !== null && typeof model === 'object' && Array.isArray((model as Graph).subgraphs)) {
    graph = model as Graph;
    sizeBefore = writeModel(graph).byteLength;
  } else if (isTfjsLayersModel(model)) {
    const bytes = await fromTfjs(model);
    graph = readModel(bytes);
    sizeBefore = bytes.byteLength;
  } else {
    throw expected('a Uint8Array (.tflite bytes), a Graph or a tf.LayersModel', 'model', model);
  }
  refuseQuantized(graph);
  checkAborted(resolved);

  const out: ModeOutput = { diagnostics: [], ops: [], tensors: [] };
  let calibration: QuantizeReport['calibration'] = null;
  const progress = resolved.onProgress;

  if (resolved.mode === 'int8' || resolved.mode === 'int16x8') {
    const result = await calibrate(graph, resolved);
    calibration = { samples: result.samples, method: resolved.method, ms: result.ms };
    checkAborted(resolved);
    progress?.({ phase: 'quantize', done: 0, total: 1 });
    const editor = new GraphEditor(graph);
    quantizeFullInteger(editor, result.ranges, resolved, out, result.intermediates);
    graph = editor.build();
  } else {
    progress?.({ phase: 'quantize', done: 0, total: 1 });
    const editor = new GraphEditor(graph);
    if (resolved.mode === 'dynamic') quantizeDynamic(editor, resolved, out);
    else if (resolved.mode === 'float16') quantizeFloat16(editor, resolved, out);
    else quantizeWeightOnly(editor, resolved, out);
    graph = editor.build();
  }
  progress?.({ phase: 'quantize', done: 1, total: 1 });
  checkAborted(resolved);

  progress?.({ phase: 'write', done: 0, total: 1 });
  const bytes = writeModel(graph);
  try {
    const session = await loadModel(bytes, { worker: false });
    await session.close();
  } catch (error) {
    // An op our runtime has no kernel for at all is not the quantizer's fault: the model is
    // returned unverified, with a note.
    if (!(error instanceof UnsupportedOperatorError) || RUNTIME_OPS.has(error.op)) throw loadFailure(error);
    out.diagnostics.push({
      level: 'info',
      code: 'not-verified',
      message: `The quantized model was not test-loaded: litequant's runtime has no ${error.op} kernel (operator ${error.index} of the quantized model)`,
    });
  }
  progress?.({ phase: 'write', done: 1, total: 1 });

  const report: QuantizeReport = {
    mode: resolved.mode,
    sizeBefore,
    sizeAfter: bytes.byteLength,
    calibration,
    ops: out.ops.sort((a, b) => a.index - b.index),
    tensors: out.tensors,
    elapsedMs: performance.now() - started,
  };
  return { model: bytes, diagnostics: out.diagnostics, report };
}
