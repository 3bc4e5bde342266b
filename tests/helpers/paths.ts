/**
 * Path helpers for tests.
 *
 * @module
 */
import { fileURLToPath } from "node:url";

/**
 * A file URL as a path.
 *
 * @param url The URL.
 * @returns The path.
 */
export function fromFileUrl(url: URL): string {
  return fileURLToPath(url);
}
