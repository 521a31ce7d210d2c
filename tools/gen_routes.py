#!/usr/bin/env python3
"""Generate iamfit's API request routes (crates/trail/src/data/routes.tsv) from botocore's service models.

Usage:
    python3 tools/gen_routes.py [BOTOCORE_WHEEL_OR_DIR] [--check]

BOTOCORE_WHEEL_OR_DIR is a botocore wheel (`pip download --no-deps botocore`) or an unpacked botocore
source tree; without it the wheel is downloaded into a temporary folder with pip. botocore is
Apache-2.0 (see THIRD_PARTY_NOTICES); only the facts needed to recognise a request are kept.

With --check nothing is written: the exit status is 1 when the committed table differs from what the
generator would write.

`iamfit exec --record` reads a request's operation from the request itself: the `X-Amz-Target` header
(JSON protocols), the `Action` parameter (query protocols), the path `/service/S/operation/OP`
(Smithy RPC v2 CBOR), or, for REST protocols, the method and path matched against these routes. The
table holds:

    iamfit-routes<TAB>1<TAB>botocore VERSION                 header
    V<TAB>signing<TAB>endpointPrefix<TAB>targetPrefix|-<TAB>protocols
                                                         a service: its SigV4 signing name, the
                                                         endpoint prefix (the host's first label and the
                                                         CloudTrail eventSource), the JSON target prefix
                                                         and the protocols it speaks (comma-separated)
    R<TAB>METHOD<TAB>template<TAB>Operation<TAB>required<TAB>bindings
                                                         a REST route of the V line above it. template
                                                         is the request URI with labels named by their
                                                         input members (`/{Bucket}/{Key+}?list-type=2`;
                                                         `+` is greedy); required lists the query
                                                         parameters (`q:name`) and headers (`h:name`,
                                                         lower case) the operation requires, comma-
                                                         separated, or `-`; bindings maps query
                                                         parameters and headers to input members
                                                         (`q:loc=Member;h:loc=Member`) where the names
                                                         differ, or `-`
    G<TAB>endpointPrefix<TAB>hostname                      a service with one global endpoint in the
                                                         `aws` partition (iam.amazonaws.com)

Header bindings are kept only for members that can name a resource (names ending in Id, Arn, Name,
Source, Bucket, Key, Alias, or required ones): others (checksums, encryption keys, dates) are of no use
to the mapping. Lines are in model order, services sorted by signing name and endpoint prefix; the
output is deterministic.
"""

from __future__ import annotations

import glob
import gzip
import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_FILE = os.path.join(REPO_ROOT, "crates", "trail", "src", "data", "routes.tsv")

RESOURCE_MEMBER = re.compile(r"(Id|Arn|ARN|Name|Source|Bucket|Key|Alias|Qualifier|Version)$")
SECRET_MEMBER = re.compile(r"(CustomerKey|Password|Token|Secret|Checksum|MD5)", re.IGNORECASE)


def load_json(path: str) -> dict:
    if path.endswith(".gz"):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            return json.load(f)
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def botocore_dir(arg: str | None, tmp: str) -> str:
    """The `botocore/data` folder: unpacked from a wheel, given, or downloaded with pip."""
    if arg and os.path.isdir(arg):
        data = os.path.join(arg, "botocore", "data")
        return data if os.path.isdir(data) else arg
    wheel = arg
    if not wheel:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "botocore", "-d", tmp],
            check=True,
        )
        wheel = glob.glob(os.path.join(tmp, "botocore-*.whl"))[0]
    with zipfile.ZipFile(wheel) as z:
        members = [m for m in z.namelist() if m.startswith("botocore/data/") or m.endswith("__init__.py")]
        z.extractall(tmp, members=members)
    return os.path.join(tmp, "botocore", "data")


def botocore_version(data_dir: str) -> str:
    init = os.path.join(os.path.dirname(data_dir), "__init__.py")
    try:
        with open(init, encoding="utf-8") as f:
            m = re.search(r"__version__ = '([^']+)'", f.read())
            return m.group(1) if m else "unknown"
    except OSError:
        return "unknown"


def latest_model(service_dir: str) -> str | None:
    versions = sorted(glob.glob(os.path.join(service_dir, "*", "service-2.json*")))
    return versions[-1] if versions else None


def route_lines(model: dict) -> list[str]:
    shapes = model.get("shapes", {})
    out = []
    for name, op in model.get("operations", {}).items():
        http = op.get("http", {})
        method, uri = http.get("method"), http.get("requestUri")
        if not method or not uri:
            continue
        members = {}
        required = []
        shape = shapes.get(op.get("input", {}).get("shape", ""), {})
        members = shape.get("members", {})
        required_names = set(shape.get("required", []))
        path, _, query = uri.partition("?")
        # Labels named by their members.
        label_member = {}
        for m, spec in members.items():
            if spec.get("location") == "uri":
                label_member[spec.get("locationName", m)] = m

        def relabel(match: re.Match) -> str:
            label, greedy = match.group(1), match.group(2) or ""
            return "{" + label_member.get(label, label) + greedy + "}"

        path = re.sub(r"\{([^}+]+)(\+)?\}", relabel, path)
        # Some SDKs add `x-id=Operation` to S3 requests; the recorder reads it from the request itself.
        literals = [q for q in query.split("&") if q and not q.startswith("x-id=")]
        template = path + ("?" + "&".join(literals) if literals else "")
        bindings = []
        for m, spec in members.items():
            loc, loc_name = spec.get("location"), spec.get("locationName", m)
            if loc == "querystring":
                if m in required_names:
                    required.append("q:" + loc_name)
                if loc_name.lower().replace("-", "") != m.lower():
                    bindings.append(f"q:{loc_name}={m}")
            elif loc == "header":
                if SECRET_MEMBER.search(m):
                    continue
                if m in required_names:
                    required.append("h:" + loc_name.lower())
                if m in required_names or RESOURCE_MEMBER.search(m):
                    bindings.append(f"h:{loc_name.lower()}={m}")
        out.append(
            "\t".join(
                ["R", method, template, name, ",".join(sorted(required)) or "-", ";".join(sorted(bindings)) or "-"]
            )
        )
    return out


def generate(data_dir: str) -> str:
    services = []
    for service_dir in sorted(glob.glob(os.path.join(data_dir, "*", ""))):
        path = latest_model(service_dir)
        if not path:
            continue
        model = load_json(path)
        meta = model.get("metadata", {})
        protocols = meta.get("protocols") or [meta.get("protocol", "")]
        signing = meta.get("signingName") or meta.get("endpointPrefix", "")
        prefix = meta.get("endpointPrefix", "")
        if not signing or not prefix:
            continue
        head = "\t".join(["V", signing, prefix, meta.get("targetPrefix") or "-", ",".join(protocols)])
        rest = any(p in ("rest-json", "rest-xml") for p in protocols)
        services.append((signing, prefix, head, route_lines(model) if rest else []))
    services.sort(key=lambda s: (s[0], s[1]))
    lines = [f"iamfit-routes\t1\tbotocore {botocore_version(data_dir)}"]
    for _, _, head, routes in services:
        lines.append(head)
        lines.extend(routes)
    endpoints = load_json(os.path.join(data_dir, "endpoints.json"))
    aws = next(p for p in endpoints["partitions"] if p["partition"] == "aws")
    for name, svc in sorted(aws["services"].items()):
        if svc.get("isRegionalized") is False and svc.get("partitionEndpoint"):
            host = svc["endpoints"].get(svc["partitionEndpoint"], {}).get("hostname")
            if host:
                lines.append(f"G\t{name}\t{host}")
    return "\n".join(lines) + "\n"


def main() -> int:
    args = [a for a in sys.argv[1:] if a != "--check"]
    check = "--check" in sys.argv[1:]
    with tempfile.TemporaryDirectory() as tmp:
        text = generate(botocore_dir(args[0] if args else None, tmp))
    if check:
        try:
            with open(OUT_FILE, encoding="utf-8") as f:
                current = f.read()
        except OSError:
            current = ""
        if current != text:
            print(f"{OUT_FILE} is out of date: run tools/gen_routes.py", file=sys.stderr)
            return 1
        return 0
    with open(OUT_FILE, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote {OUT_FILE}: {text.count(chr(10))} lines, {len(text)} bytes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
