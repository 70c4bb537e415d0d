//! The engine: reads live state concurrently, diffs it into a [`Plan`] (pure
//! data), and applies a plan by walking the resources' dependency graph,
//! independent resources in parallel. It knows the [`Resource`] trait and the
//! graph, never a particular AWS service.
//!
//! [`Resource`]: crate::resources::Resource

mod apply;
mod plan;

pub use apply::{DestroyOutcome, EngineError, Event, admissible, apply, destroy, destroy_planned};
pub use plan::{
    Action, Consent, Plan, PlannedChange, decide, destroy_plan, plan, read, read_leftovers,
};
