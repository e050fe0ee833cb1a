// node dolos.mjs FILES.txt OUT.json: Dolos (@dodona/dolos-lib, default options,
// language C) over every file listed (the reference files and the generated
// outputs, one analysis); for each output file (path containing "/out/"),
// the regions of it that Dolos pairs with a reference file.
// Regions are tree-sitter positions: 0-based row, column.
import { readFileSync, writeFileSync } from "node:fs";
import { Dolos } from "@dodona/dolos-lib";

const [, , list, out] = process.argv;
const files = readFileSync(list, "utf8").split("\n").filter(Boolean);
const t0 = performance.now();
const dolos = new Dolos({ language: "c" });
const report = await dolos.analyzePaths(files);
const t1 = performance.now();
const res = {};
let pairs = 0;
for (const pair of report.allPairs()) {
  const l = pair.leftFile.path, r = pair.rightFile.path;
  const lo = l.includes("/out/"), ro = r.includes("/out/");
  if (lo === ro) continue; // output-output or reference-reference
  pairs++;
  for (const f of pair.buildFragments()) {
    const sel = lo ? f.leftSelection : f.rightSelection;
    const key = lo ? l : r;
    (res[key] ||= []).push([sel.startRow, sel.startCol, sel.endRow, sel.endCol]);
  }
}
const t2 = performance.now();
writeFileSync(out, JSON.stringify({ analyze_s: (t1 - t0) / 1e3, fragments_s: (t2 - t1) / 1e3, pairs, regions: res }));
