//! The wizard's terminal front end: a thin runtime over [`crate::wizard`]. It turns
//! crossterm events into [`Msg`]s, runs the [`Effect`]s (see [`effects`]) as tokio tasks that
//! answer with messages on one channel, ticks once a second, and draws the state with
//! [`view::render`]. The terminal is restored on exit, on panic (ratatui's hook), on Ctrl-C
//! (a key in raw mode), and on SIGTERM / SIGHUP.

pub mod effects;
pub mod theme;
pub mod view;

use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{Event, EventStream, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use futures_util::StreamExt;
use tokio::signal::unix::{SignalKind, signal};

use crate::error::{Error, Result};
use crate::wizard::{Effect, Key, Msg, Options, Wizard};
use effects::Context;
use theme::Theme;

/// Run the wizard on this terminal until the operator quits. Errors: the terminal cannot
/// be set up (not a terminal), or the async runtime cannot start.
pub fn run(options: Options, ctx: Context) -> Result<u8> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("start the async runtime", "-", e))?;
    let theme = Theme::from_env();
    // the demo's sandbox says where it is kept when it goes: after the screen is restored
    let demo = ctx.demo.clone();
    let mut terminal =
        ratatui::try_init().map_err(|e| Error::io("set up the terminal", "/dev/tty", e))?;
    let result = rt.block_on(event_loop(&mut terminal, options, Arc::new(ctx), &theme));
    ratatui::restore();
    drop(demo);
    result
}

async fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    options: Options,
    ctx: Arc<Context>,
    theme: &Theme,
) -> Result<u8> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Msg>();
    let (mut wizard, start) = Wizard::new(options);
    let mut events = EventStream::new();
    let mut ticks = tokio::time::interval(Duration::from_secs(1));
    let mut term =
        signal(SignalKind::terminate()).map_err(|e| Error::io("watch signals", "-", e))?;
    let mut hup = signal(SignalKind::hangup()).map_err(|e| Error::io("watch signals", "-", e))?;
    let mut pending = start;
    loop {
        for effect in pending.drain(..) {
            match effect {
                Effect::Quit => return Ok(0),
                // finished before quitting, which follows it
                Effect::SaveAnswers(_) => {
                    if let Some(msg) = effects::run(effect, ctx.clone()).await {
                        wizard.update(msg);
                    }
                    continue;
                }
                _ => {}
            }
            let (tx, ctx) = (tx.clone(), ctx.clone());
            tokio::spawn(async move {
                if let Some(msg) = effects::run(effect, ctx).await {
                    let _ = tx.send(msg);
                }
            });
        }
        terminal
            .draw(|f| view::render(&wizard, theme, f))
            .map_err(|e| Error::io("draw", "/dev/tty", e))?;
        let msg = tokio::select! {
            Some(ev) = events.next() => match ev {
                Ok(Event::Key(k)) if k.kind == KeyEventKind::Press => match key(k) {
                    Some(k) => Msg::Key(k),
                    None => continue,
                },
                Ok(_) => continue, // resize and the like: redraw
                Err(e) => return Err(Error::io("read the terminal", "/dev/tty", e)),
            },
            Some(msg) = rx.recv() => msg,
            _ = ticks.tick() => Msg::Tick,
            // as a shell reports a process the signal ended (a step being written finishes
            // or is undone first: the runtime waits for it)
            _ = term.recv() => return Ok(143),
            _ = hup.recv() => return Ok(129),
        };
        pending = wizard.update(msg);
    }
}

/// The wizard's key for a crossterm key event.
fn key(k: KeyEvent) -> Option<Key> {
    if k.modifiers.contains(KeyModifiers::CONTROL) {
        return matches!(k.code, KeyCode::Char('c')).then_some(Key::CtrlC);
    }
    Some(match k.code {
        KeyCode::Enter => Key::Enter,
        KeyCode::Esc => Key::Esc,
        KeyCode::Tab => Key::Tab,
        KeyCode::BackTab => Key::BackTab,
        KeyCode::Up => Key::Up,
        KeyCode::Down => Key::Down,
        KeyCode::Left => Key::Left,
        KeyCode::Right => Key::Right,
        KeyCode::PageUp => Key::PageUp,
        KeyCode::PageDown => Key::PageDown,
        KeyCode::Backspace => Key::Backspace,
        KeyCode::Char(c) => Key::Char(c),
        _ => return None,
    })
}
