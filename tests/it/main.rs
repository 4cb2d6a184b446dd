//! The integration tests, one binary (`cargo test --test it`): one module per subject, sharing
//! [`support`]. One binary is linked once instead of once per file; the tests of all modules run
//! in parallel in one process, so none may change what the process shares (the current
//! directory, the environment, a fixed port, signal dispositions).
//!
//! Fixtures are in `tests/fixtures/` (paths in [`support`]), insta snapshots in
//! `tests/it/snapshots/it__<module>__<name>.snap`, proptest regressions in
//! `tests/proptest-regressions/<module>.txt`, the end-to-end test of the real daemons in
//! `tests/e2e/`.

mod support;

mod answers;
mod answers_saved;
mod apply;
mod check;
mod check_cli;
mod check_servers;
mod check_unknown;
mod demo;
mod dns;
mod docs;
mod fleet;
mod inbound_dmarc;
mod inbound_spf;
mod ipv6_only;
mod json_out;
mod mta_sts;
mod opendkim_conf;
mod opendkim_default_file;
mod opendkim_real;
mod opendkim_tables;
mod port25;
mod records;
mod remote;
mod requirements;
mod rotate;
mod selftest;
mod selftest_via_postfix;
mod signer;
mod small_things;
mod sweep_dns;
mod sweep_local;
mod tls;
mod tls_checks;
mod transaction;
mod wizard_tmux;
mod wizard_view;
