//! What the durable delivery queue sends.

text_enum! {
    /// A delivery job's kind: which partner call it makes, and what follows when it ends.
    pub enum JobKind("job kind") {
        CreateVerificationSession = "verification.create_session" / "Create verification session",
        OrderBackgroundCheck = "background_check.order" / "Background-check order",
        AnnounceInterview = "integrity.announce" / "Announce interview to the integrity monitor",
        CancelInterview = "integrity.cancel" / "Cancel interview at the integrity monitor",
        SendNotice = "adverse.send_notice" / "Email an adverse-action notice",
        SendAlert = "alert.send" / "Send an alert to Support",
    }
}

text_enum! {
    /// Where a delivery job is: waiting (first try or retry), being sent, sent, or dead-lettered.
    pub enum JobState("delivery job state") {
        Pending = "pending" / "Waiting",
        Running = "running" / "Sending",
        Done = "done" / "Delivered",
        Dead = "dead" / "Dead-lettered",
    }
}
