//! Per-environment values: `${var.NAME}` in a string of the stack file is
//! replaced by `--var NAME=VALUE`, or else the `SHOWCASE_VAR_NAME` environment
//! variable. A reference to an unset variable is an error at its position.

use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Vars(BTreeMap<String, String>);

impl Vars {
    /// From `--var NAME=VALUE` arguments, then the process environment.
    pub fn from_args_and_env(args: &[String]) -> Result<Vars, String> {
        let mut vars = BTreeMap::new();
        for (name, value) in std::env::vars() {
            if let Some(name) = name.strip_prefix("SHOWCASE_VAR_") {
                vars.insert(name.to_owned(), value);
            }
        }
        for arg in args {
            let (name, value) = arg
                .split_once('=')
                .ok_or_else(|| format!("--var {arg}: expected NAME=VALUE"))?;
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!(
                    "--var {arg}: NAME may contain letters, digits and _ only"
                ));
            }
            vars.insert(name.to_owned(), value.to_owned());
        }
        Ok(Vars(vars))
    }

    pub fn with(mut self, name: &str, value: &str) -> Vars {
        self.0.insert(name.to_owned(), value.to_owned());
        self
    }

    /// Replaces every `${var.NAME}`; the error names the first unset one.
    pub fn substitute(&self, text: &str) -> Result<String, String> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find('}')
                .ok_or_else(|| "an unclosed ${ (write ${var.NAME})".to_owned())?;
            let reference = &after[..end];
            let name = reference.strip_prefix("var.").ok_or_else(|| {
                format!("${{{reference}}} is not a variable reference (write ${{var.NAME}})")
            })?;
            let value = self.0.get(name).ok_or_else(|| {
                format!(
                    "variable {name} is not set: pass --var {name}=VALUE or set SHOWCASE_VAR_{name}"
                )
            })?;
            out.push_str(value);
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitutes_and_reports_unset_variables() {
        let vars = Vars::default().with("env", "prod");
        assert_eq!(
            vars.substitute("lake-${var.env}-data").unwrap(),
            "lake-prod-data"
        );
        assert_eq!(vars.substitute("plain").unwrap(), "plain");
        assert!(
            vars.substitute("${var.account}")
                .unwrap_err()
                .contains("SHOWCASE_VAR_account")
        );
        assert!(vars.substitute("${env}").is_err());
        assert!(vars.substitute("${var.env").is_err());
    }
}
