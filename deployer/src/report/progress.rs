use indicatif::{ProgressBar, ProgressStyle};

/// A progress bar on a terminal, plain lines otherwise. Lines printed through
/// it never tear the bar.
pub enum Progress {
    Bar(ProgressBar),
    Lines,
}

impl Progress {
    pub fn new(total: u64, interactive: bool) -> Progress {
        if !interactive || total < 2 {
            return Progress::Lines;
        }
        let bar = ProgressBar::new(total);
        let colour = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        let template = if colour {
            "{bar:30.cyan/blue} {pos}/{len} days {msg} ({eta} left)"
        } else {
            "{bar:30} {pos}/{len} days {msg} ({eta} left)"
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style);
        }
        Progress::Bar(bar)
    }

    pub fn println(&self, line: &str) {
        match self {
            Progress::Bar(bar) => bar.println(line),
            Progress::Lines => println!("{line}"),
        }
    }

    pub fn working_on(&self, what: &str) {
        if let Progress::Bar(bar) = self {
            bar.set_message(what.to_owned());
        }
    }

    pub fn advance(&self) {
        if let Progress::Bar(bar) = self {
            bar.inc(1);
        }
    }

    pub fn finish(&self) {
        if let Progress::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}
