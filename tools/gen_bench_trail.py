#!/usr/bin/env python3
"""Generate a large, realistic CloudTrail trail for benchmarking iamfit's log reader.

Usage:
    python3 tools/gen_bench_trail.py OUT_DIR [--events N] [--jobs J] [--seed S]

Writes gzip files in the S3 delivery layout

    OUT_DIR/AWSLogs/111122223333/CloudTrail/<region>/YYYY/MM/DD/
        111122223333_CloudTrail_<region>_YYYYMMDDTHHMMZ_<16 hex>.json.gz

(compact JSON, `{"Records":[...]}`, 1,500 to 4,000 records a file, about 1.2 KB a record, so 2 to 5 MB
uncompressed a file), plus a few files under CloudTrail-Digest/ that readers must skip. The events run
from 2026-10-01 to 2026-10-30 UTC. The mix: ~20 roles' sessions (AssumedRole, among them the benchmark's
target `orders-fn-role` with session `orders`, about 6% of the records), IAM users, AWS service events,
data events (S3 objects, DynamoDB items, Lambda Invoke, SQS), management events (STS, KMS, Logs, SSM,
Secrets Manager, EC2, IAM), and errors (AccessDenied ~3%, throttling, not-found).

Deterministic for a seed (random.Random per file). Standard library only. A file `OUT_DIR/.complete`
records the parameters once every file is written, so callers can cache the output.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import multiprocessing
import os
import random
import sys
import uuid

ACCOUNT = "111122223333"
TARGET_ROLE = "orders-fn-role"
START = dt.datetime(2026, 10, 1, tzinfo=dt.timezone.utc)
SPAN_SECONDS = 30 * 86400
REGIONS = ["us-east-1"] * 4 + ["eu-west-1"]

ROLES = [
    (TARGET_ROLE, "orders", "/"),
    ("invoice-renderer-role", "invoice-renderer", "/service-role/"),
    ("payments-fn-role", "payments", "/service-role/"),
    ("shipping-fn-role", "shipping", "/service-role/"),
    ("catalog-sync-role", "catalog-sync", "/service-role/"),
    ("reports-fn-role", "reports", "/service-role/"),
    ("auth-authorizer-role", "authorizer", "/service-role/"),
    ("image-resize-role", "image-resize", "/service-role/"),
    ("notifications-role", "notifications", "/service-role/"),
    ("search-indexer-role", "search-indexer", "/service-role/"),
    ("orders-fn-role-canary", "orders", "/service-role/"),
    ("etl-glue-role", "GlueJobRunnerSession", "/"),
    ("ecs-task-api-role", "a1b2c3d4e5f6", "/"),
    ("github-deploy-role", "GitHubActions", "/"),
    ("AWSReservedSSO_Admin_0123456789abcdef", "alice@example.com", "/aws-reserved/sso.amazonaws.com/"),
    ("AWSReservedSSO_ReadOnly_fedcba9876543210", "bob@example.com", "/aws-reserved/sso.amazonaws.com/"),
    ("backup-role", "AWSBackup-backup-role", "/"),
    ("config-recorder-role", "AWSConfig-Describe", "/"),
    ("datadog-integration", "DatadogAWSIntegration", "/"),
    ("terraform-ci", "terraform-apply-1234", "/"),
]
USERS = ["ci-bot", "legacy-uploader", "alice", "carol"]
AGENTS = [
    "aws-sdk-java/2.20.162 Linux/5.10.219-229.866.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.8+7-LTS Java/17.0.8 "
    "vendor/Amazon.com_Inc. exec-env/AWS_Lambda_java17 io/sync http/Apache cfg/retry-mode/legacy",
    "Boto3/1.34.84 md/Botocore#1.34.84 ua/2.0 os/linux#5.10.219-229.866.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.3 "
    "md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 cfg/retry-mode#legacy Botocore/1.34.84",
    "aws-sdk-js/3.592.0 ua/2.0 os/linux#5.10.219-229.866.amzn2.x86_64 lang/js md/nodejs#20.13.1 "
    "exec-env/AWS_Lambda_nodejs20.x api/dynamodb#3.592.0",
    "aws-cli/2.15.58 md/awscrt#0.19.19 ua/2.0 os/macos#23.5.0 md/arch#arm64 lang/python#3.11.9 md/pyimpl#CPython "
    "cfg/retry-mode#standard md/installer#source md/prompt#off md/command#s3.cp",
    "APN/1.0 HashiCorp/1.0 Terraform/1.8.5 (+https://www.terraform.io) terraform-provider-aws/5.53.0 "
    "(+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.27.2 ua/2.0 os/linux lang/go#1.22.3",
]
BUCKETS = ["orders-bucket", "invoices-prod", "static-assets-prod", "data-lake-raw", "logs-archive"]
TABLES = ["orders", "customers", "inventory", "sessions", "idempotency"]
FUNCTIONS = ["orders", "invoice-renderer", "payments", "shipping", "catalog-sync", "reports"]
QUEUES = ["orders-events", "invoice-jobs", "dead-letter"]


def hexid(rng: random.Random, n: int) -> str:
    return "%0*x" % (n, rng.getrandbits(4 * n))


def upper_id(rng: random.Random, prefix: str, n: int = 17) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    return prefix + "".join(rng.choice(alphabet) for _ in range(n))


def uid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def ts(t: float) -> str:
    return (START + dt.timedelta(seconds=t)).strftime("%Y-%m-%dT%H:%M:%SZ")


ROLE_IDS = {name: upper_id(random.Random(name), "AROA") for name, _, _ in ROLES}
USER_IDS = {name: upper_id(random.Random(name), "AIDA") for name in USERS}


def identity(rng: random.Random, t: float, who):
    kind = who[0]
    if kind == "role":
        name, session, path = who[1]
        return {
            "type": "AssumedRole",
            "principalId": f"{ROLE_IDS[name]}:{session}",
            "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{name}/{session}",
            "accountId": ACCOUNT,
            "accessKeyId": upper_id(rng, "ASIA", 16),
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": ROLE_IDS[name],
                    "arn": f"arn:aws:iam::{ACCOUNT}:role{path}{name}",
                    "accountId": ACCOUNT,
                    "userName": name,
                },
                "webIdFederationData": {},
                "attributes": {"creationDate": ts(max(0.0, t - rng.randint(10, 3000))), "mfaAuthenticated": "false"},
            },
        }
    if kind == "user":
        return {
            "type": "IAMUser",
            "principalId": USER_IDS[who[1]],
            "arn": f"arn:aws:iam::{ACCOUNT}:user/{who[1]}",
            "accountId": ACCOUNT,
            "accessKeyId": upper_id(rng, "AKIA", 16),
            "userName": who[1],
        }
    return {"type": "AWSService", "invokedBy": who[1]}


def s3_event(rng, region, name):
    bucket = rng.choice(BUCKETS)
    key = f"{rng.choice(['2026/10', 'tmp', 'in', 'renders'])}/{uid(rng)}.{rng.choice(['json', 'pdf', 'png', 'csv'])}"
    params = {"bucketName": bucket, "Host": f"{bucket}.s3.{region}.amazonaws.com", "key": key}
    if name == "PutObject":
        params["x-amz-server-side-encryption"] = "aws:kms"
    extra = {
        "SignatureVersion": "SigV4",
        "CipherSuite": "TLS_AES_128_GCM_SHA256",
        "bytesTransferredIn": rng.randint(0, 90000) if name == "PutObject" else 0,
        "AuthenticationMethod": "AuthHeader",
        "x-amz-id-2": hexid(rng, 48),
        "bytesTransferredOut": rng.randint(100, 900000) if name == "GetObject" else 0,
    }
    resources = [
        {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"},
        {"accountId": ACCOUNT, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"},
    ]
    return "s3.amazonaws.com", params, None, resources, extra, "Data", name == "GetObject"


def ddb_event(rng, region, name):
    table = rng.choice(TABLES)
    params = {"tableName": table, "key": {"id": hexid(rng, 12)}}
    if name == "Query":
        params = {
            "tableName": table,
            "indexName": "by-customer",
            "keyConditionExpression": "customerId = :c AND createdAt > :t",
            "expressionAttributeValues": {":c": "HIDDEN_DUE_TO_SECURITY_REASONS", ":t": "HIDDEN_DUE_TO_SECURITY_REASONS"},
            "limit": 50,
        }
    if name == "PutItem":
        params["conditionExpression"] = "attribute_not_exists(id)"
    resources = [{"accountId": ACCOUNT, "type": "AWS::DynamoDB::Table", "ARN": f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{table}"}]
    return "dynamodb.amazonaws.com", params, None, resources, None, "Data", name in ("GetItem", "Query")


def lambda_event(rng, region, name):
    fn = rng.choice(FUNCTIONS)
    params = {"functionName": f"arn:aws:lambda:{region}:{ACCOUNT}:function:{fn}", "invocationType": rng.choice(["RequestResponse", "Event"]), "sourceArn": None}
    resources = [{"accountId": ACCOUNT, "type": "AWS::Lambda::Function", "ARN": f"arn:aws:lambda:{region}:{ACCOUNT}:function:{fn}"}]
    return "lambda.amazonaws.com", params, None, resources, {"functionVersion": f"arn:aws:lambda:{region}:{ACCOUNT}:function:{fn}:$LATEST"}, "Data", False


def sqs_event(rng, region, name):
    q = rng.choice(QUEUES)
    params = {"queueUrl": f"https://sqs.{region}.amazonaws.com/{ACCOUNT}/{q}", "messageBody": "HIDDEN_DUE_TO_SECURITY_REASONS"}
    resources = [{"accountId": ACCOUNT, "type": "AWS::SQS::Queue", "ARN": f"arn:aws:sqs:{region}:{ACCOUNT}:{q}"}]
    resp = {"mD5OfMessageBody": hexid(rng, 32), "messageId": uid(rng)}
    return "sqs.amazonaws.com", params, resp, resources, None, "Data", False


def mgmt_event(rng, region, name):
    if name == "Decrypt":
        params = {"encryptionAlgorithm": "SYMMETRIC_DEFAULT", "encryptionContext": {"aws:lambda:FunctionArn": f"arn:aws:lambda:{region}:{ACCOUNT}:function:{rng.choice(FUNCTIONS)}"}}
        key = uid(rng)
        res = [{"accountId": ACCOUNT, "type": "AWS::KMS::Key", "ARN": f"arn:aws:kms:{region}:{ACCOUNT}:key/{key}"}]
        return "kms.amazonaws.com", params, None, res, None, "Management", True
    if name == "CreateLogStream":
        fn = rng.choice(FUNCTIONS)
        params = {"logGroupName": f"/aws/lambda/{fn}", "logStreamName": f"2026/10/{rng.randint(1, 30):02d}/[$LATEST]{hexid(rng, 32)}"}
        return "logs.amazonaws.com", params, None, None, None, "Management", False
    if name == "GetParameter":
        return "ssm.amazonaws.com", {"name": f"/prod/{rng.choice(FUNCTIONS)}/config", "withDecryption": True}, None, None, None, "Management", True
    if name == "GetSecretValue":
        sid = f"arn:aws:secretsmanager:{region}:{ACCOUNT}:secret:prod/{rng.choice(['db', 'stripe', 'sendgrid'])}-{hexid(rng, 6)}"
        return "secretsmanager.amazonaws.com", {"secretId": sid}, None, None, None, "Management", True
    if name == "AssumeRole":
        role = rng.choice(ROLES)
        params = {"roleArn": f"arn:aws:iam::{ACCOUNT}:role{role[2]}{role[0]}", "roleSessionName": role[1], "durationSeconds": 3600}
        resp = {
            "credentials": {"accessKeyId": upper_id(rng, "ASIA", 16), "sessionToken": "IQoJb3JpZ2luX2VjE" + hexid(rng, 120), "expiration": "Oct 2, 2026, 1:00:00 AM"},
            "assumedRoleUser": {"assumedRoleId": f"{ROLE_IDS[role[0]]}:{role[1]}", "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role[0]}/{role[1]}"},
        }
        res = [{"accountId": ACCOUNT, "type": "AWS::IAM::Role", "ARN": params["roleArn"]}]
        return "sts.amazonaws.com", params, resp, res, None, "Management", True
    if name == "GetCallerIdentity":
        return "sts.amazonaws.com", None, None, None, None, "Management", True
    if name == "DescribeInstances":
        params = {"instancesSet": {}, "filterSet": {"items": [{"name": "tag:team", "valueSet": {"items": [{"value": "orders"}]}}]}}
        return "ec2.amazonaws.com", params, None, None, None, "Management", True
    if name == "GetRole":
        return "iam.amazonaws.com", {"roleName": rng.choice(ROLES)[0]}, None, None, None, "Management", True
    if name == "PutEvents":
        params = {"entries": [{"source": "orders", "detailType": "OrderPlaced", "eventBusName": "default"}]}
        return "events.amazonaws.com", params, {"failedEntryCount": 0, "entries": [{"eventId": uid(rng)}]}, None, None, "Management", False
    raise ValueError(name)


EVENTS = [
    (s3_event, "GetObject", 14), (s3_event, "PutObject", 8), (ddb_event, "GetItem", 14), (ddb_event, "PutItem", 8),
    (ddb_event, "Query", 6), (lambda_event, "Invoke", 6), (sqs_event, "SendMessage", 5), (mgmt_event, "Decrypt", 10),
    (mgmt_event, "CreateLogStream", 5), (mgmt_event, "GetParameter", 4), (mgmt_event, "GetSecretValue", 3),
    (mgmt_event, "AssumeRole", 6), (mgmt_event, "GetCallerIdentity", 2), (mgmt_event, "DescribeInstances", 2),
    (mgmt_event, "GetRole", 2), (mgmt_event, "PutEvents", 5),
]
EVENT_WEIGHTS = [w for _, _, w in EVENTS]


def record(rng: random.Random, t: float, region: str) -> dict:
    maker, name, _ = rng.choices(EVENTS, weights=EVENT_WEIGHTS)[0]
    source, params, resp, resources, extra, category, read_only = maker(rng, region, name)
    r = rng.random()
    if name == "AssumeRole" and rng.random() < 0.7:
        who = ("service", "lambda.amazonaws.com")
    elif r < 0.06:
        who = ("role", ROLES[0])
    elif r < 0.12:
        who = ("user", rng.choice(USERS))
    elif r < 0.16 and category == "Management":
        who = ("service", rng.choice(["lambda.amazonaws.com", "events.amazonaws.com", "backup.amazonaws.com"]))
    else:
        who = ("role", rng.choice(ROLES[1:]))
    ident = identity(rng, t, who)
    service_call = who[0] == "service"
    rec = {
        "eventVersion": "1.09" if category == "Data" else "1.08",
        "userIdentity": ident,
        "eventTime": ts(t),
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": who[1] if service_call else f"{rng.randint(3, 54)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
        "userAgent": who[1] if service_call else rng.choice(AGENTS),
    }
    e = rng.random()
    if e < 0.03:
        action = f"{source.split('.')[0]}:{name}"
        rec["errorCode"] = "AccessDenied" if source == "s3.amazonaws.com" else "AccessDeniedException"
        rec["errorMessage"] = (
            f"User: {ident.get('arn', who[1])} is not authorized to perform: {action} on resource: "
            f"{(resources or [{'ARN': '*'}])[0]['ARN']} because no identity-based policy allows the {action} action"
        )
        resp = None
    elif e < 0.04:
        rec["errorCode"] = "ThrottlingException"
        rec["errorMessage"] = "Rate exceeded"
        resp = None
    elif e < 0.05:
        rec["errorCode"] = "ResourceNotFoundException" if source != "s3.amazonaws.com" else "NoSuchKey"
        rec["errorMessage"] = "Requested resource not found"
        resp = None
    rec["requestParameters"] = params
    rec["responseElements"] = resp
    if extra:
        rec["additionalEventData"] = extra
    rec["requestID"] = hexid(rng, 16).upper() if source == "s3.amazonaws.com" else uid(rng)
    rec["eventID"] = uid(rng)
    rec["readOnly"] = read_only
    if resources:
        rec["resources"] = resources
    rec["eventType"] = "AwsServiceEvent" if service_call and rng.random() < 0.3 else "AwsApiCall"
    rec["managementEvent"] = category == "Management"
    rec["recipientAccountId"] = ACCOUNT
    if service_call:
        rec["sharedEventID"] = uid(rng)
    rec["eventCategory"] = category
    if not service_call:
        rec["tlsDetails"] = {
            "tlsVersion": "TLSv1.3",
            "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": f"{source.split('.')[0]}.{region}.amazonaws.com",
        }
    return rec


def write_file(job) -> int:
    out_dir, index, count, t0, t1, region, seed = job
    rng = random.Random(seed * 1_000_003 + index)
    times = sorted(rng.uniform(t0, t1) for _ in range(count))
    body = ",".join(json.dumps(record(rng, t, region), separators=(",", ":")) for t in times)
    end = START + dt.timedelta(seconds=t1)
    day_dir = os.path.join(out_dir, "AWSLogs", ACCOUNT, "CloudTrail", region, end.strftime("%Y/%m/%d"))
    os.makedirs(day_dir, exist_ok=True)
    name = f"{ACCOUNT}_CloudTrail_{region}_{end.strftime('%Y%m%dT%H%MZ')}_{hexid(rng, 16)}.json.gz"
    data = ('{"Records":[' + body + "]}").encode()
    with open(os.path.join(day_dir, name), "wb") as f:
        f.write(gzip.compress(data, compresslevel=6, mtime=0))
    return len(data)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("out_dir")
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    params = f"events={args.events} seed={args.seed} v=1"
    marker = os.path.join(args.out_dir, ".complete")
    if os.path.exists(marker) and open(marker).read().strip() == params:
        print(f"{args.out_dir}: already generated ({params})", file=sys.stderr)
        return 0
    os.makedirs(args.out_dir, exist_ok=True)
    plan = random.Random(args.seed)
    jobs, left, index = [], args.events, 0
    while left > 0:
        n = min(left, plan.randint(1500, 4000))
        jobs.append([args.out_dir, index, n, 0.0, 0.0, plan.choice(REGIONS), args.seed])
        left -= n
        index += 1
    # Spread the files over the 30 days in order, each covering its share of the time.
    step = SPAN_SECONDS / len(jobs)
    for i, j in enumerate(jobs):
        j[3], j[4] = i * step, (i + 1) * step
    with multiprocessing.Pool(args.jobs) as pool:
        sizes = pool.map(write_file, [tuple(j) for j in jobs], chunksize=4)
    digest_dir = os.path.join(args.out_dir, "AWSLogs", ACCOUNT, "CloudTrail-Digest", "us-east-1", "2026", "10", "01")
    os.makedirs(digest_dir, exist_ok=True)
    for h in range(3):
        path = os.path.join(digest_dir, f"{ACCOUNT}_CloudTrail-Digest_us-east-1_trail_us-east-1_20261001T0{h}0000Z.json.gz")
        with open(path, "wb") as f:
            f.write(gzip.compress(json.dumps({"awsAccountId": ACCOUNT, "digestStartTime": "2026-10-01T00:00:00Z"}).encode(), mtime=0))
    with open(marker, "w") as f:
        f.write(params + "\n")
    print(f"{args.out_dir}: {args.events} events in {len(jobs)} files, {sum(sizes) / 1e6:.0f} MB uncompressed", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
