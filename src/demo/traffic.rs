//! `gatehouse demo traffic`: the demo's users calling the demo APIs through a gateway, paced by a
//! timer at a steady total rate, each request in its own task so a slow answer never slows the pace.
//! What each user asks for is their role's mix (`calls`); a summary line per interval counts what
//! was sent and what came back, by status class.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use reqwest::Method;
use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tokio::time::MissedTickBehavior;

use super::args::{DEFAULT_KEYS_FILE, TrafficArgs};
use super::{DemoError, Role, keys, role_of};

/// Requests waiting for an answer at most; a tick finding this many skips its request (and says so)
/// rather than pile up on a gateway that stopped answering.
const MAX_IN_FLIGHT: usize = 256;

/// How long one request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Plays the users of the keys at `--rate` until `--duration` is over, Ctrl-C or SIGTERM.
pub async fn run(args: &TrafficArgs) -> Result<(), DemoError> {
    let players = players(args)?;
    let client = reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .build()
        .context("cannot build the HTTP client")?;
    let names: Vec<&str> = players.iter().map(|player| player.user.as_str()).collect();
    println!(
        "demo traffic: {} requests/s from {} users ({}) through {}, a summary every {}s{}",
        args.rate,
        players.len(),
        names.join(", "),
        args.gateway,
        args.interval.as_secs(),
        match args.duration {
            Some(duration) => format!(", for {}s", duration.as_secs()),
            None => ", until Ctrl-C".to_owned(),
        }
    );

    let tally = Arc::new(Mutex::new(Tally::default()));
    let in_flight = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let started = Instant::now();
    let mut pace = tokio::time::interval(Duration::from_secs_f64(1.0 / args.rate));
    // After a stall (a suspended laptop), carry on at the rate rather than catch up in a burst.
    pace.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut report = tokio::time::interval_at(tokio::time::Instant::now() + args.interval, args.interval);
    let end = async {
        match args.duration {
            Some(duration) => tokio::time::sleep(duration).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(end);
    let stop = stop_signal();
    tokio::pin!(stop);
    let mut random = Random::seeded();
    let mut total = Tally::default();
    let mut tick: u64 = 0;
    loop {
        tokio::select! {
            _ = pace.tick() => {
                // Round robin, so each user's share of the rate is the same and known.
                let player = &players[(tick % players.len() as u64) as usize];
                tick += 1;
                let call = calls::next(player.role, &mut random);
                let Ok(permit) = in_flight.clone().try_acquire_owned() else {
                    tally.lock().expect("tally lock").skipped += 1;
                    continue;
                };
                tally.lock().expect("tally lock").sent += 1;
                let request = client
                    .request(call.method.clone(), format!("{}{}", args.gateway, call.path))
                    .header("x-api-key", &player.key);
                let request = match call.body {
                    Some(body) => request.json(&body),
                    None => request,
                };
                let tally = Arc::clone(&tally);
                tokio::spawn(async move {
                    let outcome = request.send().await.map(|response| response.status().as_u16());
                    tally.lock().expect("tally lock").answered(outcome.ok());
                    drop(permit);
                });
            }
            _ = report.tick() => {
                let interval = std::mem::take(&mut *tally.lock().expect("tally lock"));
                println!("{:>6}  {}", format!("{}s", started.elapsed().as_secs()), interval.line());
                total.add(&interval);
            }
            () = &mut end => break,
            () = &mut stop => break,
        }
    }
    // Give the requests in flight a moment to be answered, so the totals count them.
    let deadline = Instant::now() + Duration::from_secs(5);
    while in_flight.available_permits() < MAX_IN_FLIGHT && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let last = std::mem::take(&mut *tally.lock().expect("tally lock"));
    if last.sent > 0 || last.answered_total() > 0 {
        println!("{:>6}  {}", format!("{}s", started.elapsed().as_secs()), last.line());
    }
    total.add(&last);
    println!(" total  {}", total.line());
    Ok(())
}

/// One user the traffic plays.
#[derive(Debug)]
struct Player {
    user: String,
    key: String,
    role: Role,
}

/// The keys of `--key` and the keys file (`--keys`, or demo-keys.txt when there is no `--key`).
fn players(args: &TrafficArgs) -> Result<Vec<Player>, DemoError> {
    let mut pairs = args.keys.clone();
    let file = match &args.keys_file {
        Some(file) => Some(file.clone()),
        None if pairs.is_empty() => Some(PathBuf::from(DEFAULT_KEYS_FILE)),
        None => None,
    };
    if let Some(file) = file {
        pairs.extend(read_keys_file(&file, args.keys_file.is_none())?);
    }
    if pairs.is_empty() {
        return Err(DemoError::Usage(
            "no API keys to call with: pass --key user=KEY or --keys FILE (`gatehouse demo seed` writes one)".into(),
        ));
    }
    Ok(pairs
        .into_iter()
        .map(|(user, key)| Player {
            role: role_of(&user),
            user,
            key,
        })
        .collect())
}

fn read_keys_file(file: &Path, defaulted: bool) -> Result<Vec<(String, String)>, DemoError> {
    let text = std::fs::read_to_string(file).map_err(|error| {
        DemoError::Usage(if defaulted {
            format!(
                "no API keys to call with: {} cannot be read ({error}); pass --key user=KEY or --keys FILE, \
                 or run `gatehouse demo seed` first",
                file.display()
            )
        } else {
            format!("--keys {}: {error}", file.display())
        })
    })?;
    keys::parse(&text).map_err(|message| DemoError::Usage(format!("--keys {}: {message}", file.display())))
}

/// Ctrl-C or SIGTERM.
pub(super) async fn stop_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

// === impl Tally ===

/// What was sent and answered in one interval.
#[derive(Debug, Default)]
struct Tally {
    sent: u64,
    /// Ticks that found `MAX_IN_FLIGHT` requests still waiting, so sent nothing.
    skipped: u64,
    by_status: BTreeMap<u16, u64>,
    /// Requests that got no answer: refused connection, timeout.
    unanswered: u64,
}

impl Tally {
    fn answered(&mut self, status: Option<u16>) {
        match status {
            Some(status) => *self.by_status.entry(status).or_default() += 1,
            None => self.unanswered += 1,
        }
    }

    fn answered_total(&self) -> u64 {
        self.by_status.values().sum::<u64>() + self.unanswered
    }

    fn add(&mut self, other: &Tally) {
        self.sent += other.sent;
        self.skipped += other.skipped;
        self.unanswered += other.unanswered;
        for (status, count) in &other.by_status {
            *self.by_status.entry(*status).or_default() += count;
        }
    }

    fn class(&self, class: u16) -> u64 {
        self.by_status
            .iter()
            .filter(|(status, _)| **status / 100 == class)
            .map(|(_, count)| count)
            .sum()
    }

    /// `sent 25  2xx 19  3xx 0  4xx 6 (403 3, 429 3)  5xx 0  no answer 0`.
    fn line(&self) -> String {
        let mut line = format!("sent {}", self.sent);
        for class in 2..=5 {
            line.push_str(&format!("  {class}xx {}", self.class(class)));
            let statuses: Vec<String> = self
                .by_status
                .iter()
                .filter(|(status, _)| **status / 100 == class && class >= 4)
                .map(|(status, count)| format!("{status} {count}"))
                .collect();
            if !statuses.is_empty() {
                line.push_str(&format!(" ({})", statuses.join(", ")));
            }
        }
        line.push_str(&format!("  no answer {}", self.unanswered));
        if self.skipped > 0 {
            line.push_str(&format!("  skipped {} (too many waiting)", self.skipped));
        }
        line
    }
}

// === impl Random ===

/// A small generator (splitmix64): the mix needs variety, not secrecy.
struct Random(u64);

impl Random {
    fn seeded() -> Random {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos() as u64);
        Random(nanos ^ u64::from(std::process::id()).rotate_left(32))
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut mixed = self.0;
        mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        mixed ^ (mixed >> 31)
    }

    /// A number in `low..=high`.
    fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low + 1)
    }
}

/// What each role asks for, with weights: mostly reads, some writes, and calls the role's access
/// policy refuses (support writing: 403; hr writing payslips: 403).
mod calls {
    use super::*;

    /// One request to send.
    #[derive(Debug)]
    pub struct Call {
        pub method: Method,
        pub path: String,
        pub body: Option<Value>,
    }

    type Make = fn(&mut Random) -> Call;

    const SUPPORT: &[(u64, Make)] = &[
        (30, |_| get("/employees".into())),
        (25, |random| get(format!("/employees/{}", random.between(1, 20)))),
        (15, |random| {
            get(format!("/payroll/payslips?employee={}", random.between(1, 20)))
        }),
        (15, |random| get(format!("/payroll/payslips/{}", random.between(1, 60)))),
        // Refused by `support-reads` (GET only): 403 access_denied.
        (5, |random| {
            call(Method::DELETE, format!("/employees/{}", random.between(1, 20)), None)
        }),
        (5, |random| {
            call(
                Method::PUT,
                format!("/payroll/payslips/{}", random.between(1, 60)),
                Some(payslip(random)),
            )
        }),
        (5, |random| {
            call(Method::POST, "/employees".into(), Some(employee(random)))
        }),
    ];

    const HR: &[(u64, Make)] = &[
        (25, |_| get("/employees".into())),
        (20, |random| get(format!("/employees/{}", random.between(1, 20)))),
        (15, |random| {
            call(Method::POST, "/employees".into(), Some(employee(random)))
        }),
        (15, |random| {
            call(
                Method::PUT,
                format!("/employees/{}", random.between(1, 20)),
                Some(employee(random)),
            )
        }),
        // HR removes the records it added (ids above the twenty the upstream starts with).
        (5, |random| {
            call(Method::DELETE, format!("/employees/{}", random.between(21, 40)), None)
        }),
        (15, |random| {
            get(format!("/payroll/payslips?employee={}", random.between(1, 20)))
        }),
        // Refused by `hr-records` (payroll is read-only for hr): 403 access_denied.
        (5, |random| {
            call(Method::POST, "/payroll/payslips".into(), Some(payslip(random)))
        }),
    ];

    /// The next call of a user with `role`.
    pub fn next(role: Role, random: &mut Random) -> Call {
        let mix = match role {
            Role::Support => SUPPORT,
            Role::Hr => HR,
        };
        let total: u64 = mix.iter().map(|(weight, _)| weight).sum();
        let mut pick = random.between(0, total - 1);
        for (weight, make) in mix {
            if pick < *weight {
                return make(random);
            }
            pick -= weight;
        }
        unreachable!("the pick is below the total of the weights")
    }

    fn get(path: String) -> Call {
        call(Method::GET, path, None)
    }

    fn call(method: Method, path: String, body: Option<Value>) -> Call {
        Call { method, path, body }
    }

    fn employee(random: &mut Random) -> Value {
        let names = ["Ada", "Grace", "Linus", "Barbara", "Ken", "Radia", "Edsger", "Frances"];
        let name = names[random.between(0, names.len() as u64 - 1) as usize];
        json!({ "name": name, "team": "engineering", "title": "Engineer" })
    }

    fn payslip(random: &mut Random) -> Value {
        json!({ "employee": random.between(1, 20), "month": "2026-11", "gross_eur": random.between(2500, 7000) })
    }
}

#[cfg(test)]
mod tests;
