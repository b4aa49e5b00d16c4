//! Settings: every one a command-line flag and an environment variable (`SHEZU_*`). With none
//! given, shezu runs on a SQLite file in the working directory.

use clap::Args;

/// Where the data lives.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// Database URL: `sqlite:shezu.db` (the default, a file in the working directory) or
    /// `postgres://user@host/dbname`.
    #[arg(
        long = "database",
        env = "SHEZU_DATABASE_URL",
        default_value = "sqlite:shezu.db"
    )]
    pub url: String,
}

/// Facts about the installation that rules depend on.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// The registering authority's 6-digit division code (positions 3–8 of the codes it
    /// issues); 120116 is Binhai New Area.
    #[arg(long, env = "SHEZU_DIVISION", default_value = "120116", value_parser = parse_division)]
    pub division: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            division: "120116".into(),
        }
    }
}

fn parse_division(s: &str) -> Result<String, String> {
    if s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s.to_owned())
    } else {
        Err("a division code has 6 digits, e.g. 120116".into())
    }
}
