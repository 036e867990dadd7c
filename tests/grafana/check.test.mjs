// The check's self-test (`node --test`): the shipped dashboards pass, and broken copies of one of
// them, each with one mistake of a kind Grafana would choke on or silently drop, fail with a
// message that points at the mistake.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";

import { checkFile, shippedDashboards } from "./check.mjs";
import { checkDashboard } from "./schema.mjs";

const UIDS = ["gatehouse-api-detail", "gatehouse-apis-overview", "gatehouse-consumer-detail", "gatehouse-gateway-fleet"];

test("every shipped dashboard passes", () => {
  const files = shippedDashboards();
  const uids = files.map((file) => JSON.parse(readFileSync(file, "utf8")).uid).sort();
  assert.deepEqual(uids, UIDS);
  for (const file of files) assert.deepEqual(checkFile(file), [], path.basename(file));
});

const overview = () =>
  JSON.parse(readFileSync(shippedDashboards().find((file) => file.endsWith("apis-overview.json")), "utf8"));
const firstTimeseries = (dashboard) => dashboard.panels.find((panel) => panel.type === "timeseries");

test("a variable's definition, which Grafana's export writes, is tolerated; as a number it is not", () => {
  const dashboard = overview();
  dashboard.templating.list[1].definition = dashboard.templating.list[1].query.query;
  assert.deepEqual(checkDashboard(dashboard), []);
  dashboard.templating.list[1].definition = 5;
  assert.ok(checkDashboard(dashboard).some((problem) => problem.includes('additional properties ("definition")')));
});

/// Each case breaks a fresh copy, and names a text that one of the problems must contain.
const BROKEN = [
  ["schemaVersion as a string", (d) => (d.schemaVersion = "41"), "/schemaVersion: must be number"],
  ["a panel's width as a string", (d) => (firstTimeseries(d).gridPos.w = "12"), "/gridPos/w: must be number"],
  ["a misspelt panel field", (d) => (firstTimeseries(d).titel = "x"), 'must NOT have additional properties ("titel")'],
  ["a misspelt dashboard field", (d) => (d.refresh_rate = "5s"), 'must NOT have additional properties ("refresh_rate")'],
  ["a variable of an unknown type", (d) => (d.templating.list[1].type = "querry"), "/templating/list/1/type: must be equal to one of the allowed values"],
  ["an unknown thresholds mode", (d) => (firstTimeseries(d).fieldConfig.defaults.thresholds.mode = "absolut"), "/fieldConfig/defaults/thresholds/mode"],
  ["a timeseries legend without showLegend", (d) => delete firstTimeseries(d).options.legend.showLegend, "/options/legend: must have required property 'showLegend'"],
  ["a tooltip mode the plugin lacks", (d) => (firstTimeseries(d).options.tooltip.mode = "everything"), "/options/tooltip/mode"],
  ["a line width as a string", (d) => (firstTimeseries(d).fieldConfig.defaults.custom.lineWidth = "1"), "/fieldConfig/defaults/custom/lineWidth: must be number"],
  ["a query whose expr is a number", (d) => (firstTimeseries(d).targets[0].expr = 5), "/targets/0/expr: must be string"],
  ["a query with a misspelt field", (d) => (firstTimeseries(d).targets[0].legend = "x"), 'must NOT have additional properties ("legend")'],
  ["a panel plugin that does not exist", (d) => (firstTimeseries(d).type = "timeserie"), "is not a panel plugin this check knows"],
  ["a schema version before Grafana 11", (d) => (d.schemaVersion = 30), "/schemaVersion: 30 is older than 39"],
  ["no gatehouse annotation", (d) => (d.annotations.list = d.annotations.list.filter((a) => a.type === "dashboard")), "no enabled Grafana annotation query"],
  ["a panel on a fixed data source", (d) => (firstTimeseries(d).datasource = { type: "prometheus", uid: "prom" }), "/datasource: not ${datasource}"],
  ["a query filtering on job", (d) => (firstTimeseries(d).targets[0].expr = 'sum(rate(x{job="gatehouse"}[$__rate_interval]))'), "filters on a fixed job"],
  ["a selector that does not choose the job", (d) => (firstTimeseries(d).targets[0].expr = 'sum(rate(x{instance=~"$instance"}[$__rate_interval]))'), 'does not choose job=~"$job"'],
  ["a rate over a fixed window", (d) => (firstTimeseries(d).targets[0].expr = 'sum(rate(x{job=~"$job"}[5m]))'), "rate() over [5m]"],
  ["two panels with one id", (d) => (d.panels[1].id = d.panels[0].id), "is used twice"],
  ["two panels with one title", (d) => (d.panels[1].title = d.panels[0].title), "/title: used twice"],
];

for (const [name, breakIt, expected] of BROKEN) {
  test(`a dashboard with ${name} fails`, () => {
    const dashboard = overview();
    assert.deepEqual(checkDashboard(dashboard), [], "the unbroken copy passes");
    breakIt(dashboard);
    const problems = checkDashboard(dashboard);
    assert.ok(
      problems.some((problem) => problem.includes(expected)),
      `expected a problem containing ${JSON.stringify(expected)}, got:\n${problems.join("\n")}`,
    );
  });
}
