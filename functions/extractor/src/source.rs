//! The data API as the extractor sees it: pages fetched with retries, checked
//! for consistency, and delivered one ahead of the consumer.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use showcase_dataset::Day;
use tokio::sync::mpsc;

use crate::error::ExtractError;
// reqwest's top-level message ("error sending request") hides the cause.
use crate::lake::error_chain;
use crate::request::Entity;

/// How transient failures (connection errors, 429, 5xx) are retried: exponential
/// backoff with full jitter, so that parallel extractors do not retry in lockstep.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub retries: usize,
    pub first_delay: Duration,
    pub max_delay: Duration,
    /// One attempt, the page read in full: an API that takes the request and
    /// never answers is given up on after this, and retried.
    pub attempt_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            retries: 5,
            first_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
            attempt_timeout: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    fn delays(&self) -> impl Iterator<Item = Duration> {
        ExponentialBuilder::default()
            .with_min_delay(self.first_delay)
            .with_max_delay(self.max_delay)
            .with_max_times(self.retries)
            .with_jitter()
            .build()
    }
}

/// The envelope of one page, as the data API returns it.
#[derive(Debug, Deserialize)]
struct PageEnvelope<R> {
    entity: String,
    date: Day,
    total_rows: u64,
    rows: Vec<R>,
    next_page_token: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    base_url: String,
    api_key: Option<String>,
    page_size: u64,
    retry: RetryPolicy,
}

impl ApiClient {
    pub fn new(
        base_url: &str,
        api_key: Option<String>,
        page_size: u64,
        retry: RetryPolicy,
    ) -> ApiClient {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(retry.attempt_timeout)
            .build()
            // Building fails only when the TLS backend cannot initialise, a broken
            // build rather than a runtime condition; a default client still works for http.
            .unwrap_or_default();
        ApiClient {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
            api_key,
            page_size,
            retry,
        }
    }

    /// All rows of `entity` for `day`, page by page. The next page is fetched while
    /// the caller handles the current one; at most two pages are held at a time.
    pub fn pages<R>(&self, entity: Entity, day: Day) -> mpsc::Receiver<Result<Vec<R>, ExtractError>>
    where
        R: DeserializeOwned + Send + 'static,
    {
        let (sender, receiver) = mpsc::channel(1);
        let client = self.clone();
        tokio::spawn(async move {
            if let Err(error) = client.send_pages(entity, day, &sender).await {
                let _ = sender.send(Err(error)).await;
            }
        });
        receiver
    }

    async fn send_pages<R: DeserializeOwned>(
        &self,
        entity: Entity,
        day: Day,
        sender: &mpsc::Sender<Result<Vec<R>, ExtractError>>,
    ) -> Result<(), ExtractError> {
        let mut token: Option<String> = None;
        let mut announced: Option<u64> = None;
        let mut received = 0u64;
        loop {
            let url = self.page_url(entity, day, token.as_deref());
            let page: PageEnvelope<R> = self.fetch(&url).await?;
            let malformed = |detail: String| ExtractError::MalformedResponse {
                url: url.clone(),
                detail,
            };
            if page.entity != entity.as_str() || page.date != day {
                return Err(malformed(format!(
                    "asked for {entity} of {day}, got {} of {}",
                    page.entity, page.date
                )));
            }
            if *announced.get_or_insert(page.total_rows) != page.total_rows {
                return Err(malformed("total_rows changed between pages".into()));
            }
            if page.rows.len() as u64 > self.page_size
                || (page.rows.is_empty() && page.next_page_token.is_some())
            {
                return Err(malformed(format!(
                    "a page of {} rows with limit {}",
                    page.rows.len(),
                    self.page_size
                )));
            }
            received += page.rows.len() as u64;
            if sender.send(Ok(page.rows)).await.is_err() {
                return Ok(()); // the consumer stopped; it reports its own error
            }
            match page.next_page_token {
                Some(next) => token = Some(next),
                None if received == page.total_rows => return Ok(()),
                None => {
                    return Err(malformed(format!(
                        "the API announced {} rows but sent {received}",
                        page.total_rows
                    )));
                }
            }
        }
    }

    fn page_url(&self, entity: Entity, day: Day, token: Option<&str>) -> String {
        let mut url = format!(
            "{}/{entity}?date={day}&limit={}",
            self.base_url, self.page_size
        );
        if let Some(token) = token {
            url.push_str("&page_token=");
            url.extend(token.bytes().map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                other => format!("%{other:02X}"),
            }));
        }
        url
    }

    /// One GET with retries of transient failures; other failures are final.
    async fn fetch<T: DeserializeOwned>(&self, url: &str) -> Result<T, ExtractError> {
        let mut delays = self.retry.delays();
        let mut attempts = 0;
        loop {
            attempts += 1;
            let failure = match self.fetch_once(url).await {
                Ok(body) => {
                    return serde_json::from_slice(&body).map_err(|e| {
                        ExtractError::MalformedResponse {
                            url: url.to_owned(),
                            detail: e.to_string(),
                        }
                    });
                }
                Err(failure) => failure,
            };
            match delays.next() {
                Some(delay) if failure.is_transient() => tokio::time::sleep(delay).await,
                _ => return Err(failure.into_error(url, attempts)),
            }
        }
    }

    async fn fetch_once(&self, url: &str) -> Result<bytes::Bytes, Failure> {
        let mut request = self.http.get(url).header("accept", "application/json");
        if let Some(key) = &self.api_key {
            request = request.header("x-api-key", key);
        }
        let response = request
            .send()
            .await
            .map_err(|e| Failure::Unreachable(error_chain(&e)))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| Failure::Unreachable(error_chain(&e)))?;
        if status.is_success() {
            Ok(body)
        } else {
            let text = String::from_utf8_lossy(&body[..body.len().min(500)]).into_owned();
            Err(Failure::Status(status.as_u16(), text))
        }
    }
}

enum Failure {
    Unreachable(String),
    Status(u16, String),
}

impl Failure {
    fn is_transient(&self) -> bool {
        match self {
            Failure::Unreachable(_) => true,
            Failure::Status(status, _) => *status == 429 || *status >= 500,
        }
    }

    fn into_error(self, url: &str, attempts: usize) -> ExtractError {
        let url = url.to_owned();
        match self {
            Failure::Unreachable(detail) => ExtractError::ApiUnreachable {
                url,
                attempts,
                detail,
            },
            Failure::Status(status, body) => ExtractError::ApiStatus {
                url,
                status,
                attempts,
                body,
            },
        }
    }
}
