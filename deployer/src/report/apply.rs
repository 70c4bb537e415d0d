//! Progress of `up` and `down`: on a terminal a line per resource with a
//! spinner that turns into the result; elsewhere (CI, pipes) one plain line
//! per start and finish, so logs stay readable.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use crate::engine::Event;

pub enum ApplyProgress {
    Bars {
        bars: MultiProgress,
        lines: Mutex<HashMap<String, ProgressBar>>,
    },
    Lines,
    Quiet,
}

impl ApplyProgress {
    /// Bars when interactive, plain lines otherwise, nothing for JSON output.
    pub fn new(interactive: bool, json: bool) -> ApplyProgress {
        match (json, interactive) {
            (true, _) => ApplyProgress::Quiet,
            (false, true) => ApplyProgress::Bars {
                bars: MultiProgress::new(),
                lines: Mutex::new(HashMap::new()),
            },
            (false, false) => ApplyProgress::Lines,
        }
    }

    pub fn event(&self, event: &Event) {
        match self {
            ApplyProgress::Quiet => {}
            ApplyProgress::Lines => match event {
                Event::Started { address, action } => println!("{address}: {action}…"),
                Event::Finished { address, result } => println!("{address}: {result}"),
            },
            ApplyProgress::Bars { bars, lines } => {
                let mut lines = lines.lock().unwrap_or_else(PoisonError::into_inner);
                match event {
                    Event::Started { address, action } => {
                        let bar = bars.add(ProgressBar::new_spinner());
                        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                        {
                            bar.set_style(style);
                        }
                        bar.set_message(format!("{address}: {action}"));
                        bar.enable_steady_tick(Duration::from_millis(100));
                        lines.insert(address.to_string(), bar);
                    }
                    Event::Finished { address, result } => {
                        if let Some(bar) = lines.remove(&address.to_string()) {
                            bar.finish_with_message(format!("{address}: {result}"));
                        }
                    }
                }
            }
        }
    }
}
