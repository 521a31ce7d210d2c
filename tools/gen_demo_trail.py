#!/usr/bin/env python3
"""Generate CloudTrail logs for iamfit's bundled demo account (policy-fixtures/demo/cloudtrail/).

Usage:
    python3 tools/gen_demo_trail.py [--check | --verify]

Writes, in the S3 delivery layout of a single-region trail in 111122223333 / us-east-1:

    policy-fixtures/demo/cloudtrail/AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/DD/
        111122223333_CloudTrail_us-east-1_YYYYMMDDTHHmmZ_<16 chars>.json.gz     {"Records": [...]}
    policy-fixtures/demo/cloudtrail/AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/01/
        111122223333_CloudTrail-Digest_us-east-1_<trail>_us-east-1_<end>.json.gz   (a digest: no Records)
    policy-fixtures/demo/cloudtrail-truth.json     what each principal did, computed from the records

The scenario (2026-11-01 .. 2026-11-20) is described in policy-fixtures/README.md, section
"demo/cloudtrail/"; keep the two in step. The account itself (roles, policies, resources) comes from
tools/gen_demo.py, whose constants and unique ids this script imports.

The truth is computed by this script from the records it generated: each record carries (only in
memory) the IAM action and resources the call needed; the principals are taken from the record's own
userIdentity. `--verify` re-reads the written files and recomputes the truth from the records alone,
with an independent event-to-action table, and fails if the two disagree.

--check writes nothing and exits 1 when the committed files differ from what the generator writes
(compared after decompression, so a different zlib cannot make it fail).

Deterministic: fixed seed, fixed dates, gzip mtime 0 and no file name in the gzip header, compact JSON.
Standard library only.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import os
import random
import sys
import uuid

sys.dont_write_bytecode = True  # importing gen_demo must not leave tools/__pycache__ behind
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_demo  # noqa: E402  (constants and unique ids of the demo account)
from gen_demo import (  # noqa: E402
    ACCOUNT,
    BUCKET,
    BUCKET_NAME,
    EVENT_BUS,
    IAM,
    KEY,
    PAYMENTS_TABLE,
    QUEUE,
    QUEUE_URL,
    REGION,
    TABLE,
    TOPIC,
    unique_id,
)

REPO_ROOT = gen_demo.REPO_ROOT
DEMO_DIR = gen_demo.OUT_DIR
TRAIL_DIR = os.path.join(DEMO_DIR, "cloudtrail")
TRUTH_PATH = os.path.join(DEMO_DIR, "cloudtrail-truth.json")

SEED = 20261101
FIRST_DAY = dt.date(2026, 11, 1)
DAYS = 20  # 2026-11-01 .. 2026-11-20
TRAIL_NAME = "management-and-data"
TRAIL_BUCKET = f"aws-cloudtrail-logs-{ACCOUNT}-5f1d7c2e"

ORDERS_ROLE = "orders-fn-role"
ORDERS_ROLE_ARN = f"{IAM}:role/service-role/{ORDERS_ROLE}"
RENDERER_ROLE = "invoice-renderer-role"
RENDERER_ROLE_ARN = f"{IAM}:role/service-role/{RENDERER_ROLE}"
DEV_ARN = f"{IAM}:user/developers/dev"
CI_ARN = f"{IAM}:user/ci/ci-deployer"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:orders"
ORDERS_INDEX = f"{TABLE}/index/by-customer"
PAYMENTS_INDEX = f"{PAYMENTS_TABLE}/index/by-status"
DEV_QUEUE_NAME = "dev-orders-queue"
DEV_QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{DEV_QUEUE_NAME}"
DEV_QUEUE_URL = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{DEV_QUEUE_NAME}"
ARTIFACTS_BUCKET_NAME = f"deploy-artifacts-{ACCOUNT}"
# The function reads the secret named by its DB_SECRET_ID (functions/orders.json). Secrets Manager
# appends a 6-character suffix to the secret's ARN; the policy grants `secret:orders/db-*`.
SECRET_NAME = "orders/db-credentials"
SECRET_ARN = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{SECRET_NAME}-Vq3TzK"
SECRET_VERSION = "8c1f2d4e-6a0b-4f7e-9d35-2b7a9e0c41f6"

FILTERS = {
    "function:orders": f"role {ORDERS_ROLE_ARN}, session orders",
    "role:orders-fn-role": f"role {ORDERS_ROLE_ARN}, any session",
    "user:dev": f"user {DEV_ARN}",
}

BOTO_UA = (
    "Boto3/1.35.0 md/Botocore#1.35.0 ua/2.0 os/linux#5.10.227-239.884.amzn2.x86_64 md/arch#x86_64 "
    "lang/python#3.12.6 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 cfg/retry-mode#legacy Botocore/1.35.0"
)
RENDERER_UA = (
    "Boto3/1.35.0 md/Botocore#1.35.0 ua/2.0 os/linux#5.10.227-239.884.amzn2.aarch64 md/arch#aarch64 "
    "lang/python#3.12.6 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 cfg/retry-mode#legacy Botocore/1.35.0"
)


def cli_ua(command: str) -> str:
    return (
        "aws-cli/2.18.4 md/awscrt#0.22.0 ua/2.0 os/macos#23.6.0 md/arch#arm64 lang/python#3.12.6 "
        f"md/pyimpl#CPython cfg/retry-mode#standard md/installer#source md/prompt#off md/command#{command}"
    )


CONSOLE_UA = "AWS Internal"
BROWSER_UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15"
DEV_IP = "198.51.100.24"
ALICE_IP = "198.51.100.77"
CI_IP = "203.0.113.50"
LAMBDA_IPS = ["44.203.118.9", "3.236.52.170", "54.86.144.21", "3.91.207.63"]
RENDERER_IPS = ["18.208.94.11", "52.90.13.240"]

TLS13 = "TLS_AES_128_GCM_SHA256"


# --------------------------------------------------------------------------------------------------
# Deterministic randomness

rng = random.Random(SEED)


def rand_uuid() -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def rand_chars(n: int, alphabet: str) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


UPPER_DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
B64 = ALNUM + "+/"


def iso(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def day_start(d: int) -> dt.datetime:
    return dt.datetime.combine(FIRST_DAY + dt.timedelta(days=d), dt.time(0, 0))


def at(d: int, seconds: float) -> dt.datetime:
    return day_start(d) + dt.timedelta(seconds=int(seconds))


def is_weekday(d: int) -> bool:
    return (FIRST_DAY + dt.timedelta(days=d)).weekday() < 5


# --------------------------------------------------------------------------------------------------
# Identities


class Session:
    """An assumed-role session (a Lambda execution environment, or a person who assumed the role)."""

    def __init__(self, role: str, role_arn: str, name: str, created: dt.datetime):
        self.role, self.role_arn, self.name, self.created = role, role_arn, name, created
        self.role_id = unique_id("AROA", role)
        self.key = "ASIA" + rand_chars(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        self.sqs_key_fresh = False

    def identity(self, issuer: bool = True, invoked_by: str | None = None) -> dict:
        ui = {
            "type": "AssumedRole",
            "principalId": f"{self.role_id}:{self.name}",
            "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{self.role}/{self.name}",
            "accountId": ACCOUNT,
            "accessKeyId": self.key,
        }
        ctx: dict = {}
        if issuer:
            ctx["sessionIssuer"] = {
                "type": "Role",
                "principalId": self.role_id,
                "arn": self.role_arn,
                "accountId": ACCOUNT,
                "userName": self.role,
            }
            ctx["webIdFederationData"] = {}
        ctx["attributes"] = {"creationDate": iso(self.created), "mfaAuthenticated": "false"}
        ui["sessionContext"] = ctx
        if invoked_by:
            ui["invokedBy"] = invoked_by
        return ui


def user_identity(name: str, arn: str, key: str, console_login: dt.datetime | None = None) -> dict:
    ui = {
        "type": "IAMUser",
        "principalId": unique_id("AIDA", name),
        "arn": arn,
        "accountId": ACCOUNT,
        "accessKeyId": key,
        "userName": name,
    }
    if console_login is not None:
        ui["sessionContext"] = {
            "sessionIssuer": {},
            "webIdFederationData": {},
            "attributes": {"creationDate": iso(console_login), "mfaAuthenticated": "true"},
        }
    return ui


DEV_KEY = "AKIA" + unique_id("", "access-key:dev")[:16]  # access key ids are base32 ([A-Z2-7])
CI_KEY = "AKIA" + unique_id("", "access-key:ci-deployer")[:16]


# --------------------------------------------------------------------------------------------------
# Records. Each generated record is paired (in memory only) with what the call needed:
#   ("action", iam_action, [resources])   an authorized call (also when it failed for another reason)
#   ("denied", iam_action, [resources])   a call refused for lack of permission
#   ("permissionless", iam_action, [])    a call that needs no permission (sts:GetCallerIdentity)
#   ("unmapped", None, [])                an event source iamfit cannot know
#   ("ignored", why, [])                  not an API call a policy authorizes (console sign-in)
#   ("service", why, [])                  made by an AWS service itself (no principal of ours)

RECORDS: list[tuple[dict, tuple]] = []

FIELD_ORDER = [
    "eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion",
    "sourceIPAddress", "userAgent", "errorCode", "errorMessage", "requestParameters",
    "responseElements", "additionalEventData", "requestID", "eventID", "readOnly", "resources",
    "eventType", "apiVersion", "managementEvent", "recipientAccountId", "sharedEventID",
    "eventCategory", "tlsDetails", "sessionCredentialFromConsole",
]


def record(
    t: dt.datetime,
    identity: dict,
    source: str,
    name: str,
    *,
    ip: str,
    ua: str,
    params,
    response=None,
    read_only: bool,
    data: bool = False,
    resources: list | None = None,
    error: tuple[str, str] | None = None,
    extra: dict | None = None,
    request_id: str | None = None,
    api_version: str | None = None,
    host: str | None = None,
    event_type: str = "AwsApiCall",
    meta: tuple = ("action", None, []),
    console: bool = False,
) -> dict:
    r: dict = {
        "eventVersion": "1.11",
        "userIdentity": identity,
        "eventTime": iso(t),
        "eventSource": source,
        "eventName": name,
        "awsRegion": REGION,
        "sourceIPAddress": ip,
        "userAgent": ua,
    }
    if error:
        r["errorCode"], r["errorMessage"] = error
    r["requestParameters"] = params
    r["responseElements"] = None if error else response
    if extra:
        r["additionalEventData"] = extra
    r["requestID"] = request_id or rand_uuid()
    r["eventID"] = rand_uuid()
    r["readOnly"] = read_only
    if resources:
        r["resources"] = resources
    r["eventType"] = event_type
    if api_version:
        r["apiVersion"] = api_version
    r["managementEvent"] = not data
    r["recipientAccountId"] = ACCOUNT
    r["eventCategory"] = "Data" if data else "Management"
    if host:
        r["tlsDetails"] = {"tlsVersion": "TLSv1.3", "cipherSuite": TLS13, "clientProvidedHostHeader": host}
    if console:
        r["sessionCredentialFromConsole"] = "true"
    RECORDS.append((r, meta))
    return r


def res(kind: str, arn: str, account: bool = True) -> dict:
    d = {"accountId": ACCOUNT} if account else {}
    d["type"] = kind
    d["ARN"] = arn
    return d


def not_authorized(caller_arn: str, action: str, resource: str, explicit: bool) -> str:
    tail = (
        "with an explicit deny in an identity-based policy"
        if explicit
        else f"because no identity-based policy allows the {action} action"
    )
    return f"User: {caller_arn} is not authorized to perform: {action} on resource: {resource} {tail}"


def ddb_request_id() -> str:
    return rand_chars(52, UPPER_DIGITS)


def s3_request_id() -> str:
    return rand_chars(16, UPPER_DIGITS)


# ---- service-specific record builders (the caller is an identity dict, with its ip and user agent)


def ddb(t, who, ip, ua, op, table_arn, params, *, read_only, error=None, meta_kind="action", index=None):
    """A DynamoDB item operation (a data event). `index` is the index name of a Query/Scan."""
    action = f"dynamodb:{op}"
    # A Query or Scan on an index is authorized against the index ARN (AWS's DynamoDB policy examples
    # grant Query on table/T/index/* separately from table/T).
    needed = [f"{table_arn}/index/{index}"] if index else [table_arn]
    return record(
        t, who, "dynamodb.amazonaws.com", op, ip=ip, ua=ua, params=params, read_only=read_only, data=True,
        resources=[res("AWS::DynamoDB::Table", table_arn)], error=error, request_id=ddb_request_id(),
        api_version="2012-08-10", host=f"dynamodb.{REGION}.amazonaws.com",
        meta=(meta_kind, action, needed),
    )


def s3_object(t, who, ip, ua, op, bucket, key, *, read_only, error=None, response=None, size=0, meta_kind="action",
              action=None):
    action = action or {"HeadObject": "s3:GetObject"}.get(op, f"s3:{op}")
    host = f"{bucket}.s3.{REGION}.amazonaws.com"
    extra = {
        "SignatureVersion": "SigV4",
        "CipherSuite": TLS13,
        "bytesTransferredIn": float(size if op == "PutObject" else 0),
        "AuthenticationMethod": "AuthHeader",
        "x-amz-id-2": rand_chars(56, B64) + "=",
        "bytesTransferredOut": float(size if op == "GetObject" and not error else 0),
    }
    obj = f"arn:aws:s3:::{bucket}/{key}"
    return record(
        t, who, "s3.amazonaws.com", op, ip=ip, ua=f"[{ua}]",
        params={"bucketName": bucket, "Host": host, "key": key}, response=response, read_only=read_only,
        data=True, resources=[res("AWS::S3::Object", obj, account=False), res("AWS::S3::Bucket", f"arn:aws:s3:::{bucket}")],
        error=error, extra=extra, request_id=s3_request_id(), host=host, meta=(meta_kind, action, [obj]),
    )


def s3_list(t, who, ip, ua, bucket, prefix, meta_kind="action"):
    host = f"{bucket}.s3.{REGION}.amazonaws.com"
    extra = {
        "SignatureVersion": "SigV4", "CipherSuite": TLS13, "bytesTransferredIn": 0.0,
        "AuthenticationMethod": "AuthHeader", "x-amz-id-2": rand_chars(56, B64) + "=",
        "bytesTransferredOut": float(rng.randint(900, 9000)),
    }
    return record(
        t, who, "s3.amazonaws.com", "ListObjects", ip=ip, ua=f"[{ua}]",
        params={"list-type": "2", "bucketName": bucket, "encoding-type": "url", "Host": host, "prefix": prefix},
        read_only=True, data=True, resources=[res("AWS::S3::Bucket", f"arn:aws:s3:::{bucket}")], extra=extra,
        request_id=s3_request_id(), host=host, meta=(meta_kind, "s3:ListBucket", [f"arn:aws:s3:::{bucket}"]),
    )


def sqs_send(t, who, ip, ua, queue_url, queue_arn, error=None, meta_kind="action"):
    body_md5 = hashlib.md5(rand_uuid().encode()).hexdigest()
    return record(
        t, who, "sqs.amazonaws.com", "SendMessage", ip=ip, ua=ua,
        params={"queueUrl": queue_url, "messageBody": "HIDDEN_DUE_TO_SECURITY_REASONS",
                "messageAttributes": "HIDDEN_DUE_TO_SECURITY_REASONS"},
        response={"mD5OfMessageBody": body_md5, "mD5OfMessageAttributes": hashlib.md5(body_md5.encode()).hexdigest(),
                  "messageId": rand_uuid()},
        read_only=False, data=True, resources=[res("AWS::SQS::Queue", queue_arn)], error=error,
        host=f"sqs.{REGION}.amazonaws.com", meta=(meta_kind, "sqs:SendMessage", [queue_arn]),
    )


def sns_publish(t, who, ip, ua):
    return record(
        t, who, "sns.amazonaws.com", "Publish", ip=ip, ua=ua,
        params={"topicArn": TOPIC, "message": "HIDDEN_DUE_TO_SECURITY_REASONS",
                "messageAttributes": "HIDDEN_DUE_TO_SECURITY_REASONS"},
        response={"messageId": rand_uuid()}, read_only=False, data=True, resources=[res("AWS::SNS::Topic", TOPIC)],
        host=f"sns.{REGION}.amazonaws.com", meta=("action", "sns:Publish", [TOPIC]),
    )


def put_events(t, who, ip, ua, detail_type, error=None, meta_kind="action"):
    return record(
        t, who, "events.amazonaws.com", "PutEvents", ip=ip, ua=ua,
        params={"entries": [{"source": "orders", "detailType": detail_type, "eventBusName": "default",
                             "detail": "HIDDEN_DUE_TO_SECURITY_REASONS"}]},
        response={"failedEntryCount": 0, "entries": [{"eventId": rand_uuid()}]}, read_only=False, data=True,
        resources=[res("AWS::Events::EventBus", EVENT_BUS)], error=error, host=f"events.{REGION}.amazonaws.com",
        meta=(meta_kind, "events:PutEvents", [EVENT_BUS]),
    )


def get_caller_identity(t, who, ip, ua):
    return record(
        t, who, "sts.amazonaws.com", "GetCallerIdentity", ip=ip, ua=ua, params=None, read_only=True,
        host="sts.amazonaws.com", meta=("permissionless", "sts:GetCallerIdentity", []),
    )


def kms_decrypt_via(t, session: Session, service: str, context: dict, issuer: bool):
    """kms:Decrypt made by `service` on the caller's behalf (forward access session): the caller's identity
    with invokedBy, the service as source IP and user agent, no tlsDetails; the key only in resources."""
    return record(
        t, session.identity(issuer=issuer, invoked_by=service), "kms.amazonaws.com", "Decrypt",
        ip=service, ua=service, params={"encryptionContext": context, "encryptionAlgorithm": "SYMMETRIC_DEFAULT"},
        read_only=True, resources=[res("AWS::KMS::Key", KEY)], meta=("action", "kms:Decrypt", [KEY]),
    )


def lambda_assume_role(t, session: Session, role_arn: str):
    """Lambda assuming a function's execution role: made by the Lambda service, not by the role."""
    exp = t + dt.timedelta(hours=12)
    return record(
        t, {"type": "AWSService", "invokedBy": "lambda.amazonaws.com"}, "sts.amazonaws.com", "AssumeRole",
        ip="lambda.amazonaws.com", ua="lambda.amazonaws.com",
        params={"roleArn": role_arn, "roleSessionName": session.name},
        response={
            "credentials": {"accessKeyId": session.key, "sessionToken": "IQoJb3JpZ2luX2VjEXAMPLE" + rand_chars(24, ALNUM),
                            "expiration": f"{exp:%b} {exp.day}, {exp.year}, {exp.hour % 12 or 12}:{exp:%M:%S %p}"},
            "assumedRoleUser": {"assumedRoleId": f"{session.role_id}:{session.name}",
                                "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{session.role}/{session.name}"},
        },
        read_only=True, resources=[res("AWS::IAM::Role", role_arn)], meta=("service", "lambda.amazonaws.com", []),
    )


# --------------------------------------------------------------------------------------------------
# The function `orders`: what it really does


def order_id() -> str:
    return "ord-" + rand_chars(10, "0123456789abcdef")


CUSTOMERS = [f"cus-{rng.randint(100000, 999999)}" for _ in range(40)]
ORDERS: list[tuple[str, str, int]] = []  # (order id, customer, day created)


def invoice_key(oid: str) -> str:
    return f"invoices/2026/11/{oid}.pdf"


def created(t, env: "Session", who: dict, ip: str, oid: str):
    """After a new order is stored: queue it, announce it, write its invoice."""
    t2 = t + dt.timedelta(milliseconds=rng.randint(40, 400))
    if not env.sqs_key_fresh:
        # The queue uses SSE-KMS with the demo key: SQS decrypts its cached data key on the sender's
        # behalf (kms:ViaService = sqs.us-east-1.amazonaws.com), once per data key reuse period.
        kms_decrypt_via(t2, env, "sqs.amazonaws.com", {"aws:sqs:arn": QUEUE}, issuer=True)
        env.sqs_key_fresh = True
    sqs_send(t2, who, ip, BOTO_UA, QUEUE_URL, QUEUE)
    sns_publish(t2 + dt.timedelta(seconds=1), who, ip, BOTO_UA)
    s3_object(t2 + dt.timedelta(seconds=2), who, ip, BOTO_UA, "PutObject", BUCKET_NAME, invoice_key(oid),
              read_only=False, size=rng.randint(18000, 64000), response={"x-amz-server-side-encryption": "AES256"})


def gen_function():
    # How many times each rare call happens over the 20 days (spread over random invocations).
    rare_days = {
        "scan": sorted(rng.sample(range(DAYS), 6)),
        "put_events": sorted(rng.sample(range(DAYS), 8)),
        "ledger": sorted(rng.sample(range(DAYS), 3)),
    }
    for d in range(DAYS):
        n = rng.randint(18, 26) if is_weekday(d) else rng.randint(8, 13)
        times = sorted(rng.uniform(5 * 3600, 23.5 * 3600) for _ in range(n))
        env: Session | None = None
        env_started = -1.0
        env_ip = ""
        gci_done = False
        for i, s in enumerate(times):
            t = at(d, s)
            if env is None or s - env_started > 4 * 3600:
                # Cold start: Lambda assumes the role; the handler reads its DB secret (Secrets Manager
                # decrypts it with the key, on the function's behalf) and sometimes checks who it is.
                env_started = s
                env = Session(ORDERS_ROLE, ORDERS_ROLE_ARN, "orders", t - dt.timedelta(seconds=1))
                env_ip = rng.choice(LAMBDA_IPS)
                lambda_assume_role(t - dt.timedelta(seconds=1), env, ORDERS_ROLE_ARN)
                record(
                    t, env.identity(), "secretsmanager.amazonaws.com", "GetSecretValue", ip=env_ip, ua=BOTO_UA,
                    params={"secretId": SECRET_NAME}, read_only=True, host=f"secretsmanager.{REGION}.amazonaws.com",
                    meta=("action", "secretsmanager:GetSecretValue", [SECRET_ARN]),
                )
                kms_decrypt_via(t, env, "secretsmanager.amazonaws.com",
                                {"SecretARN": SECRET_ARN, "SecretVersionId": SECRET_VERSION}, issuer=False)
                if not gci_done and d % 3 == 0:
                    get_caller_identity(t + dt.timedelta(seconds=1), env.identity(), env_ip, BOTO_UA)
                    gci_done = True
                t += dt.timedelta(seconds=2)
            who = env.identity()
            kind = rng.choices(["create", "get", "by_customer", "recent", "update"], [35, 33, 14, 6, 12])[0]
            if kind == "create" or not ORDERS:
                oid, cus = order_id(), rng.choice(CUSTOMERS)
                conflict = rng.random() < 0.06
                ddb(t, who, env_ip, BOTO_UA, "PutItem", TABLE,
                    {"tableName": "orders", "key": {"pk": f"ORDER#{oid}"},
                     "item": ["pk", "customerId", "status", "total", "createdAt"],
                     "conditionExpression": "attribute_not_exists(pk)"},
                    read_only=False,
                    error=("ConditionalCheckFailedException", "The conditional request failed") if conflict else None)
                if not conflict:
                    ORDERS.append((oid, cus, d))
                    created(t, env, who, env_ip, oid)
            elif kind == "get":
                oid = rng.choice(ORDERS[-60:])[0]
                ddb(t, who, env_ip, BOTO_UA, "GetItem", TABLE,
                    {"tableName": "orders", "key": {"pk": f"ORDER#{oid}"}, "consistentRead": False}, read_only=True)
                if rng.random() < 0.5:
                    t2 = t + dt.timedelta(milliseconds=rng.randint(30, 300))
                    if rng.random() < 0.3:
                        s3_object(t2, who, env_ip, BOTO_UA, "HeadObject", BUCKET_NAME, invoice_key(oid), read_only=True)
                    missing = rng.random() < 0.12
                    # The role has s3:ListBucket (orders-runtime/InvoiceBucketAll), so S3 says NoSuchKey.
                    s3_object(t2 + dt.timedelta(seconds=1), who, env_ip, BOTO_UA, "GetObject", BUCKET_NAME,
                              invoice_key(order_id() if missing else oid), read_only=True,
                              size=rng.randint(18000, 64000),
                              error=("NoSuchKey", "The specified key does not exist.") if missing else None)
            elif kind == "by_customer":
                cus = rng.choice(CUSTOMERS)
                throttled = rng.random() < 0.03
                ddb(t, who, env_ip, BOTO_UA, "Query", TABLE,
                    {"tableName": "orders", "indexName": "by-customer",
                     "keyConditionExpression": "customerId = :c", "limit": 25, "scanIndexForward": False},
                    read_only=True, index="by-customer",
                    error=("ProvisionedThroughputExceededException",
                           "The level of configured provisioned throughput for the index was exceeded. Consider "
                           "increasing your provisioning level with the UpdateTable API.") if throttled else None)
            elif kind == "recent":
                ddb(t, who, env_ip, BOTO_UA, "Query", TABLE,
                    {"tableName": "orders", "keyConditionExpression": "pk = :p AND begins_with(sk, :d)",
                     "limit": 50}, read_only=True)
            else:  # update
                oid = rng.choice(ORDERS[-60:])[0]
                ddb(t, who, env_ip, BOTO_UA, "UpdateItem", TABLE,
                    {"tableName": "orders", "key": {"pk": f"ORDER#{oid}"}, "updateExpression": "SET #s = :s, updatedAt = :u",
                     "expressionAttributeNames": {"#s": "status"}, "returnValues": "UPDATED_NEW"}, read_only=False)
                sns_publish(t + dt.timedelta(milliseconds=rng.randint(40, 300)), who, env_ip, BOTO_UA)
            if d in rare_days["put_events"] and i == len(times) // 2:
                # An "OrderCreated" event for the default bus: the role has no events:PutEvents.
                put_events(
                    t + dt.timedelta(seconds=3), who, env_ip, BOTO_UA, "OrderCreated",
                    error=("AccessDeniedException", not_authorized(who["arn"], "events:PutEvents", EVENT_BUS, False)),
                    meta_kind="denied",
                )
            if d in rare_days["scan"] and i == len(times) - 2:
                # The nightly report path still tries a Scan: orders-guardrails/DenyTableScans refuses it.
                t3 = t + dt.timedelta(seconds=5)
                ddb(t3, who, env_ip, BOTO_UA, "Scan", TABLE,
                    {"tableName": "orders", "filterExpression": "#s = :s",
                     "expressionAttributeNames": {"#s": "status"}, "limit": 1000}, read_only=True,
                    error=("AccessDeniedException", not_authorized(who["arn"], "dynamodb:Scan", TABLE, True)),
                    meta_kind="denied")
            if d in rare_days["ledger"] and i == 1:
                # A preview service the catalog does not know (so `usage` lists it as unmapped).
                record(t + dt.timedelta(seconds=4), who, "quantumledger.amazonaws.com", "AppendLedgerEntry",
                       ip=env_ip, ua=BOTO_UA, params={"ledgerName": "orders-ledger", "entry": "HIDDEN_DUE_TO_SECURITY_REASONS"},
                       response={"sequenceNumber": str(rng.randint(10**6, 10**7))}, read_only=False,
                       host=f"quantumledger.{REGION}.amazonaws.com", meta=("unmapped", None, []))


# --------------------------------------------------------------------------------------------------
# Noise: other principals


def gen_dev():
    """The developer `dev`: CLI and console, weekdays only."""
    devd = [d for d in range(DAYS) if is_weekday(d)]
    for n, d in enumerate(devd):
        base = rng.uniform(8.5 * 3600, 10.5 * 3600)
        t = lambda extra: at(d, base + extra)  # noqa: E731
        who = user_identity("dev", DEV_ARN, DEV_KEY)
        if n % 2 == 0:
            get_caller_identity(t(0), who, DEV_IP, cli_ua("sts.get-caller-identity"))
        # Reads on the orders table (Scan is allowed to dev: developer-access/OrdersTables).
        for k in range(rng.randint(1, 2)):
            oid = rng.choice(ORDERS)[0]
            ddb(t(60 + k * 20), who, DEV_IP, cli_ua("dynamodb.get-item"), "GetItem", TABLE,
                {"tableName": "orders", "key": {"pk": f"ORDER#{oid}"}}, read_only=True)
        if n % 3 == 0:
            ddb(t(200), who, DEV_IP, cli_ua("dynamodb.scan"), "Scan", TABLE,
                {"tableName": "orders", "limit": 100}, read_only=True)
        if n in (1, 6, 11):
            ddb(t(300), who, DEV_IP, cli_ua("dynamodb.get-item"), "GetItem", PAYMENTS_TABLE,
                {"tableName": "payments", "key": {"paymentId": f"pay-{rng.randint(10000, 99999)}"}}, read_only=True)
        if n in (2, 9):
            ddb(t(330), who, DEV_IP, cli_ua("dynamodb.query"), "Query", PAYMENTS_TABLE,
                {"tableName": "payments", "indexName": "by-status", "keyConditionExpression": "#s = :s",
                 "expressionAttributeNames": {"#s": "status"}}, read_only=True, index="by-status")
        if n in (3, 10):
            ddb(t(400), who, DEV_IP, cli_ua("dynamodb.put-item"), "PutItem", TABLE,
                {"tableName": "orders", "key": {"pk": "ORDER#dev-test"}, "item": ["pk", "status"]}, read_only=False)
        if n == 4:
            ddb(t(420), who, DEV_IP, cli_ua("dynamodb.update-item"), "UpdateItem", TABLE,
                {"tableName": "orders", "key": {"pk": "ORDER#dev-test"}, "updateExpression": "SET #s = :s",
                 "expressionAttributeNames": {"#s": "status"}}, read_only=False,
                error=("AccessDeniedException", not_authorized(DEV_ARN, "dynamodb:UpdateItem", TABLE, False)),
                meta_kind="denied")
        # Invoices.
        if n % 2 == 1:
            s3_list(t(500), who, DEV_IP, cli_ua("s3.ls"), BUCKET_NAME, "invoices/2026/11/")
            oid = rng.choice(ORDERS)[0]
            s3_object(t(520), who, DEV_IP, cli_ua("s3.cp"), "GetObject", BUCKET_NAME, invoice_key(oid),
                      read_only=True, size=rng.randint(18000, 64000))
        # The sandbox queue and the default event bus (dev-sandbox).
        if n == 0:
            record(t(600), who, "sqs.amazonaws.com", "CreateQueue", ip=DEV_IP, ua=cli_ua("sqs.create-queue"),
                   params={"queueName": DEV_QUEUE_NAME}, response={"queueUrl": DEV_QUEUE_URL}, read_only=False,
                   host=f"sqs.{REGION}.amazonaws.com", meta=("action", "sqs:CreateQueue", [DEV_QUEUE]))
        if n in (0, 2, 5, 8, 12):
            sqs_send(t(620), who, DEV_IP, cli_ua("sqs.send-message"), DEV_QUEUE_URL, DEV_QUEUE)
        if n in (1, 7, 13):
            put_events(t(700), who, DEV_IP, cli_ua("events.put-events"), "OrderCreated")
        # The function itself (lambda:* on function:orders*), with versioned Lambda event names.
        if n % 4 == 1:
            record(t(800), who, "lambda.amazonaws.com", "GetFunction20150331v2", ip=DEV_IP,
                   ua=cli_ua("lambda.get-function"), params={"functionName": "orders"}, response=None,
                   read_only=True, api_version="2015-03-31", host=f"lambda.{REGION}.amazonaws.com",
                   meta=("action", "lambda:GetFunction", [FUNCTION_ARN]))
        if n in (3, 8, 11, 14):
            record(t(860), who, "lambda.amazonaws.com", "Invoke", ip=DEV_IP, ua=cli_ua("lambda.invoke"),
                   params={"functionName": FUNCTION_ARN, "invocationType": "RequestResponse", "logType": "None"},
                   read_only=False, data=True, resources=[res("AWS::Lambda::Function", FUNCTION_ARN)],
                   host=f"lambda.{REGION}.amazonaws.com", meta=("action", "lambda:InvokeFunction", [FUNCTION_ARN]))
        # Production secrets are denied to developers (deny-production-secrets).
        if n in (5, 12):
            record(t(900), who, "secretsmanager.amazonaws.com", "GetSecretValue", ip=DEV_IP,
                   ua=cli_ua("secretsmanager.get-secret-value"), params={"secretId": SECRET_NAME}, read_only=True,
                   error=("AccessDeniedException",
                          not_authorized(DEV_ARN, "secretsmanager:GetSecretValue", SECRET_NAME, True)),
                   host=f"secretsmanager.{REGION}.amazonaws.com",
                   meta=("denied", "secretsmanager:GetSecretValue", [SECRET_ARN]))
        if n == 6:
            record(t(950), who, "quantumledger.amazonaws.com", "DescribeLedger", ip=DEV_IP,
                   ua=cli_ua("quantumledger.describe-ledger"), params={"ledgerName": "orders-ledger"},
                   response={"ledgerName": "orders-ledger", "state": "ACTIVE"}, read_only=True,
                   host=f"quantumledger.{REGION}.amazonaws.com", meta=("unmapped", None, []))
        # Console sessions: a sign-in, then the console calls APIs with the session's credentials.
        if n % 5 == 2:
            login = t(3600)
            record(login, {"type": "IAMUser", "principalId": unique_id("AIDA", "dev"), "arn": DEV_ARN,
                           "accountId": ACCOUNT, "userName": "dev"},
                   "signin.amazonaws.com", "ConsoleLogin", ip=DEV_IP, ua=BROWSER_UA, params=None,
                   response={"ConsoleLogin": "Success"},
                   extra={"LoginTo": "https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true",
                          "MobileVersion": "No", "MFAIdentifier": f"{IAM}:mfa/dev", "MFAUsed": "Yes"},
                   read_only=False, event_type="AwsConsoleSignIn", meta=("ignored", "console sign-in", []))
            cwho = user_identity("dev", DEV_ARN, "ASIA" + rand_chars(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"), login)
            record(login + dt.timedelta(seconds=40), cwho, "dynamodb.amazonaws.com", "DescribeTable", ip=DEV_IP,
                   ua=CONSOLE_UA, params={"tableName": "orders"}, response=None, read_only=True,
                   api_version="2012-08-10", host=f"dynamodb.{REGION}.amazonaws.com", console=True,
                   meta=("action", "dynamodb:DescribeTable", [TABLE]))
            record(login + dt.timedelta(seconds=95), cwho, "lambda.amazonaws.com", "GetFunction20150331v2", ip=DEV_IP,
                   ua=CONSOLE_UA, params={"functionName": "orders"}, response=None, read_only=True,
                   api_version="2015-03-31", host=f"lambda.{REGION}.amazonaws.com", console=True,
                   meta=("action", "lambda:GetFunction", [FUNCTION_ARN]))
            record(login + dt.timedelta(seconds=96), cwho, "lambda.amazonaws.com", "ListFunctions20150331", ip=DEV_IP,
                   ua=CONSOLE_UA, params=None, response=None, read_only=True, api_version="2015-03-31",
                   host=f"lambda.{REGION}.amazonaws.com", console=True, meta=("action", "lambda:ListFunctions", ["*"]))


def gen_alice():
    """Another session of orders-fn-role (not the function): someone who assumed the role by hand."""
    for d, base in ((4, 14.2 * 3600), (11, 16.6 * 3600)):
        s = Session(ORDERS_ROLE, ORDERS_ROLE_ARN, "alice", at(d, base))
        who = s.identity()
        get_caller_identity(at(d, base + 5), who, ALICE_IP, cli_ua("sts.get-caller-identity"))
        for k in range(2):
            oid = rng.choice(ORDERS)[0]
            ddb(at(d, base + 60 + k * 30), who, ALICE_IP, cli_ua("dynamodb.get-item"), "GetItem", TABLE,
                {"tableName": "orders", "key": {"pk": f"ORDER#{oid}"}}, read_only=True)
        ddb(at(d, base + 200), who, ALICE_IP, cli_ua("dynamodb.delete-item"), "DeleteItem", TABLE,
            {"tableName": "orders", "key": {"pk": "ORDER#dev-test"}}, read_only=False)
        if d == 4:
            s3_list(at(d, base + 260), who, ALICE_IP, cli_ua("s3.ls"), BUCKET_NAME, "invoices/")
        else:
            ddb(at(d, base + 300), who, ALICE_IP, cli_ua("dynamodb.get-item"), "GetItem", PAYMENTS_TABLE,
                {"tableName": "payments", "key": {"paymentId": "pay-40417"}}, read_only=True,
                error=("AccessDeniedException",
                       not_authorized(who["arn"], "dynamodb:GetItem", PAYMENTS_TABLE, True)),
                meta_kind="denied")


def gen_renderer():
    """The other function, invoice-renderer (its own role): reads invoices."""
    for d in range(DAYS):
        s = Session(RENDERER_ROLE, RENDERER_ROLE_ARN, "invoice-renderer", at(d, 6 * 3600))
        lambda_assume_role(at(d, 6 * 3600), s, RENDERER_ROLE_ARN)
        ip = rng.choice(RENDERER_IPS)
        todays = [o for o in ORDERS if o[2] == d] or ORDERS[:3]
        for oid, _, _ in rng.sample(todays, min(3, len(todays))):
            s3_object(at(d, rng.uniform(6 * 3600 + 5, 23 * 3600)), s.identity(), ip, RENDERER_UA, "GetObject",
                      BUCKET_NAME, invoice_key(oid), read_only=True, size=rng.randint(18000, 64000))
        if d % 4 == 0:
            s3_list(at(d, 6 * 3600 + 3), s.identity(), ip, RENDERER_UA, BUCKET_NAME, "invoices/2026/11/")


def gen_ci_and_services():
    who = user_identity("ci-deployer", CI_ARN, CI_KEY)
    for d in (2, 9, 16):
        base = 15 * 3600 + rng.uniform(0, 3600)
        key = f"orders/{rand_chars(12, '0123456789abcdef')}.zip"
        s3_object(at(d, base), who, CI_IP, cli_ua("s3.cp"), "PutObject", ARTIFACTS_BUCKET_NAME, key,
                  read_only=False, size=48213, response={"x-amz-server-side-encryption": "AES256"})
        record(at(d, base + 20), who, "lambda.amazonaws.com", "UpdateFunctionCode20150331v2", ip=CI_IP,
               ua=cli_ua("lambda.update-function-code"),
               params={"functionName": "orders", "s3Bucket": ARTIFACTS_BUCKET_NAME, "s3Key": key, "publish": False},
               response={"functionName": "orders", "functionArn": FUNCTION_ARN, "runtime": "python3.12",
                         "lastUpdateStatus": "InProgress"},
               read_only=False, api_version="2015-03-31", host=f"lambda.{REGION}.amazonaws.com",
               meta=("action", "lambda:UpdateFunctionCode", [FUNCTION_ARN]))
        record(at(d, base + 60), who, "lambda.amazonaws.com", "GetFunction20150331v2", ip=CI_IP,
               ua=cli_ua("lambda.get-function"), params={"functionName": "orders"}, read_only=True,
               api_version="2015-03-31", host=f"lambda.{REGION}.amazonaws.com",
               meta=("action", "lambda:GetFunction", [FUNCTION_ARN]))
    # AWS service events: KMS rotates the demo key (automatic rotation); no principal of ours.
    record(at(12, 2 * 3600 + 1711), {"accountId": ACCOUNT, "invokedBy": "kms.amazonaws.com"}, "kms.amazonaws.com",
           "RotateKey", ip="kms.amazonaws.com", ua="kms.amazonaws.com", params=None,
           extra={"keyId": KEY, "rotationType": "AUTOMATIC"}, read_only=False,
           resources=[res("AWS::KMS::Key", KEY)], event_type="AwsServiceEvent",
           meta=("service", "kms.amazonaws.com", []))


# --------------------------------------------------------------------------------------------------
# Files


def deterministic_gzip(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=9, mtime=0)  # no file name in the header


def compact(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def log_files() -> dict[str, bytes]:
    """Two delivery files a day: [00:00, 12:00) delivered a few minutes after noon, [12:00, 24:00)
    delivered just after midnight, in the next day's folder (so the file of 11-20 afternoon is in 11/21)."""
    records = sorted((r for r, _ in RECORDS), key=lambda r: (r["eventTime"], r["eventID"]))
    files: dict[str, bytes] = {}
    for d in range(DAYS):
        for half in (0, 1):
            lo, hi = iso(at(d, half * 43200)), iso(at(d, (half + 1) * 43200))
            chunk = [r for r in records if lo <= r["eventTime"] < hi]
            if not chunk:
                continue
            rng.shuffle(chunk)  # CloudTrail does not order records inside a file
            delivered = at(d, (half + 1) * 43200 + rng.randint(180, 720))
            name = (f"{ACCOUNT}_CloudTrail_{REGION}_{delivered.strftime('%Y%m%dT%H%MZ')}_"
                    f"{rand_chars(16, ALNUM)}.json.gz")
            rel = f"AWSLogs/{ACCOUNT}/CloudTrail/{REGION}/{delivered.strftime('%Y/%m/%d')}/{name}"
            files[rel] = deterministic_gzip(compact({"Records": chunk}))
    return files


def digest_file(files: dict[str, bytes]) -> tuple[str, bytes]:
    """The first hourly digest (log file validation): hashes of the log files delivered in its hour."""
    first = sorted(files)[0]
    delivered = dt.datetime.strptime(first.rsplit("_", 2)[1], "%Y%m%dT%H%MZ")
    start, end = delivered - dt.timedelta(minutes=30), delivered + dt.timedelta(minutes=30)
    covered = [k for k in sorted(files) if start <= dt.datetime.strptime(k.rsplit("_", 2)[1], "%Y%m%dT%H%MZ") < end]
    prefix = f"AWSLogs/{ACCOUNT}/CloudTrail-Digest/{REGION}/{end.strftime('%Y/%m/%d')}/"
    name = f"{ACCOUNT}_CloudTrail-Digest_{REGION}_{TRAIL_NAME}_{REGION}_{end.strftime('%Y%m%dT%H%M%SZ')}.json.gz"
    entries = []
    for k in covered:
        recs = json.loads(gzip.decompress(files[k]))["Records"]
        times = sorted(r["eventTime"] for r in recs)
        entries.append({
            "s3Bucket": TRAIL_BUCKET,
            "s3Object": k,
            "hashValue": hashlib.sha256(files[k]).hexdigest(),
            "hashAlgorithm": "SHA-256",
            "newestEventTime": times[-1],
            "oldestEventTime": times[0],
        })
    digest = {
        "awsAccountId": ACCOUNT,
        "digestStartTime": iso(start),
        "digestEndTime": iso(end),
        "digestS3Bucket": TRAIL_BUCKET,
        "digestS3Object": prefix + name,
        "digestPublicKeyFingerprint": hashlib.md5(b"iamfit-demo:digest-key").hexdigest(),
        "digestSignatureAlgorithm": "SHA256withRSA",
        "newestEventTime": max(e["newestEventTime"] for e in entries),
        "oldestEventTime": min(e["oldestEventTime"] for e in entries),
        "previousDigestS3Bucket": None,
        "previousDigestS3Object": None,
        "previousDigestHashValue": None,
        "previousDigestHashAlgorithm": None,
        "previousDigestSignature": None,
        "logFiles": entries,
    }
    return prefix + name, deterministic_gzip(compact(digest))


# --------------------------------------------------------------------------------------------------
# Truth


def principals_of(ui: dict) -> list[str]:
    """Which of the three principals a record belongs to, read from its own userIdentity (the rules of
    iamfit's PrincipalFilter: the session issuer's ARN, or, without one, the assumed-role session ARN)."""
    out = []
    arn = ui.get("arn", "")
    if ui.get("type") == "IAMUser" and arn == DEV_ARN:
        out.append("user:dev")
    if ui.get("type") == "AssumedRole":
        issuer = ui.get("sessionContext", {}).get("sessionIssuer", {}).get("arn")
        role_name, _, session = arn.partition(":assumed-role/")[2].partition("/")
        if issuer == ORDERS_ROLE_ARN or (issuer is None and role_name == ORDERS_ROLE):
            out.append("role:orders-fn-role")
            if session == "orders":
                out.append("function:orders")
    return out


def truth_from(pairs: list[tuple[dict, tuple]], n_files: int) -> dict:
    principals = {}
    for key, flt in FILTERS.items():
        p = {"filter": flt, "matched": 0, "actions": {}, "denied": {}, "permissionless": 0,
             "permissionless_events": {}, "unmapped": {}, "ignored": {}}
        for r, (kind, what, resources) in pairs:
            if key not in principals_of(r["userIdentity"]):
                continue
            p["matched"] += 1
            t = r["eventTime"]
            if kind == "action":
                a = p["actions"].setdefault(what, {"count": 0, "resources": set(), "first_seen": t, "last_seen": t,
                                                   "errors": {}})
                a["count"] += 1
                a["resources"].update(resources)
                a["first_seen"], a["last_seen"] = min(a["first_seen"], t), max(a["last_seen"], t)
                if "errorCode" in r:
                    a["errors"][r["errorCode"]] = a["errors"].get(r["errorCode"], 0) + 1
            elif kind == "denied":
                a = p["denied"].setdefault(what, {"count": 0, "error_code": r["errorCode"], "resources": set()})
                a["count"] += 1
                a["resources"].update(resources)
                assert a["error_code"] == r["errorCode"]
            elif kind == "permissionless":
                p["permissionless"] += 1
                p["permissionless_events"][what] = p["permissionless_events"].get(what, 0) + 1
            elif kind == "unmapped":
                k = (r["eventSource"], r["eventName"])
                p["unmapped"][k] = p["unmapped"].get(k, 0) + 1
            elif kind == "ignored":
                k = (r["eventSource"], r["eventName"], r["eventType"])
                p["ignored"][k] = p["ignored"].get(k, 0) + 1
            else:
                raise AssertionError(f"a {kind} record matched {key}: {r['eventID']}")
        for a in list(p["actions"].values()) + list(p["denied"].values()):
            a["resources"] = sorted(a["resources"])
        for a in p["actions"].values():
            if not a["errors"]:
                del a["errors"]
        p["actions"] = dict(sorted(p["actions"].items()))
        p["denied"] = dict(sorted(p["denied"].items()))
        p["unmapped"] = [{"event_source": s, "event_name": n, "count": c} for (s, n), c in sorted(p["unmapped"].items())]
        p["ignored"] = [{"event_source": s, "event_name": n, "event_type": ty, "count": c,
                         "why": "console sign-in: not an API call that an identity policy authorizes"}
                        for (s, n, ty), c in sorted(p["ignored"].items())]
        principals[key] = p
    times = sorted(r["eventTime"] for r, _ in pairs)
    return {
        "generator": "tools/gen_demo_trail.py",
        "records": len(pairs),
        "log_files": n_files,
        "digest_files": 1,
        "first_event": times[0],
        "last_event": times[-1],
        "principals": principals,
        "notes": [
            "actions: authorized calls, including those that failed for another reason (NoSuchKey, "
            "ConditionalCheckFailedException, ProvisionedThroughputExceededException; see 'errors'); "
            "denied calls (AccessDenied*) are only under 'denied'.",
            "resources: every ARN the action was authorized against; dynamodb:Query with indexName is "
            "authorized against the index ARN; s3:GetObject covers HeadObject; kms:Decrypt made via SQS or Secrets "
            "Manager (userIdentity.invokedBy) is the principal's own kms:Decrypt.",
            f"secretsmanager:GetSecretValue: the records carry only secretId '{SECRET_NAME}' (a name) and no "
            f"resources[]; the full ARN {SECRET_ARN} appears in the encryptionContext.SecretARN of the "
            "kms:Decrypt that Secrets Manager makes in the same second. From the GetSecretValue record alone "
            f"the best ARN is arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{SECRET_NAME}-??????.",
            "permissionless: sts:GetCallerIdentity (no IAM permission needed; counted, never an action).",
            "not attributed to any principal here: sts:AssumeRole by lambda.amazonaws.com (userIdentity type "
            "AWSService; it mentions the role but is not made by it), AwsServiceEvent records (kms RotateKey), "
            "the ci-deployer user and the invoice-renderer-role sessions.",
        ],
    }


def truth_text(truth: dict) -> str:
    return json.dumps(truth, indent=2, ensure_ascii=False) + "\n"


def generate() -> dict[str, bytes]:
    """All output files (relative to policy-fixtures/demo/) and their bytes."""
    RECORDS.clear()
    ORDERS.clear()
    rng.seed(SEED)
    CUSTOMERS[:] = [f"cus-{rng.randint(100000, 999999)}" for _ in range(40)]
    gen_function()
    gen_dev()
    gen_alice()
    gen_renderer()
    gen_ci_and_services()
    files = log_files()
    dname, dbytes = digest_file(files)
    out = {f"cloudtrail/{k}": v for k, v in files.items()}
    out[f"cloudtrail/{dname}"] = dbytes
    out["cloudtrail-truth.json"] = truth_text(truth_from(RECORDS, len(files))).encode()
    return out


# --------------------------------------------------------------------------------------------------
# Independent verification: the truth again, from the files alone


EVENT_ACTIONS = {
    # (eventSource, eventName) -> IAM action; None = permissionless
    ("dynamodb.amazonaws.com", n): f"dynamodb:{n}"
    for n in ("GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "DescribeTable")
}
EVENT_ACTIONS.update({
    ("s3.amazonaws.com", "GetObject"): "s3:GetObject",
    ("s3.amazonaws.com", "HeadObject"): "s3:GetObject",
    ("s3.amazonaws.com", "PutObject"): "s3:PutObject",
    ("s3.amazonaws.com", "ListObjects"): "s3:ListBucket",
    ("sqs.amazonaws.com", "SendMessage"): "sqs:SendMessage",
    ("sqs.amazonaws.com", "CreateQueue"): "sqs:CreateQueue",
    ("sns.amazonaws.com", "Publish"): "sns:Publish",
    ("events.amazonaws.com", "PutEvents"): "events:PutEvents",
    ("kms.amazonaws.com", "Decrypt"): "kms:Decrypt",
    ("secretsmanager.amazonaws.com", "GetSecretValue"): "secretsmanager:GetSecretValue",
    ("sts.amazonaws.com", "GetCallerIdentity"): None,
    ("lambda.amazonaws.com", "GetFunction20150331v2"): "lambda:GetFunction",
    ("lambda.amazonaws.com", "ListFunctions20150331"): "lambda:ListFunctions",
    ("lambda.amazonaws.com", "Invoke"): "lambda:InvokeFunction",
    ("lambda.amazonaws.com", "UpdateFunctionCode20150331v2"): "lambda:UpdateFunctionCode",
})


def resources_of(r: dict) -> list[str]:
    p = r.get("requestParameters") or {}
    src, name = r["eventSource"], r["eventName"]
    if src == "dynamodb.amazonaws.com":
        table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{p['tableName']}"
        return [f"{table}/index/{p['indexName']}"] if p.get("indexName") else [table]
    if src == "s3.amazonaws.com":
        return [f"arn:aws:s3:::{p['bucketName']}"] if name == "ListObjects" else [f"arn:aws:s3:::{p['bucketName']}/{p['key']}"]
    if src == "sqs.amazonaws.com":
        qname = p.get("queueName") or p["queueUrl"].rsplit("/", 1)[1]
        return [f"arn:aws:sqs:{REGION}:{ACCOUNT}:{qname}"]
    if src == "secretsmanager.amazonaws.com":
        # The name is resolved through the kms:Decrypt records' SecretARN (see the truth's notes).
        return [SECRET_ARN] if p["secretId"] == SECRET_NAME else [p["secretId"]]
    if src == "lambda.amazonaws.com":
        fn = p.get("functionName") if p else None
        if fn is None:
            return ["*"]
        return [fn if fn.startswith("arn:") else f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{fn}"]
    return [x["ARN"] for x in r.get("resources", [])]


def classify(r: dict) -> tuple:
    if r.get("eventType") == "AwsConsoleSignIn":
        return ("ignored", "console sign-in", [])
    if r["userIdentity"].get("type") in ("AWSService", None) or r.get("eventType") == "AwsServiceEvent":
        return ("service", None, [])
    k = (r["eventSource"], r["eventName"])
    if k not in EVENT_ACTIONS:
        return ("unmapped", None, [])
    action = EVENT_ACTIONS[k]
    if action is None:
        return ("permissionless", "sts:GetCallerIdentity", [])
    code = r.get("errorCode", "")
    kind = "denied" if code.startswith("AccessDenied") else "action"
    return (kind, action, resources_of(r))


def read_bytes(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def read_back() -> tuple[list[dict], int, list[str]]:
    records, n_files, problems = [], 0, []
    for root, _, names in sorted(os.walk(TRAIL_DIR)):
        for n in sorted(names):
            path = os.path.join(root, n)
            doc = json.loads(gzip.decompress(read_bytes(path)))
            if "CloudTrail-Digest" in path:
                if "Records" in doc:
                    problems.append(f"digest has Records: {path}")
                continue
            if not n.endswith(".json.gz") or "Records" not in doc:
                problems.append(f"not a log file: {path}")
                continue
            n_files += 1
            records.extend(doc["Records"])
    return records, n_files, problems


def verify() -> int:
    records, n_files, problems = read_back()
    recomputed = truth_from([(r, classify(r)) for r in records], n_files)
    committed = json.loads(read_bytes(TRUTH_PATH))
    if json.loads(truth_text(recomputed)) != committed:
        problems.append("cloudtrail-truth.json differs from the truth recomputed from the records")
    ids = [r["eventID"] for r in records]
    if len(set(ids)) != len(ids):
        problems.append("duplicate eventID")
    for p in problems:
        print(f"gen_demo_trail --verify: {p}", file=sys.stderr)
    print(f"gen_demo_trail --verify: {n_files} log files, {len(records)} records: "
          f"{'OK' if not problems else 'FAILED'}")
    return 1 if problems else 0


# --------------------------------------------------------------------------------------------------


def same(path: str, data: bytes) -> bool:
    try:
        current = read_bytes(path)
    except FileNotFoundError:
        return False
    if path.endswith(".gz"):
        return gzip.decompress(current) == gzip.decompress(data)
    return current == data


def main(argv: list[str]) -> int:
    args = argv[1:]
    if args not in ([], ["--check"], ["--verify"]):
        print(f"usage: {argv[0]} [--check | --verify]", file=sys.stderr)
        return 2
    if args == ["--verify"]:
        return verify()
    check = args == ["--check"]
    files = generate()
    wanted = {os.path.join(DEMO_DIR, rel) for rel in files}
    existing = {os.path.join(r, n) for r, _, ns in os.walk(TRAIL_DIR) for n in ns}
    stale = [rel for rel, data in files.items() if not same(os.path.join(DEMO_DIR, rel), data)]
    extra = sorted(existing - wanted)
    rel_out = os.path.relpath(DEMO_DIR, REPO_ROOT)
    if check:
        bad = stale + [os.path.relpath(p, DEMO_DIR) for p in extra]
        state = "up to date" if not bad else f"STALE: {', '.join(bad[:5])}{' ...' if len(bad) > 5 else ''}"
        print(f"gen_demo_trail: {len(files)} files in {rel_out}: {state}")
        return 1 if bad else 0
    for p in extra:
        os.remove(p)
    for rel, data in files.items():
        path = os.path.join(DEMO_DIR, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    for r, ds, ns in sorted(os.walk(TRAIL_DIR, topdown=False)):
        if not ds and not ns and not os.listdir(r):
            os.rmdir(r)
    print(f"gen_demo_trail: wrote {len(files)} files to {rel_out} ({len(stale)} changed, {len(extra)} removed), "
          f"{len(RECORDS)} records")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
