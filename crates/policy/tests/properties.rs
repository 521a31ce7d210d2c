//! Property tests: the wildcard matcher against a reference implementation, and the evaluator's
//! invariants (an added Deny never turns a decision into allow, an added Allow never turns one into a
//! deny, a permissions boundary never widens).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::string_slice, missing_docs)]

use iamfit_policy::context::RequestContext;
use iamfit_policy::eval::{authorize, NamedPolicy, PolicySet, Principal, Request, Verdict};
use iamfit_policy::wildcard;
use iamfit_policy::Policy;
use proptest::prelude::*;

/// Reference: plain recursive definition of IAM wildcard matching.
fn reference(p: &[char], t: &[char]) -> bool {
    match p.split_first() {
        None => t.is_empty(),
        Some(('*', rest)) => (0..=t.len()).any(|i| reference(rest, &t[i..])),
        Some(('?', rest)) => !t.is_empty() && reference(rest, &t[1..]),
        Some((c, rest)) => t.first() == Some(c) && reference(rest, &t[1..]),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn wildcard_matches_reference(pattern in "[ab*?é]{0,8}", text in "[abé]{0,10}") {
        let p: Vec<char> = pattern.chars().collect();
        let t: Vec<char> = text.chars().collect();
        prop_assert_eq!(wildcard::matches(&pattern, &text), reference(&p, &t));
    }

    #[test]
    fn a_text_matches_itself_with_parts_starred(text in "[a-z:/]{1,20}", start in 0usize..20, len in 0usize..20) {
        let chars: Vec<char> = text.chars().collect();
        let s = start.min(chars.len());
        let e = (s + len).min(chars.len());
        let pattern: String = chars[..s].iter().chain(std::iter::once(&'*')).chain(chars[e..].iter()).collect();
        prop_assert!(wildcard::matches(&pattern, &text));
    }

    #[test]
    fn brackets_and_braces_are_literal(text in "[a-c\\[\\]{}\\\\]{0,8}") {
        prop_assert!(wildcard::matches(&text, &text));
    }
}

const ACTIONS: &[&str] =
    &["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "dynamodb:GetItem", "kms:Decrypt"];
const ACTION_PATTERNS: &[&str] =
    &["s3:GetObject", "s3:*", "s3:Get*", "*", "dynamodb:*", "kms:Decrypt", "*:Get*", "s3:?utObject"];
const RESOURCES: &[&str] =
    &["arn:aws:s3:::orders/a", "arn:aws:s3:::logs/b", "arn:aws:dynamodb:us-east-1:111122223333:table/t", "*"];
const RESOURCE_PATTERNS: &[&str] =
    &["*", "arn:aws:s3:::orders/*", "arn:aws:s3:::*", "arn:aws:dynamodb:*:*:table/t", "arn:aws:s3:::logs/b"];
const CONDITIONS: &[&str] = &[
    "",
    r#","Condition":{"StringEquals":{"aws:RequestedRegion":"us-east-1"}}"#,
    r#","Condition":{"Bool":{"aws:SecureTransport":"false"}}"#,
    r#","Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#,
    r#","Condition":{"StringNotEquals":{"aws:PrincipalTag/team":"orders"}}"#,
];

fn statement() -> impl Strategy<Value = String> {
    (
        any::<bool>(),
        any::<bool>(),
        proptest::sample::subsequence(ACTION_PATTERNS, 1..3),
        any::<bool>(),
        proptest::sample::subsequence(RESOURCE_PATTERNS, 1..3),
        0..CONDITIONS.len(),
    )
        .prop_map(|(allow, not_action, actions, not_resource, resources, cond)| {
            format!(
                r#"{{"Effect":"{}","{}":{},"{}":{}{}}}"#,
                if allow { "Allow" } else { "Deny" },
                if not_action { "NotAction" } else { "Action" },
                serde_json::to_string(&actions).unwrap(),
                if not_resource { "NotResource" } else { "Resource" },
                serde_json::to_string(&resources).unwrap(),
                CONDITIONS[cond]
            )
        })
}

fn policy(statements: &[String]) -> NamedPolicy {
    let text = format!(r#"{{"Version":"2012-10-17","Statement":[{}]}}"#, statements.join(","));
    NamedPolicy::new("p", Policy::parse(&text).expect("generated policies are valid"))
}

fn context() -> impl Strategy<Value = RequestContext> {
    (any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(region, tls, ip)| {
        let mut c = RequestContext::new();
        c.set("aws:RequestedRegion", if region { "us-east-1" } else { "eu-west-1" });
        c.set("aws:SecureTransport", if tls { "true" } else { "false" });
        if ip {
            c.set("aws:SourceIp", "203.0.113.9");
        }
        c
    })
}

fn decide(set: &PolicySet, action: &str, resource: &str, ctx: &RequestContext) -> Verdict {
    let p = Principal::parse("arn:aws:sts::111122223333:assumed-role/orders-fn/orders").unwrap();
    authorize(set, &Request { principal: Some(&p), action, resource, context: ctx, resource_account: None })
        .verdict
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    #[test]
    fn an_added_deny_never_allows(stmts in proptest::collection::vec(statement(), 1..6), extra in statement(),
                                  a in 0..ACTIONS.len(), r in 0..RESOURCES.len(), ctx in context()) {
        let extra = extra.replacen("\"Allow\"", "\"Deny\"", 1);
        let before = decide(&PolicySet { identity: vec![policy(&stmts)], ..Default::default() }, ACTIONS[a], RESOURCES[r], &ctx);
        let mut more = stmts.clone();
        more.push(extra);
        let after = decide(&PolicySet { identity: vec![policy(&more)], ..Default::default() }, ACTIONS[a], RESOURCES[r], &ctx);
        if before != Verdict::Allow { prop_assert_ne!(after, Verdict::Allow); }
        if before == Verdict::ExplicitDeny { prop_assert_eq!(after, Verdict::ExplicitDeny); }
    }

    #[test]
    fn an_added_allow_never_denies(stmts in proptest::collection::vec(statement(), 1..6), extra in statement(),
                                   a in 0..ACTIONS.len(), r in 0..RESOURCES.len(), ctx in context()) {
        let extra = extra.replacen("\"Deny\"", "\"Allow\"", 1);
        let before = decide(&PolicySet { identity: vec![policy(&stmts)], ..Default::default() }, ACTIONS[a], RESOURCES[r], &ctx);
        let after = decide(&PolicySet { identity: vec![policy(&stmts), policy(&[extra])], ..Default::default() }, ACTIONS[a], RESOURCES[r], &ctx);
        if before == Verdict::Allow { prop_assert_eq!(after, Verdict::Allow); }
        if before == Verdict::ExplicitDeny { prop_assert_eq!(after, Verdict::ExplicitDeny); }
    }

    #[test]
    fn a_boundary_never_widens(stmts in proptest::collection::vec(statement(), 1..6), boundary in proptest::collection::vec(statement(), 1..4),
                               a in 0..ACTIONS.len(), r in 0..RESOURCES.len(), ctx in context()) {
        let without = decide(&PolicySet { identity: vec![policy(&stmts)], ..Default::default() }, ACTIONS[a], RESOURCES[r], &ctx);
        let with = decide(&PolicySet { identity: vec![policy(&stmts)], boundary: Some(policy(&boundary)), ..Default::default() }, ACTIONS[a], RESOURCES[r], &ctx);
        if with == Verdict::Allow { prop_assert_eq!(without, Verdict::Allow); }
    }

    #[test]
    fn scps_and_session_policies_never_widen(stmts in proptest::collection::vec(statement(), 1..6), guard in proptest::collection::vec(statement(), 1..4),
                                             a in 0..ACTIONS.len(), r in 0..RESOURCES.len(), ctx in context()) {
        let base = PolicySet { identity: vec![policy(&stmts)], ..Default::default() };
        let without = decide(&base, ACTIONS[a], RESOURCES[r], &ctx);
        let scp = decide(&PolicySet { scp: vec![vec![policy(&guard)]], ..base.clone() }, ACTIONS[a], RESOURCES[r], &ctx);
        let session = decide(&PolicySet { session: vec![policy(&guard)], ..base.clone() }, ACTIONS[a], RESOURCES[r], &ctx);
        if scp == Verdict::Allow { prop_assert_eq!(without, Verdict::Allow); }
        if session == Verdict::Allow { prop_assert_eq!(without, Verdict::Allow); }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Two patterns overlap exactly when some text matches both: a text built to match both proves
    /// overlap, and overlap is symmetric.
    #[test]
    fn overlap_is_sound_and_symmetric(a in "[ab*?]{0,6}", b in "[ab*?]{0,6}", t in "[ab]{0,6}") {
        if wildcard::matches(&a, &t) && wildcard::matches(&b, &t) {
            prop_assert!(wildcard::overlap(&a, &b));
        }
        prop_assert_eq!(wildcard::overlap(&a, &b), wildcard::overlap(&b, &a));
        // Completeness: if they overlap, a witness no longer than both patterns together exists.
        if wildcard::overlap(&a, &b) {
            let mut found = false;
            for len in 0..=(a.len() + b.len()) as u32 {
                for bits in 0..(1u32 << len) {
                    let text: String = (0..len).map(|i| if bits >> i & 1 == 1 { 'a' } else { 'b' }).collect();
                    if wildcard::matches(&a, &text) && wildcard::matches(&b, &text) { found = true; break; }
                }
                if found { break; }
            }
            prop_assert!(found, "{} and {} said to overlap without a witness", a, b);
        }
    }
}

// Resource-based policies: who a statement names.
const RESOURCE_PRINCIPALS: &[&str] = &[
    r#""*""#,
    r#"{"AWS":"*"}"#,
    r#"{"AWS":"arn:aws:iam::111122223333:root"}"#,
    r#"{"AWS":"111122223333"}"#,
    r#"{"AWS":"arn:aws:iam::111122223333:role/orders-fn"}"#,
    r#"{"AWS":"arn:aws:sts::111122223333:assumed-role/orders-fn/orders"}"#,
    r#"{"AWS":"arn:aws:iam::111122223333:user/bob"}"#,
    r#"{"AWS":"arn:aws:iam::444455556666:root"}"#,
];
/// Key policy principals that do not delegate to the account (no root, no account id).
const NON_ROOT_PRINCIPALS: &[&str] = &[
    r#""*""#,
    r#"{"AWS":"arn:aws:iam::111122223333:role/orders-fn"}"#,
    r#"{"AWS":"arn:aws:sts::111122223333:assumed-role/orders-fn/orders"}"#,
    r#"{"AWS":"arn:aws:iam::111122223333:user/bob"}"#,
    r#"{"AWS":"arn:aws:iam::444455556666:root"}"#,
];
const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const RBP_RESOURCES: &[&str] = &[
    "arn:aws:s3:::orders/a",
    KEY,
    "arn:aws:iam::111122223333:role/deploy",
    "arn:aws:kms:us-east-1:444455556666:key/k",
];
const RBP_ACTIONS: &[&str] =
    &["s3:GetObject", "kms:Decrypt", "kms:Encrypt", "sts:AssumeRole", "sts:TagSession"];
const RBP_ACTION_PATTERNS: &[&str] = &["*", "s3:*", "kms:*", "kms:Decrypt", "sts:AssumeRole", "sts:*"];

/// A resource-based statement naming one of `principals`.
fn resource_statement(principals: &'static [&'static str]) -> impl Strategy<Value = String> {
    (
        any::<bool>(),
        proptest::sample::subsequence(RBP_ACTION_PATTERNS, 1..3),
        0..principals.len(),
        0..CONDITIONS.len(),
    )
        .prop_map(move |(allow, actions, principal, cond)| {
            format!(
                r#"{{"Effect":"{}","Principal":{},"Action":{},"Resource":"*"{}}}"#,
                if allow { "Allow" } else { "Deny" },
                principals[principal],
                serde_json::to_string(&actions).unwrap(),
                CONDITIONS[cond]
            )
        })
}

/// An identity statement over the resource-policy actions.
fn identity_statement() -> impl Strategy<Value = String> {
    (any::<bool>(), proptest::sample::subsequence(RBP_ACTION_PATTERNS, 1..3), 0..CONDITIONS.len()).prop_map(
        |(allow, actions, cond)| {
            format!(
                r#"{{"Effect":"{}","Action":{},"Resource":"*"{}}}"#,
                if allow { "Allow" } else { "Deny" },
                serde_json::to_string(&actions).unwrap(),
                CONDITIONS[cond]
            )
        },
    )
}

fn set_with(identity: &[String], resource: Option<&[String]>) -> PolicySet {
    PolicySet {
        identity: if identity.is_empty() { Vec::new() } else { vec![policy(identity)] },
        resource: resource.map(policy),
        ..Default::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    /// IAM User Guide, "Policy evaluation logic": an explicit deny in any policy overrides any allow,
    /// resource-based policies included.
    /// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html>
    #[test]
    fn an_added_resource_policy_deny_never_allows(
        identity in proptest::collection::vec(identity_statement(), 0..4),
        resource in proptest::collection::vec(resource_statement(RESOURCE_PRINCIPALS), 1..4),
        extra in resource_statement(RESOURCE_PRINCIPALS),
        a in 0..RBP_ACTIONS.len(), r in 0..RBP_RESOURCES.len(), ctx in context(),
    ) {
        let extra = extra.replacen("\"Allow\"", "\"Deny\"", 1);
        let before = decide(&set_with(&identity, Some(&resource)), RBP_ACTIONS[a], RBP_RESOURCES[r], &ctx);
        let mut more = resource.clone();
        more.push(extra);
        let after = decide(&set_with(&identity, Some(&more)), RBP_ACTIONS[a], RBP_RESOURCES[r], &ctx);
        if before != Verdict::Allow { prop_assert_ne!(after, Verdict::Allow); }
        if before == Verdict::ExplicitDeny { prop_assert_eq!(after, Verdict::ExplicitDeny); }
    }

    /// AWS KMS Developer Guide, "Key policies": unless the key policy allows the account (its root
    /// principal) and so enables IAM policies, IAM policies cannot allow access to the key. So with a
    /// key policy that names no root, whatever the identity policies say, the key decides: adding
    /// identity allows never turns a denial into an allow.
    /// <https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html>
    #[test]
    fn a_key_policy_without_root_delegation_never_lets_an_identity_allow_through(
        identity in proptest::collection::vec(identity_statement(), 1..4),
        key_policy in proptest::collection::vec(resource_statement(NON_ROOT_PRINCIPALS), 1..4),
        action in prop_oneof![Just("kms:Decrypt"), Just("kms:Encrypt")], ctx in context(),
    ) {
        let identity: Vec<String> = identity.into_iter().map(|s| s.replacen("\"Deny\"", "\"Allow\"", 1)).collect();
        let with_identity = decide(&set_with(&identity, Some(&key_policy)), action, KEY, &ctx);
        let without = decide(&set_with(&[], Some(&key_policy)), action, KEY, &ctx);
        prop_assert_eq!(with_identity, without);
    }
}
