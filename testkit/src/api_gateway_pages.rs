//! API Gateway's paged listings, which moto answers in one page.

use axum::body::Bytes;

/// One page of an API Gateway listing, as API Gateway answers it: `item`
/// cut to the page, `position` naming where the next one starts (absent on
/// the last). `None` when the request is not such a listing.
pub(crate) fn page_listing(
    path: &str,
    query: Option<&str>,
    page_size: usize,
    body: &Bytes,
) -> Option<Bytes> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let listing = matches!(
        segments.as_slice(),
        ["restapis"]
            | ["apikeys"]
            | ["usageplans"]
            | ["restapis", _, "resources"]
            | ["usageplans", _, "keys"]
    );
    if !listing {
        return None;
    }
    let param = |name: &str| {
        query?
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.to_owned())
    };
    let limit = param("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(25)
        .min(page_size)
        .max(1);
    let start = param("position")
        .and_then(|p| p.strip_prefix("p").and_then(|n| n.parse::<usize>().ok()))
        .unwrap_or(0);
    let mut document: serde_json::Value = serde_json::from_slice(body).ok()?;
    let items = document.get_mut("item")?.as_array_mut()?;
    let total = items.len();
    let page: Vec<serde_json::Value> = items.drain(..).skip(start).take(limit).collect();
    document["item"] = serde_json::Value::Array(page);
    if start + limit < total {
        document["position"] = serde_json::Value::String(format!("p{}", start + limit));
    }
    serde_json::to_vec(&document).ok().map(Bytes::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listings_are_cut_into_pages_with_a_position() {
        let body = Bytes::from(r#"{"item":[{"id":"a"},{"id":"b"},{"id":"c"}]}"#);
        let first: serde_json::Value = serde_json::from_slice(
            &page_listing("/restapis", Some("limit=500"), 2, &body).unwrap(),
        )
        .unwrap();
        assert_eq!(first["item"].as_array().unwrap().len(), 2);
        let next = first["position"].as_str().unwrap().to_owned();
        let second: serde_json::Value = serde_json::from_slice(
            &page_listing(
                "/restapis",
                Some(&format!("limit=500&position={next}")),
                2,
                &body,
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(second["item"][0]["id"], "c");
        assert!(second.get("position").is_none());
        assert!(page_listing("/restapis/abc", None, 2, &body).is_none());
    }
}
