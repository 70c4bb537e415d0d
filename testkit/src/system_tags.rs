//! S3's system tags on a bucket CloudFormation made, which moto lacks (its
//! CloudFormation tags nothing, and its S3 refuses `aws:` keys outright).
//! On AWS such a bucket carries `aws:cloudformation:stack-name`, `…:stack-id`
//! and `…:logical-id`; GetBucketTagging lists them, and PutBucketTagging
//! replaces the whole set, so it must carry them unchanged: without them S3
//! answers `InvalidTag: System tags cannot be removed by requester`, with
//! other values `…cannot be added/updated by requester` (the behaviour
//! cloud-custodian#2834/#2861 and terraform-provider-aws#7323 met).
//!
//! Once a test asks (`MotoServer::add_cloudformation_bucket_tags`), the
//! front adds them to that bucket's GetBucketTagging answers and checks,
//! then strips them from, its PutBucketTagging requests. Limits: bucket
//! names without dots; DeleteBucketTagging and the Resource Groups Tagging
//! API do not see them.

use axum::body::Bytes;

/// The bucket a `?tagging` request is about: in the path, or (virtual-hosted
/// style) the host's first label.
pub(crate) fn tagging_bucket<'a>(
    host: Option<&'a str>,
    path: &'a str,
    query: Option<&str>,
) -> Option<&'a str> {
    let is_tagging = query.is_some_and(|q| q.split('&').any(|p| p == "tagging" || p == "tagging="));
    let in_path = path.trim_matches('/');
    let bucket = if in_path.is_empty() {
        host?.split_once('.')?.0
    } else {
        in_path
    };
    (is_tagging && !bucket.is_empty() && !bucket.contains('/')).then_some(bucket)
}

fn tag_xml(tags: &[(String, String)]) -> String {
    tags.iter()
        .map(|(k, v)| format!("<Tag><Key>{k}</Key><Value>{v}</Value></Tag>"))
        .collect()
}

/// A GetBucketTagging answer with the system tags in its set. `body` is
/// moto's answer, or `None` when it had no tag set (NoSuchTagSet).
pub(crate) fn add_to_answer(body: Option<&Bytes>, system: &[(String, String)]) -> Bytes {
    let text = body
        .and_then(|b| std::str::from_utf8(b).ok())
        .unwrap_or("")
        .to_owned();
    let tags = tag_xml(system);
    let fixed = if let Some(at) = text.find("<TagSet>") {
        let at = at + "<TagSet>".len();
        format!("{}{tags}{}", &text[..at], &text[at..])
    } else if text.contains("<TagSet/>") {
        text.replacen("<TagSet/>", &format!("<TagSet>{tags}</TagSet>"), 1)
    } else {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><TagSet>{tags}</TagSet></Tagging>"
        )
    };
    Bytes::from(fixed)
}

/// Every `(key, value)` of a Tagging document.
fn tags_in(text: &str) -> Vec<(String, String)> {
    let mut tags = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("<Tag>") {
        let Some(end) = rest[start..].find("</Tag>") else {
            break;
        };
        let tag = &rest[start..start + end];
        let field = |name: &str| {
            let open = format!("<{name}>");
            let from = tag.find(&open)? + open.len();
            let to = tag[from..].find(&format!("</{name}>"))? + from;
            Some(tag[from..to].to_owned())
        };
        if let (Some(k), Some(v)) = (field("Key"), field("Value")) {
            tags.push((k, v));
        }
        rest = &rest[start + end + "</Tag>".len()..];
    }
    tags
}

/// A PutBucketTagging request as S3 judges it: `Err(message)` when it drops
/// or changes a system tag, otherwise the body moto gets (without them).
pub(crate) fn check_request(body: &Bytes, system: &[(String, String)]) -> Result<Bytes, String> {
    let text = std::str::from_utf8(body).map_err(|e| e.to_string())?;
    let sent = tags_in(text);
    for (key, value) in &sent {
        if key.to_ascii_lowercase().starts_with("aws:")
            && !system.contains(&(key.clone(), value.clone()))
        {
            return Err("System tags cannot be added/updated by requester".into());
        }
    }
    if system.iter().any(|tag| !sent.contains(tag)) {
        return Err("System tags cannot be removed by requester".into());
    }
    let kept: Vec<(String, String)> = sent
        .into_iter()
        .filter(|(key, _)| !key.to_ascii_lowercase().starts_with("aws:"))
        .collect();
    Ok(Bytes::from(format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><TagSet>{}</TagSet></Tagging>",
        tag_xml(&kept)
    )))
}

/// S3's error document.
pub(crate) fn invalid_tag(message: &str) -> Bytes {
    Bytes::from(format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>InvalidTag</Code><Message>{message}</Message><RequestId>system-tags</RequestId></Error>"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn system() -> Vec<(String, String)> {
        vec![("aws:cloudformation:stack-name".into(), "seed".into())]
    }

    #[test]
    fn a_put_must_carry_the_system_tags_unchanged_and_moto_gets_the_rest() {
        let without = Bytes::from(
            "<Tagging><TagSet><Tag><Key>a</Key><Value>1</Value></Tag></TagSet></Tagging>",
        );
        assert_eq!(
            check_request(&without, &system()).unwrap_err(),
            "System tags cannot be removed by requester"
        );
        let changed = Bytes::from(
            "<Tagging><TagSet><Tag><Key>aws:cloudformation:stack-name</Key><Value>x</Value></Tag></TagSet></Tagging>",
        );
        assert!(
            check_request(&changed, &system())
                .unwrap_err()
                .contains("added/updated")
        );
        let with = Bytes::from(
            "<Tagging><TagSet><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>aws:cloudformation:stack-name</Key><Value>seed</Value></Tag></TagSet></Tagging>",
        );
        let forwarded = check_request(&with, &system()).unwrap();
        assert_eq!(
            tags_in(std::str::from_utf8(&forwarded).unwrap()),
            [("a".to_owned(), "1".to_owned())]
        );
        let answer = add_to_answer(None, &system());
        assert_eq!(tags_in(std::str::from_utf8(&answer).unwrap()), system());
        assert_eq!(tagging_bucket(None, "/lake", Some("tagging")), Some("lake"));
        assert_eq!(
            tagging_bucket(
                Some("lake.127.0.0.1:9000"),
                "/",
                Some("tagging&x-id=GetBucketTagging")
            ),
            Some("lake")
        );
        assert_eq!(tagging_bucket(None, "/lake/key", Some("tagging")), None);
    }
}
