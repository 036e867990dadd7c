//! Configuration as code: the declarative YAML format for what an admin manages (APIs with
//! their versions, external APIs, groups, plans, access policies), read with the line and column
//! of every value so that each problem points at its place in the file.
//!
//! - [`document`]: the document types (`kind`, `name`, `spec`), the format's contract.
//! - [`load`]: files to located documents, with YAML syntax and schema problems.
//! - [`state`]: documents to the hub's model objects, checked by the model's own rules.
//! - [`export`]: the model objects back to files, deterministically.
//!
//! Applying a set to a hub is `domain::manifests`; the linter is `lint`; the change-impact report
//! is `impact`. None of this module touches the store.

pub mod document;
pub mod export;
pub mod load;
pub mod state;

pub use document::{Document, Kind};
pub use load::{LocatedDocument, Location, ManifestSet, Problem, SourceFile};
pub use state::ManifestState;
