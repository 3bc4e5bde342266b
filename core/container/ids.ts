/**
 * Container id rules (runc's): `[A-Za-z0-9_+.-]+`, a clean single path
 * element.
 *
 * @module
 */
import { UsageError } from "../util/errors.ts";

const ID_PATTERN = /^[A-Za-z0-9_+.-]+$/;

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
