//! `iamfit diff`'s renderers: the table and Markdown read in the order a developer asks: the calls
//! the function makes, the proposals, then the mismatches, used ones first, grouped by action and
//! reason (`--all` lists each one). JSON is the report itself; SARIF has one result per differing
//! call and per group of mismatches.

use serde::Serialize;

use iamfit_core::analyze::diff::proposals::Proposal;
use iamfit_core::analyze::diff::report::{CallEntry, DiffReport, MismatchEntry};

use crate::cli::render::Table;
use crate::cli::report::Report;
use crate::cli::sarif;
use crate::cli::Style;

/// The report with the table's options.
#[derive(Serialize)]
#[serde(transparent)]
pub struct DiffView<'a> {
    /// The report.
    pub report: &'a DiffReport,
    /// Every mismatch on its own line.
    #[serde(skip)]
    pub all: bool,
    /// Names per line before "and N more".
    #[serde(skip)]
    pub per_service: usize,
}

/// Mismatches of one direction and service with the same reasons on both sides.
pub(super) struct Group<'a> {
    pub(super) direction: &'static str,
    pub(super) service: &'a str,
    pub(super) local: String,
    pub(super) prod: String,
    pub(super) lines: Vec<Line<'a>>,
}

/// Actions of a group that share the same witnesses.
pub(super) struct Line<'a> {
    pub(super) actions: Vec<&'a str>,
    pub(super) witnesses: Vec<(&'a str, bool)>,
    pub(super) entries: Vec<&'a MismatchEntry>,
}

impl Group<'_> {
    pub(super) fn used(&self) -> bool {
        self.lines.iter().any(Line::used)
    }
}

impl Line<'_> {
    pub(super) fn used(&self) -> bool {
        self.entries.iter().any(|m| m.used)
    }
}

/// Groups mismatches by (direction, service, reasons), then lines of actions with equal witnesses.
pub(super) fn groups<'a>(mismatches: impl Iterator<Item = &'a MismatchEntry>) -> Vec<Group<'a>> {
    let mut out: Vec<Group<'a>> = Vec::new();
    for m in mismatches {
        let service = m.action.split(':').next().unwrap_or("");
        let (local, prod) = (m.details.local.why(), m.details.prod.why());
        let found = out.iter_mut().find(|g| {
            g.direction == m.direction && g.service == service && g.local == local && g.prod == prod
        });
        let group = match found {
            Some(g) => g,
            None => {
                out.push(Group { direction: m.direction, service, local, prod, lines: Vec::new() });
                let Some(g) = out.last_mut() else { continue };
                g
            }
        };
        let name = m.action.split(':').nth(1).unwrap_or(&m.action);
        match group.lines.iter_mut().find(|l| l.actions.contains(&name)) {
            Some(line) => {
                line.witnesses.push((&m.resource, m.used));
                line.entries.push(m);
            }
            None => group.lines.push(Line {
                actions: vec![name],
                witnesses: vec![(&m.resource, m.used)],
                entries: vec![m],
            }),
        }
    }
    for g in &mut out {
        merge_lines(g);
    }
    out.sort_by(|a, b| (a.direction, a.service, !a.used()).cmp(&(b.direction, b.service, !b.used())));
    out
}

/// Merges the lines (one per action so far) of actions whose witnesses are the same.
fn merge_lines(group: &mut Group<'_>) {
    let mut merged: Vec<Line<'_>> = Vec::new();
    for line in std::mem::take(&mut group.lines) {
        let same = |l: &Line<'_>| {
            l.witnesses.iter().map(|w| w.0).eq(line.witnesses.iter().map(|w| w.0)) && l.used() == line.used()
        };
        match merged.iter_mut().find(|l| same(l)) {
            Some(l) => {
                l.actions.extend(line.actions);
                l.entries.extend(line.entries);
                for (w, used) in line.witnesses {
                    if let Some(x) = l.witnesses.iter_mut().find(|x| x.0 == w) {
                        x.1 |= used;
                    }
                }
            }
            None => merged.push(line),
        }
    }
    // Used lines first, then the most specific (fewest actions).
    merged.sort_by_key(|l| (!l.used(), l.actions.len()));
    group.lines = merged;
}

/// The first `n` names and "and K more".
fn some(names: &[String], n: usize) -> String {
    if names.len() > n.max(1) {
        format!("{} and {} more", names[..n.max(1)].join(", "), names.len() - n.max(1))
    } else {
        names.join(", ")
    }
}

pub(super) fn plural(n: usize, word: &str) -> String {
    let suffix = match (n, word.ends_with('s') || word.ends_with("ch")) {
        (1, _) => "",
        (_, true) => "es",
        _ => "s",
    };
    format!("{n} {word}{suffix}")
}

impl DiffView<'_> {
    fn header(&self, style: &Style) -> String {
        let r = self.report;
        let s = &r.summary;
        format!(
            "{} function {} runs as {}\n     profile {} is {}\ncompared {} actions: {} local-only and {} prod-only mismatches ({} used)\n",
            style.bold("iamfit diff"),
            style.bold(&r.function.name),
            r.labels.prod,
            style.bold(&r.local.profile),
            r.labels.local,
            s.actions_compared,
            s.local_only,
            s.prod_only,
            s.used_mismatches
        )
    }

    fn calls_table(&self, style: &Style) -> String {
        let r = self.report;
        if !r.usage_known {
            return String::new();
        }
        let mut out = format!(
            "\n{} {}\n",
            style.bold("CALLS"),
            style.dim(&format!(
                "(what the function did, each call evaluated as both principals: {}, {} differ)",
                plural(r.calls.len(), "call"),
                r.summary.calls_differing
            ))
        );
        if r.calls.is_empty() {
            return out + "  the trail shows no call of the function in the window\n";
        }
        let mut t = Table::new(["", "action", "resource", "calls", "local", "prod"]);
        for row in call_rows(&r.calls, self.all) {
            let mark = if row.differs { style.verdict("DIFFERS") } else { String::new() };
            t.row([
                mark,
                row.action,
                row.resource,
                row.count,
                style.verdict(row.local),
                style.verdict(row.prod),
            ]);
        }
        out += &t.render();
        out += &call_context_lines(&r.calls, self.all, style);
        out
    }

    fn proposals_text(&self, style: &Style) -> String {
        let r = self.report;
        let mut out = String::new();
        if !r.proposals.is_empty() {
            out += &format!(
                "\n{} {}\n",
                style.bold("PROPOSALS"),
                style.dim("(calls that work locally and fail in production: the least change that would allow exactly that call; the denial may be intended)")
            );
            out += &proposal_lines(&r.proposals, style);
        }
        let rep = &r.reproduce;
        if !rep.needs.is_empty() {
            out += &format!(
                "\n{} {}\n",
                style.bold("PROD-ONLY CALLS"),
                style.dim(
                    "(the function may, your profile may not: a local run fails where production works)"
                )
            );
            let assume = match rep.may_assume {
                Some(true) => "your profile may assume the role".to_string(),
                Some(false) => format!(
                    "your profile may not assume the role today: see iamfit trust --function {}",
                    r.function.name
                ),
                None => "whether your profile may assume the role is unknown".to_string(),
            };
            out += &format!("  run the code as the role to reproduce production: {} ({assume})\n", rep.exec);
            out += "  or give your profile what it lacks:\n";
            out += &proposal_lines(&rep.needs, style);
        }
        out
    }

    fn mismatch_sections(&self, style: &Style) -> String {
        let r = self.report;
        let mut out = String::new();
        let used: Vec<Group<'_>> = groups(r.mismatches.iter().filter(|m| m.used));
        if !used.is_empty() {
            out += &format!(
                "\n{} {}\n",
                style.bold("USED MISMATCHES"),
                style.dim("(the trail shows the function calling these actions on these witnesses)")
            );
            out += &self.group_lines(&used, style, true);
        }
        for (direction, title, meaning) in [
            ("local-only", "LOCAL-ONLY", "works locally, fails in production"),
            (
                "prod-only",
                "PROD-ONLY",
                "the function may, your profile may not: cannot be reproduced locally",
            ),
        ] {
            let list: Vec<Group<'_>> =
                groups(r.mismatches.iter().filter(|m| !m.used && m.direction == direction));
            if list.is_empty() {
                continue;
            }
            let n: usize = list.iter().flat_map(|g| &g.lines).map(|l| l.entries.len()).sum();
            out += &format!(
                "\n{} {}\n",
                style.bold(title),
                style.dim(&format!("({meaning}; {})", plural(n, "mismatch")))
            );
            out += &self.group_lines(&list, style, false);
        }
        out
    }

    fn group_lines(&self, list: &[Group<'_>], style: &Style, with_direction: bool) -> String {
        let mut out = String::new();
        let mut service = None;
        for g in list {
            if service != Some((g.direction, g.service)) {
                let dir = if with_direction { format!(" {}", style.dim(g.direction)) } else { String::new() };
                let n: usize = list
                    .iter()
                    .filter(|x| x.direction == g.direction && x.service == g.service)
                    .flat_map(|x| &x.lines)
                    .map(|l| l.entries.len())
                    .sum();
                out += &format!("  {}{dir} ({})\n", style.bold(g.service), plural(n, "mismatch"));
                service = Some((g.direction, g.service));
            }
            for line in &g.lines {
                out += &self.line_text(line, style);
            }
            out += &format!("      local: {}\n      prod:  {}\n", g.local, g.prod);
        }
        out
    }

    fn line_text(&self, line: &Line<'_>, style: &Style) -> String {
        let used = if line.used() { format!("{} ", style.verdict("USED")) } else { String::new() };
        if self.all {
            return line
                .entries
                .iter()
                .map(|m| {
                    let u = if m.used { format!("{} ", style.verdict("USED")) } else { String::new() };
                    format!("    {u}{} on {}\n", m.action.split(':').nth(1).unwrap_or(&m.action), m.resource)
                })
                .collect();
        }
        let actions: Vec<String> = line.actions.iter().map(|a| a.to_string()).collect();
        let mut witnesses: Vec<String> = line
            .witnesses
            .iter()
            .map(|(w, u)| if *u { format!("{w} (used)") } else { w.to_string() })
            .collect();
        witnesses.sort_by_key(|w| !w.ends_with("(used)"));
        let count = if actions.len() > 1 { format!(" ({} actions)", actions.len()) } else { String::new() };
        let on = if witnesses.len() > 1 {
            format!("{}: ", plural(witnesses.len(), "witness"))
        } else {
            String::new()
        };
        format!(
            "    {used}{}{count}\n      on {on}{}\n",
            some(&actions, self.per_service),
            some(&witnesses, 3.min(self.per_service))
        )
    }

    fn notes(&self, style: &Style) -> String {
        let r = self.report;
        let mut out = String::new();
        if r.mismatches.is_empty() {
            out += "\nno mismatches: the profile and the function role allow the same actions\n";
        } else if !self.all {
            out += &format!(
                "\n{}\n",
                style.dim("every mismatch on its own line: --all; with its deciding statements: -o json")
            );
        }
        if !r.notes.is_empty() {
            out += "\n";
            for n in &r.notes {
                out += &format!("{} {n}\n", style.dim("note:"));
            }
        }
        out
    }
}

/// One row of the calls table: a call, or (without `--all`) the agreeing calls of one action with the
/// same decisions.
pub(super) struct CallRow {
    pub(super) differs: bool,
    pub(super) action: String,
    pub(super) resource: String,
    pub(super) count: String,
    pub(super) local: &'static str,
    pub(super) prod: &'static str,
}

pub(super) fn call_rows(calls: &[CallEntry], all: bool) -> Vec<CallRow> {
    let count = |count: u64, denied: u64| match denied {
        0 => count.to_string(),
        d if d == count => format!("{count} denied"),
        d => format!("{count} ({d} denied)"),
    };
    let mut rows: Vec<CallRow> = Vec::new();
    let mut groups: Vec<(&CallEntry, Vec<&CallEntry>)> = Vec::new();
    for c in calls {
        if all || c.differs {
            rows.push(CallRow {
                differs: c.differs,
                action: c.action.clone(),
                resource: c.resource.clone(),
                count: count(c.count, c.denied),
                local: c.local,
                prod: c.prod,
            });
            continue;
        }
        match groups.iter_mut().find(|(k, _)| k.action == c.action && k.local == c.local && k.prod == c.prod)
        {
            Some((_, list)) => list.push(c),
            None => groups.push((c, vec![c])),
        }
    }
    for (first, list) in groups {
        let resource = match list.len() {
            1 => first.resource.clone(),
            n => format!("{n} resources ({} and {} more)", first.resource, n - 1),
        };
        rows.push(CallRow {
            differs: false,
            action: first.action.clone(),
            resource,
            count: count(list.iter().map(|c| c.count).sum(), list.iter().map(|c| c.denied).sum()),
            local: first.local,
            prod: first.prod,
        });
    }
    rows
}

/// The request context lines under the calls table (for the calls that differ, or every call with
/// `--all`): keys the events gave, and what was assumed.
fn call_context_lines(calls: &[CallEntry], all: bool, style: &Style) -> String {
    let mut out = String::new();
    for c in calls.iter().filter(|c| (all || c.differs) && c.context.values().any(|v| v != "absent")) {
        let keys: Vec<String> =
            c.context.iter().filter(|(_, v)| *v != "absent").map(|(k, v)| format!("{k}={v}")).collect();
        out += &format!("  {} {} on {}: {}\n", style.dim("context:"), c.action, c.resource, keys.join(", "));
    }
    let mut assumed: Vec<&String> = calls.iter().flat_map(|c| &c.assumed).collect();
    assumed.sort();
    assumed.dedup();
    for a in assumed {
        out += &format!("  {} {a}\n", style.dim("assumed:"));
    }
    out
}

/// Proposals by call: each call's steps, numbered when there are several, and whether evaluating the
/// call again with all of them allows it.
fn proposal_lines(list: &[Proposal], style: &Style) -> String {
    let mut out = String::new();
    let mut calls: Vec<Vec<&Proposal>> = Vec::new();
    for p in list {
        match calls.last_mut() {
            Some(steps)
                if steps.first().is_some_and(|f| f.action == p.action && f.resource == p.resource) =>
            {
                steps.push(p)
            }
            _ => calls.push(vec![p]),
        }
    }
    for steps in calls {
        let Some(first) = steps.first() else { continue };
        out += &format!("  {} on {}\n", style.bold(&first.action), first.resource);
        for (n, p) in steps.iter().enumerate() {
            let number = if steps.len() > 1 { format!("{}. ", n + 1) } else { String::new() };
            out += &format!("    {number}blocked by ({} layer): {}\n", p.layer, blocked_by(p));
            let note = if p.note.is_empty() { String::new() } else { format!(" ({})", p.note) };
            out += &format!(
                "    {}{} {}{note}\n",
                " ".repeat(number.len()),
                style.verdict("proposal:"),
                change(p)
            );
            if let Some(st) = &p.statement {
                out += &format!("      {}{st}\n", " ".repeat(number.len()));
            }
        }
        let verified = steps.iter().all(|p| p.verified);
        let checked = match (verified, steps.len()) {
            (true, 1) => "evaluated again with the change: the call is allowed".to_string(),
            (true, n) => format!("evaluated again with the {n} changes: the call is allowed"),
            (false, _) => "the call stays denied by a layer iamfit does not change".to_string(),
        };
        out += &format!("    {} {checked}\n", style.dim("checked:"));
    }
    out
}

fn blocked_by(p: &Proposal) -> String {
    match p.blocked_by {
        "explicit-deny" => format!("explicit deny {}", p.policy.as_deref().unwrap_or("")),
        "no-allow" => "no identity-based policy allows it".to_string(),
        "boundary" => format!("the permissions boundary {}", p.policy.as_deref().unwrap_or("")),
        other => other.replace('-', " "),
    }
}

fn change(p: &Proposal) -> &'static str {
    match p.change {
        "add-statement" => "add this statement",
        "remove-resource" => "remove the resource from the denying statement",
        "remove-action" => "remove the action from the denying statement",
        "remove-statement" => "remove (or narrow) the denying statement",
        _ => "nothing iamfit can change",
    }
}

impl Report for DiffView<'_> {
    fn table(&self, style: &Style) -> String {
        let mut out = self.header(style);
        out += &self.calls_table(style);
        out += &self.proposals_text(style);
        out += &self.mismatch_sections(style);
        out += &self.notes(style);
        out
    }

    fn markdown(&self) -> String {
        super::markdown::markdown(self.report, self.all)
    }

    fn sarif(&self) -> Option<sarif::Log> {
        Some(super::markdown::sarif_log(self.report))
    }
}
