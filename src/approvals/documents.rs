//! The documents each application must carry (DOMAIN §2.3) and the checks an upload passes:
//! size, and type by content (not by the name it was given).

use super::ApplicationKind;
use crate::i18n::{Lang, Msg};

/// Largest upload accepted, in bytes.
pub const MAX_UPLOAD_BYTES: usize = 10 * 1024 * 1024;

/// A kind of document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocType {
    /// 登记申请书 / 备案申请表.
    ApplicationLetter,
    /// 章程 (or, for a community group, its activity rules).
    Charter,
    /// 住所使用证明.
    AddressProof,
    /// 验资证明 / 资金证明.
    CapitalProof,
    /// 负责人身份证明.
    HeadId,
    /// 业务主管单位同意文件.
    SupervisorConsent,
    /// 清算报告 (deregistration).
    LiquidationReport,
    /// Anything else the applicant adds.
    Other,
}

impl DocType {
    /// Every type, in the order forms list them.
    pub const ALL: [DocType; 8] = [
        DocType::ApplicationLetter,
        DocType::Charter,
        DocType::AddressProof,
        DocType::CapitalProof,
        DocType::HeadId,
        DocType::SupervisorConsent,
        DocType::LiquidationReport,
        DocType::Other,
    ];

    /// The machine name.
    pub fn as_str(self) -> &'static str {
        match self {
            DocType::ApplicationLetter => "application_letter",
            DocType::Charter => "charter",
            DocType::AddressProof => "address_proof",
            DocType::CapitalProof => "capital_proof",
            DocType::HeadId => "head_id",
            DocType::SupervisorConsent => "supervisor_consent",
            DocType::LiquidationReport => "liquidation_report",
            DocType::Other => "other",
        }
    }

    /// Parses a machine name.
    pub fn parse(s: &str) -> Option<DocType> {
        DocType::ALL.into_iter().find(|d| d.as_str() == s.trim())
    }

    /// The name in `lang`.
    pub fn label(self, lang: Lang) -> &'static str {
        lang.t(&format!("document.{}", self.as_str()))
    }
}

/// The documents an application of `kind` for an organization of `org` kind must carry before
/// it can be submitted; a non-direct founding also needs the supervisory unit's consent.
pub fn required(
    kind: ApplicationKind,
    org: crate::registry::OrgKind,
    needs_consent: bool,
) -> Vec<DocType> {
    use DocType::*;
    let mut docs = match kind {
        // After preparation a social group brings its adopted charter and the founding
        // meeting's application; the rest came with the preparation.
        ApplicationKind::Establishment if org == crate::registry::OrgKind::SocialGroup => {
            vec![ApplicationLetter, Charter]
        }
        ApplicationKind::Preparation | ApplicationKind::Establishment => vec![
            ApplicationLetter,
            Charter,
            AddressProof,
            CapitalProof,
            HeadId,
        ],
        ApplicationKind::Filing => vec![ApplicationLetter, Charter, HeadId],
        ApplicationKind::Change => vec![ApplicationLetter],
        ApplicationKind::Deregistration => vec![ApplicationLetter, LiquidationReport],
    };
    if needs_consent {
        docs.push(SupervisorConsent);
    }
    docs
}

/// The type of an upload judged by its first bytes: PDF, PNG or JPEG; anything else is refused
/// whatever its name says.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else {
        None
    }
}

/// Checks an upload: not empty, not too large, a type we accept. Gives its content type.
pub fn check_upload(bytes: &[u8]) -> Result<&'static str, Msg> {
    if bytes.is_empty() {
        return Err(Msg::new("document.error.empty"));
    }
    if bytes.len() > MAX_UPLOAD_BYTES {
        return Err(
            Msg::new("document.error.too_large").with("max_mb", MAX_UPLOAD_BYTES / 1024 / 1024)
        );
    }
    sniff(bytes).ok_or_else(|| Msg::new("document.error.type"))
}

/// The virus-scan hook: when `SHEZU_UPLOAD_SCAN_COMMAND` is set (e.g. `clamdscan --no-summary -`),
/// the upload is piped to it through `sh -c` and refused unless it exits 0. Blocking: call it
/// from a blocking task.
pub fn scan(bytes: &[u8]) -> Result<(), Msg> {
    let Ok(command) = std::env::var("SHEZU_UPLOAD_SCAN_COMMAND") else {
        return Ok(());
    };
    use std::io::Write;
    let child = std::process::Command::new("sh")
        .args(["-c", &command])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    let Ok(mut child) = child else {
        return Err(Msg::new("document.error.scan"));
    };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(bytes);
    }
    match child.wait() {
        Ok(status) if status.success() => Ok(()),
        _ => Err(Msg::new("document.error.scan")),
    }
}

/// Where the bytes of documents are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocumentStore {
    /// In the database row (the default: a backup holds everything).
    Database,
    /// In a directory, one file per content (named by SHA-256, two-letter fan-out).
    Directory(std::path::PathBuf),
}

impl DocumentStore {
    /// The file a content with this SHA-256 lives in, for a directory store.
    pub fn path(dir: &std::path::Path, sha256: &str) -> std::path::PathBuf {
        dir.join(&sha256[..2.min(sha256.len())]).join(sha256)
    }

    /// Writes `bytes` under their hash (atomically: a temporary file renamed into place), unless
    /// the same content is already there. Blocking.
    pub fn write_file(dir: &std::path::Path, sha256: &str, bytes: &[u8]) -> std::io::Result<()> {
        let path = Self::path(dir, sha256);
        if path.exists() {
            return Ok(());
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, &path)
    }
}

/// A file name safe to send back in a download header: path parts, quotes and control
/// characters removed, at most 100 characters.
pub fn clean_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | ';'))
        .take(100)
        .collect();
    if cleaned.trim().is_empty() {
        "document".into()
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_are_judged_by_content() {
        assert_eq!(check_upload(b"%PDF-1.7\n..."), Ok("application/pdf"));
        assert_eq!(check_upload(b"\x89PNG\r\n\x1a\n...."), Ok("image/png"));
        assert_eq!(check_upload(&[0xFF, 0xD8, 0xFF, 0xE0]), Ok("image/jpeg"));
        // An executable renamed to .pdf is still an executable.
        assert_eq!(
            check_upload(b"MZ\x90\x00").unwrap_err().key,
            "document.error.type"
        );
        assert_eq!(check_upload(b"").unwrap_err().key, "document.error.empty");
        let big = vec![b'%'; MAX_UPLOAD_BYTES + 1];
        assert_eq!(
            check_upload(&big).unwrap_err().key,
            "document.error.too_large"
        );
    }

    #[test]
    fn required_documents_per_kind() {
        assert!(
            required(
                ApplicationKind::Establishment,
                crate::registry::OrgKind::PrivateNonEnterprise,
                false
            )
            .contains(&DocType::Charter)
        );
        assert!(
            !required(
                ApplicationKind::Establishment,
                crate::registry::OrgKind::PrivateNonEnterprise,
                false
            )
            .contains(&DocType::SupervisorConsent)
        );
        assert!(
            required(
                ApplicationKind::Establishment,
                crate::registry::OrgKind::PrivateNonEnterprise,
                true
            )
            .contains(&DocType::SupervisorConsent)
        );
        assert!(
            required(
                ApplicationKind::Deregistration,
                crate::registry::OrgKind::SocialGroup,
                false
            )
            .contains(&DocType::LiquidationReport)
        );
        for d in DocType::ALL {
            assert_eq!(DocType::parse(d.as_str()), Some(d));
            assert!(!d.label(Lang::Zh).starts_with("document."), "{d:?}");
        }
    }

    #[test]
    fn filenames_are_cleaned() {
        assert_eq!(clean_filename("../../etc/章程.pdf"), "章程.pdf");
        assert_eq!(clean_filename("a\"b;c\r\n.pdf"), "abc.pdf");
        assert_eq!(clean_filename("   "), "document");
    }
}
