// Child process of bench/runtime.ts: times .tflite models in the official runtime, LiteRT.js
// (@litertjs/core) compiled to WebAssembly. Its own process because a malformed or unsupported
// model can abort the whole WASM instance; the parent starts another one for the next model.
//
// Request (one at a time): { id, model: Uint8Array, inputNames, outputNames (signature names in
//   subgraph-0 order), samples: Uint8Array[][] (bytes of each input, subgraph-0 order; cycled),
//   warmupSeconds, seconds, minRuns, maxRuns }
// Reply: { id, ok: true, build, threads, xnnpack, pinnedDims, instantiateMs, loadMs (model load
//   and compile), firstMs, times (ms, one per timed run), outputs (bytes of each output, sample 0) }
//   | { id, ok: false, stage, message }, after which the process exits.
//
// The build is the one LiteRT.js itself picks on this Node (its load(): the relaxed-SIMD build
// when the engine validates relaxed SIMD, else "compat"), the thread count its default
// (`getThreadCount()`), the CPU accelerator with its default delegate, XNNPACK. A -1 in a
// tensor's shape_signature is overwritten in place with the static size (LiteRT cannot size the
// buffers of a -1 batch): same bytes otherwise. Timed runs follow a warm-up; run.ts starts this
// process with --no-liftoff so that every WASM function is already optimized (TurboFan).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import vm from 'node:vm';

const require = createRequire(import.meta.url);
const log = [];
const logLine = (text) => log.push(String(text));

class StageError extends Error {
  constructor(stage, message) {
    super(message);
    this.stage = stage;
  }
}

// A logged "ERROR:" line is a failure even when the call returned.
async function stage(name, fn) {
  const since = log.length;
  let value;
  try {
    value = await fn();
  } catch (error) {
    throw error instanceof StageError ? error : new StageError(name, error instanceof Error ? error.message : String(error));
  }
  const errors = log.slice(since).filter((line) => /^\W*ERROR:/.test(line));
  if (errors.length > 0) throw new StageError(name, errors.join(' | '));
  return value;
}

// A module whose one function uses i32x4.relaxed_trunc_f32x4_s (0xfd 0x101): valid only where
// the engine has relaxed SIMD.
const RELAXED_SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type section: () -> v128
  0x03, 0x02, 0x01, 0x00, // function section
  0x0a, 0x19, 0x01, 0x17, 0x00, // code section, one body, no locals
  0xfd, 0x0c, ...new Array(16).fill(0), // v128.const 0
  0xfd, 0x81, 0x02, // i32x4.relaxed_trunc_f32x4_s
  0x0b, // end
]);

// ---- the few flatbuffer fields the pinning needs (schema.fbs: Model.subgraphs = 2,
// SubGraph.tensors = 0, Tensor.shape = 0, Tensor.shape_signature = 7) ----

function pinShapeSignatures(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u32 = (at) => view.getUint32(at, true);
  const field = (table, id) => {
    const vtable = table - view.getInt32(table, true);
    const slot = 4 + 2 * id;
    if (slot >= view.getUint16(vtable, true)) return 0;
    const offset = view.getUint16(vtable + slot, true);
    return offset === 0 ? 0 : table + offset;
  };
  const vector = (table, id) => {
    const at = field(table, id);
    if (at === 0) return { start: 0, length: 0 };
    const v = at + u32(at);
    return { start: v + 4, length: u32(v) };
  };
  const tables = (table, id) => {
    const { start, length } = vector(table, id);
    return Array.from({ length }, (_, i) => start + 4 * i + u32(start + 4 * i));
  };
  let pinned = 0;
  for (const subgraph of tables(u32(0), 2)) {
    for (const tensor of tables(subgraph, 0)) {
      const shape = vector(tensor, 0);
      const signature = vector(tensor, 7);
      if (signature.length !== shape.length) continue;
      for (let k = 0; k < shape.length; k++) {
        const dim = view.getInt32(signature.start + 4 * k, true);
        const fixed = view.getInt32(shape.start + 4 * k, true);
        if (dim === -1 && fixed > 0) {
          view.setInt32(signature.start + 4 * k, fixed, true);
          pinned++;
        }
      }
    }
  }
  return pinned;
}

function loadGlue(file, exportName, locals) {
  const names = Object.keys(locals);
  const wrapper = vm.runInThisContext(`(function (${names.join(', ')}) {\n${readFileSync(file, 'utf8')}\nreturn ${exportName};\n})`, {
    filename: file,
  });
  return wrapper(...names.map((n) => locals[n]));
}

function vectorToArray(vector) {
  const out = [];
  for (let i = 0; i < vector.size(); i++) out.push(vector.get(i));
  vector.delete();
  return out;
}

// The WASM instance, created on the first request and kept for the next ones (its compile is
// most of a request's time; a failed request ends the process, so no request sees a broken one).
let instance = null;

async function instantiate() {
  const relaxed = WebAssembly.validate(RELAXED_SIMD_PROBE);
  const build = relaxed ? 'litert_wasm_internal' : 'litert_wasm_compat_internal';
  const wasmDir = join(dirname(require.resolve('@litertjs/core/package.json')), 'wasm');
  const file = join(wasmDir, `${build}.js`);
  const t0 = performance.now();
  const factory = loadGlue(file, 'ModuleFactory', { require, __dirname: wasmDir, __filename: file });
  const wasm = await stage('instantiate', () => factory({ print: logLine, printErr: logLine }));
  wasm.setupLogging();
  const env = wasm.LiteRtEnvironment.create(null);
  return { wasm, env, build, instantiateMs: performance.now() - t0 };
}

/** Runtime positions of the names given in subgraph-0 order; by position when they do not match. */
function matchOrder(runtimeNames, names) {
  const order = names.map((name) => runtimeNames.indexOf(name));
  const ok = order.length === runtimeNames.length && order.every((i) => i >= 0) && new Set(order).size === order.length;
  return ok ? order : runtimeNames.map((_, i) => i);
}

async function bench(request) {
  instance ??= await instantiate();
  const { wasm, env, build, instantiateMs } = instance;
  const since = log.length;
  const model = new Uint8Array(request.model); // a copy: pinned in place
  let pinnedDims = 0;
  try {
    pinnedDims = pinShapeSignatures(model);
  } catch {
    // Not a flatbuffer we can walk: the runtime gets the bytes as they are and reports.
  }

  const t0 = performance.now();
  const modelPtr = wasm._malloc(model.length);
  wasm.HEAPU8.set(model, modelPtr);
  const loaded = await stage('load', () => wasm.loadModel(env, modelPtr, model.length));
  if (loaded.getNumSignatures() < 1) throw new StageError('load', 'the model has no signature');
  const signature = loaded.getSignature(0);
  const inputNames = vectorToArray(signature.inputNames());
  const outputNames = vectorToArray(signature.outputNames());
  const inputOrder = matchOrder(inputNames, request.inputNames);
  const outputOrder = matchOrder(outputNames, request.outputNames);
  const threads = wasm.getThreadCount();
  const compiled = await stage('compile', () =>
    wasm.compileModel(env, loaded, { accelerator: 'wasm', cpuOptions: { numThreads: threads }, gpuOptions: {}, webNNOptions: {} }),
  );
  const { HOST_MEMORY } = wasm.LiteRtTensorBufferType;
  const { READ, WRITE } = wasm.LiteRtTensorBufferLockMode;
  const buffers = await stage('compile', () =>
    inputNames.map((_, i) => {
      const type = loaded.getInputTensorType(0, i);
      return wasm.LiteRtTensorBuffer.createManaged(env, HOST_MEMORY, type, type.bytes());
    }),
  );
  const loadMs = performance.now() - t0;

  for (const [s, sample] of request.samples.entries()) {
    if (sample.length !== inputNames.length) {
      throw new StageError('input', `sample ${s} has ${sample.length} inputs, the runtime's signature ${inputNames.length}`);
    }
    sample.forEach((bytes, c) => {
      const size = buffers[inputOrder[c]].packedSize();
      if (bytes.length !== size) throw new StageError('input', `sample ${s} input ${c}: ${bytes.length} bytes, the runtime's tensor ${size}`);
    });
  }

  // One inference as a user makes it: inputs written, run, outputs copied out.
  let next = 0;
  const infer = () => {
    const sample = request.samples[next];
    next = (next + 1) % request.samples.length;
    sample.forEach((bytes, c) => {
      const buffer = buffers[inputOrder[c]];
      const ptr = buffer.lock(WRITE);
      wasm.HEAPU8.set(bytes, ptr);
      buffer.unlock();
    });
    const outputs = compiled.run(0, buffers);
    const copies = outputs.map((buffer) => {
      const ptr = buffer.lock(READ);
      const copy = wasm.HEAPU8.slice(ptr, ptr + buffer.packedSize());
      buffer.unlock();
      buffer.delete();
      return copy;
    });
    return outputOrder.map((i) => copies[i]);
  };

  const t1 = performance.now();
  const outputs = await stage('run', infer);
  const firstMs = performance.now() - t1;

  const warmEnd = performance.now() + request.warmupSeconds * 1000;
  do infer();
  while (performance.now() < warmEnd);
  const times = [];
  const end = performance.now() + request.seconds * 1000;
  while (times.length < request.maxRuns && (times.length < request.minRuns || performance.now() < end)) {
    const a = performance.now();
    infer();
    times.push(performance.now() - a);
  }
  const errors = log.slice(since).filter((line) => /^\W*ERROR:/.test(line));
  if (errors.length > 0) throw new StageError('run', errors.join(' | '));

  for (const buffer of buffers) buffer.delete();
  compiled.delete();
  loaded.delete();
  wasm._free(modelPtr);
  return {
    build,
    threads,
    xnnpack: log.some((line) => /XNNPACK delegate/i.test(line)),
    pinnedDims,
    instantiateMs,
    loadMs,
    firstMs,
    times,
    outputs,
  };
}

// One request at a time (the parent waits for each reply). After a failure the process exits.
let current = null;
function fail(error) {
  const message = { id: current, ok: false, stage: error instanceof StageError ? error.stage : 'crash', message: error?.message ?? String(error) };
  process.send(message, () => process.exit(1));
}
process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);
process.on('disconnect', () => process.exit(1));
process.on('message', (request) => {
  current = request.id;
  bench(request).then((result) => process.send({ id: request.id, ok: true, ...result }), fail);
});
