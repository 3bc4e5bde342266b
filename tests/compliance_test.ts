import assert from "node:assert/strict";
import { fromFileUrl } from "./helpers/paths.ts";
import { features } from "../core/ops/features.ts";
import { allPlugins } from "../plugins/registry.ts";

const here = new URL(".", import.meta.url);

function testNames(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: URL) => {
    for (const entry of Deno.readDirSync(dir)) {
      if (entry.isDirectory) walk(new URL(`${entry.name}/`, dir));
      else if (entry.name.endsWith("_test.ts")) {
        const text = Deno.readTextFileSync(new URL(entry.name, dir));
        for (const m of text.matchAll(/Deno\.test\(\s*"((?:[^"\\]|\\.)*)"/g)) {
          names.add(m[1]!.replace(/\\"/g, '"'));
        }
      }
    }
  };
  walk(here);
  return names;
}

Deno.test("every test OCI_COMPLIANCE.md cites exists in the suite", () => {
  const doc = Deno.readTextFileSync(
    fromFileUrl(new URL("../OCI_COMPLIANCE.md", import.meta.url)),
  );
  const cited = [...doc.matchAll(/\| "([^"]+)" *\|/g)].map((m) => m[1]!);
  assert.ok(cited.length >= 10, "the page cites tests");
  const names = testNames();
  const missing = cited.filter((name) => !names.has(name));
  assert.deepEqual(missing, []);
});

Deno.test("features lists the annotations and plugins it honours", () => {
  const doc = features(allPlugins()) as {
    ociVersionMin: string;
    annotations: Record<string, string>;
  };
  assert.equal(doc.ociVersionMin, "1.0.0");
  assert.ok(
    "org.remoteproc-runtime.annotation.remoteproc.name" in doc.annotations,
  );
  assert.match(doc.annotations["org.remoteproc-runtime.plugins"]!, /generic/);
});
