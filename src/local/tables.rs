//! The `opendkim` check line, judged from a [`LocalState`]: the SigningTable is read as
//! `refile:` when it has wildcards and names every domain, and `opendkim -n` accepts
//! /etc/opendkim.conf. Pure.

use super::{LocalState, error};
use crate::check::{Finding, ids};
use crate::host::system;
use crate::opendkim::{OpendkimConf, SigningTable};
use crate::settings::Settings;

/// The findings of the `opendkim` line for `settings`' domains, in report order.
pub(super) fn findings(state: &LocalState, settings: &Settings) -> Vec<Finding> {
    let mut findings = table_findings(state, settings);
    findings.extend(opendkim_n_finding(state));
    findings
}

/// `opendkim.config-invalid` when `opendkim -n` refused /etc/opendkim.conf.
fn opendkim_n_finding(state: &LocalState) -> Option<Finding> {
    let Some(Err(why)) = &state.opendkim_n else {
        return None;
    };
    Some(
        error(
            ids::OPENDKIM_CONFIG_INVALID,
            system::OPENDKIM_CONF,
            format!(
                "opendkim -n refuses /etc/opendkim.conf: {}",
                crate::dns::sanitize(why)
            ),
        )
        .fix(Some(
            "correct or remove the line opendkim -n names in /etc/opendkim.conf, then run \
             opendkim -n again (the OpenDKIM step rewrites only the options mailsetup \
             manages)"
                .into(),
        )),
    )
}

/// The SigningTable is read as `refile:` when it has wildcards, and names every domain.
fn table_findings(state: &LocalState, settings: &Settings) -> Vec<Finding> {
    let subject = system::SIGNING_TABLE;
    let conf = state.opendkim_conf.as_deref().map(OpendkimConf::parse);
    let declared = conf
        .as_ref()
        .and_then(|c| c.get("SigningTable"))
        .unwrap_or("");
    let table = SigningTable::parse(state.signing_table.as_deref().unwrap_or(""));
    let keys: Vec<String> = table
        .entries()
        .map(|(k, _)| k.to_ascii_lowercase())
        .collect();
    let mut findings = Vec::new();
    if keys.iter().any(|k| k.contains('*')) && !declared.trim_start().starts_with("refile:") {
        findings.push(
            error(
                ids::OPENDKIM_SIGNING_TABLE_NO_REFILE,
                subject,
                format!(
                    "the SigningTable has wildcard entries, but opendkim.conf reads it as \
                     `{declared}`, where `*` matches nothing: no mail is signed"
                ),
            )
            .found(format!("SigningTable {declared}"))
            .expected(format!("SigningTable refile:{}", system::SIGNING_TABLE))
            .fix(Some("the OpenDKIM step writes it with refile:".into())),
        );
    }
    for d in &settings.domains {
        let d = d.as_str();
        let covered = keys
            .iter()
            .any(|k| k == &format!("*@{d}") || k == d || k.ends_with(&format!("@{d}")));
        if !covered {
            findings.push(
                error(
                    ids::OPENDKIM_SIGNING_TABLE_MISSING_DOMAIN,
                    subject,
                    format!("the SigningTable has no entry for {d}: its mail is not signed"),
                )
                .expected(format!("*@{d} {}._domainkey.{d}", settings.selector))
                .fix(Some("the Tables step adds it".into())),
            );
        }
    }
    findings
}
