//! `gatehouse demo upstream`: the demo's two upstream APIs in memory, so the story needs nothing but
//! the binary. Employees (`/employees`, every method) and payroll (`/payroll/payslips`), under the
//! paths the gateway forwards as they are (the manifests' routes do not strip their prefix).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::DemoError;
use super::args::UpstreamArgs;

/// Employees the upstream starts with (ids 1 to 20); `demo traffic` reads these.
const N_EMPLOYEES: u64 = 20;

/// Serves on `--listen` until Ctrl-C or SIGTERM.
pub async fn run(args: &UpstreamArgs) -> Result<(), DemoError> {
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    println!(
        "demo upstream   http://{}  (/employees, /payroll/payslips)",
        listener.local_addr().context("local address")?
    );
    axum::serve(listener, router())
        .with_graceful_shutdown(super::traffic::stop_signal())
        .await
        .context("the demo upstream stopped")?;
    Ok(())
}

type Employees = Arc<Mutex<BTreeMap<u64, Value>>>;

/// The two APIs over one in-memory list of employees.
pub fn router() -> Router {
    let names = [
        "Ada", "Grace", "Linus", "Barbara", "Ken", "Radia", "Edsger", "Frances", "Alan", "Margaret",
    ];
    let teams = ["engineering", "support", "finance", "people"];
    let employees: BTreeMap<u64, Value> = (1..=N_EMPLOYEES)
        .map(|id| {
            let name = names[(id as usize - 1) % names.len()];
            let team = teams[(id as usize - 1) % teams.len()];
            (id, json!({ "id": id, "name": name, "team": team, "title": "Engineer" }))
        })
        .collect();
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/employees", get(list_employees).post(create_employee))
        .route(
            "/employees/{id}",
            get(get_employee).put(replace_employee).delete(delete_employee),
        )
        .route("/payroll/payslips", get(list_payslips).post(create_payslip))
        .route("/payroll/payslips/{id}", get(get_payslip).put(replace_payslip))
        .with_state(Arc::new(Mutex::new(employees)))
}

async fn list_employees(State(employees): State<Employees>) -> Json<Value> {
    let employees = employees.lock().expect("employees lock");
    Json(json!({ "items": employees.values().collect::<Vec<_>>() }))
}

async fn get_employee(State(employees): State<Employees>, Path(id): Path<u64>) -> Result<Json<Value>, StatusCode> {
    let employees = employees.lock().expect("employees lock");
    employees.get(&id).cloned().map(Json).ok_or(StatusCode::NOT_FOUND)
}

async fn create_employee(
    State(employees): State<Employees>,
    Json(mut employee): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let mut employees = employees.lock().expect("employees lock");
    let id = employees.keys().next_back().copied().unwrap_or(0) + 1;
    employee["id"] = id.into();
    employees.insert(id, employee.clone());
    // Demo traffic adds employees all day long: keep the list short, the first twenty always.
    while employees.len() > 2 * N_EMPLOYEES as usize {
        let Some(oldest_added) = employees.keys().find(|id| **id > N_EMPLOYEES).copied() else {
            break;
        };
        employees.remove(&oldest_added);
    }
    (StatusCode::CREATED, Json(employee))
}

async fn replace_employee(
    State(employees): State<Employees>,
    Path(id): Path<u64>,
    Json(mut employee): Json<Value>,
) -> Result<Json<Value>, StatusCode> {
    let mut employees = employees.lock().expect("employees lock");
    let Some(stored) = employees.get_mut(&id) else {
        return Err(StatusCode::NOT_FOUND);
    };
    employee["id"] = id.into();
    *stored = employee.clone();
    Ok(Json(employee))
}

async fn delete_employee(State(employees): State<Employees>, Path(id): Path<u64>) -> StatusCode {
    let mut employees = employees.lock().expect("employees lock");
    match employees.remove(&id) {
        Some(_) => StatusCode::NO_CONTENT,
        None => StatusCode::NOT_FOUND,
    }
}

/// Three payslips per employee, numbered `3 * (employee - 1) + 1..=3`, made up on each call.
fn payslip(id: u64) -> Value {
    let employee = (id - 1) / 3 + 1;
    let month = ["2026-09", "2026-10", "2026-11"][((id - 1) % 3) as usize];
    json!({ "id": id, "employee": employee, "month": month, "gross_eur": 3000 + 100 * employee })
}

async fn list_payslips(Query(query): Query<BTreeMap<String, String>>) -> Result<Json<Value>, StatusCode> {
    let employee: Option<u64> = match query.get("employee") {
        Some(text) => Some(text.parse().map_err(|_| StatusCode::BAD_REQUEST)?),
        None => None,
    };
    let items: Vec<Value> = (1..=3 * N_EMPLOYEES)
        .map(payslip)
        .filter(|payslip| employee.is_none_or(|employee| payslip["employee"] == employee))
        .collect();
    Ok(Json(json!({ "items": items })))
}

async fn get_payslip(Path(id): Path<u64>) -> Result<Json<Value>, StatusCode> {
    if (1..=3 * N_EMPLOYEES).contains(&id) {
        Ok(Json(payslip(id)))
    } else {
        Err(StatusCode::NOT_FOUND)
    }
}

async fn create_payslip(Json(mut payslip): Json<Value>) -> (StatusCode, Json<Value>) {
    payslip["id"] = (3 * N_EMPLOYEES + 1).into();
    (StatusCode::CREATED, Json(payslip))
}

async fn replace_payslip(Path(id): Path<u64>, Json(mut payslip): Json<Value>) -> Json<Value> {
    payslip["id"] = id.into();
    Json(payslip)
}
