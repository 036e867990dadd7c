// Checks every dashboard under deploy/grafana/dashboards/ (or the files named on the command line)
// against Grafana's dashboard schema and Gatehouse's rules (schema.mjs); prints each problem as
// `file: /json/path: message` and exits 1 when there is one.
//
//   cd tests/grafana && npm ci && node check.mjs [FILE...]

import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { checkDashboard } from "./schema.mjs";

export const DASHBOARDS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../deploy/grafana/dashboards");

/// The shipped dashboards' paths, sorted.
export function shippedDashboards() {
  return readdirSync(DASHBOARDS)
    .filter((name) => name.endsWith(".json"))
    .sort()
    .map((name) => path.join(DASHBOARDS, name));
}

/// Every problem of the file at `file`: a JSON syntax error, or what `checkDashboard` finds.
export function checkFile(file) {
  let dashboard;
  try {
    dashboard = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    return [`not JSON: ${error.message}`];
  }
  return checkDashboard(dashboard);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const files = process.argv.length > 2 ? process.argv.slice(2) : shippedDashboards();
  let failed = 0;
  for (const file of files) {
    const problems = checkFile(file);
    const name = path.relative(process.cwd(), file);
    if (problems.length === 0) {
      console.log(`ok ${name}`);
    } else {
      failed += 1;
      for (const problem of problems) console.log(`${name}: ${problem}`);
    }
  }
  if (files.length === 0) {
    console.log(`no dashboards under ${DASHBOARDS}`);
    process.exit(1);
  }
  process.exit(failed === 0 ? 0 : 1);
}
