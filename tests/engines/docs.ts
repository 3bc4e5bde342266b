/**
 * The engine tier's half of the executed documentation: runs the blocks the
 * pages mark `engine=NAME` (tests/helpers/doc_blocks.ts) with the tier's
 * engines and simulator, page by page:
 *
 *     deno run -P=test tests/engines/docs.ts --engine podman \
 *       --simulator SYSROOT --dir PRIVATE-DIR
 *
 * Prints `skip PAGE:LINE: REASON` for each skipped block, `ok PAGE (N
 * blocks)` or `FAIL PAGE` and the report; exits 1 when a page fails. With
 * `--count` it only prints how many blocks would run.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import {
  docPages,
  extractBlocks,
  PROJECT,
  runPage,
} from "../helpers/doc_blocks.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    engine: { type: "string" },
    simulator: { type: "string" },
    dir: { type: "string" },
    count: { type: "boolean", default: false },
    timeout: { type: "string", default: "600" },
  },
});
const encoder = new TextEncoder();
const say = (line: string) =>
  Deno.stdout.writeSync(encoder.encode(line + "\n"));
if (!values.engine) {
  say("usage: docs.ts --engine NAME --simulator SYSROOT --dir DIR [--count]");
  Deno.exit(2);
}

const pages = docPages().map((page) => ({
  page,
  blocks: extractBlocks(Deno.readTextFileSync(join(PROJECT, page)), page)
    .filter((b) => b.engine === values.engine),
}));
if (values.count) {
  say(String(pages.flatMap((p) => p.blocks).filter((b) => !b.skip).length));
  Deno.exit(0);
}
if (!values.simulator || !values.dir) {
  say("docs.ts: --simulator and --dir are required");
  Deno.exit(2);
}

let failed = false;
for (const { page, blocks } of pages) {
  if (blocks.length === 0) continue;
  const dir = join(values.dir, page.replaceAll("/", "_"));
  Deno.mkdirSync(dir, { recursive: true });
  const run = await runPage(blocks, {
    engine: values.engine,
    dir,
    simulator: values.simulator,
    timeoutSeconds: Number(values.timeout),
  });
  for (const block of run.skipped) {
    say(`skip ${block.file}:${block.line}: ${block.skip}`);
  }
  if (run.ran.length === 0) continue;
  if (run.ok) {
    say(`ok   ${page} (${run.ran.length} blocks)`);
  } else {
    failed = true;
    say(`FAIL ${page}\n${run.report}`);
  }
}
Deno.exit(failed ? 1 : 0);
