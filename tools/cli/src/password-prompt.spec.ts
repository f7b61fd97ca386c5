import { describe, expect, it } from '@jest/globals';
import { EventEmitter } from 'node:events';
import { UsageError } from './errors.js';
import { completeCredentials, PromptInterrupted } from './password-prompt.js';

/** A terminal that records its raw mode and types what it is given once read. */
class FakeTerminal extends EventEmitter {
  isTTY = true;
  raw: boolean[] = [];
  constructor(private readonly keys: string) {
    super();
  }
  setRawMode(raw: boolean): this {
    this.raw.push(raw);
    return this;
  }
  resume(): this {
    setImmediate(() => this.emit('data', Buffer.from(this.keys)));
    return this;
  }
  pause(): this {
    return this;
  }
}

describe('completeCredentials', () => {
  it('asks for the password on the terminal in raw mode, echoing nothing, with backspace', async () => {
    const terminal = new FakeTerminal('secreX\u007ft\r');
    let shown = '';
    const credentials = await completeCredentials({ email: 'a@b.c', promptPassword: true }, terminal, { write: (t: string) => (shown += t) });
    expect(credentials).toEqual({ email: 'a@b.c', password: 'secret' });
    expect(shown).toBe('Password for a@b.c: \n');
    expect(terminal.raw).toEqual([true, false]);
  });

  it('stops on Ctrl-C, leaving raw mode', async () => {
    const terminal = new FakeTerminal('sec\u0003');
    await expect(completeCredentials({ email: 'a@b.c', promptPassword: true }, terminal, { write: () => true })).rejects.toBeInstanceOf(PromptInterrupted);
    expect(terminal.raw).toEqual([true, false]);
  });

  it('refuses to ask without a terminal, naming FLOTILLA_PASSWORD', async () => {
    const pipe = Object.assign(new FakeTerminal('pw\n'), { isTTY: false });
    await expect(completeCredentials({ email: 'a@b.c', promptPassword: true }, pipe, { write: () => true })).rejects.toThrow(UsageError);
    await expect(completeCredentials({ email: 'a@b.c', promptPassword: true }, undefined, { write: () => true })).rejects.toThrow(/FLOTILLA_PASSWORD/);
  });

  it('passes given credentials through', async () => {
    expect(await completeCredentials({ token: 't' }, undefined, { write: () => true })).toEqual({ token: 't' });
  });
});
