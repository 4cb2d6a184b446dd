use super::*;

const ALIASES: &str = "# See man 5 aliases for format\npostmaster:    root\n\
    abuse: postmaster\nteam: alice,\n  bob\nlist: |/usr/bin/list\n";
const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\n\
    alice:x:1000:1000::/home/alice:/bin/sh\nbob:x:1001:1001::/home/bob:/bin/sh\n";

fn conf() -> LocalDelivery {
    LocalDelivery::from_postconf(
        "mail.example.org, localhost.example.org, localhost\n+\n/var/mail\n\n\n\n\
         local:mail.example.org\nhash:/etc/aliases\n",
    )
}

#[test]
fn a_local_address_is_followed_through_aliases_to_its_mailbox() {
    let root = Root::new("/tmp/t");
    let at = |a: &str, c: &LocalDelivery| locate(&root, a, c, ALIASES, PASSWD);
    let spool = |u: &str| Ok(Mailbox::Mbox(format!("/tmp/t/var/mail/{u}").into()));
    assert_eq!(at("root@localhost", &conf()), spool("root"));
    assert_eq!(at("abuse@LOCALHOST", &conf()), spool("root"), "two levels");
    assert_eq!(
        at("alice+selftest@mail.example.org", &conf()),
        spool("alice")
    );
    let unreadable = |a: &str, c: &LocalDelivery| match at(a, c) {
        Err(NotHere::Unreadable(why)) => why,
        other => panic!("{a}: {other:?}"),
    };
    assert!(unreadable("team@localhost", &conf()).contains("alice, bob"));
    assert!(unreadable("list@localhost", &conf()).contains("|/usr"));
    assert!(unreadable("nobody@localhost", &conf()).contains("no user"));
    assert!(unreadable("root@[127.0.0.1]", &conf()).contains("address literal"));
    match at("me@gmail.com", &conf()) {
        Err(NotHere::Elsewhere(why)) => assert!(why.contains("not in mydestination")),
        other => panic!("{other:?}"),
    }
    let mut maildir = conf();
    maildir.home_mailbox = "Maildir/".into();
    assert_eq!(
        at("alice@localhost", &maildir),
        Ok(Mailbox::Maildir("/tmp/t/home/alice/Maildir".into()))
    );
    let mut procmail = conf();
    procmail.mailbox_command = "procmail -a \"$EXTENSION\"".into();
    assert!(unreadable("root@localhost", &procmail).contains("procmail"));
    let mut lmtp = conf();
    lmtp.local_transport = "lmtp:unix:private/dovecot-lmtp".into();
    assert!(unreadable("root@localhost", &lmtp).contains("local_transport"));
    let mut maps = conf();
    maps.alias_maps = "hash:/etc/aliases, ldap:/etc/postfix/ldap-aliases.cf".into();
    assert!(unreadable("root@localhost", &maps).contains("ldap:/etc/postfix/ldap-aliases.cf"));
    let dir = tempfile::tempdir().unwrap();
    let tree = Root::new(dir.path());
    std::fs::create_dir_all(dir.path().join("home/alice")).unwrap();
    std::fs::write(
        dir.path().join("home/alice/.forward"),
        "alice@example.net\n",
    )
    .unwrap();
    let forwarded = locate(&tree, "alice@localhost", &conf(), ALIASES, PASSWD);
    assert!(
        matches!(&forwarded, Err(NotHere::Unreadable(w)) if w.contains("/home/alice/.forward")),
        "{forwarded:?}"
    );
}

#[test]
fn only_what_arrives_after_the_mark_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let one = "From a@b  Sat Nov 21 18:50:19 2026\nMessage-ID: <one@x>\n\nbody\n\n";
    let two = "From a@b  Sat Nov 21 18:50:20 2026\nMessage-ID: <two@x>\n\nbody\n\n";
    let mbox = Mailbox::Mbox(dir.path().join("root"));
    let absent = mark(&mbox);
    std::fs::write(dir.path().join("root"), one).unwrap();
    let mark_one = mark(&mbox);
    std::fs::write(dir.path().join("root"), format!("{one}{two}")).unwrap();
    let ids = |m: &Mark| {
        read_since(&mbox, m)
            .unwrap()
            .iter()
            .map(|t| t.lines().next().unwrap_or_default().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&absent), ["Message-ID: <one@x>", "Message-ID: <two@x>"]);
    assert_eq!(ids(&mark_one), ["Message-ID: <two@x>"]);
    std::fs::write(dir.path().join("root"), two).unwrap(); // rotated: shorter than the mark
    let rotated = Mark {
        offset: 1 << 20,
        seen: BTreeSet::new(),
    };
    assert_eq!(ids(&rotated), ["Message-ID: <two@x>"]);

    let maildir = Mailbox::Maildir(dir.path().join("Maildir"));
    std::fs::create_dir_all(dir.path().join("Maildir/new")).unwrap();
    std::fs::write(
        dir.path().join("Maildir/new/1.host"),
        "Message-ID: <one@x>\n",
    )
    .unwrap();
    let before = mark(&maildir);
    std::fs::write(
        dir.path().join("Maildir/new/2.host"),
        "Message-ID: <two@x>\n",
    )
    .unwrap();
    let new = read_since(&maildir, &before).unwrap();
    assert_eq!(new, ["Message-ID: <two@x>\n"]);
}

#[test]
fn mbox_messages_are_split_at_from_lines_and_found_by_message_id() {
    // local(8) quotes a body line that starts with `From ` as `>From `
    let mbox = "From a@b  Sat Nov 21 18:50:19 2026\nMessage-ID: <one@x>\nSubject: 1\n\n\
                >From here on, a body line\nFrom within a paragraph\n\n\
                From c@d  Sat Nov 21 18:50:20 2026\nMessage-Id:  <Two@x>\n\nbody\n\n";
    let messages = mbox_messages(mbox);
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(messages[0].contains("\nFrom within"), "not a separator");
    assert_eq!(
        find(&messages, "<two@x>").as_deref(),
        Some("Message-Id:  <Two@x>\r\n\r\nbody\r\n\r\n")
    );
    assert_eq!(find(&messages, "<three@x>"), None);
}
