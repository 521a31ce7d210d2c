//! Explanations on the bundled demo account (`policy-fixtures/demo`, described in
//! `policy-fixtures/README.md`). Expectations written by hand from the IAM User Guide, "Policy
//! evaluation logic" (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html)
//! and "Troubleshoot access denied error messages"
//! (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html).

use super::*;
use crate::source::SnapshotSource;

const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../policy-fixtures/demo");
const SESSION: &str = "arn:aws:sts::111122223333:assumed-role/orders-fn-role/orders";
const ORDERS: &str = "arn:aws:dynamodb:us-east-1:111122223333:table/orders";
const DEV: &str = "arn:aws:iam::111122223333:user/developers/dev";
const ROLE: &str = "arn:aws:iam::111122223333:role/service-role/orders-fn-role";

fn run(message: &str) -> Explanation {
    let request = ExplainRequest::new(Some(message), Given::default()).unwrap();
    explain_in(&SnapshotSource::new(DEMO), &request).unwrap()
}

fn given(principal: &str, action: &str, resource: &str) -> Explanation {
    let g = Given {
        principal: Some(principal.into()),
        action: Some(action.into()),
        resource: Some(resource.into()),
        ..Default::default()
    };
    explain_in(&SnapshotSource::new(DEMO), &ExplainRequest::new(None, g).unwrap()).unwrap()
}

/// Designed mismatch L1: the role's `dynamodb:*` would allow the scan, `orders-guardrails/DenyTableScans`
/// denies it ("an explicit deny in any of these policies overrides the allow").
#[test]
fn explicit_deny_in_an_identity_policy() {
    let e = run(&format!(
        "User: {SESSION} is not authorized to perform: dynamodb:Scan on resource: {ORDERS} with an explicit deny in an identity-based policy"
    ));
    assert_eq!(e.decision, Verdict::ExplicitDeny);
    assert_eq!(e.layer, Some(ExplainLayer::Identity));
    let sids: Vec<(&str, &str)> = e.statements.iter().map(|s| (s.policy.as_str(), s.sid.as_str())).collect();
    assert_eq!(sids, vec![("role orders-fn-role inline orders-guardrails", "DenyTableScans")]);
    assert_eq!(e.agreement, Agreement::Agrees);
    // The deny covers every table (`table/*`) and names one action: only removing it lifts it, and
    // then the role's own grants allow the scan.
    assert_eq!(e.fix.len(), 1);
    let step = &e.fix[0];
    assert_eq!((step.layer.as_str(), step.change, step.verified), ("identity", "remove-statement", true));
    assert_eq!(step.policy.as_deref(), Some("role orders-fn-role inline orders-guardrails:DenyTableScans"));
    assert_eq!(step.statement.as_ref().unwrap()["Sid"], "DenyTableScans");
}

/// The message of issue 11 states an implicit deny; the demo's role denies the scan explicitly:
/// iamfit says the message's reason differs.
#[test]
fn a_stated_reason_that_differs() {
    let e = run(&format!(
        "User: {SESSION} is not authorized to perform: dynamodb:Scan on resource: {ORDERS} because no identity-based policy allows the dynamodb:Scan action"
    ));
    assert_eq!(e.decision, Verdict::ExplicitDeny);
    assert_eq!(e.agreement, Agreement::Differs);
    assert!(!e.unseen.is_empty());
}

/// Designed mismatch L5: `orders-runtime/CustomMetrics` allows `cloudwatch:PutMetricData`, the
/// permissions boundary `lambda-boundary` does not ("Permissions boundaries for IAM entities": the
/// effective permissions are the intersection).
#[test]
fn implicit_deny_by_the_boundary() {
    let e = run(&format!(
        "User: {SESSION} is not authorized to perform: cloudwatch:PutMetricData because no permissions boundary allows the cloudwatch:PutMetricData action"
    ));
    assert_eq!(e.resource, "*");
    assert_eq!((e.decision, e.layer), (Verdict::ImplicitDeny, Some(ExplainLayer::Boundary)));
    assert_eq!(e.agreement, Agreement::Agrees);
    assert!(e.statements.iter().any(|s| s.sid == "CustomMetrics"), "{:?}", e.statements);
    let steps: Vec<(&str, &str, bool)> =
        e.fix.iter().map(|s| (s.layer.as_str(), s.change, s.verified)).collect();
    assert_eq!(steps, vec![("boundary", "add-statement", true)]);
    assert!(e.fix[0].policy.as_deref().is_some_and(|p| p.contains("lambda-boundary")), "{:?}", e.fix);
}

/// Designed mismatch L4: no statement grants `events:PutEvents` (the boundary would): the fix is an
/// identity statement of exactly the call.
#[test]
fn implicit_deny_without_a_grant() {
    let bus = "arn:aws:events:us-east-1:111122223333:event-bus/default";
    let e = given(SESSION, "events:PutEvents", bus);
    assert_eq!((e.decision, e.layer), (Verdict::ImplicitDeny, Some(ExplainLayer::Identity)));
    assert_eq!(e.agreement, Agreement::NotStated);
    assert_eq!(e.fix.len(), 1);
    let st = e.fix[0].statement.as_ref().unwrap();
    assert_eq!((&st["Action"], &st["Resource"]), (&"events:PutEvents".into(), &bus.into()));
    assert!(e.fix[0].verified);
}

/// Role trust ("Policy evaluation logic": trust policies must explicitly allow the principal): the
/// role trusts only `lambda.amazonaws.com`, so the developer may not assume it; the fix is a trust
/// statement naming the user, which in the same account allows on its own.
#[test]
fn assume_role_refused_by_the_trust_policy() {
    let e = run(&format!(
        "An error occurred (AccessDenied) when calling the AssumeRole operation: User: {DEV} is not authorized to perform: sts:AssumeRole on resource: {ROLE}"
    ));
    assert_eq!((e.decision, e.layer), (Verdict::ImplicitDeny, Some(ExplainLayer::Trust)));
    let steps: Vec<(&str, &str, bool)> =
        e.fix.iter().map(|s| (s.layer.as_str(), s.change, s.verified)).collect();
    assert_eq!(steps, vec![("trust", "add-statement", true)]);
    assert_eq!(e.fix[0].statement.as_ref().unwrap()["Principal"]["AWS"], DEV);
}

/// The developer may read the orders table (`developer-access/OrdersTables`): a message saying
/// otherwise was decided by something iamfit does not see, and the report says what.
#[test]
fn iamfit_allows_what_the_message_denies() {
    let e = run(&format!(
        "User: {DEV} is not authorized to perform: dynamodb:GetItem on resource: {ORDERS} with an explicit deny in a service control policy"
    ));
    assert_eq!((e.decision, e.layer), (Verdict::Allow, None));
    assert_eq!(e.agreement, Agreement::IamfitAllows);
    assert!(e.is_partial());
    assert!(e.fix.is_empty());
    assert!(
        e.unseen.iter().any(|u| u.starts_with("SCPs: none known for account 111122223333")),
        "{:?}",
        e.unseen
    );
}

/// Designed case P1: `orders-data-access/OrdersKey` allows `kms:Decrypt` only with `kms:ViaService`;
/// a direct call (the key absent) is denied, and the note names the key.
#[test]
fn a_condition_on_a_key_the_message_does_not_give() {
    let key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let e = given(SESSION, "kms:Decrypt", key);
    assert_eq!(e.decision, Verdict::ImplicitDeny);
    assert!(e.notes.iter().any(|n| n.contains("OrdersKey") && n.contains("kms:ViaService")), "{:?}", e.notes);
    // With the key given, the call is allowed.
    let mut g = Given {
        principal: Some(SESSION.into()),
        action: Some("kms:Decrypt".into()),
        resource: Some(key.into()),
        ..Default::default()
    };
    g.context.set("kms:ViaService", "sqs.us-east-1.amazonaws.com");
    let e = explain_in(&SnapshotSource::new(DEMO), &ExplainRequest::new(None, g).unwrap()).unwrap();
    assert_eq!(e.decision, Verdict::Allow);
}

/// An SCP level that denies: the layer is `scp`, and the fix, applied to the SCP, is proven.
#[test]
fn explicit_deny_in_an_scp() {
    let source = SnapshotSource::new(DEMO);
    let mut subject = resolve::principal_subject(&source, SESSION).unwrap();
    let all = iamfit_policy::Policy::parse(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
    )
    .unwrap();
    let deny = iamfit_policy::Policy::parse(r#"{"Version":"2012-10-17","Statement":[{"Sid":"DenyPuts","Effect":"Deny","Action":["dynamodb:PutItem","dynamodb:DeleteItem"],"Resource":"*"}]}"#).unwrap();
    use iamfit_policy::eval::NamedPolicy;
    subject.policies.scp = vec![
        vec![NamedPolicy::new("FullAWSAccess", all.clone())],
        vec![NamedPolicy::new("FullAWSAccess", all), NamedPolicy::new("DenyWrites", deny)],
    ];
    let message = format!("User: {SESSION} is not authorized to perform: dynamodb:PutItem on resource: {ORDERS} with an explicit deny in a service control policy");
    let request = ExplainRequest::new(Some(&message), Given::default()).unwrap();
    let e = explain(&subject, None, &request);
    assert_eq!((e.decision, e.layer), (Verdict::ExplicitDeny, Some(ExplainLayer::Scp)));
    assert_eq!(e.agreement, Agreement::Agrees);
    let steps: Vec<(&str, &str, bool)> =
        e.fix.iter().map(|s| (s.layer.as_str(), s.change, s.verified)).collect();
    assert_eq!(steps, vec![("scp", "remove-action", true)]);
}

#[test]
fn requests_that_cannot_be_made() {
    let err = ExplainRequest::new(Some("the build failed"), Given::default()).unwrap_err();
    assert_eq!(err, ExplainError::Missing { missing: vec!["principal", "action"], message_given: true });
    assert!(err.to_string().contains("no principal and no action"), "{err}");
    assert!(err.help().contains("--principal and --action"));
    let encoded = "An error occurred (UnauthorizedOperation) when calling the RunInstances operation: You are not authorized to perform this operation. Encoded authorization failure message: abc";
    let err = ExplainRequest::new(Some(encoded), Given::default()).unwrap_err();
    assert!(matches!(err, ExplainError::Encoded { .. }), "{err:?}");
    assert!(err.help().contains("sts:DecodeAuthorizationMessage"));
    // The flags complete what the message lacks.
    let g =
        Given { principal: Some(DEV.into()), action: Some("ec2:RunInstances".into()), ..Default::default() };
    let r = ExplainRequest::new(Some(encoded), g).unwrap();
    assert_eq!((r.principal.as_str(), r.resource.as_str()), (DEV, "*"));
    let g = Given { principal: Some(DEV.into()), action: Some("s3:*".into()), ..Default::default() };
    assert!(matches!(ExplainRequest::new(None, g), Err(ExplainError::BadAction(_))));
}

/// A KMS key policy that names only the orders role ("AWS KMS key policies": without a statement
/// that enables IAM policies, only the key policy grants;
/// https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html): the invoice renderer
/// is denied, the layer is `resource`, and the fix is a key-policy statement naming its role (with
/// the role's path, as a key policy must name it), proven.
#[test]
fn a_key_policy_that_names_another_role() {
    let key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let renderer = "arn:aws:sts::111122223333:assumed-role/invoice-renderer-role/invoice-renderer";
    let source = SnapshotSource::new(DEMO);
    let mut subject = resolve::principal_subject(&source, renderer).unwrap();
    let policy = iamfit_policy::Policy::parse(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"OrdersOnly","Effect":"Allow","Principal":{{"AWS":"{ROLE}"}},"Action":"kms:Decrypt","Resource":"*"}}]}}"#
    ))
    .unwrap();
    subject.policies.resource = Some(iamfit_policy::eval::NamedPolicy::new("key policy", policy));
    let message = format!("User: {renderer} is not authorized to perform: kms:Decrypt on resource: {key} because no resource-based policy allows the kms:Decrypt action");
    let e = explain(&subject, None, &ExplainRequest::new(Some(&message), Given::default()).unwrap());
    assert_eq!((e.decision, e.layer), (Verdict::ImplicitDeny, Some(ExplainLayer::Resource)));
    assert_eq!(e.agreement, Agreement::Agrees);
    let steps: Vec<(&str, &str, bool)> =
        e.fix.iter().map(|s| (s.layer.as_str(), s.change, s.verified)).collect();
    assert_eq!(steps, vec![("resource", "add-statement", true)]);
    let st = e.fix[0].statement.as_ref().unwrap();
    assert_eq!(st["Principal"]["AWS"], "arn:aws:iam::111122223333:role/service-role/invoice-renderer-role");
    assert_eq!(st["Resource"], "*");
}

/// A role session whose message names a session policy: iamfit sees none (session policies are
/// passed at AssumeRole and stored nowhere it reads), so it allows, and says so.
#[test]
fn a_session_policy_iamfit_cannot_see() {
    let e = run(&format!(
        "User: {SESSION} is not authorized to perform: dynamodb:GetItem on resource: {ORDERS} because no session policy allows the dynamodb:GetItem action"
    ));
    assert_eq!((e.decision, e.agreement), (Verdict::Allow, Agreement::IamfitAllows));
    assert!(e.unseen.iter().any(|u| u.starts_with("a session policy")), "{:?}", e.unseen);
}

/// A `Deny` of requests from a blocked network ("aws:SourceIp", AWS global condition context keys:
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-sourceip):
/// the message gives no source address, so iamfit allows, and says that the key decides.
#[test]
fn a_deny_on_a_key_the_message_does_not_give() {
    let source = SnapshotSource::new(DEMO);
    let mut subject = resolve::principal_subject(&source, DEV).unwrap();
    let deny = iamfit_policy::Policy::parse(r#"{"Version":"2012-10-17","Statement":[{"Sid":"BlockedNetwork","Effect":"Deny","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"192.0.2.0/24"}}}]}"#).unwrap();
    subject.policies.identity.push(iamfit_policy::eval::NamedPolicy::new("blocked-network", deny));
    let message = format!("User: {DEV} is not authorized to perform: dynamodb:GetItem on resource: {ORDERS} with an explicit deny in an identity-based policy");
    let e = explain(&subject, None, &ExplainRequest::new(Some(&message), Given::default()).unwrap());
    assert_eq!((e.decision, e.agreement), (Verdict::Allow, Agreement::IamfitAllows));
    assert!(e.unseen.iter().any(|u| u.contains("aws:SourceIp")), "{:?}", e.unseen);
    assert!(
        e.notes.iter().any(|n| n.contains("blocked-network/BlockedNetwork") && n.contains("aws:SourceIp")),
        "{:?}",
        e.notes
    );
    // With the address given, the deny applies and the explanation agrees with the message.
    let mut g = Given::default();
    g.context.set("aws:SourceIp", "192.0.2.7");
    let e = explain(&subject, None, &ExplainRequest::new(Some(&message), g).unwrap());
    assert_eq!((e.decision, e.agreement), (Verdict::ExplicitDeny, Agreement::Agrees));
    assert_eq!(e.statements[0].sid, "BlockedNetwork");
    assert!(e.notes.is_empty(), "{:?}", e.notes);
}
