/**
 * Loading a module only when it is needed, by a specifier `deno run` cannot
 * see ahead of time, and finding the project's files from code that may run
 * from the sources or from the bundle.
 *
 * With a literal `import("./x.ts")` Deno walks the whole reachable program
 * at start-up (reads and hashes every file, resolves npm packages), so
 * every verb paid for all the others plus zod and logtape: about 25 ms of
 * CPU, half an empty `deno run`. Through this helper a verb loads only its
 * own graph (measured in bench/, see BENCHMARKS.md).
 *
 * The same program runs from two layouts:
 * - the sources (`deno run cli.ts`, tests, the compiled binary): modules are
 *   `<project>/<path>.ts`;
 * - the bundle `dist/js/` that `deno task bundle` builds (what
 *   `bin/remoteproc-runtime` runs when it is up to date): every lazily
 *   loaded module is an entry `dist/js/<path>.js`, shared code sits in
 *   chunks, and loading is 3-5 times faster than from the many `.ts` files.
 *
 * Code moved into a chunk keeps the chunk's `import.meta.url`, so module
 * paths here are project-relative ("cli/state.ts") and resolved against
 * the entry point: `cli.ts` and `proxy.ts` call {@linkcode setEntry} first.
 *
 * `deno compile` cannot see lazy modules either: `tools/compile.ts`
 * embeds each verb's module (from the verb table, cli/verbs.ts, which the
 * core cannot import) and {@linkcode LAZY_MODULES} with `--include`, and
 * `tools/bundle.ts` makes each an entry of the bundle. {@linkcode
 * lazyImport} takes nothing else (its type says so; tests/bundle_test.ts
 * also reads the sources).
 *
 * @module
 */

/**
 * Every module loaded through {@linkcode lazyImport} besides the verbs',
 * project-relative: the proxy (the compiled binary's `__proxy`), logging,
 * and the modules that pull in zod.
 */
export const LAZY_MODULES = [
  "cli/logging.ts",
  "proxy.ts",
  "core/container/record_schema.ts",
  "core/firmware/config_schema.ts",
  "plugins/profile.ts",
] as const;

/**
 * A module {@linkcode lazyImport} may load: one of {@linkcode LAZY_MODULES}
 * or a verb's module (`cli/<verb>.ts`, named by the verb table).
 */
export type LazyModule = typeof LAZY_MODULES[number] | `cli/${string}.ts`;

/** Where the running program's modules are. */
interface Layout {
  /** The directory module paths are relative to. */
  modules: URL;
  /** The project checkout (deno.json, build_info.json, .git). */
  project: URL;
  /** Whether modules are the bundle's `.js` files. */
  bundled: boolean;
}

const SOURCE: Layout = {
  modules: new URL("../../", import.meta.url),
  project: new URL("../../", import.meta.url),
  bundled: false,
};

let layout = SOURCE;

/**
 * Tells this module where the program's entry point is. `cli.ts` and
 * `proxy.ts` call it with their `import.meta.url`; from the bundle
 * (`dist/js/cli.js`) that switches module paths to the bundle's files.
 *
 * @param entryUrl The entry module's URL, at the root of its layout.
 */
export function setEntry(entryUrl: string): void {
  if (!entryUrl.endsWith(".js")) return;
  const modules = new URL("./", entryUrl);
  layout = { modules, project: new URL("../../", modules), bundled: true };
}

/**
 * The URL of a module of the program.
 *
 * @example
 * ```ts
 * import { moduleUrl } from "./lazy.ts";
 * console.log(moduleUrl("proxy.ts").pathname.endsWith("/proxy.ts")); // true
 * ```
 *
 * @param path Project-relative source path, like `cli/state.ts`.
 * @returns Its URL in the running layout (`.js` in the bundle).
 */
export function moduleUrl(path: string): URL {
  return new URL(
    layout.bundled ? path.replace(/\.ts$/, ".js") : path,
    layout.modules,
  );
}

/**
 * The URL of a file of the project checkout (not a module).
 *
 * @param path Project-relative path, like `deno.json`.
 * @returns Its URL.
 */
export function projectUrl(path: string): URL {
  return new URL(path, layout.project);
}

/**
 * Imports a module lazily.
 *
 * @example
 * ```ts ignore
 * import { lazyImport } from "./lazy.ts";
 * const schema = await lazyImport<typeof import("../container/record_schema.ts")>(
 *   "core/container/record_schema.ts",
 * );
 * ```
 *
 * @param path Project-relative source path, one of
 * {@linkcode LAZY_MODULES}.
 * @returns Its namespace.
 */
export function lazyImport<T>(path: LazyModule): Promise<T> {
  return import(moduleUrl(path).href);
}
