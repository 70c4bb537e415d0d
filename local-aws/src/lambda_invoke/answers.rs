//! The pieces of Invoke's answers: names and ARNs, error documents, headers.

use super::*;

/// The function name of `name` (a name, `name:qualifier`, a partial or full
/// ARN); `None` for a qualifier other than `$LATEST`.
pub(super) fn resolve(name: &str, qualifier: Option<&str>) -> Option<String> {
    let parts: Vec<&str> = name.split(':').collect();
    let (function, in_name) = match parts.as_slice() {
        ["arn", _, "lambda", _, _, "function", function] => (*function, None),
        ["arn", _, "lambda", _, _, "function", function, q] => (*function, Some(*q)),
        [_, "function", function] => (*function, None),
        [_, "function", function, q] => (*function, Some(*q)),
        [function] => (*function, None),
        [function, q] => (*function, Some(*q)),
        _ => return None,
    };
    let latest = |q: Option<&str>| q.is_none_or(|q| q == "$LATEST");
    (latest(in_name) && latest(qualifier) && !function.is_empty()).then(|| function.to_owned())
}

pub(super) fn arn(name: &str) -> String {
    if name.starts_with("arn:") {
        name.to_owned()
    } else {
        format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}")
    }
}

pub(super) fn error_document(error_type: &str, message: &str) -> Bytes {
    Bytes::from(json!({"errorType": error_type, "errorMessage": message}).to_string())
}

pub(super) fn failure(request_id: String, error_type: &str, message: &str, tail: String) -> Ended {
    let message = format!("RequestId: {request_id} {message}");
    Ended {
        body: error_document(error_type, &message),
        request_id,
        function_error: true,
        tail,
    }
}

pub(super) fn tail_of(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    text[start..].to_owned()
}

pub(super) fn insert(response: &mut Response, name: &'static str, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().insert(name, value);
    }
}

/// Lambda's error shape: status, `X-Amzn-ErrorType`, `{"Type", "Message"}`.
pub(super) fn error(status: StatusCode, kind: &str, message: &str) -> Response {
    let body: Value = json!({"Type": "User", "Message": message});
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    insert(&mut response, "content-type", "application/json");
    insert(&mut response, "x-amzn-errortype", kind);
    insert(&mut response, "x-amzn-requestid", &crate::new_uuid());
    response
}
