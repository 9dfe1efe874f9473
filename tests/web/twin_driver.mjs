// Runs hwr.js's pure functions under Node for tests/web/test_twin.py: one JSON request on stdin,
// one JSON answer on stdout (byte arrays travel as base64).
import { readFileSync } from "node:fs";
import * as hwr from "../../runtimes/web/hwr.js";

const request = JSON.parse(readFileSync(0, "utf-8"));
const bytes = (b64) => new Uint8Array(Buffer.from(b64, "base64"));
const b64 = (typed) => Buffer.from(typed.buffer, typed.byteOffset, typed.byteLength).toString("base64");
const answers = [];
for (const job of request.jobs) {
  try {
    if (job.op === "grayscale") {
      answers.push(b64(hwr.grayscaleFromRGBA(bytes(job.rgba), job.width, job.height)));
    } else if (job.op === "model_input") {
      const contract = hwr.contractFromMetadata({ hwr_contract: job.contract }, "test");
      const out = hwr.toModelInput(bytes(job.gray), job.width, job.height, contract);
      answers.push({ data: b64(out.data), width: out.width, height: out.height });
    } else if (job.op === "contract") {
      const contract = hwr.contractFromMetadata(hwr.onnxMetadata(readFileSync(job.path)), job.name);
      answers.push({ charset: contract.charset, input_height: contract.input_height });
    } else if (job.op === "decode") {
      const logits = new Float32Array(bytes(job.logits).buffer);
      answers.push(hwr.greedyDecode(logits, job.frames, job.classes, Array.from(job.charset)));
    } else if (job.op === "width") {
      answers.push(hwr.resizedWidth(job.width, job.height, job.target));
    }
  } catch (error) {
    answers.push({ error: error.message });
  }
}
process.stdout.write(JSON.stringify(answers));
