//! `stack.toml` → the desired resources, in the user's words. The only place
//! that knows which resources a stack is made of.

use std::collections::BTreeMap;

use crate::config::{STACK_TAG, Stack};
use crate::resources::Resource;
use crate::resources::lake_bucket::LakeBucket;

/// Tags every resource of the stack carries: the user's, plus ownership.
pub fn tags(stack: &Stack) -> BTreeMap<String, String> {
    let mut tags = stack.tags.clone();
    tags.insert(STACK_TAG.to_owned(), stack.name.clone());
    tags
}

/// Every resource the stack is made of.
pub fn resources(stack: &Stack) -> Vec<Box<dyn Resource>> {
    vec![Box::new(LakeBucket {
        lake: stack.lake.clone(),
        stack: stack.name.clone(),
        tags: tags(stack),
    })]
}
