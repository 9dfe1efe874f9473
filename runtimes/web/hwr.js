// hwr.js: the JavaScript twin of runtimes/ (Python), for the browser.
//
//   import { Recognizer } from "./hwr.js";
//   const rec = await Recognizer.load("hwr-wide-iam.int8.onnx");
//   const { text, confidence, charConfidences } = await rec.transcribe(imageOrCanvasOrFile);
//
// The model contract (charset, input height, normalization) is read from the ONNX file itself
// (metadata_props, key "hwr_contract"); a model without one is refused. Preprocessing follows
// runtimes/preprocess.py and runtimes/resize.py step by step, so that both compute the same
// pixels; decoding is runtimes/decode.py's greedy CTC decode with per-character confidences.
// Every failure rejects the promise with an HwrError whose message names the item and the problem.

export const WIDTH_BUCKET = 32; // px; lines are padded to a multiple of this
export const MAX_INPUT_WIDTH = 65536;
export const CONTRACT_VERSION = 1;
const METADATA_KEY = "hwr_contract";
const PRECISION_BITS = 22;

export class HwrError extends Error {
  constructor(message) {
    super(message);
    this.name = "HwrError";
  }
}

// ---------------------------------------------------------------- the model contract

/** ONNX ModelProto.metadata_props (field 14) as {key: value}, read with a minimal protobuf reader. */
export function onnxMetadata(bytes) {
  const data = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const text = new TextDecoder("utf-8");
  const props = {};
  let pos = 0;
  const varint = () => {
    let value = 0;
    let scale = 1;
    for (;;) {
      if (pos >= data.length) throw new HwrError("truncated varint");
      const byte = data[pos++];
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 128;
    }
  };
  const skip = (wire) => {
    if (wire === 0) varint();
    else if (wire === 1) pos += 8;
    else if (wire === 2) {
      const length = varint(); // read before pos: `pos += varint()` would add to the old pos
      pos += length;
    }
    else if (wire === 5) pos += 4;
    else throw new HwrError(`unsupported protobuf wire type ${wire}`);
  };
  while (pos < data.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (field === 14 && wire === 2) {
      const size = varint();
      const end = pos + size;
      let k = "";
      let v = "";
      while (pos < end) {
        const entryKey = varint();
        if (entryKey % 8 === 2 && entryKey >> 3 <= 2) {
          const length = varint();
          const value = text.decode(data.subarray(pos, pos + length));
          pos += length;
          if (entryKey >> 3 === 1) k = value;
          else v = value;
        } else skip(entryKey % 8);
      }
      props[k] = v;
    } else skip(wire);
    if (pos > data.length) throw new HwrError("truncated protobuf");
  }
  return props;
}

const NUMBER_BOUNDS = {
  input_height: [8, 1024, true],
  norm_mean: [-1e3, 1e3, false],
  norm_std: [1e-6, 1e3, false],
  min_width: [1, 4096, true],
  width_stride: [1, 256, true],
};

/** The contract from ONNX metadata, checked like runtimes/contract.py checks it. */
export function contractFromMetadata(metadata, source) {
  if (!(METADATA_KEY in metadata)) {
    throw new HwrError(
      `${source}: no hwr model contract in the file metadata ` +
        "(export it with `hwr export` so charset and preprocessing travel with it)",
    );
  }
  let data;
  try {
    data = JSON.parse(metadata[METADATA_KEY]);
  } catch (error) {
    throw new HwrError(`${source}: model contract is not valid JSON: ${error.message}`);
  }
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    throw new HwrError(`${source}: model contract is not a JSON object`);
  }
  const contract = {
    blank_index: 0, norm_mean: 0.5, norm_std: 0.5, min_width: 16, width_stride: 4,
    contract_version: CONTRACT_VERSION, ...data,
  };
  const missing = ["preset", "input_height", "charset"].filter((k) => !(k in data));
  if (missing.length) throw new HwrError(`${source}: model contract is missing ${missing.join(", ")}`);
  if (contract.contract_version > CONTRACT_VERSION) {
    throw new HwrError(
      `${source}: model contract version ${contract.contract_version} is newer than this hwr.js ` +
        `understands (${CONTRACT_VERSION}); upgrade hwr`,
    );
  }
  for (const [name, [low, high, integer]] of Object.entries(NUMBER_BOUNDS)) {
    const value = contract[name];
    if (typeof value !== "number" || !Number.isFinite(value) || value < low || value > high
        || (integer && !Number.isInteger(value))) {
      throw new HwrError(`${source}: ${name} must be within ${low}..${high}, got ${value}`);
    }
  }
  const charset = Array.from(contract.charset ?? "");
  if (typeof contract.charset !== "string" || !charset.length || new Set(charset).size !== charset.length) {
    throw new HwrError(`${source}: charset must be a non-empty string without duplicates`);
  }
  if (contract.blank_index !== 0) throw new HwrError(`${source}: blank_index must be 0`);
  return { ...contract, symbols: charset };
}

// ---------------------------------------------------------------- preprocessing

/** Grayscale of RGBA pixels as Pillow computes it: alpha composited onto white paper
 * (Image.alpha_composite), then L = (19595 R + 38470 G + 7471 B + 0x8000) >> 16. */
export function grayscaleFromRGBA(rgba, width, height) {
  const out = new Uint8Array(width * height);
  for (let i = 0, p = 0; i < out.length; i++, p += 4) {
    let r = rgba[p];
    let g = rgba[p + 1];
    let b = rgba[p + 2];
    const a = rgba[p + 3];
    if (a === 0) {
      r = g = b = 255;
    } else if (a !== 255) {
      const blend = 255 * (255 - a);
      const outa255 = a * 255 + blend;
      const coef1 = Math.floor((a * 255 * 255 * 128) / outa255);
      const coef2 = 255 * 128 - coef1;
      const mix = (c) => {
        const t = c * coef1 + 255 * coef2 + (0x80 << 7);
        return (((t >> 8) + t) >> 8) >> 7;
      };
      r = mix(r);
      g = mix(g);
      b = mix(b);
    }
    out[i] = (19595 * r + 38470 * g + 7471 * b + 0x8000) >> 16;
  }
  return out;
}

/** Width at the model height, keeping the aspect ratio; ties round to even (Python's round). */
export function resizedWidth(width, height, targetHeight) {
  const q = (width * targetHeight) / height;
  const f = Math.floor(q);
  const d = q - f;
  const rounded = d > 0.5 ? f + 1 : d < 0.5 ? f : f % 2 === 0 ? f : f + 1;
  return Math.max(1, rounded);
}

/** Input index and fixed-point weight of each output pixel: runtimes/resize.py, step by step. */
export function resizeWeights(inSize, outSize) {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1.0);
  const support = filterscale;
  const taps = Math.ceil(support) * 2 + 1;
  const inverse = 1.0 / filterscale;
  const index = new Int32Array(outSize * taps);
  const fixed = new Float64Array(outSize * taps);
  const weight = new Float64Array(taps);
  for (let i = 0; i < outSize; i++) {
    const centre = (i + 0.5) * scale;
    const xmin = Math.max(Math.trunc(centre - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(centre + support + 0.5), inSize) - xmin;
    let total = 0.0;
    for (let k = 0; k < taps; k++) {
      const distance = Math.abs((xmin + k - centre + 0.5) * inverse);
      weight[k] = k < xmax && distance < 1.0 ? 1.0 - distance : 0.0;
      total = total + weight[k];
    }
    for (let k = 0; k < taps; k++) {
      const w = total !== 0 ? weight[k] / total : weight[k];
      fixed[i * taps + k] = Math.trunc(0.5 + w * (1 << PRECISION_BITS));
      index[i * taps + k] = Math.min(xmin + k, inSize - 1);
    }
  }
  return { index, fixed, taps };
}

/** Resample every row of an (h, w) uint8 image to outWidth pixels. */
function resampleRows(pixels, width, height, outWidth) {
  const { index, fixed, taps } = resizeWeights(width, outWidth);
  const out = new Uint8Array(height * outWidth);
  const half = 1 << (PRECISION_BITS - 1);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < outWidth; x++) {
      let acc = half;
      for (let k = 0; k < taps; k++) acc += pixels[row + index[x * taps + k]] * fixed[x * taps + k];
      const v = Math.floor(acc / (1 << PRECISION_BITS));
      out[y * outWidth + x] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return out;
}

function transpose(pixels, width, height) {
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) out[x * height + y] = pixels[y * width + x];
  return out;
}

/** runtimes.resize.resize_gray: horizontal pass, then vertical pass; unchanged axes are skipped. */
export function resizeGray(pixels, width, height, outWidth, outHeight) {
  let out = pixels;
  let w = width;
  if (w !== outWidth) {
    out = resampleRows(out, w, height, outWidth);
    w = outWidth;
  }
  if (height !== outHeight) {
    out = transpose(resampleRows(transpose(out, w, height), height, w, outHeight), outHeight, w);
  }
  return out;
}

/** float32 model input of each grey level: (v / 255 - mean) / std in float64, rounded once. */
export function normalizationTable(contract) {
  const table = new Float32Array(256);
  for (let v = 0; v < 256; v++) table[v] = (v / 255 - contract.norm_mean) / contract.norm_std;
  return table;
}

function lcm(a, b) {
  const gcd = (x, y) => (y ? gcd(y, x % y) : x);
  return (a / gcd(a, b)) * b;
}

/** runtimes.preprocess.to_model_input: gray (w x h) to {data: Float32Array, width, height}. */
export function toModelInput(gray, width, height, contract, name = "image") {
  const targetHeight = contract.input_height;
  const outWidth = resizedWidth(width, height, targetHeight);
  if (outWidth > MAX_INPUT_WIDTH) {
    throw new HwrError(
      `${name}: cannot read image (${width}x${height} is ${outWidth} px wide at model height ` +
        `${targetHeight}, above the ${MAX_INPUT_WIDTH} px limit; split the line)`,
    );
  }
  const pixels = resizeGray(gray, width, height, outWidth, targetHeight);
  const bucket = lcm(WIDTH_BUCKET, Math.max(1, contract.width_stride));
  const padded = Math.max(contract.min_width, Math.ceil(outWidth / bucket) * bucket);
  const table = normalizationTable(contract);
  const data = new Float32Array(targetHeight * padded).fill(table[255]);
  for (let y = 0; y < targetHeight; y++) {
    for (let x = 0; x < outWidth; x++) data[y * padded + x] = table[pixels[y * outWidth + x]];
  }
  return { data, width: padded, height: targetHeight };
}

// ---------------------------------------------------------------- decoding

/** runtimes.decode.greedy_decode on (frames x classes) logits. */
export function greedyDecode(logits, frames, classes, symbols) {
  if (frames === 0) return { text: "", confidence: 0, charConfidences: [] };
  const best = new Int32Array(frames);
  const top = new Float64Array(frames);
  let blankSum = 0;
  for (let t = 0; t < frames; t++) {
    const row = t * classes;
    let max = -Infinity;
    let arg = 0;
    for (let c = 0; c < classes; c++) if (logits[row + c] > max) { max = logits[row + c]; arg = c; }
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += Math.exp(logits[row + c] - max);
    best[t] = arg;
    top[t] = 1 / sum;
    blankSum += Math.exp(logits[row] - max) / sum;
  }
  const chars = [];
  const charConfidences = [];
  for (let t = 0; t < frames; t++) {
    if (t > 0 && best[t] === best[t - 1]) {
      if (best[t] !== 0) charConfidences[charConfidences.length - 1] = Math.max(charConfidences.at(-1), top[t]);
      continue;
    }
    if (best[t] !== 0) {
      chars.push(symbols[best[t] - 1]);
      charConfidences.push(top[t]);
    }
  }
  const confidence = charConfidences.length
    ? charConfidences.reduce((a, b) => a + b, 0) / charConfidences.length
    : blankSum / frames;
  return { text: chars.join(""), confidence, charConfidences };
}

// ---------------------------------------------------------------- images in the browser

function describe(input) {
  if (typeof File !== "undefined" && input instanceof File) return input.name || "file";
  if (typeof Blob !== "undefined" && input instanceof Blob) return "image data";
  if (typeof HTMLCanvasElement !== "undefined" && input instanceof HTMLCanvasElement) return "canvas";
  return "image";
}

/** RGBA pixels of an image, canvas, ImageBitmap, ImageData or image file (Blob/File). */
export async function readRGBA(input, name = describe(input)) {
  if (input == null) throw new HwrError(`${name}: no image given`);
  if (typeof ImageData !== "undefined" && input instanceof ImageData) {
    return { rgba: input.data, width: input.width, height: input.height };
  }
  let source = input;
  if (typeof Blob !== "undefined" && input instanceof Blob) {
    if (input.size === 0) throw new HwrError(`${name}: cannot read image (empty file)`);
    try {
      // As Pillow reads files: no colour management, EXIF orientation applied.
      source = await createImageBitmap(input, {
        colorSpaceConversion: "none", premultiplyAlpha: "none", imageOrientation: "from-image",
      });
    } catch {
      throw new HwrError(`${name}: cannot read image (not a recognised image format)`);
    }
  } else if (typeof HTMLImageElement !== "undefined" && input instanceof HTMLImageElement) {
    if (!input.complete || input.naturalWidth === 0) {
      throw new HwrError(`${name}: cannot read image (not loaded or not a recognised image format)`);
    }
  }
  const width = source.naturalWidth ?? source.width;
  const height = source.naturalHeight ?? source.height;
  if (!width || !height) throw new HwrError(`${name}: cannot read image (zero size ${width}x${height})`);
  let context;
  if (typeof HTMLCanvasElement !== "undefined" && source instanceof HTMLCanvasElement
      && source.getContext("2d")) {
    context = source.getContext("2d");
  } else {
    const canvas = new OffscreenCanvas(width, height);
    context = canvas.getContext("2d", { willReadFrequently: true });
    context.drawImage(source, 0, 0);
  }
  return { rgba: context.getImageData(0, 0, width, height).data, width, height };
}

// ---------------------------------------------------------------- the recognizer

export class Recognizer {
  constructor(ort, session, contract, source) {
    this.ort = ort;
    this.session = session;
    this.contract = contract;
    this.source = source;
  }

  /** Fetch an hwr ONNX model, read its contract and start ONNX Runtime Web (WASM).
   * options.ort: the onnxruntime-web module (default: ./ort.wasm.min.mjs beside hwr.js);
   * options.threads: WASM threads (default: half the cores, at most 4, where the page is
   * cross-origin isolated; else 1). */
  static async load(url, options = {}) {
    const source = String(url).split("/").pop() || String(url);
    let bytes;
    try {
      const response = await fetch(url);
      if (!response.ok) throw new HwrError(`${source}: cannot load model (HTTP ${response.status})`);
      bytes = new Uint8Array(await response.arrayBuffer());
    } catch (error) {
      if (error instanceof HwrError) throw error;
      throw new HwrError(`${source}: cannot load model (${error.message})`);
    }
    let metadata;
    try {
      metadata = onnxMetadata(bytes);
    } catch (error) {
      throw new HwrError(`${source}: not an ONNX model (${error.message})`);
    }
    const contract = contractFromMetadata(metadata, source);
    const ort = options.ort ?? (await import(new URL("./ort.wasm.min.mjs", import.meta.url).href));
    const isolated = globalThis.crossOriginIsolated === true;
    const cores = globalThis.navigator?.hardwareConcurrency ?? 1;
    // Threads need cross-origin isolation (COOP/COEP headers, as `hwr web` sends). Half the
    // logical cores, at most 4: on a 2-core machine a second thread made lines 2x slower.
    ort.env.wasm.numThreads = options.threads ?? (isolated ? Math.max(1, Math.min(4, Math.floor(cores / 2))) : 1);
    ort.env.wasm.wasmPaths = options.wasmPaths ?? new URL("./", import.meta.url).href;
    let session;
    try {
      session = await ort.InferenceSession.create(bytes, { executionProviders: ["wasm"] });
    } catch (error) {
      throw new HwrError(`${source}: ONNX Runtime cannot load the model (${error.message ?? error})`);
    }
    return new Recognizer(ort, session, contract, source);
  }

  /** What ONNX Runtime Web runs on here. */
  get backend() {
    const wasm = this.ort.env.wasm;
    return { threads: wasm.numThreads, crossOriginIsolated: globalThis.crossOriginIsolated === true,
      simd: wasm.simd !== false, version: this.ort.env.versions?.web ?? "" };
  }

  /** The model input of one line image (the same numbers runtimes/preprocess.py computes). */
  async prepare(input, name = describe(input)) {
    const { rgba, width, height } = await readRGBA(input, name);
    const gray = grayscaleFromRGBA(rgba, width, height);
    let ink = false;
    for (let i = 1; i < gray.length && !ink; i++) ink = gray[i] !== gray[0];
    if (!ink) throw new HwrError(`${name}: nothing to read (the image is blank)`);
    return toModelInput(gray, width, height, this.contract, name);
  }

  /** Raw logits (frames x classes) of one line. */
  async logits(input, name = describe(input)) {
    const prepared = await this.prepare(input, name);
    return this.run(prepared);
  }

  async run({ data, width, height }) {
    const tensor = new this.ort.Tensor("float32", data, [1, 1, height, width]);
    const outputs = await this.session.run({ [this.session.inputNames[0]]: tensor });
    const output = outputs[this.session.outputNames[0]];
    const [, frames, classes] = output.dims;
    if (classes !== this.contract.symbols.length + 1) {
      throw new HwrError(`${this.source}: the model has ${classes} classes, the contract ${this.contract.symbols.length + 1}`);
    }
    return { data: output.data, frames, classes };
  }

  /** One line image to {text, confidence, charConfidences, ms}. */
  async transcribe(input, name = describe(input)) {
    const start = performance.now();
    const { data, frames, classes } = await this.logits(input, name);
    const result = greedyDecode(data, frames, classes, this.contract.symbols);
    return { ...result, ms: performance.now() - start };
  }
}
