//! The answers after the identity (selector, key size, SPF, DMARC, trusted hosts) against
//! the answers file: the same defaults, the same values, the same rules, and a round trip
//! through `answers::write` and `answers::parse`.

use super::*;

/// A form with the identity filled in (documentation addresses: see [`lab`]).
fn filled() -> Form {
    let mut f = Form::new(
        None,
        Some("mail.example.org"),
        Some("192.0.2.25".parse().unwrap()),
        None,
    );
    set(&mut f, "domains", "example.org, example.net");
    f
}

/// Answers that allow the documentation addresses these tests use.
fn lab() -> Settings {
    let mut s = Settings::new(
        Domain::parse("mail.example.org").unwrap(),
        vec![Domain::parse("example.org").unwrap()],
    );
    s.allow_private_ip = true;
    s
}

/// Sets the field `key` to `value`, as if typed.
fn set(f: &mut Form, key: &str, value: &str) {
    f.focus = f.fields.iter().position(|x| x.key == key).unwrap();
    while !f.focused().value.is_empty() {
        f.backspace();
    }
    for c in value.chars() {
        f.input(c);
    }
}

#[test]
fn the_fields_sit_where_settings_reads_them() {
    let f = Form::new(None, None, None, None);
    let keys: Vec<&str> = f.fields.iter().map(|x| x.key).collect();
    assert_eq!(
        keys,
        [
            "hostname",
            "ipv4",
            "ipv6",
            "domains",
            "selector",
            "key_bits",
            "spf_all",
            "dmarc_policy",
            "dmarc_rua",
            "trusted_hosts",
            "provider",
            "inbound_spf",
            "inbound_dmarc",
            "dmarc_reject_failures"
        ]
    );
    assert_eq!(f.fields[SELECTOR].key, "selector");
    assert_eq!(f.fields[TRUSTED_HOSTS].key, "trusted_hosts");
    assert_eq!(f.fields[PROVIDER].key, "provider");
    assert_eq!(
        f.fields[PROVIDER].choices.join(", "),
        crate::provider::Provider::known()
    );
    assert_eq!(f.fields[INBOUND_SPF].key, "inbound_spf");
    assert_eq!(f.fields[INBOUND_DMARC].key, "inbound_dmarc");
    assert_eq!(f.fields[DMARC_REJECT].key, "dmarc_reject_failures");
    for x in &f.fields {
        if x.key != "socket" {
            assert!(crate::answers::KNOWN_KEYS.contains(&x.key), "{}", x.key);
        }
    }
}

/// Left blank but for the required answers, the form gives what the answers file gives
/// with only those keys: the same defaults.
#[test]
fn a_blank_form_holds_the_answers_files_defaults() {
    let mut f = Form::new(None, Some("mail.example.org"), None, None);
    set(&mut f, "ipv4", "93.184.216.34");
    set(&mut f, "domains", "example.org");
    let from_form = f.settings(None).expect("valid");
    let from_file = crate::answers::parse(
        "hostname = \"mail.example.org\"\nipv4 = \"93.184.216.34\"\n\
         domains = [\"example.org\"]\n",
    )
    .unwrap();
    assert_eq!(from_form, from_file);
    let shown: Vec<&str> = f.fields[SELECTOR..]
        .iter()
        .map(|x| x.value.as_str())
        .collect();
    assert_eq!(
        shown,
        [
            "mail",
            "2048",
            "~all",
            "none",
            "",
            "127.0.0.1, ::1, localhost",
            "",
            "off",
            "off",
            "off"
        ]
    );
}

/// Every answer typed into the form gives the Settings the answers file with the same
/// values gives, and that Settings survives `answers::write` → `answers::parse`.
#[test]
fn every_answer_typed_equals_the_answers_file_and_round_trips() {
    let mut f = filled();
    set(&mut f, "ipv6", "2001:DB8::25");
    set(&mut f, "selector", "S2026");
    set(&mut f, "key_bits", "4096");
    set(&mut f, "spf_all", "-all");
    set(&mut f, "dmarc_policy", "quarantine");
    set(&mut f, "dmarc_rua", "mailto:dmarc-reports@example.net");
    set(
        &mut f,
        "trusted_hosts",
        "127.0.0.1, ::1 localhost,10.1.0.0/16 ::ffff:192.0.2.9 relay.example.org",
    );
    set(&mut f, "provider", "Hetzner");
    let s = f.settings(Some(&lab())).expect("valid");
    let file = crate::answers::parse(
        r#"
hostname = "mail.example.org"
ipv4 = "192.0.2.25"
ipv6 = "2001:db8::25"
allow_private_ip = true
domains = ["example.org", "example.net"]
selector = "s2026"
key_bits = 4096
spf_all = "-all"
dmarc_policy = "quarantine"
dmarc_rua = "mailto:dmarc-reports@example.net"
trusted_hosts = ["127.0.0.1", "::1", "localhost", "10.1.0.0/16", "192.0.2.9", "relay.example.org"]
provider = "hetzner"
"#,
    )
    .unwrap();
    assert_eq!(s, file);
    for existing in [None, Some("hostname = \"old.example\" # kept\n")] {
        let text = crate::answers::write(&s, existing);
        assert_eq!(crate::answers::parse(&text), Ok(s.clone()), "{text}");
    }
    // and back into a form: the same answers again
    let mut again = Form::new(Some(&s), None, None, None);
    assert_eq!(again.settings(Some(&s)), Some(s));
}

/// Answers with no trusted hosts and a report address stay as they are through the form.
#[test]
fn answers_go_through_the_form_unchanged() {
    let mut base = lab();
    base.ipv4 = Some("192.0.2.7".parse().unwrap());
    base.trusted_hosts = Vec::new();
    base.dmarc_rua = Some(MailtoUri::parse("mailto:postmaster@example.org").unwrap());
    base.dmarc_policy = DmarcPolicy::Reject;
    base.key_bits = KeyBits::B1024;
    let mut f = Form::new(Some(&base), None, None, None);
    assert_eq!(f.fields[TRUSTED_HOSTS].value, "");
    assert_eq!(f.fields[KEY_BITS].value, "1024");
    assert_eq!(f.settings(Some(&base)), Some(base));
}

/// A bad value names its field and carries the very rule the answers file gives for it.
#[test]
fn errors_name_the_field_and_the_answers_files_rule() {
    let cases = [
        ("selector", "mail.2026", "selector = \"mail.2026\""),
        ("key_bits", "1000", "key_bits = 1000"),
        ("key_bits", "big", "key_bits = 0"),
        ("spf_all", "+all", "spf_all = \"+all\""),
        ("dmarc_policy", "Reject", "dmarc_policy = \"Reject\""),
        (
            "dmarc_rua",
            "postmaster@example.org",
            "dmarc_rua = \"postmaster@example.org\"",
        ),
        (
            "dmarc_rua",
            "mailto:a+b@example.org",
            "dmarc_rua = \"mailto:a+b@example.org\"",
        ),
        (
            "trusted_hosts",
            "127.0.0.1 10.0.0.1/8",
            "trusted_hosts = [\"10.0.0.1/8\"]",
        ),
        (
            "trusted_hosts",
            "!10.0.0.0/8",
            "trusted_hosts = [\"!10.0.0.0/8\"]",
        ),
    ];
    for (key, typed, line) in cases {
        let mut f = filled();
        set(&mut f, key, typed);
        assert!(f.settings(Some(&lab())).is_none(), "{key} = {typed}");
        let i = f.fields.iter().position(|x| x.key == key).unwrap();
        assert_eq!(f.focus, i, "the focus goes to {key}");
        let error = f.fields[i].error.clone().unwrap();
        assert!(error.starts_with(&format!("{key}: ")), "{error}");
        let text = format!("hostname = \"h.example.org\"\ndomains = [\"example.org\"]\n{line}\n");
        let Err(crate::answers::AnswerError::Invalid { rule, .. }) = crate::answers::parse(&text)
        else {
            panic!("{line} is not refused as invalid");
        };
        assert!(error.ends_with(&rule.0), "{key}: {error} / {rule}");
    }
    let mut f = filled();
    set(&mut f, "trusted_hosts", "192.0.2.9, ::ffff:192.0.2.9");
    assert!(f.settings(Some(&lab())).is_none());
    assert_eq!(
        f.fields[TRUSTED_HOSTS].error.as_deref(),
        Some("trusted_hosts: 192.0.2.9 is listed twice")
    );
}

#[test]
fn left_and_right_cycle_a_fields_choices_and_free_text_ignores_them() {
    let mut f = filled();
    f.focus = KEY_BITS;
    f.choose(1);
    assert_eq!(f.fields[KEY_BITS].value, "3072");
    f.choose(1);
    f.choose(1);
    assert_eq!(f.fields[KEY_BITS].value, "1024", "wraps");
    f.choose(-1);
    assert_eq!(f.fields[KEY_BITS].value, "4096");
    set(&mut f, "dmarc_policy", "rej");
    f.fields[DMARC_POLICY].error = Some("x".into());
    f.choose(-1);
    assert_eq!(f.fields[DMARC_POLICY].value, "reject", "from the end");
    assert_eq!(f.fields[DMARC_POLICY].error, None);
    f.focus = SELECTOR;
    f.choose(1);
    assert_eq!(f.fields[SELECTOR].value, "mail");
}

/// The guess from the PTR name fills an empty provider field, never the operator's choice;
/// an unknown name is refused with the known ones.
#[test]
fn the_provider_guess_fills_only_an_empty_field() {
    use crate::provider::Provider;
    let mut f = filled();
    f.guess_provider(Provider::Aws);
    assert_eq!(f.fields[PROVIDER].value, "aws");
    assert!(f.fields[PROVIDER].hint.contains("guessed"));
    let s = f.settings(Some(&lab())).expect("valid");
    assert_eq!(s.provider, Some(Provider::Aws));
    let mut base = lab();
    base.provider = Some(Provider::Ovh);
    let mut f = Form::new(Some(&base), None, None, None);
    f.guess_provider(Provider::Aws);
    assert_eq!(f.fields[PROVIDER].value, "ovh");
    // ←→ cycles through the known names
    f.focus = PROVIDER;
    f.choose(1);
    assert_eq!(f.fields[PROVIDER].value, "hetzner");
    set(&mut f, "provider", "ovhcloud");
    assert_eq!(f.settings(Some(&base)), None);
    let e = f.fields[PROVIDER].error.clone().unwrap_or_default();
    assert!(
        e.starts_with("provider: ") && e.contains("ovh, hetzner"),
        "{e}"
    );
}

/// The Inbound SPF field: ← → cycles off · on; `on` asks for the check, and the answers the
/// wizard saves say so; a word that is neither is refused on the field.
#[test]
fn the_inbound_spf_field_turns_the_check_on_and_the_saved_answers_say_so() {
    let mut f = Form::new(Some(&lab()), None, None, None);
    set(&mut f, "ipv4", "192.0.2.25");
    assert_eq!(f.fields[INBOUND_SPF].value, "off", "default off");
    f.focus = INBOUND_SPF;
    f.choose(1);
    assert_eq!(f.fields[INBOUND_SPF].value, "on");
    let s = f.settings(Some(&lab())).expect("valid");
    assert!(s.inbound_spf);
    let saved = crate::answers::write(&s, None);
    assert!(saved.contains("\ninbound_spf = true "), "{saved}");
    assert_eq!(crate::answers::parse(&saved).unwrap(), s);
    set(&mut f, "inbound_spf", "maybe");
    assert_eq!(f.settings(Some(&lab())), None);
    assert_eq!(
        f.fields[INBOUND_SPF].error.as_deref(),
        Some("inbound_spf: \"maybe\" is neither on nor off")
    );
}

/// The signer is asked only once the wizard adds it (amavisd-new installed); its value
/// reaches the settings, and without the field the answers' value is kept.
#[test]
fn the_signer_is_asked_only_when_added() {
    let mut f = Form::new(None, Some("mail.example.org"), None, None);
    assert!(!f.fields.iter().any(|x| x.key == "signer"));
    set(&mut f, "ipv4", "93.184.216.34");
    set(&mut f, "domains", "example.org");
    let mut base = f.settings(None).expect("valid");
    assert_eq!(base.signer, crate::values::Signer::Opendkim);
    f.ask_signer(None);
    f.ask_signer(None);
    assert_eq!(f.fields.iter().filter(|x| x.key == "signer").count(), 1);
    set(&mut f, "signer", "amavisd-new");
    assert_eq!(
        f.settings(None).expect("valid").signer,
        crate::values::Signer::AmavisdNew
    );
    set(&mut f, "signer", "amavis");
    assert!(f.settings(None).is_none());
    // a form without the field keeps the answers' signer
    base.signer = crate::values::Signer::AmavisdNew;
    let mut again = Form::new(Some(&base), None, None, None);
    assert_eq!(
        again.settings(Some(&base)).expect("valid").signer,
        base.signer
    );
}

/// The two inbound DMARC answers: read into the settings; rejecting needs inbound DMARC.
#[test]
fn inbound_dmarc_fields_reach_the_settings() {
    let mut f = Form::new(Some(&lab()), None, None, None);
    set(&mut f, "ipv4", "192.0.2.10");
    assert_eq!(f.fields[INBOUND_DMARC].value, "off");
    set(&mut f, "dmarc_reject_failures", "on");
    assert!(f.settings(Some(&lab())).is_none());
    assert_eq!(f.focus, DMARC_REJECT);
    assert!(
        f.fields[DMARC_REJECT]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("inbound_dmarc")),
        "{:?}",
        f.fields[DMARC_REJECT].error
    );
    set(&mut f, "inbound_dmarc", "on");
    let s = f.settings(Some(&lab())).expect("valid");
    assert!(s.inbound_dmarc && s.dmarc_reject_failures);
    let back = crate::answers::parse(&crate::answers::write(&s, None)).expect("parses");
    assert_eq!(back, s);
}
