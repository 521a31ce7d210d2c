//! `iamfit diff` as Markdown (pull-request comments) and SARIF (code scanning).

use iamfit_core::analyze::diff::report::DiffReport;

use super::render::{call_rows, groups, plural, Group};
use crate::cli::sarif;

fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// The Markdown report: calls, proposals, then the mismatches grouped (one row each with `all`).
pub fn markdown(r: &DiffReport, all: bool) -> String {
    let s = &r.summary;
    let mut out = format!(
        "### iamfit diff: `{}` vs profile `{}`\n\n{} local-only and {} prod-only mismatches over {} actions ({} used).\n\n",
        r.function.name, r.local.profile, s.local_only, s.prod_only, s.actions_compared, s.used_mismatches
    );
    if r.usage_known {
        out += &format!(
            "#### Calls the function made ({}, {} differ)\n\n",
            plural(r.calls.len(), "call"),
            s.calls_differing
        );
        out += "| action | resource | calls | local | prod |\n|---|---|---|---|---|\n";
        for c in call_rows(&r.calls, all) {
            let mark = if c.differs { " **differs**" } else { "" };
            out += &format!(
                "| `{}` | {} | {} | {} | {}{mark} |\n",
                c.action,
                cell(&c.resource),
                c.count,
                c.local,
                c.prod
            );
        }
        out += "\n";
    }
    if !r.proposals.is_empty() {
        out += "#### Proposals (the denial may be intended)\n\n";
        for p in &r.proposals {
            let statement =
                p.statement.as_ref().map(|v| format!("\n\n  ```json\n  {v}\n  ```")).unwrap_or_default();
            let verified =
                if p.verified { "checked: the call is then allowed" } else { "not enough on its own" };
            out += &format!(
                "- `{}` on `{}`: {} layer, blocked by {}; {} ({}){statement}\n",
                p.action, p.resource, p.layer, p.blocked_by, p.change, verified
            );
        }
        out += "\n";
    }
    out += "#### Mismatches\n\n| direction | used | actions | witnesses | local | prod |\n|---|---|---|---|---|---|\n";
    let used = groups(r.mismatches.iter().filter(|m| m.used));
    let rest = groups(r.mismatches.iter().filter(|m| !m.used));
    for g in used.iter().chain(&rest) {
        out += &group_rows(g, all);
    }
    for n in &r.notes {
        out += &format!("\n> {n}\n");
    }
    out
}

fn group_rows(g: &Group<'_>, all: bool) -> String {
    let mut out = String::new();
    let (local, prod) = (cell(&g.local), cell(&g.prod));
    for line in &g.lines {
        if all {
            for m in &line.entries {
                out += &format!(
                    "| {} | {} | `{}` | `{}` | {local} | {prod} |\n",
                    g.direction,
                    if m.used { "yes" } else { "no" },
                    m.action,
                    m.resource
                );
            }
            continue;
        }
        let actions: Vec<String> = line.actions.iter().map(|a| format!("`{}:{a}`", g.service)).collect();
        let witnesses: Vec<String> = line.witnesses.iter().map(|(w, _)| format!("`{w}`")).collect();
        let shown = |list: &[String], n: usize| {
            if list.len() > n {
                format!("{} and {} more", list[..n].join(", "), list.len() - n)
            } else {
                list.join(", ")
            }
        };
        out += &format!(
            "| {} | {} | {} | {} | {local} | {prod} |\n",
            g.direction,
            if line.used() { "yes" } else { "no" },
            shown(&actions, 8),
            shown(&witnesses, 3)
        );
    }
    out
}

/// SARIF: one result per differing call (an error when it works locally and fails in production),
/// and one per group of mismatches (an error when used).
pub fn sarif_log(r: &DiffReport) -> sarif::Log {
    let mut results = Vec::new();
    for c in r.calls.iter().filter(|c| c.differs) {
        let rule = if c.local == "allow" { "call-local-only" } else { "call-prod-only" };
        results.push(sarif::Finding {
            rule,
            level: if c.local == "allow" { "error" } else { "warning" },
            message: format!(
                "{} on {} ({} calls): local {}, prod {}",
                c.action,
                c.resource,
                c.count,
                c.details.local.why(),
                c.details.prod.why()
            ),
            path: None,
            region: None,
        });
    }
    for g in groups(r.mismatches.iter()) {
        for line in &g.lines {
            let actions: Vec<String> = line.actions.iter().map(|a| format!("{}:{a}", g.service)).collect();
            let witnesses: Vec<&str> = line.witnesses.iter().map(|w| w.0).collect();
            results.push(sarif::Finding {
                rule: g.direction,
                level: if line.used() { "error" } else { "warning" },
                message: format!(
                    "{} {} on {}: local {}, prod {}",
                    g.direction,
                    actions.join(", "),
                    witnesses.join(", "),
                    g.local,
                    g.prod
                ),
                path: None,
                region: None,
            });
        }
    }
    sarif::log(&results)
}
