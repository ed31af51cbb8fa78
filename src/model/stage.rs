//! Application stages and which moves between them are allowed.
use crate::error::Invalid;

text_enum! {
    /// The pipeline in order (`ALL`); `Rejected` is reachable from any open stage.
    #[derive(PartialOrd, Ord)]
    pub enum Stage("stage") {
        Applied = "applied" / "Applied",
        PhoneScreen = "phone_screen" / "Phone screen",
        OnsiteOrPanelInterview = "onsite_or_panel_interview" / "Onsite / panel interview",
        CodingAssessment = "coding_assessment" / "Coding assessment",
        Offer = "offer" / "Offer",
        Hired = "hired" / "Hired",
        Rejected = "rejected" / "Rejected",
    }
}

impl Stage {
    fn position(self) -> usize {
        Stage::ALL.iter().position(|s| *s == self).unwrap_or(0)
    }

    pub fn is_closed(self) -> bool {
        matches!(self, Stage::Hired | Stage::Rejected)
    }

    /// Forward along the pipeline (skipping is allowed) or to Rejected; closed stages stay closed.
    pub fn can_move_to(self, to: Stage) -> Result<(), Invalid> {
        if self == to {
            return Err(Invalid(format!(
                "the candidate is already in {}",
                to.label()
            )));
        }
        if self.is_closed() {
            return Err(Invalid(format!(
                "the application is closed ({})",
                self.label()
            )));
        }
        if to == Stage::Rejected || to.position() > self.position() {
            Ok(())
        } else {
            Err(Invalid(format!(
                "cannot move back from {} to {}",
                self.label(),
                to.label()
            )))
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
