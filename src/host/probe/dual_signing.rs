//! Whether the installed OpenDKIM signs one message with an RSA and an Ed25519 key (RFC
//! 8463 dual signing), found by asking it: `opendkim -t` (opendkim(8): test mode, a message
//! file run through the filter, nothing listens) with throw-away keys, the KeyTable and
//! SigningTable forms the plan writes ([`crate::plan`]'s Tables part) and
//! `MultipleSignatures yes`, in a private temporary directory removed afterwards.
//!
//! Why a test and not a version number: Debian 12's OpenDKIM 2.11.0~beta2 reports
//! `v2.11.0` and signs every SigningTable match with its one `SignatureAlgorithm`, so an
//! Ed25519 key under `rsa-sha256` fails (`EVP_PKEY_get1_RSA() failed`, and the message is
//! tempfailed), under `ed25519-sha256` the RSA key makes a broken signature, and a KeyTable
//! line with a fourth field tempfails every message. Signing with the algorithm of each key
//! came later upstream: the KeyTable's fourth field, `domain:selector:key:ed25519-sha256`,
//! which is the form the probe (and the plan) use.

use std::path::Path;

use crate::host::services;

/// The OpenDKIM binary the probe runs (Debian's package).
const OPENDKIM: &str = "/usr/sbin/opendkim";

/// `Ok` when `opendkim -t` signed the probe message twice, `a=rsa-sha256` with the RSA key
/// and `a=ed25519-sha256` with the Ed25519 one. Errors: a sentence saying what happened
/// instead (OpenDKIM missing, its own reason for not signing, or the signatures it made).
pub fn opendkim_signs_both() -> Result<(), String> {
    if !Path::new(OPENDKIM).exists() {
        return Err(format!("{OPENDKIM} is not installed"));
    }
    let dir = private_dir().map_err(|e| format!("a temporary directory: {e}"))?;
    let out = run_in(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    judge(&out?)
}

/// What `opendkim -t` printed (stdout and stderr): both signatures, else the reason.
fn judge(out: &str) -> Result<(), String> {
    let signed = |a: &str, s: &str| {
        out.split("DKIM-Signature:")
            .skip(1)
            .any(|sig| sig.contains(&format!("a={a};")) && sig.contains(&format!("s={s};")))
    };
    if signed("rsa-sha256", "rsa") && signed("ed25519-sha256", "ed") {
        return Ok(());
    }
    if let Some(line) = out.lines().find(|l| l.contains("no signature added")) {
        return Err(line.trim_start_matches("opendkim: ").trim().to_string());
    }
    let algs: Vec<&str> = out
        .split("a=")
        .skip(1)
        .filter_map(|rest| rest.split(';').next())
        .collect();
    Err(if !algs.is_empty() {
        format!("it signed with {algs:?} instead of rsa-sha256 and ed25519-sha256")
    } else if out.contains("SMFIS_TEMPFAIL") {
        "it deferred the message (SMFIS_TEMPFAIL) instead of signing it".to_string()
    } else {
        "it added no signature".to_string()
    })
}

/// A new directory beneath the system's temporary one, mode 0700.
fn private_dir() -> std::io::Result<std::path::PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let dir = std::env::temp_dir().join(format!(
        "mailsetup-dual-signing-{}-{nanos}",
        std::process::id()
    ));
    std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
    Ok(dir)
}

/// Keys, tables, configuration and message written into `dir`, then `opendkim -t`.
fn run_in(dir: &Path) -> Result<String, String> {
    let rsa = crate::keys::PrivateKey::generate(crate::values::KeyBits::B1024)?;
    let ed = crate::keys::PrivateKey::generate_ed25519()?;
    let d = dir.display();
    let files = [
        ("rsa.private", rsa.pem().to_string()),
        ("ed.private", ed.pem().to_string()),
        (
            "KeyTable",
            format!(
                "rsa._domainkey.probe.invalid probe.invalid:rsa:{d}/rsa.private\n\
                 ed._domainkey.probe.invalid probe.invalid:ed:{d}/ed.private:ed25519-sha256\n"
            ),
        ),
        (
            "SigningTable",
            "*@probe.invalid rsa._domainkey.probe.invalid\n\
             *@probe.invalid ed._domainkey.probe.invalid\n"
                .to_string(),
        ),
        (
            "opendkim.conf",
            format!(
                "Syslog no\nMode s\nKeyTable {d}/KeyTable\nSigningTable refile:{d}/SigningTable\n\
                 MultipleSignatures yes\nSignatureAlgorithm rsa-sha256\nRequireSafeKeys false\n\
                 LogWhy yes\n"
            ),
        ),
        (
            "message",
            "From: probe@probe.invalid\r\nTo: probe@probe.invalid\r\nSubject: probe\r\n\
             Date: Thu, 1 Jan 2026 00:00:00 +0000\r\n\r\nprobe\r\n"
                .to_string(),
        ),
    ];
    for (name, text) in files {
        std::fs::write(dir.join(name), text).map_err(|e| format!("write {name}: {e}"))?;
    }
    let mut cmd = services::command(OPENDKIM);
    // -vvv: the filter's verdicts (SMFIS_TEMPFAIL), which it gives no reason for
    cmd.arg("-vvv")
        .arg("-x")
        .arg(dir.join("opendkim.conf"))
        .arg("-t")
        .arg(dir.join("message"));
    let out = services::output(&mut cmd).map_err(|e| format!("run {OPENDKIM} -t: {e}"))?;
    Ok(format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_signatures_are_needed() {
        let both = "opendkim: msg:\nDKIM-Signature: v=1; a=rsa-sha256; c=simple/simple; \
                    d=probe.invalid;\n\ts=rsa; t=1;\nopendkim: msg:\nDKIM-Signature: v=1; \
                    a=ed25519-sha256; c=simple/simple; d=probe.invalid;\n\ts=ed; t=1;\n";
        assert_eq!(judge(both), Ok(()));
        // Debian 12's 2.11.0~beta2 under SignatureAlgorithm rsa-sha256
        let beta2 = "opendkim: msg: mlfi_eom() returned SMFIS_TEMPFAIL\n### SETREPLY: \
                     rcode='451'\nopendkim: msg: no signature added: EVP_PKEY_get1_RSA() failed\n";
        assert_eq!(
            judge(beta2),
            Err("msg: no signature added: EVP_PKEY_get1_RSA() failed".into())
        );
        // … and under ed25519-sha256: the RSA key signs as ed25519-sha256
        let one_alg = "DKIM-Signature: v=1; a=ed25519-sha256; d=probe.invalid;\n\ts=rsa; \
                       t=1;\nDKIM-Signature: v=1; a=ed25519-sha256; d=probe.invalid;\n\ts=ed; t=1;\n";
        let why = judge(one_alg).unwrap_err();
        assert!(
            why.contains("instead of rsa-sha256 and ed25519-sha256"),
            "{why}"
        );
        // … and with the KeyTable's fourth field, which it does not know
        let tempfail = "opendkim: msg: mlfi_eoh() returned SMFIS_TEMPFAIL\n";
        assert!(
            judge(tempfail)
                .unwrap_err()
                .contains("deferred the message")
        );
    }

    /// The OpenDKIM installed here, asked for real: Debian 12's cannot (the e2e and the
    /// integration tests depend on this answer; a newer OpenDKIM would change it).
    #[test]
    fn the_installed_opendkim_is_asked() {
        if !Path::new(OPENDKIM).exists() {
            assert_eq!(
                opendkim_signs_both(),
                Err(format!("{OPENDKIM} is not installed"))
            );
            return;
        }
        let version = std::process::Command::new(OPENDKIM)
            .arg("-V")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        let got = opendkim_signs_both();
        if version.contains("OpenDKIM Filter v2.11.0\n") {
            let why = got.expect_err("2.11.0~beta2 signs with one algorithm");
            assert!(why.contains("deferred the message"), "{why}");
        } else {
            eprintln!("note: {version}: {got:?}");
        }
    }
}
