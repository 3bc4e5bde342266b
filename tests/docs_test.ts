/**
 * The pages' shell blocks marked `runnable` run as written against the
 * simulator (see tests/helpers/doc_blocks.ts for the markers); a page whose
 * commands stop working fails here, as `deno test --doc` keeps the
 * TypeScript examples honest. Blocks for an engine run in the engine tier
 * (tests/engines/docs.ts).
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type DocBlock,
  docPages,
  extractBlocks,
  PROJECT,
  runPage,
} from "./helpers/doc_blocks.ts";

const pages = new Map<string, DocBlock[]>();
for (const page of docPages()) {
  pages.set(
    page,
    extractBlocks(Deno.readTextFileSync(join(PROJECT, page)), page),
  );
}

Deno.test("the pages mark runnable blocks for the simulator, and say why the others are skipped", () => {
  const all = [...pages.values()].flat();
  assert.ok(
    all.some((b) =>
      b.file === "README.md" && b.engine === undefined && !b.skip
    ),
    "README.md has runnable blocks",
  );
  for (const block of all.filter((b) => b.skip !== undefined)) {
    assert.ok(block.skip!.length >= 10, `${block.file}:${block.line}: say why`);
  }
});

for (const [page, blocks] of pages) {
  const mine = blocks.filter((b) => b.engine === undefined);
  if (mine.length === 0) continue;
  Deno.test(`${page}: its runnable shell blocks run as written against the simulator`, async (t) => {
    for (const block of mine.filter((b) => b.skip !== undefined)) {
      await t.step({
        name: `${page}:${block.line} skipped: ${block.skip}`,
        ignore: true,
        fn: () => {},
      });
    }
    const dir = Deno.makeTempDirSync({ prefix: "rprt-docs-" });
    try {
      const run = await runPage(blocks, {
        engine: undefined,
        dir,
        timeoutSeconds: 300,
      });
      assert.ok(run.ok, `${page}: ${run.report}`);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  });
}

Deno.test("a page fails when a block's command fails or it leaves a process running, naming the block", async () => {
  const page = [
    "```sh runnable",
    "echo first",
    "```",
    "",
    "```sh runnable",
    "false",
    "echo never",
    "```",
  ].join("\n");
  const dir = Deno.makeTempDirSync({ prefix: "rprt-docs-" });
  try {
    const failed = await runPage(extractBlocks(page, "page.md"), {
      engine: undefined,
      dir,
      timeoutSeconds: 60,
    });
    assert.equal(failed.ok, false);
    assert.match(failed.report, /^the block at page\.md:5 failed \(exit 1\)/);
    assert.match(failed.report, /\$ false\n/);
    assert.match(failed.report, /what the page printed:\n {2}\| first$/);

    const leaves =
      "```sh runnable\ntouch /tmp/rprt-x\ntail -f /tmp/rprt-x &\n```\n";
    const left = await runPage(extractBlocks(leaves, "page.md"), {
      engine: undefined,
      dir,
      timeoutSeconds: 60,
    });
    assert.equal(left.ok, false);
    assert.match(
      left.report,
      /^every block succeeded\n\nleft running after the page: \d+:tail -f \/tmp\/rprt-docs-\w+\/rprt-x\n/,
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a block marked wrongly is an error, not a block silently left out", () => {
  const cases: Array<[string, RegExp]> = [
    ["```sh runable", /unknown marker "runable"/],
    ['```sh runnable skip="x"', /mark a block runnable or skip="REASON"/],
    ["```sh skip", /skip needs a reason/],
    ["```sh runnable engine=lxc", /engine= takes one of podman, ctr, docker/],
    ["```sh runnable background", /needs ready="TEXT"/],
  ];
  for (const [fence, message] of cases) {
    assert.throws(
      () => extractBlocks(`text\n${fence}\nls\n\`\`\`\n`, "p.md"),
      (error: Error) =>
        error.name === "DocMarkError" && message.test(error.message) &&
        error.message.startsWith("p.md:2: "),
      fence,
    );
  }
  // Unmarked blocks and other languages are not run.
  assert.deepEqual(
    extractBlocks("```sh\nls\n```\n```toml\nx = 1\n```\n", "p.md"),
    [],
  );
});
