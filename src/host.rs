//! The edges that touch the host, each in its own module: reading files beneath the root
//! ([`system`], through the fence), users and groups ([`accounts`]), the only writer
//! ([`apply`]: the fenced file layer, the journaled transaction, run records, rollback),
//! and the only place a process is spawned ([`services`]: `services::command`, starting and
//! stopping daemons), the package scan and install ([`packages`]), and what the local
//! checks look at ([`probe`]: the files, sockets,
//! listeners, key walks, `postconf -n`, `opendkim -n`). The other edges are [`crate::dns`],
//! [`crate::keys`] (randomness) and [`crate::selftest`]'s milter client and mail.

pub mod accounts;
pub mod apply;
pub mod operator_file;
pub mod packages;
pub mod probe;
pub mod services;
pub mod system;
