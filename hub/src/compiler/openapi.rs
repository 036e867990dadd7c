//! Operations from an OpenAPI 3 document: each path's methods with their `operationId`, so
//! access rules can name operations and the gateway can match requests to them.

use gateway::snapshot::OperationSpec;

use crate::model::api_version::check_openapi_document;

const METHODS: [&str; 7] = ["get", "head", "post", "put", "patch", "delete", "options"];

/// The operations a document defines, in path order; operations without an id are left out.
pub fn operations(document: &str) -> Result<Vec<OperationSpec>, String> {
    let value = check_openapi_document(document).map_err(|message| format!("openapi {message}"))?;
    let mut operations = Vec::new();
    let Some(paths) = value.get("paths").and_then(|paths| paths.as_object()) else {
        return Ok(operations);
    };
    let mut path_names: Vec<&String> = paths.keys().collect();
    path_names.sort();
    for path in path_names {
        for method in METHODS {
            let id = paths[path]
                .get(method)
                .and_then(|operation| operation.get("operationId"))
                .and_then(|id| id.as_str());
            if let Some(id) = id {
                operations.push(OperationSpec {
                    id: id.to_owned(),
                    method: method.to_ascii_uppercase(),
                    path: path.clone(),
                });
            }
        }
    }
    Ok(operations)
}
