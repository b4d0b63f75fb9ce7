// Faster CPU-backend kernels for scripts/train-example.mjs.
//
// @tensorflow/tfjs's pure JavaScript CPU backend computes convolution gradients element by element
// through TensorBuffer.get/set, and reductions over leading axes through a full transpose: training
// the example CNN would take over ten minutes. installFastKernels(tf) replaces, for the cases the
// example uses (float32, NHWC, no dilation), Conv2D, Conv2DBackpropInput, Conv2DBackpropFilter,
// MaxPoolGrad and Sum over leading axes with typed-array loops written for this project: a
// convolution reads each output pixel's input patch once into a contiguous array and works on
// filter rows [outChannels][K]; the gradients skip zero output gradients (most are, after ReLU
// and max pooling). Every other case goes to the backend's own kernel. Before it returns, each
// replacement is checked against the original on random data (within 1e-4).

/** A kernel that returns null declines a case: the original kernel runs it. */
function replaceKernel(tf, kernelName, fast, restore) {
  const original = tf.getKernel(kernelName, 'cpu');
  if (original === undefined) throw new Error(`the CPU backend has no ${kernelName} kernel`);
  tf.unregisterKernel(kernelName, 'cpu');
  tf.registerKernel({ kernelName, backendName: 'cpu', kernelFunc: (args) => fast(args) ?? original.kernelFunc(args) });
  restore.push(() => {
    tf.unregisterKernel(kernelName, 'cpu');
    tf.registerKernel(original);
  });
  return original.kernelFunc;
}

const nhwc = (dataFormat) => dataFormat === undefined || dataFormat === 'NHWC';
const noDilation = (d) => d === undefined || d === 1 || (Array.isArray(d) && d.every((v) => v === 1));

function makeKernels(tf) {
  const { backend_util } = tf;
  const values = (backend, t) => backend.data.get(t.dataId).values;

  /**
   * Geometry of an NHWC convolution without dilation, and patch access: the input patch that
   * output pixel p = (b, oy, ox) reads is K = filterHeight*filterWidth*inChannels values in filter
   * order, at offsets `offsets` from `base(p)`; zeros where the window hangs over the padding.
   */
  function geometry(inShape, filterShape, strides, pad, dimRoundingMode) {
    const info = backend_util.computeConv2DInfo(inShape, filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
    const { batchSize, inHeight: H, inWidth: W, inChannels: CI, outHeight, outWidth, outChannels, filterHeight: FH, filterWidth: FW, strideHeight: SH, strideWidth: SW } = info;
    const { top, left } = info.padInfo;
    const K = FH * FW * CI;
    const offsets = new Int32Array(K);
    for (let ky = 0, k = 0; ky < FH; ky++) for (let kx = 0; kx < FW; kx++) for (let c = 0; c < CI; c++) offsets[k++] = (ky * W + kx) * CI + c;
    const pixels = batchSize * outHeight * outWidth;
    const inside = (oy, ox) => oy * SH - top >= 0 && ox * SW - left >= 0 && oy * SH - top + FH <= H && ox * SW - left + FW <= W;
    /** Copies the patch of pixel p into `patch`. */
    const read = (xs, p, patch) => {
      const ox = p % outWidth;
      const oy = ((p - ox) / outWidth) % outHeight;
      const b = (p - ox - oy * outWidth) / (outWidth * outHeight);
      const y0 = oy * SH - top;
      const x0 = ox * SW - left;
      const base = ((b * H + y0) * W + x0) * CI;
      if (inside(oy, ox)) {
        for (let k = 0; k < K; k++) patch[k] = xs[base + offsets[k]];
        return;
      }
      for (let ky = 0, k = 0; ky < FH; ky++) {
        for (let kx = 0; kx < FW; kx++) {
          const ok = y0 + ky >= 0 && y0 + ky < H && x0 + kx >= 0 && x0 + kx < W;
          for (let c = 0; c < CI; c++, k++) patch[k] = ok ? xs[base + offsets[k]] : 0;
        }
      }
    };
    /** Adds `patch` into the input positions the patch of pixel p came from. */
    const add = (dx, p, patch) => {
      const ox = p % outWidth;
      const oy = ((p - ox) / outWidth) % outHeight;
      const b = (p - ox - oy * outWidth) / (outWidth * outHeight);
      const y0 = oy * SH - top;
      const x0 = ox * SW - left;
      const base = ((b * H + y0) * W + x0) * CI;
      const all = inside(oy, ox);
      for (let ky = 0, k = 0; ky < FH; ky++) {
        for (let kx = 0; kx < FW; kx++) {
          const ok = all || (y0 + ky >= 0 && y0 + ky < H && x0 + kx >= 0 && x0 + kx < W);
          for (let c = 0; c < CI; c++, k++) if (ok) dx[base + offsets[k]] += patch[k];
        }
      }
    };
    return { info, K, C: outChannels, pixels, read, add };
  }

  /** HWIO filter values as [outChannels][K] rows. */
  function filterRows(K, C, ws) {
    const rows = new Float32Array(C * K);
    for (let k = 0; k < K; k++) for (let co = 0; co < C; co++) rows[co * K + k] = ws[k * C + co];
    return rows;
  }

  /** y[p, co] = the patch of output pixel p . the filter of co. */
  function conv2d({ inputs: { x, filter }, backend, attrs }) {
    const { strides, pad, dataFormat, dilations, dimRoundingMode } = attrs;
    if (!nhwc(dataFormat) || !noDilation(dilations) || x.dtype !== 'float32') return null;
    const { info, K, C, pixels, read } = geometry(x.shape, filter.shape, strides, pad, dimRoundingMode);
    const xs = values(backend, x);
    const rows = filterRows(K, C, values(backend, filter));
    const patch = new Float32Array(K);
    const y = new Float32Array(pixels * C);
    for (let p = 0, at = 0; p < pixels; p++) {
      read(xs, p, patch);
      let co = 0;
      // Four output channels at a time share each patch load.
      for (; co + 4 <= C; co += 4) {
        const r0 = co * K;
        const r1 = r0 + K;
        const r2 = r1 + K;
        const r3 = r2 + K;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        for (let k = 0; k < K; k++) {
          const v = patch[k];
          s0 += v * rows[r0 + k];
          s1 += v * rows[r1 + k];
          s2 += v * rows[r2 + k];
          s3 += v * rows[r3 + k];
        }
        y[at++] = s0;
        y[at++] = s1;
        y[at++] = s2;
        y[at++] = s3;
      }
      for (; co < C; co++) {
        let s = 0;
        for (let k = 0, r = co * K; k < K; k++) s += patch[k] * rows[r + k];
        y[at++] = s;
      }
    }
    return backend.makeTensorInfo(info.outShape, 'float32', y);
  }

  /** dx: output pixel p adds sum over co of dy[p, co] * the filter of co into the patch it read. */
  function conv2dBackpropInput({ inputs: { dy, filter }, backend, attrs }) {
    const { inputShape, strides, pad, dataFormat, dimRoundingMode } = attrs;
    if (!nhwc(dataFormat) || dy.dtype !== 'float32') return null;
    const { info, K, C, pixels, add } = geometry(inputShape, filter.shape, strides, pad, dimRoundingMode);
    const dys = values(backend, dy);
    const rows = filterRows(K, C, values(backend, filter));
    const patch = new Float64Array(K);
    const dx = new Float64Array(info.inShape.reduce((a, b) => a * b, 1));
    for (let p = 0, at = 0; p < pixels; p++, at += C) {
      let any = false;
      for (let co = 0, r = 0; co < C; co++, r += K) {
        const d = dys[at + co];
        if (d === 0) continue;
        if (!any) patch.fill(0);
        any = true;
        for (let k = 0; k < K; k++) patch[k] += d * rows[r + k];
      }
      if (any) add(dx, p, patch);
    }
    return backend.makeTensorInfo(info.inShape, 'float32', Float32Array.from(dx));
  }

  /** dw: output pixel p adds dy[p, co] * the patch it read to the filter of co. */
  function conv2dBackpropFilter({ inputs: { x, dy }, backend, attrs }) {
    const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
    if (!nhwc(dataFormat) || x.dtype !== 'float32') return null;
    const { info, K, C, pixels, read } = geometry(x.shape, filterShape, strides, pad, dimRoundingMode);
    const xs = values(backend, x);
    const dys = values(backend, dy);
    const patch = new Float32Array(K);
    const dRows = new Float64Array(C * K);
    for (let p = 0, at = 0; p < pixels; p++, at += C) {
      let loaded = false;
      for (let co = 0, r = 0; co < C; co++, r += K) {
        const d = dys[at + co];
        if (d === 0) continue;
        if (!loaded) read(xs, p, patch);
        loaded = true;
        for (let k = 0; k < K; k++) dRows[r + k] += d * patch[k];
      }
    }
    const dw = new Float32Array(K * C);
    for (let k = 0; k < K; k++) for (let co = 0; co < C; co++) dw[k * C + co] = dRows[co * K + k];
    return backend.makeTensorInfo(info.filterShape, 'float32', dw);
  }

  /** Each output gradient goes to the first largest input of its window. */
  function maxPoolGrad({ inputs: { dy, input }, backend, attrs }) {
    const { filterSize, strides, pad, dimRoundingMode } = attrs;
    if (input.dtype !== 'float32') return null;
    const info = backend_util.computePool2DInfo(input.shape, filterSize, strides, 1, pad, dimRoundingMode);
    const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, filterHeight, filterWidth, strideHeight, strideWidth } = info;
    const { top, left } = info.padInfo;
    const xs = values(backend, input);
    const dys = values(backend, dy);
    const dx = new Float32Array(xs.length);
    for (let b = 0; b < batchSize; b++) {
      for (let oy = 0; oy < outHeight; oy++) {
        for (let ox = 0; ox < outWidth; ox++) {
          for (let c = 0; c < inChannels; c++) {
            let best = -1;
            let bestValue = -Infinity;
            for (let ky = 0; ky < filterHeight; ky++) {
              const iy = oy * strideHeight + ky - top;
              if (iy < 0 || iy >= inHeight) continue;
              for (let kx = 0; kx < filterWidth; kx++) {
                const ix = ox * strideWidth + kx - left;
                if (ix < 0 || ix >= inWidth) continue;
                const at = ((b * inHeight + iy) * inWidth + ix) * inChannels + c;
                if (xs[at] > bestValue) {
                  bestValue = xs[at];
                  best = at;
                }
              }
            }
            if (best >= 0) dx[best] += dys[((b * outHeight + oy) * outWidth + ox) * inChannels + c];
          }
        }
      }
    }
    return backend.makeTensorInfo(input.shape, 'float32', dx);
  }

  /** Sum of float32 x over its first k axes (a bias gradient), without keepDims. */
  function sum({ inputs: { x }, backend, attrs }) {
    const { axis, keepDims } = attrs;
    if (x.dtype !== 'float32' || keepDims) return null;
    const rank = x.shape.length;
    const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
    if (axes.length === 0 || axes.length === rank || !axes.every((a, i) => a === i)) return null;
    const outShape = x.shape.slice(axes.length);
    const inner = outShape.reduce((a, b) => a * b, 1);
    const xs = values(backend, x);
    const rows = xs.length / inner;
    const out = new Float64Array(inner);
    for (let r = 0; r < rows; r++) for (let i = 0, at = r * inner; i < inner; i++) out[i] += xs[at + i];
    return backend.makeTensorInfo(outShape, 'float32', Float32Array.from(out));
  }

  return { conv2d, conv2dBackpropInput, conv2dBackpropFilter, maxPoolGrad, sum };
}

/** mulberry32, for the check's random data. */
function generator(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Replaces the kernels on the CPU backend (call after tf.setBackend('cpu')) and checks them.
 * Returns a function that puts the backend's own kernels back.
 */
export function installFastKernels(tf) {
  const k = makeKernels(tf);
  const restore = [];
  const original = {
    conv2d: replaceKernel(tf, 'Conv2D', k.conv2d, restore),
    conv2dBackpropInput: replaceKernel(tf, 'Conv2DBackpropInput', k.conv2dBackpropInput, restore),
    conv2dBackpropFilter: replaceKernel(tf, 'Conv2DBackpropFilter', k.conv2dBackpropFilter, restore),
    maxPoolGrad: replaceKernel(tf, 'MaxPoolGrad', k.maxPoolGrad, restore),
    sum: replaceKernel(tf, 'Sum', k.sum, restore),
  };
  const backend = tf.backend();
  const next = generator(1);
  const random = (shape) => tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => next() * 2 - 1), shape);
  const compare = (name, args) => {
    const mine = k[name](args);
    const theirs = original[name](args);
    if (mine === null) throw new Error(`${name}: the replacement declined its own test case`);
    const a = backend.readSync(mine.dataId);
    const b = backend.readSync(theirs.dataId);
    let worst = a.length === b.length && mine.shape.join() === theirs.shape.join() ? 0 : Infinity;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
    backend.disposeData(mine.dataId);
    backend.disposeData(theirs.dataId);
    if (!(worst <= 1e-4)) throw new Error(`${name}: the replacement kernel differs from the CPU backend's by ${worst}`);
  };
  tf.tidy(() => {
    for (const [pad, strides] of [['valid', [1, 1]], ['same', [2, 2]], ['valid', [2, 1]]]) {
      const x = random([2, 9, 8, 3]);
      const filter = random([3, 3, 3, 4]);
      const conv = { strides, pad, dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined };
      const info = tf.backend_util.computeConv2DInfo(x.shape, filter.shape, strides, 1, pad);
      const dy = random(info.outShape);
      compare('conv2d', { inputs: { x, filter }, backend, attrs: conv });
      compare('conv2dBackpropInput', { inputs: { dy, filter }, backend, attrs: { ...conv, inputShape: x.shape } });
      compare('conv2dBackpropFilter', { inputs: { x, dy }, backend, attrs: { ...conv, filterShape: filter.shape } });
    }
    const input = random([2, 10, 9, 3]);
    const output = tf.maxPool(input, 2, 2, 'valid');
    const dy = random(output.shape);
    compare('maxPoolGrad', { inputs: { dy, input, output }, backend, attrs: { filterSize: [2, 2], strides: [2, 2], pad: 'valid', dimRoundingMode: undefined } });
    compare('sum', { inputs: { x: random([3, 5, 4, 6]) }, backend, attrs: { axis: [0, 1, 2], keepDims: false } });
    compare('sum', { inputs: { x: random([7, 6]) }, backend, attrs: { axis: 0, keepDims: false } });
  });
  return () => {
    for (const undo of restore) undo();
  };
}
