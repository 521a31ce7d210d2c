//! The effective-permission graph of one principal (petgraph): principal -> groups -> policies
//! (inline, managed at their default version, the permissions boundary) -> statements, and above the
//! principal the organization levels of its account (root -> OUs -> account), each with its SCPs and
//! RCPs.
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
    /// A service control policy attached to an organization level.
    Scp,
    /// A resource control policy attached to an organization level.
    Rcp,
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
    /// A level of the organization above the principal's account (root, OU, the account).
    OrgLevel {
        /// `root Root (r-ab12)`, `OU Prod (ou-ab12-prod)`, `account prod (222233334444)`.
        label: String,
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
    /// Organization level -> the level below it (the last level -> the principal).
    Above,
}

/// One organization level as reports show it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OrgLevelView {
    /// `root Root (r-ab12)`, `OU Prod (ou-ab12-prod)`, `account prod (222233334444)`.
    pub level: String,
    /// The SCPs attached to it (named with their level).
    pub scp: Vec<String>,
    /// The RCPs attached to it.
    pub rcp: Vec<String>,
}

/// The graph for one principal.
#[derive(Debug, Clone)]
pub struct PermissionGraph {
    graph: DiGraph<Node, Edge>,
    root: NodeIndex,
    org: OrgLayers,
}

/// The organization levels drawn above the principal, and what the policy set needs of them.
#[derive(Debug, Clone, Default)]
struct OrgLayers {
    /// The level nodes, root first.
    levels: Vec<NodeIndex>,
    /// Whether SCPs and RCPs are in effect (the policy type is enabled).
    scp: bool,
    rcp: bool,
    /// The organization's management account.
    management_account: Option<String>,
}

impl PermissionGraph {
    /// A graph with just the principal.
    pub fn new(label: &str, arn: &str) -> Self {
        let mut graph = DiGraph::new();
        let root = graph.add_node(Node::Principal { label: label.to_string(), arn: arn.to_string() });
        PermissionGraph { graph, root, org: OrgLayers::default() }
    }

    /// Adds the organization levels above the principal, root first: each level's label, SCPs and
    /// RCPs; `scp` and `rcp` say whether each policy type is in effect (enabled) in the organization.
    pub fn add_org_levels(
        &mut self,
        levels: &[(String, Vec<NamedPolicy>, Vec<NamedPolicy>)],
        scp: bool,
        rcp: bool,
    ) {
        let mut above: Option<NodeIndex> = None;
        for (label, scps, rcps) in levels {
            let node = self.graph.add_node(Node::OrgLevel { label: label.clone() });
            if let Some(prev) = above {
                self.graph.add_edge(prev, node, Edge::Above);
            }
            for p in scps.iter().filter(|_| scp) {
                self.add_policy(node, Attachment::Scp, &p.name, Some(p.clone()));
            }
            for p in rcps.iter().filter(|_| rcp) {
                self.add_policy(node, Attachment::Rcp, &p.name, Some(p.clone()));
            }
            self.org.levels.push(node);
            above = Some(node);
        }
        if let Some(last) = above {
            self.graph.add_edge(last, self.root, Edge::Above);
        }
        self.org.scp = scp;
        self.org.rcp = rcp;
    }

    /// Records the organization's management account (SCPs do not apply to its principals, nor
    /// RCPs to its resources).
    pub fn set_management_account(&mut self, account: Option<String>) {
        self.org.management_account = account;
    }

    /// The organization levels above the principal, root first: each level's label and the names of
    /// its SCPs and RCPs (those in effect).
    pub fn org_levels(&self) -> Vec<OrgLevelView> {
        let names = |kind: Attachment, on: bool| -> Vec<Vec<String>> {
            if !on {
                return vec![Vec::new(); self.org.levels.len()];
            }
            self.org_policies(kind)
                .into_iter()
                .map(|l| l.iter().map(|p| p.name.to_string()).collect())
                .collect()
        };
        let (scp, rcp) = (names(Attachment::Scp, self.org.scp), names(Attachment::Rcp, self.org.rcp));
        self.org
            .levels
            .iter()
            .zip(scp.into_iter().zip(rcp))
            .map(|(idx, (scp, rcp))| {
                let level = match &self.graph[*idx] {
                    Node::OrgLevel { label } => label.clone(),
                    _ => String::new(),
                };
                OrgLevelView { level, scp, rcp }
            })
            .collect()
    }

    /// The policies of one kind attached to each organization level, root first.
    fn org_policies(&self, kind: Attachment) -> Vec<Vec<NamedPolicy>> {
        self.org
            .levels
            .iter()
            .map(|level| {
                let mut found: Vec<(NodeIndex, NamedPolicy)> = self
                    .graph
                    .edges_directed(*level, Direction::Outgoing)
                    .filter_map(|e| match (e.weight(), &self.graph[e.target()]) {
                        (Edge::Has(a), Node::Policy { policy: Some(p), .. }) if *a == kind => {
                            Some((e.target(), p.clone()))
                        }
                        _ => None,
                    })
                    .collect();
                found.sort_by_key(|(idx, _)| *idx);
                found.into_iter().map(|(_, p)| p).collect()
            })
            .collect()
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
    /// the boundary, and the SCPs and RCPs of the organization levels with the management account.
    /// Writes on what AWS owns are denied (the catalog tells writes apart).
    pub fn policy_set(&self) -> PolicySet {
        let mut set = PolicySet { write_actions: Some(iamfit_catalog::WRITE_ACTIONS), ..Default::default() };
        if self.org.scp {
            set.scp = self.org_policies(Attachment::Scp);
        }
        if self.org.rcp {
            set.rcp = self.org_policies(Attachment::Rcp);
        }
        set.management_account = self.org.management_account.clone();
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
                Node::OrgLevel { label } => (format!("organization {label}"), "folder", "navy"),
                Node::Policy { name, attachment, .. } => (
                    format!(
                        "{name}\\n({})",
                        match attachment {
                            Attachment::Inline => "inline",
                            Attachment::Managed => "managed",
                            Attachment::Boundary => "boundary",
                            Attachment::Missing => "missing",
                            Attachment::Scp => "SCP",
                            Attachment::Rcp => "RCP",
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
                Edge::Has(Attachment::Scp) => "SCP",
                Edge::Has(Attachment::Rcp) => "RCP",
                Edge::Above => "above",
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
