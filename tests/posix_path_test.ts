import assert from "node:assert/strict";
import * as node from "node:path";
import * as ours from "../core/posix_path.ts";

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
];

Deno.test("the proxy's path functions give node:path's results", () => {
  let checked = 0;
  for (const a of SEGMENTS) {
    assert.equal(ours.normalize(a), node.normalize(a), `normalize ${a}`);
    assert.equal(ours.basename(a), node.basename(a), `basename ${a}`);
    assert.equal(ours.isAbsolute(a), node.isAbsolute(a), `isAbsolute ${a}`);
    assert.equal(ours.resolve(a), node.resolve(a), `resolve ${a}`);
    for (const b of SEGMENTS) {
      assert.equal(ours.join(a, b), node.join(a, b), `join ${a} ${b}`);
      assert.equal(ours.resolve(a, b), node.resolve(a, b), `resolve ${a} ${b}`);
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
