//! `Document::parse` on arbitrary UTF-8 (plain JSON, JSON-string-wrapped and URL-encoded documents):
//! positions of every finding, then, for a valid policy, evaluation of a fixed request and of a
//! request built from the policy's own actions and resources, in every policy layer.
#![no_main]

use iamfit_policy::eval::{authorize, NamedPolicy, PolicySet, Principal, Request};
use iamfit_policy::context::RequestContext;
use iamfit_policy::Document;
use libfuzzer_sys::fuzz_target;

fn context() -> RequestContext {
    let mut ctx = RequestContext::from_json(&serde_json::json!({
        "aws:SourceIp": "203.0.113.7",
        "aws:SecureTransport": "true",
        "aws:CurrentTime": "2024-06-30T12:00:00Z",
        "aws:EpochTime": "1719748800",
        "aws:TagKeys": ["team", "env"],
        "aws:RequestTag/team": "core",
        "s3:max-keys": "10",
        "aws:SourceArn": "arn:aws:lambda:us-east-1:123456789012:function:f",
        "aws:MultiFactorAuthPresent": false,
        "s3:x-amz-server-side-encryption": "aws:kms",
    }))
    .expect("fixed context");
    ctx.set("aws:username", "alice");
    ctx
}

fn evaluate(set: &PolicySet, principal: &Principal, action: &str, resource: &str, ctx: &RequestContext) {
    for principal in [Some(principal), None] {
        for resource_account in [None, Some("123456789012")] {
            let req = Request { principal, action, resource, context: ctx, resource_account };
            let decision = authorize(set, &req);
            for m in &decision.matched {
                let _ = (m.label(), m.effect(), m.policy_name(), m.layer.to_string());
            }
            let _ = (decision.verdict.as_str(), decision.reason.map(|r| r.to_string()));
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let doc = Document::parse(text);
    for f in &doc.findings {
        let (line, column) = doc.position(f.span);
        assert!(line >= 1 && column >= 1);
        let _ = (f.severity.to_string(), &f.code, &f.pointer);
    }
    let _ = doc.has_errors();
    let policy = match doc.into_policy() {
        Ok(p) => p,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    let ctx = context();
    for st in &policy.statements {
        let _ = (st.label(), st.conditions_hold(&ctx));
    }
    // Actions and resources taken from the policy itself, so matching gets past the first segment.
    let action: String = policy
        .statements
        .iter()
        .flat_map(|s| s.action.patterns.iter())
        .map(|p| p.raw.replace(['*', '?'], "x"))
        .next()
        .unwrap_or_else(|| "s3:GetObject".into());
    let resource: String = policy
        .statements
        .iter()
        .filter_map(|s| s.resource.as_ref())
        .flat_map(|r| r.entries.iter())
        .map(|e| e.raw.replace(['*', '?'], "x"))
        .next()
        .unwrap_or_else(|| "arn:aws:s3:::bucket/key".into());

    let named = NamedPolicy::new("fuzz", policy);
    let set = PolicySet {
        identity: vec![named.clone()],
        boundary: Some(named.clone()),
        session: vec![named.clone()],
        resource: Some(named.clone()),
        scp: vec![vec![named.clone()]],
        rcp: vec![vec![named]],
    };
    let only_identity = PolicySet { identity: set.identity.clone(), ..Default::default() };
    let only_resource = PolicySet { resource: set.resource.clone(), ..Default::default() };
    let principal =
        Principal::parse("arn:aws:sts::123456789012:assumed-role/app-role/session").expect("principal");
    for s in [&set, &only_identity, &only_resource] {
        evaluate(s, &principal, "s3:GetObject", "arn:aws:s3:::bucket/key", &ctx);
        evaluate(s, &principal, &action, &resource, &ctx);
    }
});
