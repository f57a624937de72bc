import { afterEach, describe, expect, it, vi } from 'vitest';
import { transientProgress, type Progress } from '../../src/cli/progress.js';

/** A Progress that keeps the last text it was given. */
function recorder(): Progress & { text: string } {
  const p = { text: '', update: (t: string) => void (p.text = t), done: () => undefined, stop: () => undefined, note: () => undefined };
  return p;
}

describe('transientProgress', () => {
  afterEach(() => vi.useRealTimers());

  it('shows percentage and simulated time of tstop, with no ETA up to 5%', () => {
    const p = recorder();
    transientProgress(p)({ timeS: 0.0404, fraction: 0.04, points: 10 });
    expect(p.text).toBe('4% (t = 0.04 s of 1.01 s)');
  });

  it('adds an ETA from the elapsed time once past 5%', () => {
    vi.useFakeTimers();
    const p = recorder();
    const report = transientProgress(p);
    vi.advanceTimersByTime(12_000);
    report({ timeS: 0.4343, fraction: 0.43, points: 2000 });
    expect(p.text).toBe('43% (t = 0.43 s of 1.01 s, ETA 16 s)');
    report({ timeS: 1.01, fraction: 1, points: 5000 });
    expect(p.text).toBe('100% (t = 1.01 s of 1.01 s)');
  });

  it('takes tstop from the caller when the run gives no fraction, in the unit that suits it', () => {
    const p = recorder();
    transientProgress(p, 0.05)({ timeS: 0.02, points: 300 });
    expect(p.text).toMatch(/^40% \(t = 20.00 ms of 50.00 ms, ETA \d+ s\)$/);
  });

  it('shows time and points when tstop is unknown', () => {
    const p = recorder();
    transientProgress(p)({ timeS: 0.02, points: 300 });
    expect(p.text).toBe('t = 20.00 ms, 300 points');
  });
});
