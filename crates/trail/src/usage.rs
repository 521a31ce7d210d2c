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
                    match n.resource {
                        ResourceKnowledge::Known => n.resources.iter().for_each(|r| resources.add(r)),
                        ResourceKnowledge::NotScoped => resources.add("*"),
                        ResourceKnowledge::Unknown(_) => resources.unknown += 1,
                    }
                }
            }
        }
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
