//! A minimal milter client (the Sendmail milter protocol, version 6, as Postfix speaks it):
//! enough to hand one message to OpenDKIM the way Postfix would and collect the headers it
//! adds. Packets are a 4-byte big-endian length, a command byte and its data; strings are
//! NUL-terminated (libmilter's `mfdef.h`).
//!
//! Written here rather than taken from `miltr-client` 0.1.3, whose parser has no
//! `SMFIR_ACCEPT` ('a'), the answer OpenDKIM gives after the end of the body.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Protocol version (mfdef.h `SMFI_PROT_VERSION`).
const VERSION: u32 = 6;
/// Actions we allow: add header, change body, add/delete recipient, change header,
/// quarantine, insert header… (mfdef.h `SMFIF_*`, all of version 2's set).
const ACTIONS: u32 = 0x1ff;
/// A packet larger than this is refused (libmilter's own limit is 64 KiB for bodies).
const MAX_PACKET: u32 = 1 << 20;

/// How the milter answered a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Headers the milter asked to add or insert, in order: `(name, value)`.
    pub added: Vec<(String, String)>,
    /// The final answer's command byte: `a` accept, `c` continue, `r` reject, `t` tempfail,
    /// `d` discard, `y` reply code; or the first non-continue answer before the end.
    pub verdict: char,
}

/// One message, as Postfix would present it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message<'a> {
    /// The client: `127.0.0.1` for a local submission.
    pub client_addr: &'a str,
    pub helo: &'a str,
    pub mail_from: &'a str,
    pub rcpt_to: &'a str,
    pub headers: &'a [(&'a str, &'a str)],
    /// CRLF line ends.
    pub body: &'a str,
    /// Macros sent before the connect (`j` the MTA's name, `i` the queue id, …).
    pub macros: &'a [(&'a str, &'a str)],
}

/// Errors: an I/O failure, or an answer that breaks the protocol; as text.
pub async fn send<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    msg: &Message<'_>,
) -> Result<Outcome, String> {
    let mut optneg = Vec::new();
    optneg.extend(VERSION.to_be_bytes());
    optneg.extend(ACTIONS.to_be_bytes());
    optneg.extend(0u32.to_be_bytes()); // we want an answer to every command
    write(stream, b'O', &optneg).await?;
    let (code, _) = read(stream).await?;
    if code != b'O' {
        return Err(format!("option negotiation answered {:?}", code as char));
    }
    let mut macros = vec![b'C'];
    for (k, v) in msg.macros {
        macros.extend(cstr(k));
        macros.extend(cstr(v));
    }
    write(stream, b'D', &macros).await?;
    let mut connect = cstr("localhost");
    connect.push(b'4');
    connect.extend(25u16.to_be_bytes());
    connect.extend(cstr(msg.client_addr));
    let mut steps: Vec<(u8, Vec<u8>)> = vec![
        (b'C', connect),
        (b'H', cstr(msg.helo)),
        (b'M', cstr(&format!("<{}>", msg.mail_from))),
        (b'R', cstr(&format!("<{}>", msg.rcpt_to))),
    ];
    for (name, value) in msg.headers {
        let mut h = cstr(name);
        h.extend(cstr(value));
        steps.push((b'L', h));
    }
    steps.push((b'N', Vec::new()));
    steps.push((b'B', msg.body.as_bytes().to_vec()));
    for (code, data) in steps {
        write(stream, code, &data).await?;
        let (answer, _) = read(stream).await?;
        match answer {
            b'c' => {}
            b's' if code == b'B' => {} // skip the rest of the body
            other => {
                return Ok(Outcome {
                    added: Vec::new(),
                    verdict: other as char,
                });
            }
        }
    }
    write(stream, b'E', &[]).await?;
    let mut added = Vec::new();
    loop {
        let (code, data) = read(stream).await?;
        match code {
            b'h' => added.push(header(&data)?),
            b'i' if data.len() >= 4 => added.push(header(&data[4..])?),
            b'p' => {} // progress
            b'a' | b'c' | b'r' | b't' | b'd' | b'y' => {
                let _ = write(stream, b'Q', &[]).await;
                return Ok(Outcome {
                    added,
                    verdict: code as char,
                });
            }
            _ => {} // other modifications (body, recipients): not ours to apply
        }
    }
}

fn cstr(s: &str) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    v.push(0);
    v
}

/// `name\0value\0` → (name, value).
fn header(data: &[u8]) -> Result<(String, String), String> {
    let mut parts = data.split(|b| *b == 0);
    let name = parts.next().ok_or("a header without a name")?;
    let value = parts.next().ok_or("a header without a value")?;
    Ok((
        String::from_utf8_lossy(name).into_owned(),
        String::from_utf8_lossy(value).into_owned(),
    ))
}

async fn write<S: AsyncWrite + Unpin>(s: &mut S, code: u8, data: &[u8]) -> Result<(), String> {
    let len = u32::try_from(data.len() + 1).map_err(|_| "packet too large".to_string())?;
    let mut packet = len.to_be_bytes().to_vec();
    packet.push(code);
    packet.extend_from_slice(data);
    s.write_all(&packet)
        .await
        .map_err(|e| format!("milter write: {e}"))
}

async fn read<S: AsyncRead + Unpin>(s: &mut S) -> Result<(u8, Vec<u8>), String> {
    let mut len = [0u8; 4];
    s.read_exact(&mut len)
        .await
        .map_err(|e| format!("milter read: {e}"))?;
    let len = u32::from_be_bytes(len);
    if len == 0 || len > MAX_PACKET {
        return Err(format!("milter answered a packet of {len} bytes"));
    }
    let mut buf = vec![0u8; len as usize];
    s.read_exact(&mut buf)
        .await
        .map_err(|e| format!("milter read: {e}"))?;
    let code = buf[0];
    buf.remove(0);
    Ok((code, buf))
}
