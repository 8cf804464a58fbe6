// llama.cpp's prompt processing and generation speed on one GGUF, through the
// node-llama-cpp binding (its prebuilt CPU build), measured like llama-bench:
//   pp: one batch of --pp random tokens into an empty context;
//   tg: --tg tokens decoded one at a time after a one-token prompt, no sampling.
// Each repetition uses a fresh context. Prints one JSON object.
//
//   node llama_cpp_bench.mjs --model M.gguf --threads 2 [--pp 512] [--tg 128] [--reps 3]
//
// Limits: every decode call crosses from JavaScript into native code and back
// through an async hop; that per-call overhead (about 0.1-0.5 ms here) counts
// against llama.cpp's tg figure but is small next to a 1B model's token time.
import {getLlama, LlamaLogLevel} from "node-llama-cpp";

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  if (i < 0) {
    if (fallback === undefined) throw new Error(`missing ${name}`);
    return fallback;
  }
  return process.argv[i + 1];
}

const modelPath = arg("--model");
const threads = Number(arg("--threads", "2"));
const pp = Number(arg("--pp", "512"));
const tg = Number(arg("--tg", "128"));
const reps = Number(arg("--reps", "3"));

const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.error});
const model = await llama.loadModel({modelPath, useMmap: true});
const nVocab = model.tokens.count ?? model.fileInsights.tokens ?? 32000;
let seed = 1;
const token = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return 3 + (seed % Math.max(1, Math.min(nVocab, 32000) - 3));
};

const ppRates = [], tgRates = [];
for (let r = 0; r < reps; r++) {
  if (pp > 0) {
    const ctx = await model.createContext({contextSize: pp + 16, batchSize: pp, threads, sequences: 1});
    const seq = ctx.getSequence();
    const ids = Array.from({length: pp}, token);
    const t0 = performance.now();
    await seq.evaluateWithoutGeneratingNewTokens(ids);
    ppRates.push(pp / ((performance.now() - t0) / 1000));
    await ctx.dispose();
  }
  if (tg > 0) {
    const ctx = await model.createContext({contextSize: tg + 16, batchSize: 16, threads, sequences: 1});
    const seq = ctx.getSequence();
    await seq.evaluateWithoutGeneratingNewTokens([token()]);
    const t0 = performance.now();
    for (let i = 0; i < tg; i++) await seq.evaluateWithoutGeneratingNewTokens([token()]);
    tgRates.push(tg / ((performance.now() - t0) / 1000));
    await ctx.dispose();
  }
}
const stats = (v) => {
  if (!v.length) return [0, 0];
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  const sd = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1)) : 0;
  return [m, sd];
};
const [ppm, pps] = stats(ppRates), [tgm, tgs] = stats(tgRates);
console.log(JSON.stringify({engine: "llama.cpp (node-llama-cpp 3.14.0)", model: modelPath, threads, reps, pp, pp_tok_s: ppm, pp_sd: pps,
                            tg, tg_tok_s: tgm, tg_sd: tgs, pp_all: ppRates, tg_all: tgRates}));
await model.dispose();
