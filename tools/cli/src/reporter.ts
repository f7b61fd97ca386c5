import type { CompleteUploadResponse, ValidationStatus } from '@flotilla/contracts';
import type { FolderListing, LocalFile } from './scan.js';
import type { RetryNotice, UploadProgress } from './uploader.js';

/**
 * What `uploadDataset` tells about its progress. Every method is optional; `close` is
 * called last, whether the upload succeeded or not.
 */
export interface Reporter {
  listed?(listing: FolderListing & { bytesTotal: number }): void;
  hashProgress?(bytesDone: number, bytesTotal: number): void;
  hashed?(files: LocalFile[]): void;
  uploadStarted?(info: { datasetId: string; filesTotal: number; bytesTotal: number; multipartFiles: number }): void;
  uploadProgress?(progress: UploadProgress): void;
  fileUploaded?(filename: string, progress: UploadProgress): void;
  retry?(notice: RetryNotice): void;
  /** The upload is complete and validation is queued. */
  completed?(response: CompleteUploadResponse): void;
  /** A validation status that differs from the one before. */
  validationStatus?(status: ValidationStatus): void;
  close?(): void;
}
