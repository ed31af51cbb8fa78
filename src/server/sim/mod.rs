//! Partner simulators (`clearance sim …`): faithful local stand-ins for the demo and the tests.
pub mod monitor;
pub mod partner;
pub mod verification;
