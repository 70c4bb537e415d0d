//! `[warehouse]`: which Redshift the pipeline loads into, checked like the
//! rest of the file (every mistake with its `line:column`). What would make
//! the warehouse unsafe is not a setting: asking for it is an error.

use toml::Spanned;

use super::model::raw::WarehouseSection;
use super::model::{
    ClusterConfig, ExistingWarehouse, ServerlessConfig, WarehouseConfig, WarehouseKind,
    WarehouseNetwork,
};
use super::rules::Checker;

// What the rules below allow; the JSON Schema (`schema.rs`) reads the same.
pub(crate) const KINDS: &[&str] = &["cluster", "serverless", "existing"];
/// RA3 is what AWS sells today (DC2 is being retired).
pub(crate) const NODE_TYPES: &[&str] = &["ra3.large", "ra3.xlplus", "ra3.4xlarge", "ra3.16xlarge"];
pub(crate) const DEFAULT_NODE_TYPE: &str = "ra3.large";
pub(crate) const DEFAULT_DATABASE: &str = "showcase";
pub(crate) const DEFAULT_ADMIN_USER: &str = "showcase_admin";
pub(crate) const DEFAULT_PORT: i64 = 5439;
/// The ports Redshift listens on (inclusive).
pub(crate) const PORTS: [(i64, i64); 2] = [(5431, 5455), (8191, 8215)];
pub(crate) const NODES: std::ops::Range<i64> = 1..129;
pub(crate) const SNAPSHOT_RETENTION_DAYS: std::ops::Range<i64> = 1..36;
pub(crate) const DEFAULT_SNAPSHOT_RETENTION_DAYS: i64 = 1;
pub(crate) const BASE_CAPACITY: std::ops::Range<i64> = 4..1025;
pub(crate) const DEFAULT_BASE_CAPACITY: i64 = 8;
pub(crate) const MAX_CAPACITY: std::ops::Range<i64> = 4..5633;
/// Database and user names: lowercase letters, digits, `_`, starting with a letter.
pub(crate) const IDENTIFIER_MAX: usize = 63;
pub(crate) const SUBNET_PREFIX: &str = "subnet-";
pub(crate) const SECURITY_GROUP_PREFIX: &str = "sg-";
/// The days of a maintenance window, `ddd:hh24:mi-ddd:hh24:mi`.
pub(crate) const WEEKDAYS: &[&str] = &["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Which keys each kind takes (the rest are refused where they stand).
pub(crate) fn allowed(kind: &str) -> &'static [&'static str] {
    match kind {
        "cluster" => &[
            "database",
            "admin_user",
            "port",
            "subnet_ids",
            "security_group_ids",
            "node_type",
            "nodes",
            "snapshot_retention_days",
            "maintenance_window",
            "encrypted",
            "publicly_accessible",
        ],
        "serverless" => &[
            "database",
            "admin_user",
            "port",
            "subnet_ids",
            "security_group_ids",
            "base_capacity",
            "max_capacity",
            "encrypted",
            "publicly_accessible",
        ],
        _ => &["database", "cluster", "workgroup"],
    }
}

/// The keys set in the section, with where each stands.
fn present(section: &WarehouseSection) -> Vec<(&'static str, std::ops::Range<usize>)> {
    let mut keys = Vec::new();
    let mut add = |key: &'static str, span: Option<std::ops::Range<usize>>| {
        if let Some(span) = span {
            keys.push((key, span));
        }
    };
    add("database", section.database.as_ref().map(Spanned::span));
    add("admin_user", section.admin_user.as_ref().map(Spanned::span));
    add("port", section.port.as_ref().map(Spanned::span));
    add("subnet_ids", section.subnet_ids.first().map(Spanned::span));
    add(
        "security_group_ids",
        section.security_group_ids.first().map(Spanned::span),
    );
    add("node_type", section.node_type.as_ref().map(Spanned::span));
    add("nodes", section.nodes.as_ref().map(Spanned::span));
    add(
        "snapshot_retention_days",
        section.snapshot_retention_days.as_ref().map(Spanned::span),
    );
    add(
        "maintenance_window",
        section.maintenance_window.as_ref().map(Spanned::span),
    );
    add("encrypted", section.encrypted.as_ref().map(Spanned::span));
    add(
        "publicly_accessible",
        section.publicly_accessible.as_ref().map(Spanned::span),
    );
    add(
        "base_capacity",
        section.base_capacity.as_ref().map(Spanned::span),
    );
    add(
        "max_capacity",
        section.max_capacity.as_ref().map(Spanned::span),
    );
    add("cluster", section.cluster.as_ref().map(Spanned::span));
    add("workgroup", section.workgroup.as_ref().map(Spanned::span));
    keys
}

pub(super) fn warehouse(
    check: &mut Checker<'_>,
    raw: &Spanned<WarehouseSection>,
) -> Option<WarehouseConfig> {
    let section = raw.get_ref();
    let kind = check.text(&section.kind, "warehouse.kind")?;
    if !KINDS.contains(&kind.as_str()) {
        check.fail(
            section.kind.span(),
            "warehouse.kind",
            format!("'{kind}' is not a warehouse kind: cluster (a provisioned cluster the stack owns), serverless (a Redshift Serverless workgroup it owns) or existing (yours, only read)"),
        );
        return None;
    }
    for (key, span) in present(section) {
        if !allowed(&kind).contains(&key) {
            check.fail(
                span,
                &format!("warehouse.{key}"),
                format!(
                    "{key} does not apply to a warehouse of kind = \"{kind}\" (it takes {})",
                    allowed(&kind).join(", ")
                ),
            );
        }
    }
    if let Some(encrypted) = section.encrypted.as_ref().filter(|e| !*e.get_ref()) {
        check.fail(
            encrypted.span(),
            "warehouse.encrypted",
            "a warehouse is always encrypted at rest: remove the key or set it to true",
        );
    }
    if let Some(public) = section
        .publicly_accessible
        .as_ref()
        .filter(|p| *p.get_ref())
    {
        check.fail(
            public.span(),
            "warehouse.publicly_accessible",
            "a warehouse is never publicly accessible: reach it from inside your VPC or through the Redshift Data API (what the pipeline uses)",
        );
    }
    let database = identifier(
        check,
        section.database.as_ref(),
        "warehouse.database",
        DEFAULT_DATABASE,
    );
    let kind = match kind.as_str() {
        "cluster" => WarehouseKind::Cluster(cluster(check, section)),
        "serverless" => WarehouseKind::Serverless(serverless(check, section)),
        _ => WarehouseKind::Existing(existing(check, raw)?),
    };
    Some(WarehouseConfig { database, kind })
}

/// A database or user name: lowercase letters, digits and `_`, starting with
/// a letter, at most 63 characters (what both Redshift and PostgreSQL take unquoted).
fn identifier(
    check: &mut Checker<'_>,
    value: Option<&Spanned<String>>,
    key: &str,
    default: &str,
) -> String {
    let Some(value) = value else {
        return default.to_owned();
    };
    let text = check.text(value, key).unwrap_or_default();
    let valid = text.len() <= IDENTIFIER_MAX
        && text.starts_with(|c: char| c.is_ascii_lowercase())
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !valid {
        check.fail(
            value.span(),
            key,
            format!("'{text}' is not allowed: 1 to 63 lowercase letters, digits or _, starting with a letter"),
        );
    }
    text
}

fn network(check: &mut Checker<'_>, section: &WarehouseSection) -> WarehouseNetwork {
    let mut ids = |values: &[Spanned<String>], key: &str, prefix: &str| -> Vec<String> {
        values
            .iter()
            .filter_map(|value| {
                let text = check.text(value, key)?;
                if !text.starts_with(prefix) {
                    check.fail(value.span(), key, format!("'{text}' is not a {prefix}… id"));
                }
                Some(text)
            })
            .collect()
    };
    WarehouseNetwork {
        subnet_ids: ids(&section.subnet_ids, "warehouse.subnet_ids", SUBNET_PREFIX),
        security_group_ids: ids(
            &section.security_group_ids,
            "warehouse.security_group_ids",
            SECURITY_GROUP_PREFIX,
        ),
    }
}

fn port(check: &mut Checker<'_>, section: &WarehouseSection) -> u16 {
    // Redshift's allowed ports: 5431–5455 and 8191–8215.
    let port = check.number(
        section.port.as_ref(),
        "warehouse.port",
        DEFAULT_PORT,
        1150..65536,
        "",
    );
    let allowed = PORTS
        .iter()
        .any(|(low, high)| (*low..=*high).contains(&port));
    if !allowed && let Some(value) = &section.port {
        check.fail(
            value.span(),
            "warehouse.port",
            format!("{port} is not a port Redshift listens on: 5431 to 5455 or 8191 to 8215"),
        );
    }
    u16::try_from(port).unwrap_or(DEFAULT_PORT as u16)
}

fn cluster(check: &mut Checker<'_>, section: &WarehouseSection) -> ClusterConfig {
    let node_type = match &section.node_type {
        Some(value) => {
            let text = check.text(value, "warehouse.node_type").unwrap_or_default();
            if !NODE_TYPES.contains(&text.as_str()) {
                let hint = if text.starts_with("dc2") {
                    " (DC2 is being retired)"
                } else {
                    ""
                };
                check.fail(
                    value.span(),
                    "warehouse.node_type",
                    format!(
                        "'{text}' is not a node type this tool deploys{hint}: {}",
                        NODE_TYPES.join(", ")
                    ),
                );
            }
            text
        }
        None => DEFAULT_NODE_TYPE.to_owned(),
    };
    let nodes = check.number(section.nodes.as_ref(), "warehouse.nodes", 1, NODES, "nodes");
    let retention = check.number(
        section.snapshot_retention_days.as_ref(),
        "warehouse.snapshot_retention_days",
        DEFAULT_SNAPSHOT_RETENTION_DAYS,
        SNAPSHOT_RETENTION_DAYS,
        "days",
    );
    let maintenance_window = section.maintenance_window.as_ref().and_then(|value| {
        let text = check.text(value, "warehouse.maintenance_window")?;
        if !is_maintenance_window(&text) {
            check.fail(
                value.span(),
                "warehouse.maintenance_window",
                format!("'{text}' is not a window: ddd:hh24:mi-ddd:hh24:mi in UTC, e.g. sun:05:00-sun:05:30"),
            );
        }
        Some(text)
    });
    ClusterConfig {
        node_type,
        nodes: u32::try_from(nodes).unwrap_or(1),
        admin_user: identifier(
            check,
            section.admin_user.as_ref(),
            "warehouse.admin_user",
            DEFAULT_ADMIN_USER,
        ),
        port: port(check, section),
        network: network(check, section),
        snapshot_retention_days: u32::try_from(retention).unwrap_or(1),
        maintenance_window,
    }
}

fn serverless(check: &mut Checker<'_>, section: &WarehouseSection) -> ServerlessConfig {
    let base = check.number(
        section.base_capacity.as_ref(),
        "warehouse.base_capacity",
        DEFAULT_BASE_CAPACITY,
        BASE_CAPACITY,
        "RPUs",
    );
    if let Some(value) = &section.base_capacity
        && base > 4
        && base % 8 != 0
    {
        check.fail(
            value.span(),
            "warehouse.base_capacity",
            format!("{base} RPUs: Redshift Serverless takes 4, or a multiple of 8 from 8 to 1024"),
        );
    }
    let max = section.max_capacity.as_ref().map(|value| {
        let max = check.number(
            Some(value),
            "warehouse.max_capacity",
            base,
            MAX_CAPACITY,
            "RPUs",
        );
        if max < base {
            check.fail(
                value.span(),
                "warehouse.max_capacity",
                format!("{max} RPUs is below base_capacity ({base})"),
            );
        }
        u32::try_from(max).unwrap_or(0)
    });
    ServerlessConfig {
        base_capacity: u32::try_from(base).unwrap_or(8),
        max_capacity: max,
        admin_user: identifier(
            check,
            section.admin_user.as_ref(),
            "warehouse.admin_user",
            DEFAULT_ADMIN_USER,
        ),
        port: port(check, section),
        network: network(check, section),
    }
}

fn existing(check: &mut Checker<'_>, raw: &Spanned<WarehouseSection>) -> Option<ExistingWarehouse> {
    let section = raw.get_ref();
    match (&section.cluster, &section.workgroup) {
        (Some(cluster), None) => Some(ExistingWarehouse::Cluster(
            check.text(cluster, "warehouse.cluster")?,
        )),
        (None, Some(workgroup)) => Some(ExistingWarehouse::Workgroup(
            check.text(workgroup, "warehouse.workgroup")?,
        )),
        (Some(_), Some(workgroup)) => {
            check.fail(
                workgroup.span(),
                "warehouse.workgroup",
                "name either cluster or workgroup, not both",
            );
            None
        }
        (None, None) => {
            check.fail(
                raw.span(),
                "warehouse",
                "kind = \"existing\" needs cluster = \"<cluster id>\" or workgroup = \"<workgroup name>\"",
            );
            None
        }
    }
}

/// `ddd:hh24:mi-ddd:hh24:mi`.
fn is_maintenance_window(text: &str) -> bool {
    let point = |p: &str| {
        let parts: Vec<&str> = p.split(':').collect();
        matches!(parts.as_slice(), [day, hh, mm]
            if WEEKDAYS.contains(day)
                && hh.len() == 2 && hh.parse::<u8>().is_ok_and(|h| h < 24)
                && mm.len() == 2 && mm.parse::<u8>().is_ok_and(|m| m < 60))
    };
    text.split_once('-')
        .is_some_and(|(start, end)| point(start) && point(end))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::{Vars, parse};

    const BASE: &str =
        "[stack]\nname = \"demo\"\nregion = \"eu-west-1\"\n[lake]\nbucket = \"demo-lake\"\n";

    fn with(warehouse: &str) -> Result<crate::config::Stack, String> {
        parse(
            &format!("{BASE}[warehouse]\n{warehouse}"),
            Path::new("stack.toml"),
            &Vars::default(),
        )
        .map_err(|e| e.to_string())
    }

    #[test]
    fn no_section_no_warehouse() {
        let stack = parse(BASE, Path::new("stack.toml"), &Vars::default()).unwrap();
        assert_eq!(stack.warehouse, None);
    }

    #[test]
    fn a_cluster_with_defaults() {
        let stack = with("kind = \"cluster\"\n").unwrap();
        let warehouse = stack.warehouse.unwrap();
        assert_eq!(warehouse.database, "showcase");
        let WarehouseKind::Cluster(cluster) = warehouse.kind else {
            panic!("a cluster")
        };
        assert_eq!(cluster.node_type, "ra3.large");
        assert_eq!(cluster.nodes, 1);
        assert_eq!(cluster.port, 5439);
        assert_eq!(cluster.admin_user, "showcase_admin");
    }

    #[test]
    fn unsafe_settings_are_errors_where_they_stand() {
        let error = with("kind = \"cluster\"\npublicly_accessible = true\n").unwrap_err();
        assert!(
            error.contains("stack.toml:8:23") && error.contains("never publicly accessible"),
            "{error}"
        );
        let error = with("kind = \"cluster\"\nencrypted = false\n").unwrap_err();
        assert!(
            error.contains("stack.toml:8:13") && error.contains("always encrypted"),
            "{error}"
        );
    }

    #[test]
    fn each_kind_takes_its_own_keys() {
        let error = with("kind = \"serverless\"\nnode_type = \"ra3.large\"\n").unwrap_err();
        assert!(
            error.contains("stack.toml:8:13") && error.contains("does not apply"),
            "{error}"
        );
        let error = with("kind = \"existing\"\n").unwrap_err();
        assert!(error.contains("needs cluster"), "{error}");
        let error = with("kind = \"existing\"\ncluster = \"a\"\nworkgroup = \"b\"\n").unwrap_err();
        assert!(error.contains("not both"), "{error}");
        let stack = with("kind = \"existing\"\ncluster = \"seed-cluster\"\n").unwrap();
        assert_eq!(
            stack.warehouse.unwrap().kind,
            WarehouseKind::Existing(ExistingWarehouse::Cluster("seed-cluster".into()))
        );
    }

    #[test]
    fn values_are_checked() {
        for (line, says) in [
            ("kind = \"warehouse\"\n", "not a warehouse kind"),
            (
                "kind = \"cluster\"\nnode_type = \"dc2.large\"\n",
                "DC2 is being retired",
            ),
            (
                "kind = \"cluster\"\nport = 5000\n",
                "not a port Redshift listens on",
            ),
            (
                "kind = \"cluster\"\nmaintenance_window = \"sunday\"\n",
                "not a window",
            ),
            (
                "kind = \"cluster\"\ndatabase = \"Show-Case\"\n",
                "lowercase letters",
            ),
            (
                "kind = \"cluster\"\nsubnet_ids = [\"vpc-1\"]\n",
                "not a subnet-",
            ),
            (
                "kind = \"serverless\"\nbase_capacity = 12\n",
                "multiple of 8",
            ),
            (
                "kind = \"serverless\"\nbase_capacity = 16\nmax_capacity = 8\n",
                "below base_capacity",
            ),
        ] {
            let error = with(line).unwrap_err();
            assert!(
                error.contains(says) && error.contains("stack.toml:"),
                "{line}: {error}"
            );
        }
        let error = with("kind = \"serverless\"\nbase_capacity = 2\n").unwrap_err();
        assert!(
            error.contains("stack.toml:8:17") && error.contains("out of range"),
            "{error}"
        );
    }

    #[test]
    fn a_serverless_workgroup_with_its_settings_and_defaults() {
        let stack = with("kind = \"serverless\"\nbase_capacity = 4\nmax_capacity = 64\nsubnet_ids = [\"subnet-1\"]\n").unwrap();
        let WarehouseKind::Serverless(serverless) = stack.warehouse.unwrap().kind else {
            panic!("serverless")
        };
        assert_eq!(serverless.base_capacity, 4);
        assert_eq!(serverless.max_capacity, Some(64));
        assert_eq!(serverless.network.subnet_ids, ["subnet-1"]);
        let WarehouseKind::Serverless(defaults) = with("kind = \"serverless\"\n")
            .unwrap()
            .warehouse
            .unwrap()
            .kind
        else {
            panic!("serverless")
        };
        assert_eq!(defaults.base_capacity, 8);
        assert_eq!(defaults.max_capacity, None);
        assert_eq!(defaults.port, 5439);
    }
}
