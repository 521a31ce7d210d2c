use super::*;

fn cat() -> &'static Catalog {
    Catalog::embedded()
}

#[test]
fn embedded_loads_fast_and_is_complete() {
    let start = std::time::Instant::now();
    let text: &'static str = EMBEDDED;
    let parsed = Catalog::parse(text).expect("embedded catalog parses with full validation");
    let elapsed = start.elapsed();
    println!(
        "catalog: parsed {} services, {} actions, {} operations in {elapsed:?}",
        parsed.service_count(),
        parsed.action_count(),
        parsed.operations().len()
    );
    assert!(parsed.action_count() > 22_000);
    assert!(parsed.service_count() > 450);
    assert!(parsed.operations().len() > 17_000);
    assert_eq!(cat().origin(), &Origin::Embedded);
}

#[test]
fn action_lookup_is_case_insensitive_and_returns_real_casing() {
    let a = cat().action("s3:getobject").expect("s3:GetObject");
    assert_eq!(a.full_name(), "s3:GetObject");
    assert_eq!(a.access_level(), AccessLevel::Read);
    assert!(a.description().contains("retrieve objects"));
    assert!(a.supports_resource_level_permissions());
    let rts: Vec<&str> = a.resource_types().iter().map(|r| r.resource_type.name).collect();
    assert!(rts.contains(&"object"), "{rts:?}");
    let obj = a.resource_types().into_iter().find(|r| r.resource_type.name == "object").expect("object");
    assert!(obj.resource_type.arn_formats.iter().any(|f| f.contains("${BucketName}/${ObjectName}")));
    assert!(a.condition_keys().contains(&"s3:ExistingObjectTag/<key>"));
    assert!(cat().action("S3:GETOBJECT").is_some());
    assert!(cat().action("s3:NoSuchThing").is_none());
    assert!(cat().action("nosuchservice:GetObject").is_none());
    assert!(cat().action("GetObject").is_none());
    let lambda = cat().action("lambda:invokefunction").expect("lambda:InvokeFunction");
    assert_eq!(lambda.access_level(), AccessLevel::Write);
    assert_eq!(
        cat().action("iam:PutRolePolicy").map(|a| a.access_level()),
        Some(AccessLevel::PermissionsManagement)
    );
    assert_eq!(cat().action("s3:PutObjectTagging").map(|a| a.access_level()), Some(AccessLevel::Tagging));
    assert_eq!(cat().action("s3:ListAllMyBuckets").map(|a| a.access_level()), Some(AccessLevel::List));
    assert!(!cat().action("s3:ListAllMyBuckets").is_some_and(|a| a.supports_resource_level_permissions()));
}

#[test]
fn required_resources_and_dependent_actions() {
    let a = cat().action("ec2:RunInstances").expect("RunInstances");
    let rts = a.resource_types();
    assert!(rts.iter().any(|r| r.resource_type.name == "instance" && r.required));
    assert!(rts.iter().any(|r| r.resource_type.name == "key-pair" && !r.required));
    // Service-Reference-only actions are present too.
    assert!(cat().action("aws-mcp:InvokeMcp").is_some_and(|a| a.source() == Source::ServiceReference));
    // The current data lists no dependent actions (all empty upstream); the format carries them.
    let text = "iamfit-catalog\t1\tx\nS\ta\tA\tc\nR\tr\tarn:a\t\nA\tDo\tW\tc\t0>b:Other\t\tb:First\t\n";
    let small = Catalog::parse(text).expect("valid");
    let a = small.action("a:Do").expect("a:Do");
    assert_eq!(a.dependent_actions(), vec!["b:First"]);
    assert_eq!(a.resource_types()[0].dependent_actions, vec!["b:Other"]);
}

#[test]
fn expand_wildcards() {
    let names = |p: &str| cat().expand(p).iter().map(|a| a.full_name()).collect::<Vec<_>>();
    let get = names("s3:Get*");
    assert!(get.contains(&"s3:GetObject".to_string()));
    assert!(!get.contains(&"s3:PutObject".to_string()));
    assert!(get.iter().all(|n| n.starts_with("s3:Get")));
    assert_eq!(names("S3:?ETOBJECT"), vec!["s3:GetObject".to_string()]);
    assert_eq!(cat().expand("*").len(), cat().action_count());
    assert_eq!(cat().expand("s3:*").len(), cat().service("s3").map_or(0, |s| s.action_count()));
    let describe = names("*:Describe*");
    assert!(describe.contains(&"ec2:DescribeInstances".to_string()));
    assert!(describe.iter().all(|n| n.split_once(':').is_some_and(|(_, a)| a.starts_with("Describe"))));
    // A wildcard in the prefix spans services, as IAM matches the whole `service:action` string.
    assert!(names("s3*:GetObject").contains(&"s3-object-lambda:GetObject".to_string()));
    assert!(names("nosuch:*").is_empty());
    assert!(names("GetObject").is_empty());
}

#[test]
fn unknown_names_get_suggestions() {
    match cat().lookup("s3:GetObjekt") {
        Lookup::UnknownAction { service, suggestion } => {
            assert_eq!(service.prefix(), "s3");
            assert_eq!(suggestion.map(|a| a.full_name()), Some("s3:GetObject".into()));
        }
        other => panic!("{other:?}"),
    }
    match cat().lookup("lamda:InvokeFunction") {
        Lookup::UnknownService { suggestion } => assert_eq!(suggestion, Some("lambda")),
        other => panic!("{other:?}"),
    }
    assert!(matches!(cat().lookup("s3"), Lookup::Malformed));
    assert!(matches!(cat().lookup("s3:GetObject"), Lookup::Found(_)));
    assert!(cat().is_known_service("DynamoDB"));
    assert!(!cat().is_known_service("dynamo"));
    assert_eq!(edit_distance("kitten", "sitting"), 3);
}

#[test]
fn condition_keys_and_templates() {
    let k = cat().condition_key("aws:sourceip").expect("aws:SourceIp");
    assert_eq!(k.name, "aws:SourceIp");
    assert_eq!(k.value_type, ConditionType::IpAddress);
    let tag = cat().condition_key("aws:ResourceTag/team").expect("template");
    assert_eq!(tag.name, "aws:ResourceTag/${TagKey}");
    assert!(tag.is_template());
    let s3 = cat().condition_key("s3:ExistingObjectTag/owner").expect("s3 template");
    assert_eq!(s3.name, "s3:ExistingObjectTag/<key>");
    assert_eq!(cat().condition_key("s3:prefix").map(|k| k.value_type), Some(ConditionType::String));
    assert_eq!(cat().condition_key("aws:TagKeys").map(|k| k.value_type), Some(ConditionType::ArrayOfString));
    assert!(cat().condition_key("aws:ResourceTag/").is_none());
    assert!(cat().condition_key("nosuch:key").is_none());
}

#[test]
fn resource_types_and_operations() {
    let rt = cat().resource_type("LAMBDA", "Function").expect("lambda function");
    assert_eq!(rt.name, "function");
    assert!(rt.arn_formats.iter().any(|a| a.contains(":function:${FunctionName}")));
    let op = cat().operation("s3", "completemultipartupload").expect("operation");
    let auth: Vec<&str> = op.authorized_actions().map(|a| a.action).collect();
    assert_eq!(auth.first(), Some(&"s3:PutObject"));
    assert_eq!(op.sdk_services().collect::<Vec<_>>(), vec!["s3"]);
    let passrole = cat()
        .operations()
        .iter()
        .flat_map(|o| o.authorized_actions())
        .find(|a| a.action == "iam:PassRole" && a.context().next().is_some())
        .expect("a PassRole with context");
    let (key, values) = passrole.context().next().expect("context");
    assert_eq!(key, "iam:PassedToService");
    assert!(values.iter().all(|v| v.ends_with(".amazonaws.com")));
    assert!(cat().operations_for_sdk("s3control", "CreateAccessPoint").next().is_some());
    assert!(cat().action("s3:PutObject").is_some_and(|a| !a.operations().is_empty()));
}

#[test]
fn model_round_trips_the_embedded_catalog() {
    let model = model::Model::from_catalog(cat());
    let text = model.write(cat().id(), None);
    let body = |t: &str| t.split_once('\n').map(|(_, b)| b.to_string()).unwrap_or_default();
    assert!(body(&text) == body(EMBEDDED), "writing the parsed catalog must reproduce it");
}

#[test]
fn merge_keeps_embedded_data_and_adds_new_entries() {
    let mut model = model::Model::from_catalog(cat());
    let doc = serde_json::json!({
        "Name": "lambda",
        "Actions": [
            {"Name": "InvokeFunction", "Annotations": {"Properties": {"IsList": true}}},
            {"Name": "FrobnicateFunction", "Annotations": {"Properties": {"IsWrite": true, "IsTaggingOnly": true}},
             "Resources": [{"Name": "function"}], "ActionConditionKeys": ["lambda:FrobLevel"]}
        ],
        "ConditionKeys": [{"Name": "lambda:FrobLevel", "Types": ["Numeric"]}],
        "Resources": [{"Name": "frob", "ARNFormats": ["arn:${Partition}:lambda:${Region}:${Account}:frob:${Name}"]}],
        "Operations": [{"Name": "Frobnicate", "AuthorizedActions": [{"Name": "FrobnicateFunction", "Service": "lambda"},
            {"Name": "PassRole", "Service": "iam", "Context": {"iam:PassedToService": ["lambda.amazonaws.com"]}}],
            "SDK": [{"Name": "lambda", "Method": "frobnicate", "Package": "Boto3"}]}]
    });
    let mut stats = model::MergeStats::default();
    model.merge_service_reference("lambda", &doc, &mut stats);
    model.merge_service_reference(
        "brandnew",
        &serde_json::json!({"Actions": [{"Name": "DoIt"}]}),
        &mut stats,
    );
    assert_eq!(
        stats.actions_added,
        vec!["lambda:FrobnicateFunction".to_string(), "brandnew:DoIt".to_string()]
    );
    assert_eq!(stats.services_added, vec!["brandnew".to_string()]);
    assert_eq!(stats.resource_types_added, 1);
    let merged = Catalog::parse_owned(model.write("test", Some(cat().id()))).expect("merged catalog parses");
    assert_eq!(merged.base_id(), Some(cat().id()));
    assert_eq!(merged.action("lambda:InvokeFunction").map(|a| a.access_level()), Some(AccessLevel::Write));
    let frob = merged.action("lambda:frobnicatefunction").expect("new action");
    assert_eq!(frob.access_level(), AccessLevel::Tagging);
    assert_eq!(frob.source(), Source::Update);
    assert_eq!(frob.condition_keys(), vec!["lambda:FrobLevel"]);
    assert_eq!(merged.condition_key("lambda:froblevel").map(|k| k.value_type), Some(ConditionType::Numeric));
    assert!(merged.action("brandnew:DoIt").is_some_and(|a| a.access_level() == AccessLevel::Read));
    let op = merged.operation("lambda", "Frobnicate").expect("op");
    assert_eq!(op.authorized_actions().count(), 2);
    assert!(
        merged.operation("lambda", "Invoke").is_none(),
        "operations of a downloaded service are replaced"
    );
    assert_eq!(merged.action_count(), cat().action_count() + 2);
}

#[test]
fn parse_rejects_bad_input_without_panicking() {
    assert!(matches!(Catalog::parse("nope"), Err(CatalogError::BadHeader { .. })));
    assert!(matches!(Catalog::parse(""), Err(CatalogError::BadHeader { .. })));
    let bad = [
        "iamfit-catalog\t1\tx\nS\tb\tB\tc\nS\ta\tA\tc\n",
        "iamfit-catalog\t1\tx\nA\tX\tR\tc\t\t\t\t\n",
        "iamfit-catalog\t1\tx\nS\ta\tA\tc\nA\tX\tQ\tc\t\t\t\t\n",
        "iamfit-catalog\t1\tx\nS\ta\tA\tc\nA\tX\tR\tc\t0\t\t\t\n",
        "iamfit-catalog\t1\tx\nS\ta\tA\tc\nA\tX\tR\tc\t\t7\t\t\n",
        "iamfit-catalog\t1\tx\nS\ta\tA\tc\nA\tX\tR\tc\n",
        "iamfit-catalog\t1\tx\nS\ta\tA\tc\nA\tb\tR\tc\t\t\t\t\nA\tA\tR\tc\t\t\t\t\n",
        "iamfit-catalog\t1\tx\nZ\n",
    ];
    for text in bad {
        assert!(matches!(Catalog::parse(text), Err(CatalogError::Syntax { .. })), "{text:?}");
    }
    let ok = Catalog::parse("iamfit-catalog\t1\tx\nC\ta:k\tBool\t\nS\ta\tA\tc\nR\tthing\tarn:x\t0\nA\tDo\tW\tc\t0!/0\t0\t\tdesc\n")
        .expect("valid");
    let a = ok.action("a:do").expect("a:Do");
    assert_eq!(a.resource_types()[0].condition_keys, vec!["a:k"]);
}

#[test]
fn multibyte_and_truncated_text_is_an_error_or_a_catalog_not_a_panic() {
    // Multibyte characters beside every tab, line end and template delimiter the parser cuts at.
    let text = "iamfit-catalog\t1\té€\r\n\
        C\ta:é${ü}ß\tString\tdé\n\
        C\ta:ü<é\tString\t\n\
        C\ta:ž<k>€\tString\tü\n\
        S\ta\tÄ\tc\n\
        R\tthing\tarn:é:ü\t0\n\
        A\tDo\tW\tc\t0!/0\t0\t\tdescription ü€\n\
        O\tDoIt\ta:Do\tü\n\
        O\tÉ\ta:Dö\t\n";
    let cat = Catalog::parse_owned(text.to_string()).expect("valid");
    assert_eq!(cat.id(), "é€");
    assert_eq!(cat.condition_key("a:éXß").map(|k| k.name), Some("a:é${ü}ß"));
    assert_eq!(cat.condition_key("a:žx€").map(|k| k.name), Some("a:ž<k>€"));
    assert!(cat.condition_key("a:üx").is_none(), "an unclosed `<` is no template");
    assert_eq!(cat.action("a:do").map(|a| a.description()), Some("description ü€"));
    assert_eq!(cat.operations().len(), 2);
    assert!(cat.operation("a", "É").is_some());
    // Every prefix of the text that is valid UTF-8 (so cut inside lines, fields and templates).
    for end in (0..=text.len()).filter(|&end| text.is_char_boundary(end)) {
        if let Ok(cat) = Catalog::parse_owned(text[..end].to_string()) {
            let _ = cat.operations();
            let _ = cat.condition_key("a:éé");
        }
    }
    // A huge single field.
    let huge =
        format!("iamfit-catalog\t1\tx\nC\ta:{}${{\tString\t{}\n", "é".repeat(100_000), "€".repeat(100_000));
    let cat = Catalog::parse_owned(huge).expect("valid");
    assert_eq!(cat.condition_keys().len(), 1);
}
