//! AWS CLI-style profile files in a temp dir, and running the iamfit binary against the emulator with
//! a clean environment (a developer's real AWS settings never reach a test).

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Appends profile `name` to `DIR/credentials` (the key) and `DIR/config` (the region), as the AWS CLI
/// writes them; returns the path of the credentials file. Call it again for more profiles.
/// `name` "default" is written as `[default]` in both files.
pub fn write_profile(dir: &Path, name: &str, access_key: &str, secret: &str, region: &str) -> PathBuf {
    let credentials = dir.join("credentials");
    append(
        &credentials,
        &format!("[{name}]\naws_access_key_id = {access_key}\naws_secret_access_key = {secret}\n\n"),
    );
    let section = if name == "default" { "default".to_string() } else { format!("profile {name}") };
    append(&dir.join("config"), &format!("[{section}]\nregion = {region}\noutput = json\n\n"));
    credentials
}

fn append(path: &Path, text: &str) {
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    file.write_all(text.as_bytes()).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// Removes every `AWS_*` variable of this process from `cmd`'s environment.
pub fn clear_aws_env(cmd: &mut Command) -> &mut Command {
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("AWS_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

/// The iamfit binary with no inherited `AWS_*` variables, the profile files of `aws_dir` (see
/// [`write_profile`]), `AWS_ENDPOINT_URL=endpoint`, instance metadata off and `NO_COLOR`.
/// Add arguments (e.g. `--profile dev`) and more variables before running it.
pub fn iamfit_command(aws_dir: &Path, endpoint: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_iamfit"));
    clear_aws_env(&mut cmd)
        .env("AWS_CONFIG_FILE", aws_dir.join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", aws_dir.join("credentials"))
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("NO_COLOR", "1")
        .current_dir(aws_dir);
    cmd
}

/// Runs iamfit (see [`iamfit_command`]) with `args` and returns its output.
pub fn run_iamfit(aws_dir: &Path, endpoint: &str, args: &[&str]) -> Output {
    iamfit_command(aws_dir, endpoint).args(args).output().expect("run the iamfit binary")
}

/// Runs the iamfit binary in the repository root (offline commands: no AWS environment is passed)
/// and returns (exit status, stdout, stderr).
pub fn iamfit(args: &[&str]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_iamfit"));
    clear_aws_env(&mut cmd);
    let out = cmd.args(args).current_dir(env!("CARGO_MANIFEST_DIR")).output().expect("run the iamfit binary");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}
