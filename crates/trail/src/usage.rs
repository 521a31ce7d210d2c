//! What a principal did: the IAM actions its calls needed (with counts, resources, first and last
//! seen), the calls it was denied, and the events that could not be mapped. Denied calls are evidence
//! of a missing permission and never count as used.

use std::collections::{BTreeMap, BTreeSet};

use iamfit_catalog::Catalog;

use super::event::Event;
use super::map::{map_event, Mapping, ResourceKnowledge};

/// Where a call was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Origin {
    /// A CloudTrail record (log files, S3, LookupEvents).
    CloudTrail,
    /// A recording made by `iamfit exec --record`.
    Recording,
}

impl Origin {
    /// The name used in reports (`cloudtrail`, `recording`).
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::CloudTrail => "cloudtrail",
            Origin::Recording => "recording",
        }
    }
}

/// Resources kept per action before the list is marked truncated (the contract's limit).
pub const MAX_RESOURCES: usize = 1000;

/// Distinct (action, resource) calls kept before further ones are only counted.
pub const MAX_CALLS: usize = 20_000;

/// Distinct request contexts kept per call.
pub const MAX_CONTEXTS: usize = 16;

/// A set of resources with the contract's cap.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resources {
    /// Distinct resources (at most [`MAX_RESOURCES`]).
    pub set: BTreeSet<String>,
    /// Whether more were seen than kept.
    pub truncated: bool,
    /// Calls for which no resource could be known.
    pub unknown: u64,
}

impl Resources {
    /// Adds one resource (counted once; past [`MAX_RESOURCES`] the set is marked truncated).
    pub fn add(&mut self, arn: &str) {
        if self.set.contains(arn) {
            return;
        }
        if self.set.len() < MAX_RESOURCES {
            self.set.insert(arn.to_string());
        } else {
            self.truncated = true;
        }
    }

    fn merge(&mut self, other: Resources) {
        for r in other.set {
            self.add(&r);
        }
        self.truncated |= other.truncated;
        self.unknown += other.unknown;
    }
}

/// Use of one action.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActionUse {
    /// Calls.
    pub count: u64,
    /// Resources named.
    pub resources: Resources,
    /// Earliest `eventTime`.
    pub first_seen: String,
    /// Latest `eventTime`.
    pub last_seen: String,
    /// Where the calls were seen.
    pub seen_in: BTreeSet<Origin>,
}

/// Denials of one action with one error code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Denial {
    /// Calls.
    pub count: u64,
    /// Resources named.
    pub resources: Resources,
    /// Latest `eventTime`.
    pub last_seen: String,
    /// Where the calls were seen.
    pub seen_in: BTreeSet<Origin>,
}

/// What an event shows of a call's request context (the keys IAM conditions may test).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CallContext {
    /// `sourceIPAddress`: an IP address, or the service that called on the principal's behalf.
    pub source: Option<String>,
    /// Whether the event has `tlsDetails` (the call came over TLS).
    pub tls: bool,
    /// `userIdentity.invokedBy`: the AWS service that made the call with the principal's credentials.
    pub invoked_by: Option<String>,
    /// `vpcEndpointId`.
    pub vpc_endpoint: Option<String>,
    /// `awsRegion`.
    pub region: Option<String>,
}

impl CallContext {
    /// The context an event shows.
    pub fn of(event: &Event<'_>) -> CallContext {
        CallContext {
            source: event.source_ip_address.as_deref().map(str::to_string),
            tls: event.tls_details.is_some(),
            invoked_by: event
                .user_identity
                .as_ref()
                .and_then(|u| u.invoked_by.as_deref())
                .map(str::to_string),
            vpc_endpoint: event.vpc_endpoint_id.as_deref().map(str::to_string),
            region: event.aws_region.as_deref().map(str::to_string),
        }
    }
}

/// Calls of one action on one resource.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallUse {
    /// Calls, allowed and denied.
    pub count: u64,
    /// Of which denied for lack of permission.
    pub denied: u64,
    /// The distinct request contexts seen (at most [`MAX_CONTEXTS`]).
    pub contexts: BTreeSet<CallContext>,
    /// Whether more contexts were seen than kept.
    pub contexts_truncated: bool,
}

impl CallUse {
    fn add_context(&mut self, context: CallContext) {
        if self.contexts.len() < MAX_CONTEXTS {
            self.contexts.insert(context);
        } else if !self.contexts.contains(&context) {
            self.contexts_truncated = true;
        }
    }
}

/// The aggregate of a replay.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Usage {
    /// Used actions by real-cased name.
    pub actions: BTreeMap<String, ActionUse>,
    /// Denied actions by (action, error code).
    pub denied: BTreeMap<(String, String), Denial>,
    /// Events with no mapping, by (event source, event name).
    pub unmapped: BTreeMap<(String, String), u64>,
    /// Calls that need no permission (`sts:GetCallerIdentity`).
    pub permissionless: u64,
    /// Records that are not API calls (console sign-ins, AWS service events): no IAM action.
    pub non_api: u64,
    /// Events of the principal that matched.
    pub matched: u64,
    /// IAM service prefixes for which the trail held data events (so it logs them).
    pub data_event_services: BTreeSet<String>,
    /// Every distinct call: (action, resource) with counts and request contexts. A call whose
    /// resource is not scoped is keyed by `*`; calls whose resource cannot be known are left out
    /// (they are counted in the action's [`Resources::unknown`]).
    pub calls: BTreeMap<(String, String), CallUse>,
    /// Calls not kept because [`MAX_CALLS`] distinct calls were kept already.
    pub calls_dropped: u64,
}

impl Usage {
    /// Adds one event of the principal.
    pub fn record(&mut self, event: &Event<'_>, catalog: &Catalog) {
        self.matched += 1;
        if event.event_category.as_deref() == Some("Data") {
            if let Some(prefix) = super::map::service_prefix(event.event_source.as_deref().unwrap_or("")) {
                if !self.data_event_services.contains(prefix) {
                    self.data_event_services.insert(prefix.to_string());
                }
            }
        }
        let time = event.event_time.as_deref().unwrap_or("");
        let denied = event.error_code.as_deref().filter(|c| super::event::is_access_denied_code(c));
        match map_event(event, catalog) {
            Mapping::Permissionless => self.permissionless += 1,
            Mapping::NonApi { .. } => self.non_api += 1,
            Mapping::Unmapped { .. } => {
                let key = (
                    event.event_source.as_deref().unwrap_or("").to_string(),
                    event.event_name.as_deref().unwrap_or("").to_string(),
                );
                *self.unmapped.entry(key).or_default() += 1;
            }
            Mapping::Actions(needed) => {
                for n in needed {
                    let resources = match denied {
                        Some(code) => {
                            let d = self.denied.entry((n.action.to_string(), code.to_string())).or_default();
                            d.count += 1;
                            d.seen_in.insert(Origin::CloudTrail);
                            if time > d.last_seen.as_str() {
                                d.last_seen = time.to_string();
                            }
                            &mut d.resources
                        }
                        None => {
                            let a = self.actions.entry(n.action.to_string()).or_default();
                            a.count += 1;
                            a.seen_in.insert(Origin::CloudTrail);
                            if a.first_seen.is_empty() || time < a.first_seen.as_str() {
                                a.first_seen = time.to_string();
                            }
                            if time > a.last_seen.as_str() {
                                a.last_seen = time.to_string();
                            }
                            &mut a.resources
                        }
                    };
                    let called: Vec<&str> = match n.resource {
                        ResourceKnowledge::Known => n.resources.iter().map(String::as_str).collect(),
                        ResourceKnowledge::NotScoped => vec!["*"],
                        ResourceKnowledge::Unknown(_) => {
                            resources.unknown += 1;
                            Vec::new()
                        }
                    };
                    for r in &called {
                        resources.add(r);
                    }
                    for r in called {
                        self.record_call(&n.action, r, denied.is_some(), CallContext::of(event));
                    }
                }
            }
        }
    }

    /// Counts one call of `action` on `resource` (`*` for an action without resource types), with
    /// the request context it had; past [`MAX_CALLS`] distinct calls, only `calls_dropped` grows.
    pub fn record_call(&mut self, action: &str, resource: &str, denied: bool, context: CallContext) {
        let key = (action.to_string(), resource.to_string());
        if !self.calls.contains_key(&key) && self.calls.len() >= MAX_CALLS {
            self.calls_dropped += 1;
            return;
        }
        let call = self.calls.entry(key).or_default();
        call.count += 1;
        call.denied += u64::from(denied);
        call.add_context(context);
    }

    /// Folds another aggregate into this one.
    pub fn merge(&mut self, other: Usage) {
        self.matched += other.matched;
        self.permissionless += other.permissionless;
        self.non_api += other.non_api;
        self.data_event_services.extend(other.data_event_services);
        for (k, v) in other.actions {
            let a = self.actions.entry(k).or_default();
            a.count += v.count;
            if a.first_seen.is_empty() || (!v.first_seen.is_empty() && v.first_seen < a.first_seen) {
                a.first_seen = v.first_seen;
            }
            if v.last_seen > a.last_seen {
                a.last_seen = v.last_seen;
            }
            a.resources.merge(v.resources);
            a.seen_in.extend(v.seen_in);
        }
        for (k, v) in other.denied {
            let d = self.denied.entry(k).or_default();
            d.count += v.count;
            if v.last_seen > d.last_seen {
                d.last_seen = v.last_seen;
            }
            d.resources.merge(v.resources);
            d.seen_in.extend(v.seen_in);
        }
        for (k, v) in other.unmapped {
            *self.unmapped.entry(k).or_default() += v;
        }
        self.calls_dropped += other.calls_dropped;
        for (k, v) in other.calls {
            if !self.calls.contains_key(&k) && self.calls.len() >= MAX_CALLS {
                self.calls_dropped += v.count;
                continue;
            }
            let c = self.calls.entry(k).or_default();
            c.count += v.count;
            c.denied += v.denied;
            c.contexts_truncated |= v.contexts_truncated;
            for ctx in v.contexts {
                c.add_context(ctx);
            }
        }
    }

    /// Adds a successful use of `action` seen in `origin` at `time`; returns its resources to fill.
    pub fn add_use(&mut self, action: &str, time: &str, origin: Origin) -> &mut Resources {
        let a = self.actions.entry(action.to_string()).or_default();
        a.count += 1;
        a.seen_in.insert(origin);
        if a.first_seen.is_empty() || (!time.is_empty() && time < a.first_seen.as_str()) {
            a.first_seen = time.to_string();
        }
        if time > a.last_seen.as_str() {
            a.last_seen = time.to_string();
        }
        &mut a.resources
    }

    /// Adds a denial of `action` with `code` seen in `origin` at `time`; returns its resources to fill.
    pub fn add_denial(&mut self, action: &str, code: &str, time: &str, origin: Origin) -> &mut Resources {
        let d = self.denied.entry((action.to_string(), code.to_string())).or_default();
        d.count += 1;
        d.seen_in.insert(origin);
        if time > d.last_seen.as_str() {
            d.last_seen = time.to_string();
        }
        &mut d.resources
    }

    /// Whether an action (any case) was used successfully.
    pub fn used(&self, action: &str) -> bool {
        self.actions.contains_key(action) || self.actions.keys().any(|k| k.eq_ignore_ascii_case(action))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Shapes from "CloudTrail record contents" (AWS CloudTrail User Guide): a direct call over TLS
    /// has an address in `sourceIPAddress` and `tlsDetails`; a call a service makes for the principal
    /// has `userIdentity.invokedBy` and the service as `sourceIPAddress`.
    const DIRECT: &str = r#"{"eventTime":"2026-11-01T10:00:00Z","eventSource":"dynamodb.amazonaws.com","eventName":"GetItem","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.7","recipientAccountId":"111122223333","userIdentity":{"type":"AssumedRole","accountId":"111122223333","arn":"arn:aws:sts::111122223333:assumed-role/r/fn"},"requestParameters":{"tableName":"orders"},"resources":[{"type":"AWS::DynamoDB::Table","ARN":"arn:aws:dynamodb:us-east-1:111122223333:table/orders"}],"tlsDetails":{"tlsVersion":"TLSv1.3"}}"#;
    const VIA: &str = r#"{"eventTime":"2026-11-01T10:00:01Z","eventSource":"kms.amazonaws.com","eventName":"Decrypt","awsRegion":"us-east-1","sourceIPAddress":"secretsmanager.amazonaws.com","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/r/fn","invokedBy":"secretsmanager.amazonaws.com"},"requestParameters":{"encryptionContext":{}},"resources":[{"type":"AWS::KMS::Key","ARN":"arn:aws:kms:us-east-1:111122223333:key/k1"}]}"#;
    const DENIED: &str = r#"{"eventTime":"2026-11-01T10:00:02Z","eventSource":"dynamodb.amazonaws.com","eventName":"GetItem","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.7","errorCode":"AccessDeniedException","recipientAccountId":"111122223333","userIdentity":{"type":"AssumedRole","accountId":"111122223333","arn":"arn:aws:sts::111122223333:assumed-role/r/fn"},"requestParameters":{"tableName":"orders"},"resources":[{"type":"AWS::DynamoDB::Table","ARN":"arn:aws:dynamodb:us-east-1:111122223333:table/orders"}],"tlsDetails":{"tlsVersion":"TLSv1.3"}}"#;

    #[test]
    fn calls_keep_resource_counts_and_request_context() {
        let catalog = Catalog::embedded();
        let mut u = Usage::default();
        for text in [DIRECT, VIA, DENIED] {
            let e: Event = serde_json::from_str(text).unwrap();
            u.record(&e, catalog);
        }
        let orders = &u.calls[&(
            "dynamodb:GetItem".to_string(),
            "arn:aws:dynamodb:us-east-1:111122223333:table/orders".to_string(),
        )];
        assert_eq!((orders.count, orders.denied), (2, 1));
        assert_eq!(orders.contexts.len(), 1, "the same context twice");
        let direct = orders.contexts.iter().next().unwrap();
        assert_eq!(direct.source.as_deref(), Some("203.0.113.7"));
        assert!(direct.tls && direct.invoked_by.is_none());
        let key =
            &u.calls[&("kms:Decrypt".to_string(), "arn:aws:kms:us-east-1:111122223333:key/k1".to_string())];
        let via = key.contexts.iter().next().unwrap();
        assert_eq!(via.invoked_by.as_deref(), Some("secretsmanager.amazonaws.com"));
        assert!(!via.tls);
        assert_eq!(via.region.as_deref(), Some("us-east-1"));
        let mut merged = Usage::default();
        merged.merge(u.clone());
        merged.merge(u);
        assert_eq!(merged.calls.values().map(|c| c.count).sum::<u64>(), 6);
    }
}
