//! Views of the IAM action catalog for reports (`iamfit catalog expand` and `show`): plain,
//! serializable copies of what the catalog knows about an action.

use serde::Serialize;

use iamfit_catalog::{ActionRef, Catalog};

/// One action in a list (`catalog expand`).
#[derive(Debug, Clone, Serialize)]
pub struct ActionSummary {
    /// `service:Action`.
    pub action: String,
    /// The service prefix.
    pub service: String,
    /// The action's name.
    pub name: String,
    /// `List`, `Read`, `Write`, `Permissions management` or `Tagging`.
    pub access_level: &'static str,
    /// The resource types it acts on.
    pub resource_types: Vec<ResourceTypeRef>,
    /// AWS's description.
    pub description: String,
}

/// A resource type an action acts on, by name.
#[derive(Debug, Clone, Serialize)]
pub struct ResourceTypeRef {
    /// The resource type's name.
    pub name: String,
    /// Whether the action requires it.
    pub required: bool,
}

/// Everything the catalog knows about one action (`catalog show`).
#[derive(Debug, Clone, Serialize)]
pub struct ActionDetail {
    /// `service:Action`.
    pub action: String,
    /// The service prefix.
    pub service: String,
    /// The service's name.
    pub service_name: String,
    /// The action's name.
    pub name: String,
    /// Its access level.
    pub access_level: &'static str,
    /// AWS's description.
    pub description: String,
    /// Where the entry comes from.
    pub source: &'static str,
    /// Whether policies can name resources for it.
    pub resource_level_permissions: bool,
    /// The resource types it acts on.
    pub resource_types: Vec<ResourceTypeDetail>,
    /// Every condition key that applies.
    pub condition_keys: Vec<ConditionKeyDetail>,
    /// Actions it depends on.
    pub dependent_actions: Vec<String>,
    /// The API operations it authorizes (AWS's Service Reference).
    pub operations: Vec<OperationDetail>,
}

/// A resource type of an action.
#[derive(Debug, Clone, Serialize)]
pub struct ResourceTypeDetail {
    /// Its name.
    pub name: String,
    /// Whether the action requires it.
    pub required: bool,
    /// Its ARN formats.
    pub arn_formats: Vec<String>,
    /// Condition keys specific to it.
    pub condition_keys: Vec<String>,
    /// Actions the access also needs.
    pub dependent_actions: Vec<String>,
}

/// A condition key of an action.
#[derive(Debug, Clone, Serialize)]
pub struct ConditionKeyDetail {
    /// The key.
    pub name: String,
    /// Its value type.
    #[serde(rename = "type")]
    pub value_type: String,
    /// AWS's description.
    pub description: String,
    /// Whether it comes with a resource type rather than the action itself.
    pub resource_specific: bool,
}

/// An API operation that needs the action.
#[derive(Debug, Clone, Serialize)]
pub struct OperationDetail {
    /// The service.
    pub service: String,
    /// The operation's name.
    pub name: String,
    /// Every action it needs, with the request context that makes each apply.
    pub authorized_actions: Vec<AuthorizedActionDetail>,
    /// The SDK clients that call it.
    pub sdk_services: Vec<String>,
}

/// An action an operation needs, and when.
#[derive(Debug, Clone, Serialize)]
pub struct AuthorizedActionDetail {
    /// The action.
    pub action: String,
    /// Request conditions under which it applies (empty: always).
    pub context: std::collections::BTreeMap<String, Vec<String>>,
}

fn strings<'a>(items: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    items.into_iter().map(str::to_string).collect()
}

/// The list entry of an action.
pub fn summary(a: &ActionRef<'_>) -> ActionSummary {
    ActionSummary {
        action: a.full_name(),
        service: a.service().to_string(),
        name: a.name().to_string(),
        access_level: a.access_level().as_str(),
        resource_types: a
            .resource_types()
            .iter()
            .map(|r| ResourceTypeRef { name: r.resource_type.name.to_string(), required: r.required })
            .collect(),
        description: a.description().to_string(),
    }
}

/// The full entry of an action.
pub fn detail(a: &ActionRef<'_>, catalog: &Catalog) -> ActionDetail {
    let own_keys = a.condition_keys();
    ActionDetail {
        action: a.full_name(),
        service: a.service().to_string(),
        service_name: a.service_ref().name().to_string(),
        name: a.name().to_string(),
        access_level: a.access_level().as_str(),
        description: a.description().to_string(),
        source: a.source().as_str(),
        resource_level_permissions: a.supports_resource_level_permissions(),
        resource_types: a
            .resource_types()
            .iter()
            .map(|r| ResourceTypeDetail {
                name: r.resource_type.name.to_string(),
                required: r.required,
                arn_formats: strings(r.resource_type.arn_formats.iter().copied()),
                condition_keys: strings(r.condition_keys.iter().copied()),
                dependent_actions: strings(r.dependent_actions.iter().copied()),
            })
            .collect(),
        condition_keys: a
            .all_condition_keys()
            .iter()
            .map(|k| {
                let def = catalog.condition_key(k);
                ConditionKeyDetail {
                    name: k.to_string(),
                    value_type: def.map(|d| d.value_type.to_string()).unwrap_or_default(),
                    description: def.map(|d| d.description.to_string()).unwrap_or_default(),
                    resource_specific: !own_keys.contains(k),
                }
            })
            .collect(),
        dependent_actions: strings(a.dependent_actions()),
        operations: a
            .operations()
            .iter()
            .map(|o| OperationDetail {
                service: o.service.to_string(),
                name: o.name.to_string(),
                authorized_actions: o
                    .authorized_actions()
                    .map(|x| AuthorizedActionDetail {
                        action: x.action.to_string(),
                        context: x
                            .context()
                            .map(|(k, v)| (k.to_string(), strings(v.iter().copied())))
                            .collect(),
                    })
                    .collect(),
                sdk_services: strings(o.sdk_services()),
            })
            .collect(),
    }
}

/// What `catalog update` did, for its report.
#[derive(Debug, Clone, Serialize)]
pub struct UpdateReport {
    /// The catalog file written.
    pub path: String,
    /// Services in the updated catalog.
    pub services: usize,
    /// Actions in the updated catalog.
    pub actions: usize,
    /// Service documents downloaded.
    pub services_downloaded: usize,
    /// Services the embedded catalog did not have.
    pub services_added: Vec<String>,
    /// Actions the embedded catalog did not have.
    pub actions_added: Vec<String>,
    /// Resource types added.
    pub resource_types_added: usize,
    /// Condition keys added.
    pub condition_keys_added: usize,
    /// Operations read.
    pub operations: usize,
}

impl From<&iamfit_catalog::update::UpdateSummary> for UpdateReport {
    fn from(s: &iamfit_catalog::update::UpdateSummary) -> Self {
        UpdateReport {
            path: s.path.display().to_string(),
            services: s.service_count,
            actions: s.action_count,
            services_downloaded: s.services_downloaded,
            services_added: s.added.services_added.clone(),
            actions_added: s.added.actions_added.clone(),
            resource_types_added: s.added.resource_types_added,
            condition_keys_added: s.added.condition_keys_added,
            operations: s.added.operations,
        }
    }
}
