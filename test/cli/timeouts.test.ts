/**
 * Timeouts and Ctrl-C on the real binary when `ngspice` is a wrapper script whose child holds the output pipes
 * (module systems, site scripts): the command ends in bounded time and no process of the wrapper's group is
 * left. The wrapper never runs ngspice, so these tests need none.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { groupGone } from '../helpers.js';
import { BIN, EXAMPLE_MODEL, EXIT_ERROR, cliFixture, exampleClip, type CliFixture } from './fixture.js';

let fx: CliFixture;
let clip: string;
beforeAll(async () => {
  fx = await cliFixture();
  clip = await fx.write('clip2.csv', exampleClip(2));
});
afterAll(() => fx.cleanUp());

/**
 * A wrapper that answers `-v` like ngspice 39 and otherwise writes its pid (= its process group, which the
 * runner makes it lead) to `<name>.pgid` and waits on a grandchild that holds stdout for 300 s.
 */
async function holdingWrapper(name: string, { ignoreTerm = false } = {}): Promise<{ bin: string; pgid: () => number }> {
  const bin = path.join(fx.dir, name);
  // An ignored signal stays ignored across fork and exec: with ignoreTerm only SIGKILL ends the group.
  const trap = ignoreTerm ? "trap '' TERM\n" : '';
  await writeFile(
    bin,
    `#!/bin/sh\nif [ "$1" = "-v" ]; then echo "** ngspice-39 : site wrapper"; exit 0; fi\n${trap}echo $$ > "$0.pgid"\nsh -c 'sleep 300' &\nwait\n`,
  );
  await chmod(bin, 0o755);
  return { bin, pgid: () => Number(readFileSync(`${bin}.pgid`, 'utf8')) };
}

/** Starts the binary without waiting for it (for a Ctrl-C in the middle). */
function start(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: fx.dir,
    env: { ...process.env, TMPDIR: fx.dir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>(
    (resolve) => child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, ended };
}

async function waitForFile(file: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!existsSync(file) && Date.now() < deadline) await sleep(50);
  expect(existsSync(file), `${file} never appeared`).toBe(true);
}

const planText = (name: string) =>
  [
    `name: ${name}`,
    'process: c180',
    `models: [${EXAMPLE_MODEL}]`,
    `inputs: [{ file: ${path.join(fx.dir, clip)} }]`,
    `out: out-${name}`,
    '',
  ].join('\n');

describe('a wrapper ngspice that never ends', () => {
  it('compare --timeout 5 exits 2 within seconds, saying so, and leaves no process', async () => {
    const w = await holdingWrapper('ngspice-compare');
    const startedMs = Date.now();
    const r = await fx.run(['compare', '-i', clip, '-o', 'cmp', '--timeout', '5'], { BMRU_NGSPICE: w.bin });
    const elapsedS = (Date.now() - startedMs) / 1000;
    console.log(`compare --timeout 5 through the wrapper: exit ${r.exitCode} after ${elapsedS.toFixed(1)} s`);
    expect(r.exitCode, r.stderr).toBe(EXIT_ERROR);
    expect(elapsedS).toBeLessThan(15);
    expect(r.stderr).toContain('ngspice did not finish within 5000 ms and was killed');
    expect(existsSync(path.join(fx.dir, 'cmp', 'report.json'))).toBe(false);
    expect(await groupGone(w.pgid())).toEqual([]);
  });

  it('batch run --timeout 5 records the job as failed by timeout, exits 2, and leaves no process', async () => {
    const w = await holdingWrapper('ngspice-batch');
    const plan = await fx.write('timeout.yaml', planText('timeout'));
    const startedMs = Date.now();
    const r = await fx.run(['batch', 'run', plan, '--timeout', '5', '--retries', '0', '-q'], { BMRU_NGSPICE: w.bin });
    const elapsedS = (Date.now() - startedMs) / 1000;
    console.log(`batch run --timeout 5 through the wrapper: exit ${r.exitCode} after ${elapsedS.toFixed(1)} s`);
    expect(r.exitCode, r.stderr).toBe(EXIT_ERROR);
    expect(elapsedS).toBeLessThan(20);
    const results = path.join(fx.dir, 'out-timeout', 'results');
    const records = readdirSync(results).map((n) => JSON.parse(readFileSync(path.join(results, n), 'utf8')));
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ status: 'failed', failure: { class: 'timeout' } });
    expect(await groupGone(w.pgid())).toEqual([]);
  });

  it('Ctrl-C stops compare (no listener of its own) and takes the wrapper group with it', async () => {
    const w = await holdingWrapper('ngspice-ctrl-c');
    const { child, ended } = start(['compare', '-i', clip, '-o', 'cmp-int', '--timeout', '600'], {
      BMRU_NGSPICE: w.bin,
    });
    await waitForFile(`${w.bin}.pgid`);
    child.kill('SIGINT');
    const r = await Promise.race([ended, sleep(10_000).then(() => undefined)]);
    expect(r, 'compare did not end within 10 s of SIGINT').toBeDefined();
    expect(r!.signal).toBe('SIGINT');
    expect(await groupGone(w.pgid())).toEqual([]);
  });

  it('Ctrl-C stops batch run with exit 130, the job left pending, and takes the wrapper group with it', async () => {
    const w = await holdingWrapper('ngspice-batch-int');
    const plan = await fx.write('interrupt.yaml', planText('interrupt'));
    const { child, ended } = start(['batch', 'run', plan, '-q'], { BMRU_NGSPICE: w.bin });
    await waitForFile(`${w.bin}.pgid`);
    child.kill('SIGINT');
    const r = await Promise.race([ended, sleep(10_000).then(() => undefined)]);
    expect(r, 'batch run did not end within 10 s of SIGINT').toBeDefined();
    expect(r!.code, r!.stderr).toBe(130);
    expect(r!.stdout).toContain('1 pending (interrupted');
    expect(await groupGone(w.pgid())).toEqual([]);
  });

  it('a second Ctrl-C leaves at once and still kills a group that ignores SIGTERM', async () => {
    const w = await holdingWrapper('ngspice-deaf', { ignoreTerm: true });
    const plan = await fx.write('deaf.yaml', planText('deaf'));
    const { child, ended } = start(['batch', 'run', plan, '-q'], { BMRU_NGSPICE: w.bin });
    await waitForFile(`${w.bin}.pgid`);
    child.kill('SIGINT'); // abort: SIGTERM to the group, ignored; SIGKILL would follow after 2 s
    await sleep(300);
    const secondMs = Date.now();
    child.kill('SIGINT'); // process.exit(130): the exit hook SIGKILLs the group
    const r = await Promise.race([ended, sleep(10_000).then(() => undefined)]);
    expect(r, 'batch run did not end within 10 s of the second SIGINT').toBeDefined();
    expect(r!.code, r!.stderr).toBe(130);
    expect(Date.now() - secondMs).toBeLessThan(1500);
    expect(await groupGone(w.pgid(), 500)).toEqual([]);
  });
});
