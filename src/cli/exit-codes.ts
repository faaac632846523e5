/**
 * @module cli/exit-codes
 * Every exit code the commands use, in one place: 0 success, 1 the command ran and the answer
 * is no (a check failed, files were not written, the audit trail is broken, the server could
 * not start or stop), 2 invalid usage or configuration (nothing was attempted).
 */

/** Success. */
export const EXIT_OK = 0;

/** The command ran and failed (check failures, nothing written, broken trail, fatal error). */
export const EXIT_FAILED = 1;

/** Invalid configuration or usage. */
export const EXIT_USAGE = 2;

/** Exit code when any check failed. */
export const EXIT_CHECK_FAILED = EXIT_FAILED;

/** Exit code when `deploy` wrote nothing (files exist, or the directory is not writable). */
export const EXIT_NOT_WRITTEN = EXIT_FAILED;
