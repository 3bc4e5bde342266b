import assert from "node:assert/strict";
import * as node from "node:path";
import * as ours from "../core/util/posix_path.ts";

const SEGMENTS = [
  "",
  ".",
  "..",
  "/",
  "//",
  "a",
  "a/",
  "/a",
  "a/b",
  "./a",
  "../a",
  "a/..",
  "a/../..",
  "/..",
  "a//b/./c/",
  "remoteproc0",
  "/sys/class/remoteproc/",
  "...",
  ".a",
  "a.",
  "a.b.elf",
  "/x/.a.b",
  "a/b.c/",
  "..a",
  "//a",
  "///a/b//",
];

Deno.test("the runtime's path functions give node:path's results", () => {
  let checked = 0;
  for (const a of SEGMENTS) {
    assert.equal(ours.normalize(a), node.normalize(a), `normalize ${a}`);
    assert.equal(ours.basename(a), node.basename(a), `basename ${a}`);
    assert.equal(ours.isAbsolute(a), node.isAbsolute(a), `isAbsolute ${a}`);
    assert.equal(ours.resolve(a), node.resolve(a), `resolve ${a}`);
    assert.equal(ours.dirname(a), node.dirname(a), `dirname ${a}`);
    assert.equal(ours.extname(a), node.extname(a), `extname ${a}`);
    const ext = node.extname(a);
    assert.equal(ours.basename(a, ext), node.basename(a, ext), `stem ${a}`);
    for (const b of SEGMENTS) {
      assert.equal(ours.join(a, b), node.join(a, b), `join ${a} ${b}`);
      assert.equal(ours.resolve(a, b), node.resolve(a, b), `resolve ${a} ${b}`);
      assert.equal(
        ours.relative(a, b),
        node.relative(a, b),
        `relative ${a} ${b}`,
      );
      for (const c of ["x", "..", "/y", ""]) {
        assert.equal(ours.join(a, b, c), node.join(a, b, c));
        assert.equal(ours.resolve(a, b, c), node.resolve(a, b, c));
        checked++;
      }
    }
  }
  assert.equal(ours.join(), node.join());
  assert.equal(ours.resolve(), node.resolve());
  assert.ok(checked > 1_000);
});

Deno.test("fileURLToPath decodes file: URLs and refuses others", async () => {
  const { fileURLToPath } = await import("node:url");
  for (const url of ["file:///a/b%20c.ts", "file:///%C3%A9/x", "file:///"]) {
    assert.equal(ours.fileURLToPath(url), fileURLToPath(url));
    assert.equal(ours.fileURLToPath(new URL(url)), fileURLToPath(url));
  }
  assert.throws(() => ours.fileURLToPath("https://x/y"), TypeError);
});
