/** The version this command reports with `--version` and in its User-Agent. */
export const VERSION = '0.1.0';
export const USER_AGENT = `flotilla-cli/${VERSION}`;
