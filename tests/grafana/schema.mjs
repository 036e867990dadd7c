// Grafana's dashboard schema as JSON Schema, and the check of one dashboard against it.
//
// The types come from Grafana itself: `@grafana/schema` ships the TypeScript that Grafana generates
// from its CUE kinds (the classic dashboard model `raw/dashboard/x`, and each core panel plugin's
// `Options` and `FieldConfig` under `raw/composable/<plugin>/panelcfg/x`), and
// `@grafana/grafana-foundation-sdk` the Prometheus data source's query (`prometheus.Dataquery`),
// generated from the same kinds. ts-json-schema-generator turns those types into JSON Schema with
// `additionalProperties: false` (so a misspelt field is an error, as it is to the TypeScript
// compiler) and Ajv validates against it. Nothing is copied into this repository: the schema is
// made from the pinned packages each run.
//
// Grafana's own model is loose in three places, which is why the dashboard is not checked in one
// pass: a panel's `options` and `fieldConfig.defaults.custom` are `Record<string, unknown>` (their
// types belong to the panel plugin), and its `targets` are `Record<string, unknown>` (they belong
// to the data source). So each panel is checked against `Panel` (or `RowPanel`), then its options
// and custom field config against its plugin's types, then each target against the Prometheus
// query type. A few Gatehouse rules follow (see `houseRules`).

import path from "node:path";
import { fileURLToPath } from "node:url";

import Ajv from "ajv";
import { createGenerator } from "ts-json-schema-generator";

// The packages' declaration files are read as files (the packages' `exports` do not name them).
const modules = path.join(path.dirname(fileURLToPath(import.meta.url)), "node_modules");
const schemaPackage = path.join(modules, "@grafana/schema");
const foundationPackage = path.join(modules, "@grafana/grafana-foundation-sdk");

const DASHBOARD_TYPES = path.join(schemaPackage, "dist/types/raw/dashboard/x/types.gen.d.ts");
const PROMETHEUS_TYPES = path.join(foundationPackage, "dist/prometheus/types.gen.d.ts");

/// Panel type id (as in a dashboard's JSON) -> the folder of its types in `@grafana/schema`.
const PANEL_PLUGINS = {
  timeseries: "timeseries",
  stat: "stat",
  gauge: "gauge",
  bargauge: "bargauge",
  table: "table",
  "state-timeline": "statetimeline",
  "status-history": "statushistory",
  piechart: "piechart",
  barchart: "barchart",
  heatmap: "heatmap",
  histogram: "histogram",
  text: "text",
};

/// The oldest dashboard schema version the shipped dashboards may declare (Grafana 11).
export const MIN_SCHEMA_VERSION = 39;

const ajv = new Ajv({ allErrors: true, strict: false });
const generated = new Map();

/// A compiled Ajv validator for the exported type `type` of the declaration file `file`.
function validatorFor(file, type) {
  const key = `${file}#${type}`;
  if (!generated.has(key)) {
    const schema = createGenerator({
      path: file,
      type,
      skipTypeCheck: true,
      additionalProperties: false,
      functions: "hide",
      expose: "export",
      topRef: true,
      jsDoc: "none",
    }).createSchema(type);
    generated.set(key, ajv.compile(schema));
  }
  return generated.get(key);
}

function panelTypesFile(panelType) {
  const folder = PANEL_PLUGINS[panelType];
  return folder && path.join(schemaPackage, `dist/types/raw/composable/${folder}/panelcfg/x/types.gen.d.ts`);
}

/// Validates `value` (found at `where`) against `type` of `file`; pushes one line per error.
function check(problems, where, file, type, value) {
  const validate = validatorFor(file, type);
  if (validate(value)) return;
  for (const error of validate.errors) {
    const extra =
      error.keyword === "additionalProperties"
        ? ` (${JSON.stringify(error.params.additionalProperty)})`
        : error.keyword === "enum"
          ? ` (one of ${error.params.allowedValues.map((v) => JSON.stringify(v)).join(", ")})`
          : "";
    problems.push(`${where}${error.instancePath}: ${error.message}${extra} [${type}]`);
  }
}

/// Every problem with `dashboard` (parsed JSON), each a line naming where it is; empty when valid.
export function checkDashboard(dashboard) {
  const problems = [];
  if (typeof dashboard !== "object" || dashboard === null || Array.isArray(dashboard)) {
    return ["the file is not a JSON object"];
  }
  const { panels, ...rest } = dashboard;
  check(problems, "", DASHBOARD_TYPES, "Dashboard", withoutExportOnlyFields(rest));
  if (panels !== undefined && !Array.isArray(panels)) {
    problems.push("/panels: must be array");
    return problems;
  }
  for (const [index, panel] of (panels ?? []).entries()) {
    checkPanel(problems, `/panels/${index}`, panel);
  }
  if (problems.length === 0) problems.push(...houseRules(dashboard));
  return problems;
}

/// Grafana's export writes a query variable's `definition` (the query as text, for its editor),
/// which its schema types leave out: tolerated, so that a dashboard edited in Grafana and exported
/// passes. Nothing else is.
function withoutExportOnlyFields(dashboard) {
  if (!Array.isArray(dashboard.templating?.list)) return dashboard;
  const list = dashboard.templating.list.map((variable) => {
    if (variable === null || typeof variable !== "object" || typeof variable.definition !== "string") return variable;
    const { definition: _definition, ...rest } = variable;
    return rest;
  });
  return { ...dashboard, templating: { ...dashboard.templating, list } };
}

function checkPanel(problems, where, panel) {
  if (panel?.type === "row") {
    const { panels, ...row } = panel;
    check(problems, where, DASHBOARD_TYPES, "RowPanel", { panels: [], ...row });
    for (const [index, inner] of (panels ?? []).entries()) checkPanel(problems, `${where}/panels/${index}`, inner);
    return;
  }
  check(problems, where, DASHBOARD_TYPES, "Panel", panel);
  if (typeof panel?.type !== "string") return;
  const pluginTypes = panelTypesFile(panel.type);
  if (!pluginTypes) {
    problems.push(`${where}/type: ${JSON.stringify(panel.type)} is not a panel plugin this check knows`);
    return;
  }
  if (panel.options !== undefined) check(problems, `${where}/options`, pluginTypes, "Options", panel.options);
  const custom = panel.fieldConfig?.defaults?.custom;
  if (custom !== undefined) {
    check(problems, `${where}/fieldConfig/defaults/custom`, pluginTypes, "FieldConfig", custom);
  }
  for (const [index, target] of (panel.targets ?? []).entries()) {
    check(problems, `${where}/targets/${index}`, PROMETHEUS_TYPES, "Dataquery", target);
  }
}

/// What Gatehouse's dashboards promise beyond Grafana's schema: a schema version of Grafana 11 or
/// later; a uid and a title; a `datasource` variable of type datasource (Prometheus) that every
/// panel and query uses; unique panel ids and titles; the annotation query that marks the hub's publishes and
/// rollbacks; every query a PromQL `expr` with a `refId`, using `$__rate_interval` in `rate()`, and
/// every selector choosing `job=~"$job"` and no fixed job. The metrics read the same whether
/// Prometheus scraped the gateways or an OpenTelemetry collector's exporter (deploy/METRICS.md), but
/// under different jobs, and a Prometheus may hold both: the `job` variable picks one, a fixed job
/// would leave the other path's users with empty panels.
export function houseRules(dashboard) {
  const problems = [];
  if (!(dashboard.schemaVersion >= MIN_SCHEMA_VERSION)) {
    problems.push(`/schemaVersion: ${dashboard.schemaVersion} is older than ${MIN_SCHEMA_VERSION}`);
  }
  for (const field of ["uid", "title"]) {
    if (typeof dashboard[field] !== "string" || dashboard[field] === "") problems.push(`/${field}: missing`);
  }
  const variables = dashboard.templating?.list ?? [];
  const datasource = variables.find((variable) => variable.name === "datasource");
  if (!datasource || datasource.type !== "datasource" || datasource.query !== "prometheus") {
    problems.push("/templating/list: no variable `datasource` of type datasource with query prometheus");
  }
  if (!variables.some((variable) => variable.name === "job" && variable.type === "query")) {
    problems.push("/templating/list: no query variable `job` (which path the metrics came by)");
  }
  for (const [index, variable] of variables.entries()) {
    if (variable.type === "query" && variable.datasource?.uid !== "${datasource}") {
      problems.push(`/templating/list/${index}: variable ${variable.name} does not query \${datasource}`);
    }
  }
  const marks = (dashboard.annotations?.list ?? []).find(
    (annotation) =>
      annotation.datasource?.type === "grafana" &&
      annotation.enable === true &&
      annotation.target?.type === "tags" &&
      annotation.target?.tags?.includes("gatehouse"),
  );
  if (!marks) problems.push("/annotations/list: no enabled Grafana annotation query on the tag `gatehouse`");
  const ids = new Set();
  const titles = new Set();
  for (const [index, panel] of (dashboard.panels ?? []).entries()) {
    const where = `/panels/${index} (${panel.title})`;
    if (ids.has(panel.id)) problems.push(`${where}/id: ${panel.id} is used twice`);
    ids.add(panel.id);
    // A failing panel is named by its title (tests/it/dashboards.rs), so titles are unique too.
    if (titles.has(panel.title)) problems.push(`${where}/title: used twice`);
    titles.add(panel.title);
    if (panel.type === "row") continue;
    if (panel.datasource?.uid !== "${datasource}") problems.push(`${where}/datasource: not \${datasource}`);
    if (!panel.targets?.length) problems.push(`${where}/targets: none`);
    for (const [targetIndex, target] of (panel.targets ?? []).entries()) {
      const at = `${where}/targets/${targetIndex}`;
      if (target.datasource?.uid !== "${datasource}") problems.push(`${at}/datasource: not \${datasource}`);
      if (typeof target.expr !== "string" || target.expr.trim() === "") problems.push(`${at}/expr: missing`);
      if (typeof target.refId !== "string") problems.push(`${at}/refId: missing`);
      const expr = target.expr ?? "";
      for (const match of expr.matchAll(/\bjob\s*(=~|!~|!=|=)\s*"([^"]*)"/g)) {
        if (match[1] !== "=~" || match[2] !== "$job") problems.push(`${at}/expr: filters on a fixed job: ${expr}`);
      }
      for (const match of expr.matchAll(/[A-Za-z_:][\w:]*\{([^}]*)\}/g)) {
        if (!match[1].includes('job=~"$job"')) {
          problems.push(`${at}/expr: the selector ${match[0]} does not choose job=~"$job": ${expr}`);
        }
      }
      // rate(metric{selector}[range]): the selector's braces hold no `}` in these dashboards.
      for (const match of expr.matchAll(/\b(i?rate)\(\s*[A-Za-z_:][\w:]*\s*(\{[^}]*\})?\s*\[([^\]]*)\]/g)) {
        if (match[3] !== "$__rate_interval") {
          problems.push(`${at}/expr: ${match[1]}() over [${match[3]}], not [$__rate_interval]: ${expr}`);
        }
      }
    }
  }
  return problems;
}
