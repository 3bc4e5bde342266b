/**
 * Loading a module only when it is needed, by a specifier `deno run` cannot
 * see ahead of time.
 *
 * With a literal `import("./x.ts")` Deno walks the whole reachable program
 * at start-up (reads and hashes every file, resolves npm packages), so
 * every verb paid for all the others plus zod and logtape: about 25 ms of
 * CPU, half an empty `deno run`. Through this helper a verb loads only its
 * own graph (measured in bench/, see BENCHMARKS.md).
 *
 * `deno compile` cannot see these modules either: `tools/compile.ts`
 * includes them with `--include`.
 *
 * @module
 */

/**
 * Imports a module lazily.
 *
 * @example
 * ```ts ignore
 * import { lazyImport } from "./lazy.ts";
 * const schema = await lazyImport<typeof import("./record_schema.ts")>(
 *   new URL("./record_schema.ts", import.meta.url),
 * );
 * ```
 *
 * @param url The module, usually `new URL("./x.ts", import.meta.url)`.
 * @returns Its namespace.
 */
export function lazyImport<T>(url: URL): Promise<T> {
  return import(url.href);
}
