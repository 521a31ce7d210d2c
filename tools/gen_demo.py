#!/usr/bin/env python3
"""Generate iamfit's bundled demo snapshot (policy-fixtures/demo/).

Usage:
    python3 tools/gen_demo.py [--check]

Writes, exactly as the AWS CLI prints them (4-space indent, keys in the AWS CLI's order):

    policy-fixtures/demo/account.json                 aws iam get-account-authorization-details
    policy-fixtures/demo/functions/orders.json        aws lambda get-function-configuration --function-name orders
    policy-fixtures/demo/functions/orders.event-source-mappings.json
                                                      aws lambda list-event-source-mappings --function-name orders
    policy-fixtures/demo/functions/invoice-renderer.json
    policy-fixtures/demo/functions/invoice-renderer.event-source-mappings.json
    policy-fixtures/demo/identities/dev.json          aws sts get-caller-identity --profile dev
    policy-fixtures/demo/identities/ci.json           aws sts get-caller-identity --profile ci

The account (111122223333, us-east-1) and the mismatches it was designed to produce are described in
policy-fixtures/README.md; keep the two in step. With --check nothing is written: the exit status is 1
when the committed files differ from what the generator would write.

The output is deterministic: no clock, no randomness. IAM unique ids, code hashes and revision ids are
derived from SHA-256 of fixed strings. Standard library only.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sys
import urllib.parse

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(REPO_ROOT, "policy-fixtures", "demo")

ACCOUNT = "111122223333"
REGION = "us-east-1"

# Resources of the scenario.
TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders"
PAYMENTS_TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/payments"
BUCKET_NAME = f"orders-invoices-{ACCOUNT}"
BUCKET = f"arn:aws:s3:::{BUCKET_NAME}"
QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT}:orders-queue"
QUEUE_URL = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/orders-queue"
DEV_QUEUES = f"arn:aws:sqs:{REGION}:{ACCOUNT}:dev-*"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:order-events"
SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:orders/db-*"
EVENT_BUS = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default"
ARTIFACTS_BUCKET = f"arn:aws:s3:::deploy-artifacts-{ACCOUNT}"
# The orders function's SQS trigger and its dead-letter topic (asynchronous invocations).
REQUESTS_QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT}:order-requests"
DEAD_LETTER_TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:orders-dead-letters"

IAM = f"arn:aws:iam::{ACCOUNT}"
AWS_POLICY = "arn:aws:iam::aws:policy"

BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


# --------------------------------------------------------------------------------------------------
# Deterministic identifiers


def unique_id(prefix: str, name: str) -> str:
    """An IAM unique id: 4-letter prefix + 17 base32 characters (21 in all), derived from `name`."""
    digest = hashlib.sha256(f"iamfit-demo:{prefix}:{name}".encode()).digest()
    body = "".join(BASE32[b % 32] for b in digest[:17])
    return prefix + body


def code_sha256(name: str) -> str:
    return base64.b64encode(hashlib.sha256(f"iamfit-demo:code:{name}".encode()).digest()).decode()


def revision_id(name: str) -> str:
    h = hashlib.sha256(f"iamfit-demo:revision:{name}".encode()).hexdigest()
    return f"{h[0:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def runtime_version_arn(runtime: str) -> str:
    h = hashlib.sha256(f"iamfit-demo:runtime:{runtime}".encode()).hexdigest()
    return f"arn:aws:lambda:{REGION}::runtime:{h}"


def url_encoded(document: dict) -> str:
    """A policy document as the raw IAM API returns it: the stored JSON text, percent-encoded."""
    return urllib.parse.quote(json.dumps(document, indent=4), safe="*")


# --------------------------------------------------------------------------------------------------
# Policy documents


def doc(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def stmt(sid: str | None, effect: str, action, resource, condition: dict | None = None) -> dict:
    s: dict = {}
    if sid:
        s["Sid"] = sid
    s["Effect"] = effect
    s["Action"] = action
    s["Resource"] = resource
    if condition:
        s["Condition"] = condition
    return s


LAMBDA_TRUST = doc(
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
)

ADMIN_TRUST = doc(
    {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": "sts:AssumeRole",
        "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
    }
)

# AWS managed policies, with their real ids, dates and documents.
AWS_LAMBDA_BASIC = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": "*",
        }
    ],
}
AWS_ADMIN = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}

# orders-data-access: v2 is the default. v1 (older) sent to every queue and had no KMS / secret access.
ORDERS_DATA_ACCESS_V1 = doc(
    stmt(
        "OrdersTable",
        "Allow",
        ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"],
        [TABLE, f"{TABLE}/index/*"],
    ),
    stmt("InvoiceObjects", "Allow", ["s3:GetObject", "s3:PutObject"], f"{BUCKET}/*"),
    stmt("AnyQueue", "Allow", "sqs:SendMessage", f"arn:aws:sqs:{REGION}:{ACCOUNT}:*"),
)
ORDERS_DATA_ACCESS_V2 = doc(
    stmt(
        "OrdersTable",
        "Allow",
        ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"],
        [TABLE, f"{TABLE}/index/*"],
    ),
    stmt("InvoiceObjects", "Allow", ["s3:GetObject", "s3:PutObject"], f"{BUCKET}/*"),
    stmt("OrdersQueue", "Allow", "sqs:SendMessage", QUEUE),
    stmt(
        "OrdersKey",
        "Allow",
        "kms:Decrypt",
        KEY,
        {
            "StringEquals": {
                "kms:ViaService": [
                    f"sqs.{REGION}.amazonaws.com",
                    f"secretsmanager.{REGION}.amazonaws.com",
                ]
            }
        },
    ),
    stmt("OrdersDbSecret", "Allow", "secretsmanager:GetSecretValue", SECRET),
)

# orders-fn-role inline policies: the over-grants and the guard rails.
ORDERS_RUNTIME = doc(
    stmt("LegacyDynamoDb", "Allow", "dynamodb:*", "*"),
    stmt("InvoiceBucketAll", "Allow", "s3:*", [BUCKET, f"{BUCKET}/*"]),
    stmt("OrderEvents", "Allow", "sns:*", TOPIC),
    stmt("ReadAnySecret", "Allow", "secretsmanager:GetSecretValue", "*"),
    stmt("PassAnyRole", "Allow", "iam:PassRole", "*"),
    stmt("CustomMetrics", "Allow", "cloudwatch:PutMetricData", "*"),
)
# What the Lambda service needs for the orders function's configuration: its SQS trigger polls
# order-requests, discarded asynchronous events go to the dead-letter topic. (Tracing is Active but the
# role has no X-Ray grant: the designed bug L6.)
ORDERS_LAMBDA_SERVICE = doc(
    stmt(
        "PollOrderRequests",
        "Allow",
        ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
        REQUESTS_QUEUE,
    ),
    stmt("DeadLetters", "Allow", "sns:Publish", DEAD_LETTER_TOPIC),
)
ORDERS_GUARDRAILS = doc(
    stmt("DenyDestructive", "Deny", ["dynamodb:DeleteTable", "s3:DeleteBucket"], "*"),
    stmt("DenyTableScans", "Deny", "dynamodb:Scan", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/*"),
    stmt("DenyPaymentsTable", "Deny", "dynamodb:*", [PAYMENTS_TABLE, f"{PAYMENTS_TABLE}/*"]),
)

LAMBDA_BOUNDARY = doc(
    stmt(
        "AllowedServices",
        "Allow",
        [
            "dynamodb:*",
            "s3:*",
            "sqs:*",
            "sns:*",
            "logs:*",
            "kms:*",
            "xray:*",
            "secretsmanager:*",
            "events:*",
        ],
        "*",
    )
)

INVOICE_READ = doc(
    stmt("ReadInvoices", "Allow", "s3:GetObject", f"{BUCKET}/*"),
    stmt("ListInvoices", "Allow", "s3:ListBucket", BUCKET),
)

# developer-access: v2 is the default. v1 is older and narrower; v3 is a newer draft that was never
# made the default (it would give developers the production queue and topic).
DEV_ORDERS_TABLES = stmt(
    "OrdersTables",
    "Allow",
    [
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:Scan",
        "dynamodb:PutItem",
        "dynamodb:DescribeTable",
    ],
    f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders*",
)
DEV_PAYMENTS_READ = stmt(
    "PaymentsReadOnly",
    "Allow",
    ["dynamodb:GetItem", "dynamodb:Query"],
    [PAYMENTS_TABLE, f"{PAYMENTS_TABLE}/index/*"],
)
DEV_INVOICES = stmt(
    "InvoiceBucket", "Allow", ["s3:GetObject", "s3:PutObject", "s3:ListBucket"], [BUCKET, f"{BUCKET}/*"]
)
DEV_OBSERVABILITY = stmt("Observability", "Allow", ["logs:*", "cloudwatch:*", "xray:*"], "*")
DEV_FUNCTIONS = stmt(
    "OrdersFunctions", "Allow", "lambda:*", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:orders*"
)

DEVELOPER_ACCESS_V1 = doc(
    stmt("OrdersTables", "Allow", ["dynamodb:GetItem", "dynamodb:Query"], TABLE),
    stmt("InvoiceBucket", "Allow", ["s3:GetObject", "s3:ListBucket"], [BUCKET, f"{BUCKET}/*"]),
    stmt("Observability", "Allow", ["logs:*", "cloudwatch:*"], "*"),
)
DEVELOPER_ACCESS_V2 = doc(DEV_ORDERS_TABLES, DEV_PAYMENTS_READ, DEV_INVOICES, DEV_OBSERVABILITY, DEV_FUNCTIONS)
DEVELOPER_ACCESS_V3 = doc(
    DEV_ORDERS_TABLES,
    DEV_INVOICES,
    DEV_OBSERVABILITY,
    DEV_FUNCTIONS,
    stmt("ProdMessagingDraft", "Allow", ["sns:Publish", "sqs:SendMessage"], [TOPIC, QUEUE]),
)

DEVELOPERS_DENY = doc(stmt("DenyProductionSecrets", "Deny", ["kms:*", "secretsmanager:*"], "*"))

DEV_SANDBOX = doc(
    stmt("DevQueues", "Allow", "sqs:*", DEV_QUEUES),
    stmt("LocalEvents", "Allow", "events:PutEvents", EVENT_BUS),
)

READONLY_ACCESS = doc(
    stmt(
        "ReadOnly",
        "Allow",
        [
            "dynamodb:Describe*",
            "dynamodb:List*",
            "s3:ListAllMyBuckets",
            "logs:Describe*",
            "logs:Get*",
            "cloudwatch:Describe*",
            "cloudwatch:Get*",
            "cloudwatch:List*",
            "lambda:List*",
            "lambda:GetFunction",
        ],
        "*",
    )
)

CI_DEPLOY = doc(
    stmt(
        "UpdateFunctions",
        "Allow",
        ["lambda:GetFunction", "lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration"],
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:*",
    ),
    stmt(
        "PassServiceRoles",
        "Allow",
        "iam:PassRole",
        f"{IAM}:role/service-role/*",
        {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
    ),
    stmt("UploadArtifacts", "Allow", "s3:PutObject", f"{ARTIFACTS_BUCKET}/*"),
)


# --------------------------------------------------------------------------------------------------
# Account objects (get-account-authorization-details)


def attached(name: str, arn: str) -> dict:
    return {"PolicyName": name, "PolicyArn": arn}


def inline(name: str, document) -> dict:
    return {"PolicyName": name, "PolicyDocument": document}


def boundary(arn: str) -> dict:
    return {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": arn}


def tags(**kv: str) -> list:
    return [{"Key": k, "Value": v} for k, v in kv.items()]


def user(path, name, created, inline_policies, groups, managed, perm_boundary=None, user_tags=None) -> dict:
    u = {
        "Path": path,
        "UserName": name,
        "UserId": unique_id("AIDA", name),
        "Arn": f"{IAM}:user{path}{name}",
        "CreateDate": created,
        "UserPolicyList": inline_policies,
        "GroupList": groups,
        "AttachedManagedPolicies": managed,
    }
    if perm_boundary:
        u["PermissionsBoundary"] = boundary(perm_boundary)
    u["Tags"] = user_tags or []
    return u


def group(path, name, created, inline_policies, managed) -> dict:
    return {
        "Path": path,
        "GroupName": name,
        "GroupId": unique_id("AGPA", name),
        "Arn": f"{IAM}:group{path}{name}",
        "CreateDate": created,
        "GroupPolicyList": inline_policies,
        "AttachedManagedPolicies": managed,
    }


def role(path, name, created, trust, inline_policies, managed, perm_boundary=None, role_tags=None,
         last_used=None) -> dict:
    r = {
        "Path": path,
        "RoleName": name,
        "RoleId": unique_id("AROA", name),
        "Arn": f"{IAM}:role{path}{name}",
        "CreateDate": created,
        "AssumeRolePolicyDocument": trust,
        "InstanceProfileList": [],
        "RolePolicyList": inline_policies,
        "AttachedManagedPolicies": managed,
    }
    if perm_boundary:
        r["PermissionsBoundary"] = boundary(perm_boundary)
    r["Tags"] = role_tags or []
    r["RoleLastUsed"] = {"LastUsedDate": last_used, "Region": REGION} if last_used else {}
    return r


def managed_policy(name, policy_id, arn, path, versions, default, attachments, boundary_uses, created) -> dict:
    """versions: [(version_id, document, create_date)], listed newest first."""
    update = max(v[2] for v in versions)  # UpdateDate: when the newest version was created
    return {
        "PolicyName": name,
        "PolicyId": policy_id,
        "Arn": arn,
        "Path": path,
        "DefaultVersionId": default,
        "AttachmentCount": attachments,
        "PermissionsBoundaryUsageCount": boundary_uses,
        "IsAttachable": True,
        "CreateDate": created,
        "UpdateDate": update,
        "PolicyVersionList": [
            {"Document": d, "VersionId": vid, "IsDefaultVersion": vid == default, "CreateDate": c}
            for vid, d, c in versions
        ],
    }


def customer_policy(name, versions, default, attachments, boundary_uses=0) -> dict:
    created = min(v[2] for v in versions)
    return managed_policy(name, unique_id("ANPA", name), f"{IAM}:policy/{name}", "/", versions, default,
                          attachments, boundary_uses, created)


P_BASIC = f"{AWS_POLICY}/service-role/AWSLambdaBasicExecutionRole"
P_ADMIN = f"{AWS_POLICY}/AdministratorAccess"
P_ORDERS_DATA = f"{IAM}:policy/orders-data-access"
P_BOUNDARY = f"{IAM}:policy/lambda-boundary"
P_DEVELOPER = f"{IAM}:policy/developer-access"
P_READONLY = f"{IAM}:policy/readonly-access"
P_CI = f"{IAM}:policy/ci-deploy"


def account() -> dict:
    users = [
        user("/ci/", "ci-deployer", "2023-06-19T08:12:40+00:00", [], ["readonly"],
             [attached("ci-deploy", P_CI)], user_tags=tags(purpose="deployments")),
        user("/developers/", "dev", "2023-09-12T13:55:02+00:00",
             [inline("dev-sandbox", url_encoded(DEV_SANDBOX))], ["developers"], [],
             user_tags=tags(team="orders")),
    ]
    groups = [
        group("/", "developers", "2023-09-12T13:58:27+00:00",
              [inline("deny-production-secrets", DEVELOPERS_DENY)],
              [attached("developer-access", P_DEVELOPER)]),
        group("/", "readonly", "2023-06-19T08:10:05+00:00", [],
              [attached("readonly-access", P_READONLY)]),
    ]
    roles = [
        role("/", "admin", "2023-03-01T10:00:00+00:00", ADMIN_TRUST, [],
             [attached("AdministratorAccess", P_ADMIN)]),
        role("/service-role/", "invoice-renderer-role", "2024-01-22T15:48:19+00:00", LAMBDA_TRUST,
             [inline("read-invoices", INVOICE_READ)],
             [attached("AWSLambdaBasicExecutionRole", P_BASIC)],
             role_tags=tags(team="orders", app="invoice-renderer"),
             last_used="2024-05-20T22:03:11+00:00"),
        role("/service-role/", "orders-fn-role", "2024-01-08T11:24:36+00:00", LAMBDA_TRUST,
             [inline("orders-guardrails", ORDERS_GUARDRAILS), inline("orders-lambda-service", ORDERS_LAMBDA_SERVICE),
              inline("orders-runtime", ORDERS_RUNTIME)],
             [attached("AWSLambdaBasicExecutionRole", P_BASIC), attached("orders-data-access", P_ORDERS_DATA)],
             perm_boundary=P_BOUNDARY, role_tags=tags(team="orders", app="orders"),
             last_used="2024-05-21T13:52:09+00:00"),
    ]
    policies = [
        managed_policy("AWSLambdaBasicExecutionRole", "ANPAJNCQGXC42545SKXIK", P_BASIC, "/service-role/",
                       [("v1", AWS_LAMBDA_BASIC, "2015-04-09T15:03:43+00:00")], "v1", 2, 0,
                       "2015-04-09T15:03:43+00:00"),
        managed_policy("AdministratorAccess", "ANPAIWMBCKSKIEE64ZLYK", P_ADMIN, "/",
                       [("v1", AWS_ADMIN, "2015-02-06T18:39:46+00:00")], "v1", 1, 0,
                       "2015-02-06T18:39:46+00:00"),
        customer_policy("ci-deploy", [("v1", CI_DEPLOY, "2023-06-19T08:11:52+00:00")], "v1", 1),
        customer_policy("developer-access", [
            ("v3", DEVELOPER_ACCESS_V3, "2024-06-03T16:27:48+00:00"),
            ("v2", DEVELOPER_ACCESS_V2, "2024-02-20T10:41:05+00:00"),
            ("v1", DEVELOPER_ACCESS_V1, "2023-09-12T13:57:31+00:00"),
        ], "v2", 1),
        customer_policy("lambda-boundary", [("v1", LAMBDA_BOUNDARY, "2023-11-02T09:15:20+00:00")], "v1", 0, 1),
        customer_policy("orders-data-access", [
            ("v2", ORDERS_DATA_ACCESS_V2, "2024-03-14T08:22:51+00:00"),
            ("v1", ORDERS_DATA_ACCESS_V1, "2024-01-08T11:30:14+00:00"),
        ], "v2", 1),
        customer_policy("readonly-access", [("v1", READONLY_ACCESS, "2023-06-19T08:09:44+00:00")], "v1", 1),
    ]
    return {
        "UserDetailList": users,
        "GroupDetailList": groups,
        "RoleDetailList": roles,
        "Policies": policies,
        "IsTruncated": False,
    }


# --------------------------------------------------------------------------------------------------
# Lambda functions (get-function-configuration) and caller identities (get-caller-identity)


def function(name, role_arn, handler, code_size, description, timeout, memory, last_modified, env,
             tracing, arch, dead_letter=None) -> dict:
    runtime = "python3.12"
    cfg = {
        "FunctionName": name,
        "FunctionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}",
        "Runtime": runtime,
        "Role": role_arn,
        "Handler": handler,
        "CodeSize": code_size,
        "Description": description,
        "Timeout": timeout,
        "MemorySize": memory,
        "LastModified": last_modified,
        "CodeSha256": code_sha256(name),
        "Version": "$LATEST",
    }
    if dead_letter:
        cfg["DeadLetterConfig"] = {"TargetArn": dead_letter}
    return cfg | {
        "Environment": {"Variables": env},
        "TracingConfig": {"Mode": tracing},
        "RevisionId": revision_id(name),
        "State": "Active",
        "LastUpdateStatus": "Successful",
        "PackageType": "Zip",
        "Architectures": [arch],
        "EphemeralStorage": {"Size": 512},
        "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
        "RuntimeVersionConfig": {"RuntimeVersionArn": runtime_version_arn(runtime)},
        "LoggingConfig": {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"},
    }


def functions() -> dict:
    return {
        "orders": function(
            "orders", f"{IAM}:role/service-role/orders-fn-role", "app.handler", 48213,
            "Order API: create, read and update orders", 15, 512, "2024-05-21T13:07:44.000+0000",
            {
                "TABLE_NAME": "orders",
                "BUCKET": BUCKET_NAME,
                "QUEUE_URL": QUEUE_URL,
                "TOPIC_ARN": TOPIC,
                "DB_SECRET_ID": "orders/db-credentials",
                "POWERTOOLS_SERVICE_NAME": "orders",
                "POWERTOOLS_METRICS_NAMESPACE": "Orders",
                "LOG_LEVEL": "INFO",
            },
            "Active", "x86_64", dead_letter=DEAD_LETTER_TOPIC),
        "invoice-renderer": function(
            "invoice-renderer", f"{IAM}:role/service-role/invoice-renderer-role", "render.handler", 1873402,
            "Renders invoice PDFs from order documents", 60, 1024, "2024-05-16T09:41:27.000+0000",
            {"BUCKET": BUCKET_NAME, "LOG_LEVEL": "INFO"},
            "PassThrough", "arm64"),
    }


def mapping_uuid(name: str) -> str:
    h = hashlib.sha256(f"iamfit-demo:event-source-mapping:{name}".encode()).hexdigest()
    return f"{h[0:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def event_source_mappings() -> dict:
    """list-event-source-mappings per function, as AWS CLI v2 prints it (ISO 8601 LastModified)."""
    uuid = mapping_uuid("orders:order-requests")
    orders = {
        "UUID": uuid,
        "BatchSize": 10,
        "MaximumBatchingWindowInSeconds": 0,
        "EventSourceArn": REQUESTS_QUEUE,
        "FunctionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:orders",
        "LastModified": "2024-05-21T13:09:12.481000+00:00",
        "State": "Enabled",
        "StateTransitionReason": "USER_INITIATED",
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "EventSourceMappingArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:event-source-mapping:{uuid}",
    }
    return {"orders": {"EventSourceMappings": [orders]}, "invoice-renderer": {"EventSourceMappings": []}}


def identities(acct: dict) -> dict:
    by_name = {u["UserName"]: u for u in acct["UserDetailList"]}

    def ident(name):
        u = by_name[name]
        return {"UserId": u["UserId"], "Account": ACCOUNT, "Arn": u["Arn"]}

    return {"dev": ident("dev"), "ci": ident("ci-deployer")}


# --------------------------------------------------------------------------------------------------


def render(obj) -> str:
    # The AWS CLI's json output: json.dumps(indent=4, ensure_ascii=False) and a final newline.
    return json.dumps(obj, indent=4, ensure_ascii=False) + "\n"


def outputs() -> dict[str, str]:
    acct = account()
    files = {"account.json": render(acct)}
    for name, cfg in functions().items():
        files[f"functions/{name}.json"] = render(cfg)
    for name, mappings in event_source_mappings().items():
        files[f"functions/{name}.event-source-mappings.json"] = render(mappings)
    for profile, ident in identities(acct).items():
        files[f"identities/{profile}.json"] = render(ident)
    return files


def main(argv: list[str]) -> int:
    check = "--check" in argv[1:]
    unknown = [a for a in argv[1:] if a != "--check"]
    if unknown:
        print(f"usage: {argv[0]} [--check]", file=sys.stderr)
        return 2
    files = outputs()
    stale = []
    for rel, text in files.items():
        path = os.path.join(OUT_DIR, rel)
        try:
            with open(path, encoding="utf-8") as f:
                current = f.read()
        except FileNotFoundError:
            current = None
        if current == text:
            continue
        stale.append(rel)
        if not check:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8", newline="\n") as f:
                f.write(text)
    rel_out = os.path.relpath(OUT_DIR, REPO_ROOT)
    if check:
        state = "up to date" if not stale else f"STALE: {', '.join(stale)}"
        print(f"gen_demo: {len(files)} files in {rel_out}: {state}")
        return 1 if stale else 0
    print(f"gen_demo: wrote {len(files)} files to {rel_out} ({len(stale)} changed)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
