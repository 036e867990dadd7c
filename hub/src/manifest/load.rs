//! Reading manifests: files to documents, each value with the file, line and column it was
//! written at. YAML syntax errors, documents that are not `kind`/`name`/`spec`, unknown kinds and
//! specs of the wrong shape are [`Problem`]s with their place; nothing here stops at the first.

use std::path::Path;

use marked_yaml::Node;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::document::Kind;

/// One file of a manifest set: its path relative to the set's root (`/`-separated) and text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct SourceFile {
    pub path: String,
    pub text: String,
}

/// Where something is written: 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, utoipa::ToSchema)]
pub struct Location {
    pub file: String,
    pub line: usize,
    pub column: usize,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// A problem with what is written, at its place. `rule` names the check (`yaml-syntax`,
/// `schema`, `invalid-value`, …), the same ids the linter reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Problem {
    pub rule: &'static str,
    pub location: Location,
    /// The field at fault within its document (`spec.route.path_prefix`), empty for the document.
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}: {} [{}]", self.location, self.message, self.rule)
        } else {
            write!(f, "{}: {}: {} [{}]", self.location, self.field, self.message, self.rule)
        }
    }
}

/// One document as read, with its spec's YAML nodes kept for locating values.
#[derive(Debug, Clone)]
pub struct LocatedDocument {
    pub file: String,
    pub kind: Kind,
    pub name: String,
    /// Where the document starts (its first key).
    pub start: Location,
    spec: Node,
    name_at: Location,
    line_offset: usize,
}

impl LocatedDocument {
    /// The place of a field of the spec (`route.path_prefix`, `apis[1].api`), or of the nearest
    /// enclosing value that exists; `""` is the spec itself.
    pub fn locate(&self, field: &str) -> Location {
        let mut node = &self.spec;
        // A mapping or list is placed at the key that holds it (`rate_limit:`), not at its
        // first entry.
        let mut key_at = None;
        for segment in segments(field) {
            let next = match segment {
                Segment::Key(key) => node.as_mapping().and_then(|mapping| {
                    mapping
                        .iter()
                        .find(|(candidate, _)| candidate.as_str() == key)
                        .map(|(candidate, value)| (Some(candidate.span().start().copied()), value))
                }),
                Segment::Index(index) => node
                    .as_sequence()
                    .and_then(|sequence| sequence.get(index))
                    .map(|value| (None, value)),
            };
            match next {
                Some((key, value)) => {
                    key_at = key.flatten();
                    node = value;
                }
                None => break,
            }
        }
        match (node.as_scalar(), key_at) {
            (None, Some(marker)) => self.at(&marker),
            _ => self.location_of(node),
        }
    }

    fn at(&self, marker: &marked_yaml::Marker) -> Location {
        Location {
            file: self.file.clone(),
            line: marker.line() + self.line_offset,
            column: marker.column(),
        }
    }

    /// The place of the document's `name`.
    pub fn name_location(&self) -> Location {
        self.name_at.clone()
    }

    /// The spec as its typed form; a field of the wrong type or an unknown one is a `schema`
    /// problem at that field.
    pub fn spec<T: DeserializeOwned>(&self) -> Result<T, Problem> {
        serde_path_to_error::deserialize(to_json(&self.spec)).map_err(|error| {
            let field = error.path().to_string();
            let field = if field == "." { String::new() } else { field };
            Problem {
                rule: "schema",
                location: self.locate(&field),
                field: if field.is_empty() {
                    "spec".into()
                } else {
                    format!("spec.{field}")
                },
                message: error.into_inner().to_string(),
            }
        })
    }

    fn location_of(&self, node: &Node) -> Location {
        match node.span().start() {
            Some(marker) => Location {
                file: self.file.clone(),
                line: marker.line() + self.line_offset,
                column: marker.column(),
            },
            None => self.start.clone(),
        }
    }
}

/// A YAML node as JSON, typed by YAML's core schema: a plain `null`, `~` or empty scalar is
/// null, `true`/`false` a boolean, a plain number a number; a quoted scalar stays text.
pub fn to_json(node: &Node) -> serde_json::Value {
    use serde_json::Value;
    match node {
        Node::Scalar(scalar) => {
            let text = scalar.as_str();
            if !scalar.may_coerce() {
                return Value::String(text.to_owned());
            }
            match text {
                "" | "~" | "null" | "Null" | "NULL" => Value::Null,
                "true" | "True" | "TRUE" => Value::Bool(true),
                "false" | "False" | "FALSE" => Value::Bool(false),
                _ => {
                    if let Ok(number) = text.parse::<i64>() {
                        Value::from(number)
                    } else if let Ok(number) = text.parse::<u64>() {
                        Value::from(number)
                    } else if text.contains(['.', 'e', 'E'])
                        && text
                            .bytes()
                            .all(|byte| byte.is_ascii_digit() || b".eE+-".contains(&byte))
                        && let Some(number) = text.parse::<f64>().ok().and_then(serde_json::Number::from_f64)
                    {
                        Value::Number(number)
                    } else {
                        Value::String(text.to_owned())
                    }
                }
            }
        }
        Node::Mapping(mapping) => Value::Object(
            mapping
                .iter()
                .map(|(key, value)| (key.as_str().to_owned(), to_json(value)))
                .collect(),
        ),
        Node::Sequence(sequence) => Value::Array(sequence.iter().map(to_json).collect()),
    }
}

enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

/// `apis[1].api` → `apis`, `1`, `api`.
fn segments(field: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    for part in field.split('.').filter(|part| !part.is_empty()) {
        let mut rest = part;
        if let Some(open) = rest.find('[') {
            if open > 0 {
                out.push(Segment::Key(&rest[..open]));
            }
            rest = &rest[open..];
            while let Some(stripped) = rest.strip_prefix('[') {
                let close = stripped.find(']').unwrap_or(stripped.len());
                if let Ok(index) = stripped[..close].parse() {
                    out.push(Segment::Index(index));
                }
                rest = stripped.get(close + 1..).unwrap_or("");
            }
        } else {
            out.push(Segment::Key(rest));
        }
    }
    out
}

/// Every document of a set, and every file (an OpenAPI document referred to by
/// `openapi_file` is one of them).
#[derive(Debug, Clone, Default)]
pub struct ManifestSet {
    pub documents: Vec<LocatedDocument>,
    pub files: Vec<SourceFile>,
}

impl ManifestSet {
    /// A file of the set by its path, `..` and `.` resolved.
    pub fn file(&self, path: &str) -> Option<&SourceFile> {
        let wanted = normalize(path)?;
        self.files.iter().find(|file| file.path == wanted)
    }
}

/// `a/./b/../c.yaml` → `a/c.yaml`; `None` for a path leaving the set's root.
pub fn normalize(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            part => parts.push(part),
        }
    }
    Some(parts.join("/"))
}

/// Whether a file is read as manifests: every YAML file but an OpenAPI document (one with a
/// top-level `openapi:` or `swagger:`), so a document whose `kind` is misspelt or indented is a
/// problem, not a file silently skipped.
fn is_manifest(file: &SourceFile) -> bool {
    let yaml = file.path.ends_with(".yaml") || file.path.ends_with(".yml");
    yaml && !file
        .text
        .lines()
        .any(|line| line.starts_with("openapi:") || line.starts_with("swagger:"))
}

/// Parses a set of files. Every problem is returned, with what could be read.
pub fn parse(files: Vec<SourceFile>) -> (ManifestSet, Vec<Problem>) {
    let mut documents = Vec::new();
    let mut problems = Vec::new();
    for file in files.iter().filter(|file| is_manifest(file)) {
        for (line_offset, chunk) in split_documents(&file.text) {
            read_document(file, line_offset, chunk, &mut documents, &mut problems);
        }
    }
    (ManifestSet { documents, files }, problems)
}

/// The documents of a file with the number of lines before each: `---` lines separate them.
fn split_documents(text: &str) -> Vec<(usize, String)> {
    let mut chunks = Vec::new();
    let mut current = String::new();
    let mut start = 0;
    for (index, line) in text.lines().enumerate() {
        if line.trim_end() == "---" || line.starts_with("--- ") {
            chunks.push((start, std::mem::take(&mut current)));
            start = index + 1;
            continue;
        }
        current.push_str(line);
        current.push('\n');
    }
    chunks.push((start, current));
    chunks
        .into_iter()
        .filter(|(_, chunk)| {
            chunk
                .lines()
                .any(|line| !line.trim().is_empty() && !line.trim_start().starts_with('#'))
        })
        .collect()
}

fn read_document(
    file: &SourceFile,
    line_offset: usize,
    chunk: String,
    documents: &mut Vec<LocatedDocument>,
    problems: &mut Vec<Problem>,
) {
    let at = |line: usize, column: usize| Location {
        file: file.path.clone(),
        line: line + line_offset,
        column,
    };
    // With coercion prevented the loader marks which scalars were plain, so quoted text stays text.
    let options = marked_yaml::LoaderOptions::default()
        .error_on_duplicate_keys(true)
        .prevent_coercion(true);
    let node = match marked_yaml::parse_yaml_with_options(0, &chunk, options) {
        Ok(node) => node,
        Err(error) => {
            let (line, column) = load_error_place(&error).unwrap_or((1, 1));
            problems.push(Problem {
                rule: "yaml-syntax",
                location: at(line, column),
                field: String::new(),
                message: format!("this is not valid YAML: {error}"),
            });
            return;
        }
    };
    let start = node
        .span()
        .start()
        .map_or(at(1, 1), |marker| at(marker.line(), marker.column()));
    let Some(mapping) = node.as_mapping() else {
        problems.push(Problem {
            rule: "schema",
            location: start,
            field: String::new(),
            message: "a document is a mapping with `kind`, `name` and `spec`".into(),
        });
        return;
    };
    let mut ok = true;
    for (key, value) in mapping.iter() {
        if !matches!(key.as_str(), "kind" | "name" | "spec") {
            let place = key
                .span()
                .start()
                .map_or(start.clone(), |marker| at(marker.line(), marker.column()));
            problems.push(Problem {
                rule: "schema",
                location: place,
                field: key.as_str().to_owned(),
                message: format!(
                    "unknown field `{}`: a document has only `kind`, `name` and `spec`",
                    key.as_str()
                ),
            });
            ok = false;
        }
        let _ = value;
    }
    let scalar = |key: &str| {
        mapping.get_node(key).map(|node| {
            let place = node
                .span()
                .start()
                .map_or(start.clone(), |marker| at(marker.line(), marker.column()));
            (node.as_scalar().map(|scalar| scalar.as_str().to_owned()), place)
        })
    };
    let kind = match scalar("kind") {
        None => {
            problems.push(missing(&start, "kind"));
            None
        }
        Some((Some(word), place)) => match Kind::parse(&word) {
            Some(kind) => Some(kind),
            None => {
                let known: Vec<&str> = Kind::ALL.iter().map(|kind| kind.as_str()).collect();
                problems.push(Problem {
                    rule: "schema",
                    location: place,
                    field: "kind".into(),
                    message: format!("unknown kind `{word}`: one of {}", known.join(", ")),
                });
                None
            }
        },
        Some((None, place)) => {
            problems.push(not_text(place, "kind"));
            None
        }
    };
    let name = match scalar("name") {
        None => {
            problems.push(missing(&start, "name"));
            None
        }
        Some((Some(name), place)) => Some((name, place)),
        Some((None, place)) => {
            problems.push(not_text(place, "name"));
            None
        }
    };
    let spec = match mapping.get_node("spec") {
        Some(spec) => Some(spec.clone()),
        None => {
            problems.push(missing(&start, "spec"));
            None
        }
    };
    if let (true, Some(kind), Some((name, name_at)), Some(spec)) = (ok, kind, name, spec) {
        documents.push(LocatedDocument {
            file: file.path.clone(),
            kind,
            name,
            start,
            spec,
            name_at,
            line_offset,
        });
    }
}

fn missing(start: &Location, field: &str) -> Problem {
    Problem {
        rule: "schema",
        location: start.clone(),
        field: field.into(),
        message: format!("`{field}` is missing"),
    }
}

fn not_text(location: Location, field: &str) -> Problem {
    Problem {
        rule: "schema",
        location,
        field: field.into(),
        message: format!("`{field}` must be text"),
    }
}

/// The line and column a YAML error names, when it names one.
fn load_error_place(error: &marked_yaml::LoadError) -> Option<(usize, usize)> {
    use marked_yaml::LoadError;
    let marker = match error {
        LoadError::TopLevelMustBeMapping(marker)
        | LoadError::TopLevelMustBeSequence(marker)
        | LoadError::UnexpectedAnchor(marker)
        | LoadError::MappingKeyMustBeScalar(marker)
        | LoadError::UnexpectedTag(marker)
        | LoadError::ScanError(marker, _) => marker,
        LoadError::DuplicateKey(inner) => inner.key.span().start()?,
    };
    Some((marker.line(), marker.column()))
}

/// Reads every file under `dir` (manifests, and the OpenAPI documents they name), with paths
/// relative to it; hidden files and directories (`.git`) are skipped.
pub fn read_dir(dir: &Path) -> std::io::Result<Vec<SourceFile>> {
    let mut files = Vec::new();
    read_into(dir, dir, &mut files)?;
    files.sort_by(|left, right| left.path.cmp(&right.path));
    Ok(files)
}

fn read_into(root: &Path, dir: &Path, files: &mut Vec<SourceFile>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            read_into(root, &path, files)?;
            continue;
        }
        let extension = path.extension().and_then(|extension| extension.to_str()).unwrap_or("");
        if !matches!(extension, "yaml" | "yml" | "json") {
            continue;
        }
        let relative = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .components()
            .map(|component| component.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        let text = std::fs::read_to_string(&path)
            .map_err(|error| std::io::Error::new(error.kind(), format!("{}: {error}", path.display())))?;
        files.push(SourceFile { path: relative, text });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, text: &str) -> SourceFile {
        SourceFile {
            path: path.into(),
            text: text.into(),
        }
    }

    #[test]
    fn documents_know_the_line_of_every_value() {
        let (set, problems) = parse(vec![file(
            "apis.yaml",
            "kind: Group\nname: support\nspec: {}\n---\n# the second\nkind: Plan\nname: gold\nspec:\n  rate_limit:\n    requests: 10\n    window_seconds: 60\n",
        )]);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(set.documents.len(), 2);
        let plan = &set.documents[1];
        assert_eq!((plan.kind, plan.name.as_str()), (Kind::Plan, "gold"));
        assert_eq!(plan.name_location().line, 7);
        let at = plan.locate("rate_limit.window_seconds");
        assert_eq!((at.line, at.column), (11, 21));
        assert_eq!(
            plan.locate("rate_limit.nothing").line,
            9,
            "the nearest value that exists, at its key"
        );
    }

    #[test]
    fn problems_name_their_place() {
        let (set, problems) = parse(vec![
            file("a.yaml", "kind: Gizmo\nname: x\nspec: {}\n"),
            file("b.yaml", "kind: Plan\nname: [oops\n"),
            file(
                "c.yaml",
                "kind: Plan\nname: free\nspec:\n  rate_limit: { requests: lots, window_seconds: 60 }\n",
            ),
        ]);
        assert!(set.documents.iter().all(|document| document.name == "free"));
        let rules: Vec<(&str, &str, usize)> = problems
            .iter()
            .map(|problem| (problem.rule, problem.location.file.as_str(), problem.location.line))
            .collect();
        assert!(rules.contains(&("schema", "a.yaml", 1)), "{problems:?}");
        assert!(
            rules
                .iter()
                .any(|(rule, file, _)| *rule == "yaml-syntax" && *file == "b.yaml"),
            "{problems:?}"
        );
        let plan = set.documents.iter().find(|document| document.name == "free").unwrap();
        let problem = plan.spec::<crate::manifest::document::PlanSpec>().unwrap_err();
        assert_eq!(problem.location.line, 4, "{problem}");
        assert!(problem.field.starts_with("spec.rate_limit"), "{problem}");
    }

    #[test]
    fn paths_cannot_leave_the_root() {
        assert_eq!(normalize("apis/./pets/../pets.yaml").as_deref(), Some("apis/pets.yaml"));
        assert_eq!(normalize("../etc/passwd"), None);
    }
}
