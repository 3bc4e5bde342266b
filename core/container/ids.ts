/**
 * Container id rules (runc's): `[A-Za-z0-9_+.-]+`, a clean single path
 * element. runc has no length limit; ours: an id becomes a directory name,
 * which Linux limits to 255 bytes (`NAME_MAX`), so `create` refuses longer
 * ids. Other verbs take ids of up to 1024 characters and find no container
 * by a longer one than 255 (so `delete --force` of one succeeds, as for any
 * unknown id).
 *
 * @module
 */
import { UsageError } from "../util/errors.ts";

const ID_PATTERN = /^[A-Za-z0-9_+.-]+$/;

/** The longest id `create` takes: a file name's limit (`NAME_MAX`). */
export const MAX_ID_LENGTH = 255;

/**
 * Throws unless `id` is a valid container id.
 *
 * @example
 * ```ts
 * import { validateId } from "./ids.ts";
 * validateId("fw-1"); // ok
 * ```
 *
 * @param id The id from the command line.
 * @throws {UsageError} For an empty or malformed id.
 */
export function validateId(id: string | undefined): asserts id is string {
  if (id === undefined || id === "") {
    throw new UsageError("container id cannot be empty");
  }
  if (!ID_PATTERN.test(id) || id === "." || id === ".." || id.length > 1024) {
    throw new UsageError(`invalid container id format: ${JSON.stringify(id)}`);
  }
}

/**
 * Throws unless `id` is valid for a new container: a valid id of at most
 * {@linkcode MAX_ID_LENGTH} characters.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { validateNewId } from "./ids.ts";
 * validateNewId("fw-1"); // ok
 * assert.throws(() => validateNewId("x".repeat(256)), {
 *   message: /is longer than 255 characters$/,
 * });
 * ```
 *
 * @param id The id from the command line.
 * @throws {UsageError} For an invalid or over-long id.
 */
export function validateNewId(id: string | undefined): asserts id is string {
  validateId(id);
  if (id.length > MAX_ID_LENGTH) {
    throw new UsageError(
      `invalid container id format: ${
        JSON.stringify(id)
      } is longer than ${MAX_ID_LENGTH} characters`,
    );
  }
}
