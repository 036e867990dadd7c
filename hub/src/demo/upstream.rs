//! The demo's upstream: a small pet store and a weather service, served in-process so
//! `gatehouse up --demo` has real APIs to put behind the gateway.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

type Pets = Arc<Mutex<Vec<Value>>>;

/// Serves the demo APIs on `listener` until the process ends.
pub async fn serve(listener: tokio::net::TcpListener) -> std::io::Result<()> {
    let pets: Pets = Arc::new(Mutex::new(vec![
        json!({ "id": 1, "name": "Rex", "kind": "dog" }),
        json!({ "id": 2, "name": "Tom", "kind": "cat" }),
    ]));
    let app = Router::new()
        .route("/pets", get(list_pets).post(create_pet))
        .route("/pets/{id}", get(get_pet).delete(delete_pet))
        .route("/weather/forecast", get(forecast))
        .with_state(pets);
    axum::serve(listener, app).await
}

/// Binds the demo upstream on a free loopback port.
pub async fn bind() -> std::io::Result<(tokio::net::TcpListener, SocketAddr)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    Ok((listener, address))
}

async fn list_pets(State(pets): State<Pets>) -> Json<Value> {
    Json(Value::Array(pets.lock().map(|pets| pets.clone()).unwrap_or_default()))
}

async fn get_pet(State(pets): State<Pets>, Path(id): Path<u64>) -> Result<Json<Value>, StatusCode> {
    let pets = pets.lock().map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    pets.iter()
        .find(|pet| pet["id"] == id)
        .cloned()
        .map(Json)
        .ok_or(StatusCode::NOT_FOUND)
}

async fn create_pet(
    State(pets): State<Pets>,
    Json(mut pet): Json<Value>,
) -> Result<(StatusCode, Json<Value>), StatusCode> {
    let mut pets = pets.lock().map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    let id = pets.iter().filter_map(|pet| pet["id"].as_u64()).max().unwrap_or(0) + 1;
    pet["id"] = id.into();
    pets.push(pet.clone());
    Ok((StatusCode::CREATED, Json(pet)))
}

async fn delete_pet(State(pets): State<Pets>, Path(id): Path<u64>) -> StatusCode {
    let Ok(mut pets) = pets.lock() else {
        return StatusCode::INTERNAL_SERVER_ERROR;
    };
    let before = pets.len();
    pets.retain(|pet| pet["id"] != id);
    if pets.len() < before {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::NOT_FOUND
    }
}

async fn forecast(Query(query): Query<std::collections::HashMap<String, String>>) -> Json<Value> {
    let city = query.get("city").cloned().unwrap_or_else(|| "Lisbon".into());
    Json(
        json!({ "city": city, "forecast": [{ "day": "today", "sky": "sunny", "high_c": 21 }, { "day": "tomorrow", "sky": "cloudy", "high_c": 18 }] }),
    )
}
