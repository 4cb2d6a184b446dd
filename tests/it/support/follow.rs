//! Following a finding's printed fix as an operator would, on a [`World`] and a tree: the
//! fix's first alternative (lines that start with `or `, or a `, or ` outside parentheses
//! in a one-line fix, are the others; a caller may pick one), line by line ([`follow`]).
//!
//! Every zone-file record in a line (`owner. IN TYPE rdata`, also inside a sentence such as
//! "ask the provider … : 10.2.0.192.in-addr.arpa. IN PTR mail.example.org.") is published as
//! a DNS panel does: at its owner, the records of its type that the finding's `found` shows
//! make way for it. Every sentence of advice a line holds becomes an action on the world or
//! the tree ([`read_line`]), done as literally as it reads: "ask the provider" is the
//! provider publishing that PTR; "request removal" at a blocklist's page is the list dropping
//! the entry; "wait until ns2 has loaded the newest zone" is ns2 transferring it;
//! `answers: key = value, then mailsetup apply` edits the answers file and runs
//! `apply --yes`. A line that yields no action is an error: new advice is taught here, never
//! skipped. A finding with no fix is followed by its message (`dns.propagating`: "visible
//! everywhere by about …" is waiting for the caches to run out).
//!
//! Two texts are held against each other on the way: a TXT fix's web-form alternative must
//! name the record of its zone-file line (name relative to the zone, value), and a fix that
//! publishes one record must have an `expected` that shows the record's value.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::net::IpAddr;
use std::sync::Arc;

use super::world::World;
use super::zonefile::{Rr, Zone, records_in};
use super::{Run, Tree};

/// The answers file of a tree, inside it: what `mailsetup` is given, and what a fix that
/// says to change the answers edits.
pub const ANSWERS_IN_TREE: &str = "/answers.toml";

/// The selector a case picks when a fix asks for "a new selector".
pub const NEW_SELECTOR: &str = "s2048";

/// A finding as `check --json` prints it.
#[derive(Debug, Clone)]
pub struct Found {
    pub id: String,
    pub severity: String,
    pub subject: String,
    pub message: String,
    pub found: Option<String>,
    pub expected: Option<String>,
    pub fix: Option<String>,
}

impl Found {
    /// `severity id subject`.
    pub fn line(&self) -> String {
        format!("{} {} {}", self.severity, self.id, self.subject)
    }
}

/// The findings of a `check --json` report.
pub fn parse_report(json: &str) -> Result<Vec<Found>, String> {
    let v: serde_json::Value =
        serde_json::from_str(json).map_err(|e| format!("not JSON ({e}): {json}"))?;
    let text = |f: &serde_json::Value, k: &str| f[k].as_str().map(String::from);
    Ok(v["findings"]
        .as_array()
        .ok_or_else(|| format!("no findings[]: {json}"))?
        .iter()
        .map(|f| Found {
            id: text(f, "id").unwrap_or_default(),
            severity: text(f, "severity").unwrap_or_default(),
            subject: text(f, "subject").unwrap_or_default(),
            message: text(f, "message").unwrap_or_default(),
            found: text(f, "found"),
            expected: text(f, "expected"),
            fix: text(f, "fix"),
        })
        .collect())
}

/// The answers file of `tree` ([`ANSWERS_IN_TREE`]), as an argument.
pub fn answers_path(tree: &Tree) -> String {
    tree.path(ANSWERS_IN_TREE).display().to_string()
}

/// Set `key = value` (TOML, as the fix prints it) in the tree's answers file.
fn set_answers(tree: &Tree, assignments: &[(String, String)]) {
    let text = tree.read(ANSWERS_IN_TREE);
    let key = |l: &str| l.split('=').next().unwrap_or("").trim().to_string();
    let mut lines: Vec<String> = text
        .lines()
        .filter(|l| !assignments.iter().any(|(k, _)| key(l) == *k))
        .map(String::from)
        .collect();
    lines.extend(assignments.iter().map(|(k, v)| format!("{k} = {v}")));
    tree.write(ANSWERS_IN_TREE, &(lines.join("\n") + "\n"));
}

/// `mailsetup ARGS` on `tree`, off the async workers (the lab answers meanwhile).
pub async fn mailsetup(tree: &Arc<Tree>, args: Vec<String>) -> Run {
    let tree = Arc::clone(tree);
    tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        tree.run(&refs)
    })
    .await
    .unwrap()
}

/// `apply --yes` with the tree's answers; Err with the output unless it exits 0.
pub async fn apply(tree: &Arc<Tree>) -> Result<String, String> {
    let args = ["apply", "--yes", "--answers", &answers_path(tree)];
    let run = mailsetup(tree, args.map(String::from).to_vec()).await;
    if run.code == 0 {
        Ok(run.stdout)
    } else {
        Err(format!(
            "apply exited {}\n{}{}",
            run.code, run.stdout, run.stderr
        ))
    }
}

/// `mailsetup rotate --domain D` as an operator follows it: the first run makes the key and
/// gives up waiting (nothing published), the record it names is published (the key's
/// `<selector>.txt`, the record file beside it), and the second run switches. Err unless the
/// second run exits 0.
async fn rotate(tree: &Arc<Tree>, world: &mut World, domain: &str) -> Result<(), String> {
    let first = run_rotate(tree, world, domain, "0").await;
    if first.code != 1 {
        return Err(format!(
            "rotate (nothing published) exited {}\n{}{}",
            first.code, first.stdout, first.stderr
        ));
    }
    let state = tree.read("/var/lib/mailsetup/rotation.json");
    let selector = state
        .split("\"new_selector\": \"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .ok_or_else(|| format!("no new selector in the rotation state:\n{state}"))?
        .to_string();
    let record = tree.read(&format!("/etc/opendkim/keys/{domain}/{selector}.txt"));
    let zone = Zone::parse(&format!("$ORIGIN {domain}.\n{record}"));
    if zone.records.is_empty() {
        return Err(format!("no record in {selector}.txt: {record}"));
    }
    for rr in zone.records {
        publish(world, rr, None, None)?;
    }
    let second = run_rotate(tree, world, domain, "10").await;
    if second.code != 0 {
        return Err(format!(
            "rotate (published) exited {}\n{}{}",
            second.code, second.stdout, second.stderr
        ));
    }
    Ok(())
}

/// `rotate --domain D --timeout T` with `world` served.
async fn run_rotate(tree: &Arc<Tree>, world: &World, domain: &str, timeout: &str) -> Run {
    let running = world.start().await;
    let mut args: Vec<String> = [
        "rotate",
        "--yes",
        "--answers",
        &answers_path(tree),
        "--domain",
        domain,
        "--timeout",
        timeout,
        "--interval",
        "1",
    ]
    .map(String::from)
    .to_vec();
    args.extend(running.args());
    let run = mailsetup(tree, args).await;
    drop(running);
    run
}

/// `check --json` on `tree` with `world` served.
pub async fn check(tree: &Arc<Tree>, world: &World) -> Result<Vec<Found>, String> {
    let running = world.start().await;
    let mut args: Vec<String> = ["check", "--json", "--answers", &answers_path(tree)]
        .map(String::from)
        .to_vec();
    args.extend(running.args());
    let run = mailsetup(tree, args).await;
    drop(running);
    if !matches!(run.code, 0 | 1) {
        return Err(format!(
            "check exited {}\n{}{}",
            run.code, run.stdout, run.stderr
        ));
    }
    parse_report(&run.stdout)
}

/// What a fix says to do, one step.
#[derive(Debug, Clone)]
enum Action {
    /// Publish this record: at its owner, the records of its type that the finding's `found`
    /// shows go, this one comes (a DNS panel's edit).
    Publish(Rr),
    /// The record(s) that follow belong in this zone ("publish in the zone of X:").
    InZone(String),
    /// "delete the record at NAME" / "remove NAME a few days later": every record there.
    Delete(String),
    /// "wait until NS has loaded the newest zone" / "… has transferred the zone".
    Transfer(String),
    /// "make NS serve the zone Z".
    Serve(String, String),
    /// "publish the address (A) of NS": its machine's address.
    PublishAddress(String),
    /// "remove NS from the NS records of Z".
    Unlist(String, String),
    /// "request removal" at a blocklist's page: the list drops this server's entry.
    Delist(String),
    /// "replace include:, a and mx terms by the ip4:/ip6: ranges they stand for".
    FlattenSpf,
    /// "remove the terms whose names do not exist or have no records".
    DropVoidTerms,
    /// `key = value` in the answers file.
    Answers(Vec<(String, String)>),
    /// "remove the lines of selector S from FILE": the lines of that file of the tree whose
    /// key name (second field) is the selector's (`S._domainkey.…`).
    RemoveSelectorLines(String, String),
    /// `mailsetup apply` (with `--yes` and the answers).
    Apply,
    /// `mailsetup rotate --domain D`: start the rotation, publish the new record it prints
    /// (the key's `<selector>.txt`), and run it again to switch.
    Rotate(String),
    /// Publish the record `mailsetup records` prints at the DKIM selector ("its record") or
    /// at `_dmarc` ("the DMARC record"), for the finding's domain.
    PublishPrinted(Printed),
    /// The first-hop resolver's cache runs out ("visible everywhere by about …").
    Wait,
}

impl Action {
    /// For the report: a published record by owner, type and the start of its value.
    fn brief(&self) -> String {
        match self {
            Action::Publish(rr) => {
                let shown = rr.shown();
                let cut: String = shown.chars().take(48).collect();
                let more = if cut.len() < shown.len() { "…" } else { "" };
                format!("publish {} {} {cut}{more}", rr.owner, rr.rtype)
            }
            other => format!("{other:?}"),
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Printed {
    Dkim,
    Dmarc,
}

/// The alternatives of a fix: groups of lines, a new one at each line starting with `or `
/// (`either ` and `or ` dropped); a one-line fix is split at a `, or ` outside parentheses.
fn alternatives(fix: &str) -> Vec<String> {
    let mut groups: Vec<Vec<&str>> = Vec::new();
    for line in fix.lines() {
        let alt = line.strip_prefix("or ");
        if alt.is_some() || groups.is_empty() {
            groups.push(Vec::new());
        }
        let line = alt.unwrap_or(line);
        groups
            .last_mut()
            .unwrap()
            .push(line.strip_prefix("either ").unwrap_or(line));
    }
    if let [one] = groups.as_slice()
        && let [line] = one.as_slice()
        && let Some(at) = outside_parentheses(line, ", or ")
    {
        return vec![line[..at].to_string(), line[at + 5..].to_string()];
    }
    groups.iter().map(|g| g.join("\n")).collect()
}

/// Where `pat` first occurs in `s` outside parentheses.
fn outside_parentheses(s: &str, pat: &str) -> Option<usize> {
    let mut depth = 0i32;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ if depth == 0 && s[i..].starts_with(pat) => return Some(i),
            _ => {}
        }
    }
    None
}

/// The word after `prefix` in `line` (up to whitespace), without trailing `,` `;` `:` `.`.
fn word_after<'a>(line: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = &line[line.find(prefix)? + prefix.len()..];
    let word = rest.split_whitespace().next()?;
    Some(word.trim_end_matches([',', ';', ':', '.']))
}

/// The actions one line of a fix asks for, in the order the line says them (empty: it asks
/// for nothing this follower knows).
fn read_line(line: &str) -> Result<Vec<Action>, String> {
    // "…; if it stays behind, …" is what to do when the first advice has not helped
    let line = line.split("; if ").next().unwrap_or(line);
    let at = |phrase: &str| line.find(phrase).unwrap_or(0);
    let mut actions: Vec<(usize, Action)> = Vec::new();
    if let Some(zone) = word_after(line, "publish in the zone of ") {
        actions.push((at("publish in"), Action::InZone(zone.to_string())));
    }
    if let Some(name) = word_after(line, "delete the record at ") {
        actions.push((at("delete"), Action::Delete(name.to_string())));
    }
    if let Some(rest) = line.split("wait until ").nth(1)
        && let Some((names, _)) = rest
            .split_once(" has loaded the newest zone")
            .or_else(|| rest.split_once(" has transferred the zone"))
    {
        for server in names.split(", ") {
            let name = server.split_whitespace().next().unwrap_or(server);
            actions.push((at("wait until"), Action::Transfer(name.to_string())));
        }
    }
    if let (Some(ns), Some(zone)) = (
        word_after(line, "make "),
        word_after(line, " serve the zone "),
    ) {
        let serve = Action::Serve(ns.to_string(), zone.to_string());
        actions.push((at("make "), serve));
    }
    if let Some(ns) = word_after(line, "publish the address (A) of ") {
        let publish = Action::PublishAddress(ns.to_string());
        actions.push((at("publish the address"), publish));
    }
    if let (Some(ns), Some(zone)) = (
        word_after(line, "remove "),
        word_after(line, " from the NS records of "),
    ) {
        let unlist = Action::Unlist(ns.to_string(), zone.to_string());
        actions.push((at("remove "), unlist));
    }
    if line.contains("request removal")
        && let Some(page) = word_after(line, "at https://")
    {
        let delist = Action::Delist(format!("https://{page}"));
        actions.push((at("request removal"), delist));
    }
    let flatten = "replace include:, a and mx terms by the ip4:/ip6: ranges they stand for";
    if line.contains(flatten) {
        actions.push((at(flatten), Action::FlattenSpf));
    }
    let void = "remove the terms whose names do not exist or have no records";
    if line.contains(void) {
        actions.push((at(void), Action::DropVoidTerms));
    }
    if let Some(rest) = line.split("answers: ").nth(1) {
        // up to the end of the parenthesis, the clause or the sentence
        let end = [")", ";", ", then"]
            .iter()
            .filter_map(|e| rest.find(e))
            .min()
            .unwrap_or(rest.len());
        let answers = Action::Answers(assignments_of(&rest[..end])?);
        actions.push((at("answers: "), answers));
    } else if let Some((before, _)) = line.split_once(" in the answers") {
        let assignment = before.rsplit(": ").next().unwrap_or(before);
        let answers = Action::Answers(assignments_of(assignment)?);
        actions.push((at(assignment), answers));
    }
    if let (Some(selector), Some(file)) = (
        word_after(line, "remove the lines of selector "),
        line.split_once("remove the lines of selector ")
            .and_then(|(_, rest)| word_after(rest, " from ")),
    ) {
        let remove = Action::RemoveSelectorLines(selector.to_string(), file.to_string());
        actions.push((at("remove the lines of selector"), remove));
    }
    if line.contains("mailsetup apply") {
        actions.push((at("mailsetup apply"), Action::Apply));
    }
    if let Some(domain) = word_after(line, "mailsetup rotate --domain ") {
        let domain = domain.trim_end_matches(['`', ')', ',', ';']).to_string();
        actions.push((at("mailsetup rotate"), Action::Rotate(domain)));
    }
    if line.contains("publish its record") {
        let printed = Action::PublishPrinted(Printed::Dkim);
        actions.push((at("publish its record"), printed));
    }
    let dmarc = "publish the DMARC record `mailsetup records` prints";
    if line.contains(dmarc) {
        actions.push((at(dmarc), Action::PublishPrinted(Printed::Dmarc)));
    }
    if let Some((before, _)) = line.split_once(" a few days later")
        && let Some(name) = before.rsplit(' ').next()
    {
        actions.push((before.len() - name.len(), Action::Delete(name.to_string())));
    }
    if line.contains("visible everywhere by about") {
        actions.push((at("visible everywhere"), Action::Wait));
    }
    for rr in records_in(line) {
        let owner = at(&format!("{}.", rr.owner));
        actions.push((owner, Action::Publish(rr)));
    }
    actions.sort_by_key(|(at, _)| *at);
    Ok(actions.into_iter().map(|(_, a)| a).collect())
}

/// `key = value and …` (as a fix prints them); "a new selector" picks [`NEW_SELECTOR`].
fn assignments_of(text: &str) -> Result<Vec<(String, String)>, String> {
    text.split(" and ")
        .map(|a| match a.split_once(" = ") {
            Some((k, v)) => Ok((k.trim().to_string(), v.trim().to_string())),
            None if a.trim() == "a new selector" => {
                Ok(("selector".into(), format!("\"{NEW_SELECTOR}\"")))
            }
            None => Err(format!("not an answers assignment: {a:?}")),
        })
        .collect()
}

/// The web-form alternative of a TXT fix names the same record as its zone-file line: the
/// name relative to the zone (`@` for the apex), the type, the value as one string.
fn web_form_agrees(alternatives: &[String], world: &World) -> Result<(), String> {
    for pair in alternatives.windows(2) {
        let Some(form) = pair[1].strip_prefix("in a web form: name ") else {
            continue;
        };
        let rr = records_in(&pair[0])
            .pop()
            .ok_or_else(|| format!("a web form with no zone-file line before it: {form}"))?;
        let origin = world
            .zone_of(&rr.owner)
            .map(|z| z.origin.clone())
            .unwrap_or_default();
        let relative = if rr.owner == origin {
            "@".to_string()
        } else {
            rr.owner
                .strip_suffix(&format!(".{origin}"))
                .unwrap_or(&rr.owner)
                .to_string()
        };
        let want = format!("{relative}, type {}, value {}", rr.rtype, rr.shown());
        if form != want {
            return Err(format!(
                "the web form says {form:?}, the zone-file line {:?} (zone {origin})",
                rr.line()
            ));
        }
    }
    Ok(())
}

/// When the fix publishes one record and the finding has an `expected`, that shows the
/// record's value (a TXT value exactly; otherwise ignoring case and trailing dots).
fn expected_agrees(f: &Found, actions: &[Action]) -> Result<(), String> {
    let published: Vec<&Rr> = actions
        .iter()
        .filter_map(|a| match a {
            Action::Publish(rr) => Some(rr),
            _ => None,
        })
        .collect();
    match (published.as_slice(), &f.expected) {
        ([rr], Some(expected)) if !rr.is_named_by(expected) => Err(format!(
            "expected {expected:?} does not show the value of the record the fix publishes, \
             {rr}"
        )),
        _ => Ok(()),
    }
}

/// Where a case stands while its fixes are followed.
pub struct Following<'a> {
    pub world: &'a mut World,
    pub tree: &'a Arc<Tree>,
    /// Whether the tree may be written (`mailsetup apply`); else such a fix is an error.
    pub writes: bool,
    /// What was done, for the report.
    pub log: Vec<String>,
}

impl<'a> Following<'a> {
    pub fn new(world: &'a mut World, tree: &'a Arc<Tree>, writes: bool) -> Following<'a> {
        Following {
            world,
            tree,
            writes,
            log: Vec::new(),
        }
    }
}

/// Follow the `alternative`-th alternative of `f`'s fix (its message when it has none).
pub async fn follow(f: &Found, alternative: usize, st: &mut Following<'_>) -> Result<(), String> {
    let text = f.fix.clone().unwrap_or_else(|| f.message.clone());
    let alts = alternatives(&text);
    web_form_agrees(&alts, st.world)?;
    let chosen = alts
        .get(alternative)
        .ok_or_else(|| format!("the fix has no alternative {alternative}: {text:?}"))?;
    let mut actions = Vec::new();
    for line in chosen.lines() {
        let these = read_line(line)?;
        if these.is_empty() {
            return Err(format!("the sweep does not know how to follow {line:?}"));
        }
        actions.extend(these);
    }
    expected_agrees(f, &actions)?;
    let mut zone_hint = None;
    for action in actions {
        st.log
            .push(format!("{} {}: {}", f.id, f.subject, action.brief()));
        perform(action, f, &mut zone_hint, st).await?;
    }
    Ok(())
}

async fn perform(
    action: Action,
    f: &Found,
    zone_hint: &mut Option<String>,
    st: &mut Following<'_>,
) -> Result<(), String> {
    let world = &mut *st.world;
    match action {
        Action::Publish(rr) => publish(world, rr, f.found.as_deref(), zone_hint.as_deref())?,
        Action::InZone(zone) => *zone_hint = Some(zone),
        Action::Delete(name) => {
            let origin = origin_of(world, &name)?;
            let gone = world.edit(&origin, |z| z.remove(|r| r.owner == name));
            if gone == 0 {
                return Err(format!("no record at {name} to delete"));
            }
        }
        Action::Transfer(ns) => {
            let server = world.server_named(&ns);
            world.sync(server);
        }
        Action::Serve(ns, zone) => {
            let server = world.server_named(&ns);
            world.serve(server, &zone);
        }
        Action::PublishAddress(ns) => {
            let addr = world
                .machines
                .get(&ns)
                .ok_or_else(|| format!("which machine is {ns}?"))?;
            let rr = Rr {
                owner: ns.clone(),
                rtype: "A".into(),
                rdata: vec![addr.to_string()],
            };
            publish(world, rr, None, None)?;
        }
        Action::Unlist(ns, zone) => {
            let gone = world.edit(&zone, |z| {
                z.remove(|r| r.owner == zone && r.rtype == "NS" && r.is_shown_by(&ns))
            });
            if gone == 0 {
                return Err(format!("{zone} lists no NS {ns}"));
            }
        }
        Action::Delist(page) => delist(world, &page, &f.subject)?,
        Action::FlattenSpf => {
            let record = spf_record(world, &f.subject)?;
            let terms = flatten(world, &f.subject, &mut Vec::new())?;
            set_spf(world, &f.subject, &record, &terms);
        }
        Action::DropVoidTerms => {
            let record = spf_record(world, &f.subject)?;
            let terms: Vec<String> = record
                .split_whitespace()
                .skip(1)
                .filter(|t| !is_void(world, &f.subject, t))
                .map(String::from)
                .collect();
            set_spf(world, &f.subject, &record, &terms);
        }
        Action::Answers(assignments) => {
            if !st.writes {
                return Err("the fix edits the answers: mark the case as writing".into());
            }
            set_answers(st.tree, &assignments);
        }
        Action::RemoveSelectorLines(selector, file) => {
            if !st.writes {
                return Err(format!("the fix edits {file}: mark the case as writing"));
            }
            let key = format!("{selector}._domainkey.");
            let text = st.tree.read(&file);
            let kept: String = text
                .lines()
                .filter(|l| {
                    !l.split_whitespace()
                        .nth(1)
                        .is_some_and(|k| k.starts_with(&key))
                })
                .map(|l| format!("{l}\n"))
                .collect();
            st.tree.write(&file, &kept);
        }
        Action::Apply => {
            if !st.writes {
                return Err("the fix runs mailsetup apply: mark the case as writing".into());
            }
            apply(st.tree).await?;
        }
        Action::Rotate(domain) => {
            if !st.writes {
                return Err("the fix runs mailsetup rotate: mark the case as writing".into());
            }
            rotate(st.tree, world, &domain).await?;
        }
        Action::PublishPrinted(what) => {
            let args = [
                "records",
                "--answers",
                &answers_path(st.tree),
                "--format",
                "zone",
                "--domain",
                &f.subject,
            ];
            let run = mailsetup(st.tree, args.map(String::from).to_vec()).await;
            if run.code != 0 {
                return Err(format!("records exited {}: {}", run.code, run.stderr));
            }
            let printed = Zone::parse(&run.stdout);
            let wanted: Vec<Rr> = printed
                .records
                .into_iter()
                .filter(|r| match what {
                    Printed::Dkim => r.owner.ends_with(&format!("._domainkey.{}", f.subject)),
                    Printed::Dmarc => r.owner == format!("_dmarc.{}", f.subject),
                })
                .collect();
            if wanted.is_empty() {
                return Err(format!(
                    "records prints no {what:?} record:\n{}",
                    run.stdout
                ));
            }
            for rr in wanted {
                publish(world, rr, f.found.as_deref(), None)?;
            }
        }
        Action::Wait => world.expire_cache(),
    }
    Ok(())
}

fn origin_of(world: &World, name: &str) -> Result<String, String> {
    world
        .zone_of(name)
        .map(|z| z.origin.clone())
        .ok_or_else(|| format!("no zone of the world holds {name}"))
}

/// Publish `rr` in its zone (which must be `zone_hint` when given), replacing at its owner the
/// records of its type that `found` shows.
fn publish(
    world: &mut World,
    rr: Rr,
    found: Option<&str>,
    zone_hint: Option<&str>,
) -> Result<(), String> {
    let origin = origin_of(world, &rr.owner)?;
    if let Some(hint) = zone_hint
        && hint != origin
    {
        return Err(format!(
            "the fix says to publish {rr} in the zone of {hint}, but it is in {origin}"
        ));
    }
    world.edit(&origin, |z| {
        if let Some(found) = found {
            z.remove(|r| {
                r.owner == rr.owner
                    && r.rtype == rr.rtype
                    && found.lines().any(|l| r.is_shown_by(l))
            });
        }
        z.add(rr);
    });
    Ok(())
}

/// The list behind each removal page a fix names: "request removal there" drops the entry.
const REMOVAL_PAGES: &[(&str, &str)] = &[
    ("https://check.spamhaus.org/", "zen.spamhaus.org"),
    ("https://www.spamcop.net/bl.shtml", "bl.spamcop.net"),
    (
        "https://www.barracudacentral.org/rbl/removal-request",
        "b.barracudacentral.org",
    ),
];

/// The list at `page` drops its entry for `ip` (RFC 5782 §2.1 query name).
fn delist(world: &mut World, page: &str, ip: &str) -> Result<(), String> {
    let list = REMOVAL_PAGES
        .iter()
        .find(|(p, _)| *p == page)
        .map(|(_, l)| *l)
        .ok_or_else(|| format!("which list is delisted at {page}?"))?;
    let ip: IpAddr = ip.parse().map_err(|_| format!("not an address: {ip}"))?;
    let reverse = mailsetup::dns::reverse_name(ip);
    let labels = reverse
        .strip_suffix(".in-addr.arpa")
        .or_else(|| reverse.strip_suffix(".ip6.arpa"))
        .unwrap();
    let entry = format!("{labels}.{list}");
    let gone = world.edit(list, |z| z.remove(|r| r.owner == entry));
    if gone == 0 {
        return Err(format!("{list} has no entry {entry}"));
    }
    Ok(())
}

/// The v=spf1 record of `domain` in the world.
fn spf_record(world: &World, domain: &str) -> Result<String, String> {
    world
        .lookup(domain, "TXT")
        .iter()
        .map(Rr::shown)
        .find(|v| v.to_ascii_lowercase().starts_with("v=spf1 "))
        .ok_or_else(|| format!("{domain} has no SPF record"))
}

/// Replace the SPF record `old` of `domain` by `v=spf1 TERMS`.
fn set_spf(world: &mut World, domain: &str, old: &str, terms: &[String]) {
    let mut unique: Vec<&String> = Vec::new();
    for t in terms {
        if !unique.contains(&t) {
            unique.push(t);
        }
    }
    let value = format!(
        "v=spf1 {}",
        unique
            .iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    );
    world.edit_at(domain, |z| {
        z.remove(|r| r.owner == domain && r.rtype == "TXT" && r.shown() == old);
        z.add(Rr::txt(domain, &value));
    });
}

/// An SPF term split into its qualifier (`""` when none) and mechanism, and the mechanism's
/// target name (`domain` for a bare `a` or `mx`), if it has one.
fn term_parts<'a>(term: &'a str, domain: &str) -> (&'a str, String, Option<String>) {
    let (q, mech) = match term.chars().next() {
        Some('+' | '-' | '~' | '?') => term.split_at(1),
        _ => ("", term),
    };
    let lower = mech.to_ascii_lowercase();
    let name = lower.split(['/']).next().unwrap_or("");
    let target = match name.split_once(':') {
        Some((m, t)) if ["a", "mx", "include", "exists", "ptr"].contains(&m) => Some(t.to_string()),
        None if ["a", "mx", "ptr"].contains(&name) => Some(domain.to_string()),
        _ => None,
    };
    let mechanism = name.split(':').next().unwrap_or("").to_string();
    (q, mechanism, target)
}

/// The ip4:/ip6: terms the addresses of `name` stand for, with qualifier `q`.
fn addresses(world: &World, name: &str, q: &str) -> Vec<String> {
    let mut out: Vec<String> = world
        .lookup(name, "A")
        .iter()
        .map(|r| format!("{q}ip4:{}", r.rdata[0]))
        .collect();
    out.extend(
        world
            .lookup(name, "AAAA")
            .iter()
            .map(|r| format!("{q}ip6:{}", r.rdata[0])),
    );
    out
}

/// The terms of `domain`'s SPF record with include:, a and mx replaced by the ip4:/ip6:
/// ranges they stand for (an include's own `all` dropped; only its passing terms kept; an
/// include of a record already on the way, a loop, stands for nothing more). `seen`: the
/// records on the way, `domain`'s first.
fn flatten(world: &World, domain: &str, seen: &mut Vec<String>) -> Result<Vec<String>, String> {
    let record = spf_record(world, domain)?;
    let top = seen.is_empty();
    seen.push(domain.to_string());
    let mut out = Vec::new();
    for term in record.split_whitespace().skip(1) {
        let (q, mechanism, target) = term_parts(term, domain);
        match (mechanism.as_str(), target) {
            ("all", _) if !top => {}
            ("include", Some(t)) => {
                if (q.is_empty() || q == "+") && !seen.contains(&t) {
                    out.extend(flatten(world, &t, seen)?);
                }
            }
            ("a", Some(t)) => out.extend(addresses(world, &t, q)),
            ("mx", Some(t)) => {
                for mx in world.lookup(&t, "MX") {
                    let exchange = mx.rdata[1].trim_end_matches('.').to_ascii_lowercase();
                    out.extend(addresses(world, &exchange, q));
                }
            }
            _ => out.push(term.to_string()),
        }
    }
    Ok(out)
}

/// Is `term` (of `domain`'s SPF record) a lookup that finds nothing?
fn is_void(world: &World, domain: &str, term: &str) -> bool {
    let (_, mechanism, target) = term_parts(term, domain);
    let Some(t) = target else {
        return false;
    };
    match mechanism.as_str() {
        "a" => world.lookup(&t, "A").is_empty() && world.lookup(&t, "AAAA").is_empty(),
        "mx" => world.lookup(&t, "MX").is_empty(),
        "include" => world.lookup(&t, "TXT").is_empty(),
        "exists" => world.lookup(&t, "A").is_empty(),
        _ => !world.exists(&t),
    }
}
