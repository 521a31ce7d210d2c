//! Normalisation across accounts: when the local principal and the function live in different
//! accounts, resources that differ only by the account id (or by `--map` names) are the same resource.

/// How resources of one account are mapped onto the other's when the two principals live in
/// different accounts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Normalization {
    /// `(prod account, local account)`: ARNs that differ only by these account ids are the same resource.
    pub accounts: Option<(String, String)>,
    /// `(prod text, local text)` replacements in resource names (`--map prod=dev`).
    pub names: Vec<(String, String)>,
}

impl Normalization {
    /// Whether any mapping applies.
    pub fn is_empty(&self) -> bool {
        self.accounts.is_none() && self.names.is_empty()
    }

    /// A production resource as the local account names it.
    pub fn to_local(&self, resource: &str) -> String {
        let mut out = resource.to_string();
        if let Some((prod, local)) = &self.accounts {
            out = replace_account(&out, prod, local);
        }
        for (prod, local) in &self.names {
            out = replace_in_name(&out, prod, local);
        }
        out
    }

    /// A local resource as the production account names it.
    pub fn to_prod(&self, resource: &str) -> String {
        let mut out = resource.to_string();
        if let Some((prod, local)) = &self.accounts {
            out = replace_account(&out, local, prod);
        }
        for (prod, local) in &self.names {
            out = replace_in_name(&out, local, prod);
        }
        out
    }

    /// Human-readable lines saying what was applied.
    pub fn describe(&self) -> Vec<String> {
        let mut lines = Vec::new();
        if let Some((prod, local)) = &self.accounts {
            lines.push(format!("resources in account {prod} (function) are compared with the same resources in account {local} (local)"));
        }
        for (prod, local) in &self.names {
            lines.push(format!(
                "resource names containing {prod:?} are compared with the same names containing {local:?}"
            ));
        }
        lines
    }
}

fn replace_account(arn: &str, from: &str, to: &str) -> String {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() == 6 && parts[4] == from {
        format!("{}:{}:{}:{}:{to}:{}", parts[0], parts[1], parts[2], parts[3], parts[5])
    } else {
        // S3 bucket names often embed the account id.
        arn.replace(from, to)
    }
}

fn replace_in_name(arn: &str, from: &str, to: &str) -> String {
    match arn.splitn(6, ':').collect::<Vec<_>>().as_slice() {
        [a, b, c, d, e, rest] => format!("{a}:{b}:{c}:{d}:{e}:{}", rest.replace(from, to)),
        _ => arn.replace(from, to),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalization_maps_accounts_and_names() {
        let n = Normalization {
            accounts: Some(("999988887777".into(), "111122223333".into())),
            names: vec![("prod".into(), "dev".into())],
        };
        assert_eq!(
            n.to_local("arn:aws:dynamodb:us-east-1:999988887777:table/orders-prod"),
            "arn:aws:dynamodb:us-east-1:111122223333:table/orders-dev"
        );
        assert_eq!(
            n.to_prod("arn:aws:s3:::invoices-111122223333-dev/*"),
            "arn:aws:s3:::invoices-999988887777-prod/*"
        );
        assert_eq!(n.describe().len(), 2);
    }
}
