import { describe, expect, it } from '@jest/globals';
import { InFlight } from './in-flight.js';

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void } {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('InFlight', () => {
  it('drains at once when nothing runs', async () => {
    await expect(new InFlight().drain(10)).resolves.toBe(true);
  });

  it('waits for running work, failed work included', async () => {
    const inFlight = new InFlight();
    const a = deferred();
    const b = deferred();
    void inFlight.track(a.promise);
    inFlight.track(b.promise).catch(() => undefined);
    expect(inFlight.size).toBe(2);
    const drained = inFlight.drain(5000);
    a.resolve();
    b.reject(new Error('handler failed'));
    await expect(drained).resolves.toBe(true);
    expect(inFlight.size).toBe(0);
  });

  it('also waits for work added while draining', async () => {
    const inFlight = new InFlight();
    const first = deferred();
    const second = deferred();
    void inFlight.track(first.promise);
    const drained = inFlight.drain(5000);
    void inFlight.track(second.promise);
    first.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    expect(inFlight.size).toBe(1);
    second.resolve();
    await expect(drained).resolves.toBe(true);
  });

  it('gives up after the timeout and reports it', async () => {
    const inFlight = new InFlight();
    const stuck = deferred();
    void inFlight.track(stuck.promise);
    await expect(inFlight.drain(20)).resolves.toBe(false);
    expect(inFlight.size).toBe(1);
    stuck.resolve();
  });
});
