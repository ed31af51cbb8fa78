//! Roles and the permission table of SPEC §2.

text_enum! {
    pub enum Role("role") {
        Admin = "admin" / "Admin",
        Recruiter = "recruiter" / "Recruiter",
        SecurityReviewer = "security_reviewer" / "Security reviewer",
        HiringManager = "hiring_manager" / "Hiring manager",
    }
}

/// Everything a user may try to do; `Role::can` is the single source of truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// See the candidate list and profiles (hiring managers: only their jobs' candidates).
    ViewCandidates,
    /// Badge, status, last updated, next action.
    ViewVerificationBadge,
    /// Risk-tier reason codes, evidence-pack link, check results.
    ViewVerificationDetails,
    OrderBackgroundCheck,
    /// Run the adverse-action process on a background-check result.
    AdverseAction,
    RequestVerification,
    MoveStage,
    /// Adjudicate the review queue, grant stage exceptions, approve overrides.
    Adjudicate,
    /// Partners, policy, users.
    ManageSettings,
    /// Audit export and audit-chain verification.
    ViewAudit,
    /// The Insights dashboards (risk tiers in aggregate: not for hiring managers).
    ViewInsights,
}

impl Role {
    pub fn can(self, permission: Permission) -> bool {
        use Permission::*;
        use Role::*;
        match permission {
            ViewCandidates | ViewVerificationBadge => true,
            ViewVerificationDetails | RequestVerification => {
                matches!(self, Admin | Recruiter | SecurityReviewer)
            }
            OrderBackgroundCheck | AdverseAction | MoveStage => matches!(self, Admin | Recruiter),
            Adjudicate => self == SecurityReviewer,
            ManageSettings => self == Admin,
            ViewAudit => matches!(self, Admin | SecurityReviewer),
            ViewInsights => matches!(self, Admin | Recruiter | SecurityReviewer),
        }
    }

    /// Hiring managers see only candidates on jobs they manage.
    pub fn sees_only_own_jobs(self) -> bool {
        self == Role::HiringManager
    }
}

#[cfg(test)]
mod tests {
    use super::{Permission::*, Role, Role::*};

    /// SPEC §2, row by row: (permission, admin, recruiter, security_reviewer, hiring_manager).
    #[test]
    fn permission_table_matches_spec() {
        let table = [
            (ViewCandidates, [true, true, true, true]),
            (ViewVerificationBadge, [true, true, true, true]),
            (ViewVerificationDetails, [true, true, true, false]),
            (OrderBackgroundCheck, [true, true, false, false]),
            (AdverseAction, [true, true, false, false]),
            (RequestVerification, [true, true, true, false]),
            (MoveStage, [true, true, false, false]),
            (Adjudicate, [false, false, true, false]),
            (ManageSettings, [true, false, false, false]),
            (ViewAudit, [true, false, true, false]),
            (ViewInsights, [true, true, true, false]),
        ];
        for (perm, expected) in table {
            for (role, want) in [Admin, Recruiter, SecurityReviewer, HiringManager]
                .into_iter()
                .zip(expected)
            {
                assert_eq!(role.can(perm), want, "{role:?} {perm:?}");
            }
        }
    }

    #[test]
    fn roles_round_trip_and_reject_unknown() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
        }
        assert!("superuser".parse::<Role>().is_err());
    }
}
