// Runs llama.cpp (llama_cpp_bench.mjs) and `pocketlm bench` on the same model in
// turn, repetition by repetition so both see the same machine noise, next to the
// read-bandwidth probe of pocketlm-kernel-bench measured in the same run, and prints
// one Markdown table: tok/s of both, the ratio, and for generation the fraction of
// the roofline (read bandwidth / bytes of weights one token streams) each reaches.
//
//   node compare.mjs --model M.gguf --bundle M.plm --pocketlm build/bin/pocketlm \
//        --kernel-bench build/bin/pocketlm-kernel-bench [--threads 1,2] [--reps 3] [--pp 512] [--tg 128]
import {execFileSync} from "node:child_process";
import {openSync, readSync, closeSync} from "node:fs";
import {fileURLToPath} from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  if (i < 0) {
    if (fallback === undefined) throw new Error(`compare.mjs: missing ${name}`);
    return fallback;
  }
  return process.argv[i + 1];
}
const model = arg("--model"), bundle = arg("--bundle"), pocketlm = arg("--pocketlm"), kernelBench = arg("--kernel-bench");
const threadsList = arg("--threads", "1,2").split(",").map(Number);
const reps = Number(arg("--reps", "3")), pp = Number(arg("--pp", "512")), tg = Number(arg("--tg", "128"));

// Bytes of the weights one generated token reads, from the GGUF's tensor table: every
// matrix except the embedding table, which only a tied output reads whole.
function weightBytesPerToken(file) {
  const fd = openSync(file, "r");
  const head = Buffer.alloc(64 << 20);
  const n = readSync(fd, head, 0, head.length, 0);
  closeSync(fd);
  let o = 0;
  const u32 = () => { const v = head.readUInt32LE(o); o += 4; return v; };
  const u64 = () => { const v = Number(head.readBigUInt64LE(o)); o += 8; return v; };
  const str = () => { const len = u64(); const s = head.toString("utf8", o, o + len); o += len; return s; };
  const scalar = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8};
  const skip = (t) => {
    if (t === 8) str();
    else if (t === 9) { const et = u32(), cnt = u64(); for (let i = 0; i < cnt; i++) skip(et); }
    else o += scalar[t];
  };
  if (head.toString("ascii", 0, 4) !== "GGUF") throw new Error(`${file}: not a GGUF file`);
  o = 8;
  const nTensors = u64(), nKv = u64();
  for (let i = 0; i < nKv; i++) { str(); skip(u32()); }
  const blocks = {0: [1, 4], 1: [1, 2], 30: [1, 2], 2: [32, 18], 3: [32, 20], 6: [32, 22], 7: [32, 24], 8: [32, 34],
                  10: [256, 84], 11: [256, 110], 12: [256, 144], 13: [256, 176], 14: [256, 210]};
  let total = 0, embd = 0, tied = true;
  for (let i = 0; i < nTensors; i++) {
    const name = str(), nd = u32();
    const ne = Array.from({length: nd}, u64);
    const type = u32();
    u64();
    if (nd < 2) continue;
    const [be, bb] = blocks[type];
    const bytes = ne.reduce((a, b) => a * b, 1) / be * bb;
    if (name === "token_embd.weight") embd = bytes;
    else total += bytes;
    if (name === "output.weight") tied = false;
    if (o > n) throw new Error(`${file}: tensor table larger than 64 MiB`);
  }
  return total + (tied ? embd : 0);
}

function readBandwidth(threads) {
  const out = execFileSync(kernelBench, [`--benchmark_filter=^read_bandwidth/threads:${threads}/`, "--benchmark_format=json"], {encoding: "utf8"});
  const b = JSON.parse(out).benchmarks.find((x) => x.run_type !== "aggregate" || x.aggregate_name === "mean");
  return b["GB/s"] * 1e9;
}

const mean = (v) => v.reduce((a, b) => a + b, 0) / v.length;
const sd = (v) => (v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean(v)) ** 2, 0) / (v.length - 1)) : 0);
const fmt = (v) => `${mean(v).toFixed(1)} ± ${sd(v).toFixed(1)}`;

const bytesPerToken = weightBytesPerToken(model);
const rows = [];
for (const threads of threadsList) {
  const bw = readBandwidth(threads);
  const r = {llama: {pp: [], tg: []}, plm: {pp: [], tg: []}};
  for (let k = 0; k < reps; k++) {
    const l = JSON.parse(execFileSync("node", [path.join(here, "llama_cpp_bench.mjs"), "--model", model, "--threads", String(threads),
                                               "--pp", String(pp), "--tg", String(tg), "--reps", "1"], {encoding: "utf8"}));
    const p = JSON.parse(execFileSync(pocketlm, ["bench", bundle, "-p", String(pp), "-n", String(tg), "-t", String(threads), "-r", "1", "--json"],
                                      {encoding: "utf8"}));
    if (pp) r.llama.pp.push(l.pp_tok_s), r.plm.pp.push(p.pp_tok_s);
    if (tg) r.llama.tg.push(l.tg_tok_s), r.plm.tg.push(p.tg_tok_s);
    process.stderr.write(`  ${path.basename(model)} ${threads}T rep ${k + 1}/${reps}: llama.cpp pp ${l.pp_tok_s.toFixed(1)} tg ${l.tg_tok_s.toFixed(1)}, ` +
                         `pocketlm pp ${p.pp_tok_s.toFixed(1)} tg ${p.tg_tok_s.toFixed(1)}\n`);
  }
  const roof = bw / bytesPerToken;
  if (pp) rows.push([path.basename(model), threads, `pp${pp}`, fmt(r.llama.pp), fmt(r.plm.pp), (mean(r.plm.pp) / mean(r.llama.pp)).toFixed(2), "", "", ""]);
  if (tg) rows.push([path.basename(model), threads, `tg${tg}`, fmt(r.llama.tg), fmt(r.plm.tg), (mean(r.plm.tg) / mean(r.llama.tg)).toFixed(2),
                     `${roof.toFixed(1)} (${(bw / 1e9).toFixed(1)} GB/s)`, `${(100 * mean(r.llama.tg) / roof).toFixed(0)}%`,
                     `${(100 * mean(r.plm.tg) / roof).toFixed(0)}%`]);
}
console.log(`| model | threads | test | llama.cpp tok/s | pocketlm tok/s | pocketlm / llama.cpp | roofline tok/s (read bw) | llama.cpp of roofline | pocketlm of roofline |`);
console.log(`| --- | --- | --- | --- | --- | --- | --- | --- | --- |`);
for (const row of rows) console.log(`| ${row.join(" | ")} |`);
console.log(`\nweights streamed per generated token: ${(bytesPerToken / 2 ** 20).toFixed(1)} MiB (GGUF bytes of every matrix but the embedding table); ` +
            `${reps} alternating repetitions per row`);
