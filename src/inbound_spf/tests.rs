#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use super::*;

/// Stock Debian 12 main.cf and master.cf (postfix 3.7).
const STOCK_MAIN: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/debian12/etc/postfix/main.cf"
));
const STOCK_MASTER: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/debian12/etc/postfix/master.cf"
));

fn wired(text: &str) -> String {
    let mut cf = MainCf::parse(text);
    wire(&mut cf).unwrap();
    cf.to_string()
}

#[test]
fn stock_main_cf_gets_a_list_that_keeps_relay_control_first_and_is_idempotent() {
    let once = wired(STOCK_MAIN);
    assert!(once.starts_with(STOCK_MAIN), "only appended:\n{once}");
    assert_eq!(
        &once[STOCK_MAIN.len()..],
        "\n# Added by mailsetup\npolicyd-spf_time_limit = 3600\nsmtpd_recipient_restrictions = \
         permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination, \
         check_policy_service unix:private/policyd-spf\n"
    );
    // Debian's relay rule is untouched
    let cf = MainCf::parse(&once);
    assert_eq!(
        cf.get("smtpd_relay_restrictions").as_deref(),
        Some("permit_mynetworks permit_sasl_authenticated defer_unauth_destination")
    );
    assert_eq!(wiring(cf.get(RESTRICTIONS).as_deref()), Wiring::Wired);
    let mut again = MainCf::parse(&once);
    assert_eq!(wire(&mut again).unwrap(), Change::Unchanged);
    assert_eq!(again.to_string(), once, "applying twice changes nothing");
}

#[test]
fn the_check_goes_right_after_reject_unauth_destination_and_every_other_byte_stays() {
    let input = "# mine\nsmtpd_recipient_restrictions =\n    permit_mynetworks,\n    \
                 reject_unauth_destination,\n  # a comment inside\n    \
                 check_client_access hash:/etc/postfix/access\nmyhostname = a.example\n";
    let out = wired(input);
    assert_eq!(
        out,
        "# mine\nsmtpd_recipient_restrictions =\n    permit_mynetworks,\n    \
         reject_unauth_destination, check_policy_service unix:private/policyd-spf,\n  \
         # a comment inside\n    check_client_access hash:/etc/postfix/access\n\
         myhostname = a.example\n\n# Added by mailsetup\npolicyd-spf_time_limit = 3600\n"
    );
    let words = split_list(&MainCf::parse(&out).get(RESTRICTIONS).unwrap());
    assert_eq!(
        words,
        [
            "permit_mynetworks",
            "reject_unauth_destination",
            "check_policy_service",
            "unix:private/policyd-spf",
            "check_client_access",
            "hash:/etc/postfix/access",
        ],
        "the operator's entries in their order, the check after the relay control"
    );
    assert_eq!(wired(&out), out, "idempotent");
}

#[test]
fn a_list_without_relay_control_gets_the_check_at_its_end() {
    let input =
        "smtpd_recipient_restrictions = permit_mynetworks reject_rbl_client zen.example\r\n";
    let out = wired(input);
    assert_eq!(
        out,
        "smtpd_recipient_restrictions = permit_mynetworks reject_rbl_client zen.example, \
         check_policy_service unix:private/policyd-spf\r\n\r\n# Added by mailsetup\r\n\
         policyd-spf_time_limit = 3600\r\n"
    );
    // an empty list is written whole
    let out = wired("smtpd_recipient_restrictions =\n");
    assert_eq!(
        MainCf::parse(&out).get(RESTRICTIONS).as_deref(),
        Some(NEW_RESTRICTIONS)
    );
}

#[test]
fn a_check_before_the_relay_control_is_reported_not_moved() {
    let input = "policyd-spf_time_limit = 3600\nsmtpd_recipient_restrictions = permit_mynetworks, \
                 check_policy_service unix:private/policyd-spf, reject_unauth_destination\n";
    let mut cf = MainCf::parse(input);
    assert_eq!(wiring(cf.get(RESTRICTIONS).as_deref()), Wiring::Before);
    assert_eq!(wire(&mut cf).unwrap(), Change::Unchanged);
    assert_eq!(cf.to_string(), input);
    // the bare path form counts; another policy service does not
    assert_eq!(
        wiring(Some(
            "reject_unauth_destination check_policy_service private/policyd-spf"
        )),
        Wiring::Wired
    );
    assert_eq!(
        wiring(Some(
            "reject_unauth_destination check_policy_service inet:127.0.0.1:10023"
        )),
        Wiring::Absent
    );
    assert_eq!(wiring(None), Wiring::Absent);
}

#[test]
fn the_service_is_appended_once_and_an_existing_one_is_adopted() {
    let mut master = MasterCf::parse(STOCK_MASTER);
    assert_eq!(service(&master), ServiceState::Missing);
    assert_eq!(add_service(&mut master).unwrap(), Change::Added);
    let out = master.to_string();
    assert_eq!(
        out,
        format!(
            "{STOCK_MASTER}policyd-spf unix - n n - 0 spawn\n  user=policyd-spf argv=/usr/bin/policyd-spf\n"
        )
    );
    assert_eq!(service(&master), ServiceState::Ours);
    assert_eq!(add_service(&mut master).unwrap(), Change::Unchanged);
    assert_eq!(master.to_string(), out);

    // an operator's entry with a config file argument: ours, kept
    let theirs = "policyd-spf  unix  -  n  n  -  0  spawn\n    user=policyd-spf \
                  argv=/usr/bin/policyd-spf /etc/postfix-policyd-spf-python/policyd-spf.conf";
    let mut master = MasterCf::parse(theirs);
    assert_eq!(service(&master), ServiceState::Ours);
    assert_eq!(add_service(&mut master).unwrap(), Change::Unchanged);
    assert_eq!(master.to_string(), theirs);

    // another user, or another program: adopted as it is, and said
    let other = "policyd-spf unix - n n - 0 spawn\n  user=nobody argv=/usr/local/bin/spf-check\n";
    let mut master = MasterCf::parse(other);
    assert_eq!(
        service(&master),
        ServiceState::Other {
            line: 1,
            command: "spawn".into(),
            user: Some("nobody".into()),
            program: Some("/usr/local/bin/spf-check".into()),
        }
    );
    assert_eq!(add_service(&mut master).unwrap(), Change::Unchanged);
    assert_eq!(master.to_string(), other);
}

#[test]
fn a_file_without_a_final_newline_gets_one_before_the_entry() {
    let mut master = MasterCf::parse("smtp inet n - y - - smtpd");
    add_service(&mut master).unwrap();
    assert_eq!(
        master.to_string(),
        "smtp inet n - y - - smtpd\npolicyd-spf unix - n n - 0 spawn\n  user=policyd-spf argv=/usr/bin/policyd-spf\n"
    );
    assert!(master.service("smtp", "inet").is_some());
}
