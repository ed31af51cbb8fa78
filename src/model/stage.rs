//! Application stages and which moves between them are allowed.
use serde::{Deserialize, Serialize};
use std::{fmt, str::FromStr};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Applied,
    PhoneScreen,
    OnsiteOrPanelInterview,
    CodingAssessment,
    Offer,
    Hired,
    Rejected,
}

impl Stage {
    /// The pipeline in order; `Rejected` is reachable from any open stage.
    pub const ALL: [Stage; 7] = [
        Stage::Applied,
        Stage::PhoneScreen,
        Stage::OnsiteOrPanelInterview,
        Stage::CodingAssessment,
        Stage::Offer,
        Stage::Hired,
        Stage::Rejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Applied => "applied",
            Stage::PhoneScreen => "phone_screen",
            Stage::OnsiteOrPanelInterview => "onsite_or_panel_interview",
            Stage::CodingAssessment => "coding_assessment",
            Stage::Offer => "offer",
            Stage::Hired => "hired",
            Stage::Rejected => "rejected",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Stage::Applied => "Applied",
            Stage::PhoneScreen => "Phone screen",
            Stage::OnsiteOrPanelInterview => "Onsite / panel interview",
            Stage::CodingAssessment => "Coding assessment",
            Stage::Offer => "Offer",
            Stage::Hired => "Hired",
            Stage::Rejected => "Rejected",
        }
    }

    fn position(self) -> usize {
        Stage::ALL.iter().position(|s| *s == self).unwrap_or(0)
    }

    pub fn is_closed(self) -> bool {
        matches!(self, Stage::Hired | Stage::Rejected)
    }

    /// Forward along the pipeline (skipping is allowed) or to Rejected; closed stages stay closed.
    pub fn can_move_to(self, to: Stage) -> Result<(), String> {
        if self == to {
            return Err(format!("the candidate is already in {}", to.label()));
        }
        if self.is_closed() {
            return Err(format!("the application is closed ({})", self.label()));
        }
        if to == Stage::Rejected || to.position() > self.position() {
            Ok(())
        } else {
            Err(format!(
                "cannot move back from {} to {}",
                self.label(),
                to.label()
            ))
        }
    }

    /// The stages this one may move to, in pipeline order.
    pub fn next_stages(self) -> Vec<Stage> {
        Stage::ALL
            .into_iter()
            .filter(|to| self.can_move_to(*to).is_ok())
            .collect()
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Stage {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        Stage::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| format!("unknown stage '{s}'"))
    }
}

#[cfg(test)]
mod tests {
    use super::Stage::{self, *};

    #[test]
    fn forward_and_reject_allowed() {
        assert!(Applied.can_move_to(PhoneScreen).is_ok());
        assert!(Applied.can_move_to(Offer).is_ok());
        assert!(CodingAssessment.can_move_to(Rejected).is_ok());
    }

    #[test]
    fn backwards_same_and_closed_refused() {
        assert!(Offer.can_move_to(PhoneScreen).is_err());
        assert!(Offer.can_move_to(Offer).is_err());
        assert!(Hired.can_move_to(Rejected).is_err());
        assert!(Rejected.can_move_to(Applied).is_err());
        assert!(Hired.next_stages().is_empty());
    }

    #[test]
    fn parse_round_trip() {
        for s in Stage::ALL {
            assert_eq!(s.as_str().parse::<Stage>().unwrap(), s);
        }
        assert!("interview".parse::<Stage>().is_err());
    }
}
