//! Users: added by an operator (`clearance user add`) with a checked password.
use crate::error::AppError;
use crate::model::{Email, Role};
use crate::server::audit::{self, Actor};
use crate::server::auth::password;
use crate::server::clock;
use crate::server::db::{self, Db};

pub struct NewUser<'a> {
    pub email: &'a Email,
    pub name: &'a str,
    pub role: Role,
    pub password: String,
}

/// Adds a user with an Argon2 hash of a password strong enough; an email in use is refused (409).
pub async fn add(db: &Db, actor: Actor, new: NewUser<'_>) -> Result<i64, AppError> {
    let name = new.name.trim();
    if name.is_empty() {
        return Err(AppError::BadRequest("--name is empty".into()));
    }
    password::check_strength(&new.password)?;
    let hash = password::hash(new.password)
        .await
        .map_err(crate::server::auth::internal)?;
    let (email, role) = (new.email.as_str(), new.role.as_str());
    let created = |id| audit::user_created(actor, id, email, role);
    match db::users::insert(db, email, name, role, &hash, clock::now(), created).await {
        Ok(id) => Ok(id),
        Err(e) if db::is_unique_violation(&e) => Err(AppError::Conflict(format!(
            "a user with email {email} already exists"
        ))),
        Err(e) => Err(e.into()),
    }
}
