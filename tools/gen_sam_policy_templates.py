#!/usr/bin/env python3
"""Generate iamfit's table of SAM policy templates from the official aws-sam-translator package.

Usage:
    python3 tools/gen_sam_policy_templates.py [VERSION]

Downloads the wheel of `aws-sam-translator==VERSION` (default below) from PyPI with `pip download`,
reads `samtranslator/policy_templates_data/policy_templates.json` from it, and writes
crates/template/data/sam_policy_templates.json: compact JSON
`{"source", "version", "templates": {NAME: {"parameters": [NAME...], "definition": {...}}}}`
(descriptions dropped), plus the connector profiles whose source is a Lambda function
(`connectors`: {DESTINATION_TYPE: {ACCESS_CATEGORY: DOCUMENT}}, from model/connector_profiles/profiles.json)
and the resource outputs they use (`connector_outputs`). aws-sam-translator is Apache-2.0; see THIRD_PARTY_NOTICES.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
import tempfile
import zipfile

DEFAULT_VERSION = "1.115.0"
MEMBER = "samtranslator/policy_templates_data/policy_templates.json"
PROFILES = "samtranslator/model/connector_profiles/profiles.json"
OUT = pathlib.Path(__file__).resolve().parent.parent / "crates/template/data/sam_policy_templates.json"


def main() -> None:
    version = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_VERSION
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
             f"aws-sam-translator=={version}", "-d", tmp],
            check=True,
        )
        wheel = next(pathlib.Path(tmp).glob("aws_sam_translator-*.whl"))
        with zipfile.ZipFile(wheel) as z:
            data = json.loads(z.read(MEMBER))
            profiles = json.loads(z.read(PROFILES))
    templates = {
        name: {"parameters": sorted(t.get("Parameters", {})), "definition": t["Definition"]}
        for name, t in sorted(data["Templates"].items())
    }
    # Connector profiles whose source is a Lambda function and whose policy goes on the function's role.
    connectors = {
        dest: p["Properties"]["AccessCategories"]
        for dest, p in sorted(profiles["Permissions"].get("AWS::Lambda::Function", {}).items())
        if p.get("Type") == "AWS_IAM_ROLE_MANAGED_POLICY" and p["Properties"].get("SourcePolicy")
    }
    outputs = {t: v.get("Outputs", {}) for t, v in sorted(profiles["CfnResourceProperties"].items())}
    table = {
        "source": f"aws-sam-translator {version}",
        "version": data.get("Version"),
        "templates": templates,
        "connectors": connectors,
        "connector_outputs": outputs,
    }
    OUT.write_text(json.dumps(table, separators=(",", ":"), sort_keys=False) + "\n")
    print(f"wrote {OUT}: {len(templates)} templates from aws-sam-translator {version}")


if __name__ == "__main__":
    main()
