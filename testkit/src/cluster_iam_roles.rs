//! Redshift's `ModifyClusterIamRoles` (query protocol), which moto 5.2.5 does
//! not implement (it answers 500) and has no other way to change: the front
//! keeps the roles it was asked for, per cluster, and shows them wherever
//! moto's `DescribeClusters` answers for that cluster. `CreateCluster` and
//! `DeleteCluster` forget a cluster's roles (moto's own from then on).
//!
//! Limits: roles are attached at once (AWS reports `adding` for a while);
//! only `DescribeClusters` shows the changed roles (the tool reads nothing
//! else); the roles are not checked to exist in IAM, as AWS does.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

/// Roles set through `ModifyClusterIamRoles`, by cluster identifier.
pub(crate) type ClusterRoles = BTreeMap<String, Vec<String>>;

const VERSION: &str = "2012-12-01";

/// A Redshift query-protocol request, as the front sees it.
pub(crate) struct QueryRequest {
    pub(crate) action: String,
    pub(crate) cluster: String,
    pairs: Vec<(String, String)>,
}

impl QueryRequest {
    /// `None` unless a POSTed form names an `Action`.
    pub(crate) fn parse(body: &[u8]) -> Option<QueryRequest> {
        let pairs = form(body);
        let find = |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let action = find("Action")?;
        let cluster = find("ClusterIdentifier").unwrap_or_default();
        Some(QueryRequest {
            action,
            cluster,
            pairs,
        })
    }

    /// Whether the front answers it itself (`ModifyClusterIamRoles`).
    pub(crate) fn is_modify_roles(&self) -> bool {
        self.action == "ModifyClusterIamRoles"
    }

    /// Whether it starts or ends a cluster's life (its roles are moto's again).
    pub(crate) fn resets_roles(&self) -> bool {
        self.action == "CreateCluster" || self.action == "DeleteCluster"
    }
}

/// The form's pairs, percent-decoded.
fn form(body: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(body)
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(byte) => {
                        out.push(byte);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The `list.IamRoleArn.N` members of the form, in order.
fn members(pairs: &[(String, String)], list: &str) -> Vec<String> {
    let prefix = format!("{list}.IamRoleArn.");
    let mut found: Vec<(u32, String)> = pairs
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix(&prefix)
                .and_then(|n| n.parse().ok())
                .map(|n| (n, v.clone()))
        })
        .collect();
    found.sort();
    found.into_iter().map(|(_, v)| v).collect()
}

/// The `<IamRoleArn>` values in one `<Cluster>` element.
fn roles_in(cluster: &str) -> Vec<String> {
    cluster
        .split("<IamRoleArn>")
        .skip(1)
        .filter_map(|rest| {
            rest.split_once("</IamRoleArn>")
                .map(|(arn, _)| arn.to_owned())
        })
        .collect()
}

/// `cluster` (one `<Cluster>…</Cluster>`) with `roles` as its IAM roles.
fn with_roles(cluster: &str, roles: &[String]) -> String {
    let list: String = roles
        .iter()
        .map(|arn| {
            format!(
                "<ClusterIamRole><IamRoleArn>{arn}</IamRoleArn><ApplyStatus>in-sync</ApplyStatus></ClusterIamRole>"
            )
        })
        .collect();
    let element = format!("<IamRoles>{list}</IamRoles>");
    if let (Some(start), Some(end)) = (cluster.find("<IamRoles>"), cluster.find("</IamRoles>")) {
        format!(
            "{}{element}{}",
            &cluster[..start],
            &cluster[end + "</IamRoles>".len()..]
        )
    } else if let Some(start) = cluster.find("<IamRoles/>") {
        format!(
            "{}{element}{}",
            &cluster[..start],
            &cluster[start + "<IamRoles/>".len()..]
        )
    } else {
        cluster.replacen("</Cluster>", &format!("{element}</Cluster>"), 1)
    }
}

/// The `<Cluster>` elements of an answer, as (start, end) byte ranges.
fn clusters(xml: &str) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(start) = xml[from..].find("<Cluster>").map(|i| i + from) {
        let Some(end) = xml[start..]
            .find("</Cluster>")
            .map(|i| start + i + "</Cluster>".len())
        else {
            break;
        };
        found.push((start, end));
        from = end;
    }
    found
}

fn identifier(cluster: &str) -> Option<&str> {
    let rest = cluster.split_once("<ClusterIdentifier>")?.1;
    Some(rest.split_once("</ClusterIdentifier>")?.0)
}

/// moto's `DescribeClusters` answer with the roles the front was asked for.
pub(crate) fn rewrite_describe(xml: &str, roles: &ClusterRoles) -> String {
    let mut out = String::with_capacity(xml.len());
    let mut copied = 0;
    for (start, end) in clusters(xml) {
        let cluster = &xml[start..end];
        out.push_str(&xml[copied..start]);
        match identifier(cluster).and_then(|id| roles.get(id)) {
            Some(set) => out.push_str(&with_roles(cluster, set)),
            None => out.push_str(cluster),
        }
        copied = end;
    }
    out.push_str(&xml[copied..]);
    out
}

fn answer(status: StatusCode, body: String) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "text/xml")
        .body(Body::from(body))
        .unwrap_or_default()
}

/// Answers `ModifyClusterIamRoles`: reads the cluster from moto (the
/// original `Authorization` goes along: moto picks the service from its
/// credential scope and checks no signature), records the new role list in
/// `roles` and answers with the cluster as it now is.
pub(crate) async fn modify(
    client: &reqwest::Client,
    base: &str,
    headers: &HeaderMap,
    request: &QueryRequest,
    roles: &std::sync::RwLock<ClusterRoles>,
) -> Response {
    let mut describe = client
        .post(format!("{base}/"))
        .header("content-type", "application/x-www-form-urlencoded");
    if let Some(authorization) = headers.get("authorization") {
        describe = describe.header("authorization", authorization);
    }
    let described = match describe
        .body(format!(
            "Action=DescribeClusters&Version={VERSION}&ClusterIdentifier={}",
            encode(&request.cluster)
        ))
        .send()
        .await
    {
        Ok(described) => described,
        Err(e) => return answer(StatusCode::BAD_GATEWAY, format!("moto proxy: {e}")),
    };
    let status = described.status();
    let text = described.text().await.unwrap_or_default();
    let Some(&(start, end)) = clusters(&text).first().filter(|_| status.is_success()) else {
        return answer(status, text);
    };
    let cluster = &text[start..end];
    let mut known = roles
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let current = known
        .get(&request.cluster)
        .cloned()
        .unwrap_or_else(|| roles_in(cluster));
    let remove = members(&request.pairs, "RemoveIamRoles");
    let mut next: Vec<String> = current
        .into_iter()
        .filter(|r| !remove.contains(r))
        .collect();
    for role in members(&request.pairs, "AddIamRoles") {
        if !next.contains(&role) {
            next.push(role);
        }
    }
    let body = format!(
        "<ModifyClusterIamRolesResponse xmlns=\"http://redshift.amazonaws.com/doc/{VERSION}/\">\
         <ModifyClusterIamRolesResult>{}</ModifyClusterIamRolesResult>\
         <ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata>\
         </ModifyClusterIamRolesResponse>",
        with_roles(cluster, &next),
        showcase_local_aws::new_uuid()
    );
    known.insert(request.cluster.clone(), next);
    answer(StatusCode::OK, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_s_role_lists_are_read_in_order_and_decoded() {
        let request = QueryRequest::parse(
            b"Action=ModifyClusterIamRoles&ClusterIdentifier=c&AddIamRoles.IamRoleArn.2=arn%3Ab&AddIamRoles.IamRoleArn.1=arn%3Aa&RemoveIamRoles.IamRoleArn.1=arn%3Ax",
        )
        .unwrap();
        assert!(request.is_modify_roles());
        assert_eq!(request.cluster, "c");
        assert_eq!(members(&request.pairs, "AddIamRoles"), ["arn:a", "arn:b"]);
        assert_eq!(members(&request.pairs, "RemoveIamRoles"), ["arn:x"]);
        assert_eq!(
            decode(&encode("arn:aws:iam::1:role/a b")),
            "arn:aws:iam::1:role/a b"
        );
    }

    #[test]
    fn only_the_named_cluster_s_roles_are_rewritten() {
        let xml = "<R><Clusters>\
            <Cluster><ClusterIdentifier>a</ClusterIdentifier><IamRoles><ClusterIamRole><IamRoleArn>old</IamRoleArn></ClusterIamRole></IamRoles></Cluster>\
            <Cluster><ClusterIdentifier>b</ClusterIdentifier><IamRoles/></Cluster>\
            </Clusters></R>";
        let roles = ClusterRoles::from([("a".to_owned(), vec!["new".to_owned()])]);
        let out = rewrite_describe(xml, &roles);
        let found: Vec<Vec<String>> = clusters(&out)
            .into_iter()
            .map(|(s, e)| roles_in(&out[s..e]))
            .collect();
        assert_eq!(found, [vec!["new".to_owned()], vec![]]);
        assert!(out.starts_with("<R><Clusters>") && out.ends_with("</Clusters></R>"));
    }
}
