//! Imports run in the background (后台导入任务) for the staff upload pages: the uploaded file
//! is kept in a temporary file, a task checks the rows against the uploader's scope and runs
//! [`import_organizations`] (or the import of another kind of record, `crate::imports`) on
//! it, and the job's phase and row counts are kept in memory for the progress page. A job
//! lives on the app server that received the upload (a second server answers its page with
//! 404) and is forgotten [`KEEP`] after it ends; its file is removed as soon as nothing needs
//! it (at once after a good import, with the job after a refused one, which keeps it for the
//! error workbook).

use super::import::{
    ImportError, ImportSummary, Progress, RowError, column_of, import_organizations,
};
use super::records::Records;
use super::store;
use super::uscc::Uscc;
use crate::audit::Actor;
use crate::auth::{Scope, UserId};
use crate::db::Db;
use crate::i18n::Msg;
use crate::imports::{ImportKind, Importer};
use std::collections::{HashMap, HashSet};
use std::io::BufReader;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long an ended job (and a refused file) is kept for its page and error workbook.
pub const KEEP: Duration = Duration::from_secs(60 * 60);

/// Where a job is.
#[derive(Debug, Clone)]
pub enum Phase {
    /// Waiting for its turn or checking the scope.
    Queued,
    /// The validation pass.
    Validating,
    /// The writing pass (one transaction).
    Writing,
    /// Imported.
    Done(ImportSummary),
    /// Refused: every problem, nothing written.
    Invalid(Arc<Vec<RowError>>),
    /// The file could not be read (a catalogue message) or the database failed.
    Failed(Msg),
}

impl Phase {
    /// Whether the job has ended.
    pub fn ended(&self) -> bool {
        matches!(self, Phase::Done(_) | Phase::Invalid(_) | Phase::Failed(_))
    }
}

/// One upload being imported.
#[derive(Debug)]
pub struct Job {
    /// Who uploaded it (only they see it).
    pub owner: UserId,
    /// What it imports: organizations (`None`) or another kind of record.
    pub kind: Option<ImportKind>,
    /// The name the file had.
    pub file_name: String,
    /// The uploaded bytes, on disk.
    pub path: PathBuf,
    state: Mutex<JobState>,
}

/// What the progress page shows.
#[derive(Debug, Clone)]
pub struct JobState {
    /// Phase.
    pub phase: Phase,
    /// Rows done in the current pass.
    pub rows: u64,
    /// Rows a second in the current pass.
    pub rate: f64,
    /// When the job ended.
    pub ended_at: Option<Instant>,
}

impl Job {
    /// A copy of the job's state.
    pub fn state(&self) -> JobState {
        self.state.lock().map(|s| s.clone()).unwrap_or(JobState {
            phase: Phase::Failed(Msg::new("error.internal")),
            rows: 0,
            rate: 0.0,
            ended_at: None,
        })
    }

    fn set(&self, f: impl FnOnce(&mut JobState)) {
        if let Ok(mut s) = self.state.lock() {
            f(&mut s);
        }
    }
}

/// The jobs of this app server, by their random id.
#[derive(Debug, Default)]
pub struct ImportJobs {
    jobs: Mutex<HashMap<String, Arc<Job>>>,
}

impl ImportJobs {
    /// The job `id` if `owner` started it.
    pub fn get(&self, id: &str, owner: UserId) -> Option<Arc<Job>> {
        let jobs = self.jobs.lock().ok()?;
        jobs.get(id).filter(|j| j.owner == owner).cloned()
    }

    /// Registers a job for the file at `path` and returns its id; forgets jobs ended more than
    /// [`KEEP`] ago (removing their files).
    pub fn add(
        &self,
        owner: UserId,
        kind: Option<ImportKind>,
        file_name: String,
        path: PathBuf,
    ) -> (String, Arc<Job>) {
        let id = random_id();
        let job = Arc::new(Job {
            owner,
            kind,
            file_name,
            path,
            state: Mutex::new(JobState {
                phase: Phase::Queued,
                rows: 0,
                rate: 0.0,
                ended_at: None,
            }),
        });
        if let Ok(mut jobs) = self.jobs.lock() {
            jobs.retain(|_, j| {
                let old = j.state().ended_at.is_some_and(|t| t.elapsed() > KEEP);
                if old {
                    let _ = std::fs::remove_file(&j.path);
                }
                !old
            });
            jobs.insert(id.clone(), job.clone());
        }
        (id, job)
    }
}

/// 32 random hex digits: a job's id cannot be guessed.
fn random_id() -> String {
    let mut bytes = [0u8; 16];
    let _ = getrandom::fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A temporary file name for an upload.
pub fn temp_path() -> PathBuf {
    std::env::temp_dir().join(format!("shezu-import-{}", random_id()))
}

/// Who a job imports as: the audit actor, their scope for the job's kind, and whether they
/// may verify volunteer hours.
#[derive(Debug, Clone)]
pub struct JobImporter {
    /// Whom the writes are audited under.
    pub actor: Actor,
    /// What they reach.
    pub scope: Scope,
    /// Whether they may verify volunteer hours.
    pub verify_hours: bool,
}

/// Runs `job` to its end: the scope check, then the import.
pub async fn run(db: Db, job: Arc<Job>, importer: JobImporter) {
    let outcome = import_job(&db, &job, &importer).await;
    let phase = match outcome {
        Ok(summary) => Phase::Done(summary),
        Err(ImportError::Invalid(errors)) => Phase::Invalid(Arc::new(errors)),
        Err(ImportError::Io(e)) => Phase::Failed(
            crate::export::xlsx_read::error_message(&e)
                .cloned()
                .unwrap_or_else(|| Msg::new("import.error.unreadable")),
        ),
        Err(ImportError::Db(e)) => {
            tracing::error!("import job: {e}");
            Phase::Failed(Msg::new("error.internal"))
        }
    };
    if !matches!(phase, Phase::Invalid(_)) {
        let _ = std::fs::remove_file(&job.path);
    }
    job.set(|s| {
        s.phase = phase;
        s.ended_at = Some(Instant::now());
    });
}

async fn import_job(
    db: &Db,
    job: &Arc<Job>,
    importer: &JobImporter,
) -> Result<ImportSummary, ImportError> {
    // The other kinds check each row's organization against the scope as they validate.
    if let (None, Scope::Limited { .. }) = (job.kind, &importer.scope) {
        let errors = out_of_scope_rows(db, &importer.scope, &job.path).await?;
        if !errors.is_empty() {
            return Err(ImportError::Invalid(errors));
        }
    }
    let file = std::fs::File::open(&job.path)?;
    let progress_job = job.clone();
    let mut progress = move |p: Progress| {
        progress_job.set(|s| {
            s.phase = if p.writing {
                Phase::Writing
            } else {
                Phase::Validating
            };
            s.rows = p.rows;
            s.rate = p.rows_per_second;
        })
    };
    job.set(|s| s.phase = Phase::Validating);
    match job.kind {
        None => import_organizations(db, &importer.actor, file, &mut progress).await,
        Some(kind) => {
            let as_who = Importer {
                actor: &importer.actor,
                scope: &importer.scope,
                verify_hours: importer.verify_hours,
            };
            kind.import(db, &as_who, file, &mut progress, chrono::Utc::now())
                .await
        }
    }
}

/// Rows that would write outside `scope`: an area (by code or name) the scope does not reach,
/// or a USCC of an organization the scope does not see (an update of it).
pub async fn out_of_scope_rows(
    db: &Db,
    scope: &Scope,
    path: &std::path::Path,
) -> Result<Vec<RowError>, ImportError> {
    let mut conn = db.acquire().await?;
    let areas = crate::areas::store::list_all(&mut conn.conn()).await?;
    let reach = reachable_codes(scope, &areas);
    let mut by_name: HashMap<&str, Vec<&str>> = HashMap::new();
    let known: HashSet<&str> = areas.iter().map(|a| a.code.as_str()).collect();
    for a in &areas {
        by_name.entry(a.name.as_str()).or_default().push(&a.code);
    }
    let file = BufReader::new(std::fs::File::open(path)?);
    let mut records = Records::open(file)?;
    let Some((_, header)) = records.next_record()? else {
        return Ok(Vec::new());
    };
    let columns: Vec<Option<&str>> = header.iter().map(|h| column_of(h)).collect();
    let at = |name: &str| columns.iter().position(|c| *c == Some(name));
    let (code_at, name_at, uscc_at) = (at("area_code"), at("area_name"), at("uscc"));
    let mut errors = Vec::new();
    while let Some((line, record)) = records.next_record()? {
        let cell = |i: Option<usize>| {
            i.and_then(|i| record.get(i))
                .map(|v| v.trim())
                .unwrap_or("")
        };
        let area = match cell(code_at) {
            "" => cell(name_at),
            code => code,
        };
        let codes: Vec<&str> = if known.contains(area) {
            vec![area]
        } else {
            by_name.get(area).cloned().unwrap_or_default()
        };
        // An unknown or ambiguous area is the import's own error; only a known one is judged.
        if codes.len() == 1 && !reach.contains(codes[0]) {
            errors.push(RowError {
                line,
                field: "org.field.area_code".into(),
                msg: Msg::new("import.error.out_of_scope"),
            });
            continue;
        }
        if let Ok(uscc) = Uscc::parse(cell(uscc_at)) {
            let mut c = conn.conn();
            let exists = store::find_by_uscc(&mut c, &Scope::All, &uscc)
                .await?
                .is_some();
            if exists && store::find_by_uscc(&mut c, scope, &uscc).await?.is_none() {
                errors.push(RowError {
                    line,
                    field: "org.field.uscc".into(),
                    msg: Msg::new("import.error.out_of_scope_org"),
                });
            }
        }
    }
    Ok(errors)
}

/// The division codes of the areas `scope` reaches (its areas and everything below them).
pub fn reachable_codes(scope: &Scope, areas: &[crate::areas::store::AreaRow]) -> HashSet<String> {
    match scope {
        Scope::All => areas.iter().map(|a| a.code.clone()).collect(),
        Scope::Limited { areas: roots, .. } => {
            let roots: HashSet<i64> = roots.iter().map(|r| r.0).collect();
            let parent: HashMap<i64, Option<i64>> =
                areas.iter().map(|a| (a.id, a.parent_id)).collect();
            areas
                .iter()
                .filter(|a| {
                    let mut at = Some(a.id);
                    while let Some(id) = at {
                        if roots.contains(&id) {
                            return true;
                        }
                        at = parent.get(&id).copied().flatten();
                    }
                    false
                })
                .map(|a| a.code.clone())
                .collect()
        }
        Scope::Public => HashSet::new(),
    }
}
