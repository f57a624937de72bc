// `npm run bench` section (f): the batched software model against bench/numpy_bmru.py, an independent single-thread
// numpy implementation of DESIGN.md §1, on the same networks and clips, states compared bit for bit.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  networkMetadata,
  networkTensors,
  randomInputs,
  randomNetwork,
  runNetworkBatch,
  writeSafetensors,
} from '../dist/model/index.js';

/** numpy's .npy format, version 1.0: magic, version, header length, a Python-dict header padded to 64 bytes, data. */
export function npyBytes(data, shape) {
  const descr = data instanceof Float64Array ? '<f8' : data instanceof Uint8Array ? '|u1' : null;
  if (descr === null) throw new TypeError('npyBytes writes Float64Array or Uint8Array');
  const PREAMBLE_BYTES = 10; // 6 magic bytes, 2 version bytes, 2 header-length bytes
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')},), }`;
  header += ' '.repeat(63 - ((PREAMBLE_BYTES + header.length) % 64)) + '\n';
  const out = new Uint8Array(PREAMBLE_BYTES + header.length + data.byteLength);
  out.set([0x93, ...Buffer.from('NUMPY'), 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(Buffer.from(header, 'latin1'), PREAMBLE_BYTES);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), PREAMBLE_BYTES + header.length);
  return out;
}

/** Why numpy cannot run here, or undefined when it can. */
export function numpyMissing() {
  try {
    execFileSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' });
    return undefined;
  } catch (e) {
    return e.code === 'ENOENT' ? 'python3 not found' : 'python3 cannot import numpy';
  }
}

/** The bench's workload: a random network and `clips` random clips of `frames` frames (13 MFCC-like inputs). */
export function workload(width, clips, frames) {
  const net = randomNetwork({ inputs: 13, width, blocks: 2, classes: 2, seed: width });
  const inputs = Array.from({ length: clips }, (_, i) => randomInputs(frames, 13, 1000 + i));
  return { net, inputs, unitFrames: net.blocks.length * net.cells * clips * frames };
}

/** Best wall time and least process CPU time (user + system) of `repeats` calls of fn, seconds each. */
export function bestOf(repeats, fn) {
  let wallS = Infinity;
  let cpuS = Infinity;
  for (let i = 0; i < repeats; i++) {
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    fn();
    const c = process.cpuUsage(c0);
    wallS = Math.min(wallS, Number(process.hrtime.bigint() - t0) / 1e9);
    cpuS = Math.min(cpuS, (c.user + c.system) / 1e6);
  }
  return { wallS, cpuS };
}

const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Untimed runs of ours before the rounds, so that V8 has tiered the code up (as bench (a) does). */
const WARMUP_S = 0.3;

/** bench/numpy_bmru.py in --serve mode: `ask(repeats)` resolves to its JSON answer for that many timed runs. */
function numpyServer(files) {
  const script = new URL('numpy_bmru.py', import.meta.url).pathname;
  const child = spawn('python3', [script, ...files, '--serve'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const waiting = [];
  lines.on('line', (line) => waiting.shift()?.resolve(JSON.parse(line)));
  child.on('exit', (code) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`numpy_bmru.py exited with code ${code}`));
  });
  return {
    ask: (repeats) =>
      new Promise((resolve, reject) => {
        waiting.push({ resolve, reject });
        child.stdin.write(`${repeats}\n`);
      }),
    close: () =>
      new Promise((resolve) => (child.exitCode !== null ? resolve() : (child.on('exit', resolve), child.stdin.end()))),
  };
}

/**
 * Ours and numpy's throughput at one width, measured alternately for `rounds` rounds (`repeats` timed runs each
 * per round; numpy in one long-lived process) so that both see the same machine load. Each side's figure is its
 * best run; the ratio is also given as the median over rounds of the two sides' best runs in that round (robust to
 * load that changes between rounds), and per CPU second (time the process was not running on a core does not count:
 * throughput per core on a machine whose cores other jobs share). Our CPU time includes V8's own helper threads.
 */
export async function compareAtWidth({ width, clips, frames, rounds, repeats }) {
  const { net, inputs, unitFrames } = workload(width, clips, frames);
  const dir = mkdtempSync(join(tmpdir(), 'bmru-bench-numpy-'));
  let server = null;
  try {
    const F = net.inputs;
    const x = new Float64Array(clips * frames * F);
    inputs.forEach((clip, i) => x.set(clip.data, i * frames * F));
    const traces = runNetworkBatch(net, inputs);
    const L = net.blocks.length;
    const S = net.cells;
    const states = new Uint8Array(L * clips * frames * S);
    traces.forEach((tr, c) => tr.states.forEach((s, k) => states.set(s, (k * clips + c) * frames * S)));
    const files = ['model.safetensors', 'clips.npy', 'states.npy'].map((f) => join(dir, f));
    writeFileSync(files[0], writeSafetensors(networkTensors(net), networkMetadata(net), 'F64'));
    writeFileSync(files[1], npyBytes(x, [clips, frames, F]));
    writeFileSync(files[2], npyBytes(states, [L, clips, frames, S]));
    server = numpyServer(files);
    const t0 = process.hrtime.bigint();
    do runNetworkBatch(net, inputs);
    while (Number(process.hrtime.bigint() - t0) / 1e9 < WARMUP_S);
    let oursS = Infinity;
    let numpyS = Infinity;
    let oursCpuS = Infinity;
    let numpyCpuS = Infinity;
    const roundRatios = [];
    let mismatches = 0;
    let info = null;
    for (let r = 0; r < rounds; r++) {
      info = await server.ask(repeats);
      mismatches = Math.max(mismatches, info.mismatches);
      const ours = bestOf(repeats, () => runNetworkBatch(net, inputs));
      roundRatios.push(info.seconds / ours.wallS);
      numpyS = Math.min(numpyS, info.seconds);
      numpyCpuS = Math.min(numpyCpuS, info.cpuSeconds);
      oursS = Math.min(oursS, ours.wallS);
      oursCpuS = Math.min(oursCpuS, ours.cpuS);
    }
    return {
      oursPerS: unitFrames / oursS,
      numpyPerS: unitFrames / numpyS,
      medianRoundRatio: median(roundRatios),
      cpuRatio: numpyCpuS / oursCpuS,
      mismatches,
      stateCount: states.length,
      numpyVersion: info.numpy,
    };
  } finally {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Best wall time and least process CPU time (all threads, user + system) of `repeats` awaited calls of fn,
 * seconds each.
 */
export async function bestOfAsync(repeats, fn) {
  let wallS = Infinity;
  let cpuS = Infinity;
  for (let i = 0; i < repeats; i++) {
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    await fn();
    const c = process.cpuUsage(c0);
    wallS = Math.min(wallS, Number(process.hrtime.bigint() - t0) / 1e9);
    cpuS = Math.min(cpuS, (c.user + c.system) / 1e6);
  }
  return { wallS, cpuS };
}
