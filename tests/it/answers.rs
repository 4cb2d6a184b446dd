//! Bad answers end the run with exit 2, a message naming the field, the value and the rule, and
//! nothing written (reliability.md §4, T4.3 through the real binary).

use crate::support::Tree;

const GOOD: &str = r#"hostname = "mail.example.org"
ipv4 = "192.0.2.10"
allow_private_ip = true
domains = ["example.org"]
key_bits = 1024
"#;

fn with(line: &str) -> String {
    // A later key would be a duplicate in TOML; replace the line with the same key instead.
    let key = line.split('=').next().unwrap_or("").trim();
    let mut out: Vec<String> = GOOD
        .lines()
        .filter(|l| !l.starts_with(&format!("{key} ")))
        .map(str::to_string)
        .collect();
    out.push(line.to_string());
    out.join("\n") + "\n"
}

#[test]
fn every_bad_answer_is_rejected_by_name_and_nothing_is_written() {
    let cases: &[(&str, &str)] = &[
        (r#"domains = ["a.com\nsmtpd_milters=x"]"#, "domains[0]"),
        (r#"domains = ["a.com #"]"#, "domains[0]"),
        (r#"domains = ["a.com|.*"]"#, "domains[0]"),
        (r#"domains = ["../../etc"]"#, "domains[0]"),
        (r#"domains = ["a..com"]"#, "domains[0]"),
        (r#"domains = ["-a.com"]"#, "domains[0]"),
        (r#"domains = ["a.com."]"#, "domains[0]"),
        (r#"domains = ["xn--zz-zzz.com"]"#, "domains[0]"),
        (r#"domains = ["a.com\u2028"]"#, "domains[0]"),
        (
            r#"hostname = "mail.example.org\nrelayhost = evil""#,
            "hostname",
        ),
        (r#"selector = "mail/../../x""#, "selector"),
        (r#"selector = "a.b""#, "selector"),
        (r#"trusted_hosts = ["10.0.0.1/8"]"#, "trusted_hosts[0]"),
        (r#"trusted_hosts = ["!10.0.0.0/8"]"#, "trusted_hosts[0]"),
        (r#"dmarc_rua = "mailto:a,b@x.com""#, "dmarc_rua"),
        (r#"dmarc_rua = "mailto:a@x.com!10m""#, "dmarc_rua"),
        (r#"ipv4 = "999.1.1.1""#, "ipv4"),
        (r#"allow_private_ip = "yes""#, "allow_private_ip"),
        // 192.0.2.10 is a documentation address: refused without the flag
        (
            r#"allow_private_ip = false"#,
            "`ipv4` = \"192.0.2.10\": 192.0.2.0/24",
        ),
        (r#"domains = ["ex\u0430mple.org"]"#, "domains[0]"),
        (
            r#"domains = ["xn--exmple-4nf.org"]"#,
            "mixes scripts (Latin, Cyrillic)",
        ),
        (r#"key_bits = 20 48"#, "`key_bits`: not valid TOML"),
        (r#"key_bits = 1000"#, "key_bits"),
        (r#"socket = "inet:99999""#, "socket"),
        (r#"inet_protocols = "ipv5""#, "inet_protocols"),
        (r#"spf_all = "+all""#, "spf_all"),
        (r#"selecter = "mail""#, "selecter"),
    ];
    for (line, field) in cases {
        let tree = Tree::debian12();
        tree.write("/answers.toml", &with(line));
        let before = tree.snapshot();
        let answers = tree.path("/answers.toml");
        let run = tree.run(&[
            "apply",
            "--yes",
            "--answers",
            answers.to_str().expect("utf8"),
        ]);
        assert_eq!(
            run.code, 2,
            "{line}: expected exit 2\n{}{}",
            run.stdout, run.stderr
        );
        assert!(
            run.stderr.contains(field),
            "{line}: the message must name `{field}`:\n{}",
            run.stderr
        );
        assert!(
            run.stdout.is_empty(),
            "{line}: no diff printed for bad input:\n{}",
            run.stdout
        );
        assert_eq!(tree.snapshot(), before, "{line}: nothing written");
    }
}

#[test]
fn the_good_answers_pass() {
    let tree = Tree::debian12();
    tree.write("/answers.toml", GOOD);
    let answers = tree.path("/answers.toml");
    tree.run(&["plan", "--answers", answers.to_str().expect("utf8")])
        .expect_code(1);
}
