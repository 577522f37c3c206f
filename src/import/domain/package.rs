//! Reading a DreamFactory package: the ZIP with `package.json` and one JSON
//! array of records per resource under `system/`, every entry encrypted with
//! traditional PKWARE encryption when the package is secured. Everything is
//! read from memory and bounded, so a hostile upload (a ZIP bomb, a huge
//! entry) is refused instead of filling memory.

use std::io::{Cursor, Read};

use serde::Deserialize;
use serde::de::DeserializeOwned;
use zip::ZipArchive;
use zip::result::ZipError;

use super::records::{AdminRecord, AppRecord, RoleRecord, ServiceRecord};

/// The largest package keyward reads (the upload's limit too).
pub const MAX_PACKAGE_BYTES: usize = 32 * 1024 * 1024;
/// The most one JSON entry may hold once inflated.
const MAX_ENTRY_BYTES: u64 = 64 * 1024 * 1024;

/// Why a package could not be read. The messages are for the person who
/// uploaded it, and never quote its contents.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackageError {
    #[error("this is not a ZIP file (a DreamFactory package is the .zip its Export downloads)")]
    NotZip,
    #[error("the ZIP has no package.json, so it is not a DreamFactory package")]
    NoManifest,
    #[error("{0} is not valid JSON of a DreamFactory package: {1}")]
    Unreadable(String, String),
    #[error("{0} is larger than keyward reads ({1} MiB once unpacked)")]
    TooLarge(String, u64),
    #[error("this package is secured: give its password")]
    PasswordRequired,
    #[error("the password is wrong (or the package is damaged)")]
    WrongPassword,
    #[error(
        "{0} is encrypted with a method keyward does not read (only DreamFactory's own ZIP password)"
    )]
    UnsupportedEncryption(String),
}

/// `package.json`, as far as keyward reads it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Manifest {
    #[serde(default)]
    pub df_version: Option<String>,
    #[serde(default)]
    pub secured: bool,
    #[serde(default)]
    pub service: serde_json::Value,
}

/// What a package holds that keyward reads, and what it holds that keyward
/// cannot import (named for the report).
#[derive(Debug, Clone, Default)]
pub struct Package {
    pub manifest: Manifest,
    pub services: Vec<ServiceRecord>,
    pub roles: Vec<RoleRecord>,
    pub apps: Vec<AppRecord>,
    /// `None` when the package has no `system/admin.json`.
    pub admins: Option<Vec<AdminRecord>>,
    /// Records keyward has no place for, by resource: `("user", 12)`.
    pub other_records: Vec<(String, usize)>,
    /// Storage folders (file contents) the package carries.
    pub storage_folders: Vec<String>,
}

impl Package {
    /// Reads a package from its bytes, decrypting it with `password` when it
    /// is secured.
    pub fn read(bytes: &[u8], password: Option<&str>) -> Result<Package, PackageError> {
        if bytes.len() > MAX_PACKAGE_BYTES {
            return Err(PackageError::TooLarge(
                "The package".into(),
                (MAX_PACKAGE_BYTES / 1024 / 1024) as u64,
            ));
        }
        let mut zip = ZipArchive::new(Cursor::new(bytes)).map_err(|_| PackageError::NotZip)?;
        let password = password.filter(|p| !p.is_empty());
        let mut reader = Reader {
            zip: &mut zip,
            password,
        };
        let manifest: Manifest = reader
            .json("package.json")?
            .ok_or(PackageError::NoManifest)?;
        let services = reader.json("system/service.json")?.unwrap_or_default();
        let roles = reader.json("system/role.json")?.unwrap_or_default();
        let apps = reader.json("system/app.json")?.unwrap_or_default();
        let admins = reader.json("system/admin.json")?;
        let mut other_records = Vec::new();
        for resource in [
            "user",
            "cors",
            "email_template",
            "event_script",
            "limit",
            "lookup",
        ] {
            let records: Option<Vec<serde_json::Value>> =
                reader.json(&format!("system/{resource}.json"))?;
            if let Some(records) = records.filter(|r| !r.is_empty()) {
                other_records.push((resource.to_owned(), records.len()));
            }
        }
        let storage_folders = storage_folders(&manifest, &zip);
        Ok(Package {
            manifest,
            services,
            roles,
            apps,
            admins,
            other_records,
            storage_folders,
        })
    }
}

struct Reader<'z, 'b> {
    zip: &'z mut ZipArchive<Cursor<&'b [u8]>>,
    password: Option<&'z str>,
}

impl Reader<'_, '_> {
    /// The entry `name` parsed as JSON; `None` when the package has none.
    fn json<T: DeserializeOwned>(&mut self, name: &str) -> Result<Option<T>, PackageError> {
        let Some(bytes) = self.entry(name)? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| PackageError::Unreadable(name.to_owned(), e.to_string()))
    }

    fn entry(&mut self, name: &str) -> Result<Option<Vec<u8>>, PackageError> {
        if self.zip.index_for_name(name).is_none() {
            return Ok(None);
        }
        let file = match self.password {
            Some(password) => self.zip.by_name_decrypt(name, password.as_bytes()),
            None => self.zip.by_name(name),
        };
        let file = match file {
            Ok(file) => file,
            Err(ZipError::InvalidPassword) => return Err(PackageError::WrongPassword),
            Err(ZipError::UnsupportedArchive(why)) if why == ZipError::PASSWORD_REQUIRED => {
                return Err(PackageError::PasswordRequired);
            }
            Err(ZipError::UnsupportedArchive(_)) => {
                return Err(PackageError::UnsupportedEncryption(name.to_owned()));
            }
            Err(e) => return Err(PackageError::Unreadable(name.to_owned(), e.to_string())),
        };
        let encrypted = file.encrypted();
        let mut bytes = Vec::new();
        let read = file.take(MAX_ENTRY_BYTES + 1).read_to_end(&mut bytes);
        match read {
            // A wrong password passes the one-byte check once in 256 times;
            // the inflating or the CRC then fails.
            Err(_) if encrypted => Err(PackageError::WrongPassword),
            Err(e) => Err(PackageError::Unreadable(name.to_owned(), e.to_string())),
            Ok(_) if bytes.len() as u64 > MAX_ENTRY_BYTES => Err(PackageError::TooLarge(
                name.to_owned(),
                MAX_ENTRY_BYTES / 1024 / 1024,
            )),
            Ok(_) => Ok(Some(bytes)),
        }
    }
}

/// The storage folders a package carries: listed in the manifest's
/// `"service": {"files": ["pictures/"]}` entries (all but `system`), or
/// present as nested ZIPs.
fn storage_folders(manifest: &Manifest, zip: &ZipArchive<Cursor<&[u8]>>) -> Vec<String> {
    let mut folders: Vec<String> = manifest
        .service
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(service, _)| service.as_str() != "system")
        .flat_map(|(service, folders)| {
            folders
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|folder| folder.as_str())
                .map(move |folder| format!("{service}/{folder}"))
        })
        .collect();
    folders.extend(
        zip.file_names()
            .filter_map(|name| name.ok().map(|name| name.into_owned()))
            .filter(|name| !name.starts_with("system/") && name.ends_with(".zip")),
    );
    folders.sort();
    folders.dedup();
    folders
}
