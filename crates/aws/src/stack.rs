//! What a template needs from the live account: the physical ids of a deployed stack's resources
//! (`--stack NAME`: the names CloudFormation generated) and the documents of the AWS managed
//! policies the template attaches ([`LiveManagedPolicies`], the core's [`ManagedPolicySource`]).

use std::collections::{BTreeMap, BTreeSet};

use iamfit_core::account::ManagedPolicy;
use iamfit_core::source::{ManagedPolicySource, SourceError};

use crate::error::{classify, Call};
use crate::live::{self, LiveError, LiveOptions};
use crate::runtime::block_on;

/// The physical id of every resource of the stack `stack`, by logical id (`ListStackResources`, all
/// pages: `DescribeStackResources` stops at 100 resources). A resource not created yet has none.
pub fn physical_ids(opts: &LiveOptions, stack: &str) -> Result<BTreeMap<String, String>, SourceError> {
    block_on(physical_ids_async(opts, stack))?.map_err(SourceError::from)
}

async fn physical_ids_async(opts: &LiveOptions, stack: &str) -> Result<BTreeMap<String, String>, LiveError> {
    let config = live::sdk_config(opts).await?;
    let client = aws_sdk_cloudformation::Client::new(&config);
    let mut pages = client.list_stack_resources().stack_name(stack).into_paginator().send();
    let mut out = BTreeMap::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            classify(
                &e,
                Call {
                    call: "cloudformation:ListStackResources",
                    permission: "cloudformation:ListStackResources",
                    what: "stack",
                    target: stack,
                },
            )
        })?;
        for r in page.stack_resource_summaries() {
            if let (Some(logical), Some(physical)) = (r.logical_resource_id(), r.physical_resource_id()) {
                out.insert(logical.to_string(), physical.to_string());
            }
        }
    }
    Ok(out)
}

/// AWS managed policies read live (`GetPolicy`, then `GetPolicyVersion` of the default version),
/// concurrently, each once per run.
#[derive(Debug, Clone)]
pub struct LiveManagedPolicies {
    opts: LiveOptions,
}

impl LiveManagedPolicies {
    /// Reads as `opts` says.
    pub fn new(opts: LiveOptions) -> Self {
        LiveManagedPolicies { opts }
    }
}

impl ManagedPolicySource for LiveManagedPolicies {
    fn managed_policies(&self, arns: &[String]) -> Result<Vec<ManagedPolicy>, SourceError> {
        let wanted: BTreeSet<String> = arns.iter().cloned().collect();
        let read = async {
            let config = live::sdk_config(&self.opts).await?;
            live::managed_policies(&aws_sdk_iam::Client::new(&config), &wanted).await
        };
        block_on(read)?.map_err(SourceError::from)
    }
}
