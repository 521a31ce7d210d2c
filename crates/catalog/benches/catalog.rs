//! Load time of the embedded IAM action catalog, and the cost of the main queries.
//!
//! `cargo bench --bench catalog`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::string_slice, missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion};
use iamfit_catalog::Catalog;

fn bench(c: &mut Criterion) {
    let text = Catalog::embedded_text();
    c.bench_function("catalog_parse_validating", |b| {
        b.iter(|| Catalog::parse(text).map(|c| c.action_count()))
    });
    c.bench_function("catalog_load_embedded", |b| {
        b.iter(|| iamfit_catalog::bench_load_embedded().action_count())
    });
    c.bench_function("catalog_operations_first_use", |b| {
        b.iter_batched(
            iamfit_catalog::bench_load_embedded,
            |cat| cat.operations().len(),
            criterion::BatchSize::LargeInput,
        )
    });
    let cat = Catalog::embedded();
    c.bench_function("catalog_action_lookup", |b| b.iter(|| cat.action("s3:getobject").is_some()));
    c.bench_function("catalog_expand_service", |b| b.iter(|| cat.expand("s3:Get*").len()));
    c.bench_function("catalog_expand_all_services", |b| b.iter(|| cat.expand("*:Describe*").len()));
    c.bench_function("catalog_condition_key_template", |b| {
        b.iter(|| cat.condition_key("aws:ResourceTag/team").is_some())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches, base);
fn baseline(c: &mut Criterion) {
    let text = Catalog::embedded_text();
    c.bench_function("baseline_count_lines", |b| b.iter(|| text.lines().count()));
    c.bench_function("baseline_count_newlines_bytes", |b| {
        b.iter(|| text.bytes().filter(|&b| b == b'\n').count())
    });
}
criterion_group!(base, baseline);
