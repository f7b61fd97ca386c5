export * from './storage.env.js';
export * from './object-storage.js';
export { createS3Client } from './s3-client.js';
export { StorageUnavailableError, isStorageUnavailable } from './storage-errors.js';
export { contentDisposition } from './content-disposition.js';
export * from './storage.module.js';
export * from './embedded-s3.js';
export * from './object-integrity.js';
