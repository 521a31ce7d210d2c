//! The command line's names for library choices (`--kind`, `--format`, `--granularity`).
//!
//! The library crates do not depend on clap; each choice here mirrors one library enum, variant for
//! variant, and converts into it.

use clap::ValueEnum;
use iamfit_core::analyze::generate::{Format, Granularity};
use iamfit_core::lint::validate::PolicyKind;

/// Declares a clap value enum that mirrors a library enum of the same variants.
macro_rules! mirror {
    ($(#[$meta:meta])* $name:ident => $lib:ty { $($(#[$vmeta:meta])* $variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl From<$name> for $lib {
            fn from(value: $name) -> Self {
                match value {
                    $($name::$variant => <$lib>::$variant),+
                }
            }
        }
    };
}

mirror! {
    /// `check --kind`: what a document is for.
    KindArg => PolicyKind {
        /// Decide from the content: statements with `Principal` make a resource-based policy.
        Auto,
        /// An identity-based policy (managed or inline).
        Identity,
        /// A resource-based policy (bucket, key, queue, function policy).
        Resource,
        /// A role trust policy.
        Trust,
        /// A service control policy.
        Scp,
        /// A resource control policy.
        Rcp,
        /// A permissions boundary.
        Boundary,
        /// A session policy.
        Session,
    }
}

mirror! {
    /// `generate --format`: the form of the generated policy.
    FormatArg => Format {
        /// IAM policy JSON (a list of documents when split).
        Iam,
        /// SAM `Policies:` for an `AWS::Serverless::Function`.
        Sam,
        /// CloudFormation `AWS::IAM::ManagedPolicy` resources.
        Cloudformation,
        /// Terraform `data "aws_iam_policy_document"` blocks.
        Terraform,
    }
}

mirror! {
    /// `generate --granularity`: how resource sets are summarised.
    GranularityArg => Granularity {
        /// Every ARN seen, one by one.
        Exact,
        /// Object keys and other paths under a common prefix become `prefix/*` (default).
        Prefix,
        /// Everything under a bucket (or parent path) becomes `bucket/*`.
        Wildcard,
    }
}
