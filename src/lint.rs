//! `gatehouse lint DIR`: the manifests of a directory checked offline by `hub::lint`, printed as
//! text, JSON or SARIF, with an exit status CI can act on.

use std::io::Write;
use std::process::ExitCode;

use hub::lint::output::{self, Format};
use hub::manifest::load;

use crate::cli::{LintArgs, LintFormat};

/// The exit status when DIR cannot be read: nothing was linted, which is neither a pass nor a
/// finding (as `grep` and most linters say it).
const EXIT_UNREADABLE: u8 = 2;

/// Lints `args.dir`: 0 when nothing fails, 1 when something does, 2 when it cannot be read.
pub fn run(args: &LintArgs) -> ExitCode {
    let files = match load::read_dir(&args.dir) {
        Ok(files) => files,
        Err(error) => {
            eprintln!("gatehouse: cannot read {}: {error}", args.dir.display());
            return ExitCode::from(EXIT_UNREADABLE);
        }
    };
    let (set, problems) = load::parse(files);
    let findings = hub::lint::lint(&set, problems);
    let format = match args.format {
        LintFormat::Text => Format::Text,
        LintFormat::Json => Format::Json,
        LintFormat::Sarif => Format::Sarif,
    };
    let rendered = output::render(format, &findings, &set, &args.dir.to_string_lossy());
    // A closed pipe (`| head`) is not the lint's failure; the status still tells the result.
    let _ = std::io::stdout().lock().write_all(rendered.as_bytes());
    if hub::lint::fails(&findings, args.deny_warnings) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
