import type { ValidationStatus } from '@flotilla/contracts';
import type { Credentials, DatasetCommand } from './args.js';
import { ExitCode, ProtocolError } from './errors.js';
import { ApiClient } from './http.js';
import { withApiRetries } from './retry.js';
import { waitForVerdict } from './waiter.js';

/** The exit code of a verdict: 0 passed, 1 failed, 4 error (the validation could not judge the dataset). */
export function verdictExitCode(status: ValidationStatus): number {
  if (status.status === 'passed') return ExitCode.Passed;
  if (status.status === 'error') return ExitCode.ValidationError;
  return ExitCode.Failed;
}

/**
 * `flotilla status <id>`: the validation status as it is now. `flotilla wait <id>`: polls
 * until the verdict (or `--timeout`), resolving to the last status and whether it timed out.
 */
export async function runDatasetCommand(
  command: DatasetCommand,
  credentials: Credentials,
  options: { signal?: AbortSignal; onStatus?: (status: ValidationStatus) => void } = {},
): Promise<{ status?: ValidationStatus; timedOut: boolean }> {
  const signal = options.signal;
  const client = new ApiClient(command.api, { ...('token' in credentials ? { token: credentials.token } : {}), ...(signal ? { signal } : {}) });
  if ('email' in credentials) await withApiRetries('POST /auth/login', () => client.login(credentials.email, credentials.password), signal ? { signal } : {});
  if (command.command === 'status') {
    const poll = await withApiRetries('GET /validation/{id}/status', () => client.validationStatus(command.datasetId), signal ? { signal } : {});
    if (!poll.changed) throw new ProtocolError('GET /validation/{datasetId}/status answered 304 to a request without If-None-Match.');
    return { status: poll.status, timedOut: false };
  }
  let last: ValidationStatus | undefined;
  const timeout = command.timeoutSeconds !== undefined ? AbortSignal.timeout(command.timeoutSeconds * 1000) : undefined;
  const waitSignal = timeout ? (signal ? AbortSignal.any([signal, timeout]) : timeout) : signal;
  try {
    last = await waitForVerdict(client, command.datasetId, {
      ...(waitSignal ? { signal: waitSignal } : {}),
      onStatus: (status) => {
        last = status;
        options.onStatus?.(status);
      },
    });
    return { status: last, timedOut: false };
  } catch (error) {
    if (timeout?.aborted && !signal?.aborted) return { ...(last ? { status: last } : {}), timedOut: true };
    throw error;
  }
}

