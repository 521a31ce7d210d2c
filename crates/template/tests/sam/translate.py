#!/usr/bin/env python3
"""Translate a SAM template with the official aws-sam-translator and print the CloudFormation JSON.

Usage: translate.py TEMPLATE.yaml [KEY=VALUE...]

Used by crates/template/tests/sam_differential.rs (the test venv gets the pinned translator from
scripts/test). The AWS managed policy names are resolved by the translator's bundled map; no AWS call
is made (the fallback loader returns nothing).
"""

import json
import os
import sys

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

from samtranslator.translator.transform import transform  # noqa: E402
from samtranslator.yaml_helper import yaml_parse  # noqa: E402


class NoManagedPolicies:
    def load(self):
        return {}


def main():
    with open(sys.argv[1]) as f:
        template = yaml_parse(f.read())
    params = dict(arg.split("=", 1) for arg in sys.argv[2:])
    params.setdefault("AWS::Region", os.environ["AWS_DEFAULT_REGION"])
    params.setdefault("AWS::AccountId", "123456789012")
    params.setdefault("AWS::Partition", "aws")
    out = transform(template, params, NoManagedPolicies())
    json.dump(out, sys.stdout, indent=1, sort_keys=True, default=str)


if __name__ == "__main__":
    main()
