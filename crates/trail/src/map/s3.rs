//! S3 resources: the object of object actions (`bucketName` + `key`), the copy source of the reads of
//! `CopyObject`/`UploadPartCopy`, and the bucket the call configures for bucket actions (never a
//! destination bucket among the parameters, such as the replication, inventory or analytics
//! destination).

use iamfit_catalog::ActionRef;

use super::request::param_str;
use super::resource::{known, Resolved};
use super::{Ctx, ResourceKnowledge};

const NO_OBJECT: &str = "the record names no object";

/// The resources of an S3 action, or `None` to let the generic rules decide.
pub(super) fn resources(
    ctx: &Ctx,
    op: &str,
    action: ActionRef<'_>,
    has_type: &dyn Fn(&str) -> bool,
) -> Option<Resolved> {
    if action.service() != "s3" {
        return None;
    }
    let p = &ctx.params;
    let part = ctx.partition;
    let bucket = param_str(p, "bucketName");
    if matches!(op, "CopyObject" | "UploadPartCopy") && action.name().starts_with("GetObject") {
        let source = ["x-amz-copy-source", "copySource"].iter().find_map(|n| param_str(p, n));
        return Some(match source.and_then(parse_copy_source) {
            Some((path, _)) => (vec![format!("arn:{part}:s3:::{path}")], ResourceKnowledge::Known),
            None => (Vec::new(), ResourceKnowledge::Unknown("the record does not show the copy source")),
        });
    }
    if has_type("object") {
        if let (Some(b), Some(k)) = (bucket, param_str(p, "key")) {
            return known(vec![format!("arn:{part}:s3:::{b}/{k}")]);
        }
        let listed: Vec<String> = ctx.record_arns.iter().filter(|a| is_s3_object_arn(a)).cloned().collect();
        if let Some(r) = known(listed) {
            return Some(r);
        }
        let why =
            if op == "DeleteObjects" { "DeleteObjects records do not list the keys" } else { NO_OBJECT };
        return Some((Vec::new(), ResourceKnowledge::Unknown(why)));
    }
    if has_type("bucket") {
        if let Some(b) = bucket.filter(|b| !b.contains('/')) {
            return known(vec![format!("arn:{part}:s3:::{b}")]);
        }
    }
    None
}

fn is_s3_object_arn(arn: &str) -> bool {
    arn.split_once(":s3:::").is_some_and(|(_, rest)| rest.contains('/'))
}

/// `bucket/key`, `/bucket/key`, URL-encoded, optionally `?versionId=...` -> (`bucket/key`, versioned).
pub(super) fn parse_copy_source(raw: &str) -> Option<(String, bool)> {
    let (path, query) = raw.split_once('?').unwrap_or((raw, ""));
    let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy().into_owned();
    let path = decoded.trim_start_matches('/');
    let (b, k) = path.split_once('/')?;
    if b.is_empty() || k.is_empty() {
        return None;
    }
    Some((path.to_string(), query.contains("versionId=")))
}
