//! The effective-permission graph of one principal (petgraph): principal -> groups -> policies
//! (inline, managed at their default version, the permissions boundary) -> statements.
//!
//! The graph is the single record of which policies apply to a principal and why: the policy set the
//! authorizer evaluates is read from it ([`PermissionGraph::policy_set`]), and `--output dot` prints it.

use std::fmt::Write as _;

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use petgraph::Direction;

use iamfit_policy::eval::{NamedPolicy, PolicySet};
use iamfit_policy::{Effect, Statement};

/// How a policy is attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attachment {
    /// An inline policy of the principal or group.
    Inline,
    /// An attached managed policy (default version).
    Managed,
    /// The permissions boundary.
    Boundary,
    /// A managed policy that is attached but whose document is unknown.
    Missing,
}

/// A node of the graph.
#[derive(Debug, Clone)]
pub enum Node {
    /// The principal (user or role).
    Principal {
        /// "user dev", "role orders-fn-role".
        label: String,
        /// Its ARN.
        arn: String,
    },
    /// A group the user belongs to.
    Group {
        /// Group name.
        name: String,
    },
    /// A policy.
    Policy {
        /// The name reports use.
        name: String,
        /// How it is attached.
        attachment: Attachment,
        /// The document (absent for [`Attachment::Missing`]).
        policy: Option<NamedPolicy>,
    },
    /// A statement of a policy.
    Statement {
        /// Sid or `#index`.
        label: String,
        /// Allow or Deny.
        effect: Effect,
        /// Whether it has conditions.
        conditional: bool,
    },
}

/// An edge: how the target applies to the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    /// Principal -> group.
    MemberOf,
    /// Principal or group -> policy.
    Has(Attachment),
    /// Policy -> statement.
    Contains,
}

/// The graph for one principal.
#[derive(Debug, Clone)]
pub struct PermissionGraph {
    graph: DiGraph<Node, Edge>,
    root: NodeIndex,
}

impl PermissionGraph {
    /// A graph with just the principal.
    pub fn new(label: &str, arn: &str) -> Self {
        let mut graph = DiGraph::new();
        let root = graph.add_node(Node::Principal { label: label.to_string(), arn: arn.to_string() });
        PermissionGraph { graph, root }
    }

    /// The principal's node.
    pub fn root(&self) -> NodeIndex {
        self.root
    }

    /// Adds a group the principal belongs to.
    pub fn add_group(&mut self, name: &str) -> NodeIndex {
        let g = self.graph.add_node(Node::Group { name: name.to_string() });
        self.graph.add_edge(self.root, g, Edge::MemberOf);
        g
    }

    /// Attaches a policy (with its statements) to the principal or a group.
    pub fn add_policy(
        &mut self,
        owner: NodeIndex,
        attachment: Attachment,
        name: &str,
        policy: Option<NamedPolicy>,
    ) -> NodeIndex {
        let statements: Vec<(String, Effect, bool)> = policy
            .as_ref()
            .map(|p| {
                p.policy
                    .statements
                    .iter()
                    .map(|s: &Statement| (s.label(), s.effect, !s.conditions.is_empty()))
                    .collect()
            })
            .unwrap_or_default();
        let node = self.graph.add_node(Node::Policy { name: name.to_string(), attachment, policy });
        self.graph.add_edge(owner, node, Edge::Has(attachment));
        for (label, effect, conditional) in statements {
            let s = self.graph.add_node(Node::Statement { label, effect, conditional });
            self.graph.add_edge(node, s, Edge::Contains);
        }
        node
    }

    /// The policies reachable from the principal (directly or through groups), in insertion order.
    fn reachable_policies(&self) -> Vec<(&NamedPolicy, Attachment)> {
        let mut out = Vec::new();
        let mut owners = vec![self.root];
        owners.extend(
            self.graph
                .edges_directed(self.root, Direction::Outgoing)
                .filter(|e| *e.weight() == Edge::MemberOf)
                .map(|e| e.target()),
        );
        let mut found: Vec<(NodeIndex, &NamedPolicy, Attachment)> = Vec::new();
        for owner in owners {
            for e in self.graph.edges_directed(owner, Direction::Outgoing) {
                if let (Edge::Has(a), Node::Policy { policy: Some(p), .. }) =
                    (e.weight(), &self.graph[e.target()])
                {
                    found.push((e.target(), p, *a));
                }
            }
        }
        found.sort_by_key(|(idx, _, _)| *idx);
        out.extend(found.into_iter().map(|(_, p, a)| (p, a)));
        out
    }

    /// The policy set the authorizer evaluates: identity policies (the principal's and its groups'),
    /// and the boundary. Writes on what AWS owns are denied (the catalog tells writes apart).
    pub fn policy_set(&self) -> PolicySet {
        let mut set = PolicySet { write_actions: Some(iamfit_catalog::WRITE_ACTIONS), ..Default::default() };
        for (policy, attachment) in self.reachable_policies() {
            match attachment {
                Attachment::Boundary => set.boundary = Some(policy.clone()),
                _ => set.identity.push(policy.clone()),
            }
        }
        set
    }

    /// Number of policies and statements reachable from the principal.
    pub fn counts(&self) -> (usize, usize) {
        let policies = self.reachable_policies();
        let statements = policies.iter().map(|(p, _)| p.policy.statements.len()).sum();
        (policies.len(), statements)
    }

    /// The graph in Graphviz DOT.
    pub fn to_dot(&self) -> String {
        let mut out = String::from(
            "digraph permissions {\n  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=10];\n",
        );
        for idx in self.graph.node_indices() {
            let (label, shape, color) = match &self.graph[idx] {
                Node::Principal { label, arn } => (format!("{label}\\n{arn}"), "box", "black"),
                Node::Group { name } => (format!("group {name}"), "box", "gray40"),
                Node::Policy { name, attachment, .. } => (
                    format!(
                        "{name}\\n({})",
                        match attachment {
                            Attachment::Inline => "inline",
                            Attachment::Managed => "managed",
                            Attachment::Boundary => "boundary",
                            Attachment::Missing => "missing",
                        }
                    ),
                    "note",
                    if *attachment == Attachment::Missing { "red" } else { "gray20" },
                ),
                Node::Statement { label, effect, conditional } => (
                    format!("{effect} {label}{}", if *conditional { " (conditional)" } else { "" }),
                    "ellipse",
                    if *effect == Effect::Deny { "red" } else { "darkgreen" },
                ),
            };
            let _ = writeln!(
                out,
                "  n{} [label=\"{}\", shape={shape}, color={color}];",
                idx.index(),
                label.replace('"', "\\\"")
            );
        }
        for e in self.graph.edge_references() {
            let label = match e.weight() {
                Edge::MemberOf => "member of",
                Edge::Has(Attachment::Boundary) => "boundary",
                Edge::Has(Attachment::Inline) => "inline",
                Edge::Has(_) => "attached",
                Edge::Contains => "",
            };
            let _ =
                writeln!(out, "  n{} -> n{} [label=\"{label}\"];", e.source().index(), e.target().index());
        }
        out.push_str("}\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use iamfit_policy::Policy;

    fn named(name: &str, json: &str) -> NamedPolicy {
        NamedPolicy::new(name, Policy::parse(json).unwrap())
    }

    #[test]
    fn policy_set_follows_groups_and_boundaries() {
        let mut g = PermissionGraph::new("user dev", "arn:aws:iam::111122223333:user/dev");
        let root = g.root();
        let allow = r#"{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
        g.add_policy(root, Attachment::Inline, "inline", Some(named("inline", allow)));
        let grp = g.add_group("developers");
        g.add_policy(grp, Attachment::Managed, "developer-access", Some(named("developer-access", allow)));
        g.add_policy(root, Attachment::Boundary, "boundary", Some(named("boundary", allow)));
        g.add_policy(root, Attachment::Missing, "arn:aws:iam::aws:policy/Gone", None);
        let set = g.policy_set();
        assert_eq!(set.identity.len(), 2);
        assert_eq!(&*set.boundary.unwrap().name, "boundary");
        assert_eq!(g.counts(), (3, 3));
        let dot = g.to_dot();
        assert!(dot.contains("member of") && dot.contains("(missing)") && dot.contains("Allow A"));
    }
}
