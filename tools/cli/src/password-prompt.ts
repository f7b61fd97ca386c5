import type { Credentials, PasswordPrompt } from './args.js';
import { UsageError } from './errors.js';

/** A terminal to read a password from: Node's `process.stdin` when it is a TTY. */
export interface TerminalInput {
  isTTY?: boolean;
  setRawMode?(raw: boolean): unknown;
  on(event: 'data', listener: (chunk: Buffer | string) => void): unknown;
  off(event: 'data', listener: (chunk: Buffer | string) => void): unknown;
  resume(): unknown;
  pause(): unknown;
}

/** Thrown when Ctrl-C is pressed at the prompt. */
export class PromptInterrupted extends Error {
  override readonly name = 'PromptInterrupted';
}

/**
 * The credentials with the password asked on the terminal when the command line left it
 * out: read in raw mode, so nothing typed is echoed. Without a terminal (a script, a
 * pipe) it is a usage error that names FLOTILLA_PASSWORD.
 */
export async function completeCredentials(
  credentials: Credentials | PasswordPrompt,
  input: TerminalInput | undefined,
  output: { write(text: string): unknown },
): Promise<Credentials> {
  if (!('promptPassword' in credentials)) return credentials;
  if (!input?.isTTY || !input.setRawMode) {
    throw new UsageError('Missing the password: no terminal to ask it on; set FLOTILLA_PASSWORD (or FLOTILLA_TOKEN).');
  }
  output.write(`Password for ${credentials.email}: `);
  const password = await readHidden(input);
  output.write('\n');
  return { email: credentials.email, password };
}

function readHidden(input: TerminalInput): Promise<string> {
  return new Promise((resolve, reject) => {
    let typed = '';
    const done = (finish: () => void): void => {
      input.off('data', onData);
      input.setRawMode!(false);
      input.pause();
      finish();
    };
    const onData = (chunk: Buffer | string): void => {
      for (const char of chunk.toString('utf8')) {
        if (char === '\r' || char === '\n' || char === '\u0004') return done(() => resolve(typed));
        if (char === '\u0003') return done(() => reject(new PromptInterrupted('interrupted')));
        if (char === '\u007f' || char === '\b') typed = [...typed].slice(0, -1).join('');
        else if (char >= ' ') typed += char;
      }
    };
    input.setRawMode!(true);
    input.on('data', onData);
    input.resume();
  });
}
