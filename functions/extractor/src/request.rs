//! What an invocation asks for: `{"date": "YYYY-MM-DD", "entity": "sales|products|customers"}`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use showcase_dataset::Day;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Entity {
    Sales,
    Products,
    Customers,
}

impl Entity {
    pub const ALL: [Entity; 3] = [Entity::Sales, Entity::Products, Entity::Customers];

    pub fn as_str(self) -> &'static str {
        match self {
            Entity::Sales => "sales",
            Entity::Products => "products",
            Entity::Customers => "customers",
        }
    }

    /// The lake file format: Parquet for the (large) sales delta, CSV for the dimensions.
    pub fn extension(self) -> &'static str {
        match self {
            Entity::Sales => "parquet",
            Entity::Products | Entity::Customers => "csv",
        }
    }
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Entity {
    type Err = String;

    fn from_str(text: &str) -> Result<Entity, String> {
        Entity::ALL
            .into_iter()
            .find(|e| e.as_str() == text)
            .ok_or_else(|| {
                format!("unknown entity '{text}': expected sales, products or customers")
            })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtractRequest {
    pub date: Day,
    pub entity: Entity,
}

impl ExtractRequest {
    /// Reads an invocation payload, with an error that says what was expected.
    pub fn from_event(event: serde_json::Value) -> Result<ExtractRequest, String> {
        serde_json::from_value(event.clone()).map_err(|e| {
            format!("invalid event {event}: {e}; expected {{\"date\": \"YYYY-MM-DD\", \"entity\": \"sales|products|customers\"}}")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn events_are_validated_with_a_clear_message() {
        let ok =
            ExtractRequest::from_event(json!({"date": "2024-01-05", "entity": "sales"})).unwrap();
        assert_eq!(ok.entity, Entity::Sales);
        for (event, hint) in [
            (
                json!({"date": "2024-13-05", "entity": "sales"}),
                "YYYY-MM-DD",
            ),
            (json!({"date": "2024-01-05", "entity": "orders"}), "orders"),
            (json!({"date": "2024-01-05"}), "entity"),
            (
                json!({"date": "2024-01-05", "entity": "sales", "extra": 1}),
                "extra",
            ),
            (json!("2024-01-05"), "expected"),
        ] {
            let message = ExtractRequest::from_event(event).unwrap_err();
            assert!(message.contains(hint), "{message}");
        }
    }
}
