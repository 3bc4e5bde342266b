/**
 * Executable documentation: finds the shell blocks a page marks and runs
 * them as a reader would, one page at a time, in one shell.
 *
 * A block is marked in its fence's info string, after the language (`sh` or
 * `bash`), which renderers ignore:
 *
 * - `sh runnable`: run by `tests/docs_test.ts` against the simulator (the
 *   `npm test` tier);
 * - `sh runnable engine=podman` (or `ctr`, `docker`): run by the engine tier
 *   (`tests/engines/run.sh`, through `tests/engines/docs.ts`) with that
 *   engine set up;
 * - `background ready="TEXT"` (with `runnable`): started and left running
 *   (a second terminal, for the reader) until its output shows TEXT; stopped
 *   with SIGTERM when the page is done;
 * - `sh skip="REASON"`: never run (it needs a real board, or changes the
 *   machine); the tests show the reason. `engine=NAME` puts the skip in
 *   that engine's tier.
 * - `json file="/tmp/rprt-x/a.json"` (any language but a shell's, with an
 *   optional `engine=NAME`): a file the page shows, written there, in
 *   order with the other blocks, when the page runs.
 *
 * A page's blocks run in order in one bash script (`set -e -o pipefail`),
 * from the checkout, so what a block exports or where it `cd`s carries to
 * the next. Pages keep what they make under `/tmp/rprt-*` (the simulator's
 * root is `/tmp/rprt-sim`); the tests replace that prefix with a private
 * directory, so a run never meets another, and never touches the real
 * `/sys` or `/lib/firmware`. Processes a page leaves behind under that
 * directory fail it.
 *
 * @module
 */
import { join, relative } from "node:path";
import { fromFileUrl } from "./paths.ts";

/** The checkout. */
export const PROJECT: string = fromFileUrl(new URL("../..", import.meta.url))
  .replace(/\/$/, "");

const SHELLS = new Set(["sh", "bash"]);
const ATTRIBUTES = new Set([
  "runnable",
  "engine",
  "background",
  "ready",
  "skip",
]);
const ENGINES = new Set(["podman", "ctr", "docker"]);

/** One marked shell block. */
export interface DocBlock {
  /** The page, relative to the checkout. */
  file: string;
  /** Line of the opening fence (1-based). */
  line: number;
  /** Run in this engine's tier; undefined: the `npm test` tier. */
  engine: string | undefined;
  /** Why it is never run; undefined for a runnable block. */
  skip: string | undefined;
  /** Started and left running. */
  background: boolean;
  /** For a background block: the output that says it is ready. */
  ready: string | undefined;
  /** For a file block (`file=PATH`): the file its text is written to. */
  writes: string | undefined;
  /** The commands, or a file block's text. */
  code: string;
}

/** A block marked wrongly: the page must be fixed. */
export class DocMarkError extends Error {
  /** @param message Where and what. */
  constructor(message: string) {
    super(message);
    this.name = "DocMarkError";
  }
}

function parseInfo(
  info: string,
  where: string,
): Map<string, string | true> {
  const attrs = new Map<string, string | true>();
  const re = /([A-Za-z][\w-]*)(?:=(?:"([^"]*)"|(\S+)))?/y;
  let rest = info.trim();
  while (rest !== "") {
    re.lastIndex = 0;
    const m = re.exec(rest);
    if (!m) throw new DocMarkError(`${where}: cannot read "${rest}"`);
    attrs.set(m[1]!, m[2] ?? m[3] ?? true);
    rest = rest.slice(m[0].length).trimStart();
  }
  return attrs;
}

/**
 * The marked shell blocks of a page, in order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { extractBlocks } from "./doc_blocks.ts";
 *
 * const fence = "`".repeat(3);
 * const page = [
 *   "Try it:",
 *   "",
 *   `${fence}sh runnable`,
 *   "bin/remoteproc-runtime list",
 *   fence,
 *   "",
 *   `${fence}sh skip="needs a real board"`,
 *   "cat /sys/class/remoteproc/remoteproc0/state",
 *   fence,
 * ].join("\n");
 * const [run, skip] = extractBlocks(page, "page.md");
 * assert.equal(run!.code, "bin/remoteproc-runtime list\n");
 * assert.equal(run!.line, 3);
 * assert.equal(skip!.skip, "needs a real board");
 * ```
 *
 * @param text The page.
 * @param file Its name, for messages.
 * @returns The blocks marked `runnable`, `skip` or `file=`.
 * @throws {DocMarkError} For a marker that is not understood.
 */
export function extractBlocks(text: string, file: string): DocBlock[] {
  const lines = text.split("\n");
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^( *)(`{3,}|~{3,})\s*([^`\s]*)(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const [, indent, fence, lang, info] = open;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const line = lines[j]!;
      const close = /^ *(`{3,}|~{3,})\s*$/.exec(line);
      if (
        close && close[1]![0] === fence![0] && close[1]!.length >= fence!.length
      ) {
        break;
      }
      body.push(
        line.startsWith(indent!)
          ? line.slice(indent!.length)
          : line.trimStart(),
      );
    }
    const where = `${file}:${i + 1}`;
    const start = i;
    i = j;
    const shell = SHELLS.has(lang!);
    if (info!.trim() === "" || (!shell && !/\bfile=/.test(info!))) continue;
    const attrs = parseInfo(info!, where);
    if (!shell) {
      const writes = attrs.get("file");
      const engine = attrs.get("engine");
      for (const key of attrs.keys()) {
        if (key !== "file" && key !== "engine") {
          throw new DocMarkError(
            `${where}: unknown marker "${key}" on a ${lang} block (known: file, engine)`,
          );
        }
      }
      if (typeof writes !== "string" || !writes.startsWith("/")) {
        throw new DocMarkError(`${where}: file= takes an absolute path`);
      }
      if (engine !== undefined && (engine === true || !ENGINES.has(engine))) {
        throw new DocMarkError(
          `${where}: engine= takes one of ${[...ENGINES].join(", ")}`,
        );
      }
      blocks.push({
        file,
        line: start + 1,
        engine,
        skip: undefined,
        background: false,
        ready: undefined,
        writes,
        code: body.join("\n") + "\n",
      });
      continue;
    }
    for (const key of attrs.keys()) {
      if (!ATTRIBUTES.has(key)) {
        throw new DocMarkError(
          `${where}: unknown marker "${key}" (known: ${
            [...ATTRIBUTES].join(", ")
          })`,
        );
      }
    }
    const runnable = attrs.get("runnable") === true;
    const skip = attrs.get("skip");
    if (runnable === (skip !== undefined)) {
      throw new DocMarkError(
        `${where}: mark a block runnable or skip="REASON"`,
      );
    }
    if (skip === true || skip === "") {
      throw new DocMarkError(`${where}: skip needs a reason: skip="REASON"`);
    }
    const engine = attrs.get("engine");
    if (engine !== undefined && (engine === true || !ENGINES.has(engine))) {
      throw new DocMarkError(
        `${where}: engine= takes one of ${[...ENGINES].join(", ")}`,
      );
    }
    const background = attrs.get("background") === true;
    const ready = attrs.get("ready");
    if (background !== (typeof ready === "string" && ready !== "")) {
      throw new DocMarkError(
        `${where}: a background block needs ready="TEXT" (and only it)`,
      );
    }
    blocks.push({
      file,
      line: start + 1,
      engine: engine as string | undefined,
      skip: skip as string | undefined,
      background,
      ready: ready as string | undefined,
      writes: undefined,
      code: body.join("\n") + "\n",
    });
  }
  return blocks;
}

/**
 * The pages whose blocks are executed: README.md, the engine and plugin
 * pages, and the plugin guide.
 *
 * @returns Paths relative to the checkout.
 */
export function docPages(): string[] {
  const pages = ["README.md", "docs/writing-a-plugin.md"];
  for (const dir of ["docs/engines", "docs/plugins"]) {
    for (const entry of Deno.readDirSync(join(PROJECT, dir))) {
      if (entry.isFile && entry.name.endsWith(".md")) {
        pages.push(`${dir}/${entry.name}`);
      }
    }
  }
  return pages.sort();
}

/** How to run a page. */
export interface RunOptions {
  /** The engine whose blocks run; undefined: the `npm test` tier. */
  engine: string | undefined;
  /** A private directory: the pages' `/tmp/rprt-*` go there, and the logs. */
  dir: string;
  /** Where the simulator root `/tmp/rprt-sim` goes (default under `dir`). */
  simulator?: string;
  /** Extra environment. */
  env?: Record<string, string>;
  /** Seconds before the page is stopped. */
  timeoutSeconds: number;
}

/** What running a page's blocks gave. */
export interface PageRun {
  /** True when every block succeeded and nothing was left running. */
  ok: boolean;
  /** The blocks run. */
  ran: DocBlock[];
  /** The skipped blocks. */
  skipped: DocBlock[];
  /** On failure: which block, its exit code, and what the page printed. */
  report: string;
}

const PRELUDE = fromFileUrl(new URL("./doc_prelude.sh", import.meta.url));

function substitute(code: string, options: RunOptions): string {
  const sim = options.simulator ?? join(options.dir, "rprt-sim");
  // One pass: the replacement may itself start with the prefix.
  return code.replace(
    /\/tmp\/rprt-(sim\b)?/g,
    (_, isSim) => isSim ? sim : join(options.dir, "rprt-"),
  );
}

/**
 * Runs a page's runnable blocks for one tier, in one bash script.
 *
 * @param blocks The page's blocks (from {@linkcode extractBlocks}).
 * @param options The tier, the private directory, the timeout.
 * @returns What happened.
 */
export async function runPage(
  blocks: DocBlock[],
  options: RunOptions,
): Promise<PageRun> {
  const mine = blocks.filter((b) => b.engine === options.engine);
  const ran = mine.filter((b) => b.skip === undefined);
  const skipped = mine.filter((b) => b.skip !== undefined);
  if (ran.length === 0) return { ok: true, ran, skipped, report: "" };
  const dir = options.dir;
  let script = `__dir=${shellQuote(dir)}\n. ${shellQuote(PRELUDE)}\n`;
  let n = 0;
  for (const block of ran) {
    const code = substitute(block.code, options);
    script += `\n__block ${JSON.stringify(`${block.file}:${block.line}`)}\n`;
    if (block.writes !== undefined) {
      const path = shellQuote(substitute(block.writes, options));
      script +=
        `mkdir -p "$(dirname ${path})"\ncat >${path} <<'__RPRT_DOC_EOF__'\n${code}__RPRT_DOC_EOF__\n`;
    } else if (block.background) {
      const log = join(dir, `background${++n}.log`);
      script += `setsid bash -e -o pipefail -c ${shellQuote(code)} >${
        shellQuote(log)
      } 2>&1 </dev/null &\n__bg+=($!)\n__ready $! ${shellQuote(log)} ${
        shellQuote(block.ready!)
      }\n`;
    } else {
      script += code;
    }
  }
  script += "\n__block done\n";
  const scriptFile = join(dir, "page.sh");
  const out = join(dir, "page.out");
  Deno.writeTextFileSync(scriptFile, script);
  // Output to a file, not a pipe: the proxies the page's `create`s start
  // inherit it and may outlive the script.
  const { code } = await new Deno.Command("/bin/sh", {
    args: [
      "-c",
      'out=$1; shift; exec "$@" >"$out" 2>&1',
      "sh",
      out,
      "timeout",
      "--kill-after=10",
      String(options.timeoutSeconds),
      "bash",
      scriptFile,
    ],
    cwd: PROJECT,
    env: { NO_COLOR: "1", TMPDIR: dir, ...options.env },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).output();
  const at = readOr(join(dir, ".block")).trim();
  const left = readOr(join(dir, ".left")).trim();
  const ok = code === 0 && left === "" && at === "done";
  let report = "";
  if (!ok) {
    const block = ran.find((b) => `${b.file}:${b.line}` === at);
    report = [
      code === 124 || code === 137
        ? `timed out after ${options.timeoutSeconds} s in the block at ${at}`
        : at === "done"
        ? "every block succeeded"
        : `the block at ${at} failed (exit ${code})`,
      ...(block ? ["", indent(block.code.trimEnd(), "  $ ")] : []),
      ...(left ? ["", left] : []),
      "",
      "what the page printed:",
      indent(readOr(out).trimEnd(), "  | "),
      ...[...Deno.readDirSync(dir)]
        .filter((e) => e.name.startsWith("background"))
        .map((e) =>
          `\n${relative(dir, join(dir, e.name))}:\n${
            indent(readOr(join(dir, e.name)).trimEnd(), "  | ")
          }`
        ),
    ].join("\n");
  }
  return { ok, ran, skipped, report };
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

function indent(text: string, prefix: string): string {
  return text.split("\n").map((l) => prefix + l).join("\n");
}

function readOr(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
}
