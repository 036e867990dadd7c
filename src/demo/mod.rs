//! `gatehouse demo`: the story's cast and its commands. `seed` gives the demo's users an application
//! and an API key each through a hub's admin API, `traffic` plays those users calling the demo APIs
//! through a gateway, and `upstream` serves the two demo APIs (employees, payroll) on loopback. The
//! manifests they go with are `deploy/demo/manifests`; `deploy/demo/README.md` tells the story.

mod args;
mod keys;
mod seed;
mod traffic;
mod upstream;

use std::process::ExitCode;

pub use args::DemoArgs;
use args::DemoCommand;

/// Runs one `gatehouse demo` command. A usage problem found only now (no keys, an unreadable keys
/// file) exits 64 like a bad flag.
pub async fn run(args: &DemoArgs) -> ExitCode {
    let result = match &args.command {
        DemoCommand::Seed(seed_args) => seed::run(seed_args).await,
        DemoCommand::Traffic(traffic_args) => traffic::run(traffic_args).await,
        DemoCommand::Upstream(upstream_args) => upstream::run(upstream_args).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(DemoError::Usage(message)) => {
            eprintln!("gatehouse: {message}");
            ExitCode::from(crate::EX_USAGE)
        }
        Err(DemoError::Failed(error)) => {
            eprintln!("gatehouse: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Why a demo command stopped: the way it was called, or the world.
#[derive(Debug)]
pub enum DemoError {
    Usage(String),
    Failed(anyhow::Error),
}

impl From<anyhow::Error> for DemoError {
    fn from(error: anyhow::Error) -> Self {
        DemoError::Failed(error)
    }
}

/// Who the demo's users are. A user's role decides what their traffic asks for; the groups are
/// those of `deploy/demo/manifests/groups.yaml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The support desk (group `support`): reads employees and payslips, under plan `standard`, and
    /// now and then tries a write its policy refuses (403).
    Support,
    /// HR (group `hr`): keeps the employee records (every method) and reads payslips, under plan `internal`.
    Hr,
}

/// A user of the demo: name, group, and what their traffic does.
#[derive(Debug, Clone, Copy)]
pub struct CastMember {
    pub name: &'static str,
    pub display_name: &'static str,
    pub group: &'static str,
    pub role: Role,
}

/// The demo's users. Two in support, so the impact of a change to `standard` names more than one.
pub const CAST: &[CastMember] = &[
    CastMember {
        name: "sam",
        display_name: "Sam Support",
        group: "support",
        role: Role::Support,
    },
    CastMember {
        name: "priya",
        display_name: "Priya Support",
        group: "support",
        role: Role::Support,
    },
    CastMember {
        name: "hana",
        display_name: "Hana HR",
        group: "hr",
        role: Role::Hr,
    },
];

/// The role of a user by name: a cast member's, and `Support` (reads and refused writes) for any
/// other user a keys file names.
pub fn role_of(user: &str) -> Role {
    CAST.iter()
        .find(|member| member.name == user)
        .map_or(Role::Support, |member| member.role)
}
