//! The environment of a local run as the function (`iamfit exec`): the role's credentials and the
//! variables the Lambda runtime sets, so that code and SDKs behave as they do in the function.

use crate::account::{function_name, Function};
use crate::trust::TempCredentials;

/// How the child gets its credentials.
#[derive(Debug, Clone)]
pub enum ChildCredentials<'a> {
    /// Fixed credentials in the environment (they cannot be refreshed in a running process).
    Environment(&'a TempCredentials),
    /// A profile whose `credential_process` refreshes them (`--refresh`): the config file and profile.
    Profile {
        /// The temporary AWS config file.
        config_file: &'a str,
        /// The profile in it.
        profile: &'a str,
    },
}

/// What to set in the child's environment and what to remove from it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChildEnvironment {
    /// Variables to set, in order.
    pub set: Vec<(String, String)>,
    /// Variables to remove from the inherited environment.
    pub remove: Vec<&'static str>,
}

/// What the Lambda-like environment is made of.
#[derive(Debug, Clone)]
pub struct LocalRun<'a> {
    /// The function.
    pub function: &'a Function,
    /// Its region.
    pub region: &'a str,
    /// Its memory size in MB, when known.
    pub memory_size: Option<i32>,
    /// The credentials.
    pub credentials: ChildCredentials<'a>,
    /// `AWS_ENDPOINT_URL` to pass on (`--endpoint-url`).
    pub endpoint_url: Option<&'a str>,
    /// Whether to include the function's own environment variables.
    pub function_variables: bool,
}

/// Builds the child's environment: the function's variables (unless left out), the credentials, and
/// the variables the Lambda runtime sets (`AWS_REGION`, `AWS_LAMBDA_FUNCTION_NAME`, ...). Profiles
/// inherited from the caller are removed so that SDKs use the role.
pub fn child_environment(run: &LocalRun<'_>) -> ChildEnvironment {
    let mut env = ChildEnvironment {
        remove: vec!["AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SECURITY_TOKEN", "AWS_CREDENTIAL_EXPIRATION"],
        ..Default::default()
    };
    let mut set = |k: &str, v: &str| env.set.push((k.to_string(), v.to_string()));
    if run.function_variables {
        for (k, v) in &run.function.environment {
            set(k, v);
        }
    }
    match &run.credentials {
        ChildCredentials::Environment(c) => {
            set("AWS_ACCESS_KEY_ID", &c.access_key_id);
            set("AWS_SECRET_ACCESS_KEY", &c.secret_access_key);
            set("AWS_SESSION_TOKEN", &c.session_token);
            set("AWS_CREDENTIAL_EXPIRATION", &c.expiration);
        }
        ChildCredentials::Profile { config_file, profile } => {
            set("AWS_CONFIG_FILE", config_file);
            set("AWS_PROFILE", profile);
        }
    }
    set("AWS_REGION", run.region);
    set("AWS_DEFAULT_REGION", run.region);
    set("AWS_LAMBDA_FUNCTION_NAME", function_name(&run.function.name));
    set("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST");
    if let Some(mb) = run.memory_size {
        set("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", &mb.to_string());
    }
    if let Some(rt) = &run.function.runtime {
        set("AWS_EXECUTION_ENV", &format!("AWS_Lambda_{rt}"));
    }
    if let Some(h) = &run.function.handler {
        set("_HANDLER", h);
    }
    if let Some(e) = run.endpoint_url {
        set("AWS_ENDPOINT_URL", e);
    }
    if matches!(run.credentials, ChildCredentials::Profile { .. }) {
        env.remove.extend(["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"]);
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    fn function() -> Function {
        Function {
            name: "orders".into(),
            arn: "arn:aws:lambda:eu-west-1:111122223333:function:orders".into(),
            role: "arn:aws:iam::111122223333:role/orders-fn".into(),
            runtime: Some("python3.12".into()),
            handler: Some("app.handler".into()),
            environment: vec![("TABLE".into(), "orders".into())],
            config: Default::default(),
        }
    }

    #[test]
    fn lambda_variables_and_credentials() {
        // The variables the Lambda runtime defines ("Using Lambda environment variables", Lambda
        // Developer Guide: defined runtime environment variables).
        let f = function();
        let creds = TempCredentials {
            access_key_id: "ASIAEXAMPLE".into(),
            secret_access_key: "secret".into(),
            session_token: "token".into(),
            expiration: "2026-12-04T20:00:00Z".into(),
        };
        let env = child_environment(&LocalRun {
            function: &f,
            region: "eu-west-1",
            memory_size: Some(512),
            credentials: ChildCredentials::Environment(&creds),
            endpoint_url: None,
            function_variables: true,
        });
        let get = |k: &str| env.set.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("AWS_LAMBDA_FUNCTION_NAME"), Some("orders"));
        assert_eq!(get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"), Some("512"));
        assert_eq!(get("AWS_EXECUTION_ENV"), Some("AWS_Lambda_python3.12"));
        assert_eq!(get("_HANDLER"), Some("app.handler"));
        assert_eq!(get("AWS_REGION"), Some("eu-west-1"));
        assert_eq!(get("TABLE"), Some("orders"));
        assert_eq!(get("AWS_SESSION_TOKEN"), Some("token"));
        assert!(env.remove.contains(&"AWS_PROFILE"));
        let refreshed = child_environment(&LocalRun {
            credentials: ChildCredentials::Profile { config_file: "/tmp/c", profile: "iamfit-orders" },
            function_variables: false,
            ..LocalRun {
                function: &f,
                region: "eu-west-1",
                memory_size: None,
                credentials: ChildCredentials::Environment(&creds),
                endpoint_url: Some("http://127.0.0.1:5000"),
                function_variables: true,
            }
        });
        let get = |k: &str| refreshed.set.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("AWS_PROFILE"), Some("iamfit-orders"));
        assert_eq!(get("AWS_ACCESS_KEY_ID"), None);
        assert_eq!(get("TABLE"), None);
        assert_eq!(get("AWS_ENDPOINT_URL"), Some("http://127.0.0.1:5000"));
        assert!(refreshed.remove.contains(&"AWS_SECRET_ACCESS_KEY"));
    }
}
