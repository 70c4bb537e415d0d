//! Dependency layers of a graph: the pipeline's tasks and the stack's
//! resources are both run layer by layer, independent nodes side by side.

use std::collections::HashMap;
use std::hash::Hash;

use petgraph::algo::toposort;
use petgraph::graphmap::DiGraphMap;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LayerError<N: std::fmt::Debug> {
    #[error("{from:?} depends on {to:?}, which is not part of the graph")]
    UnknownNode { from: N, to: N },
    #[error("the graph has a cycle through {0:?}")]
    Cycle(N),
}

/// Nodes in layers: each node's dependencies are in earlier layers. `edges`
/// are `(dependency, dependent)`. Within a layer, nodes keep their input order.
pub fn layers<N>(nodes: &[N], edges: &[(N, N)]) -> Result<Vec<Vec<N>>, LayerError<N>>
where
    N: Copy + Ord + Hash + std::fmt::Debug,
{
    let mut graph = DiGraphMap::<N, ()>::new();
    for node in nodes {
        graph.add_node(*node);
    }
    for (dependency, dependent) in edges {
        for (from, to) in [(dependent, dependency), (dependency, dependent)] {
            if !graph.contains_node(*to) {
                return Err(LayerError::UnknownNode {
                    from: *from,
                    to: *to,
                });
            }
        }
        graph.add_edge(*dependency, *dependent, ());
    }
    let order = toposort(&graph, None).map_err(|cycle| LayerError::Cycle(cycle.node_id()))?;
    let mut depth: HashMap<N, usize> = HashMap::new();
    for node in &order {
        let level = graph
            .neighbors_directed(*node, petgraph::Direction::Incoming)
            .map(|up| depth.get(&up).map_or(0, |d| d + 1))
            .max()
            .unwrap_or(0);
        depth.insert(*node, level);
    }
    let count = depth.values().max().map_or(0, |d| d + 1);
    let mut result = vec![Vec::new(); count];
    for node in nodes {
        result[depth[node]].push(*node);
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_follow_dependencies_and_catch_cycles() {
        let layered = layers(
            &["a", "b", "c", "d"],
            &[("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")],
        )
        .unwrap();
        assert_eq!(layered, vec![vec!["a"], vec!["b", "c"], vec!["d"]]);
        assert!(matches!(
            layers(&["a", "b"], &[("a", "b"), ("b", "a")]),
            Err(LayerError::Cycle(_))
        ));
        assert!(matches!(
            layers(&["a"], &[("a", "z")]),
            Err(LayerError::UnknownNode { .. })
        ));
    }
}
