//! The plan as JSON, for scripts and config management (`plan --json`, `apply --json`):
//! serialized from the values, never parsed back from the diff text. Shape (README, "JSON
//! output"): `files`, `directories`, `keys`, `permissions`, `groups`, `services`, `notes`.

use serde_json::{Value, json};

use super::{FileChange, Perms, Plan, Service, ServiceAction, Verb};

/// Every change of `plan`, one array per kind, each entry with its `why`.
pub fn to_json(plan: &Plan) -> serde_json::Map<String, Value> {
    let mode = |m: u32| format!("{m:04o}");
    let mut out = serde_json::Map::new();
    out.insert(
        "files".into(),
        plan.files.iter().map(file).collect::<Vec<_>>().into(),
    );
    out.insert(
        "directories".into(),
        plan.dirs
            .iter()
            .map(|d| {
                json!({
                    "path": d.path,
                    "owner": d.owner.to_string(),
                    "mode": mode(d.mode),
                    "exists": d.exists,
                    "why": d.why,
                })
            })
            .collect::<Vec<_>>()
            .into(),
    );
    out.insert(
        "keys".into(),
        plan.keys
            .iter()
            .map(|k| {
                json!({
                    "domain": k.domain.to_string(),
                    "selector": k.selector.to_string(),
                    "path": k.path,
                    "algorithm": k.kind.k(),
                    "bits": k.kind.bits(),
                    "owner": super::KEY_OWNER.to_string(),
                    "mode": mode(super::KEY_MODE),
                    "restored_from": k.restore_from,
                })
            })
            .collect::<Vec<_>>()
            .into(),
    );
    out.insert(
        "rotations".into(),
        plan.rotations
            .iter()
            .map(|r| json!({ "domain": r.domain.to_string(), "why": r.why }))
            .collect::<Vec<_>>()
            .into(),
    );
    out.insert(
        "permissions".into(),
        plan.perms
            .iter()
            .map(|p| {
                json!({
                    "path": p.path,
                    "owner": p.owner.to_string(),
                    "mode": mode(p.mode),
                    "why": p.why,
                })
            })
            .collect::<Vec<_>>()
            .into(),
    );
    out.insert(
        "groups".into(),
        plan.groups
            .iter()
            .map(|g| json!({"user": g.user, "group": g.group, "why": g.why}))
            .collect::<Vec<_>>()
            .into(),
    );
    out.insert(
        "services".into(),
        plan.services.iter().map(service).collect::<Vec<_>>().into(),
    );
    out.insert("notes".into(), plan.notes.clone().into());
    out
}

/// `{"path", "new", "owner", "mode", "why", "diff"}`: owner and mode for a new file only
/// (an edit keeps the file's own).
fn file(c: &FileChange) -> Value {
    let (owner, mode) = match c.perms {
        Perms::New(owner, mode) => (Some(owner.to_string()), Some(format!("{mode:04o}"))),
        Perms::Keep => (None, None),
    };
    json!({
        "path": c.path,
        "new": c.before.is_none(),
        "owner": owner,
        "mode": mode,
        "why": c.why,
        "diff": c.diff(),
    })
}

/// `{"service", "action", "why"}`; action `reload`, `restart`, `stop` (the Ed25519 instance
/// once it is turned off), or for Postfix `stop-start` (a reload does not apply
/// `inet_protocols`).
fn service(s: &ServiceAction) -> Value {
    let action = match (s.service, s.verb) {
        (Service::Postfix, Verb::Restart) => "stop-start",
        (_, Verb::Restart) => "restart",
        (_, Verb::Reload) => "reload",
        (_, Verb::Stop) => "stop",
    };
    json!({"service": s.service.name(), "action": action, "why": s.why})
}
