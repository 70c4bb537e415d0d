//! `showcase-deploy completions <shell>` and `showcase-deploy man`: generated
//! from the clap definitions, each something its shell or `man` accepts.

use std::process::Command;

fn run(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_showcase-deploy"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Runs `shell -n` (parse only) over the script, when that shell is installed.
fn parses_in(shell: &str, script: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("completion");
    std::fs::write(&file, script).unwrap();
    match Command::new(shell).arg("-n").arg(&file).output() {
        Ok(output) => assert!(
            output.status.success(),
            "{shell} -n: {}",
            String::from_utf8_lossy(&output.stderr)
        ),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("{shell} is not installed: its syntax check is skipped");
        }
        Err(error) => panic!("{shell}: {error}"),
    }
}

const SUBCOMMANDS: &[&str] = &[
    "build",
    "validate",
    "plan",
    "up",
    "drift",
    "down",
    "outputs",
    "permissions",
    "migrate",
    "run",
    "sql",
    "schema",
    "completions",
    "man",
];

#[test]
fn bash_completion_defines_its_function_and_every_subcommand() {
    let script = run(&["completions", "bash"]);
    // clap names the function after the binary, `-` written `__`.
    assert!(script.contains("_showcase__deploy() {"), "{script}");
    assert!(
        script.contains("complete -F _showcase__deploy") && script.contains("showcase-deploy"),
        "{script}"
    );
    for subcommand in SUBCOMMANDS {
        assert!(script.contains(subcommand), "{subcommand}");
    }
    assert!(script.contains("--delete-data") && script.contains("--var"));
    parses_in("bash", &script);
    // Sourced into a shell it registers the completion.
    let output = Command::new("bash")
        .arg("-c")
        .arg(format!("{script}\ncomplete -p showcase-deploy"))
        .output();
    if let Ok(output) = output {
        assert!(
            String::from_utf8_lossy(&output.stdout).contains("_showcase__deploy"),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn zsh_and_fish_completions_name_the_tool_and_its_subcommands() {
    let zsh = run(&["completions", "zsh"]);
    assert!(zsh.starts_with("#compdef showcase-deploy"), "{zsh}");
    let fish = run(&["completions", "fish"]);
    assert!(fish.contains("complete -c showcase-deploy"), "{fish}");
    for subcommand in SUBCOMMANDS {
        assert!(zsh.contains(subcommand), "zsh: {subcommand}");
        assert!(fish.contains(subcommand), "fish: {subcommand}");
    }
    assert!(fish.contains("drift") && fish.contains("Compare the live resources"));
    parses_in("zsh", &zsh);
    parses_in("fish", &fish);
}

#[test]
fn an_unknown_shell_is_bad_usage() {
    let output = Command::new(env!("CARGO_BIN_EXE_showcase-deploy"))
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&output.stderr).contains("bash"));
}

#[test]
fn the_man_page_is_roff_with_every_subcommand() {
    let page = run(&["man"]);
    assert!(page.contains(".TH showcase-deploy 1"), "{page}");
    for section in [".SH NAME", ".SH SYNOPSIS", ".SH SUBCOMMANDS"] {
        assert!(page.contains(section), "{section}");
    }
    for subcommand in SUBCOMMANDS {
        assert!(
            page.contains(&format!(
                "showcase\\-deploy\\-{}(1)",
                subcommand.replace('-', "\\-")
            )),
            "{subcommand}:\n{page}"
        );
    }
    // It renders without a warning (as man-db does: groff with preconv), when groff is installed.
    renders(&page);
}

#[test]
fn man_out_dir_writes_a_page_per_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    run(&["man", "--out-dir", dir.path().to_str().unwrap()]);
    for subcommand in SUBCOMMANDS {
        let page =
            std::fs::read_to_string(dir.path().join(format!("showcase-deploy-{subcommand}.1")))
                .unwrap_or_else(|e| panic!("{subcommand}: {e}"));
        assert!(
            page.contains(&format!(".TH showcase-deploy-{subcommand} 1")),
            "{page}"
        );
        renders(&page);
    }
    let top = std::fs::read_to_string(dir.path().join("showcase-deploy.1")).unwrap();
    assert_eq!(top, run(&["man"]));
}

fn renders(page: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("showcase-deploy.1");
    std::fs::write(&file, page).unwrap();
    if let Ok(output) = Command::new("groff")
        .args(["-k", "-man", "-Tutf8", "-ww", "-z"])
        .arg(&file)
        .output()
    {
        assert!(
            output.status.success() && output.stderr.is_empty(),
            "groff: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
