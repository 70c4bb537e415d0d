//! The three routes and their query parameters.

use axum::extract::{Query, State};
use axum::http::{Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use showcase_dataset::sales::SalesDay;
use showcase_dataset::{Customer, Day, Dimension, Product};

use crate::errors::ApiError;
use crate::log::Served;
use crate::paging::{Page, PageRequest};
use crate::settings::ApiSettings;

/// The API: `GET /sales?date=D`, `GET /products`, `GET /customers`, each paged
/// with `limit` and `page_token`.
pub fn router(settings: ApiSettings) -> Router {
    Router::new()
        .route("/sales", get(sales))
        .route("/products", get(products))
        .route("/customers", get(customers))
        .fallback(unknown_route)
        .method_not_allowed_fallback(wrong_method)
        .with_state(settings)
}

type Params = Query<Vec<(String, String)>>;

async fn sales(
    State(settings): State<ApiSettings>,
    Query(params): Params,
) -> Result<Response, ApiError> {
    let query = EntityQuery::parse("sales", &params, DateParameter::Required)?;
    let day = SalesDay::new(query.day, settings.sales_per_day)
        .map_err(|e| ApiError::bad_parameter("date", e.to_string(), "a smaller daily volume"))?;
    let page = query.page;
    let rows = day.rows(page.offset..page.offset + page.limit).collect();
    Ok(page_response("sales", query.day, day.len(), page, rows))
}

async fn products(Query(params): Params) -> Result<Response, ApiError> {
    dimension::<Product>("products", &params)
}

async fn customers(Query(params): Params) -> Result<Response, ApiError> {
    dimension::<Customer>("customers", &params)
}

fn dimension<R: Dimension + Serialize>(
    entity: &'static str,
    params: &[(String, String)],
) -> Result<Response, ApiError> {
    let query = EntityQuery::parse(entity, params, DateParameter::DefaultsToToday)?;
    let all = R::as_of(query.day);
    let total = all.len() as u64;
    let page = query.page;
    let rows = all
        .into_iter()
        .skip(page.offset as usize)
        .take(page.limit as usize)
        .collect();
    Ok(page_response(entity, query.day, total, page, rows))
}

fn page_response<R: Serialize>(
    entity: &'static str,
    day: Day,
    total_rows: u64,
    page: PageRequest,
    rows: Vec<R>,
) -> Response {
    let next_page_token = page.next_token(entity, day, total_rows);
    let served = Served {
        date: day,
        rows: rows.len() as u64,
    };
    let mut response = Json(Page {
        entity,
        date: day,
        total_rows,
        rows,
        next_page_token,
    })
    .into_response();
    response.extensions_mut().insert(served);
    response
}

async fn unknown_route(method: Method, uri: Uri) -> ApiError {
    ApiError::not_found(format!("no route for {method} {}", uri.path()))
}

async fn wrong_method(method: Method, uri: Uri) -> ApiError {
    ApiError::method_not_allowed(format!("{method} is not allowed on {}", uri.path()))
}

enum DateParameter {
    Required,
    DefaultsToToday,
}

/// The validated query string of one entity route.
struct EntityQuery {
    day: Day,
    page: PageRequest,
}

const ALLOWED_PARAMETERS: &str = "date, limit, page_token";

impl EntityQuery {
    fn parse(
        entity: &'static str,
        params: &[(String, String)],
        date: DateParameter,
    ) -> Result<EntityQuery, ApiError> {
        for (index, (name, _)) in params.iter().enumerate() {
            if !["date", "limit", "page_token"].contains(&name.as_str()) {
                return Err(ApiError::bad_parameter(
                    name,
                    format!("unknown parameter '{name}'"),
                    ALLOWED_PARAMETERS,
                ));
            }
            if params[..index].iter().any(|(earlier, _)| earlier == name) {
                return Err(ApiError::bad_parameter(
                    name,
                    format!("'{name}' is given more than once"),
                    "each parameter at most once",
                ));
            }
        }
        let value = |name: &str| {
            params
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        let day = match (value("date"), date) {
            (Some(text), _) => text
                .parse::<Day>()
                .map_err(|e| ApiError::bad_parameter("date", e.to_string(), DATE_ALLOWED))?,
            (None, DateParameter::Required) => {
                return Err(ApiError::bad_parameter(
                    "date",
                    format!("/{entity} needs the day to return"),
                    DATE_ALLOWED,
                ));
            }
            (None, DateParameter::DefaultsToToday) => today(),
        };
        let page = PageRequest::parse(entity, day, value("limit"), value("page_token"))?;
        Ok(EntityQuery { day, page })
    }
}

const DATE_ALLOWED: &str = "a date YYYY-MM-DD from 2000-01-01 to 2099-12-31";

fn today() -> Day {
    Day::from_date(time::OffsetDateTime::now_utc().date()).unwrap_or(showcase_dataset::day::LATEST)
}
