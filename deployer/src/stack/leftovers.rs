//! Resources of the stack that stack.toml no longer declares. What the tool
//! finds with its tag is the stack: each kind lists its own candidates (see
//! [`Kind::discover`]), as identities only, and the engine reads every one
//! and deletes those that carry the stack's tag (and, when they name one,
//! the kind's).

use std::collections::BTreeSet;

use futures_util::future::try_join_all;

use crate::aws::Aws;
use crate::config::Stack;
use crate::resources::{Address, KINDS, Kind, Owned, Resource, ResourceError};

/// Every kind's live candidates not in `declared`, all kinds at once.
pub async fn leftovers(
    aws: &Aws,
    stack: &Stack,
    declared: &[Box<dyn Resource>],
) -> Result<Vec<Box<dyn Owned>>, ResourceError> {
    let found = try_join_all(KINDS.iter().map(|kind: &&Kind| (kind.discover)(aws, stack))).await?;
    let declared: BTreeSet<Address> = declared.iter().map(|r| r.address()).collect();
    Ok(found
        .into_iter()
        .flatten()
        .filter(|candidate| !declared.contains(&candidate.address()))
        .collect())
}
