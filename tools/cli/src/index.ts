/**
 * `@flotilla/cli`: the `flotilla` command, and the same steps as a library so a program
 * (or an end-to-end test) can upload a folder as a dataset and get its verdict in-process.
 */
export { uploadDataset, type UploadDatasetOptions } from './upload-dataset.js';
export { run, INTERRUPTED, type CliIo } from './cli.js';
export {
  parseCommand,
  USAGE,
  DEFAULT_API,
  DEFAULT_CONCURRENCY,
  type Command,
  type Credentials,
  type DatasetCommand,
  type PasswordPrompt,
  type UploadCommand,
} from './args.js';
export type { Reporter } from './reporter.js';
export { LineReporter, BarReporter } from './reporter.js';
export { listFolder, hashFiles, sha256File, type FolderFile, type FolderListing, type LocalFile } from './scan.js';
export { contentTypeOf, DEFAULT_CONTENT_TYPE } from './content-types.js';
export { uploadFiles, planUploads, type UploadFilesOptions, type UploadProgress, type UploadUnit, type RetryNotice, type CompletedFiles } from './uploader.js';
export { waitForVerdict, isFinished, type WaitOptions } from './waiter.js';
export { ApiClient, apiBase, retryAfterMs, type StatusPoll, type TokenPair } from './http.js';
export { renderVerdict, renderIssues } from './render.js';
export { withApiRetries, isTransient, type ApiRetryOptions } from './retry.js';
export { stateDirectory, UploadStateFile, type UploadState } from './state.js';
export { sendUpload, freshPosition, resumedPosition, type UploadPosition, type SendOptions } from './send-upload.js';
export { runDatasetCommand, verdictExitCode } from './dataset-commands.js';
export { completeCredentials, PromptInterrupted, type TerminalInput } from './password-prompt.js';
export {
  ExitCode,
  CliError,
  UsageError,
  InputError,
  ApiError,
  NetworkError,
  TransferError,
  UrlExpiredError,
  ProtocolError,
  exitCodeOf,
  type Problem,
} from './errors.js';
export { VERSION } from './version.js';
