// Do llama.cpp and pocketlm read a GGUF the same way? For each model: llama.cpp
// (node-llama-cpp) loads it and decodes N greedy tokens after a prompt; pocketlm's
// compiled bundle of the same file does the same through `pocketlm logits`. Prints one
// line per model: the two id sequences and how many leading ids agree. Random-weight
// models have near-ties, so a late divergence is not an error; an early one, or a
// file llama.cpp refuses, is.
//
//   node agree.mjs --pocketlm build/bin/pocketlm --n 8 M1.gguf:M1.plm [M2.gguf:M2.plm ...]
import {getLlama, LlamaLogLevel} from "node-llama-cpp";
import {execFileSync} from "node:child_process";
import {readFileSync, mkdtempSync} from "node:fs";
import {tmpdir} from "node:os";
import path from "node:path";

const argv = process.argv.slice(2);
const opt = (name, def) => {
  const i = argv.indexOf(name);
  if (i < 0) return def;
  const v = argv[i + 1];
  argv.splice(i, 2);
  return v;
};
const pocketlm = opt("--pocketlm");
const n = Number(opt("--n", "8"));
const prompt = opt("--prompt", "Hello world, this is a test.");
const scratch = mkdtempSync(path.join(tmpdir(), "plm-agree-"));
const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.error});
let worst = Infinity;
for (const pair of argv) {
  const [gguf, bundle] = pair.split(":");
  const ids = execFileSync(pocketlm, ["tokenize", gguf, "-p", prompt, "--ids", "--bos"], {encoding: "utf8"}).trim().split(" ").map(Number);
  const model = await llama.loadModel({modelPath: gguf});
  const ctx = await model.createContext({contextSize: 256, threads: 2});
  const theirs = [];
  for await (const t of ctx.getSequence().evaluate(ids, {temperature: 0})) {
    theirs.push(t);
    if (theirs.length >= n) break;
  }
  await ctx.dispose();
  await model.dispose();
  const ours = [];
  const out = path.join(scratch, "logits.f32");
  for (let k = 0; k < n; k++) {
    const seq = ids.concat(ours);
    execFileSync(pocketlm, ["logits", bundle, "--tokens", seq.join(","), "-o", out, "--force"], {stdio: ["ignore", "ignore", "pipe"]});
    const all = new Float32Array(readFileSync(out).buffer.slice(0));
    const V = all.length / seq.length, last = all.subarray((seq.length - 1) * V);
    let best = 0;
    for (let i = 1; i < V; i++) if (last[i] > last[best]) best = i;
    ours.push(best);
  }
  let same = 0;
  while (same < n && ours[same] === theirs[same]) same++;
  worst = Math.min(worst, same);
  console.log(`${path.basename(gguf)}: llama.cpp ${theirs.join(" ")} | pocketlm ${ours.join(" ")} | first ${same}/${n} agree`);
}
console.log(`worst agreement: ${worst}/${n} leading greedy tokens`);
