//! The forward mode's client: a real Airflow webserver's stable REST API,
//! called as MWAA's `InvokeRestApi` calls it for an environment (see the
//! module above). Airflow 2 (`/api/v1`, basic auth) and 3 (`/api/v2`, a
//! bearer token from the simple auth manager's `POST /auth/token`).

use std::sync::{Arc, Mutex, PoisonError};

use serde_json::{Value, json};

/// A real Airflow to forward an environment's `InvokeRestApi` to; tests also
/// call it directly ([`RealAirflow::call`]) to see what Airflow holds.
#[derive(Clone)]
pub struct RealAirflow {
    client: reqwest::Client,
    /// `http://127.0.0.1:PORT`, no trailing slash.
    base_url: String,
    /// 2 or 3: `/api/v1` with basic auth, or `/api/v2` with a token.
    major: u8,
    user: String,
    password: String,
    /// Airflow 3's JWT, fetched on first use and again after a 401.
    token: Arc<Mutex<Option<String>>>,
}

impl std::fmt::Debug for RealAirflow {
    // Never the password or the token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RealAirflow")
            .field("base_url", &self.base_url)
            .field("major", &self.major)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

impl RealAirflow {
    /// The Airflow at `base_url`; `version` is its version (`2.11.0`,
    /// `3.0.6`): its major picks the API.
    pub fn new(base_url: &str, version: &str, user: &str, password: &str) -> RealAirflow {
        RealAirflow {
            client: reqwest::Client::new(),
            base_url: base_url.trim_end_matches('/').to_owned(),
            major: if version.starts_with('2') { 2 } else { 3 },
            user: user.to_owned(),
            password: password.to_owned(),
            token: Arc::default(),
        }
    }

    fn url(&self, path: &str) -> String {
        let api = if self.major == 2 { "v1" } else { "v2" };
        format!("{}/api/{api}{path}", self.base_url)
    }

    /// Airflow 3: a JWT for the user from the simple auth manager.
    async fn fetch_token(&self) -> Result<String, String> {
        let url = format!("{}/auth/token", self.base_url);
        let answer = self
            .client
            .post(&url)
            .header("content-type", "application/json")
            .body(json!({"username": self.user, "password": self.password}).to_string())
            .send()
            .await
            .map_err(|e| format!("{url}: {e}"))?;
        let status = answer.status();
        let text = answer.text().await.map_err(|e| format!("{url}: {e}"))?;
        if !status.is_success() {
            return Err(format!("{url}: {status}: {text}"));
        }
        serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v["access_token"].as_str().map(str::to_owned))
            .ok_or_else(|| format!("{url}: no access_token in the answer"))
    }

    /// One call: `method` on `path` (after the API prefix) with `query`'s
    /// parameters (a JSON object: strings, numbers, booleans, or arrays of
    /// them for a repeated parameter) and a JSON `body`. Airflow's status and
    /// its JSON answer (a non-JSON answer as a string, none as null); `Err`
    /// only when Airflow could not be reached.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        query: Option<&Value>,
        body: Option<&Value>,
    ) -> Result<(u16, Value), String> {
        let method = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|e| format!("method {method}: {e}"))?;
        let pairs = query_pairs(query);
        let mut answer = self.send(&method, path, &pairs, body).await?;
        if answer.0 == 401 && self.major == 3 {
            // An expired token: once more with a fresh one.
            *self.token.lock().unwrap_or_else(PoisonError::into_inner) = None;
            answer = self.send(&method, path, &pairs, body).await?;
        }
        Ok(answer)
    }

    async fn send(
        &self,
        method: &reqwest::Method,
        path: &str,
        query: &[(String, String)],
        body: Option<&Value>,
    ) -> Result<(u16, Value), String> {
        let mut url = reqwest::Url::parse(&self.url(path)).map_err(|e| format!("{path}: {e}"))?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        let mut request = self.client.request(method.clone(), url.clone());
        request = if self.major == 2 {
            request.basic_auth(&self.user, Some(&self.password))
        } else {
            let cached = self
                .token
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone();
            let token = match cached {
                Some(token) => token,
                None => {
                    let token = self.fetch_token().await?;
                    *self.token.lock().unwrap_or_else(PoisonError::into_inner) =
                        Some(token.clone());
                    token
                }
            };
            request.bearer_auth(token)
        };
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let answer = request.send().await.map_err(|e| format!("{url}: {e}"))?;
        let status = answer.status().as_u16();
        let text = answer.text().await.map_err(|e| format!("{url}: {e}"))?;
        let value = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Ok((status, value))
    }
}

/// `InvokeRestApi`'s `QueryParameters` as URL query pairs.
fn query_pairs(query: Option<&Value>) -> Vec<(String, String)> {
    let one = |value: &Value| match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    let mut pairs = Vec::new();
    if let Some(Value::Object(map)) = query {
        for (key, value) in map {
            match value {
                Value::Array(values) => {
                    pairs.extend(values.iter().map(|v| (key.clone(), one(v))));
                }
                Value::Null => {}
                other => pairs.push((key.clone(), one(other))),
            }
        }
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters_become_pairs() {
        let query = json!({"limit": 100, "state": ["success", "failed"], "x": "y", "n": null});
        let mut pairs = query_pairs(Some(&query));
        pairs.sort();
        assert_eq!(
            pairs,
            [
                ("limit".to_owned(), "100".to_owned()),
                ("state".to_owned(), "failed".to_owned()),
                ("state".to_owned(), "success".to_owned()),
                ("x".to_owned(), "y".to_owned()),
            ]
        );
    }
}
