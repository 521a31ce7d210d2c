#!/usr/bin/env python3
"""Sanity checker for the iamfit conformance case files (crates/policy/tests/conformance/*.json)."""
import glob, json, os, re, sys

HERE = os.path.dirname(os.path.abspath(__file__))
EXPECT = {"allow", "explicit-deny", "implicit-deny"}
POLICY_KEYS = {"identity", "boundary", "session", "resource", "scp", "rcp"}
CASE_KEYS = {"id", "source", "description", "principal", "action", "resource", "context",
             "resource_account", "management_account", "resource_owned_by_aws", "policies", "expect",
             "expect_reason", "expect_notes"}
ID_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def is_doc(d):
    return isinstance(d, dict) and "Statement" in d


def main():
    errors, ids, total = [], {}, 0
    files = sorted(glob.glob(os.path.join(HERE, "*.json")))
    for path in files:
        name = os.path.basename(path)
        try:
            data = json.load(open(path))
        except Exception as e:  # noqa
            errors.append(f"{name}: invalid JSON: {e}")
            continue
        if not isinstance(data.get("topic"), str) or not isinstance(data.get("cases"), list):
            errors.append(f"{name}: needs 'topic' (string) and 'cases' (list)")
            continue
        for i, c in enumerate(data["cases"]):
            total += 1
            where = f"{name}[{i}] {c.get('id')}"
            extra = set(c) - CASE_KEYS
            if extra:
                errors.append(f"{where}: unknown fields {extra}")
            for k in ("id", "source", "description", "action", "resource", "policies", "expect"):
                if k not in c:
                    errors.append(f"{where}: missing {k}")
            cid = c.get("id", "")
            if not ID_RE.match(cid):
                errors.append(f"{where}: id not kebab-case")
            if cid in ids:
                errors.append(f"{where}: duplicate id (also in {ids[cid]})")
            ids[cid] = name
            if not str(c.get("source", "")).startswith("https://docs.aws.amazon.com/"):
                errors.append(f"{where}: source must be a docs.aws.amazon.com URL")
            if c.get("expect") not in EXPECT:
                errors.append(f"{where}: bad expect {c.get('expect')}")
            p = c.get("policies", {})
            if not isinstance(p, dict) or "identity" not in p or not isinstance(p["identity"], list):
                errors.append(f"{where}: policies.identity must be a list")
                continue
            if set(p) - POLICY_KEYS:
                errors.append(f"{where}: unknown policy kinds {set(p) - POLICY_KEYS}")
            for d in p["identity"]:
                if not is_doc(d):
                    errors.append(f"{where}: identity doc lacks Statement")
            for k in ("boundary", "session", "resource"):
                if k in p and not is_doc(p[k]):
                    errors.append(f"{where}: {k} doc lacks Statement")
            if "resource" in p:
                st = p["resource"]["Statement"]
                for s in (st if isinstance(st, list) else [st]):
                    if "Principal" not in s and "NotPrincipal" not in s:
                        errors.append(f"{where}: resource policy statement without Principal/NotPrincipal")
            for k in ("scp", "rcp"):
                if k in p:
                    if not isinstance(p[k], list) or not all(isinstance(l, list) for l in p[k]):
                        errors.append(f"{where}: {k} must be a list of levels (lists)")
                    else:
                        for lvl in p[k]:
                            for d in lvl:
                                if not is_doc(d):
                                    errors.append(f"{where}: {k} doc lacks Statement")
            ctx = c.get("context", {})
            if not isinstance(ctx, dict):
                errors.append(f"{where}: context must be an object")
    for e in errors:
        print("ERROR:", e)
    print(f"{len(files)} files, {total} cases, {len(errors)} errors")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
